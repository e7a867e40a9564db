"""Stores normalised records as papers: deduplicates, merges, and queues text for the index.

One paper however many sources saw it: a record joins an existing paper when it shares the
source id, the arXiv id, the DOI, the OpenReview id, or the normalised title with the first
author's surname. Merging follows `PaperRecord.rank`: a proceedings venue wins over the arXiv
preprint for title, venue and year; lower-ranked sources only fill what is missing.

`PaperStore.add` works inside the caller's transaction (see tracker.ingest), so a page of
records is stored atomically with its fetch-run bookkeeping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from core.db import utc_now
from tracker import search_index
from tracker.normalize import arxiv_urls, title_key
from tracker.record import PaperRecord
from tracker.schema import NOTE_CORPUS_CHANGE

# Columns of `papers` that a record can set, in insert order.
PAPER_COLUMNS = (
    "id", "arxiv_id", "arxiv_version", "doi", "openreview_id", "title", "title_key", "abstract",
    "venue", "year", "published", "updated", "primary_category", "comment", "journal_ref",
    "license", "url", "pdf_url", "curated", "stage", "rank", "first_seen", "last_seen",
)  # fmt: skip
_IDENTIFIERS = ("arxiv_id", "doi", "openreview_id")
# Fields the higher-ranked source decides; others are filled when missing.
_RANKED = ("title", "venue", "year", "url", "pdf_url", "stage")
_FILLED = ("abstract", "comment", "journal_ref", "license", "primary_category", "updated")
_SQLITE_VARS = 900  # below SQLite's default bound-parameter limit in older builds


@dataclass
class StoreCounts:
    """What one call to `PaperStore.add` did."""

    seen: int = 0
    new: int = 0
    updated: int = 0

    def __iadd__(self, other: StoreCounts) -> StoreCounts:
        self.seen += other.seen
        self.new += other.new
        self.updated += other.updated
        return self


@dataclass
class _Pending:
    row: dict[str, Any]
    authors: list[str]
    categories: list[str]
    is_new: bool
    old_text: tuple[str, str] | None  # (title, abstract) as stored before this change
    authors_changed: bool
    categories_changed: bool
    changed: bool


class PaperStore:
    """Adds records to the papers tables; one instance per transaction."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn

    def add(self, records: Sequence[PaperRecord]) -> StoreCounts:
        """Deduplicate and store `records`; the caller owns the transaction."""
        counts = StoreCounts(seen=len(records))
        if not records:
            return counts
        now = utc_now()
        keys = [title_key(r.title, r.authors) for r in records]
        known = self._lookup(records, keys)
        pending: dict[int, _Pending] = {}
        sources: list[tuple[str, str, int, str, str]] = []
        next_id = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM papers").fetchone()[0])
        for record, key in zip(records, keys, strict=True):
            paper_id = self._match(record, key, known)
            if paper_id is None:
                next_id += 1
                paper_id = next_id
                item = self._new(paper_id, record, key, now, known)
                pending[paper_id] = item
            else:
                item = pending.get(paper_id) or self._load(paper_id)
                pending[paper_id] = item
                self._merge(item, record, now, known)
            row = item.row
            known[("title_key", row["title_key"])] = paper_id
            for column in _IDENTIFIERS:
                if row[column]:
                    known[(column, row[column])] = paper_id
            known[("source", f"{record.source}\0{record.source_id}")] = paper_id
            sources.append((record.source, record.source_id, paper_id, now, now))
        self._write(pending.values(), counts)
        self.conn.executemany(
            "INSERT INTO paper_sources (source, source_id, paper_id, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, source_id)"
            " DO UPDATE SET last_seen = excluded.last_seen, paper_id = excluded.paper_id",
            sources,
        )
        self.conn.execute(NOTE_CORPUS_CHANGE)
        return counts

    # -- lookup ---------------------------------------------------------------------------

    def _lookup(
        self, records: Sequence[PaperRecord], keys: list[str]
    ) -> dict[tuple[str, str], int]:
        """Existing paper ids for every key these records carry, in a few indexed queries."""
        found: dict[tuple[str, str], int] = {}
        wanted: dict[str, set[str]] = {c: set() for c in (*_IDENTIFIERS, "title_key")}
        for record, key in zip(records, keys, strict=True):
            for column in _IDENTIFIERS:
                value = getattr(record, column)
                if value:
                    wanted[column].add(value)
            wanted["title_key"].add(key)
        for column, values in wanted.items():
            for chunk in _chunks(sorted(values)):
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT {column}, id FROM papers WHERE {column} IN ({marks})"
                for value, paper_id in self.conn.execute(sql, chunk):
                    found.setdefault((column, value), paper_id)
        by_source: dict[str, list[str]] = {}
        for record in records:
            by_source.setdefault(record.source, []).append(record.source_id)
        for source, ids in by_source.items():
            for chunk in _chunks(sorted(set(ids))):
                marks = ",".join("?" * len(chunk))
                sql = (
                    "SELECT source_id, paper_id FROM paper_sources"
                    f" WHERE source = ? AND source_id IN ({marks})"
                )
                for source_id, paper_id in self.conn.execute(sql, [source, *chunk]):
                    found[("source", f"{source}\0{source_id}")] = paper_id
        return found

    @staticmethod
    def _match(record: PaperRecord, key: str, known: dict[tuple[str, str], int]) -> int | None:
        paper_id = known.get(("source", f"{record.source}\0{record.source_id}"))
        if paper_id is not None:
            return paper_id
        for column, value in (
            ("arxiv_id", record.arxiv_id),
            ("doi", record.doi),
            ("openreview_id", record.openreview_id),
        ):
            if value and (paper_id := known.get((column, value))) is not None:
                return paper_id
        # A bare title match is only trusted when the title is specific enough.
        if key.index("|") >= 12:
            return known.get(("title_key", key))
        return None

    def _load(self, paper_id: int) -> _Pending:
        cursor = self.conn.execute(
            f"SELECT {', '.join(PAPER_COLUMNS)} FROM papers WHERE id = ?", [paper_id]
        )
        row = dict(zip(PAPER_COLUMNS, cursor.fetchone(), strict=True))
        authors = [
            name
            for (name,) in self.conn.execute(
                "SELECT name FROM paper_authors WHERE paper_id = ? ORDER BY position", [paper_id]
            )
        ]
        categories = [
            category
            for (category,) in self.conn.execute(
                "SELECT category FROM paper_categories WHERE paper_id = ? ORDER BY position",
                [paper_id],
            )
        ]
        return _Pending(
            row, authors, categories, is_new=False, old_text=(row["title"], row["abstract"]),
            authors_changed=False, categories_changed=False, changed=False,
        )  # fmt: skip

    # -- merge ----------------------------------------------------------------------------

    def _new(
        self,
        paper_id: int,
        record: PaperRecord,
        key: str,
        now: str,
        claimed: dict[tuple[str, str], int],
    ) -> _Pending:
        url, pdf_url = record.url, record.pdf_url
        if record.arxiv_id and not url:
            url, default_pdf = arxiv_urls(record.arxiv_id)
            pdf_url = pdf_url or default_pdf
        categories = record.categories
        # Keys in PAPER_COLUMNS order: _write inserts row.values() as they are.
        row: dict[str, Any] = {
            "id": paper_id,
            "arxiv_id": self._claim("arxiv_id", record.arxiv_id, paper_id, claimed),
            "arxiv_version": record.arxiv_version,
            "doi": self._claim("doi", record.doi, paper_id, claimed),
            "openreview_id": self._claim("openreview_id", record.openreview_id, paper_id, claimed),
            "title": record.title,
            "title_key": key,
            "abstract": record.abstract or "",
            "venue": record.venue,
            "year": record.year,
            "published": record.published,
            "updated": record.updated,
            "primary_category": categories[0] if categories else None,
            "comment": record.comment,
            "journal_ref": record.journal_ref,
            "license": record.license,
            "url": url,
            "pdf_url": pdf_url,
            "curated": int(record.curated),
            "stage": record.stage,
            "rank": record.rank,
            "first_seen": now,
            "last_seen": now,
        }
        return _Pending(
            row, list(record.authors), _unique(record.categories), is_new=True, old_text=None,
            authors_changed=True, categories_changed=True, changed=True,
        )  # fmt: skip

    def _claim(
        self, column: str, value: str | None, paper_id: int, claimed: dict[tuple[str, str], int]
    ) -> str | None:
        """Give `value` to this paper unless another paper already holds it (then keep none)."""
        if value is None or value == "":
            return None
        owner = claimed.get((column, value))
        if owner is None:
            # `claimed` already holds every stored owner of this batch's identifiers (_lookup).
            owner = claimed[(column, value)] = paper_id
        return value if owner == paper_id else None

    def _merge(
        self, item: _Pending, record: PaperRecord, now: str, claimed: dict[tuple[str, str], int]
    ) -> None:
        row = item.row
        before = dict(row)
        wins = record.rank >= row["rank"]
        incoming: dict[str, Any] = {
            "title": record.title,
            "venue": record.venue,
            "year": record.year,
            "url": record.url,
            "pdf_url": record.pdf_url,
            "stage": record.stage,
            "abstract": record.abstract,
            "comment": record.comment,
            "journal_ref": record.journal_ref,
            "license": record.license,
            "primary_category": record.categories[0] if record.categories else None,
            "updated": record.updated,
        }
        for column in _RANKED:
            value = incoming[column]
            if value not in (None, "") and (wins or row[column] in (None, "")):
                row[column] = value
        for column in _FILLED:
            value = incoming[column]
            if value not in (None, "") and (
                row[column] in (None, "") or (wins and column != "primary_category")
            ):
                row[column] = value
        for column in _IDENTIFIERS:
            if not row[column]:
                row[column] = self._claim(column, getattr(record, column), row["id"], claimed)
        if record.arxiv_version and (row["arxiv_version"] or 0) < record.arxiv_version:
            row["arxiv_version"] = record.arxiv_version
        if record.published and (not row["published"] or record.published < row["published"]):
            # The earliest date a paper appeared anywhere; the venue's year is kept in `year`.
            row["published"] = record.published
        if record.curated:
            row["curated"] = 1
        row["rank"] = max(row["rank"], record.rank)
        if row["arxiv_id"] and not row["url"]:
            row["url"], row["pdf_url"] = arxiv_urls(row["arxiv_id"])
        row["title_key"] = title_key(
            row["title"], record.authors if wins and record.authors else item.authors
        )
        if record.authors and (wins or not item.authors) and record.authors != item.authors:
            item.authors = list(record.authors)
            item.authors_changed = True
        merged = _unique([*item.categories, *record.categories])
        if merged != item.categories:
            item.categories = merged
            item.categories_changed = True
        if row != before or item.authors_changed or item.categories_changed:
            item.changed = True
        row["last_seen"] = now

    # -- write ----------------------------------------------------------------------------

    def _write(self, items: Iterable[_Pending], counts: StoreCounts) -> None:
        inserts: list[_Pending] = []
        updates: list[_Pending] = []
        touched: list[tuple[str, int]] = []
        for item in items:
            if item.is_new:
                inserts.append(item)
            elif item.changed:
                updates.append(item)
            else:
                touched.append((item.row["last_seen"], item.row["id"]))
        counts.new += len(inserts)
        counts.updated += len(updates)
        conn = self.conn
        marks = ", ".join("?" * len(PAPER_COLUMNS))
        conn.executemany(
            f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}) VALUES ({marks})",
            [tuple(i.row.values()) for i in inserts],
        )
        assignments = ", ".join(f"{c} = ?" for c in PAPER_COLUMNS[1:])
        conn.executemany(
            f"UPDATE papers SET {assignments} WHERE id = ?",
            [[i.row[c] for c in PAPER_COLUMNS[1:]] + [i.row["id"]] for i in updates],
        )
        conn.executemany("UPDATE papers SET last_seen = ? WHERE id = ?", touched)
        # New text goes to the search index through its queue (tracker.search_index).
        search_index.queue(
            self.db,
            [i.row["id"] for i in inserts]
            + [i.row["id"] for i in updates if i.old_text != (i.row["title"], i.row["abstract"])],
        )
        for item in (*inserts, *updates):
            item.old_text = (item.row["title"], item.row["abstract"])
        relisted_authors = [i for i in updates if i.authors_changed]
        relisted_categories = [i for i in updates if i.categories_changed]
        conn.executemany(
            "DELETE FROM paper_authors WHERE paper_id = ?",
            [(i.row["id"],) for i in relisted_authors],
        )
        conn.executemany(
            "DELETE FROM paper_categories WHERE paper_id = ?",
            [(i.row["id"],) for i in relisted_categories],
        )
        conn.executemany(
            "INSERT INTO paper_authors (paper_id, position, name) VALUES (?, ?, ?)",
            [
                (i.row["id"], position, name)
                for i in (*inserts, *relisted_authors)
                for position, name in enumerate(i.authors)
            ],
        )
        conn.executemany(
            "INSERT INTO paper_categories (paper_id, position, category) VALUES (?, ?, ?)",
            [
                (i.row["id"], position, category)
                for i in (*inserts, *relisted_categories)
                for position, category in enumerate(i.categories)
            ],
        )

    def set_curated_families(self, paper_id: int, families: Sequence[str]) -> None:
        """Replace a curated paper's families with the catalogue's (they outrank the tagger)."""
        self.conn.execute("DELETE FROM paper_families WHERE paper_id = ?", [paper_id])
        self.conn.executemany(
            "INSERT INTO paper_families (paper_id, family, confidence, evidence, tagger)"
            " VALUES (?, ?, 1.0, ?, 'curated')",
            [(paper_id, family, json.dumps(["landmark catalogue"])) for family in families],
        )
        self.conn.execute(NOTE_CORPUS_CHANGE)


def _unique(values: list[str]) -> list[str]:
    unique = list(dict.fromkeys(values))
    return [v for v in unique if v] if "" in unique else unique


def _chunks(values: list[str], size: int = _SQLITE_VARS) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
