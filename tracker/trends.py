"""Family trends: papers per family per month, quarter or year, by venue or arXiv category.

Library functions for `dlradar trends`, the dashboard and the weekly digest. They read the trend
cube (tracker.schema_discovery), which is brought up to date first from the buckets that changed
since the last call, so answers are always those of the live tables.

Dates are `papers.published` (ISO date); a paper without one counts under its `year`, for
period="year" only. A paper with several families counts once for each, so shares of different
families can add up to more than 1; `total` counts every paper of the period, tagged or not.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlite_utils

from core.db import transaction
from core.errors import DlradarError
from tracker.normalize import canonical_categories
from tracker.schema_discovery import FULL_REBUILD, bucket_sql

PERIODS = ("month", "quarter", "year")
GROUPINGS = ("venue", "category")
# Above this many changed buckets one pass over every paper beats one pass per bucket.
INCREMENTAL_LIMIT = 24

# (bucket, group, family, papers): family '' is the count of every paper of the bucket and group.
_Cell = tuple[str, str | None, str, int]


# -- keeping the cube current ------------------------------------------------------------------


def refresh(db: sqlite_utils.Database) -> int:
    """Recompute the cube's changed buckets; returns how many were recomputed (-1: all).

    Changed buckets are those the triggers marked plus those of the papers added since the
    last refresh (ids above the watermark, see tracker.schema_discovery).
    """
    if not _stale(db):
        return 0
    with transaction(db):
        watermark, max_id = _ids(db)
        dirty = {b for (b,) in db.execute("SELECT bucket FROM trend_dirty")}
        if max_id - watermark > NEW_PAPERS_LIMIT:
            dirty.add(FULL_REBUILD)
        elif max_id > watermark:
            dirty.update(
                b
                for (b,) in db.execute(
                    f"SELECT DISTINCT {bucket_sql('p')} FROM papers p WHERE p.id > ?",
                    [watermark],
                )
                if b is not None
            )
        full = FULL_REBUILD in dirty or len(dirty) > INCREMENTAL_LIMIT
        if full:
            db.execute("DELETE FROM trend_cells")
            db.conn.executemany(
                "INSERT INTO trend_cells (bucket, venue, category, family, n) VALUES (?, ?, ?, ?, ?)",
                _all_cells(db),
            )
        elif dirty:
            buckets = sorted(dirty)
            marks = ",".join("?" * len(buckets))
            db.execute(f"DELETE FROM trend_cells WHERE bucket IN ({marks})", buckets)
            papers_sql, params = _papers_in_buckets(buckets)
            db.execute(_aggregate_sql(papers_sql), params)
        db.execute("DELETE FROM trend_dirty")
        db.execute("UPDATE trend_state SET value = ? WHERE key = 'watermark'", [max_id])
    return -1 if full else len(dirty)


# Above this many new papers, reading their buckets costs more than rebuilding outright.
NEW_PAPERS_LIMIT = 100_000


def _ids(db: sqlite_utils.Database) -> tuple[int, int]:
    """(watermark, highest paper id)."""
    watermark = db.execute("SELECT value FROM trend_state WHERE key = 'watermark'").fetchone()[0]
    max_id = db.execute("SELECT COALESCE(max(id), 0) FROM papers").fetchone()[0]
    return int(watermark), int(max_id)


def _stale(db: sqlite_utils.Database) -> bool:
    if db.execute("SELECT 1 FROM trend_dirty LIMIT 1").fetchone() is not None:
        return True
    watermark, max_id = _ids(db)
    return max_id != watermark


LOCK_WAIT_MS = 2000


def refresh_if_free(db: sqlite_utils.Database) -> bool:
    """Refresh the cube; False when it cannot be written now (a long write elsewhere holds the
    lock, or the database is read-only): a reader then counts from the papers instead."""
    conn = db.conn
    if conn.in_transaction:
        # Inside the caller's transaction: its own uncommitted changes are visible to it.
        refresh(db)
        return True
    wait = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
    try:
        refresh(db)
        return True
    except sqlite3.OperationalError as exc:
        if not any(word in str(exc) for word in ("locked", "busy", "readonly")):
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(wait)}")


def _codes(values: Iterable[str], table: dict[str, int]) -> npt.NDArray[np.int64]:
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64)


def _all_cells(db: sqlite_utils.Database) -> list[tuple[str, str, str, str, int]]:
    """Every cell of the cube, counted in numpy from three plain scans.

    SQLite would sort millions of joined rows by text keys for the GROUP BYs (about 20 s at a
    million papers); integer codes and bincount take a few seconds, most of it reading rows.
    """
    papers = db.execute(
        f"SELECT id, {bucket_sql('p')}, COALESCE(venue, '') FROM papers p ORDER BY id"
    ).fetchall()
    papers = [r for r in papers if r[1] is not None]
    if not papers:
        return []
    ids = np.fromiter((r[0] for r in papers), dtype=np.int64, count=len(papers))
    group_table: dict[str, int] = {}
    group = _codes((f"{r[1]}\0{r[2]}" for r in papers), group_table)
    del papers

    def rows_of(sql: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[str]]:
        """(paper positions, value codes, values) of the (paper_id, value) rows of known papers."""
        rows = db.execute(sql).fetchall()
        paper_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        table: dict[str, int] = {}
        codes = _codes((r[1] for r in rows), table)
        pos = np.minimum(np.searchsorted(ids, paper_ids), len(ids) - 1)
        known = ids[pos] == paper_ids  # orphans and papers without a bucket drop out
        return pos[known], codes[known], list(table)

    fam_pos, fam_code, families = rows_of(
        "SELECT paper_id, family FROM paper_families ORDER BY paper_id"
    )
    cat_pos, cat_code, categories = rows_of(
        "SELECT paper_id, category FROM paper_categories ORDER BY paper_id"
    )
    n_groups, n_fam, n_cat = len(group_table), max(len(families), 1), max(len(categories), 1)
    # Category x family pairs of each paper: every family row repeated once per category of
    # its paper (categories are sorted by paper, so each paper's are one contiguous run).
    per_paper = np.bincount(cat_pos, minlength=len(ids))
    first = np.concatenate(([0], np.cumsum(per_paper)[:-1]))
    repeats = per_paper[fam_pos]
    pair_fam = np.repeat(fam_code, repeats)
    pair_pos = np.repeat(fam_pos, repeats)
    offsets = np.arange(len(pair_pos)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    pair_cat = cat_code[np.repeat(first[fam_pos], repeats) + offsets]

    names = [key.split("\0", 1) for key in group_table]
    cells: list[tuple[str, str, str, str, int]] = []

    def emit(
        counts: npt.NDArray[np.int64], width: int, value: Callable[[int], tuple[str, str]]
    ) -> None:
        for index in np.flatnonzero(counts):
            g, k = divmod(int(index), width)
            category, family = value(k)
            cells.append((names[g][0], names[g][1], category, family, int(counts[index])))

    emit(np.bincount(group, minlength=n_groups), 1, lambda k: ("", ""))
    emit(np.bincount(group[fam_pos] * n_fam + fam_code), n_fam, lambda k: ("", families[k]))
    emit(np.bincount(group[cat_pos] * n_cat + cat_code), n_cat, lambda k: (categories[k], ""))
    emit(
        np.bincount((group[pair_pos] * n_cat + pair_cat) * n_fam + pair_fam),
        n_cat * n_fam,
        lambda k: (categories[k // n_fam], families[k % n_fam]),
    )
    return cells


def _papers_in_buckets(buckets: list[str]) -> tuple[str, list[Any]]:
    """SQL for (id, bucket, venue) of the papers in `buckets`, each found by an index range."""
    parts: list[str] = []
    params: list[Any] = []
    select = f"SELECT p.id, {bucket_sql('p')} AS bucket, p.venue FROM papers p"
    for bucket in buckets:
        if len(bucket) == 7:
            parts.append(f"{select} WHERE p.published >= ? AND p.published < ?")
            params += [bucket, bucket + "~"]
        else:  # a year bucket: papers without a date, or with a date too short to have a month
            parts.append(f"{select} WHERE p.published = ?")
            params.append(bucket)
            if bucket.isdigit():
                parts.append(f"{select} WHERE p.published IS NULL AND p.year = ?")
                params.append(int(bucket))
    marks = ",".join("?" * len(buckets))
    sql = f"SELECT * FROM ({' UNION ALL '.join(parts)}) WHERE bucket IN ({marks})"
    return sql, [*params, *buckets]


def _aggregate_sql(papers_sql: str) -> str:
    # Materialised once, then joined to families and categories through their primary keys.
    return f"""
        WITH p AS MATERIALIZED (
            SELECT id, bucket, COALESCE(venue, '') AS venue FROM ({papers_sql})
            WHERE bucket IS NOT NULL
        )
        INSERT INTO trend_cells (bucket, venue, category, family, n)
        SELECT bucket, venue, '', '', count(*) FROM p GROUP BY bucket, venue
        UNION ALL
        SELECT p.bucket, p.venue, '', f.family, count(*)
        FROM p JOIN paper_families f ON f.paper_id = p.id GROUP BY p.bucket, p.venue, f.family
        UNION ALL
        SELECT p.bucket, p.venue, c.category, '', count(*)
        FROM p JOIN paper_categories c ON c.paper_id = p.id
        GROUP BY p.bucket, p.venue, c.category
        UNION ALL
        SELECT p.bucket, p.venue, c.category, f.family, count(*)
        FROM p JOIN paper_categories c ON c.paper_id = p.id
        JOIN paper_families f ON f.paper_id = p.id
        GROUP BY p.bucket, p.venue, c.category, f.family
    """


# -- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    """An inclusive range of ISO dates; None ends are open."""

    since: str | None = None
    until: str | None = None

    def covers(self, first: str, last: str) -> bool:
        return (self.since is None or self.since <= first) and (
            self.until is None or self.until >= last
        )

    def overlaps(self, first: str, last: str) -> bool:
        return (self.since is None or self.since <= last) and (
            self.until is None or self.until >= first
        )


@dataclass(frozen=True)
class _Ask:
    """The filters and grouping of one trends question."""

    by: str | None
    dates: _Range
    families: Sequence[str] = ()
    venues: Sequence[str] = ()
    categories: Sequence[str] = ()


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise DlradarError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")


def _check_by(by: str | None) -> None:
    if by is not None and by not in GROUPINGS:
        raise DlradarError(f"unknown grouping {by!r}; choose one of {', '.join(GROUPINGS)}")


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _date_bound(text: str | date | None, *, end: bool) -> str | None:
    """An ISO date from YYYY, YYYY-MM or YYYY-MM-DD: the first day, or the last when `end`."""
    if text is None or text == "":
        return None
    if isinstance(text, date):
        return text.isoformat()
    match = _DATE.match(text.strip())
    if not match:
        raise DlradarError(f"invalid date {text!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(match[1]), match[2], match[3]
    m = int(month) if month else (12 if end else 1)
    if not 1 <= m <= 12:
        raise DlradarError(f"invalid date {text!r}: no month {m}")
    last = calendar.monthrange(year, m)[1]
    d = int(day) if day else (last if end else 1)
    if not 1 <= d <= last:
        raise DlradarError(f"invalid date {text!r}: no day {d} in {year}-{m:02d}")
    return f"{year:04d}-{m:02d}-{d:02d}"


def check_date(text: str | None) -> None:
    """Raise DlradarError unless `text` is empty or YYYY, YYYY-MM or YYYY-MM-DD."""
    _date_bound(text, end=False)


def is_reversed(since: str | None, until: str | None) -> bool:
    """Whether `since` starts after `until` ends ("2025-03" to "2025-03" is one month, not
    reversed); such a range selects nothing, which would pass for a quiet period."""
    first, last = _date_bound(since, end=False), _date_bound(until, end=True)
    return first is not None and last is not None and first > last


def _bucket_dates(bucket: str) -> tuple[str, str] | None:
    """First and last ISO date of a bucket ('YYYY-MM' or 'YYYY'); None when it is malformed."""
    try:
        if len(bucket) == 7:
            year, month = int(bucket[:4]), int(bucket[5:7])
            return f"{bucket}-01", f"{bucket}-{calendar.monthrange(year, month)[1]:02d}"
        if len(bucket) == 4:
            return f"{bucket}-01-01", f"{bucket}-12-31"
    except ValueError:
        pass
    return None


def period_of(bucket: str, period: str) -> str | None:
    """The period label of a bucket: '2025-05', '2025-Q2' or '2025' (None: not in that period)."""
    if period == "year":
        return bucket[:4] if bucket[:4].isdigit() else None
    if len(bucket) != 7 or not bucket[5:7].isdigit():
        return None  # a year-only bucket has no month or quarter
    if period == "month":
        return bucket
    return f"{bucket[:4]}-Q{(int(bucket[5:7]) + 2) // 3}"


def period_bounds(label: str) -> tuple[date, date]:
    """First and last day of a period label ('2025-05', '2025-Q2', '2025')."""
    year = int(label[:4])
    if len(label) == 4:
        return date(year, 1, 1), date(year, 12, 31)
    if label[5] == "Q":
        first_month = 3 * (int(label[6]) - 1) + 1
        last_month = first_month + 2
    else:
        first_month = last_month = int(label[5:7])
    return date(year, first_month, 1), date(
        year, last_month, calendar.monthrange(year, last_month)[1]
    )


def shift_period(label: str, steps: int) -> str:
    """The period `steps` periods after (negative: before) `label`, of the same kind."""
    year = int(label[:4])
    if len(label) == 4:
        return f"{year + steps:04d}"
    if label[5] == "Q":
        index = year * 4 + int(label[6]) - 1 + steps
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    index = year * 12 + int(label[5:7]) - 1 + steps
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_containing(day: date, period: str) -> str:
    if period == "year":
        return f"{day.year:04d}"
    if period == "quarter":
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    return f"{day.year:04d}-{day.month:02d}"


# -- reading cells ---------------------------------------------------------------------------


def _cells(db: sqlite_utils.Database, ask: _Ask) -> list[_Cell]:
    """Counts per bucket, group and family ('' = all papers) for the filters, from the cube
    where it answers exactly and from the papers themselves where it cannot."""
    if not refresh_if_free(db):
        return _direct_cells(db, ask, dateless=True)
    by, dates, families, venues, categories = (
        ask.by, ask.dates, ask.families, ask.venues, ask.categories,
    )  # fmt: skip
    clauses: list[str] = []
    params: list[Any] = []
    # The cube counts a paper once per category, so a paper in several of the asked categories
    # is summed once for each; without `by=category` the surplus is taken off below.
    overlap = by != "category" and len(categories) > 1
    if by == "category" or overlap:
        if categories:
            clauses.append(f"category IN ({','.join('?' * len(categories))})")
            params += list(categories)
        else:
            clauses.append("category != ''")
    else:
        clauses.append("category = ?")
        params.append(categories[0] if categories else "")
    if families:
        clauses.append(f"family IN ('', {','.join('?' * len(families))})")
        params += list(families)
    if venues:
        clauses.append("(" + " OR ".join("venue = ? COLLATE NOCASE" for _ in venues) + ")")
        params += list(venues)
    if dates.since:
        clauses.append("bucket >= ?")
        params.append(dates.since[:4])
    if dates.until:
        clauses.append("bucket <= ?")
        params.append(dates.until[:7])
    group = {"venue": "venue", "category": "category"}.get(by or "", "NULL")
    sql = (
        f"SELECT bucket, {group}, family, SUM(n) FROM trend_cells WHERE {' AND '.join(clauses)}"
        f" GROUP BY bucket, {group}, family"
    )
    cells: list[_Cell] = []
    partial: set[str] = set()
    covered: set[str] = set()
    for bucket, grp, family, n in db.execute(sql, params):
        span = _bucket_dates(bucket)
        if span is None or not dates.overlaps(*span):
            continue
        if dates.covers(*span):
            cells.append((bucket, grp if grp != "" else None, family, int(n)))
            covered.add(bucket)
        elif len(bucket) == 7:
            partial.add(bucket)
        # A year bucket only partly in range holds papers of unknown date: left out.
    if overlap:
        cells += [cell for cell in _overlap_surplus(db, ask) if cell[0] in covered]
    for bucket in sorted(partial):
        first, last = _bucket_dates(bucket) or (bucket, bucket)
        edge = _Range(max(first, dates.since or first), min(last, dates.until or last))
        cells += _direct_cells(db, replace(ask, dates=edge), dateless=False)
    return cells


def _direct_cells(db: sqlite_utils.Database, ask: _Ask, *, dateless: bool) -> list[_Cell]:
    """The same cells computed from the papers (for ranges and filters the cube cannot answer)."""
    by, categories = ask.by, ask.categories
    where, params = _paper_conditions(ask.dates, ask.venues, dateless=dateless)
    category_join = ""
    group = _group_sql(by)
    if by == "category":
        category_join = " JOIN paper_categories c ON c.paper_id = p.id"
        if categories:
            category_join += f" AND c.category IN ({','.join('?' * len(categories))})"
    if categories and by != "category":
        where.append(
            "p.id IN (SELECT paper_id FROM paper_categories"
            f" WHERE category IN ({','.join('?' * len(categories))}))"
        )
    # Parameters in textual order: WHERE of the CTE, then the category join of each select.
    cte_params = list(params) + (list(categories) if categories and by != "category" else [])
    join_params = list(categories) if categories and by == "category" else []
    family_filter, family_params = _family_filter(ask.families)
    sql = f"""
        WITH p AS MATERIALIZED (
            SELECT p.id, {bucket_sql("p")} AS bucket, p.venue FROM papers p
            WHERE {" AND ".join(where)}
        )
        SELECT p.bucket, {group}, '', count(*) FROM p{category_join} GROUP BY 1, 2
        UNION ALL
        SELECT p.bucket, {group}, f.family, count(*) FROM p{category_join}
        JOIN paper_families f ON f.paper_id = p.id{family_filter} GROUP BY 1, 2, 3
    """
    all_params = cte_params + join_params + join_params + family_params
    return [
        (bucket, grp if grp != "" else None, family, int(n))
        for bucket, grp, family, n in db.execute(sql, all_params)
        if bucket is not None
    ]


def _overlap_surplus(db: sqlite_utils.Database, ask: _Ask) -> list[_Cell]:
    """Negative cells that take off what the cube over-counts when several categories are asked
    without `by=category`: a paper in k of them was summed k times, and counts once.

    Only the papers in two or more of the categories are read, a small part of them all."""
    categories = ask.categories
    where, params = _paper_conditions(ask.dates, ask.venues, dateless=True)
    marks = ",".join("?" * len(categories))
    family_filter, family_params = _family_filter(ask.families)
    group = _group_sql(ask.by)
    sql = f"""
        WITH o AS MATERIALIZED (
            SELECT paper_id, count(*) - 1 AS extra FROM paper_categories
            WHERE category IN ({marks}) GROUP BY paper_id HAVING count(*) > 1
        ), p AS MATERIALIZED (
            SELECT p.id, {bucket_sql("p")} AS bucket, p.venue, o.extra
            FROM o JOIN papers p ON p.id = o.paper_id WHERE {" AND ".join(where)}
        )
        SELECT p.bucket, {group}, '', sum(p.extra) FROM p GROUP BY 1, 2
        UNION ALL
        SELECT p.bucket, {group}, f.family, sum(p.extra) FROM p
        JOIN paper_families f ON f.paper_id = p.id{family_filter} GROUP BY 1, 2, 3
    """
    return [
        (bucket, grp if grp != "" else None, family, -int(n))
        for bucket, grp, family, n in db.execute(sql, [*categories, *params, *family_params])
        if bucket is not None
    ]


def _group_sql(by: str | None) -> str:
    return {"venue": "COALESCE(p.venue, '')", "category": "c.category"}.get(by or "", "NULL")


def _family_filter(families: Sequence[str]) -> tuple[str, list[Any]]:
    if not families:
        return "", []
    return f" AND f.family IN ({','.join('?' * len(families))})", list(families)


def _paper_conditions(
    dates: _Range, venues: Sequence[str], *, dateless: bool
) -> tuple[list[str], list[Any]]:
    """WHERE conditions on papers `p` for a date range and venues, with their parameters."""
    dated: list[str] = ["p.published IS NOT NULL"]
    params: list[Any] = []
    if dates.since:
        dated.append("p.published >= ?")
        params.append(dates.since)
    if dates.until:
        dated.append("p.published <= ?")
        params.append(dates.until + "~")  # a timestamp on the last day is still in range
    when = "(" + " AND ".join(dated) + ")"
    if dateless:
        # Papers known only by year count when their whole year is in range.
        years = ["p.published IS NULL"]
        if dates.since:
            years.append("p.year >= ?")
            params.append(int(dates.since[:4]) + (dates.since[5:] != "01-01"))
        if dates.until:
            years.append("p.year <= ?")
            params.append(int(dates.until[:4]) - (dates.until[5:] != "12-31"))
        when = f"({when} OR ({' AND '.join(years)}))"
    where = [when]
    if venues:
        where.append("(" + " OR ".join("p.venue = ? COLLATE NOCASE" for _ in venues) + ")")
        params += list(venues)
    return where, params


def _roll_up(
    cells: Iterable[_Cell], period: str
) -> tuple[dict[tuple[str, str | None], int], dict[tuple[str, str | None, str], int]]:
    """Totals per (period, group) and counts per (period, group, family)."""
    totals: dict[tuple[str, str | None], int] = defaultdict(int)
    counts: dict[tuple[str, str | None, str], int] = defaultdict(int)
    for bucket, grp, family, n in cells:
        label = period_of(bucket, period)
        if label is None:
            continue
        if family == "":
            totals[(label, grp)] += n
        else:
            counts[(label, grp, family)] += n
    return totals, counts


def _group_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # None (no group) sorts before names.
    return tuple((v is not None, v or "") for v in key)


# -- public functions ------------------------------------------------------------------------


def family_counts(
    db: sqlite_utils.Database,
    *,
    period: str = "year",
    by: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    families: Sequence[str] = (),
    venues: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Papers per family per period (and venue or category).

    Rows {"period", "group", "family", "count", "total", "share"} ordered by period, group and
    family: "group" is the venue or category with `by`, else None; "total" counts every paper
    of that period and group (tagged or not, whatever `families`), "share" is count/total.
    A family with no paper in a period has no row there, except the `families` asked for,
    which get a row (count 0) in every period. since/until are inclusive ISO dates (YYYY or
    YYYY-MM also work); papers without a date count for period="year" when their whole year
    is in range.
    """
    _check_period(period)
    _check_by(by)
    dates = _Range(_date_bound(since, end=False), _date_bound(until, end=True))
    # arXiv's spelling: the cube keys categories as stored, so "cs.lg" must become "cs.LG".
    cells = _cells(db, _Ask(by, dates, families, venues, canonical_categories(categories)))
    totals_by_group, counts = _roll_up(cells, period)
    present: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for label, grp, family in counts:
        present[(label, grp)].add(family)
    rows: list[dict[str, Any]] = []
    for label, grp in sorted(totals_by_group, key=_group_key):
        total = totals_by_group[(label, grp)]
        for family in sorted(present[(label, grp)] | set(families)):
            count = counts.get((label, grp, family), 0)
            rows.append(
                {
                    "period": label,
                    "group": grp,
                    "family": family,
                    "count": count,
                    "total": total,
                    "share": count / total if total else 0.0,
                }
            )
    return rows


def totals(
    db: sqlite_utils.Database,
    *,
    period: str = "year",
    by: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
) -> list[dict[str, Any]]:
    """Rows {"period", "group", "total"}: papers per period (and venue or category), tagged or not."""
    _check_period(period)
    _check_by(by)
    dates = _Range(_date_bound(since, end=False), _date_bound(until, end=True))
    cells = _cells(db, _Ask(by, dates, families=("",)))
    totals_by_group, _ = _roll_up(cells, period)
    return [
        {"period": label, "group": grp, "total": totals_by_group[(label, grp)]}
        for label, grp in sorted(totals_by_group, key=_group_key)
    ]


def family_growth(
    db: sqlite_utils.Database,
    *,
    period: str = "month",
    trailing: int = 4,
    until: str | date | None = None,
) -> list[dict[str, Any]]:
    """How each family grew: the latest complete period against the `trailing` periods before it.

    The latest complete period is the last one that ends on or before `until` (default: the
    newest publication date stored, but never after today) and holds papers. A period without
    any stored paper is a gap in the data (before the first fetch, or a month never fetched),
    not a zero: it is skipped as latest period and left out of the average. Rows
    {"family", "period", "count", "total", "share", "trailing_avg", "trailing_periods",
    "growth"}: trailing_avg is the mean count over the trailing periods that hold papers
    ("trailing_periods" of them); growth = count / trailing_avg - 1, None without history (or
    a zero average). Rows are ordered by growth, fastest first (None last), then by count.
    """
    _check_period(period)
    if trailing < 1:
        raise DlradarError(f"trailing must be at least 1, got {trailing}")
    end_text = _date_bound(until, end=True)
    if end_text is None:
        newest = db.execute("SELECT max(published) FROM papers").fetchone()[0]
        if newest is None:
            return []
        today = datetime.now(UTC).date().isoformat()
        end_text = min(str(newest)[:10], today)
    end = date.fromisoformat(end_text)
    last_complete = period_containing(end, period)
    if period_bounds(last_complete)[1] != end:
        last_complete = shift_period(last_complete, -1)
    cells = _cells(db, _Ask(None, _Range(None, period_bounds(last_complete)[1].isoformat())))
    totals_by_group, counts = _roll_up(cells, period)
    covered = {p for (p, _), n in totals_by_group.items() if n > 0}
    if not covered:
        return []
    latest = max(covered)
    window = [shift_period(latest, -k) for k in range(trailing, 0, -1)]
    history = [p for p in window if p in covered]
    families = sorted({f for (p, _, f) in counts if p == latest or p in history})
    total = totals_by_group.get((latest, None), 0)
    rows: list[dict[str, Any]] = []
    for family in families:
        count = counts.get((latest, None, family), 0)
        average = (
            sum(counts.get((p, None, family), 0) for p in history) / len(history)
            if history
            else None
        )
        rows.append(
            {
                "family": family,
                "period": latest,
                "count": count,
                "total": total,
                "share": count / total if total else 0.0,
                "trailing_avg": average,
                "trailing_periods": len(history),
                "growth": count / average - 1 if average else None,
            }
        )
    rows.sort(key=lambda r: (r["growth"] is None, -(r["growth"] or 0.0), -r["count"], r["family"]))
    return rows
