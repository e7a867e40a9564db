"""Keeps the full-text index (FTS5 `papers_fts`) in step with `papers`, off the storing path.

Storing a page queues its new or changed papers in `fts_pending` within the page's own
transaction; `drain` indexes queued papers and removes them from the queue in one transaction,
so a crash at any moment leaves the queue and the index consistent, and the next drain
finishes the work. During a big import `background_indexer` drains from a second thread: SQLite
does the tokenising with the GIL released, so indexing overlaps the importer's Python work.
Searches drain whatever is left first, so they never miss a stored paper.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from dlradar.db import open_db, transaction

CHUNK = 5000


def queue(db: sqlite_utils.Database, paper_ids: Sequence[int]) -> None:
    """Queue papers for (re-)indexing; the caller owns the transaction."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO fts_pending (paper_id) VALUES (?)", [(i,) for i in paper_ids]
    )


def pending_among(db: sqlite_utils.Database, paper_ids: Sequence[int]) -> set[int]:
    """Which of these papers are queued, i.e. not in the index yet."""
    found: set[int] = set()
    for start in range(0, len(paper_ids), 900):
        chunk = list(paper_ids[start : start + 900])
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT paper_id FROM fts_pending WHERE paper_id IN ({marks})"
        found.update(row[0] for row in db.conn.execute(sql, chunk))
    return found


def has_pending(db: sqlite_utils.Database) -> bool:
    return bool(db.conn.execute("SELECT EXISTS (SELECT 1 FROM fts_pending)").fetchone()[0])


def drain(db: sqlite_utils.Database, *, limit: int | None = None) -> int:
    """Index queued papers in chunks until the queue is empty (or `limit` done); returns how many."""
    done = 0
    while limit is None or done < limit:
        with transaction(db):
            row = db.conn.execute(
                "SELECT MAX(paper_id), COUNT(*) FROM"
                " (SELECT paper_id FROM fts_pending ORDER BY paper_id LIMIT ?)",
                [CHUNK],
            ).fetchone()
            upto, count = row
            if not count:
                break
            db.conn.execute(
                "INSERT INTO papers_fts (rowid, title, abstract)"
                " SELECT p.id, p.title, p.abstract FROM fts_pending q JOIN papers p ON p.id = q.paper_id"
                " WHERE q.paper_id <= ?",
                [upto],
            )
            db.conn.execute("DELETE FROM fts_pending WHERE paper_id <= ?", [upto])
        done += int(count)
    return done


@contextmanager
def background_indexer(db_path: str | Path) -> Iterator[None]:
    """Drain the queue from a second thread while the block stores pages; drains the rest at exit."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        db = open_db(db_path, migrate=False)
        try:
            while not stop.is_set():
                if drain(db, limit=CHUNK) == 0:
                    stop.wait(0.05)
        except BaseException as exc:  # re-raised in the importer's thread
            failure.append(exc)
        finally:
            db.conn.close()

    thread = threading.Thread(target=work, name="fts-indexer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if failure:
        raise failure[0]
