"""Accepted NeurIPS and ICML papers from the OpenReview API v2 (2023 onwards).

``GET https://api2.openreview.net/notes?content.venueid=NeurIPS.cc/2023/Conference&limit=L&offset=O``
answers ``{"notes": [...], "count": N}``; each note has ``id``, ``forum``, ``content`` whose fields
are wrapped as ``{"value": ...}`` (title, authors, abstract, venue, venueid, pdf, keywords) and
``cdate``/``pdate``/``mdate`` in milliseconds since the epoch. API v1 notes (plain values in
``content``) are read too. Accepted papers are the notes whose ``content.venueid`` is the venue id;
rejected and withdrawn submissions carry other venue ids.

``read`` parses a saved response; ``fetch`` pages by offset, each Page's cursor
``{venue_id}:{offset}`` saying the first ``offset`` notes are done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ConfigError, FormatError
from tracker.http import PoliteClient, response_text
from tracker.normalize import clean_author, clean_text, clean_title, year_of
from tracker.record import PaperRecord
from tracker.sources.base import Page, resume_position

FORMAT = "openreview"
BASE_URL = "https://api2.openreview.net"
SITE_URL = "https://openreview.net"
PAGE_SIZE = 1000  # the API's maximum `limit`
# A page holds up to 1000 notes, so a venue takes a few requests; one a second is gentle.
MIN_INTERVAL_S = 1.0
# Venue id prefix -> the venue name records carry.
VENUES: dict[str, str] = {"NeurIPS.cc": "NeurIPS", "ICML.cc": "ICML", "ICLR.cc": "ICLR"}
_VENUE_ID = re.compile(r"(?P<group>[^/]+)/(?P<year>\d{4})/")
_SNIFF_OBJECT = re.compile(r'\A\s*\{.*"notes"\s*:\s*\[', re.DOTALL)
_SNIFF_LIST = re.compile(r'\A\s*\[\s*\{(?=.*"forum"\s*:)(?=.*"content"\s*:)', re.DOTALL)


def sniff(head: str) -> bool:
    """A saved API response (an object with a "notes" list) or a bare JSON list of notes."""
    return bool(_SNIFF_OBJECT.match(head) or _SNIFF_LIST.match(head))


def venue_id_for(venue: str, year: int) -> str:
    """'NeurIPS', 2023 -> 'NeurIPS.cc/2023/Conference'."""
    for prefix, name in VENUES.items():
        if name.lower() == venue.lower():
            return f"{prefix}/{year}/Conference"
    raise ConfigError(f"OpenReview venue {venue!r} is not one of {', '.join(VENUES.values())}")


def _value(raw: Any) -> Any:
    """API v2 wraps content fields as {"value": x}; v1 gives x itself."""
    return raw.get("value") if isinstance(raw, dict) else raw


def _iso_from_ms(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        # Beyond any calendar (pdate: 1e300): kept as written, so validate_record drops the
        # date with a warning naming it instead of the note vanishing silently.
        return f"{value!r} ms"


def _venue_and_year(venue_id: str) -> tuple[str | None, int | None]:
    match = _VENUE_ID.match(venue_id)
    if not match:
        return None, None
    group = match.group("group")
    name = VENUES.get(group) or group.removesuffix(".cc")
    return name, int(match.group("year"))


def record_from_note(note: dict[str, Any], default_venue_id: str | None = None) -> PaperRecord:
    """One note as a record; ValueError naming what is missing when it is not a paper."""
    note_id = note.get("id")
    content = note.get("content")
    if not isinstance(note_id, str) or not isinstance(content, dict):
        raise ValueError("a note without an id or content")
    title = clean_title(str(_value(content.get("title")) or ""))
    if not title:
        raise ValueError(f"note {note_id} has no title")
    venue_id = str(_value(content.get("venueid")) or default_venue_id or "")
    venue, year = _venue_and_year(venue_id)
    published = (
        _iso_from_ms(note.get("pdate"))
        or _iso_from_ms(note.get("odate"))
        or _iso_from_ms(note.get("cdate"))
    )
    if year is None and published:
        year = year_of(published)
    authors_raw = _value(content.get("authors"))
    authors = [clean_author(str(a)) for a in authors_raw] if isinstance(authors_raw, list) else []
    forum = note.get("forum") if isinstance(note.get("forum"), str) else note_id
    pdf = _value(content.get("pdf"))
    pdf_url = None
    if isinstance(pdf, str) and pdf:
        pdf_url = pdf if pdf.startswith("http") else f"{SITE_URL}{pdf}"
    venue_label = _value(content.get("venue"))
    return PaperRecord(
        source=FORMAT,
        source_id=note_id,
        title=title,
        abstract=clean_text(str(_value(content.get("abstract")) or "")),
        authors=[a for a in authors if a],
        openreview_id=forum,
        venue=venue,
        year=year,
        published=published,
        updated=_iso_from_ms(note.get("mdate")),
        comment=clean_text(str(venue_label)) if venue_label else None,
        url=f"{SITE_URL}/forum?id={forum}",
        pdf_url=pdf_url,
    )


def parse_response(
    data: Any, origin: str, default_venue_id: str | None = None
) -> tuple[list[PaperRecord], list[str], int | None, int]:
    """Records, warnings, the total ``count`` (if given) and how many notes the response held.

    FormatError (naming ``origin``) if ``data`` is neither {"notes": [...]} nor a list of notes.
    """
    if isinstance(data, dict) and isinstance(data.get("notes"), list):
        notes: list[Any] = data["notes"]
        count = data.get("count")
    elif isinstance(data, list):
        notes, count = data, None
    else:
        found = f"keys {sorted(data)[:5]}" if isinstance(data, dict) else type(data).__name__
        raise FormatError(f'{origin}: no "notes" list ({found}); not an OpenReview API response')
    records: list[PaperRecord] = []
    warnings: list[str] = []
    for index, note in enumerate(notes):
        try:
            if not isinstance(note, dict):
                raise ValueError("not a JSON object")
            records.append(record_from_note(note, default_venue_id))
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            warnings.append(f"{origin}: note {index}: {exc}; skipped")
    return records, warnings, count if isinstance(count, int) else None, len(notes)


def _load_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{origin}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    except (ValueError, RecursionError) as exc:
        # A number of more than 4,300 digits, or arrays nested thousands deep.
        raise FormatError(f"{origin}: unreadable JSON ({str(exc).split(';')[0]})") from None


def read(path: Path) -> Iterator[Page]:
    """Parse a saved API response ({"notes": [...], "count": N}) or a JSON list of notes."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read {path}: {exc}") from exc
    records, warnings, _count, held = parse_response(_load_json(text, str(path)), str(path))
    if held == 0:
        yield Page(records=[], notes={"empty": f"{path.name}: the response holds no notes"})
        return
    for begin in range(0, max(len(records), 1), PAGE_SIZE):
        yield Page(records=records[begin : begin + PAGE_SIZE], warnings=warnings)
        warnings = []


def fetch(
    *,
    venue_id: str | None = None,
    venue: str | None = None,
    year: int | None = None,
    cursor: str | None = None,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
    page_size: int = PAGE_SIZE,
    limit: int | None = None,
) -> Iterator[Page]:
    """Accepted papers of ``venue_id`` (or ``venue`` "NeurIPS"/"ICML" and ``year``), by offset.

    One request per Page of up to ``page_size`` notes (API maximum 1000); ``limit`` caps the
    notes of this run. HTTP failures raise FetchError (from PoliteClient); a response that is
    not the API's JSON raises FormatError naming the URL.
    """
    if venue_id is None:
        if venue is None or year is None:
            raise ConfigError("OpenReview fetch needs a venue id, or a venue and a year")
        venue_id = venue_id_for(venue, year)
    url = f"{base_url.rstrip('/')}/notes"
    warnings: list[str] = []
    offset = resume_position(cursor, venue_id, warnings)
    fetched = 0
    owned = client is None
    http = client or PoliteClient(min_interval=MIN_INTERVAL_S)
    try:
        while limit is None or fetched < limit:
            size = page_size if limit is None else min(page_size, limit - fetched)
            params = {"content.venueid": venue_id, "limit": str(size), "offset": str(offset)}
            response = http.get(url, params=params)
            origin = response.url or url
            data = _load_json(response_text(response), origin)
            records, page_warnings, count, held = parse_response(data, origin, venue_id)
            if held == 0:
                if fetched == 0:
                    reason = (
                        f"OpenReview has no notes with venueid {venue_id} past offset {offset}"
                        if offset
                        else f"OpenReview has no accepted papers with venueid {venue_id}"
                    )
                    yield Page(
                        records=[],
                        cursor=f"{venue_id}:{offset}",
                        warnings=warnings,
                        notes={"empty": reason},
                    )
                return
            offset += held
            fetched += held
            yield Page(
                records=records, cursor=f"{venue_id}:{offset}", warnings=warnings + page_warnings
            )
            warnings = []
            # Without a count, a short page is the last one (the server may cap `limit` lower).
            if offset >= count if count is not None else held < size:
                return
    finally:
        if owned:
            http.close()
