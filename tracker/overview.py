"""Counts and summaries of the stored papers, as the readers (dashboard, feeds) show them.

Only tracker code writes SQL on the paper tables; the readers call these functions and get typed
records back, so a renamed column fails mypy, not a page. Every query is an aggregate that stays
fast at a million papers (the comments say which index or shortcut it relies on).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import TypedDict

import sqlite_utils

from core.db import transaction, utc_now


class PaperTotals(TypedDict):
    total: int
    published_this_week: int
    stored_this_week: int
    latest_published: str | None
    tagged: int
    curated: int
    since: str


class SourceSummary(TypedDict):
    source: str
    papers: int
    last_successful_fetch: str | None
    last_run: str | None
    runs: int
    failed_runs: int


class FamilyCount(TypedDict):
    family: str
    papers: int


class FamilyShare(TypedDict):
    family: str
    papers: int
    share: float


class VenueCount(TypedDict):
    venue: str
    papers: int


class CategoryCount(TypedDict):
    category: str
    papers: int


class VenueYearCount(TypedDict):
    venue: str
    year: int
    papers: int


class FilterOptions(TypedDict):
    families: list[FamilyCount]
    venues: list[VenueCount]
    categories: list[CategoryCount]
    year_min: int | None
    year_max: int | None


class RecentPaper(TypedDict):
    id: int
    title: str
    published: str | None
    families: str | None  # comma separated


def paper_totals(
    db: sqlite_utils.Database, since: date, summary: CorpusSummary | None = None
) -> PaperTotals:
    """Papers in total, published and stored since `since`, tagged, curated (`summary`: the
    corpus summary when the caller has read it already)."""
    day = since.isoformat()
    summary = summary or corpus_summary(db)
    published = db.execute("SELECT COUNT(*) FROM papers WHERE published >= ?", [day]).fetchone()[0]
    latest = db.execute("SELECT MAX(published) FROM papers").fetchone()[0]
    # Curated papers are the catalogue's; its rows are a prefix of paper_sources' key,
    # where papers.curated has no index (a full scan at a million papers).
    curated = db.execute(
        "SELECT COUNT(*) FROM paper_sources WHERE source = 'catalogue'"
    ).fetchone()[0]
    # papers.first_seen is when the paper was first stored, from whichever source: counted per
    # day in the summary (the index range of a fresh million-paper import is every paper).
    stored = sum(n for first, n in summary["stored_per_day"].items() if first >= day)
    return {
        "total": summary["papers"],
        "published_this_week": int(published),
        "stored_this_week": int(stored),
        "latest_published": latest,
        "tagged": summary["tagged"],
        "curated": int(curated),
        "since": day,
    }


def source_summaries(
    db: sqlite_utils.Database, summary: CorpusSummary | None = None
) -> list[SourceSummary]:
    """Per source: papers it holds (from the corpus summary), its last run and its last
    successful fetch."""
    papers = (summary or corpus_summary(db))["source_papers"]
    runs = {
        str(row[0]): row
        for row in db.execute(
            "SELECT source, MAX(CASE WHEN status = 'ok' THEN finished_at END),"
            " MAX(started_at), COUNT(*), SUM(status NOT IN ('ok', 'empty', 'running'))"
            " FROM fetch_runs GROUP BY source"
        ).fetchall()
    }
    out: list[SourceSummary] = []
    for name in sorted(set(papers) | set(runs)):
        run = runs.get(name)
        out.append(
            {
                "source": name,
                "papers": papers.get(name, 0),
                "last_successful_fetch": run[1] if run else None,
                "last_run": run[2] if run else None,
                "runs": int(run[3] or 0) if run else 0,
                "failed_runs": int(run[4] or 0) if run else 0,
            }
        )
    return out


def family_paper_counts(db: sqlite_utils.Database) -> list[FamilyCount]:
    """Tagged papers per family, most first."""
    rows = db.execute(
        "SELECT family, COUNT(*) FROM paper_families GROUP BY family ORDER BY 2 DESC"
    ).fetchall()
    return [{"family": str(f), "papers": int(n)} for f, n in rows]


def tagged_families(db: sqlite_utils.Database) -> list[str]:
    """Every family that at least one stored paper carries."""
    return [str(r[0]) for r in db.execute("SELECT DISTINCT family FROM paper_families")]


def filter_options(
    db: sqlite_utils.Database, summary: CorpusSummary | None = None
) -> FilterOptions:
    """Choices for the paper filters: families, venues and categories by frequency, year range."""
    summary = summary or corpus_summary(db)
    return {
        "families": summary["families"],
        "venues": summary["venues"],
        "categories": summary["categories"],
        "year_min": summary["year_min"],
        "year_max": summary["year_max"],
    }


# --- the corpus summary ----------------------------------------------------------------------


class CorpusSummary(TypedDict):
    """Counts over every stored paper that pages show; computed once per import or tag run."""

    papers: int  # every stored paper
    tagged: int  # papers with at least one family
    families: list[FamilyCount]
    venues: list[VenueCount]
    categories: list[CategoryCount]
    year_min: int | None
    year_max: int | None
    venue_years: list[VenueYearCount]
    source_papers: dict[str, int]  # per source, the papers it holds
    stored_per_day: dict[str, int]  # per day (YYYY-MM-DD), the papers first stored that day


def _stamp(db: sqlite_utils.Database) -> str:
    """What the summary was computed from: the change counter of the corpus tables, which every
    insert, update and delete of a paper, its categories, sources or families bumps (triggers of
    tracker.schema v8)."""
    return str(db.execute("SELECT changes FROM corpus_changes WHERE id = 1").fetchone()[0])


def compute_summary(db: sqlite_utils.Database) -> CorpusSummary:
    """Every figure of the summary, counted from the tables (seconds at a million papers)."""
    venues = db.execute(
        "SELECT venue, COUNT(*) FROM papers WHERE venue IS NOT NULL"
        " GROUP BY venue ORDER BY 2 DESC LIMIT 200"
    ).fetchall()
    categories = db.execute(
        "SELECT category, COUNT(*) FROM paper_categories GROUP BY category"
        " ORDER BY 2 DESC LIMIT 200"
    ).fetchall()
    low, high = db.execute("SELECT MIN(year), MAX(year) FROM papers").fetchone()
    tagged = db.execute("SELECT COUNT(DISTINCT paper_id) FROM paper_families").fetchone()[0]
    return {
        "papers": int(db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]),
        "tagged": int(tagged),
        "families": family_paper_counts(db),
        "venues": [{"venue": str(v), "papers": int(n)} for v, n in venues],
        "categories": [{"category": str(c), "papers": int(n)} for c, n in categories],
        "year_min": low,
        "year_max": high,
        "venue_years": _count_venue_years(db),
        "source_papers": _count_source_papers(db),
        "stored_per_day": {
            str(day): int(n)
            for day, n in db.execute(
                "SELECT substr(first_seen, 1, 10), COUNT(*) FROM papers GROUP BY 1"
            ).fetchall()
        },
    }


def refresh_summary(db: sqlite_utils.Database) -> CorpusSummary:
    """Recount and store the summary (the end of every import, fetch and tagging run)."""
    stamp = _stamp(db)
    summary = compute_summary(db)
    with transaction(db):
        db.execute(
            "INSERT OR REPLACE INTO corpus_summary (key, stamp, value, computed_at)"
            " VALUES ('corpus', ?, ?, ?)",
            [stamp, json.dumps(summary), utc_now()],
        )
    return summary


def refresh_summary_if_free(db: sqlite_utils.Database) -> bool:
    """refresh_summary, or False when the database cannot be written now (locked by a long
    write elsewhere, or read-only): readers then count for themselves until the next run."""
    try:
        refresh_summary(db)
    except sqlite3.OperationalError:
        return False
    return True


def corpus_summary(db: sqlite_utils.Database) -> CorpusSummary:
    """The stored summary when it still describes the database, else counted now (a reader
    never writes: the next import or tag run stores it again)."""
    row = db.execute("SELECT stamp, value FROM corpus_summary WHERE key = 'corpus'").fetchone()
    if row is not None and row[0] == _stamp(db):
        summary: CorpusSummary = json.loads(row[1])
        if set(summary) == set(CorpusSummary.__annotations__):  # else stored by an older version
            return summary
    return compute_summary(db)


def family_shares(
    db: sqlite_utils.Database, summary: CorpusSummary | None = None
) -> list[FamilyShare]:
    """Per family, over the whole database: papers and their share of all papers."""
    summary = summary or corpus_summary(db)
    total = summary["papers"]
    return [
        {
            "family": row["family"],
            "papers": row["papers"],
            "share": row["papers"] / total if total else 0.0,
        }
        for row in summary["families"]
    ]


def venue_year_counts(db: sqlite_utils.Database) -> list[VenueYearCount]:
    """Papers per venue and year (the 12 largest venues; the rest as 'other'), from the corpus
    summary (counting them takes a scan of every paper)."""
    return corpus_summary(db)["venue_years"]


def _count_source_papers(db: sqlite_utils.Database) -> dict[str, int]:
    # Rows per source (one per source id): counting distinct papers instead costs a sort of the
    # whole table, seconds at a million papers, for the same figure.
    rows = db.execute("SELECT source, COUNT(*) FROM paper_sources GROUP BY source").fetchall()
    return {str(source): int(count) for source, count in rows}


def _count_venue_years(db: sqlite_utils.Database) -> list[VenueYearCount]:
    rows = db.execute(
        "WITH v AS (SELECT venue, COUNT(*) AS n FROM papers WHERE venue IS NOT NULL"
        " GROUP BY venue ORDER BY n DESC LIMIT 12)"
        " SELECT COALESCE(v.venue, 'other'), p.year, COUNT(*)"
        " FROM papers p LEFT JOIN v ON v.venue = p.venue WHERE p.year IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 2, 1"
    ).fetchall()
    return [{"venue": str(v), "year": int(y), "papers": int(n)} for v, y, n in rows]


def catalogue_paper_ids(db: sqlite_utils.Database) -> dict[str, int]:
    """Catalogue key -> paper id, for the landmarks this database holds."""
    return {
        str(key): int(paper_id)
        for key, paper_id in db.execute(
            "SELECT source_id, paper_id FROM paper_sources WHERE source = 'catalogue'"
        ).fetchall()
    }


def recent_papers(
    db: sqlite_utils.Database, families: tuple[str, ...], limit: int, window_days: int = 365
) -> list[RecentPaper]:
    """The newest non-curated papers of `families`, published within `window_days` of the
    newest paper stored.

    Walks the papers newest first and probes each one's families, instead of collecting every
    paper of the families first (a third of a million for transformer at 1M papers); the window
    bounds the walk for families with no recent paper."""
    if not families:
        return []
    newest = db.execute("SELECT MAX(published) FROM papers").fetchone()[0]
    if newest is None:
        return []
    since = (datetime.fromisoformat(str(newest)[:10]) - timedelta(days=window_days)).date()
    marks = ",".join("?" * len(families))
    rows = db.execute(
        "SELECT p.id, p.title, p.published,"
        " (SELECT group_concat(family, ', ') FROM paper_families WHERE paper_id = p.id)"
        " FROM papers p WHERE p.published >= ? AND EXISTS (SELECT 1 FROM"
        f" paper_families f WHERE f.paper_id = p.id AND f.family IN ({marks}))"
        " AND p.curated = 0 ORDER BY p.published DESC, p.id DESC LIMIT ?",
        [since.isoformat(), *families, limit],
    ).fetchall()
    return [{"id": int(i), "title": str(t), "published": p, "families": f} for i, t, p, f in rows]
