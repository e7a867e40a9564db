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
from tracker.sources.jsonl_common import first_object, read_lines

FORMAT = "arxiv-snapshot"


def sniff(head: str) -> bool:
    obj = first_object(head)
    return obj is not None and "id" in obj and ("versions" in obj or "authors_parsed" in obj)


def _author_names(obj: dict[str, Any]) -> list[str]:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        # [last, first, suffix] -> "first last suffix"; entries may be short.
        joined = [
            " ".join([p for p in (*parts[1:2], *parts[:1], *parts[2:3]) if p]) for parts in parsed
        ]
        if not needs_cleaning("\0".join(joined)):  # one scan for the whole list
            return [name for name in map(str.strip, joined) if name]
        return [name for name in map(clean_title, joined) if name]
    return split_authors(str(obj.get("authors") or ""))


def _version_number(entry: Any) -> int:
    """1 for {"version": "v1"}; an absurd number is returned as read, and validate_record
    drops it with a warning (arXiv_version), keeping the paper."""
    text = str(entry.get("version", "v1") if isinstance(entry, dict) else "v1").lstrip("v")
    return int(text) if text.isdigit() else 1


def convert(obj: dict[str, Any]) -> PaperRecord | None:
    arxiv_id, version = split_arxiv_id(str(obj.get("id") or ""))
    title = clean_title(obj.get("title"))
    if not arxiv_id or not title:
        return None
    versions = obj.get("versions") or []
    if versions:
        version = max(_version_number(v) for v in versions)
    published = iso_date(versions[0].get("created")) if versions else None
    categories = str(obj.get("categories") or "").split()
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id,
        title=title,
        abstract=clean_text(obj.get("abstract")),
        authors=_author_names(obj),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=normalize_doi(obj.get("doi")),
        venue="arXiv",
        year=year_of(published),
        published=published,
        updated=iso_date(obj.get("update_date")),
        categories=categories,
        comment=clean_text(obj.get("comments")) or None,
        journal_ref=clean_text(obj.get("journal-ref")) or None,
        license=obj.get("license") or None,  # a non-text license is dropped by validate_record
    )


def read(path: Path) -> Iterator[Page]:
    return read_lines(path, convert, label="arXiv snapshot")
