"""arXiv export API (https://export.arxiv.org/api/query): search by category and submission date.

Live: the `arxiv` package (4.x) drives the search, ``arxiv.Client(...).results(arxiv.Search(...))``:
it builds the query URLs and walks the pages. Its own transport (a bare session, immediate
retries, no Retry-After) is replaced by a subclass whose ``_parse_feed`` fetches through our
PoliteClient (3 s between requests, backoff, Retry-After) and parses with this module's parser,
the one ``read`` uses for saved responses. Results are sorted by submission date, ascending, so
a page's offset stays meaningful between runs; every API page becomes one Page whose cursor says
where to resume (see ``ApiCursor``).

Offline: ``read`` takes the raw Atom XML as served (*.body.xml) or a recorded
``{"url", "status_code", "body"}`` JSON wrapper (../shared/data/real/arxiv_api/*.json).

Errors: arXiv answers a bad query with HTTP 400 and an Atom feed holding one entry titled "Error"
whose id is .../api/errors#...; that becomes ArxivApiError (a FetchError) quoting arXiv's summary.
A query with no match (or an id that does not exist) is an empty result, not an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import arxiv
from lxml import etree  # type: ignore[import-untyped]  # no stubs installed

from core.errors import FetchError, FormatError
from tracker.http import PoliteClient, readable_url
from tracker.normalize import (
    arxiv_urls,
    clean_author,
    clean_text,
    clean_title,
    iso_date,
    normalize_doi,
    split_arxiv_id,
    year_of,
)
from tracker.record import PaperRecord
from tracker.sources.base import Page

FORMAT = "arxiv-api"
BASE_URL = "https://export.arxiv.org/api/query"
DEFAULT_CATEGORIES: tuple[str, ...] = ("cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML")
DEFAULT_PAGE_SIZE = 100  # the API allows up to 2000 per page; smaller pages commit more often
DEFAULT_DAYS = 7

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
NS = {"atom": ATOM, "arxiv": ARXIV, "opensearch": OPENSEARCH}
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_WRAPPER = re.compile(r'^\s*\{\s*"url"\s*:\s*"https?://[^"]*arxiv\.org/api/query')


class ArxivApiError(FetchError):
    """arXiv answered with its error feed; the message quotes arXiv's explanation."""


@dataclass
class ApiFeed:
    """One parsed API response: its records and the opensearch paging header."""

    records: list[PaperRecord]
    total_results: int
    start_index: int
    items_per_page: int
    warnings: list[str] = field(default_factory=list)


# -- parsing (shared by read and fetch) ------------------------------------------------------


def parse_xml(content: bytes, origin: str) -> Any:
    """Parse XML strictly (no entities, no network); FormatError names ``origin`` and the line."""
    try:
        return etree.fromstring(content, parser=_SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise FormatError(
            f"{origin}: not well-formed XML at line {exc.lineno}: {exc.msg}"
        ) from None


def element_text(element: Any) -> str | None:
    """All the text of `element`: with resolve_entities=False an entity of the document's DTD
    is a child node, and `.text` alone would silently lose whatever follows it. The entity is
    kept as written (&name;), and unresolved_entities names it for a warning."""
    if len(element) == 0:
        text: str | None = element.text
        return text
    return "".join(element.itertext())


def unresolved_entities(element: Any) -> list[str]:
    """The entities (&name;) inside `element` that the safe parser left unresolved."""
    return sorted({str(node.text) for node in element.iter(etree.Entity)})


def entity_warning(element: Any, where: str) -> list[str]:
    names = unresolved_entities(element)
    if not names:
        return []
    return [f"{where}: unresolved XML entity {', '.join(names[:5])} kept as written"]


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    return element_text(found) if found is not None else None


def _int(element: Any, path: str) -> int:
    text = _text(element, path)
    return int(text.strip()) if text and text.strip().isdigit() else 0


def parse_feed(content: bytes, origin: str, status: int | None = None) -> ApiFeed:
    """Parse an API response body; raise ArxivApiError for arXiv's error feed."""
    root = parse_xml(content, origin)
    if root.tag != f"{{{ATOM}}}feed":
        raise FormatError(f"{origin}: not an arXiv API Atom feed (root element {root.tag!r})")
    entries = root.findall("atom:entry", NS)
    for entry in entries:
        entry_id = _text(entry, "atom:id") or ""
        if "/api/errors" in entry_id:
            summary = clean_text(_text(entry, "atom:summary")) or entry_id
            http = f" (HTTP {status})" if status else ""
            raise ArxivApiError(f'arXiv API error{http} for {origin}: "{summary}"')
    feed = ApiFeed(
        records=[],
        total_results=_int(root, "opensearch:totalResults"),
        start_index=_int(root, "opensearch:startIndex"),
        items_per_page=_int(root, "opensearch:itemsPerPage"),
    )
    for number, entry in enumerate(entries, start=1):
        record = entry_to_record(entry)
        feed.warnings.extend(entity_warning(entry, f"{origin}: entry {number}"))
        if record is None:
            feed.warnings.append(f"{origin}: entry {number} has no arXiv id or title; skipped")
        else:
            feed.records.append(record)
    return feed


def entry_to_record(entry: Any) -> PaperRecord | None:
    """Map one API <entry> to a PaperRecord (None when it lacks an id or a title)."""
    arxiv_id, version = split_arxiv_id(_text(entry, "atom:id"))
    title = clean_title(_text(entry, "atom:title"))
    if not arxiv_id or not title:
        return None
    primary_element = entry.find("arxiv:primary_category", NS)
    primary = primary_element.get("term") if primary_element is not None else None
    categories = [primary] if primary else []
    for category in entry.findall("atom:category", NS):
        term = category.get("term")
        if term and term not in categories:
            categories.append(term)
    authors = [clean_author(name.text or "") for name in entry.findall("atom:author/atom:name", NS)]
    published = iso_date(_text(entry, "atom:published"))
    url, pdf_url = arxiv_urls(arxiv_id)
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id,
        title=title,
        abstract=clean_text(_text(entry, "atom:summary")),
        authors=[a for a in authors if a],
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=normalize_doi(_text(entry, "arxiv:doi")),
        venue="arXiv",
        year=year_of(published),
        published=published,
        updated=iso_date(_text(entry, "atom:updated")),
        categories=categories,
        comment=clean_text(_text(entry, "arxiv:comment")) or None,
        journal_ref=clean_text(_text(entry, "arxiv:journal_ref")) or None,
        url=url,
        pdf_url=pdf_url,
    )


# -- file format ----------------------------------------------------------------------------


def sniff(head: str) -> bool:
    """An Atom feed with the opensearch paging namespace, or a recorded API JSON wrapper."""
    if _WRAPPER.match(head):
        return True
    return is_xml(head) and "<feed" in head and OPENSEARCH in head and "announce_type" not in head


def is_xml(head: str) -> bool:
    """Starts like an XML document (not, say, Markdown that quotes some XML)."""
    return head.lstrip("\ufeff \t\r\n").startswith("<")


def read(path: Path) -> Iterator[Page]:
    """Parse a saved API response (raw Atom XML or the recorded JSON wrapper) as one Page."""
    raw = path.read_bytes()
    origin = path.name
    status: int | None = None
    if raw.lstrip()[:1] == b"{":
        try:
            wrapper = json.loads(raw)
            text: str = wrapper["body"]
            status = int(wrapper.get("status_code") or 0) or None
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise FormatError(f"{origin}: not a recorded arXiv API response ({exc})") from None
        origin = f"{path.name} (recorded from {wrapper.get('url', 'an unknown URL')})"
        # The recorder decoded the bytes as latin-1; latin-1 gives them back exactly.
        try:
            content = text.encode("latin-1")
        except UnicodeEncodeError:
            content = text.encode("utf-8")
    else:
        content = raw
    feed = parse_feed(content, origin, status)
    empty = f"the API response has no entries (totalResults {feed.total_results})"
    notes = {} if feed.records else {"empty": empty}
    yield Page(records=feed.records, warnings=feed.warnings, notes=notes)


# -- live -----------------------------------------------------------------------------------


@dataclass
class ApiCursor:
    """Where a search stands: its query, the next offset, and the window's end for the next run.

    ``done`` marks a finished search; the next incremental run then searches from ``until``.
    """

    query: str
    start: int
    until: str  # ISO datetime (UTC) that ends the submittedDate window
    done: bool = False
    categories: list[str] = field(default_factory=lambda: list(DEFAULT_CATEGORIES))

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def load(cls, text: str) -> ApiCursor:
        try:
            data = json.loads(text)
            categories = [str(c) for c in data.get("categories") or DEFAULT_CATEGORIES]
            query, until = str(data["query"]), str(data["until"])
            return cls(query, int(data["start"]), until, bool(data["done"]), categories)
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError(f"arxiv-api: unreadable cursor {text!r} ({exc})") from None


def build_query(categories: Sequence[str], start: datetime, end: datetime) -> str:
    """'(cat:cs.LG OR cat:cs.CV) AND submittedDate:[202501010000 TO 202501080000]' (GMT)."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"


def _as_utc(value: date | datetime | str, *, end_of_day: bool = False) -> datetime:
    """A datetime in UTC; a bare date (or 'YYYY-MM-DD') is its first minute, or with
    ``end_of_day`` its last (23:59), so that end=date.today() includes today."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if not isinstance(value, datetime):
        hour, minute = (23, 59) if end_of_day else (0, 0)
        value = datetime(value.year, value.month, value.day, hour, minute)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class _Feed:
    """What arxiv.Client's paging loop reads from ``_parse_feed``: ``results`` and
    ``header.total_results``. It only pages through the results, so our PaperRecords pass
    through it unchanged (no arxiv.Result in between)."""

    parsed: ApiFeed
    requested_start: int

    @property
    def results(self) -> list[PaperRecord]:
        return self.parsed.records

    @property
    def header(self) -> ApiFeed:  # arxiv.Client reads header.total_results
        return self.parsed


class PoliteArxivClient(arxiv.Client):  # type: ignore[misc]
    """arxiv.Client whose requests go through PoliteClient and whose pages are parsed here.

    arxiv.Client's own spacing and retries are switched off (delay 0, no retries): PoliteClient
    does both, honouring Retry-After. ``last_feed`` is the page most recently fetched, which
    lets ``fetch`` cut the flat result stream into API pages.
    """

    def __init__(
        self, polite: PoliteClient, base_url: str, page_size: int, empty_page_tries: int = 3
    ) -> None:
        super().__init__(page_size=page_size, delay_seconds=0.0, num_retries=0)
        separator = "&" if "?" in base_url else "?"
        self.query_url_format = base_url + separator + "{}"
        self.polite = polite
        self.empty_page_tries = empty_page_tries
        self.last_feed: _Feed | None = None

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> _Feed:
        requested_start = int(parse_qs(urlsplit(url).query).get("start", ["0"])[0])
        shown = readable_url(url)
        for _ in range(self.empty_page_tries):
            response = self.polite.get(url, allow_statuses={400})
            parsed = parse_feed(response.content, shown, response.status_code)
            if response.status_code != 200:
                raise FetchError(f"GET {shown} failed: HTTP {response.status_code}")
            # arxiv.Client asks for a later page only while results remain, so an empty one is
            # arXiv's known hiccup: ask again (as arxiv.py does).
            if parsed.records or first_page:
                break
        else:
            if requested_start < parsed.total_results:
                raise FetchError(
                    f"GET {shown} failed: arXiv returned an empty page at offset "
                    f"{requested_start} of {parsed.total_results} results "
                    f"{self.empty_page_tries} times"
                )
            # The result set shrank below our offset: that is its end.
        self.last_feed = _Feed(parsed, requested_start)
        return self.last_feed


def fetch(
    *,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    categories: Sequence[str] | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    days: int = DEFAULT_DAYS,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_results: int | None = None,
    now: datetime | None = None,
) -> Iterator[Page]:
    """Search ``categories`` (default: the cursor's, else DEFAULT_CATEGORIES) for papers submitted
    in [start, end], one Page per API page. Dates are UTC; a bare ``end`` date includes that day.

    Without ``start``/``end``: resume an unfinished ``cursor`` exactly, or after a finished one
    search from its window's end until now, or else the last ``days`` days. With them: resume
    the cursor only if it is for the same query, else start at offset 0.
    """
    polite = client or PoliteClient()
    now_utc = _as_utc(now or datetime.now(UTC))
    previous = ApiCursor.load(cursor) if cursor else None
    if categories is None:
        categories = previous.categories if previous is not None else DEFAULT_CATEGORIES
    if start is None and end is None and previous is not None and not previous.done:
        query, offset, until = previous.query, previous.start, previous.until
    else:
        if start is not None:
            window_start = _as_utc(start)
        elif previous is not None and previous.done:
            window_start = _as_utc(previous.until)
        else:
            window_start = now_utc - timedelta(days=days)
        window_end = _as_utc(end, end_of_day=True) if end is not None else now_utc
        query = build_query(categories, window_start, window_end)
        until = window_end.isoformat()
        resume = previous is not None and previous.query == query and not previous.done
        offset = previous.start if previous is not None and resume else 0

    search = arxiv.Search(
        query=query,
        max_results=max_results,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    arxiv_client = PoliteArxivClient(polite, base_url, page_size)
    buffer: list[PaperRecord] = []
    pages = 0
    for record in arxiv_client.results(search, offset=offset):
        feed = arxiv_client.last_feed
        assert feed is not None
        buffer.append(record)
        if len(buffer) == len(feed.results):
            # The page is complete: hand it over before arxiv.Client asks for the next one.
            offset = feed.requested_start + len(buffer)
            done = offset >= feed.parsed.total_results
            pages += 1
            yield Page(
                buffer,
                ApiCursor(query, offset, until, done, list(categories)).dump(),
                feed.parsed.warnings,
            )
            buffer = []
    if buffer:  # max_results cut the last page short
        offset += len(buffer)
        pages += 1
        yield Page(buffer, ApiCursor(query, offset, until, False, list(categories)).dump())
    if pages == 0:
        where = f"beyond offset {offset}" if offset else "at all"
        yield Page(
            [],
            ApiCursor(query, offset, until, True, list(categories)).dump(),
            notes={"empty": f"arXiv API: no papers match {query} {where}"},
        )
