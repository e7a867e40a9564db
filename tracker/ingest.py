"""Runs a source's pages into the store, one transaction per page, with a fetch-run record.

A fetch run row is written before the first page; each page is stored together with the run's
counts and its cursor in one transaction, so killing the process at any moment leaves a
consistent database, and the next incremental run resumes from the last committed cursor.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from core.bulk import paused_gc, young_collect
from core.db import transaction, utc_now
from core.errors import DlradarError
from tracker import search_index
from tracker.sources.base import Page
from tracker.store import PaperStore, StoreCounts

ProgressFn = Callable[[str], None]


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
    notes: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    cursor: str | None = None

    def summary(self) -> str:
        """One line for humans: what was read and stored, and what went wrong."""
        c = self.counts
        text = f"{self.source} {self.scope}: {c.seen} read, {c.new} new, {c.updated} updated"
        if self.status == "empty":
            text += (
                " (nothing new"
                + (f": {self.notes['empty']}" if "empty" in self.notes else "")
                + ")"
            )
        if self.warnings:
            text += f"; {len(self.warnings)} warning(s): " + "; ".join(self.warnings[:3])
        if self.error:
            text += f"; FAILED: {self.error}"
        return text


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
) -> RunResult:
    """Store every page of `pages`; a DlradarError ends the run as failed (or partial) but keeps
    what was committed. Other exceptions (bugs, Ctrl-C) propagate after marking the run.

    Stored papers are then added to the search index; with `index_beside` (a big import) a
    second process indexes them while pages are still being stored.
    """
    started = utc_now()
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO fetch_runs (source, scope, params, started_at, status, message)"
            " VALUES (?, ?, ?, ?, 'running', ?)",
            [source, scope, json.dumps(params or {}, default=str), started, f"pid {os.getpid()}"],
        )
        run_id = int(cursor.lastrowid or 0)
    result = RunResult(run_id=run_id, source=source, scope=scope, status="running")
    store = PaperStore(db)
    beside = (
        search_index.indexing_beside(db)
        if index_beside
        else contextlib.nullcontext(search_index.Beside())
    )
    try:
        with beside as indexer, paused_gc():
            for page in pages:
                # The run as it stands once this page is in; `result` becomes it only after the
                # commit, so a page rolled back by an exception is not counted when the run ends.
                staged = replace(
                    result,
                    counts=replace(result.counts),
                    pages=result.pages + 1,
                    warnings=[*result.warnings, *page.warnings],
                    notes={**result.notes, **page.notes},
                    cursor=result.cursor if page.cursor is None else page.cursor,
                )
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
    _finish(db, result)
    return result


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
    errors = [*result.warnings, *([result.error] if result.error else [])]
    with transaction(db):
        _save(db, result)
        db.execute(
            "UPDATE fetch_runs SET finished_at = ?, status = ?, errors = ?, message = ? WHERE id = ?",
            [utc_now(), result.status, json.dumps(errors), result.summary(), result.run_id],
        )
