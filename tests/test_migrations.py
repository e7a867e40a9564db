"""Migrations under concurrency: processes opening the same new database all succeed."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from core.db import applied_versions
from dlradar.database import SCHEMAS, open_db

PROCESSES = 4
TRIALS = 10


def _open(path: str) -> str:
    try:
        open_db(path).conn.close()
    except Exception as exc:  # reported to the parent, which names it
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    # Each process read the applied versions before taking the write lock, so two of them
    # applied v1 of the same component ("table papers already exists"); and switching a new
    # file to WAL answered "database is locked" at once, without waiting (seen in CI).
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        for trial in range(TRIALS):
            path = str(tmp_path / f"trial-{trial}.db")
            outcomes = pool.map(_open, [path] * PROCESSES)
            assert outcomes == ["ok"] * PROCESSES, outcomes
            versions = applied_versions(open_db(path))
            assert versions == {s.component: len(s.steps) for s in SCHEMAS}
