"""arXiv OAI-PMH (https://oaipmh.arxiv.org/oai): bulk and incremental harvesting of whole categories.

``ListRecords`` with ``metadataPrefix=arXiv`` returns, per record, the id, first-version date
(``created``), last update, authors split into keyname/forenames, categories (primary first),
comments, journal-ref, doi, license and abstract. Sets select categories (``cs:cs:LG``; see
arxiv_docs/oa/index.md); ``from``/``until`` select by the record's datestamp (last modification,
not submission). Each response is one Page; a response that ends with a non-empty
``resumptionToken`` continues with ``verb=ListRecords&resumptionToken=...`` alone.

The cursor is the query (sets, from, until) plus the set being harvested and its resumption
token, so a killed harvest resumes at the next page. A finished harvest leaves ``next_from``, the
date of the server's first response, from which the next incremental harvest starts (the docs
advise taking ``from`` from the server's response). Tokens expire daily: a resumed harvest whose
token is refused restarts that set, with a warning.

``noRecordsMatch`` is an empty result; any other OAI error (badArgument, badResumptionToken, ...)
is an OaiError (a FetchError) quoting the server. The base URL moved in 2025 from
http://export.arxiv.org/oai2 to https://oaipmh.arxiv.org/oai.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from core.errors import FetchError, FormatError
from tracker.http import PoliteClient, readable_url
from tracker.normalize import (
    arxiv_urls,
    clean_text,
    clean_title,
    iso_date,
    normalize_doi,
    split_arxiv_id,
    year_of,
)
from tracker.record import PaperRecord
from tracker.sources.arxiv_api import element_text, entity_warning, is_xml, parse_xml
from tracker.sources.base import Page

FORMAT = "arxiv-oai"
BASE_URL = "https://oaipmh.arxiv.org/oai"
DEFAULT_SETS: tuple[str, ...] = (
    "cs:cs:LG",
    "cs:cs:CV",
    "cs:cs:CL",
    "cs:cs:AI",
    "cs:cs:NE",
    "stat:stat:ML",
)
DEFAULT_DAYS = 7
OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV_META = "http://arxiv.org/OAI/arXiv/"
NS = {"oai": OAI, "a": ARXIV_META}


class OaiError(FetchError):
    """The OAI-PMH server answered with an error other than noRecordsMatch."""


@dataclass
class OaiResponse:
    """One parsed OAI-PMH response."""

    records: list[PaperRecord]
    token: str | None  # resumption token; None or "" when the list is complete
    response_date: str | None
    error_code: str | None = None  # only noRecordsMatch gets this far
    error_message: str | None = None
    deleted: int = 0
    complete_list_size: str | None = None
    warnings: list[str] = field(default_factory=list)


# -- parsing (shared by read and fetch) ------------------------------------------------------


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    return element_text(found) if found is not None else None


def parse_response(content: bytes, origin: str) -> OaiResponse:
    """Parse an OAI-PMH response (ListRecords or GetRecord, metadataPrefix=arXiv)."""
    root = parse_xml(content, origin)
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise FormatError(f"{origin}: not an OAI-PMH response (root element {root.tag!r})")
    response = OaiResponse(records=[], token=None, response_date=_text(root, "oai:responseDate"))
    for error in root.findall("oai:error", NS):
        code = error.get("code") or "unknown"
        message = clean_text(error.text) or code
        if code != "noRecordsMatch":
            raise OaiError(f'arXiv OAI-PMH error {code} for {origin}: "{message}"')
        response.error_code, response.error_message = code, message
    records = root.findall("oai:ListRecords/oai:record", NS) + root.findall(
        "oai:GetRecord/oai:record", NS
    )
    for number, record in enumerate(records, start=1):
        header = record.find("oai:header", NS)
        if header is not None and header.get("status") == "deleted":
            response.deleted += 1
            continue
        metadata = record.find("oai:metadata/a:arXiv", NS)
        response.warnings.extend(entity_warning(record, f"{origin}: record {number}"))
        converted = metadata_to_record(metadata) if metadata is not None else None
        if converted is None:
            identifier = _text(header, "oai:identifier") if header is not None else None
            response.warnings.append(
                f"{origin}: record {number} ({identifier or 'no identifier'}) has no arXiv "
                "metadata with an id and a title; skipped"
            )
            continue
        response.records.append(converted)
    token = root.find("oai:ListRecords/oai:resumptionToken", NS)
    if token is not None:
        response.token = (token.text or "").strip() or None
        response.complete_list_size = token.get("completeListSize")
    return response


def metadata_to_record(meta: Any) -> PaperRecord | None:
    """Map an <arXiv> metadata element (metadataPrefix=arXiv) to a PaperRecord."""
    arxiv_id, version = split_arxiv_id(_text(meta, "a:id"))
    title = clean_title(_text(meta, "a:title"))
    if not arxiv_id or not title:
        return None
    authors = []
    for author in meta.findall("a:authors/a:author", NS):
        parts = [
            clean_title(_text(author, "a:forenames")),
            clean_title(_text(author, "a:keyname")),
            clean_title(_text(author, "a:suffix")),
        ]
        name = " ".join(p for p in parts if p)
        if name:
            authors.append(name)
    categories: list[str] = []
    for term in (_text(meta, "a:categories") or "").split():
        if term not in categories:
            categories.append(term)
    published = iso_date(_text(meta, "a:created"))
    url, pdf_url = arxiv_urls(arxiv_id)
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id,
        title=title,
        abstract=clean_text(_text(meta, "a:abstract")),
        authors=authors,
        arxiv_id=arxiv_id,
        arxiv_version=version,  # the arXiv format carries no version; arXivRaw would
        doi=normalize_doi(_text(meta, "a:doi")),
        venue="arXiv",
        year=year_of(published),
        published=published,
        updated=iso_date(_text(meta, "a:updated")),
        categories=categories,
        comment=clean_text(_text(meta, "a:comments")) or None,
        journal_ref=clean_text(_text(meta, "a:journal-ref")) or None,
        license=clean_text(_text(meta, "a:license")) or None,
        url=url,
        pdf_url=pdf_url,
    )


def _page(response: OaiResponse, cursor: str | None, where: str) -> Page:
    notes: dict[str, str] = {}
    if response.deleted:
        notes["deleted"] = str(response.deleted)
    if response.complete_list_size:
        notes["complete_list_size"] = response.complete_list_size
    if response.error_code == "noRecordsMatch":
        notes["empty"] = f"{where}: no records match ({response.error_message})"
    elif not response.records and not response.deleted:
        notes["empty"] = f"{where}: the response holds no records"
    return Page(response.records, cursor, list(response.warnings), notes)


# -- file format ----------------------------------------------------------------------------


def sniff(head: str) -> bool:
    """An OAI-PMH response (root element OAI-PMH) about arXiv."""
    return is_xml(head) and "<OAI-PMH" in head and "arxiv" in head.lower()


def read(path: Path) -> Iterator[Page]:
    """Parse a saved OAI-PMH response as one Page; an error response other than noRecordsMatch
    raises OaiError."""
    yield _page(parse_response(path.read_bytes(), path.name), None, path.name)


# -- live -----------------------------------------------------------------------------------


@dataclass
class OaiCursor:
    """The harvest's query, the set being harvested, and the resumption token within it."""

    sets: list[str]
    from_date: str | None
    until: str | None
    set_index: int = 0
    token: str | None = None
    done: bool = False
    next_from: str | None = None  # first response's date: where the next incremental run starts

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def load(cls, text: str) -> OaiCursor:
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise FormatError(f"arxiv-oai: unreadable cursor {text!r} ({exc})") from None

    def same_query(self, other: OaiCursor) -> bool:
        return (self.sets, self.from_date, self.until) == (other.sets, other.from_date, other.until)


def _iso(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()[:10] if isinstance(value, date) else str(value)[:10]


def fetch(
    *,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    sets: Sequence[str] | None = None,
    set_spec: str | None = None,
    from_date: date | str | None = None,
    until_date: date | str | None = None,
    days: int | None = DEFAULT_DAYS,
    today: date | None = None,
) -> Iterator[Page]:
    """Harvest ``sets`` (or the one ``set_spec``; default: the cursor's, else DEFAULT_SETS) one
    after the other, one Page per OAI-PMH response.

    Dates (datestamps, YYYY-MM-DD): ``from_date``/``until_date`` if given; else, after a finished
    cursor, its ``next_from``; else the last ``days`` days (``days=None`` harvests everything, as
    the docs recommend for a first full copy). An unfinished cursor resumes at its token when no
    query is given or the query is the cursor's.
    """
    polite = client or PoliteClient()
    previous = OaiCursor.load(cursor) if cursor else None
    if set_spec is not None:
        sets = [set_spec]
    explicit = from_date is not None or until_date is not None or sets is not None
    if from_date is None and previous is not None and previous.done and previous.next_from:
        from_date = previous.next_from
    elif from_date is None and days is not None:
        from_date = (today or datetime.now(UTC).date()) - timedelta(days=days)
    if sets is None:
        sets = previous.sets if previous is not None else DEFAULT_SETS
    state = OaiCursor(list(sets), _iso(from_date), _iso(until_date))
    unfinished = previous is not None and not previous.done
    if previous is not None and unfinished and (not explicit or previous.same_query(state)):
        state = previous  # resume the unfinished harvest exactly
    warnings: list[str] = []
    while state.set_index < len(state.sets):
        current_set = state.sets[state.set_index]
        if state.token:
            params = {"verb": "ListRecords", "resumptionToken": state.token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": current_set}
            if state.from_date:
                params["from"] = state.from_date
            if state.until:
                params["until"] = state.until
        response = polite.get(base_url, params=params)
        where = f"{base_url} set {current_set}"
        try:
            parsed = parse_response(response.content, readable_url(response.url or base_url))
        except OaiError as exc:
            if not (state.token and "badResumptionToken" in str(exc)):
                raise
            # Tokens expire daily: start this set again rather than fail the resumed harvest.
            warnings.append(f"{where}: resumption token refused ({exc}); harvesting the set again")
            state.token = None
            continue
        if state.next_from is None and parsed.response_date:
            state.next_from = parsed.response_date[:10]
        if parsed.token:
            state.token = parsed.token
        else:
            state.token = None
            state.set_index += 1
            state.done = state.set_index >= len(state.sets)
        page = _page(parsed, state.dump(), where)
        page.warnings[:0] = warnings
        warnings = []
        yield page
