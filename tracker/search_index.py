"""Owns the full-text index: a tantivy index beside the database, fed from a queue in it.

Why not FTS5 inside the database: SQLite has one writer, so an FTS5 index is built on the same
core that stores papers (at 100k papers it took 4.2 of the import's 9.7 CPU seconds, and
drained from a second thread it only waited for the write lock), and bm25 ranking over FTS5
reads every match (about 1 s for common words at a million papers). A tantivy index in a
directory of its own is built in a second process while papers are stored, and ranks with
block-max WAND, so a top-20 query reads only the blocks that can still make the top 20.

Consistency without a shared transaction: storing a page appends the ids of its new or changed
papers to `search_queue` in the page's own transaction. The indexer adds queued papers (a
delete by id, then the document, so re-indexing is harmless) and writes the sequence number it
reached as a `watermark` document in the same tantivy commit. A crash at any moment leaves the
queue with everything after the watermark, and the next `index_pending` finishes the work.
Queue rows at or below the watermark are pruned by whoever holds the database write lock next.

Lives at `<database file>.search/`; an in-memory database gets an index in memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
import tantivy

from core.bulk import paused_gc, young_collect
from core.errors import DlradarError

# Bump when the schema or tokenizer changes: a new directory is built from the queue.
INDEX_VERSION = 1
TOKENIZER = "fold"
_META_ID = -1  # paper_id of the document that carries the watermark
_CHUNK = 20_000
_HEAP = 128_000_000
# Commit (and so make papers searchable) at least this often during a long import.
COMMIT_EVERY = 200_000
BULK_CHECKPOINT_PAGES = 10_000

ProgressFn = Callable[[str], None]


class IndexBusy(DlradarError):
    """Another process is writing the search index (an import, say)."""


def analyzer() -> tantivy.TextAnalyzer:
    """Words as the index sees them: alphanumeric runs, lower case, accents folded."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


_ANALYZER = analyzer()


def tokens(text: str) -> list[str]:
    """`text` split into index terms, exactly as documents are."""
    return [str(t) for t in _ANALYZER.analyze(text)]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("paper_id", indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name=TOKENIZER)
    builder.add_text_field("abstract", tokenizer_name=TOKENIZER)
    builder.add_integer_field("watermark", fast=True)
    return builder.build()


SCHEMA = _schema()
_MEMORY: dict[int, tuple[Any, tantivy.Index]] = {}
_OPEN: dict[Path, tantivy.Index] = {}
_LOCK = threading.Lock()


def index_dir(db: sqlite_utils.Database) -> Path | None:
    """`<database file>.search/v<N>`, or None for an in-memory database."""
    for _, name, filename in db.execute("PRAGMA database_list").fetchall():
        if name == "main" and filename:
            return Path(f"{filename}.search") / f"v{INDEX_VERSION}"
    return None


def open_index(db: sqlite_utils.Database) -> tantivy.Index:
    """This database's index (created empty if missing), current as of the latest commit."""
    directory = index_dir(db)
    with _LOCK:
        if directory is None:
            entry = _MEMORY.get(id(db.conn))
            if entry is None or entry[0] is not db.conn:
                entry = (db.conn, _new_index(None))
                _MEMORY[id(db.conn)] = entry
            return entry[1]
        index = _OPEN.get(directory)
        if index is None:
            created = not (directory / "meta.json").exists()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                index = _new_index(directory)
            except (OSError, ValueError) as exc:
                raise DlradarError(
                    f"cannot open the search index {directory}: {exc}"
                    " (`dlradar reindex` rebuilds it from the database)"
                ) from exc
            if created:
                # A new (or deleted) index holds nothing: every stored paper goes back in the
                # queue, whatever an earlier index had taken in.
                requeue_all(db)
            _OPEN[directory] = index
    index.reload()
    return index


def requeue_all(db: sqlite_utils.Database) -> None:
    """Queue every stored paper for indexing (those not queued already)."""
    from core.db import transaction

    with transaction(db):
        db.execute(
            "INSERT INTO search_queue (paper_id) SELECT id FROM papers"
            " WHERE id NOT IN (SELECT paper_id FROM search_queue) ORDER BY id"
        )


def rebuild(db: sqlite_utils.Database, *, progress: ProgressFn | None = None) -> IndexRun:
    """Delete this database's index and build it again from the stored papers."""
    directory = index_dir(db)
    forget(db)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
    index = open_index(db)  # new and empty, with every paper queued (on disk)
    if directory is None:
        requeue_all(db)
    run = index_pending(db, progress=progress)
    prune(db, index)
    return run


def _new_index(directory: Path | None) -> tantivy.Index:
    index = tantivy.Index(SCHEMA, path=None if directory is None else str(directory), reuse=True)
    index.register_tokenizer(TOKENIZER, _ANALYZER)
    return index


def forget(db: sqlite_utils.Database) -> None:
    """Drop this process's handle on the index (after a fork, or before deleting it)."""
    directory = index_dir(db)
    with _LOCK:
        if directory is None:
            _MEMORY.pop(id(db.conn), None)
        else:
            _OPEN.pop(directory, None)


# -- the queue ---------------------------------------------------------------------------------


def queue(db: sqlite_utils.Database, paper_ids: Sequence[int]) -> None:
    """Queue papers for (re-)indexing; the caller owns the transaction."""
    db.conn.executemany("INSERT INTO search_queue (paper_id) VALUES (?)", [(i,) for i in paper_ids])


def watermark(index: tantivy.Index) -> int:
    """The last queue sequence number the index holds."""
    searcher = index.searcher()
    hits = searcher.search(_meta_query(), 1, count=False).hits
    if not hits:
        return 0
    value = searcher.fast_field_values("watermark", [hits[0][1]])[0]
    return int(value or 0)


def highest_paper_id(index: tantivy.Index) -> int:
    """The highest paper id among the index's committed documents (0 when it has none)."""
    searcher = index.searcher()
    hits = searcher.search(
        tantivy.Query.all_query(), 1, count=False, order_by_field="paper_id"
    ).hits
    return max(int(hits[0][0]), 0) if hits else 0


def _meta_query() -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, "paper_id", _META_ID)


def backlog(db: sqlite_utils.Database, index: tantivy.Index | None = None) -> int:
    """How many queue entries the index has not taken in yet."""
    mark = watermark(index or open_index(db))
    row = db.execute("SELECT COUNT(*) FROM search_queue WHERE seq > ?", [mark]).fetchone()
    return int(row[0])


def prune(db: sqlite_utils.Database, index: tantivy.Index | None = None) -> None:
    """Remove queue entries the index already holds (needs the database write lock)."""
    mark = watermark(index or open_index(db))
    if mark:
        db.execute("DELETE FROM search_queue WHERE seq <= ?", [mark])


@dataclass
class IndexRun:
    indexed: int = 0
    commits: int = 0


def index_pending(
    db: sqlite_utils.Database,
    *,
    stop: Callable[[], bool] | None = None,
    progress: ProgressFn | None = None,
    checkpoint: bool = False,
    threads: int = 2,
) -> IndexRun:
    """Index every queued paper after the watermark, committing every COMMIT_EVERY papers.

    With `stop`, keeps polling the queue (for papers an import is still storing) until
    `stop()` is true and nothing is left. With `checkpoint`, also copies the database's
    write-ahead log into the database file as it goes. `threads` are tantivy's indexing
    threads: two cut a 100k-paper rebuild from 3.3 to 2.2 s on two cores. Raises
    IndexBusy when another process holds the index's writer.
    """
    index = open_index(db)
    try:
        writer = index.writer(_HEAP, num_threads=threads)
    except ValueError as exc:
        raise IndexBusy(f"the search index is being written by another process ({exc})") from exc
    run = IndexRun()
    uncommitted = 0
    try:
        mark = watermark(index)
        # A paper above every id the index has held can have no document to replace: a bulk
        # import's new papers skip the delete (a tenth of the indexer's time at 100k).
        held = highest_paper_id(index)
        while True:
            finishing = stop is None or stop()
            rows = db.execute(
                "SELECT q.seq, q.paper_id, p.title, p.abstract FROM search_queue q"
                " LEFT JOIN papers p ON p.id = q.paper_id WHERE q.seq > ? ORDER BY q.seq LIMIT ?",
                [mark, _CHUNK],
            ).fetchall()
            for seq, paper_id, title, abstract in rows:
                if paper_id <= held:
                    writer.delete_documents_by_term("paper_id", paper_id)
                else:
                    held = paper_id
                if title is not None:  # a paper deleted since it was queued stays out
                    writer.add_document(
                        tantivy.Document(paper_id=paper_id, title=title, abstract=abstract or "")
                    )
                mark = seq
            uncommitted += len(rows)
            run.indexed += len(rows)
            young_collect()
            if checkpoint and rows:
                # Copy the write-ahead log into the database from this core: the importer's
                # own checkpoint (every 1,000 pages, which also lets the log start over) then
                # finds most of the copying done. PASSIVE never blocks the importer.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            caught_up = len(rows) < _CHUNK
            # Beside an import, catching up is no reason to commit: each commit makes a
            # segment that tantivy must merge later.
            if uncommitted and (uncommitted >= COMMIT_EVERY or (caught_up and finishing)):
                _commit(writer, mark)
                run.commits += 1
                uncommitted = 0
                if progress:
                    progress(f"search index: {run.indexed:,} papers indexed")
            if caught_up:
                if finishing:
                    break
                time.sleep(0.2)  # the importer is storing the next page
    except (ValueError, OSError) as exc:  # tantivy reports I/O failures (a full disk) so
        with contextlib.suppress(Exception):
            writer.rollback()
        raise DlradarError(
            f"search index {index_dir(db) or '(in memory)'}: could not write ({exc});"
            f" {run.indexed - uncommitted:,} papers indexed, the rest stay queued"
        ) from exc
    finally:
        with contextlib.suppress(Exception):
            writer.wait_merging_threads()
    index.reload()
    return run


def _commit(writer: tantivy.IndexWriter, mark: int) -> None:
    writer.delete_documents_by_term("paper_id", _META_ID)
    writer.add_document(tantivy.Document(paper_id=_META_ID, watermark=mark))
    writer.commit()


def ensure_indexed(db: sqlite_utils.Database) -> tantivy.Index:
    """The index, brought up to date first if papers are queued (e.g. after an interrupted
    import); while another process is writing it, searches what it already holds."""
    index = open_index(db)
    if backlog(db, index):
        with contextlib.suppress(IndexBusy):
            index_pending(db)
            with contextlib.suppress(Exception):
                prune(db, index)
    return index


# -- indexing beside an import -------------------------------------------------------------------


def _indexer_main(db_path: str, parent: int, done: Any, failed: Any) -> None:
    from core.db import open_db

    _die_with_parent(parent)
    _OPEN.clear()  # handles inherited through fork belong to the parent
    try:
        db = open_db(db_path, migrate=False)
        with paused_gc():
            # One thread: the importer keeps the other core busy.
            index_pending(
                db,
                stop=lambda: done.is_set() or os.getppid() != parent,
                checkpoint=True,
                threads=1,
            )
    except BaseException as exc:  # reported to the parent, which decides what it means
        failed.put(f"{type(exc).__name__}: {exc}")
        os._exit(1)
    os._exit(0)


def _die_with_parent(parent: int) -> None:
    # If the importer is SIGKILLed, stop at once instead of committing half an import's
    # worth of index: the queue still holds everything, so the next run redoes it.
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


@dataclass
class Beside:
    """What became of the indexer that ran beside an import."""

    error: str | None = None


@contextlib.contextmanager
def indexing_beside(db: sqlite_utils.Database) -> Iterator[Beside]:
    """Index queued papers in a second process while the body stores them (a big import).

    On leaving normally, waits for the indexer to take in everything queued; if the body
    raises, the indexer is stopped and the queue keeps the rest. An indexer that fails says
    why in `Beside.error`; the caller's own `index_pending` then does the work.
    """
    outcome = Beside()
    directory = index_dir(db)
    if directory is None or "fork" not in mp.get_all_start_methods():
        yield outcome
        return
    from core.db import db_file

    ctx = mp.get_context("fork")  # the child needs none of spawn's re-imports
    done = ctx.Event()
    failed: Any = ctx.SimpleQueue()
    process = ctx.Process(
        target=_indexer_main, args=(str(db_file(db)), os.getpid(), done, failed), daemon=True
    )
    process.start()
    # Checkpoint every 40 MB of log instead of 4 MB: half the importer's commit time at 100k
    # papers (scripts/ingest.py), with the log still bounded and restarted.
    (autocheckpoint,) = db.execute("PRAGMA wal_autocheckpoint").fetchone()
    db.execute(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
    try:
        yield outcome
    except BaseException:
        process.kill()
        process.join()
        raise
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    done.set()
    process.join()
    if not failed.empty():
        outcome.error = str(failed.get())
    elif process.exitcode:
        outcome.error = f"the indexer process exited with code {process.exitcode}"
