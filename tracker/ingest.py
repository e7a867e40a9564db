"""Runs a source's pages into the store, one transaction per page, with a fetch-run record.

A fetch run row is written before the first page; each page is stored together with the run's
counts and its cursor in one transaction, so killing the process at any moment leaves a
consistent database, and the next incremental run resumes from the last committed cursor.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import sqlite_utils

from core.bulk import paused_gc, young_collect
from core.db import transaction, utc_now
from core.errors import DlradarError
from tracker import overview, search_index
from tracker.record import PaperRecord, validate_record
from tracker.sources.base import Page
from tracker.store import PaperStore, StoreCounts

ProgressFn = Callable[[str], None]
MAX_WARNINGS = 1000  # kept with a run; more are counted


@dataclass
class RunResult:
    """The outcome of one fetch or import, as stored in `fetch_runs`."""

    run_id: int
    source: str
    scope: str
    status: str  # ok | empty | partial | failed
    counts: StoreCounts = field(default_factory=StoreCounts)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    more_warnings: int = 0  # warnings beyond MAX_WARNINGS, counted only
    notes: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    cursor: str | None = None
    resumed_from: str | None = None  # the cursor of a cut-off run this one continued after
    tagged: str | None = None  # what tagging the new papers did, in a few words

    def summary(self) -> str:
        """One line for humans: what was read and stored, and what went wrong."""
        c = self.counts
        text = f"{self.source} {self.scope}: {c.seen} read, {c.new} new, {c.updated} updated"
        if self.resumed_from:
            text += f" (resumed after {self.resumed_from})"
        if self.status == "empty":
            text += (
                " (nothing new"
                + (f": {self.notes['empty']}" if "empty" in self.notes else "")
                + ")"
            )
        if self.tagged:
            text += f"; {self.tagged}"
        if self.warnings:
            count = len(self.warnings) + self.more_warnings
            text += f"; {count} warning(s): " + "; ".join(self.warnings[:3])
        if self.error:
            text += f"; FAILED: {self.error}"
        return text


def run_is_alive(status: str, message: str | None, started_at: str) -> bool:
    """Whether a run stored as `running` still has its process: a killed import leaves
    `running` behind, with the pid that wrote it in its message ("pid N")."""
    if status != "running":
        return False
    match = re.fullmatch(r"pid (\d+)", message or "")
    if not match:
        return True  # not ours to judge: a run of an older version, still in progress maybe
    try:
        process = psutil.Process(int(match.group(1)))
        created = datetime.fromtimestamp(process.create_time(), tz=UTC)
    except (psutil.NoSuchProcess, psutil.AccessDenied, OverflowError, ValueError):
        return False
    try:
        started = datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return True
    # A pid the system gave to a later process after ours died (a second of slack for clocks).
    return created <= started + timedelta(seconds=1)


def shown_status(status: str, message: str | None, started_at: str) -> str:
    """A run's status as a reader should see it: `interrupted` for a run whose process is gone."""
    if status == "running" and not run_is_alive(status, message, started_at):
        return "interrupted"
    return status


def last_cursor(db: sqlite_utils.Database, source: str, scope: str) -> str | None:
    """The cursor the latest run of (source, scope) committed, for an incremental re-run."""
    row = db.execute(
        "SELECT cursor FROM fetch_runs WHERE source = ? AND scope = ? AND cursor IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        [source, scope],
    ).fetchone()
    return str(row[0]) if row else None


def run_pages(
    db: sqlite_utils.Database,
    source: str,
    scope: str,
    pages: Iterable[Page],
    *,
    params: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
    index_beside: bool = False,
    tag: bool = True,
) -> RunResult:
    """Store every page of `pages`; a DlradarError ends the run as failed (or partial) but keeps
    what was committed. Other exceptions (bugs, Ctrl-C) propagate after marking the run.

    Stored papers are then added to the search index; with `index_beside` (a big import) a
    second process indexes them while pages are still being stored. Then, with `tag`, every
    paper not yet tagged is tagged (tracker.tagging), which also brings the trend counts and
    the corpus summary up to date, and the similar-papers index is extended: a reader never
    sees an imported paper without its families, and no query waits for a build.
    """
    started = utc_now()
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO fetch_runs (source, scope, params, started_at, status, message)"
            " VALUES (?, ?, ?, ?, 'running', ?)",
            [source, scope, json.dumps(params or {}, default=str), started, f"pid {os.getpid()}"],
        )
        run_id = int(cursor.lastrowid or 0)
    resumed_from = (params or {}).get("resumed_from")
    result = RunResult(
        run_id=run_id,
        source=source,
        scope=scope,
        status="running",
        resumed_from=str(resumed_from) if resumed_from else None,
    )
    store = PaperStore(db)
    beside = (
        search_index.indexing_beside(db)
        if index_beside
        else contextlib.nullcontext(search_index.Beside())
    )
    try:
        with beside as indexer, paused_gc():
            for page in pages:
                if not page.checked:
                    _validate(page, _origin(source, scope), result.pages)
                # The run as it stands once this page is in; `result` becomes it only after the
                # commit, so a page rolled back by an exception is not counted when the run ends.
                staged = replace(
                    result,
                    counts=replace(result.counts),
                    pages=result.pages + 1,
                    warnings=list(result.warnings),
                    notes={**result.notes, **page.notes},
                    cursor=result.cursor if page.cursor is None else page.cursor,
                )
                _add_warnings(staged, page.warnings)
                with transaction(db):
                    staged.counts += store.add(page.records)
                    _save(db, staged)
                result = staged
                young_collect()
                if progress:
                    progress(
                        f"{source}: page {result.pages}, {result.counts.seen} read,"
                        f" {result.counts.new} new, {result.counts.updated} updated"
                    )
    except DlradarError as exc:
        result.error = str(exc)
        result.status = "partial" if result.counts.seen else "failed"
    except BaseException as exc:
        result.error = f"interrupted: {type(exc).__name__}: {exc}".rstrip(": ")
        result.status = "interrupted"
        _finish(db, result)
        raise
    else:
        result.status = "ok" if result.counts.seen else "empty"
    if indexer.error and "IndexBusy" not in indexer.error:
        result.warnings.append(f"search indexer beside the import failed: {indexer.error}")
    _index(db, result, progress)
    changed = bool(result.counts.new or result.counts.updated)
    # Tagging refreshes the corpus summary the pages read when it tagged anything.
    if changed and not (tag and _tag(db, result, progress)):
        overview.refresh_summary_if_free(db)
    if changed and tag:
        _similar(db, result, progress)
    _finish(db, result)
    return result


def _similar(db: sqlite_utils.Database, result: RunResult, progress: ProgressFn | None) -> None:
    """Bring the similar-papers index up to date in the same step (extended by the new papers,
    built the first time), so `dlradar similar` never waits for a build."""
    from tracker import similar  # scipy and scikit-learn: only once papers came in

    if similar.index_dir(db) is None:
        return  # an in-memory database: the index would live and die with this process
    if progress:
        progress(f"{result.source}: updating the similar-papers index")
    try:
        similar.ensure_index(db)
    except (DlradarError, OSError, ValueError, MemoryError) as exc:
        result.warnings.append(f"similar-papers index not updated (built on first use): {exc}")


def _tag(db: sqlite_utils.Database, result: RunResult, progress: ProgressFn | None) -> int:
    """Tag what the run stored; a failure is a warning (the papers stay pending for `tag`).
    Returns how many papers were tagged."""
    from tracker.tagging import tag_papers  # the taxonomy's matcher: only once papers came in

    if progress:
        progress(f"{result.source}: tagging the new papers")
    try:
        stats = tag_papers(db)
    except DlradarError as exc:
        result.warnings.append(f"tagging failed, run `dlradar tag`: {exc}")
        return 0
    top = [f"{family} {n}" for family, n in stats.families.most_common(3)]
    more = ", ..." if len(stats.families) > len(top) else ""
    result.tagged = f"tagged {stats.tagged}" + (f" ({', '.join(top)}{more})" if top else "")
    return stats.tagged


def _add_warnings(result: RunResult, warnings: list[str]) -> None:
    """Keep the first MAX_WARNINGS warnings, count the rest: a file whose every line has a bad
    field would otherwise rewrite an ever longer list with each page."""
    room = max(0, MAX_WARNINGS - len(result.warnings))
    result.warnings.extend(warnings[:room])
    result.more_warnings += max(0, len(warnings) - room)


def _origin(source: str, scope: str) -> str:
    """How warnings name where a record came from: the file's name, else the source's scope."""
    if scope.startswith("file:"):
        return Path(scope.removeprefix("file:")).name
    return f"{source} {scope}"


def _validate(page: Page, origin: str, page_number: int) -> None:
    """Check every record against the record schema; unusable ones leave the page, warned."""
    kept: list[PaperRecord] = []
    for number, record in enumerate(page.records, start=1):
        source_id = record.source_id if isinstance(record.source_id, str) else "?"
        where = f"{origin} page {page_number + 1} entry {number} ({source_id[:80]})"
        checked, warnings = validate_record(record, where)
        page.warnings.extend(warnings)
        if checked is not None:
            kept.append(checked)
    page.records = kept
    page.checked = True


def _index(db: sqlite_utils.Database, result: RunResult, progress: ProgressFn | None) -> None:
    """Make what this run stored searchable; a busy or broken index never fails the run (the
    queue keeps the papers, and the next search or run indexes them)."""
    try:
        search_index.index_pending(db, progress=progress)
        search_index.prune(db)
    except search_index.IndexBusy:
        result.warnings.append("search index busy (another import?): papers stay queued for it")
    except DlradarError as exc:
        result.warnings.append(f"search index not updated: {exc}")


def _save(db: sqlite_utils.Database, result: RunResult) -> None:
    db.execute(
        "UPDATE fetch_runs SET seen = ?, new = ?, updated = ?, pages = ?, errors = ?, cursor = ?"
        " WHERE id = ?",
        [
            result.counts.seen,
            result.counts.new,
            result.counts.updated,
            result.pages,
            json.dumps(result.warnings),
            result.cursor,
            result.run_id,
        ],
    )


def _finish(db: sqlite_utils.Database, result: RunResult) -> None:
    more = [f"... and {result.more_warnings:,} more warning(s)"] if result.more_warnings else []
    errors = [*result.warnings, *more, *([result.error] if result.error else [])]
    with transaction(db):
        _save(db, result)
        db.execute(
            "UPDATE fetch_runs SET finished_at = ?, status = ?, errors = ?, message = ? WHERE id = ?",
            [utc_now(), result.status, json.dumps(errors), result.summary(), result.run_id],
        )
