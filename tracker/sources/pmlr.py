"""ICML from PMLR (Proceedings of Machine Learning Research): volume BibTeX and per-paper records.

Three kinds of files, one parser each, all read offline by ``read`` and the first one live by
``fetch``:

* a volume's BibTeX, ``https://proceedings.mlr.press/v{N}/assets/bib/bibliography.bib``
  (``@InProceedings{pmlr-v202-abbas23a, title = {...}, author = {Last, First and ...}, ...}``),
  or the source BibTeX the volume's repository keeps (``mlresearch/v{N}/*.bib``): an
  ``@Proceedings`` entry with the volume number, booktitle and year, then papers keyed by their
  short PMLR ids (``@InProceedings{aamand24a, ...}``, no ``url``), with abstract and OpenReview id;
* a per-paper record of the volume's repository ``mlresearch/v{N}`` (``_posts/*.md``): YAML
  front matter with ``layout: inproceedings``, ``author: [{given, family}]``, ``openreview``...;
* a volume's ``_config.yml`` (``layout: proceedings``): volume metadata without papers, read as
  an empty Page whose note says how to fetch the volume.

Every record's ``source_id`` is the BibTeX key form ``pmlr-v{N}-{id}`` (e.g.
``pmlr-v267-abnar25a``): PMLR ids such as ``abnar25a`` are only unique within a volume.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError, FormatError
from tracker.http import PoliteClient, response_text
from tracker.normalize import clean_author, clean_text, clean_title, iso_date, year_of
from tracker.record import PaperRecord
from tracker.sources.base import Page, resume_position
from tracker.sources.bibtex import BibEntry, bib_text, parse_bibtex, split_names

FORMAT = "pmlr"
BASE_URL = "https://proceedings.mlr.press"
PAGE_SIZE = 200

# ICML proceedings volumes of PMLR (each volume's _config.yml names the conference and year).
ICML_VOLUMES: dict[int, int] = {
    2013: 28,
    2014: 32,
    2015: 37,
    2016: 48,
    2017: 70,
    2018: 80,
    2019: 97,
    2020: 119,
    2021: 139,
    2022: 162,
    2023: 202,
    2024: 235,
    2025: 267,
}
_ICML_YEAR_OF_VOLUME: dict[int, int] = {volume: year for year, volume in ICML_VOLUMES.items()}
_ICML_BOOKTITLE = re.compile(r"International Conference on Machine Learning", re.IGNORECASE)

_PMLR_KEY = re.compile(r"pmlr-v(\d+)-(.+)", re.IGNORECASE)
_URL_ID = re.compile(r"/v(\d+)/([^/]+?)\.html$")
_PAPER_TYPES = frozenset({"inproceedings", "conference", "article"})
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$", re.S | re.M)
_LAYOUT = re.compile(r"^layout:\s*['\"]?(in)?proceedings['\"]?\s*$", re.MULTILINE)
_PMLR_HINT = re.compile(
    r"^openreview:|proceedings\.mlr\.press|mlresearch|Proceedings of Machine Learning Research",
    re.MULTILINE,
)
_BIB_PMLR = re.compile(r"@inproceedings\s*\{\s*pmlr-v\d+-", re.IGNORECASE)
# A volume repository's source BibTeX opens with the volume's @Proceedings entry.
_BIB_VOLUME = re.compile(r"@proceedings\s*\{[^@]*\bvolume\s*=", re.IGNORECASE | re.DOTALL)
_SHORT_ID = re.compile(r"[a-z][a-z0-9-]*\d\d[a-z]?", re.IGNORECASE)
_BIB_INPROCEEDINGS = re.compile(r"@inproceedings\s*\{", re.IGNORECASE)


def sniff(head: str) -> bool:
    """PMLR BibTeX (pmlr-v keys or the PMLR series) or PMLR YAML front matter."""
    if _BIB_PMLR.search(head) or _BIB_VOLUME.search(head):
        return True
    if _BIB_INPROCEEDINGS.search(head) and "Proceedings of Machine Learning Research" in head:
        return True
    text = head.lstrip("\ufeff \t\r\n")
    if not text.startswith("---"):
        return False
    # The layout line can sit behind a long abstract, past the sniffed head: other PMLR marks do.
    return bool(_LAYOUT.search(text)) or bool(_PMLR_HINT.search(text))


def volume_for_year(year: int) -> int:
    """The PMLR volume of ICML ``year``; ConfigError for a year without a known volume."""
    try:
        return ICML_VOLUMES[year]
    except KeyError:
        known = f"{min(ICML_VOLUMES)}-{max(ICML_VOLUMES)}"
        raise ConfigError(
            f"ICML {year} has no known PMLR volume (known: {known}); pass the volume number instead"
        ) from None


def volume_bib_url(volume: int, base_url: str = BASE_URL) -> str:
    return f"{base_url.rstrip('/')}/v{volume}/assets/bib/bibliography.bib"


# -- records ---------------------------------------------------------------------------------


def _venue(volume: int, container: str | None) -> str:
    if volume in _ICML_YEAR_OF_VOLUME or (container and _ICML_BOOKTITLE.search(container)):
        return "ICML"
    return "PMLR"


def _scalar(value: Any) -> str | None:
    """A YAML value as text when it is text or a number; None for lists, mappings, booleans
    and nothing (a hostile record's `page: true` must not reach string methods)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        return None


def _journal_ref(container: str | None, volume: int, pages: str | None, year: int | None) -> str:
    # PMLR's own citation style: "Proceedings of ..., PMLR 267:204-230, 2025".
    parts = [clean_title(container)] if container else []
    where = f"PMLR {volume}" + (f":{pages.replace('--', '-')}" if pages else "")
    parts.append(where)
    if year:
        parts.append(str(year))
    return ", ".join(parts)


@dataclass(frozen=True)
class Volume:
    """What a source BibTeX's @Proceedings entry says of its volume."""

    number: int
    booktitle: str | None
    year: int | None


def volume_of(entries: list[BibEntry]) -> Volume | None:
    """The volume described by the file's @Proceedings entry (source BibTeX), if any."""
    for entry in entries:
        if entry.entry_type == "proceedings":
            number = _int_or_none(entry.get("volume"))
            if number is not None and 0 < number < 100_000:
                return Volume(number, entry.get("booktitle"), _int_or_none(entry.get("year")))
    return None


def record_from_bib(
    entry: BibEntry, base_url: str = BASE_URL, volume_entry: Volume | None = None
) -> PaperRecord:
    """One @InProceedings entry of a PMLR volume BibTeX; ValueError names what is missing.

    In a source BibTeX (`volume_entry` given) a paper's key is its short PMLR id and the volume,
    booktitle and year come from the file's @Proceedings entry."""
    volume: int | None = None
    paper_id: str | None = None
    match = _PMLR_KEY.fullmatch(entry.key)
    if match:
        volume, paper_id = int(match.group(1)), match.group(2)
    else:
        url_match = _URL_ID.search(entry.get("url") or "")
        if url_match:
            volume, paper_id = int(url_match.group(1)), url_match.group(2)
    volume = volume or _int_or_none(entry.get("volume"))
    if paper_id is None and volume_entry is not None and _SHORT_ID.fullmatch(entry.key):
        volume, paper_id = volume or volume_entry.number, entry.key
    if volume is None or paper_id is None:
        raise ValueError(
            f"entry {entry.key!r} has neither a pmlr-v<N>-<id> key nor a PMLR url"
            + ("" if volume_entry else " (and the file has no @Proceedings entry with a volume)")
        )
    title = clean_title(entry.get("title"))
    if not title:
        raise ValueError(f"entry {entry.key!r} has no title")
    booktitle = entry.get("booktitle") or (volume_entry.booktitle if volume_entry else None)
    year = (
        _ICML_YEAR_OF_VOLUME.get(volume)
        or _int_or_none(entry.get("year"))
        or (volume_entry.year if volume_entry else None)
    )
    base = base_url.rstrip("/")
    return PaperRecord(
        source=FORMAT,
        source_id=f"pmlr-v{volume}-{paper_id}",
        title=title,
        abstract=bib_text(entry.get("abstract")),
        authors=split_names(entry.get("author") or ""),
        openreview_id=entry.get("openreview"),
        venue=_venue(volume, booktitle),
        year=year,
        journal_ref=_journal_ref(booktitle, volume, entry.get("pages"), year),
        url=entry.get("url") or f"{base}/v{volume}/{paper_id}.html",
        pdf_url=entry.get("pdf") or f"{base}/v{volume}/{paper_id}/{paper_id}.pdf",
    )


def _issued(data: dict[str, Any]) -> str | None:
    """The record's issue date (citeproc ``issued: date-parts: [y, m, d]``), else its ``date``."""
    issued = data.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    if isinstance(parts, list) and parts and isinstance(parts[0], list):
        parts = parts[0]  # citeproc also allows [[2025, 10, 6]]
    if isinstance(parts, list) and len(parts) == 3:
        try:
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
        except (TypeError, ValueError, OverflowError):  # date-parts [0, 0, 2**31]
            return None
    return iso_date(data.get("date"))


def _yaml_authors(value: Any) -> list[str]:
    names: list[str] = []
    for person in value if isinstance(value, list) else []:
        if isinstance(person, dict):
            given = str(person.get("given") or "").strip()
            family = str(person.get("family") or "").strip()
            name = f"{given} {family}".strip()
        else:
            name = str(person)
        if name:
            names.append(clean_author(name))
    return names


# What a parser's mapping can raise on a value of an unexpected type or size: the record is
# skipped with its reason, never a traceback (the fuzz suite, tests/test_fuzz_parsers.py).
UNUSABLE = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


def record_from_post(data: dict[str, Any], base_url: str = BASE_URL) -> PaperRecord:
    """One per-paper record (front matter with layout: inproceedings); ValueError if unusable."""
    paper_id = _scalar(data.get("id")) or ""
    volume = _int_or_none(data.get("volume"))
    if volume is None:
        url_match = re.search(r"/v(\d+)/", _scalar(data.get("pdf")) or "")
        volume = int(url_match.group(1)) if url_match else None
    if not paper_id or volume is None:
        raise ValueError("the record has no id or no volume")
    title = clean_title(_scalar(data.get("title")) or _scalar(data.get("tex_title")))
    if not title:
        raise ValueError(f"record {paper_id!r} has no title")
    container = _scalar(data.get("container-title")) or _scalar(data.get("booktitle"))
    published = _issued(data)
    year = _ICML_YEAR_OF_VOLUME.get(volume) or year_of(published)
    first, last = _scalar(data.get("firstpage")), _scalar(data.get("lastpage"))
    page = _scalar(data.get("page")) or (f"{first}-{last}" if first and last else first)
    base = base_url.rstrip("/")
    openreview = _scalar(data.get("openreview"))
    return PaperRecord(
        source=FORMAT,
        source_id=f"pmlr-v{volume}-{paper_id}",
        title=title,
        abstract=clean_text(_scalar(data.get("abstract"))),
        authors=_yaml_authors(data.get("author")),
        openreview_id=openreview,
        venue=_venue(volume, container),
        year=year,
        published=published,
        journal_ref=_journal_ref(container, volume, page, year),
        url=f"{base}/v{volume}/{paper_id}.html",
        pdf_url=_scalar(data.get("pdf")) or f"{base}/v{volume}/{paper_id}/{paper_id}.pdf",
    )


# -- whole files -----------------------------------------------------------------------------


def _volume_note(data: dict[str, Any]) -> str:
    volume = _int_or_none(data.get("volume"))
    year = _int_or_none(data.get("year"))
    if volume is not None and volume in _ICML_YEAR_OF_VOLUME:
        year = _ICML_YEAR_OF_VOLUME[volume]
        return (
            f"PMLR volume {volume} (ICML {year}) metadata: no papers; "
            f"fetch the volume with `dlradar fetch icml --year {year}`"
        )
    short = str(data.get("shortname") or "").strip()
    label = " ".join(str(p) for p in (short, year) if p)
    return (
        f"PMLR volume {volume if volume is not None else '?'}"
        + (f" ({label})" if label else "")
        + " metadata: no papers; it is not an ICML volume this tracker fetches"
    )


class _ScalarAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases of lists and mappings.

    Nested aliases of collections expand exponentially: a 523-byte "billion laughs" title
    became 2.3 GB when read as text. PMLR's own files alias only scalars (a volume's start
    date, repeated in its list of dates), which cost no more than their text.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            node = self.anchors.get(event.anchor)
            if node is not None and not isinstance(node, yaml.ScalarNode):
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"found alias *{event.anchor} of a list or mapping; such YAML aliases are"
                    " refused (they can expand without bound)",
                    event.start_mark,
                )
        return super().compose_node(parent, index)


def parse_front_matter(text: str, origin: str) -> dict[str, Any]:
    """The YAML front matter (or a whole YAML file) of ``text`` as a mapping; FormatError if not."""
    match = _FRONT_MATTER.match(text)
    block = match.group(1) if match else text
    try:
        data = yaml.load(block, Loader=_ScalarAliasLoader)  # a SafeLoader subclass
    except (ValueError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors raise these for a 5,000-digit number or a date 2020-99-99.
        raise FormatError(f"{origin}: invalid YAML front matter ({exc})") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(f"{origin}: invalid YAML front matter ({first})") from exc
    if not isinstance(data, dict):
        raise FormatError(f"{origin}: no YAML mapping found; not a PMLR record or volume file")
    return data


def pages_from_yaml(text: str, origin: str, base_url: str = BASE_URL) -> Iterator[Page]:
    """A per-paper record (one record) or a volume _config.yml (an empty Page with a note)."""
    data = parse_front_matter(text, origin)
    layout = str(data.get("layout") or "").strip().lower()
    if layout == "proceedings":
        yield Page(records=[], notes={"empty": _volume_note(data)})
        return
    if layout != "inproceedings":
        raise FormatError(
            f"{origin}: YAML without `layout: inproceedings` or `layout: proceedings`; "
            "not a PMLR paper record or volume _config.yml"
        )
    try:
        record = record_from_post(data, base_url)
    except UNUSABLE as exc:
        raise FormatError(f"{origin}: unusable PMLR paper record: {exc}") from exc
    yield Page(records=[record])


def bib_records(
    text: str, origin: str, base_url: str = BASE_URL
) -> tuple[list[PaperRecord | str], list[str]]:
    """Each paper entry of a volume BibTeX as a record, or as a warning sentence if unusable.

    Returns the per-entry results in file order (so a cursor can index them) and file-level
    problems. FormatError if the text holds no paper entry at all.
    """
    parsed = parse_bibtex(text)
    papers = [e for e in parsed.entries if e.entry_type in _PAPER_TYPES]
    if not papers:
        what = "no @InProceedings entries"
        if parsed.problems:
            what += f" ({parsed.problems[0]})"
        raise FormatError(f"{origin}: {what}; not a PMLR volume BibTeX")
    volume = volume_of(parsed.entries)
    results: list[PaperRecord | str] = []
    for entry in papers:
        try:
            results.append(record_from_bib(entry, base_url, volume))
        except UNUSABLE as exc:
            results.append(f"{origin} line {entry.line}: {exc}; skipped")
    return results, [f"{origin}: {p}" for p in parsed.problems]


def _paginate(
    results: list[PaperRecord | str],
    *,
    start: int,
    page_size: int,
    stop: int,
    scope: str,
    first_warnings: list[str],
) -> Iterator[Page]:
    pending_warnings = list(first_warnings)
    for begin in range(start, stop, page_size):
        end = min(begin + page_size, stop)
        chunk = results[begin:end]
        records = [r for r in chunk if isinstance(r, PaperRecord)]
        warnings = pending_warnings + [r for r in chunk if isinstance(r, str)]
        pending_warnings = []
        yield Page(records=records, cursor=f"{scope}:{end}", warnings=warnings)


def _looks_like_bibtex(text: str) -> bool:
    return bool(re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.MULTILINE)) and not text.lstrip(
        "\ufeff \t\r\n"
    ).startswith("---")


def read(path: Path) -> Iterator[Page]:
    """Parse a saved PMLR file: a volume BibTeX, a per-paper record or a volume _config.yml."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read {path}: {exc}") from exc
    if _looks_like_bibtex(text):
        results, problems = bib_records(text, str(path))
        yield from _paginate(
            results,
            start=0,
            page_size=PAGE_SIZE,
            stop=len(results),
            scope=path.name,
            first_warnings=problems,
        )
        return
    yield from pages_from_yaml(text, str(path))


# -- live ------------------------------------------------------------------------------------


def fetch(
    *,
    year: int | None = None,
    volume: int | None = None,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    page_size: int = PAGE_SIZE,
    limit: int | None = None,
) -> Iterator[Page]:
    """Download one PMLR volume's BibTeX (ICML ``year`` or ``volume``) and yield its papers.

    Pages hold ``page_size`` entries; a page's cursor ``v{N}:{k}`` says the first k entries of
    the volume are done, so a killed run resumes after the last stored page. ``limit`` caps
    how many entries this run covers. HTTP failures raise FetchError (from PoliteClient).
    """
    if volume is None:
        if year is None:
            raise ConfigError("PMLR fetch needs a year (ICML) or a volume number")
        volume = volume_for_year(year)
    scope = f"v{volume}"
    warnings: list[str] = []
    start = resume_position(cursor, scope, warnings)
    url = volume_bib_url(volume, base_url)
    owned = client is None
    http = client or PoliteClient()
    try:
        text = response_text(http.get(url))
    finally:
        if owned:
            http.close()
    results, problems = bib_records(text, url)
    warnings.extend(problems)
    stop = len(results) if limit is None else min(len(results), start + max(0, limit))
    if start >= stop:
        reason = (
            f"PMLR volume {volume}: all {len(results)} papers were fetched before (cursor {cursor})"
            if start >= len(results)
            else f"PMLR volume {volume}: limit {limit} leaves nothing to fetch"
        )
        yield Page(
            records=[], cursor=f"{scope}:{start}", warnings=warnings, notes={"empty": reason}
        )
        return
    yield from _paginate(
        results, start=start, page_size=page_size, stop=stop, scope=scope, first_warnings=warnings
    )
