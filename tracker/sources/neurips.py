"""NeurIPS from its proceedings site: the listing of a year and each paper's abstract page.

``https://proceedings.neurips.cc/paper_files/paper/{year}`` lists the papers in a
``ul.paper-list``: one ``li`` per paper with a link to ``.../hash/{hash}-Abstract-{Track}.html``
(``-Abstract.html`` in older years; ``Conference``, ``Datasets_and_Benchmarks`` or
``Datasets_and_Benchmarks_Track`` since 2021) and the authors in an ``<i>``. An abstract page
has the title, authors and abstract in its body and ``citation_*`` meta tags (title, author,
pdf_url, publication_date).

``read`` parses a saved listing (records without abstracts) or a saved abstract page (one
record); ``fetch`` reads the listing of a year and then, with ``with_abstracts``, each paper's
abstract page, yielding a Page per ``page_size`` papers whose cursor ``{year}:{k}`` says the first
k listing entries are done.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, Tag

from core.errors import FetchError, FormatError
from tracker.http import PoliteClient, response_text
from tracker.normalize import clean_author, clean_text, clean_title, iso_date
from tracker.record import PaperRecord
from tracker.sources.base import Page, resume_position

FORMAT = "neurips"
BASE_URL = "https://proceedings.neurips.cc"
# Record links always point at the real site, even when fetching from a mirror or a test server.
CANONICAL_URL = "https://proceedings.neurips.cc"
PAGE_SIZE = 25  # papers per stored Page when each needs its abstract page (one request each)
LISTING_PAGE_SIZE = 1000  # papers per Page from the listing alone
# A static site, so one request a second is polite; a year (~4,000 abstract pages) takes ~1 h.
MIN_INTERVAL_S = 1.0
# Abstract pages that fail in a row before the run stops (the site is down, not one page gone).
MAX_CONSECUTIVE_FAILURES = 3

_ABSTRACT_PATH = re.compile(
    r"/(?:paper_files/)?paper/(?P<year>\d{4})/hash/(?P<hash>[0-9a-f]{16,64})"
    r"-Abstract(?:-(?P<track>[A-Za-z_]+))?\.html$"
)
_HASH_IN_URL = re.compile(r"/(?:hash|file|bibtex)/(?P<hash>[0-9a-f]{16,64})-")
_PDF_NAME = re.compile(r"-Paper(?:-(?P<track>[A-Za-z_]+))?\.pdf$")
_YEAR_IN_URL = re.compile(r"/paper/(?P<year>\d{4})/")
_SNIFF_HTML = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_SNIFF_NEURIPS = re.compile(
    r"proceedings\.neurips\.cc|papers\.nips\.cc|class=[\"']?paper-list|/paper_files/paper/"
    r"|Neural Information Processing Systems|<title>\s*(?:NeurIPS|NIPS)\b",
    re.IGNORECASE,
)
_LISTING_MARK = re.compile(r"<ul[^>]*class=[\"']?[^\"'>]*\bpaper-list\b", re.IGNORECASE)
_TRACK_NAMES = {
    "conference": "Main Conference Track",
    "datasets_and_benchmarks": "Datasets and Benchmarks Track",
    "datasets_and_benchmarks_track": "Datasets and Benchmarks Track",
}


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One paper of a year's listing: enough for a record without its abstract."""

    paper_hash: str
    title: str
    authors: list[str]
    year: int
    path: str  # the abstract page's path on the site, e.g. /paper_files/paper/2023/hash/...html
    # "Main Conference Track", "Datasets and Benchmarks Track", or None (older years).
    track: str | None
    track_suffix: str | None  # as in the file names: "Conference", "Datasets_and_Benchmarks"...

    @property
    def url(self) -> str:
        return CANONICAL_URL + self.path

    @property
    def pdf_url(self) -> str:
        # Same naming as the abstract page: /file/{hash}-Paper[-{Track}].pdf
        suffix = f"-{self.track_suffix}" if self.track_suffix else ""
        folder = f"{CANONICAL_URL}/paper_files/paper/{self.year}/file"
        return f"{folder}/{self.paper_hash}-Paper{suffix}.pdf"


def sniff(head: str) -> bool:
    """An HTML page of the NeurIPS proceedings site (listing or abstract page)."""
    return bool(_SNIFF_HTML.search(head)) and bool(_SNIFF_NEURIPS.search(head))


def _track_name(suffix: str | None) -> str | None:
    if not suffix:
        return None
    return _TRACK_NAMES.get(suffix.lower(), suffix.replace("_", " "))


def _journal_ref(year: int | None, track: str | None) -> str | None:
    if year is None:
        return None
    # Volume 1 is NIPS 1988, so the volume of year Y is Y - 1987 (2023: volume 36).
    text = f"Advances in Neural Information Processing Systems {year - 1987} (NeurIPS {year})"
    return f"{text}, {track}" if track else text


def _split_names(text: str) -> list[str]:
    # The site separates authors with commas and writes names "Given Family"; no "and".
    return [clean_author(name) for name in clean_text(text).split(",") if name.strip()]


def _soup(html: str) -> BeautifulSoup:
    # An XML file imported with --format neurips is reported as not a NeurIPS page; bs4's
    # advice to use an XML parser would only be noise on stderr.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "lxml")


# -- listing ---------------------------------------------------------------------------------


def parse_listing(html: str, origin: str) -> tuple[list[ListingEntry], list[str]]:
    """The papers of a year's listing page, in order, and warnings for unusable items.

    FormatError (naming ``origin``) when the page has no ``ul.paper-list``.
    """
    soup = _soup(html)
    lists = soup.select("ul.paper-list")
    if not lists:
        raise FormatError(
            f"{origin}: no ul.paper-list found; not a NeurIPS proceedings listing page"
        )
    entries: list[ListingEntry] = []
    warnings: list[str] = []
    for number, item in enumerate((li for ul in lists for li in ul.find_all("li")), start=1):
        link = next(
            (
                a
                for a in item.find_all("a", href=True)
                if _ABSTRACT_PATH.search(urlsplit(str(a["href"])).path)
            ),
            None,
        )
        if link is None:
            warnings.append(f"{origin}: listing item {number} has no abstract link; skipped")
            continue
        path = urlsplit(str(link["href"])).path
        match = _ABSTRACT_PATH.search(path)
        assert match is not None
        title = clean_title(link.get_text(" ", strip=True))
        if not title:
            warnings.append(f"{origin}: listing item {number} has no title; skipped")
            continue
        author_tag = item.find("i") or item.find(class_="paper-authors")
        authors = _split_names(author_tag.get_text(" ", strip=True)) if author_tag else []
        suffix = match.group("track")
        entries.append(
            ListingEntry(
                paper_hash=match.group("hash"),
                title=title,
                authors=authors,
                year=int(match.group("year")),
                # Always the current form /paper_files/paper/...: older links lack paper_files.
                path=_abstract_path(int(match.group("year")), match.group("hash"), suffix),
                track=_track_name(suffix),
                track_suffix=suffix,
            )
        )
    return entries, warnings


def record_from_listing(entry: ListingEntry) -> PaperRecord:
    """A record from the listing alone (no abstract; the pdf link follows the site's naming)."""
    return PaperRecord(
        source=FORMAT,
        source_id=entry.paper_hash,
        title=entry.title,
        authors=list(entry.authors),
        venue="NeurIPS",
        year=entry.year,
        journal_ref=_journal_ref(entry.year, entry.track),
        url=entry.url,
        pdf_url=entry.pdf_url,
    )


# -- abstract page ---------------------------------------------------------------------------


def _meta(soup: BeautifulSoup, name: str) -> list[str]:
    values = []
    for tag in soup.find_all("meta", attrs={"name": name}):
        content = tag.get("content")
        if isinstance(content, str) and content.strip():
            values.append(content.strip())
    return values


def _heading(soup: BeautifulSoup, label: str) -> Tag | None:
    for tag in soup.find_all(["h2", "h3", "h4", "h5"]):
        if tag.get_text(strip=True).rstrip(":").lower() == label:
            return tag
    return None


def _text_after(heading: Tag) -> str:
    """The text of the elements after ``heading`` up to the next heading (comments skipped)."""
    parts: list[str] = []
    for sibling in heading.next_siblings:
        if isinstance(sibling, Tag):
            if sibling.name in ("h2", "h3", "h4", "h5"):
                break
            parts.append(sibling.get_text(" ", strip=True))
        elif type(sibling) is NavigableString:  # not a Comment, Doctype or CDATA
            parts.append(str(sibling))
    return clean_text(" ".join(parts))


def _year_from(texts: list[str]) -> int | None:
    """The year of a 'YYYY...' date or of a /paper/YYYY/ path, from the first text that has one."""
    for text in texts:
        match = re.match(r"(\d{4})\b", text) or _YEAR_IN_URL.search(text)
        if match:
            return int(match.group(1))
    return None


def parse_abstract_page(html: str, origin: str, entry: ListingEntry | None = None) -> PaperRecord:
    """The record of one abstract page; ``entry`` (from the listing) fills what the page lacks.

    FormatError (naming ``origin``) when the page has no title or no paper hash.
    """
    soup = _soup(html)
    title_heading = None
    container = soup.select_one("div.container-fluid div.col") or soup.body or soup
    for tag in container.find_all("h4"):
        if tag.get_text(strip=True).lower() not in ("authors", "abstract", "bibtex"):
            title_heading = tag
            break
    raw_title = next(iter(_meta(soup, "citation_title")), None) or (
        title_heading.get_text(" ", strip=True) if title_heading else None
    )
    title = clean_title(raw_title)
    if not title:
        raise FormatError(
            f"{origin}: no paper title (citation_title meta or h4); not a NeurIPS abstract page"
        )
    pdf_meta = next(iter(_meta(soup, "citation_pdf_url")), None)
    identity = entry or _page_identity(soup, origin, pdf_meta)
    if identity is None:
        raise FormatError(
            f"{origin}: no paper hash and year in the page's links; not a NeurIPS abstract page"
        )
    paper_hash = identity.paper_hash

    authors = [clean_author(a) for a in _meta(soup, "citation_author")]
    if not authors:
        heading = _heading(soup, "authors")
        authors = _split_names(_text_after(heading)) if heading else []
    if not authors and entry:
        authors = list(entry.authors)
    abstract_heading = _heading(soup, "abstract")
    abstract = _text_after(abstract_heading) if abstract_heading else ""

    date_meta = next(iter(_meta(soup, "citation_publication_date")), "")
    full_date = re.fullmatch(r"\d{4}[-/]\d{2}[-/]\d{2}.*", date_meta)
    published = iso_date(date_meta.replace("/", "-")) if full_date else None
    year = identity.year
    pdf_url = urljoin(CANONICAL_URL, pdf_meta) if pdf_meta else identity.pdf_url
    return PaperRecord(
        source=FORMAT,
        source_id=paper_hash,
        title=title,
        abstract=abstract,
        authors=authors,
        venue="NeurIPS",
        year=year,
        published=published,
        journal_ref=_journal_ref(year, identity.track),
        url=identity.url,
        pdf_url=pdf_url,
    )


def _page_identity(soup: BeautifulSoup, origin: str, pdf_meta: str | None) -> ListingEntry | None:
    """Hash, year and track of a page read without its listing entry, from its own links."""
    candidates = [origin]
    for selector in ('link[rel="canonical"]', 'meta[property="og:url"]'):
        tag = soup.select_one(selector)
        value = tag.get("href") or tag.get("content") if tag else None
        if isinstance(value, str):
            candidates.append(value)
    if pdf_meta:
        candidates.append(pdf_meta)
    candidates += [str(a["href"]) for a in soup.find_all("a", href=True)]
    paper_hash = year = suffix = None
    for candidate in candidates:
        path = urlsplit(candidate).path
        page = _ABSTRACT_PATH.search(path)
        if page:  # the page's own address says everything
            paper_hash, suffix = page.group("hash"), page.group("track")
            year = int(page.group("year"))
            break
        found = _HASH_IN_URL.search(path)
        if found and paper_hash is None:
            paper_hash = found.group("hash")
            pdf = _PDF_NAME.search(path)
            suffix = pdf.group("track") if pdf else None
            in_url = _YEAR_IN_URL.search(path)
            year = int(in_url.group("year")) if in_url else None
    if paper_hash is None:
        return None
    if year is None:
        year = _year_from(_meta(soup, "citation_publication_date"))
    if year is None:
        return None
    return ListingEntry(
        paper_hash=paper_hash,
        title="",
        authors=[],
        year=year,
        path=_abstract_path(year, paper_hash, suffix),
        track=_track_name(suffix),
        track_suffix=suffix,
    )


def _abstract_path(year: int, paper_hash: str, suffix: str | None) -> str:
    tail = f"-{suffix}" if suffix else ""
    return f"/paper_files/paper/{year}/hash/{paper_hash}-Abstract{tail}.html"


# -- files -----------------------------------------------------------------------------------


def read(path: Path) -> Iterator[Page]:
    """Parse a saved NeurIPS page: a listing (records without abstracts) or an abstract page."""
    try:
        html = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if _LISTING_MARK.search(html):
        entries, warnings = parse_listing(html, str(path))
        if not entries:
            yield Page(
                records=[],
                warnings=warnings,
                notes={"empty": f"{path.name}: the NeurIPS listing holds no papers"},
            )
            return
        for begin in range(0, len(entries), LISTING_PAGE_SIZE):
            chunk = entries[begin : begin + LISTING_PAGE_SIZE]
            yield Page(records=[record_from_listing(e) for e in chunk], warnings=warnings)
            warnings = []
        return
    yield Page(records=[parse_abstract_page(html, str(path))])


# -- live ------------------------------------------------------------------------------------


def fetch(
    *,
    year: int,
    with_abstracts: bool = True,
    limit: int | None = None,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    page_size: int = PAGE_SIZE,
) -> Iterator[Page]:
    """Read NeurIPS ``year``: the listing, then (``with_abstracts``) each abstract page.

    ``limit`` caps the papers of this run. An abstract page that is malformed or fails to load
    gives a record from the listing and a warning; ``MAX_CONSECUTIVE_FAILURES`` failed loads
    in a row stop the run with the FetchError (the cursor keeps what was stored).
    """
    base = base_url.rstrip("/")
    listing_url = f"{base}/paper_files/paper/{year}"
    warnings: list[str] = []
    start = resume_position(cursor, str(year), warnings)
    owned = client is None
    http = client or PoliteClient(min_interval=MIN_INTERVAL_S)
    try:
        listing_html = response_text(http.get(listing_url))
        entries, listing_warnings = parse_listing(listing_html, listing_url)
        warnings.extend(listing_warnings)
        stop = len(entries) if limit is None else min(len(entries), start + max(0, limit))
        if start >= stop:
            if not entries:
                reason = f"NeurIPS {year}: the proceedings list no papers (yet)"
            elif start >= len(entries):
                reason = f"NeurIPS {year}: all {len(entries)} papers were fetched before"
            else:
                reason = f"NeurIPS {year}: limit {limit} leaves nothing to fetch"
            yield Page(
                records=[], cursor=f"{year}:{start}", warnings=warnings, notes={"empty": reason}
            )
            return
        failures_in_row = 0
        size = page_size if with_abstracts else max(page_size, LISTING_PAGE_SIZE)
        for begin in range(start, stop, size):
            end = min(begin + size, stop)
            records: list[PaperRecord] = []
            for entry in entries[begin:end]:
                if not with_abstracts:
                    records.append(record_from_listing(entry))
                    continue
                page_url = base + entry.path
                try:
                    html = response_text(http.get(page_url))
                    failures_in_row = 0
                    records.append(parse_abstract_page(html, page_url, entry))
                except FetchError as exc:
                    failures_in_row += 1
                    if failures_in_row >= MAX_CONSECUTIVE_FAILURES:
                        raise
                    warnings.append(f"{exc}; stored from the listing without its abstract")
                    records.append(record_from_listing(entry))
                except FormatError as exc:
                    warnings.append(f"{exc}; stored from the listing without its abstract")
                    records.append(record_from_listing(entry))
            yield Page(records=records, cursor=f"{year}:{end}", warnings=warnings)
            warnings = []
    finally:
        if owned:
            http.close()
