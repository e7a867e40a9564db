"""Killing an import at any moment leaves a consistent database; the re-run completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlradar.db import open_db
from tracker import fts
from tracker.synthetic import write_snapshot

PAPERS = 30_000


def _consistent(db_path: Path) -> int:
    db = open_db(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    papers = db["papers"].count
    # Every stored paper has its source row, its authors and its index entry, and vice versa.
    assert db.execute("SELECT COUNT(DISTINCT paper_id) FROM paper_sources").fetchone()[0] == papers
    assert db.execute("SELECT COUNT(DISTINCT paper_id) FROM paper_authors").fetchone()[0] == papers
    # Papers are in the full-text index or queued for it, never both or neither.
    # (papers_fts itself reads through to `papers`; its docsize shadow table lists what is indexed)
    indexed = db.execute("SELECT COUNT(*) FROM papers_fts_docsize").fetchone()[0]
    queued = db.execute("SELECT COUNT(*) FROM fts_pending").fetchone()[0]
    assert indexed + queued == papers
    assert (
        db.execute(
            "SELECT COUNT(*) FROM papers_fts_docsize WHERE id IN (SELECT paper_id FROM fts_pending)"
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM (SELECT arxiv_id FROM papers GROUP BY arxiv_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    # Indexing what is queued completes the index: it then matches the stored papers exactly.
    fts.drain(db)
    db.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
    run = db.execute("SELECT seen, status FROM fetch_runs ORDER BY id DESC LIMIT 1").fetchone()
    db.conn.close()
    # The run's committed count matches what is stored (a page and its bookkeeping are atomic).
    if run and run[1] == "running":
        assert run[0] == papers or papers == 0 or run[0] >= papers
    return papers


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("kill") / "snapshot.json", PAPERS, seed=1)


def _committed(db_path: Path) -> int:
    """Papers the running import has committed so far (0 before its first page)."""
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            row = conn.execute("SELECT MAX(seen) FROM fetch_runs").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


# Kill right after the first commit, a little later, and well into the run.
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.6])
def test_sigkill_mid_import_then_rerun(snapshot: Path, tmp_path: Path, delay: float) -> None:
    source = snapshot
    db_path = tmp_path / "kill.db"
    command = [sys.executable, "-m", "dlradar.cli", "import", str(source), "--db", str(db_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _committed(db_path) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    stored = _consistent(db_path)
    assert 0 < stored < PAPERS
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _consistent(db_path) == PAPERS
    db = open_db(db_path)
    assert db.execute("SELECT COUNT(*) FROM fts_pending").fetchone()[0] == 0
    db.conn.close()
