"""Generic JSON lines of papers as other tools export them: import only.

Each line: `id`, `title`, `abstract` or `summary`, `authors` (list or "A, B and C"),
`categories` (list or space separated), and optionally dates (`published`, `date`, `updated`),
links (`abs`/`url`, `pdf`/`pdf_url`), `comment`, `doi`, `venue`, `year`. Daily arXiv listings
(e.g. ../shared/data/real/arxiv_daily_jsonl) carry no dates: when a file's name holds one
(YYYY-MM-DD), it is the listing's announcement date and dates the papers that lack their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tracker.normalize import (
    canonical_categories,
    clean_author,
    clean_text,
    clean_title,
    iso_date,
    normalize_doi,
    split_arxiv_id,
    split_authors,
    year_of,
)
from tracker.record import PaperRecord
from tracker.sources.base import Page
from tracker.sources.jsonl_common import first_object, read_lines

FORMAT = "jsonl"
_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def sniff(head: str) -> bool:
    obj = first_object(head)
    return obj is not None and "title" in obj and ("abstract" in obj or "summary" in obj)


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [
            clean_author(str(v.get("name", "")) if isinstance(v, dict) else str(v)) for v in value
        ]
    return split_authors(str(value or ""))


def _or_raw(value: Any, clean: Callable[[str], str | None]) -> Any:
    """`clean(value)` for text; any other value as it is, for validate_record to judge (and
    warn about by its field's name) instead of failing the whole line here."""
    if isinstance(value, str):
        return clean(value) or None
    return value


def convert(obj: dict[str, Any], *, listing_date: str | None = None) -> PaperRecord | None:
    title = clean_title(obj.get("title"))
    raw_id = str(obj.get("id") or obj.get("arxiv_id") or "").strip()
    if not title or not raw_id:
        return None
    arxiv_id, version = split_arxiv_id(raw_id)
    categories = obj.get("categories") or []
    if isinstance(categories, str):
        categories = categories.split()
    published = iso_date(obj.get("published") or obj.get("date")) or listing_date
    year = obj.get("year")
    url = obj.get("abs") or obj.get("url")
    pdf_url = obj.get("pdf") or obj.get("pdf_url")
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id or raw_id,
        title=title,
        abstract=clean_text(obj.get("abstract") or obj.get("summary")),
        authors=[n for n in _names(obj.get("authors")) if n],
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=_or_raw(obj.get("doi"), normalize_doi),
        venue=obj.get("venue") or ("arXiv" if arxiv_id else None),
        year=year or year_of(published),  # any value: validate_record checks it
        published=published,
        updated=_or_raw(obj.get("updated"), iso_date),
        # Other tools' spelling ('CS.lg') is arXiv's in the store, where --category looks.
        categories=canonical_categories(str(c) for c in categories),
        comment=_or_raw(obj.get("comment") or obj.get("comments"), clean_text),
        url=str(url) if url else None,
        pdf_url=str(pdf_url) if pdf_url else None,
    )


def read(path: Path) -> Iterator[Page]:
    match = _FILE_DATE.search(path.name)
    return read_lines(
        path, partial(convert, listing_date=match.group(1) if match else None), label="JSON-lines"
    )
