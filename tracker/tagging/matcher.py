"""A compiled phrase matcher over the taxonomy: text in, phrases found per clause out.

Every phrase of the taxonomy (terms, negatives, context cues, flags) is tokenised the same way
as the text and stored in a token trie, so one pass over the words of a text finds every
phrase at once with dictionary look-ups; that is what makes tagging a million papers cheap.

Tokens are runs of ASCII letters or of digits ("GPT-4o" -> GPT 4 o, "ResNet50" -> ResNet 50),
so a phrase matches however it is hyphenated or spaced; the trie also holds each word's plural
("Transformers", "LLMs", "policies"). The trie is walked on case-folded words; a case-sensitive
phrase ("SAM", "CLIP") is then checked against the original tokens where it ends. Punctuation
that ends a clause or a sentence is kept as a token, which no phrase contains, so no phrase
matches across it.
"""

from __future__ import annotations

import re
from itertools import compress, product

from tracker.tagging.rules import Cue, Flag, Negative, Taxonomy, Term

_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
# Words, plus the marks that end a sentence or a clause when white space follows them. The
# leading class lets the regex engine skip, in C, the characters no token starts with.
_TOKEN = re.compile(
    r"(?=[A-Za-z0-9.!?,;:\-–—])(?:[A-Za-z]+|[0-9]+|[.!?,;:](?=\s|$)|(?<=\s)[-–—]+(?=\s))"
)
_SENTENCE_MARKS = frozenset(".!?")
_MARKS = frozenset(".!?,;:-–—")
# A full stop after these ends an abbreviation, not a sentence ("e.g. SAM", "et al. show").
_ABBREVIATIONS = frozenset(["al", "vs", "etc", "cf", "Fig", "Eq", "resp", "approx"])
_FOLDED_ABBREVIATIONS = frozenset(a.lower() for a in _ABBREVIATIONS)

Payload = Term | Negative | Cue | Flag


class _Node:
    """A trie node: the next tokens (case folded), and the phrases that end here.

    Case-sensitive phrases end here too, under the exact tokens they must match ("SAM" and
    not "sam"): one walk over the folded words finds both kinds.
    """

    __slots__ = ("children", "ends", "exact", "payloads")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.payloads: list[Payload] = []
        self.exact: dict[tuple[str, ...], list[Payload]] = {}
        self.ends = False  # some phrase ends here (set once the trie is built)

    def seal(self) -> None:
        self.ends = bool(self.payloads or self.exact)
        for child in self.children.values():
            child.seal()


# A phrase found at tokens [start, end).
Hit = tuple[int, int, Payload]


class Clause:
    """The phrases found in one clause, by kind; sentence -1 is the title."""

    __slots__ = ("cues", "flags", "negatives", "own", "sentence", "terms")

    def __init__(self, sentence: int) -> None:
        self.sentence = sentence
        self.terms: list[tuple[int, int, Term]] = []
        self.negatives: list[tuple[int, int, Negative]] = []
        self.cues: list[Cue] = []
        self.flags: list[Flag] = []
        self.own = False  # a cue marks the paper's own work ("we", "this paper")

    @property
    def in_title(self) -> bool:
        return self.sentence < 0

    def add(self, hit: Hit) -> None:
        payload = hit[2]
        if type(payload) is Term:
            self.terms.append(hit)  # type: ignore[arg-type]
        elif type(payload) is Cue:
            self.cues.append(payload)
            if payload.own:
                self.own = True
        elif type(payload) is Negative:
            self.negatives.append(hit)  # type: ignore[arg-type]
        else:
            self.flags.append(payload)  # type: ignore[arg-type]


def _forms(token: str) -> list[str]:
    """A word and its plural spellings (numbers have none)."""
    if not token.isalpha() or len(token) < 2:
        return [token]
    forms = [token, token + "s", token + "es"]
    if len(token) > 3 and token[-1] in "yY" and token[-2] not in "aeiouAEIOU":
        forms.append(token[:-1] + ("ies" if token[-1] == "y" else "IES"))
    return forms


def _tokenise(text: str) -> tuple[list[str], list[str] | None]:
    """The case-folded tokens of a text, and its tokens as written when they came for free.

    Lower-casing ASCII text changes no token boundary, so its folded tokens come from one scan
    of the lower-cased text; the tokens as written (which case-sensitive phrases and "Fig."
    need, in about one text in seven) are then found only when asked for. Elsewhere lower()
    can make ASCII letters ("İ" -> "i̇"), so those texts fold their tokens instead.
    """
    if text.isascii():
        return _TOKEN.findall(text.lower()), None
    tokens = _TOKEN.findall(text)
    # Tokens hold no spaces, so one join/lower/split folds the case of all of them at once.
    return " ".join(tokens).lower().split(" "), tokens


class Matcher:
    """The taxonomy's phrases compiled into one token trie over case-folded words."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._roots: dict[str, _Node] = {}
        payloads: list[Payload] = [
            *taxonomy.terms,
            *taxonomy.negatives,
            *taxonomy.cues,
            *taxonomy.flags,
        ]
        for payload in payloads:
            self._add(payload)
        for root in self._roots.values():
            root.seal()
        self._starts = frozenset([*self._roots, *_MARKS])

    def _add(self, payload: Payload) -> None:
        words = _WORD.findall(payload.label)
        if not words:
            raise ValueError(f"taxonomy phrase {payload.label!r} has no word")
        if not payload.case_sensitive:
            words = [w.lower() for w in words]
        for path in product(*(_forms(w) for w in words)):
            level = self._roots
            node: _Node | None = None
            for word in path:
                key = word.lower()
                node = level.get(key)
                if node is None:
                    node = level[key] = _Node()
                level = node.children
            assert node is not None
            found = node.exact.setdefault(path, []) if payload.case_sensitive else node.payloads
            if payload not in found:
                found.append(payload)

    def clauses(self, title: str, abstract: str) -> list[Clause]:
        """Every phrase found in the title and the abstract, grouped by clause."""
        out: list[Clause] = []
        if title:
            out.extend(self._clauses(title, in_title=True))
        if abstract:
            out.extend(self._clauses(abstract, in_title=False))
        return out

    def _clauses(self, text: str, *, in_title: bool) -> list[Clause]:
        """The phrases of one text by clause, in order; clauses without a phrase are left out."""
        folded, tokens = _tokenise(text)
        # The positions of the words that can start a phrase, and of the marks, found in C
        # (no Python step per word): only those positions are looked at.
        candidates = list(compress(range(len(folded)), map(self._starts.__contains__, folded)))
        folded.append("")  # no phrase continues with "": every walk ends without a bounds test
        roots = self._roots
        out: list[Clause] = []
        clause: Clause | None = None
        clause_no = sentence = 0  # the marks and the sentence ends seen so far
        opened = -1  # the clause_no that `clause` belongs to
        for i in candidates:
            node = roots.get(folded[i])
            if node is None:  # a mark: no phrase starts with one
                clause_no += 1
                if folded[i] in _SENTENCE_MARKS and i > 0:
                    word = folded[i - 1]
                    # Length and digits do not depend on case; only an abbreviation's does.
                    if len(word) > 1 or word.isdigit():
                        if word in _FOLDED_ABBREVIATIONS:
                            if tokens is None:
                                tokens = _TOKEN.findall(text)
                            if tokens[i - 1] in _ABBREVIATIONS:
                                continue
                        sentence += 1
                continue
            # This loop is the hot path of tagging: most walks stop after a word or two.
            j = i + 1
            while True:
                if node.ends:
                    found = node.payloads
                    if node.exact:
                        if tokens is None:
                            tokens = _TOKEN.findall(text)
                        found = found + node.exact.get(tuple(tokens[i:j]), [])
                    for payload in found:
                        if opened != clause_no:
                            clause = Clause(-1 if in_title else sentence)
                            out.append(clause)
                            opened = clause_no
                        clause.add((i, j, payload))  # type: ignore[union-attr]
                node = node.children.get(folded[j])
                if node is None:
                    break
                j += 1
        return out
