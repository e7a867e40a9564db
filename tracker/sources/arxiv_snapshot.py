"""The bulk arXiv metadata snapshot (JSON lines, as distributed for offline use): import only.

Fields: id, submitter, authors, title, comments, journal-ref, doi, categories (space separated),
license, abstract, versions [{version, created}], update_date, authors_parsed [[last, first, suffix]].
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracker.normalize import (
    clean_text,
    clean_title,
    iso_date,
    needs_cleaning,
    normalize_doi,
    split_arxiv_id,
    split_authors,
    year_of,
)
from tracker.record import PaperRecord
from tracker.sources.base import Page
from tracker.sources.jsonl_common import first_object, read_lines, text_or_raw

FORMAT = "arxiv-snapshot"


def sniff(head: str) -> bool:
    obj = first_object(head)
    return obj is not None and "id" in obj and ("versions" in obj or "authors_parsed" in obj)


def _author_names(obj: dict[str, Any]) -> Any:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        if not all(
            isinstance(parts, list) and all(type(p) is str for p in parts) for parts in parsed
        ):
            return [_joined(parts) if isinstance(parts, list) else parts for parts in parsed]
        # [last, first, suffix] -> "first last suffix"; entries may be short.
        joined = [
            " ".join([p for p in (*parts[1:2], *parts[:1], *parts[2:3]) if p]) for parts in parsed
        ]
        if not needs_cleaning("\0".join(joined)):  # one scan for the whole list
            return [name for name in map(str.strip, joined) if name]
        return [name for name in map(clean_title, joined) if name]
    authors = obj.get("authors")
    return split_authors(authors) if isinstance(authors, str) else authors or []


def _joined(parts: list[Any]) -> Any:
    """One authors_parsed entry with items of other types than text: the text items in order;
    an entry without any is passed on for validate_record to drop with a warning."""
    texts = [p for p in (*parts[1:2], *parts[:1], *parts[2:3]) if isinstance(p, str) and p]
    return clean_title(" ".join(texts)) if texts else parts


def _version_number(entry: Any) -> int:
    """1 for {"version": "v1"}; an absurd number is returned as read, and validate_record
    drops it with a warning (arxiv_version), keeping the paper."""
    text = str(entry.get("version", "v1") if isinstance(entry, dict) else "v1").lstrip("v")
    return int(text) if text.isdigit() else 1


def convert(obj: dict[str, Any]) -> PaperRecord | None:
    """One snapshot line as a record; None without an id or a title. A value of the wrong type
    in another field is passed on as it is: validate_record drops that field alone."""
    raw_id = obj.get("id")
    arxiv_id, version = split_arxiv_id(raw_id if isinstance(raw_id, str) else None)
    raw_title = obj.get("title")
    title = clean_title(raw_title if isinstance(raw_title, str) else None)
    if not arxiv_id or not title:
        return None
    versions = obj.get("versions")
    versions = versions if isinstance(versions, list) else []
    if versions:
        version = max(_version_number(v) for v in versions)
    first = versions[0] if versions and isinstance(versions[0], dict) else {}
    published = iso_date(first.get("created"))
    categories = obj.get("categories")
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id,
        title=title,
        abstract=text_or_raw(obj.get("abstract"), clean_text) or "",
        authors=_author_names(obj),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=text_or_raw(obj.get("doi"), normalize_doi),
        venue="arXiv",
        year=year_of(published),
        published=published,
        updated=text_or_raw(obj.get("update_date"), iso_date),
        categories=categories.split() if isinstance(categories, str) else categories or [],
        comment=text_or_raw(obj.get("comments"), clean_text),
        journal_ref=text_or_raw(obj.get("journal-ref"), clean_text),
        license=obj.get("license") or None,  # a non-text license is dropped by validate_record
    )


# read(after_line=N) skips the first N lines: an interrupted import resumes (tracker.importer).
RESUMES_AT_LINE = True


def read(path: Path, *, after_line: int = 0) -> Iterator[Page]:
    return read_lines(path, convert, label="arXiv snapshot", after_line=after_line)
