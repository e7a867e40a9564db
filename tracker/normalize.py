"""Normalisation shared by every parser: arXiv ids, titles, dates, authors, dedup keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime

from core.names import ascii_fold

# New-style ids (0704.0001 onwards, 4 or 5 digits after the dot) and old-style archive/YYMMNNN.
_NEW_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v(\d+))?")
_OLD_ID = re.compile(r"([a-z][a-z.\-]*/\d{7})(?:v(\d+))?", re.IGNORECASE)
_ID_PREFIX = re.compile(
    r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:|arxiv:)", re.I
)


def split_arxiv_id(raw: str | None) -> tuple[str | None, int | None]:
    """'http://arxiv.org/abs/2202.12139v3' -> ('2202.12139', 3); unversioned ids give None."""
    if not raw:
        return None, None
    match = _NEW_ID.fullmatch(raw)  # the common case: a bare new-style id
    if match:
        version = match.group(2)
        return match.group(1), int(version) if version else None
    text = _ID_PREFIX.sub("", raw.strip())
    text = text.removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.fullmatch(text)
        if match:
            version = int(match.group(2)) if match.group(2) else None
            return match.group(1), version
    return None, None


# An arXiv category: an archive (cs, q-bio, hep-th) and, mostly, a subject class after a dot.
_CATEGORY = re.compile(r"([a-z][a-z\-]*)(?:\.([a-z][a-z\-]*))?", re.IGNORECASE)


def canonical_category(text: str) -> str:
    """arXiv's spelling of a category typed in any case: 'CS.lg' -> 'cs.LG'.

    The archive is lower case; a two-letter subject class upper case (stat.ML, q-bio.NC,
    astro-ph.CO), a longer one lower case (cond-mat.stat-mech, physics.comp-ph). Text that is
    no category name comes back stripped but otherwise as given.
    """
    text = text.strip()
    match = _CATEGORY.fullmatch(text)
    if not match:
        return text
    archive, subject = match.group(1).lower(), match.group(2)
    if subject is None:
        return archive
    return f"{archive}.{subject.upper() if len(subject) == 2 else subject.lower()}"


def canonical_categories(texts: Iterable[str]) -> list[str]:
    """canonical_category of each, without repeats, in order."""
    return list(dict.fromkeys(canonical_category(t) for t in texts))


_TEX_COMMANDS = re.compile(
    r"\\(?:emph|textbf|textit|texttt|mathrm|mathbf|mathcal|text|bf|it|rm|tt)\s*"
)
_TEX_ACCENT = re.compile(r"\\[`'^\"~=.uvHtcdbk]\s*\{?([A-Za-z])\}?")
ACCENT_MARKS = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
}
_TEX_CHARS = re.compile(r"[\\{}$~]")
# TeX, or whitespace that " ".join(text.split()) would change inside a string (a run, or a
# tab, newline or other non-space blank): one scan tells that a string is already clean.
_NEEDS_CLEANING = re.compile(r"[\\{}$~]|\s\s|[^\S ]")


def _replace_accent(match: re.Match[str]) -> str:
    command = match.group(0)[1]
    mark = ACCENT_MARKS.get(command, "")
    return unicodedata.normalize("NFC", match.group(1) + mark)


def clean_text(text: str | None) -> str:
    """Collapse whitespace (arXiv wraps abstracts at ~80 columns) and strip the ends."""
    if not text:
        return ""
    return " ".join(text.split())


def needs_cleaning(text: str) -> bool:
    """Whether `clean_title` would change `text` beyond stripping its ends."""
    return _NEEDS_CLEANING.search(text) is not None


def clean_title(title: str | None) -> str:
    """Remove TeX markup that arXiv and PMLR titles carry ({FLOP}s, \\emph{x}, $...$, accents)."""
    if not title:
        return ""
    if not needs_cleaning(title):  # the common case
        return title.strip()
    if not _TEX_CHARS.search(title):  # plain text, only whitespace to fix
        return " ".join(title.split())
    text = _TEX_ACCENT.sub(_replace_accent, title)
    text = _TEX_COMMANDS.sub("", text)
    text = text.replace("\\&", "&").replace("~", " ")
    # Keep math content but drop its delimiters; drop grouping braces.
    text = text.replace("$", "").replace("{", "").replace("}", "")
    text = text.replace("\\", "")
    return clean_text(text)


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def title_key(title: str, authors: list[str]) -> str:
    """Dedup key: the title reduced to lowercase ASCII words, plus the first author's surname."""
    words = _NON_ALNUM.sub(" ", ascii_fold(clean_title(title)).lower()).strip()
    surname = ""
    if authors:
        first = authors[0]
        surname = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
        surname = _NON_ALNUM.sub("", ascii_fold(surname).lower())
    return f"{words}|{surname}"


def clean_author(name: str) -> str:
    """'Abnar, Samira' -> 'Samira Abnar'; whitespace and TeX accents cleaned."""
    text = clean_title(name)
    if text.count(",") == 1:
        family, given = (part.strip() for part in text.split(","))
        if family and given and not given.lower().startswith(("jr", "sr", "ii", "iii")):
            text = f"{given} {family}"
    return text


_AUTHOR_SPLIT = re.compile(r"\s*(?:,|\band\b|;)\s*")


def split_authors(text: str) -> list[str]:
    """'A. One, B. Two and C. Three' -> ['A. One', 'B. Two', 'C. Three'] (arXiv listing style)."""
    return [clean_author(a) for a in _AUTHOR_SPLIT.split(clean_text(text)) if a.strip()]


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# "Mon, 2 Apr 2007 19:18:42 GMT" (the snapshot's version dates), the weekday optional.
_RFC822_DATE = re.compile(r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4})\b")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def iso_date(value: object) -> str | None:
    """Any date-ish value (ISO string, RFC 822 string, datetime, date, struct) as YYYY-MM-DD."""
    if value is None or value == "":
        return None
    if type(value) is str and len(value) == 10 and _ISO_DATE.fullmatch(value):
        return value  # already YYYY-MM-DD
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    if match:
        return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    match = _RFC822_DATE.match(text)
    if match and match.group(2).lower() in _MONTHS:
        # The date as written, in the writer's time zone: what parsedate_to_datetime gives.
        day, month, year = int(match.group(1)), _MONTHS[match.group(2).lower()], match.group(3)
        try:
            return date(int(year), month, day).isoformat()
        except ValueError:
            return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    match = re.fullmatch(r"(\d{4})", text)
    if match:
        return f"{match.group(1)}-01-01"
    return None


def year_of(iso: str | None) -> int | None:
    """The year of an ISO date; None for no date or one not starting with four digits."""
    return int(iso[:4]) if iso and iso[:4].isdigit() else None


def normalize_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    text = doi.strip().lower()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", text)
    return text.split()[0] if text else None


def arxiv_urls(arxiv_id: str) -> tuple[str, str]:
    return f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}"
