"""arXiv announcement feeds (rss.arxiv.org/atom/cs.AI+cs.LG): the day's listings, via feedparser.

Each weekday's feed holds the papers announced that day in the requested categories, with
``arxiv:announce_type``: ``new`` (first announcement), ``cross`` (a new paper cross-listed into
one of the categories), ``replace`` / ``replace-cross`` (a new version of an older paper). All are
kept; for replacements the entry's date is the announcement of the update, so it goes into
``updated`` and ``published`` stays unknown (that is how they are marked). The abstract is the
summary after "Abstract:", the authors come from ``dc:creator`` ("A, B and C"), the primary
category is listed first. On Saturdays, Sundays and arXiv holidays the feed has no entries
(arxiv_docs/rss_specifications.md, skipDays): that is an empty Page with a note, not an error.

A feed cut off mid-document (like the real ../shared/data/real/arxiv_listing_feed file) still
yields every complete entry; the warning says which entry was cut and where the XML broke.
The RSS 2.0 variant (rss.arxiv.org/rss/...) is read by the same code: feedparser maps both.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import feedparser

from core.errors import FormatError
from tracker.http import PoliteClient
from tracker.normalize import (
    arxiv_urls,
    clean_text,
    clean_title,
    iso_date,
    normalize_doi,
    split_arxiv_id,
    split_authors,
    year_of,
)
from tracker.record import PaperRecord
from tracker.sources.arxiv_api import is_xml
from tracker.sources.base import Page

FORMAT = "arxiv-feed"
BASE_URL = "https://rss.arxiv.org/atom"
DEFAULT_CATEGORIES: tuple[str, ...] = ("cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML")
NEW_TYPES = frozenset({"new", "cross"})
_ABSTRACT = re.compile(r"^.*?\bAbstract:\s*", re.DOTALL)
_NEW_STYLE_YEAR = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_YEAR = re.compile(r"^[a-z.\-]+/(\d{2})\d{5}$", re.IGNORECASE)
EMPTY_REASON = "arXiv announces nothing on Saturdays, Sundays and holidays"


def sniff(head: str) -> bool:
    """An Atom or RSS document from rss.arxiv.org, or one with arxiv:announce_type entries."""
    is_feed = is_xml(head) and ("<feed" in head or "<rss" in head)
    return is_feed and ("rss.arxiv.org" in head or "arxiv:announce_type" in head)


def read(path: Path) -> Iterator[Page]:
    """Parse a saved announcement feed as one Page (complete entries only; see module doc)."""
    yield parse_feed(path.read_bytes(), path.name)


def parse_feed(content: bytes, origin: str) -> Page:
    """Parse feed bytes with feedparser; never raises on a cut-off feed, only on a non-feed."""
    try:
        parsed = feedparser.parse(content)
    except (UnicodeError, LookupError, ValueError) as exc:
        # feedparser trusts the declared encoding: a garbled name ('\xd5TF-8') fails decoding.
        raise FormatError(f"{origin}: not a readable feed ({type(exc).__name__}: {exc})") from None
    xml_error = _xml_error(parsed)
    if not parsed.get("version") and not parsed.entries:
        raise FormatError(f"{origin}: not an arXiv announcement feed ({xml_error or 'no feed'})")
    entries: list[Any] = list(parsed.entries)
    records: list[PaperRecord] = []
    warnings: list[str] = []
    types: Counter[str] = Counter()
    for number, entry in enumerate(entries, start=1):
        label = _label(number, entry)
        record, announce_type, abstract_found = entry_to_record(entry)
        if record is None:
            warnings.append(f"{origin}: {label} has no arXiv id or title; skipped")
            continue
        if not abstract_found:
            if xml_error and number == len(entries):
                warnings.append(
                    f"{origin}: the feed is cut off in {label}: it has no abstract, so it was "
                    f"skipped; XML error at {xml_error}"
                )
                xml_error = None  # reported
                continue
            warnings.append(f"{origin}: {label} has no abstract")
        types[announce_type or "unknown"] += 1
        records.append(record)
    if xml_error:
        last = f"after {_label(len(entries), entries[-1])}" if entries else "before any entry"
        warnings.append(
            f"{origin}: the feed is not well-formed {last}; anything later is lost; "
            f"XML error at {xml_error}"
        )
    notes = {f"announce_type_{k}": str(v) for k, v in sorted(types.items())}
    feed_date = iso_date(parsed.feed.get("updated"))
    if feed_date:
        notes["feed_date"] = feed_date
    if not entries:
        title = parsed.feed.get("title") or origin
        notes["empty"] = f"{title} ({feed_date or 'undated'}) has no entries: {EMPTY_REASON}"
    return Page(records=records, warnings=warnings, notes=notes)


def entry_to_record(entry: Any) -> tuple[PaperRecord | None, str | None, bool]:
    """(record or None, announce type, whether the entry has an abstract)."""
    arxiv_id, version = split_arxiv_id(entry.get("id") or entry.get("link"))
    title = clean_title(entry.get("title"))
    summary = entry.get("summary") or ""
    abstract = clean_text(_ABSTRACT.sub("", summary, count=1)) if summary else ""
    announce_type = (entry.get("arxiv_announce_type") or "").strip().lower() or None
    if not arxiv_id or not title:
        return None, announce_type, bool(abstract)
    announced = iso_date(entry.get("published"))
    is_replacement = announce_type is not None and announce_type not in NEW_TYPES
    published = None if is_replacement else announced
    url, pdf_url = arxiv_urls(arxiv_id)
    record = PaperRecord(
        source=FORMAT,
        source_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=split_authors(entry.get("author") or ""),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=normalize_doi(entry.get("arxiv_doi")),
        venue="arXiv",
        year=year_of(published) or year_from_id(arxiv_id),
        published=published,
        updated=announced if is_replacement else None,
        categories=_categories(entry),
        journal_ref=clean_text(entry.get("arxiv_journal_reference")) or None,
        license=(entry.get("rights") or "").strip() or None,
        url=url,
        pdf_url=pdf_url,
    )
    return record, announce_type, bool(abstract)


def year_from_id(arxiv_id: str) -> int | None:
    """The submission year an arXiv id encodes: 2508.13167 -> 2025, hep-th/9901001 -> 1999."""
    match = _NEW_STYLE_YEAR.match(arxiv_id) or _OLD_STYLE_YEAR.match(arxiv_id)
    if not match:
        return None
    yy = int(match.group(1))
    return 1900 + yy if yy >= 91 else 2000 + yy


def _categories(entry: Any) -> list[str]:
    terms: list[str] = []
    for tag in entry.get("tags") or []:
        term = (tag.get("term") or "").strip()
        if term and term not in terms:
            terms.append(term)
    return terms


def _label(number: int, entry: Any) -> str:
    arxiv_id = (entry.get("id") or "").removeprefix("oai:arXiv.org:") or "no id"
    title = clean_title(entry.get("title"))
    short = title if len(title) <= 60 else title[:57] + "..."
    return f'entry {number} ({arxiv_id}, "{short}")' if title else f"entry {number} ({arxiv_id})"


def _xml_error(parsed: Any) -> str | None:
    """'line 1233: no element found' for a feed that is not well-formed, else None."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return None  # declared and actual encodings differ: harmless, the text is still read
    line = getattr(exc, "getLineNumber", None)
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    return f"line {line()}: {message}" if callable(line) else str(message)


# -- live -----------------------------------------------------------------------------------


def feed_url(categories: Sequence[str], base_url: str = BASE_URL) -> str:
    """https://rss.arxiv.org/atom/cs.AI+cs.LG (arxiv_docs/rss.md: '+' joins categories)."""
    return f"{base_url.rstrip('/')}/{'+'.join(categories)}"


def fetch(
    *,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
) -> Iterator[Page]:
    """Fetch today's announcements of ``categories`` as one Page.

    The cursor records the feed's date; fetching a feed whose date the cursor already holds
    stores nothing new (the Page is empty and says so).
    """
    polite = client or PoliteClient()
    url = feed_url(categories, base_url)
    response = polite.get(url)
    page = parse_feed(response.content, url)
    feed_date = page.notes.get("feed_date")
    previous = _load_cursor(cursor)
    page.cursor = json.dumps({"feed": url, "feed_date": feed_date}, sort_keys=True)
    if feed_date and previous == {"feed": url, "feed_date": feed_date} and page.records:
        page.notes["empty"] = f"{url}: the announcements of {feed_date} are already stored"
        page.records = []
    yield page


def _load_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        return None  # an old or foreign cursor: fetch as if there were none
    return data if isinstance(data, dict) else None
