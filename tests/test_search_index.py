"""The tantivy search index beside the database: queue, watermark, busy writers, the indexer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from core.db import transaction
from tracker import search_index
from tracker.ingest import run_pages
from tracker.query import PaperFilter, count_papers, find_papers
from tracker.record import PaperRecord
from tracker.sources.base import Page
from tracker.store import PaperStore


def _record(i: int, abstract: str = "A study of zebra stripes.") -> PaperRecord:
    return PaperRecord(
        source="jsonl",
        source_id=f"p{i}",
        title=f"Paper number {i} on vision",
        abstract=abstract,
        authors=[f"Author {i}"],
        arxiv_id=f"2501.{i:05d}",
    )


def _store(db: sqlite_utils.Database, *records: PaperRecord) -> None:
    with transaction(db):
        PaperStore(db).add(list(records))


def _documents(db: sqlite_utils.Database) -> int:
    index = search_index.open_index(db)
    return int(index.searcher().num_docs) - (1 if search_index.watermark(index) else 0)


def test_indexing_takes_the_queue_in_and_prunes_it(db: sqlite_utils.Database) -> None:
    _store(db, *(_record(i) for i in range(5)))
    assert search_index.backlog(db) == 5
    run = search_index.index_pending(db)
    assert run.indexed == 5 and run.commits == 1
    assert search_index.backlog(db) == 0
    assert search_index.watermark(search_index.open_index(db)) == 5
    search_index.prune(db)
    assert db.execute("SELECT COUNT(*) FROM search_queue").fetchone()[0] == 0
    # Sequence numbers are never reused after pruning, so new papers sort after the watermark.
    _store(db, _record(9))
    assert db.execute("SELECT seq FROM search_queue").fetchone()[0] == 6
    assert search_index.backlog(db) == 1


def test_reindexing_the_same_papers_never_duplicates_them(db: sqlite_utils.Database) -> None:
    _store(db, *(_record(i) for i in range(3)))
    search_index.index_pending(db)
    with transaction(db):
        search_index.queue(db, [1, 2, 3, 1])
    search_index.index_pending(db)
    assert _documents(db) == 3
    assert count_papers(db, PaperFilter(search="zebra")) == 3


def test_a_paper_queued_twice_in_one_run_keeps_one_document(db: sqlite_utils.Database) -> None:
    # New papers skip the delete; a repeat within the same run must not.
    _store(db, *(_record(i) for i in range(3)))
    with transaction(db):
        search_index.queue(db, [3, 1, 3])
    search_index.index_pending(db)
    index = search_index.open_index(db)
    assert search_index.highest_paper_id(index) == 3
    assert _documents(db) == 3
    _store(db, _record(7))
    search_index.index_pending(db)
    assert search_index.highest_paper_id(search_index.open_index(db)) == 4
    assert _documents(db) == 4


def test_changed_text_replaces_the_old_document(db: sqlite_utils.Database) -> None:
    _store(db, _record(1))
    assert count_papers(db, PaperFilter(search="zebra")) == 1
    _store(db, _record(1, abstract="Now about giraffes."))
    assert count_papers(db, PaperFilter(search="zebra")) == 0
    assert count_papers(db, PaperFilter(search="giraffes")) == 1
    assert _documents(db) == 1


def test_a_busy_index_still_answers_and_the_run_says_why(db: sqlite_utils.Database) -> None:
    _store(db, _record(1))
    search_index.index_pending(db)
    # Another writer holds the index (an import in another process, say).
    writer = search_index.open_index(db).writer(15_000_000, num_threads=1)
    try:
        with pytest.raises(search_index.IndexBusy, match="being written by another process"):
            search_index.index_pending(db)
        result = run_pages(db, "jsonl", "test", [Page(records=[_record(2)])])
        assert result.status == "ok"
        assert any("search index busy" in w for w in result.warnings)
        # The search answers from what the index holds; the new paper waits in the queue.
        assert [p["arxiv_id"] for p in find_papers(db, PaperFilter(search="zebra"))] == [
            "2501.00001"
        ]
        assert search_index.backlog(db) == 1
    finally:
        writer.rollback()
        del writer
    # Once the writer is gone, the next search indexes the queued paper first.
    assert count_papers(db, PaperFilter(search="zebra")) == 2


def test_an_indexer_that_fails_beside_an_import_is_reported_and_replaced(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real = search_index.index_pending

    def failing_in_the_child(*args: Any, **kwargs: Any) -> search_index.IndexRun:
        if os.getpid() != parent:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(search_index, "index_pending", failing_in_the_child)
    pages = [Page(records=[_record(i) for i in range(j, j + 10)]) for j in range(0, 30, 10)]
    result = run_pages(db, "jsonl", "test", pages, index_beside=True)
    assert result.status == "ok"
    assert any("RuntimeError: disk full" in w for w in result.warnings), result.warnings
    # This process indexed what the failed indexer left.
    assert count_papers(db, PaperFilter(search="zebra")) == 30
    assert search_index.backlog(db) == 0


def test_the_indexer_beside_an_import_indexes_every_page(db: sqlite_utils.Database) -> None:
    pages = [Page(records=[_record(i) for i in range(j, j + 50)]) for j in range(0, 500, 50)]
    result = run_pages(db, "jsonl", "test", pages, index_beside=True)
    assert result.status == "ok" and not result.warnings, result.warnings
    assert search_index.backlog(db) == 0
    assert _documents(db) == 500
    assert count_papers(db, PaperFilter(search="vision")) == 500


def test_an_unreadable_index_names_itself_and_the_fix(db: sqlite_utils.Database) -> None:
    directory = search_index.index_dir(db)
    assert directory is not None
    search_index.forget(db)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").write_text("{ not json", encoding="utf-8")
    from core.errors import DlradarError

    with pytest.raises(DlradarError, match=r"cannot open the search index .*dlradar reindex"):
        search_index.open_index(db)
    search_index.rebuild(db)
    _store(db, _record(3))
    assert count_papers(db, PaperFilter(search="zebra")) == 1


def test_in_memory_databases_get_an_index_in_memory(tmp_path: Path) -> None:
    import sqlite3

    from core.db import apply_migrations
    from dlradar.database import SCHEMAS

    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    apply_migrations(db, SCHEMAS)
    assert search_index.index_dir(db) is None
    _store(db, _record(1))
    assert count_papers(db, PaperFilter(search="zebra")) == 1
    assert not list(tmp_path.iterdir())


def test_a_failing_index_write_keeps_the_queue_and_says_so(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import DlradarError

    _store(db, *(_record(i) for i in range(3)))

    def full_disk(writer: Any, mark: int) -> None:
        raise ValueError("No space left on device (os error 28)")

    monkeypatch.setattr(search_index, "_commit", full_disk)
    with pytest.raises(DlradarError, match=r"could not write \(No space left.*stay queued"):
        search_index.index_pending(db)
    result = run_pages(db, "jsonl", "test", [Page(records=[_record(7)])])
    assert result.status == "ok"
    assert any("search index not updated" in w for w in result.warnings)
    assert search_index.backlog(db) == 4  # nothing lost: every paper still queued
    monkeypatch.undo()
    assert count_papers(db, PaperFilter(search="zebra")) == 4


def test_equal_scores_rank_by_paper_id_across_segments_and_pages(
    db: sqlite_utils.Database,
) -> None:
    # Three commits make three segments; every paper scores the same for "zebra".
    for start in (0, 10, 20):
        _store(db, *[_record(i) for i in range(start, start + 10)])
        search_index.index_pending(db, threads=2)
    everything = find_papers(db, PaperFilter(search="zebra"), limit=0)
    ids = [p["id"] for p in everything]
    assert ids == sorted(ids) and len(ids) == 30
    pages = [find_papers(db, PaperFilter(search="zebra"), limit=7, offset=k) for k in (0, 7, 14)]
    assert [p["id"] for page in pages for p in page] == ids[:21]
