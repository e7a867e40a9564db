"""Write the tagger's families into the tracker's database (`dlradar tag`).

`tag_papers` classifies every paper not yet tagged by the current TAGGER_VERSION (or whose
title or abstract changed since: a trigger of tracker.tagging.schema forgets its tagging), or
every paper with `retag_all`, and replaces its machine tags in `paper_families` (tagger =
TAGGER_VERSION, evidence = JSON list of the words that decided). Papers with curated families
(tagger = 'curated', from the landmark catalogue) keep them untouched and get no machine tags.
Work goes in batches, each in one transaction, so an interrupted run keeps what it finished and
the next run goes on from there.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult

import sqlite_utils

from core.bulk import paused_gc, young_collect
from core.db import transaction, utc_now
from tracker import overview, trends
from tracker.schema import NOTE_CORPUS_CHANGE
from tracker.tagging.classify import TAGGER_VERSION, Classification, Tagger, default_tagger
from tracker.tagging.schema import ensure_schema

CURATED = "curated"
BATCH = 5_000


@dataclass
class TagStats:
    """What one `tag_papers` run did."""

    tagged: int = 0  # papers classified and stored
    rows: int = 0  # family rows written
    without_family: int = 0  # tagged papers that got no family
    curated: int = 0  # papers left alone because they carry curated families
    families: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        counts = ", ".join(f"{f} {n}" for f, n in sorted(self.families.items()))
        return (
            f"tagged {self.tagged} papers ({self.rows} family tags"
            f"{': ' + counts if counts else ''}; {self.without_family} without a family),"
            f" kept the curated families of {self.curated}"
        )


def _pending_query(retag_all: bool) -> str:
    stale = "" if retag_all else " AND (t.paper_id IS NULL OR t.tagger != :version)"
    return (
        # A curated paper keeps the catalogue's families, even none (Support-Vector Networks).
        "SELECT p.id, p.title, p.abstract, (p.curated = 1 OR EXISTS (SELECT 1 FROM paper_families f"
        " WHERE f.paper_id = p.id AND f.tagger = 'curated'))"
        " FROM papers p LEFT JOIN paper_tagging t ON t.paper_id = p.id"
        f" WHERE p.id > :after{stale} ORDER BY p.id LIMIT :limit"
    )


# One paper's result as the workers hand it back: (paper_id, text size, has curated families,
# [(family, confidence, evidence JSON)]).
_Result = tuple[int, int, bool, list[tuple[str, float, str]]]
_Row = tuple[int, str | None, str | None, int]


def _classify_rows(rows: list[_Row], tagger: Tagger | None = None) -> list[_Result]:
    with paused_gc():  # classify's many short-lived objects hold no cycles (core.bulk)
        out = _classify_each(rows, (tagger or default_tagger()).classify)
        young_collect()
    return out


def _classify_each(
    rows: list[_Row], classify: Callable[[str, str], Classification]
) -> list[_Result]:
    out: list[_Result] = []
    # The same evidence lists come back again and again ("LLM", "large language model"):
    # encode each once.
    encoded: dict[tuple[str, ...], str] = {}
    for paper_id, title, abstract, has_curated in rows:
        title, abstract = title or "", abstract or ""
        size = len(title) + len(abstract)
        if has_curated:
            out.append((paper_id, size, True, []))
            continue
        result = classify(title, abstract)
        tags = []
        for f in result.families:
            labels = tuple(result.evidence[f])
            evidence = encoded.get(labels)
            if evidence is None:
                evidence = encoded[labels] = json.dumps(labels, ensure_ascii=False)
            tags.append((f, result.confidence[f], evidence))
        out.append((paper_id, size, False, tags))
    return out


def _store(db: sqlite_utils.Database, results: list[_Result], stats: TagStats) -> None:
    now = utc_now()
    machine_ids = [(r[0],) for r in results if not r[2]]
    family_rows = [
        (paper_id, fam, confidence, evidence, TAGGER_VERSION)
        for paper_id, _, curated, tags in results
        if not curated
        for fam, confidence, evidence in tags
    ]
    state_rows = [(r[0], TAGGER_VERSION, r[1], now) for r in results]
    conn = db.conn
    with transaction(db):
        conn.executemany(
            "DELETE FROM paper_families WHERE paper_id = ? AND tagger != 'curated'", machine_ids
        )
        # Plain INSERT: the paper's machine rows are gone and curated papers are skipped, so
        # nothing conflicts; an OR clause here would also override the conflict policy of the
        # trend triggers on paper_families (tracker.schema_discovery).
        conn.executemany(
            "INSERT INTO paper_families"
            " (paper_id, family, confidence, evidence, tagger) VALUES (?, ?, ?, ?, ?)",
            family_rows,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO paper_tagging (paper_id, tagger, text_size, tagged_at)"
            " VALUES (?, ?, ?, ?)",
            state_rows,
        )
        conn.execute(NOTE_CORPUS_CHANGE)
    for _, _, curated, tags in results:
        if curated:
            stats.curated += 1
            continue
        stats.tagged += 1
        stats.without_family += not tags
        stats.families.update(fam for fam, _, _ in tags)
    stats.rows += len(family_rows)


def tag_papers(
    db: sqlite_utils.Database,
    *,
    retag_all: bool = False,
    tagger: Tagger | None = None,
    workers: int | None = None,
    batch_size: int = BATCH,
    progress: Callable[[TagStats], None] | None = None,
) -> TagStats:
    """Tag the papers that need it (all of them with `retag_all`); returns the counts.

    `workers` processes classify while this one reads and writes (default: one per CPU once
    there is more than a batch to do; 1 = all in this process). A custom `tagger` runs here.
    """
    ensure_schema(db)
    sql = _pending_query(retag_all)
    stats = TagStats()
    after = 0

    def read() -> list[_Row]:
        nonlocal after
        rows: list[_Row] = db.conn.execute(
            sql, {"after": after, "limit": batch_size, "version": TAGGER_VERSION}
        ).fetchall()
        if rows:
            after = rows[-1][0]
        return rows

    batch = read()
    if workers is None:
        workers = (os.cpu_count() or 1) if len(batch) == batch_size else 1
    if tagger is not None or workers <= 1:
        while batch:
            _store(db, _classify_rows(batch, tagger), stats)
            if progress is not None:
                progress(stats)
            batch = read()
    else:
        _tag_in_pool(db, batch, read, workers, stats, progress)
    if stats.tagged:
        # The trend cube is brought up to date here, in the tagging job, so the first
        # `dlradar trends` or dashboard page after a big re-tag does not pay for it (a full
        # rebuild at 1M papers takes about 4 s). If another writer holds the lock, the first
        # reader refreshes instead.
        trends.refresh_if_free(db)
        overview.refresh_summary_if_free(db)
    return stats


def _tag_in_pool(
    db: sqlite_utils.Database,
    batch: list[_Row],
    read: Callable[[], list[_Row]],
    workers: int,
    stats: TagStats,
    progress: Callable[[TagStats], None] | None,
) -> None:
    # Pipeline: the workers classify the next batches while this process stores the last one.
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with context.Pool(workers) as pool:
        queue: deque[AsyncResult[list[_Result]]] = deque()
        while batch or queue:
            if batch:
                queue.append(pool.apply_async(_classify_rows, (batch,)))
                batch = read()
            if queue and (len(queue) > workers or not batch):
                _store(db, queue.popleft().get(), stats)
                if progress is not None:
                    progress(stats)
