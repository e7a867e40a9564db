"""Tag one text with its architecture families, with evidence and a confidence per family.

How a confidence comes about (every number lives in core/data/families.toml):
- each term found gives a strength: its weight, times the title or abstract factor, times
  the factors of the context cues of its clause ("unlike", "compared with", "off-the-shelf",
  "have shown" weaken; some carry on to the end of the sentence, up to a "we"/"our" clause);
  sentences before the abstract first speaks of its own work ("we", "this paper") are
  background and count less;
- a term inside a negative phrase of the same family does not count ("graph convolution" is
  no evidence for cnn), nor a term whose `unless` families or flags are present (attention
  inside a GNN is no Transformer; RLHF in a DPO paper is no RL);
- a sentence is one mention per family (its strongest term), and a family's confidence is
  1 - prod(1 - strength) over its mentions (one phrase counted at most `repeat_limit` times):
  the title and repeated, first-hand mentions add up, a passing one does not;
- a family is tagged when its confidence reaches the threshold, and tags its parents too
  (lstm -> rnn) with the same evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tracker.tagging.matcher import Clause, Matcher
from tracker.tagging.rules import Cue, Taxonomy, load_taxonomy, taxonomy_digest

# Bump TAGGER_RELEASE whenever the matching or scoring code changes; a change of the rules in
# families.toml changes TAGGER_VERSION by itself (its digest). `dlradar tag` re-tags every paper
# whose stored tags come from another version.
TAGGER_RELEASE = 2
TAGGER_VERSION = f"rules-{TAGGER_RELEASE}+{taxonomy_digest()}"


@dataclass(frozen=True)
class Classification:
    """The families of one text; evidence and confidence are keyed by family id."""

    families: list[str]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "families": list(self.families),
            "evidence": {f: list(self.evidence[f]) for f in self.families},
            "confidence": {f: self.confidence[f] for f in self.families},
        }

    def to_json(self) -> str:
        """`{"families": [...], "evidence": {...}, "confidence": {...}}` as design.md fixes it."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(slots=True)
class _Mention:
    family: str
    labels: list[str]
    strength: float
    unless: frozenset[str]


class Tagger:
    """Classifies texts with one compiled taxonomy."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.matcher = Matcher(taxonomy)

    def classify(self, title: str, abstract: str = "") -> Classification:
        clauses = self.matcher.clauses(title or "", abstract or "")
        if not clauses:
            return Classification([])
        flags: set[str] = set()
        mentions = self._mentions(clauses, flags, title_alone=not abstract)
        if not mentions:
            return Classification([])
        if any(m.unless for m in mentions):
            # Terms with `unless` only count when none of the families tagged without them
            # (nor any of the named flags) is present: attention inside a GNN is no Transformer.
            firm = self._scores([m for m in mentions if not m.unless])
            threshold = self._threshold(abstract)
            present = {f for f, (score, _) in firm.items() if score >= threshold}
            # A child family brings its parents (attention in a BiLSTM is attention in an RNN).
            present |= {p for f in present for p in self.taxonomy.families[f].parents} | flags
            mentions = [m for m in mentions if not (m.unless & present)]
        return self._decide(self._scores(mentions), abstract)

    def _threshold(self, abstract: str) -> float:
        scoring = self.taxonomy.scoring
        return scoring.threshold if abstract else scoring.title_only_threshold

    def _mentions(
        self, clauses: list[Clause], flags: set[str], title_alone: bool
    ) -> list[_Mention]:
        scoring = self.taxonomy.scoring
        first_own = None
        for clause in clauses:
            if clause.flags:
                flags.update(f"flag:{f.name}" for f in clause.flags)
            if first_own is None and clause.own and clause.sentence >= 0:
                first_own = clause.sentence

        per_sentence: dict[tuple[int, str], _Mention] = {}
        carried: dict[str, Cue] = {}
        sentence = -2
        for clause in clauses:
            if clause.sentence != sentence:
                sentence, carried = clause.sentence, {}
            in_title = clause.sentence < 0
            cues = (
                {c.kind: c for c in clause.cues if c.in_title or not in_title}
                if clause.cues
                else None
            )
            if cues:
                if clause.own:
                    carried = {}
                active = {**carried, **cues}
                carried.update({k: c for k, c in cues.items() if c.carry})
            else:
                active = carried
            if not clause.terms:
                continue
            if in_title:
                factor = scoring.title_factor
            else:
                factor = scoring.abstract_factor
                # Motivation before the paper says what it does ("LLMs have shown ...").
                if first_own is not None and clause.sentence < first_own:
                    factor *= scoring.background_factor
            for cue in active.values():
                factor *= cue.factor
            # One sentence is one mention per family (its strongest): "large language models
            # (LLMs)" or "(e.g., SAM, CLIP)" say one thing, however many names they use.
            for m in self._clause_mentions(clause, factor, title_alone):
                key = (clause.sentence, m.family)
                known = per_sentence.get(key)
                if known is None:
                    per_sentence[key] = m
                    continue
                labels = known.labels + [x for x in m.labels if x not in known.labels]
                # The strongest mention decides; an unconditional one beats a conditional tie.
                if (m.strength, not m.unless) > (known.strength, not known.unless):
                    known.strength, known.unless = m.strength, m.unless
                known.labels = labels
        return list(per_sentence.values())

    def _clause_mentions(self, clause: Clause, factor: float, title_alone: bool) -> list[_Mention]:
        terms = clause.terms
        if len(terms) == 1 and not clause.negatives:
            # The common case: one phrase, nothing to overlap or cancel.
            term = terms[0][2]
            if term.title_only and not title_alone:
                return []
            return [
                _Mention(fam, [term.label], min(weight * factor, 0.99), term.unless)
                for fam, weight in term.votes
            ]
        blocked: dict[str, list[tuple[int, int]]] = {}
        for start, end, negative in clause.negatives:
            for fam in negative.families:
                blocked.setdefault(fam, []).append((start, end))
        # Within a family keep the longest phrase ("large language model" is not also a
        # "language model").
        spans: dict[str, list[tuple[int, int]]] = {}
        best: dict[tuple[str, frozenset[str]], _Mention] = {}
        if len(terms) > 1:
            terms = sorted(terms, key=lambda h: (h[0], h[0] - h[1]))
        for start, end, term in terms:
            if term.title_only and not title_alone:
                continue
            for fam, weight in term.votes:
                if blocked and any(s < end and start < e for s, e in blocked.get(fam, ())):
                    continue
                taken = spans.setdefault(fam, [])
                if any(s <= start and end <= e for s, e in taken):
                    continue
                taken.append((start, end))
                strength = min(weight * factor, 0.99)
                known = best.get((fam, term.unless))
                if known is None:
                    best[(fam, term.unless)] = _Mention(fam, [term.label], strength, term.unless)
                else:
                    if term.label not in known.labels:
                        known.labels.append(term.label)
                    known.strength = max(known.strength, strength)
        return list(best.values())

    def _scores(self, mentions: list[_Mention]) -> dict[str, tuple[float, list[str]]]:
        limit = self.taxonomy.scoring.repeat_limit
        by_family: dict[str, list[_Mention]] = {}
        for m in mentions:
            by_family.setdefault(m.family, []).append(m)
        scores: dict[str, tuple[float, list[str]]] = {}
        for fam, items in by_family.items():
            items.sort(key=lambda m: -m.strength)
            seen: dict[str, int] = {}
            miss = 1.0
            labels: list[str] = []
            for m in items:
                key = m.labels[0]
                count = seen.get(key, 0)
                if count >= limit:
                    continue
                seen[key] = count + 1
                labels.extend(x for x in m.labels if x not in labels)
                miss *= 1.0 - m.strength
            scores[fam] = (1.0 - miss, labels)
        return scores

    def _decide(self, scores: dict[str, tuple[float, list[str]]], abstract: str) -> Classification:
        threshold = self._threshold(abstract)
        chosen: dict[str, tuple[float, list[str]]] = {
            f: v for f, v in scores.items() if v[0] >= threshold
        }
        # Parents inherit a tagged child's confidence and evidence (lstm -> rnn).
        for fam, (score, labels) in list(chosen.items()):
            for parent in self.taxonomy.families[fam].parents:
                old_score, old_labels = chosen.get(parent, (0.0, []))
                merged = old_labels + [x for x in labels if x not in old_labels]
                chosen[parent] = (max(old_score, score), merged)
        families = sorted(chosen)
        return Classification(
            families,
            {f: chosen[f][1] for f in families},
            {f: round(chosen[f][0], 3) for f in families},
        )


@cache
def default_tagger() -> Tagger:
    """The tagger over the taxonomy shipped with dlradar (compiled once per process)."""
    return Tagger(load_taxonomy())


def classify(title: str, abstract: str = "") -> Classification:
    """Families of a paper from its title and abstract alone (never from a curated list)."""
    return default_tagger().classify(title, abstract)
