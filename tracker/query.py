"""Reads papers back: the filters of `dlradar papers`, full-text search, and paper details."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlite_utils

from core.errors import DlradarError, NotFoundError
from core.names import fold_name
from tracker import search, search_index
from tracker.normalize import canonical_categories, normalize_doi, split_arxiv_id


class FamilyEvidence(TypedDict):
    confidence: float
    evidence: list[str]
    tagger: str


class Paper(TypedDict):
    """One stored paper as every reader gets it (`papers --format jsonl` prints a subset)."""

    id: int
    arxiv_id: str | None
    arxiv_version: int | None
    doi: str | None
    openreview_id: str | None
    title: str
    authors: list[str]
    abstract: str | None
    venue: str | None
    year: int | None
    published: str | None
    updated: str | None
    categories: list[str]
    url: str | None
    pdf_url: str | None
    sources: list[str]
    families: list[str]
    family_evidence: dict[str, FamilyEvidence]
    curated: bool
    stage: str | None
    comment: str | None
    journal_ref: str | None
    score: float | None
    first_seen: str  # when dlradar first stored it (ISO timestamp)


class QueryError(DlradarError):
    """A filter that cannot be asked of the store (a value beyond what SQLite can take)."""


MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_AUTHOR_CHARS = 200  # longer patterns make SQLite's LIKE give up ("pattern too complex")


@dataclass(frozen=True)
class PaperFilter:
    """Every filter of `dlradar papers`; empty fields do not filter."""

    families: tuple[str, ...] = ()
    venues: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    since: str | None = None  # ISO date, inclusive, on `published`
    until: str | None = None  # ISO date, inclusive
    categories: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    curated: bool | None = None
    source: str | None = None


# A LIKE whose pattern comes from contains_pattern: the user's % and _ are literal characters.
LIKE_ESCAPED = "LIKE ? COLLATE NOCASE ESCAPE '\\'"


def contains_pattern(text: str) -> str:
    """A LIKE_ESCAPED pattern matching values that contain `text` as typed (any case)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def author_matches(column: str, author: str) -> tuple[str, list[str]]:
    """SQL (and its parameters) true when the name in `column` contains `author`, ignoring case
    and accents: "wubben" finds "Wübben", and "Wübben" finds "Wubben".

    Only names with a non-ASCII character (more bytes than characters) go through fold_name,
    a Python function (core.db.register_functions). That test costs SQLite a third of the
    LIKE scan at a million papers; a GLOB for non-ASCII characters cost four times the scan.
    """
    if len(author) > MAX_AUTHOR_CHARS:
        raise QueryError(
            f"an author name of {len(author):,} characters: at most {MAX_AUTHOR_CHARS}"
        )
    pattern = contains_pattern(fold_name(author))
    sql = (
        f"({column} {LIKE_ESCAPED} OR"
        f" (length(CAST({column} AS BLOB)) > length({column})"
        f" AND fold_name({column}) {LIKE_ESCAPED}))"
    )
    return sql, [pattern, pattern]


def _member(table: str, condition: str, *, per_row: bool) -> str:
    """`p` has a row in `table` meeting `condition`.

    per_row=True probes the table by paper for each candidate (cheap when a bounded search
    scans a few thousand papers); otherwise SQLite builds the matching set once (cheap when
    the filter drives a listing).
    """
    if per_row:
        # Unqualified columns in `condition` name the inner table's (papers has none of them).
        return f"EXISTS (SELECT 1 FROM {table} x WHERE x.paper_id = p.id AND {condition})"
    return f"p.id IN (SELECT paper_id FROM {table} WHERE {condition})"


def _where(f: PaperFilter, *, per_row: bool = False) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.families:
        marks = ",".join("?" * len(f.families))
        clauses.append(_member("paper_families", f"family IN ({marks})", per_row=per_row))
        params.extend(f.families)
    if f.venues:
        clauses.append("(" + " OR ".join("p.venue = ? COLLATE NOCASE" for _ in f.venues) + ")")
        params.extend(f.venues)
    if f.year_from is not None:
        clauses.append("p.year >= ?")
        params.append(f.year_from)
    if f.year_to is not None:
        clauses.append("p.year <= ?")
        params.append(f.year_to)
    if f.since:
        clauses.append("p.published >= ?")
        params.append(f.since)
    if f.until:
        clauses.append("p.published <= ?")
        params.append(f.until)
    if f.categories:
        # arXiv's spelling, so any case typed meets the index on paper_categories(category)
        # (COLLATE NOCASE could not use it, and would scan every paper's categories).
        categories = canonical_categories(f.categories)
        marks = ",".join("?" * len(categories))
        clauses.append(_member("paper_categories", f"category IN ({marks})", per_row=per_row))
        params.extend(categories)
    if f.author:
        condition, values = author_matches("name", f.author)
        clauses.append(_member("paper_authors", condition, per_row=per_row))
        params.extend(values)
    if f.curated is not None:
        clauses.append("p.curated = ?")
        params.append(int(f.curated))
    if f.source:
        clauses.append(_member("paper_sources", "source = ?", per_row=per_row))
        params.append(f.source)
    return clauses, params


def find_papers(
    db: sqlite_utils.Database, f: PaperFilter, *, limit: int = 50, offset: int = 0
) -> list[Paper]:
    """Papers matching `f`, newest first, or by relevance (bm25, see tracker.search) when searching."""
    if f.search:
        return _search(db, f, limit=limit, offset=offset)
    clauses, params = _where(f)
    sql = "SELECT p.*, NULL AS score FROM papers p"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY p.published IS NULL, p.published DESC, p.id DESC"
    if limit:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return _rows(db, sql, params)


def _search(db: sqlite_utils.Database, f: PaperFilter, *, limit: int, offset: int) -> list[Paper]:
    index = search_index.ensure_indexed(db)
    plan = search.plan(index, f.search or "")
    if plan is None:
        return []  # no searchable word (only punctuation, say)
    # Candidates from the index are checked one by one: probe the filter tables per paper.
    clauses, params = _where(f, per_row=True)
    scan, _ = _where(f)
    hits = search.ranked(
        db, index, plan, clauses, params, limit + offset if limit else 0, scan_clauses=scan
    )
    hits = hits[offset:]
    if not hits:
        return []
    scores = dict(hits)
    rows = _rows(
        db,
        "SELECT p.*, NULL AS score FROM papers p WHERE p.id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(scores))],
    )
    for row in rows:
        row["score"] = round(scores[row["id"]], 4)
    rows.sort(key=lambda row: (-(row["score"] or 0.0), row["id"]))
    return rows


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[Paper]:
    cursor = db.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    return _with_lists(db, rows)


def count_papers(db: sqlite_utils.Database, f: PaperFilter) -> int:
    """How many papers match `f` (every match of a search, not only the ranked ones)."""
    if not f.search:
        clauses, params = _where(f)
        sql = "SELECT COUNT(*) FROM papers p" + (
            " WHERE " + " AND ".join(clauses) if clauses else ""
        )
        return int(db.execute(sql, params).fetchone()[0])
    index = search_index.ensure_indexed(db)
    plan = search.plan(index, f.search)
    if plan is None:
        return 0
    clauses, params = _where(f, per_row=True)
    if not clauses:
        return search.count(index, plan.query)
    scan, _ = _where(f)
    return len(search.ranked(db, index, plan, clauses, params, 0, scan_clauses=scan))


def search_note(db: sqlite_utils.Database, text: str | None) -> str | None:
    """A sentence for the reader when words of a search were too common to count."""
    if not text:
        return None
    plan = search.plan(search_index.ensure_indexed(db), text)
    if plan is None:
        return None
    kept = {w for p in plan.phrases for w in p}
    dropped = [w for w in dict.fromkeys(search.tokens(text)) if w not in kept]
    if not dropped:
        return None
    words = ", ".join(repr(w) for w in dropped)
    return (
        f"ignored {words}: in over {search.STOPWORD_SHARE:.0%} of the papers, so they"
        " neither select nor rank"
    )


def get_paper(db: sqlite_utils.Database, paper_id: int | str) -> Paper:
    """One paper by its numeric id or its arXiv id, DOI or OpenReview id."""
    text = str(paper_id).strip()
    params: list[Any]
    if text.isdigit():
        if int(text) > MAX_ID:  # SQLite cannot even bind it: no such paper
            raise NotFoundError(f"no paper {text[:30]}... in the database")
        sql, params = "SELECT *, NULL AS score FROM papers WHERE id = ?", [int(text)]
    else:
        arxiv_id, _ = split_arxiv_id(text)
        sql = (
            "SELECT *, NULL AS score FROM papers WHERE arxiv_id = ? OR doi = ? OR openreview_id = ?"
        )
        params = [arxiv_id or text, normalize_doi(text) or text, text]
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"no paper {text!r} in the database")
    columns = [d[0] for d in cursor.description]
    return _with_lists(db, [dict(zip(columns, row, strict=True))])[0]


def _with_lists(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> list[Paper]:
    """Add authors, categories, sources, families (and their evidence) to each paper row."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    lists: dict[str, dict[int, list[Any]]] = {}
    lists_sql = {
        "authors": ("paper_authors", "name", "position"),
        "categories": ("paper_categories", "category", "position"),
        "sources": ("paper_sources", "source", "first_seen, source"),
        "families": ("paper_families", "family", "family"),
    }
    queries = {
        key: f"SELECT paper_id, {column} FROM {table} WHERE paper_id IN ({marks})"
        f" ORDER BY paper_id, {order}"
        for key, (table, column, order) in lists_sql.items()
    }
    for key, sql in queries.items():
        grouped: dict[int, list[Any]] = {}
        for paper_id, value in db.execute(sql, ids):
            values = grouped.setdefault(paper_id, [])
            if value not in values:
                values.append(value)
        lists[key] = grouped
    evidence: dict[int, dict[str, Any]] = {}
    evidence_sql = (
        "SELECT paper_id, family, confidence, evidence, tagger FROM paper_families"
        f" WHERE paper_id IN ({marks})"
    )
    for paper_id, family, confidence, words, tagger in db.execute(evidence_sql, ids):
        evidence.setdefault(paper_id, {})[family] = {
            "confidence": confidence,
            "evidence": json.loads(words),
            "tagger": tagger,
        }
    out: list[Paper] = []
    for row in rows:
        paper_id = row["id"]
        out.append(
            {
                "id": paper_id,
                "arxiv_id": row["arxiv_id"],
                "arxiv_version": row["arxiv_version"],
                "doi": row["doi"],
                "openreview_id": row["openreview_id"],
                "title": row["title"],
                "authors": lists["authors"].get(paper_id, []),
                "abstract": row["abstract"],
                "venue": row["venue"],
                "year": row["year"],
                "published": row["published"],
                "updated": row["updated"],
                "categories": lists["categories"].get(paper_id, []),
                "url": row["url"],
                "pdf_url": row["pdf_url"],
                "sources": lists["sources"].get(paper_id, []),
                "families": lists["families"].get(paper_id, []),
                "family_evidence": evidence.get(paper_id, {}),
                "curated": bool(row["curated"]),
                "stage": row["stage"],
                "comment": row["comment"],
                "journal_ref": row["journal_ref"],
                "score": row["score"],
                "first_seen": row["first_seen"],
            }
        )
    return out
