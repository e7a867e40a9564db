"""The normalised paper record that every source parser produces and the store consumes."""

from __future__ import annotations

import operator
import re
import reprlib
import time
from dataclasses import dataclass, field, fields
from datetime import date

# How much a source is trusted for a paper's title, venue and year: a proceedings venue
# wins over the arXiv preprint, and our own curated catalogue over both.
SOURCE_RANK: dict[str, int] = {
    "catalogue": 50,
    "neurips": 40,
    "pmlr": 40,
    "openreview": 40,
    "arxiv-api": 30,
    "arxiv-oai": 30,
    "arxiv-snapshot": 30,
    "arxiv-feed": 20,
    "jsonl": 10,
}

PROCEEDINGS_SOURCES = frozenset({"neurips", "pmlr", "openreview"})


@dataclass(slots=True)
class PaperRecord:
    """One paper as one source saw it, already normalised (see tracker.normalize)."""

    source: str
    source_id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    openreview_id: str | None = None
    venue: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date YYYY-MM-DD
    updated: str | None = None  # ISO date YYYY-MM-DD
    categories: list[str] = field(default_factory=list)  # primary first
    comment: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    url: str | None = None
    pdf_url: str | None = None
    curated: bool = False
    families: list[str] = field(default_factory=list)  # curated families only
    stage: str | None = None  # learning-path stage, curated only

    @property
    def rank(self) -> int:
        return SOURCE_RANK.get(self.source, 0)

    def __reduce__(self) -> tuple[type[PaperRecord], tuple[object, ...]]:
        # A big import sends every record from its reader process: a tuple of the fields
        # pickles and loads in half the time of a slots dataclass's default state.
        return (PaperRecord, _field_values(self))


_field_values = operator.attrgetter(*(f.name for f in fields(PaperRecord)))


# -- validation: the one schema every parser's records pass before the store ------------------
#
# Parsers map what a source says onto PaperRecord, but a source can say anything: a list where
# a venue belongs, a year of 1e300, a version of twenty digits, NUL bytes. SQLite refuses such a
# value only when the whole page is written, and the page's transaction rolls back with it, so
# every record is checked here first: a bad optional field is dropped alone, a bad required one
# (source id, title) drops the record, each with a warning naming where it came from and the
# field. Limits keep one hostile record from costing memory or the dashboard's layout.

MIN_YEAR = 1900  # no paper of this tracker's field is older; 0000-00-00 and 0001 are junk
MAX_TITLE = 2_000
MAX_ABSTRACT = 100_000
MAX_AUTHORS = 5_000  # the longest author lists (particle physics) hold about 3,000 names
MAX_AUTHOR_NAME = 300
MAX_CATEGORIES = 50
MAX_CATEGORY = 100
MAX_ARXIV_VERSION = 1_000  # arXiv's most revised papers have a few dozen versions
MAX_ID = 500  # source ids, DOIs, OpenReview ids
MAX_SHORT_TEXT = 2_000  # venue, journal_ref, license, stage
MAX_COMMENT = 10_000
MAX_URL = 2_000

# C0 and C1 control characters except tab, newline and carriage return (whitespace, which the
# parsers collapse anyway): NUL breaks C tools reading the database, others break terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7}", re.IGNORECASE)
# A DOI: "10.", a registrant code (digits, dot-separated), "/", a suffix. Anything else would
# merge unrelated papers that share the junk (PaperStore matches papers by DOI).
_DOI = re.compile(r"10\.\d+(?:\.\d+)*/\S+")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# Optional text fields and their length limits; too long or not text: the field is dropped.
_OPTIONAL_TEXT = {
    "doi": MAX_ID,
    "openreview_id": MAX_ID,
    "venue": MAX_SHORT_TEXT,
    "comment": MAX_COMMENT,
    "journal_ref": MAX_SHORT_TEXT,
    "license": MAX_SHORT_TEXT,
    "stage": MAX_SHORT_TEXT,
}


class _Check:
    """The warnings of one record's check, each naming where the record came from."""

    __slots__ = ("warnings", "where")

    def __init__(self, where: str) -> None:
        self.where = where
        self.warnings: list[str] = []

    def warn(self, name: str, problem: str, outcome: str = "dropped") -> None:
        self.warnings.append(f"{self.where}: field {name}: {problem}; {outcome}")


_today: list[tuple[int, int]] = [(-1, 0)]  # (day number, next year), refreshed once a day


def max_year() -> int:
    """The latest plausible year of a paper: next year (preprints dated ahead of a new year)."""
    day = int(time.time() // 86_400)  # far cheaper than date.today() for every record
    if _today[0][0] != day:
        _today[0] = (day, date.today().year + 1)
    return _today[0][1]


def _kind(value: object) -> str:
    return type(value).__name__


# Shows a hostile value in a warning without building its whole repr (a 50 MB text, a list
# of a million items) and without failing on a 5,000-digit number.
_REPR = reprlib.Repr()  # Python 3.11's takes no arguments
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4
_REPR.maxstring, _REPR.maxlong, _REPR.maxother = 60, 40, 60


def _shown(value: object) -> str:
    try:
        return _REPR.repr(value)
    except ValueError:
        return f"a {type(value).__name__} too big to show"


def clean_control(text: str) -> str:
    """`text` without control characters, whitespace runs they leave collapsed."""
    if not _CONTROL.search(text):
        return text
    return " ".join(_CONTROL.sub("", text).split())


def _text(value: object, name: str, limit: int, check: _Check, *, cut: bool) -> str | None:
    """Clean text, cut to `limit` (when `cut`) or dropped when longer; None if unusable."""
    if not isinstance(value, str):
        check.warn(name, f"expected text, got {_kind(value)} {_shown(value)}")
        return None
    text = clean_control(value)
    if text is not value:  # clean_control returns its argument when there is nothing to remove
        check.warn(name, "control characters (NUL, escapes) removed", "kept")
    if len(text) > limit:
        if not cut:
            check.warn(name, f"{len(text):,} characters, more than {limit:,}")
            return None
        check.warn(name, f"{len(text):,} characters, more than {limit:,}", "cut there")
        text = text[:limit]
    return text


def _year(value: object, check: _Check) -> int | None:
    """An int year within MIN_YEAR..next year; JSON's 2024.0 and "2024" are read as 2024."""
    year: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif _integral(value):
        year = int(value)  # type: ignore[call-overload]
    if year is None:
        check.warn("year", f"expected a year, got {_kind(value)} {_shown(value)}")
        return None
    if not MIN_YEAR <= year <= max_year():
        check.warn("year", f"{_shown(year)} is outside {MIN_YEAR}..{max_year()}")
        return None
    return year


def _integral(value: object) -> bool:
    """A float or a text that stands for a plausible integer year."""
    if isinstance(value, float):
        return value.is_integer() and abs(value) < 1e6
    return isinstance(value, str) and len(value.strip()) == 4 and value.strip().isdigit()


def _day(value: object, name: str, check: _Check) -> str | None:
    """A real YYYY-MM-DD date within MIN_YEAR..next year (0000-00-00, 2024-13-45 are not)."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        check.warn(name, f"{_shown(value)} is not a YYYY-MM-DD date")
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        check.warn(name, f"{value!r} is no calendar date")
        return None
    if not MIN_YEAR <= day.year <= max_year():
        check.warn(name, f"{value!r} is outside {MIN_YEAR}..{max_year()}")
        return None
    return value


def _names(value: object, name: str, limit: int, item_limit: int, check: _Check) -> list[str]:
    """A list of short texts: bad items dropped, the list cut at `limit`, each with a warning."""
    if not isinstance(value, list):
        check.warn(name, f"expected a list, got {_kind(value)} {_shown(value)}")
        return []
    if len(value) > limit:
        check.warn(name, f"{len(value):,} entries, more than {limit:,}", "cut there")
        value = value[:limit]
    if _plain_list(value, item_limit):
        return value  # the common case
    kept: list[str] = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            check.warn(f"{name}[{position}]", f"expected text, got {_kind(item)} {_shown(item)}")
            continue
        text = clean_control(item).strip()
        if len(text) > item_limit:
            check.warn(f"{name}[{position}]", f"{len(text):,} characters, more than {item_limit}")
        elif text:
            kept.append(text)
    return kept


def _plain_list(value: list[object], item_limit: int) -> bool:
    """Non-empty texts within `item_limit` without control characters, in a few C-level scans."""
    try:
        joined = "\n".join(value)  # type: ignore[arg-type]  # TypeError: an item is no text
    except TypeError:
        return False
    return (
        (
            not value or max(map(len, value)) <= item_limit  # type: ignore[arg-type]
        )
        and "" not in value
        and not _CONTROL.search(joined)
    )


def _url(value: object, name: str, check: _Check) -> str | None:
    # Only web links: the dashboard and digest render these as links, where `javascript:`
    # or `file:` would be a hazard, and anything else is no place to read a paper.
    text = _text(value, name, MAX_URL, check, cut=False)
    if text is None:
        return None
    if not text.startswith(("https://", "http://")):
        check.warn(name, f"{_shown(text)} is not an http(s) URL")
        return None
    return text


def validate_record(record: PaperRecord, where: str) -> tuple[PaperRecord | None, list[str]]:
    """`record` cleaned to the schema (in place), or None when it is unusable; and warnings.

    `where` names the record's origin in each warning ("listing.jsonl line 2501"). Text loses
    control characters; over-long text is cut (title, abstract) or dropped (ids, links);
    out-of-range years and dates, unbounded arXiv versions and values of the wrong type are
    dropped. A record without a usable source, source id or title is skipped.
    """
    check = _Check(where)
    plain_ids = _plain(record.source, MAX_ID) and _plain(record.source_id, MAX_ID)
    if not (plain_ids and record.source.strip() and record.source_id.strip()):
        return _check_source(record, check)
    if not _plain(record.title, MAX_TITLE) or not record.title.strip():
        title = _text(record.title, "title", MAX_TITLE, check, cut=True)
        if not title or not title.strip():
            if title is not None:
                check.warn("title", "empty after removing control characters")
            check.warnings[-1] = check.warnings[-1].removesuffix("dropped") + "record skipped"
            return None, check.warnings
        record.title = title
    _check_texts(record, check)  # before the DOI's check: it may drop a DOI that is no text
    _check_ids(record, check)
    _check_doi(record, check)
    _check_dates(record, check)
    for name in ("url", "pdf_url"):
        if getattr(record, name) is not None:
            setattr(record, name, _url(getattr(record, name), name, check))
    record.authors = _names(record.authors, "authors", MAX_AUTHORS, MAX_AUTHOR_NAME, check)
    record.categories = _names(record.categories, "categories", MAX_CATEGORIES, MAX_CATEGORY, check)
    if record.families:
        record.families = _names(record.families, "families", MAX_CATEGORIES, MAX_CATEGORY, check)
    if type(record.curated) is not bool:
        check.warn("curated", f"expected true or false, got {_shown(record.curated)}", "false")
        record.curated = False
    return record, check.warnings


def _check_texts(record: PaperRecord, check: _Check) -> None:
    """Abstract and optional texts: one scan of them all when they are plain (the common case),
    else each is cleaned, cut or dropped."""
    optional = [(n, getattr(record, n), limit) for n, limit in _OPTIONAL_TEXT.items()]
    values = [record.abstract, *(v for _, v, _ in optional if v is not None)]
    try:
        joined = "\n".join(values)
    except TypeError:  # one is no text
        joined = "\0"
    if (
        not _CONTROL.search(joined)
        and len(record.abstract) <= MAX_ABSTRACT
        and all(v is None or len(v) <= limit for _, v, limit in optional)
    ):
        return
    if not _plain(record.abstract, MAX_ABSTRACT):
        record.abstract = _text(record.abstract, "abstract", MAX_ABSTRACT, check, cut=True) or ""
    for name, value, limit in optional:
        if value is not None and not _plain(value, limit):
            setattr(record, name, _text(value, name, limit, check, cut=False))


def _plain(value: object, limit: int) -> bool:
    """Text within `limit` and without control characters: nothing to clean."""
    return type(value) is str and len(value) <= limit and not _CONTROL.search(value)


def _check_source(record: PaperRecord, check: _Check) -> tuple[PaperRecord | None, list[str]]:
    """The slow path for a source or source id that is not plain text: clean it, or skip the
    record (they identify it)."""
    for name in ("source", "source_id"):
        value = _text(getattr(record, name), name, MAX_ID, check, cut=False)
        if not value or not value.strip():
            if value is not None:
                check.warn(name, "empty")
            check.warnings[-1] = check.warnings[-1].removesuffix("dropped") + "record skipped"
            return None, check.warnings
        setattr(record, name, value)
    # Cleaned and usable: check the rest as any record.
    checked, warnings = validate_record(record, check.where)
    return checked, [*check.warnings, *warnings]


def _check_ids(record: PaperRecord, check: _Check) -> None:
    arxiv_id = record.arxiv_id
    if arxiv_id is not None and (type(arxiv_id) is not str or not _ARXIV_ID.fullmatch(arxiv_id)):
        check.warn("arxiv_id", f"{_shown(arxiv_id)} is not an arXiv id")
        record.arxiv_id = arxiv_id = None
    version = record.arxiv_version
    if version is not None and (
        type(version) is not int or not 1 <= version <= MAX_ARXIV_VERSION or arxiv_id is None
    ):
        check.warn("arxiv_version", f"{_shown(version)} is not a version 1..{MAX_ARXIV_VERSION}")
        record.arxiv_version = None


def _check_doi(record: PaperRecord, check: _Check) -> None:
    doi = record.doi
    if doi is not None and not _DOI.fullmatch(doi):
        check.warn("doi", f"{_shown(doi)} is not a DOI (10.<registrant>/<suffix>)")
        record.doi = None


def _check_dates(record: PaperRecord, check: _Check) -> None:
    top = max_year()
    year = record.year
    if year is not None and not (type(year) is int and MIN_YEAR <= year <= top):
        record.year = _year(year, check)
    for name in ("published", "updated"):
        value = getattr(record, name)
        if value is not None and not _plain_day(value, top):
            setattr(record, name, _day(value, name, check))


def _plain_day(value: object, top: int) -> bool:
    if type(value) is not str or not _ISO_DAY.fullmatch(value):
        return False
    try:
        return MIN_YEAR <= date.fromisoformat(value).year <= top
    except ValueError:
        return False
