"""A small BibTeX reader: enough for proceedings bibliographies such as PMLR's volume files.

It reads ``@Type{key, field = {value} | "value" | number | macro # ..., ...}`` entries with
nested braces, ``@string`` macros and month abbreviations, and skips ``@comment`` and
``@preamble``. Values keep their TeX (titles go through tracker.normalize.clean_title later);
``latex_to_unicode`` and ``split_names`` turn author fields into "Given Family" names.

A problem inside one entry (an unclosed brace at the end of a cut-off download, a field
without a value) does not stop the reader: the entry is skipped and the problem is listed in
``BibFile.problems`` as a sentence naming the line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from tracker.normalize import ACCENT_MARKS, clean_author, clean_text

_MONTHS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
_SKIPPED_TYPES = frozenset({"comment", "preamble"})
_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_NAME = re.compile(r"[A-Za-z0-9_\-:.+/]+")
_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.DOTALL)


@dataclass(slots=True)
class BibEntry:
    """One entry: its type in lower case, its citation key and its fields (names in lower case)."""

    entry_type: str
    key: str
    fields: dict[str, str]
    line: int  # 1-based line of the '@'

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if value not in (None, "") else None


@dataclass(slots=True)
class BibFile:
    """The entries read from one text, and the problems that made the reader skip something."""

    entries: list[BibEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _EntryError(ValueError):
    """An entry that cannot be read; the reader skips it and records why."""


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.strings: dict[str, str] = dict(_MONTHS)
        # Line numbers are counted from the last position asked for: entries come in order,
        # and counting from the start each time would be quadratic on a 10 MB volume file.
        self._counted_to = 0
        self._lines_before = 0

    def line_of(self, pos: int) -> int:
        if pos < self._counted_to:
            return self.text.count("\n", 0, pos) + 1
        self._lines_before += self.text.count("\n", self._counted_to, pos)
        self._counted_to = pos
        return self._lines_before + 1

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.pos >= len(self.text):
            raise _EntryError(f"the text ends where {char!r} was expected (cut off?)")
        if self.text[self.pos] != char:
            found = self.text[self.pos]
            raise _EntryError(
                f"expected {char!r} but found {found!r} at line {self.line_of(self.pos)}"
            )
        self.pos += 1

    def name(self) -> str:
        self.skip_space()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise _EntryError(f"expected a name at line {self.line_of(self.pos)}")
        self.pos = match.end()
        return match.group(0)

    def braced(self) -> str:
        """The text between a '{' at pos and its matching '}', braces inside kept."""
        start = self.pos + 1
        depth = 0
        # Jump from one brace or backslash to the next instead of walking every character.
        for match in _BRACE_OR_ESCAPE.finditer(self.text, self.pos):
            token = match.group(0)
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth == 0:
                    self.pos = match.end()
                    return self.text[start : match.start()]
        raise _EntryError(f"a brace opened at line {self.line_of(self.pos)} is never closed")

    def quoted(self) -> str:
        start = self.pos + 1
        depth = 0
        index = start
        while index < len(self.text):
            char = self.text[index]
            if char == "\\":
                index += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == '"' and depth == 0:
                self.pos = index + 1
                return self.text[start:index]
            index += 1
        raise _EntryError(f"a quote opened at line {self.line_of(self.pos)} is never closed")

    def value(self) -> str:
        """A field value: pieces joined by '#', each braced, quoted, a number or a macro."""
        parts: list[str] = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise _EntryError("the text ends inside a field value (cut off?)")
            char = self.text[self.pos]
            if char == "{":
                parts.append(self.braced())
            elif char == '"':
                parts.append(self.quoted())
            else:
                word = self.name()
                parts.append(self.strings.get(word.lower(), word))
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == "#":
                self.pos += 1
                continue
            return "".join(parts)

    def fields(self, closer: str) -> dict[str, str]:
        values: dict[str, str] = {}
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise _EntryError("the text ends inside the entry (cut off?)")
            if self.text[self.pos] == closer:
                self.pos += 1
                return values
            name = self.name().lower()
            self.expect("=")
            values[name] = self.value()
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
            elif self.pos < len(self.text) and self.text[self.pos] != closer:
                raise _EntryError(
                    f"field {name!r} is not followed by ',' or the end of the entry "
                    f"(line {self.line_of(self.pos)})"
                )

    def entry(self, entry_type: str, closer: str, at: int) -> BibEntry | None:
        if entry_type in _SKIPPED_TYPES:
            self.pos -= 1  # back on the opening delimiter
            if self.text[self.pos] == "{":
                self.braced()
            else:
                end = self.text.find(")", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            return None
        if entry_type == "string":
            for name, value in self.fields(closer).items():
                self.strings[name] = value
            return None
        key = self.name()
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == ",":
            self.pos += 1
        return BibEntry(entry_type, key, self.fields(closer), self.line_of(at))


def parse_bibtex(text: str) -> BibFile:
    """Every readable entry of ``text`` in order; unreadable ones are skipped with a reason."""
    reader = _Reader(text)
    result = BibFile()
    while True:
        match = _ENTRY_START.search(text, reader.pos)
        if not match:
            return result
        reader.pos = match.end()
        entry_type = match.group(1).lower()
        closer = "}" if match.group(2) == "{" else ")"
        try:
            entry = reader.entry(entry_type, closer, match.start())
        except _EntryError as exc:
            result.problems.append(
                f"BibTeX @{match.group(1)} entry at line {reader.line_of(match.start())} "
                f"skipped: {exc}"
            )
            # Resume at the next line that starts an entry, so one bad entry costs only itself.
            next_entry = re.compile(r"^\s*@", re.MULTILINE).search(text, match.end())
            reader.pos = next_entry.start() if next_entry else len(text)
            continue
        if entry is not None:
            result.entries.append(entry)


# TeX letters without an accent command that clean_title does not know.
_SPECIAL_LETTERS = {
    r"\ss": "ß",
    r"\o": "ø",
    r"\O": "Ø",
    r"\aa": "å",
    r"\AA": "Å",
    r"\ae": "æ",
    r"\AE": "Æ",
    r"\oe": "œ",
    r"\OE": "Œ",
    r"\l": "ł",
    r"\L": "Ł",
    r"\i": "i",
    r"\j": "j",
}
_SPECIAL = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])\s?")


def latex_to_unicode(text: str) -> str:
    """Replace TeX letters like {\\o} and \\ss; accents are left to clean_title."""
    return _SPECIAL.sub(lambda m: _SPECIAL_LETTERS["\\" + m.group(1)], text)


def _accent_command(group: str) -> str:
    return rf"\\(?P<{group}>[`'^\"~=.]|[uvHck](?![A-Za-z]))\s*"


# {\'e}, {\'{e}}, \'{e}, \'e and \v{s}: an accent command on one letter, in any of TeX's
# spellings, with its braces balanced (the brace closing an outer group is not taken).
_ACCENT = re.compile(
    r"\{" + _accent_command("cmd") + r"(?:\{(?P<a>[A-Za-z])\}|(?P<b>[A-Za-z]))\}"
    "|" + _accent_command("cmd2") + r"(?:\{(?P<c>[A-Za-z])\}|(?P<d>[A-Za-z]))"
)
# Braces that only protect case ({B}ayesian, {LSTM}s): not a command's argument, no TeX inside.
_CASE_BRACES = re.compile(r"(?<![\\A-Za-z^_])\{([^{}\\$]*)\}")


def _accent(match: re.Match[str]) -> str:
    command = match.group("cmd") or match.group("cmd2")
    letter = next(g for g in match.group("a", "b", "c", "d") if g)
    return unicodedata.normalize("NFC", letter + ACCENT_MARKS[command])


def bib_text(value: str | None) -> str:
    """A BibTeX prose value (an abstract) as plain text: accents and TeX letters decoded,
    case-protecting braces dropped, whitespace collapsed; math ($...$) is kept as written."""
    if not value:
        return ""
    text = _ACCENT.sub(_accent, latex_to_unicode(value)).replace("~", " ")
    previous = None
    while previous != text:
        previous, text = text, _CASE_BRACES.sub(r"\1", text)
    return clean_text(text)


def _split_top_level(text: str, separator: re.Pattern[str]) -> list[str]:
    """Split on ``separator`` where it is outside braces."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            match = separator.match(text, index)
            if match:
                parts.append(text[start:index])
                start = index = match.end()
                continue
        index += 1
    parts.append(text[start:])
    return parts


_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")


def split_names(field_value: str) -> list[str]:
    """'Abnar, Samira and Shah, Harshay' -> ['Samira Abnar', 'Harshay Shah'] (BibTeX name list)."""
    names: list[str] = []
    for raw in _split_top_level(field_value, _AND):
        raw = raw.strip()
        if not raw or raw.lower() == "others":
            continue
        parts = [p.strip() for p in _split_top_level(latex_to_unicode(raw), _COMMA)]
        if len(parts) == 3:  # "von Last, Jr, First"
            names.append(clean_author(f"{parts[2]} {parts[0]} {parts[1]}"))
        else:
            names.append(clean_author(", ".join(parts)))
    return [n for n in names if n]
