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
import sqlite_utils
import tantivy

from core.errors import DlradarError
from dlradar.database import open_db
from tracker import ingest, search_index
from tracker.record import PaperRecord
from tracker.sources.base import Page
from tracker.store import PaperStore
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
    # Papers are in the search index or queued after its watermark, never both or neither.
    index = search_index.open_index(db)
    indexed = _indexed_ids(index)
    mark = search_index.watermark(index)
    queued = {r[0] for r in db.execute("SELECT paper_id FROM search_queue WHERE seq > ?", [mark])}
    stored = {r[0] for r in db.execute("SELECT id FROM papers")}
    assert indexed | queued == stored
    assert not indexed & queued
    assert len(indexed) == index.searcher().num_docs - (1 if mark else 0)  # no duplicates
    assert (
        db.execute(
            "SELECT COUNT(*) FROM (SELECT arxiv_id FROM papers GROUP BY arxiv_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    # Indexing what is queued completes the index: it then matches the stored papers exactly.
    _index_when_free(db)
    assert _indexed_ids(search_index.open_index(db)) == stored
    run = db.execute("SELECT seen, status FROM fetch_runs ORDER BY id DESC LIMIT 1").fetchone()
    db.conn.close()
    # The run's committed count is what is stored (a page and its bookkeeping are atomic; the
    # snapshot's arXiv ids are unique, so every paper read is a paper stored).
    if run and run[1] == "running":
        assert run[0] == papers
    return papers


def _index_when_free(db: sqlite_utils.Database) -> None:
    # The killed import's indexer process gets SIGKILL from the kernel with its parent; its
    # index lock is released when it is gone, a moment after the parent (seen under load).
    deadline = time.monotonic() + 30
    while True:
        try:
            search_index.index_pending(db)
            return
        except search_index.IndexBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _indexed_ids(index: tantivy.Index) -> set[int]:
    searcher = index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), searcher.num_docs or 1).hits
    ids = searcher.fast_field_values("paper_id", [address for _, address in hits])
    return {int(i or 0) for i in ids} - {-1}  # less the watermark document


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
    assert db.execute("SELECT COUNT(*) FROM search_queue").fetchone()[0] == 0
    db.conn.close()


def _page(n: int, size: int = 10) -> Page:
    records = [
        PaperRecord(
            source="jsonl",
            source_id=f"p{n}-{i}",
            title=f"A distinctive paper number {i} of page {n}",
            abstract="We study things.",
            authors=[f"Author {n}-{i}"],
            arxiv_id=f"2401.{n:02d}{i:03d}",
        )
        for i in range(size)
    ]
    return Page(records, cursor=f"cursor-{n}", warnings=[f"warning of page {n}"])


def _state(db: sqlite_utils.Database) -> tuple[object, ...]:
    papers = db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    sources = db.execute("SELECT COUNT(*) FROM paper_sources").fetchone()[0]
    run = db.execute("SELECT seen, new, pages, cursor FROM fetch_runs ORDER BY id DESC").fetchone()
    return papers, sources, tuple(run)


@pytest.mark.parametrize("where", ["after the page's papers", "in the run's bookkeeping"])
@pytest.mark.parametrize("error", [DlradarError("disk full"), KeyboardInterrupt()])
def test_an_exception_between_page_and_bookkeeping_changes_neither(
    db: sqlite_utils.Database,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    error: BaseException,
) -> None:
    """Deterministic, unlike SIGKILL timing: page 2 fails after its papers were written but
    before its bookkeeping was; the database keeps page 1 and its bookkeeping, nothing more."""
    calls = {"add": 0, "save": 0}
    real_add, real_save = PaperStore.add, ingest._save

    def add(store: PaperStore, records: list[PaperRecord]) -> object:
        counts = real_add(store, records)
        calls["add"] += 1
        if where == "after the page's papers" and calls["add"] == 2:
            raise error
        return counts

    def save(database: sqlite_utils.Database, result: ingest.RunResult) -> None:
        calls["save"] += 1
        if where == "in the run's bookkeeping" and calls["save"] == 2:
            raise error
        real_save(database, result)

    monkeypatch.setattr(PaperStore, "add", add)
    monkeypatch.setattr(ingest, "_save", save)
    pages = [_page(1), _page(2), _page(3)]
    if isinstance(error, DlradarError):
        result = ingest.run_pages(db, "jsonl", "scope", iter(pages))
        assert result.status == "partial" and result.error == "disk full"
    else:
        with pytest.raises(KeyboardInterrupt):
            ingest.run_pages(db, "jsonl", "scope", iter(pages))
    # Page 1 and its bookkeeping, exactly: page 2's papers were rolled back with it.
    assert _state(db) == (10, 10, (10, 10, 1, "cursor-1"))
    (status, errors) = db.execute("SELECT status, errors FROM fetch_runs").fetchone()
    assert status == ("partial" if isinstance(error, DlradarError) else "interrupted")
    assert "warning of page 2" not in errors
    # A re-run resumes after page 1's cursor and ends with every page stored once.
    monkeypatch.setattr(PaperStore, "add", real_add)
    monkeypatch.setattr(ingest, "_save", real_save)
    assert ingest.last_cursor(db, "jsonl", "scope") == "cursor-1"
    rerun = ingest.run_pages(db, "jsonl", "scope", iter(pages[1:]))
    assert (rerun.status, rerun.counts.new) == ("ok", 20)
    assert _state(db)[:2] == (30, 30)
