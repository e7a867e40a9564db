"""A killed import is shown as interrupted, and importing the same file again resumes after the
last line it committed instead of reading the file from the start."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlradar.database import open_db
from tracker.fetching import list_runs
from tracker.importer import import_file
from tracker.ingest import shown_status
from tracker.synthetic import write_snapshot

PAPERS = 12_000


def _cursor(db_path: Path) -> str | None:
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            row = conn.execute("SELECT MAX(cursor) FROM fetch_runs").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("resume") / "snapshot.json", PAPERS, seed=3)


def test_a_killed_import_is_interrupted_and_the_next_one_resumes(
    snapshot: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "resume.db"
    command = [sys.executable, "-m", "dlradar.cli", "import", str(snapshot), "--db", str(db_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _cursor(db_path) is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"

    db = open_db(db_path)
    (killed,) = list_runs(db)
    assert killed["status"] == "interrupted"  # stored as running; its process is gone
    cursor = killed["cursor"]
    assert cursor is not None and cursor.startswith("line:")
    committed = int(cursor.removeprefix("line:"))
    stored = db["papers"].count
    assert stored == committed  # one paper per line in the snapshot
    db.conn.close()

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"(resumed after line:{committed})" in done.stderr
    db = open_db(db_path)
    latest = list_runs(db)[0]
    assert latest["params"]["resumed_from"] == cursor
    assert latest["seen"] == PAPERS - committed  # the stored lines were not read again
    assert db["papers"].count == PAPERS


def test_a_finished_or_changed_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl"
    lines = [
        json.dumps({"id": f"2501.{i:05d}", "title": f"Paper {i}", "abstract": "About it."})
        for i in range(1, 6)
    ]
    path.write_text("\n".join(lines) + "\n")
    db = open_db(tmp_path / "d.db")
    first = import_file(db, path)
    assert first.counts.seen == 5
    # Pretend it was cut off after line 2 by a process that no longer exists.
    db.execute(
        "UPDATE fetch_runs SET status = 'running', message = 'pid 999999999', cursor = 'line:2'"
    )
    again = import_file(db, path)
    assert again.resumed_from == "line:2" and again.counts.seen == 3
    # --restart reads it all; a changed file is never resumed.
    db.execute("UPDATE fetch_runs SET status = 'running', message = 'pid 999999999'")
    assert import_file(db, path, restart=True).counts.seen == 5
    db.execute("UPDATE fetch_runs SET status = 'running', message = 'pid 999999999'")
    path.write_text("\n".join(lines[:4]) + "\n")
    changed = import_file(db, path)
    assert changed.resumed_from is None and changed.counts.seen == 4


def test_a_running_run_of_a_live_process_stays_running() -> None:
    started = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    assert shown_status("running", f"pid {os.getpid()}", started) == "running"
    assert shown_status("running", "pid 999999999", started) == "interrupted"
    # A pid reused by a process started after the run began is not the run's.
    assert shown_status("running", f"pid {os.getpid()}", "2000-01-01T00:00:00+00:00") == (
        "interrupted"
    )
    assert shown_status("ok", "pid 999999999", started) == "ok"
