"""Generic JSON lines of papers as other tools export them: import only.

Each line: `id`, `title`, `abstract` or `summary`, `authors` (list or "A, B and C"),
`categories` (list or space separated), and optionally dates (`published`, `date`, `updated`),
links (`abs`/`url`, `pdf`/`pdf_url`), `comment`, `doi`, `venue`, `year`. Daily arXiv listings
(e.g. ../shared/data/real/arxiv_daily_jsonl) carry no dates: when a file's name holds one
(YYYY-MM-DD), it is the listing's announcement date and dates the papers that lack their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tracker.normalize import (
    canonical_category,
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
from tracker.sources.jsonl_common import first_object, read_lines, text_or_raw

FORMAT = "jsonl"
_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def sniff(head: str) -> bool:
    obj = first_object(head)
    return obj is not None and "title" in obj and ("abstract" in obj or "summary" in obj)


def _names(value: Any) -> Any:
    if isinstance(value, list):
        return [clean_author(v) if isinstance(v, str) else _name_of(v) for v in value if v != ""]
    if isinstance(value, str):
        return split_authors(value)
    return [] if value is None else value  # validate_record warns about the field


def _name_of(person: Any) -> Any:
    """{"name": "A. One"} as its name; any other item as it is, for validate_record."""
    if isinstance(person, dict) and isinstance(person.get("name"), str):
        return clean_author(person["name"])
    return person


def _categories(value: Any) -> Any:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list):
        return [] if value is None else value
    # Other tools' spelling ('CS.lg') is arXiv's in the store, where --category looks.
    return [canonical_category(c) if isinstance(c, str) else c for c in value]


def _required_text(obj: dict[str, Any], *names: str) -> str:
    """The first of `names` that `obj` holds, as text; ValueError naming the field if it is
    of another type (a number id is read as its digits)."""
    for name in names:
        value = obj.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ValueError(f"field {name}: expected text, got {type(value).__name__}")
        return value
    return ""


def convert(obj: dict[str, Any], *, listing_date: str | None = None) -> PaperRecord | None:
    """One line's object as a record; None without an id or a title. A value of the wrong type
    in another field is passed on as it is: validate_record drops that field alone."""
    title = clean_title(_required_text(obj, "title"))
    raw_id = _required_text(obj, "id", "arxiv_id").strip()
    if not title or not raw_id:
        return None
    arxiv_id, version = split_arxiv_id(raw_id)
    published = iso_date(obj.get("published") or obj.get("date")) or listing_date
    url = obj.get("abs") or obj.get("url")
    pdf_url = obj.get("pdf") or obj.get("pdf_url")
    return PaperRecord(
        source=FORMAT,
        source_id=arxiv_id or raw_id,
        title=title,
        abstract=text_or_raw(obj.get("abstract") or obj.get("summary"), clean_text) or "",
        authors=_names(obj.get("authors")),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=text_or_raw(obj.get("doi"), normalize_doi),
        venue=obj.get("venue") or ("arXiv" if arxiv_id else None),
        year=obj.get("year") or year_of(published),
        published=published,
        updated=text_or_raw(obj.get("updated"), iso_date),
        categories=_categories(obj.get("categories")),
        comment=text_or_raw(obj.get("comment") or obj.get("comments"), clean_text),
        url=url or None,
        pdf_url=pdf_url or None,
    )


# read(after_line=N) skips the first N lines: an interrupted import resumes (tracker.importer).
RESUMES_AT_LINE = True


def read(path: Path, *, after_line: int = 0) -> Iterator[Page]:
    match = _FILE_DATE.search(path.name)
    return read_lines(
        path,
        partial(convert, listing_date=match.group(1) if match else None),
        label="JSON-lines",
        after_line=after_line,
    )
