"""Ingest floor: the CPU that the native libraries alone spend on an import, per 100k papers.

An import's work splits into native code (orjson parsing lines, SQLite inserting rows and
committing pages, tantivy indexing documents) and the Python around it (normalising, merging,
moving records between processes). This script times the native parts alone, with every
input built beforehand and untimed, on the same generated snapshot as scripts/ingest.py:

- parse:  orjson.loads of every line of the file;
- store:  every statement of the import's page transactions (BEGIN, `PaperStore.add`'s SQL,
          the search queue, COMMIT), timed inside sqlite3 only, at the import's checkpoint interval;
- index:  tantivy add_document and commit for every paper, Document objects built beforehand.

It then prints how much CPU the import rate goal leaves for everything else. Compare the
figure with scripts/ingest.py's "cpu s" column, which is the whole pipeline's CPU.

Two leaner variants bound what any redesign of the same work could reach: the store without
the indexes that only queries use (deduplication still needs the unique identifiers and the
title key), and a tantivy index that keeps term frequencies but no positions (no phrase
search). SQLite has one writer, so the lean store's CPU is also a floor on the wall time of
storing, whatever else runs on the other core.

    .venv/bin/python scripts/ingest_floor.py                  # 100k papers
    .venv/bin/python scripts/ingest_floor.py --papers 20000 --goal 20000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import tantivy

from core.db import transaction
from dlradar.database import open_db
from tracker import search_index
from tracker.sources import arxiv_snapshot
from tracker.store import PaperStore
from tracker.synthetic import write_snapshot


class _TimedConnection:
    """A sqlite3 connection whose statement calls add their CPU time to `seconds`."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:  # in_transaction and the rest, untimed
        return getattr(self._conn, name)

    def _timed(self, method: str, *args: Any) -> Any:
        start = time.process_time()
        try:
            return getattr(self._conn, method)(*args)
        finally:
            self.seconds += time.process_time() - start

    def execute(self, *args: Any) -> Any:
        return self._timed("execute", *args)

    def executemany(self, *args: Any) -> Any:
        return self._timed("executemany", *args)


@contextmanager
def _fresh_db(path: Path) -> Iterator[Any]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{path}.search", ignore_errors=True)
    db = open_db(path)
    try:
        yield db
    finally:
        db.conn.close()


def parse_seconds(source: Path) -> float:
    lines = source.read_bytes().splitlines()
    start = time.process_time()
    for line in lines:
        orjson.loads(line)
    return time.process_time() - start


# Indexes that serve queries (date, venue, category filters; a paper's sources) but not the
# deduplication a store must do.
QUERY_ONLY_INDEXES = (
    "papers_published",
    "papers_year_venue",
    "papers_venue_nocase",
    "paper_categories_category",
    "paper_sources_paper",
)


def store_seconds(
    source: Path, db_path: Path, *, lean: bool = False
) -> tuple[float, list[tuple[int, str, str]]]:
    """CPU inside sqlite3 for the store's statements and commits; returns the stored texts.

    `lean` drops the QUERY_ONLY_INDEXES first."""
    pages = [page.records for page in arxiv_snapshot.read(source)]
    with _fresh_db(db_path) as db:
        if lean:
            for name in QUERY_ONLY_INDEXES:
                db.execute(f"DROP INDEX {name}")
        # As a big import sets it (tracker.search_index.indexing_beside): fewer checkpoints.
        db.execute(f"PRAGMA wal_autocheckpoint={search_index.BULK_CHECKPOINT_PAGES}")
        conn = db.conn
        timed = _TimedConnection(conn)
        # Every statement of a page goes through it: BEGIN, the store's SQL, the search
        # queue's insert and COMMIT.
        db.conn = timed  # type: ignore[assignment]
        for records in pages:
            with transaction(db):
                PaperStore(db).add(records)
        db.conn = conn
        texts = db.execute("SELECT id, title, abstract FROM papers ORDER BY id").fetchall()
    return timed.seconds, texts


def _schema_without_positions() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("paper_id", indexed=True, fast=True)
    for field in ("title", "abstract"):
        builder.add_text_field(field, tokenizer_name=search_index.TOKENIZER, index_option="freq")
    builder.add_integer_field("watermark", fast=True)
    return builder.build()


def index_seconds(
    texts: list[tuple[int, str, str]], directory: Path, threads: int, *, positions: bool = True
) -> float:
    """CPU of tantivy (all its threads) adding and committing prebuilt documents."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    schema = search_index.SCHEMA if positions else _schema_without_positions()
    index = tantivy.Index(schema, path=str(directory))
    index.register_tokenizer(search_index.TOKENIZER, search_index.analyzer())
    documents = [
        tantivy.Document(paper_id=paper_id, title=title, abstract=abstract)
        for paper_id, title, abstract in texts
    ]
    writer = index.writer(128_000_000, num_threads=threads)
    start = time.process_time()
    for document in documents:
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--goal", type=int, default=20_000, help="import goal, papers/s")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep generated files here.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dlradar-floor-"))
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"snapshot-{args.papers}.json"
    if not source.exists():
        write_snapshot(source, args.papers, seed=args.papers)
    print(f"work directory: {workdir}", file=sys.stderr)

    per = 100_000 / args.papers
    parse = parse_seconds(source) * per
    store, texts = store_seconds(source, workdir / "floor.db")
    store *= per
    index_one = index_seconds(texts, workdir / "floor.search", threads=1) * per
    index_two = index_seconds(texts, workdir / "floor.search", threads=2) * per
    native = parse + store + min(index_one, index_two)
    lean_store = store_seconds(source, workdir / "floor.db", lean=True)[0] * per
    lean_index = index_seconds(texts, workdir / "floor.search", threads=2, positions=False) * per
    lean = parse + lean_store + min(lean_index, index_one, index_two)
    cores = os.cpu_count() or 1
    budget = cores * 100_000 / args.goal

    print(f"CPU seconds per 100,000 papers ({args.papers:,} measured), native code only:")
    print(f"  parse  (orjson.loads)                 {parse:6.2f}")
    print(f"  store  (sqlite3 statements, commits)  {store:6.2f}")
    print(f"  index  (tantivy, 1 thread)            {index_one:6.2f}")
    print(f"  index  (tantivy, 2 threads)           {index_two:6.2f}")
    print(f"  native floor                          {native:6.2f}")
    print(
        f"{args.goal:,} papers/s on {cores} cores allows {budget:.2f} CPU-s per 100,000 papers;"
        f" the native floor leaves {budget - native:.2f} ({(budget - native) * 10:.0f} µs a"
        " paper) for all the Python: normalising, deduplicating, building rows and documents,"
        " and passing records between processes."
    )
    print("Leaner variants (what a redesign of the same work could reach at best):")
    print(f"  store  without query-only indexes     {lean_store:6.2f}")
    print(f"  index  without positions, 2 threads   {lean_index:6.2f}")
    print(f"  lean native floor                     {lean:6.2f}")
    print(
        f"SQLite has one writer: even the lean store alone caps the import at"
        f" {100_000 / lean_store:,.0f} papers/s, with the indexing deferred and no Python at all."
    )


if __name__ == "__main__":
    main()
