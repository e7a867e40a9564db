"""Old databases open in the current version, their rows intact field by field.

For every past schema level, a database is built by replaying the migrations of each component
up to that level (core.db.apply_migrations with truncated step lists), populated with rows
written the way that version's code wrote them, then opened with the current code
(dlradar.database.open_db). Level k holds each component at min(k, its number of migrations),
so every released version of every component is upgraded from at least once.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bench.store import list_peaks, result_rows, samples
from core.db import Schema, applied_versions, apply_migrations, register_functions
from dlradar.database import SCHEMAS, open_db
from tracker.query import get_paper

CURRENT = {s.component: len(s.steps) for s in SCHEMAS}
LEVELS = range(1, max(CURRENT.values()))  # every level older than the current one
NOW = "2024-03-01T10:00:00+00:00"


def test_every_component_is_covered() -> None:
    # A new component, or a migration that is not numbered 1..n, needs this file to learn it.
    assert set(CURRENT) == {"tracker", "tagging", "discovery", "attention", "bench", "digest"}
    for schema in SCHEMAS:
        assert [m.version for m in schema.steps] == list(range(1, len(schema.steps) + 1))
    # Each past version of each component is built by some level.
    for component, current in CURRENT.items():
        assert {min(k, current) for k in LEVELS} >= set(range(1, current)), component


def _versions_at(level: int) -> dict[str, int]:
    return {component: min(level, n) for component, n in CURRENT.items()}


def _build(path: Path, versions: dict[str, int]) -> sqlite_utils.Database:
    """A database whose components stand at `versions`, as that release created it."""
    conn = sqlite3.connect(path, isolation_level=None)
    register_functions(conn)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    truncated = []
    for schema in SCHEMAS:
        old = Schema(schema.component)
        old.steps = schema.steps[: versions[schema.component]]
        truncated.append(old)
    apply_migrations(db, truncated)
    assert applied_versions(db) == versions
    return db


# --- rows as each version wrote them ---------------------------------------------------------

PAPERS: list[dict[str, Any]] = [
    {
        "id": 1,
        "arxiv_id": "1706.03762",
        "arxiv_version": 5,
        "doi": None,
        "openreview_id": None,
        "title": "Attention Is All You Need",
        "title_key": "attention is all you need|vaswani",
        "abstract": "The dominant sequence transduction models are based on recurrent networks.",
        "venue": "NeurIPS",
        "year": 2017,
        "published": "2017-06-12",
        "updated": "2017-12-06",
        "primary_category": "cs.CL",
        "comment": "15 pages",
        "journal_ref": None,
        "license": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
        "url": "https://arxiv.org/abs/1706.03762",
        "pdf_url": "https://arxiv.org/pdf/1706.03762",
        "curated": 0,
        "stage": None,
        "rank": 40,
        "first_seen": NOW,
        "last_seen": NOW,
    },
    {
        "id": 2,
        "arxiv_id": None,
        "arxiv_version": None,
        "doi": "10.1000/graph.attention",
        "openreview_id": "rJXMpikCZ",
        "title": "Graph Attention Networks",
        "title_key": "graph attention networks|velickovic",
        "abstract": "We present graph attention networks (GATs).",
        "venue": "ICLR",
        "year": 2018,
        "published": None,
        "updated": None,
        "primary_category": None,
        "comment": None,
        "journal_ref": None,
        "license": None,
        "url": "https://openreview.net/forum?id=rJXMpikCZ",
        "pdf_url": None,
        "curated": 1,
        "stage": "gnns",
        "rank": 50,
        "first_seen": NOW,
        "last_seen": NOW,
    },
]
AUTHORS = {1: ["Ashish Vaswani", "Noam Shazeer"], 2: ["Petar Veličković"]}
CATEGORIES = {1: ["cs.CL", "cs.LG"], 2: []}
SOURCES = [("arxiv-api", "1706.03762", 1), ("neurips", "3f5ee2", 1), ("catalogue", "gat", 2)]
FAMILIES = [
    (1, "transformer", 0.9, '["attention", "transformer"]', "rules-1"),
    (2, "gnn", 1.0, '["curated"]', "catalogue"),
]
FETCH_RUN = {
    "id": 1,
    "source": "arxiv-api",
    "scope": "cs.LG 2024-02-01..2024-02-08",
    "params": '{"page_size": 100}',
    "started_at": NOW,
    "finished_at": NOW,
    "status": "partial",
    "seen": 2,
    "new": 2,
    "updated": 0,
    "pages": 1,
    "errors": '["HTTP 503"]',
    "cursor": '{"start": 100}',
    "message": "stopped after page 1",
}


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def _populate_tracker(db: sqlite_utils.Database, version: int) -> None:
    for paper in PAPERS:
        _insert(db, "papers", paper)
        if version < 5:  # the SQLite FTS index of v1..v4, fed by the store
            db.execute(
                "INSERT INTO papers_fts (rowid, title, abstract) VALUES (?, ?, ?)",
                [paper["id"], paper["title"], paper["abstract"]],
            )
        if version == 4:
            db.execute("INSERT INTO fts_pending (paper_id) VALUES (?)", [paper["id"]])
        if version >= 5:
            db.execute("INSERT INTO search_queue (paper_id) VALUES (?)", [paper["id"]])
    for paper_id, names in AUTHORS.items():
        for position, name in enumerate(names):
            db.execute("INSERT INTO paper_authors VALUES (?, ?, ?)", [paper_id, position, name])
    for paper_id, categories in CATEGORIES.items():
        for position, category in enumerate(categories):
            db.execute(
                "INSERT INTO paper_categories VALUES (?, ?, ?)", [paper_id, position, category]
            )
    for source, source_id, paper_id in SOURCES:
        db.execute(
            "INSERT INTO paper_sources VALUES (?, ?, ?, ?, ?)",
            [source, source_id, paper_id, NOW, NOW],
        )
    db.conn.executemany("INSERT INTO paper_families VALUES (?, ?, ?, ?, ?)", FAMILIES)
    _insert(db, "fetch_runs", FETCH_RUN)


def _populate_tagging(db: sqlite_utils.Database, version: int) -> None:
    # Paper 1 as tagged; paper 2 was edited after tagging under v1 (its text size changed).
    size_1 = len(PAPERS[0]["title"]) + len(PAPERS[0]["abstract"])
    db.execute("INSERT INTO paper_tagging VALUES (1, 'rules-1', ?, ?)", [size_1, NOW])
    db.execute("INSERT INTO paper_tagging VALUES (2, 'rules-1', 3, ?)", [NOW])


def _populate_discovery(db: sqlite_utils.Database, version: int) -> None:
    db.execute("INSERT INTO trend_cells VALUES ('2017-06', 'NeurIPS', '', '', 1)")
    if version >= 2:
        db.execute("UPDATE discovery_state SET value = 'cafebabe00000000' WHERE key = 'token'")


PEAK_V1 = {
    "id": 1,
    "measured_at": NOW,
    "gflops": 812.5,
    "gflops_size": 2048,
    "gflops_threads": 4,
    "bandwidth_gbs": 18.25,
    "bandwidth_kind": "copy",
    "bandwidth_threads": 4,
    "sizes": "[512, 2048]",
    "threads": "[1, 4]",
    "probes": '[{"size": 2048, "gflops": 812.5}]',
    "environment": '{"cpu": "test"}',
}
RUN = {
    "id": 1,
    "kind": "run",
    "profile": "quick",
    "started_at": NOW,
    "finished_at": NOW,
    "status": "ok",
    "environment": '{"machine": "m1"}',
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "peak_id": 1,
    "config": '{"threads": [1]}',
    "message": None,
}
RESULT = {
    "id": 1,
    "run_id": 1,
    "created_at": NOW,
    "model": "resnet18",
    "family": "cnn",
    "task": "image-classification",
    "backend": "torch",
    "device": "cpu",
    "dtype": "float32",
    "batch_size": 1,
    "threads_intra": 1,
    "threads_inter": 1,
    "params": 11_689_512,
    "flops": 3_638_000_000,
    "macs": 1_819_000_000,
    "flop_method": "fvcore",
    "exporter": None,
    "providers": None,
    "status": "ok",
    "stage": None,
    "error": None,
    "latency_count": 3,
    "latency_mean": 10.5,
    "latency_p50": 10.0,
    "latency_p90": 11.5,
    "latency_p95": 11.75,
    "latency_p99": 11.95,
    "latency_stdev": 0.8,
    "latency_iqr": 1.0,
    "latency_min": 9.5,
    "latency_max": 12.0,
    "stopped_by": "min_time",
    "throughput_per_s": 100.0,
    "peak_memory_mb": 321.5,  # before v3: the process's RSS high-water mark
    "cuda_peak_memory_mb": None,
    "build_s": 0.5,
    "export_s": None,
    "session_s": None,
    "first_call_ms": 40.0,
    "parity_max_abs_diff": None,
    "achieved_gflops": 363.8,
    "fraction_of_peak": 0.4478,
    "noisy": 0,
    "eval_metrics": '{"top1": 0.69}',
    "config": "{}",
}


def _populate_bench(db: sqlite_utils.Database, version: int) -> None:
    _insert(db, "bench_peaks", PEAK_V1)  # the v1 code knew no engine
    if version >= 2:
        _insert(db, "bench_peaks", {**PEAK_V1, "id": 2, "gflops_engine": "onnxruntime"})
    _insert(db, "bench_runs", RUN)
    result = dict(RESULT)
    if version >= 3:
        result.update(peak_memory_mb=88.25, process_peak_memory_mb=321.5, bytes_moved=4096)
    _insert(db, "bench_results", result)
    db.conn.executemany(
        "INSERT INTO bench_samples VALUES (1, ?, ?)", [(0, 9.5), (1, 10.0), (2, 12.0)]
    )


DIGEST = {
    "week": "2024-W08",
    "created": NOW,
    "since": "2024-02-19",
    "until": "2024-02-25",
    "counts": '{"papers": 2}',
    "files": '["2024-W08.md"]',
    "bench_after": 0,
    "bench_until": 1,
    "summary": "<p>2 papers</p>",
    "sent": None,
}


def _populate_digest(db: sqlite_utils.Database, version: int) -> None:
    _insert(db, "digests", DIGEST)
    db.execute("INSERT INTO digest_featured VALUES (1, '2024-W08', 1)")


def _old_database(path: Path, level: int) -> dict[str, int]:
    versions = _versions_at(level)
    db = _build(path, versions)
    db.execute("BEGIN")
    _populate_tracker(db, versions["tracker"])
    _populate_tagging(db, versions["tagging"])
    _populate_discovery(db, versions["discovery"])
    _populate_bench(db, versions["bench"])
    _populate_digest(db, versions["digest"])
    db.execute("COMMIT")
    db.conn.close()
    return versions


def _rows(db: sqlite_utils.Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.execute(sql).fetchall()]


# --- the upgrades ----------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_an_old_database_opens_with_every_row_intact(tmp_path: Path, level: int) -> None:
    path = tmp_path / "old.db"
    old = _old_database(path, level)
    db = open_db(path)
    try:
        assert applied_versions(db) == CURRENT
        _check_tracker(db, old["tracker"])
        _check_tagging(db, old["tagging"])
        _check_discovery(db, old["discovery"])
        _check_bench(db, old["bench"])
        _check_digest(db)
    finally:
        db.conn.close()
    # Opening again changes nothing.
    again = open_db(path)
    assert applied_versions(again) == CURRENT
    again.conn.close()


def _check_tracker(db: sqlite_utils.Database, version: int) -> None:
    columns = list(PAPERS[0])
    stored = [
        dict(zip(columns, row, strict=True))
        for row in db.execute(f"SELECT {', '.join(columns)} FROM papers ORDER BY id")
    ]
    assert stored == PAPERS
    by_paper: dict[int, list[str]] = {}
    for paper_id, name in _rows(
        db, "SELECT paper_id, name FROM paper_authors ORDER BY 1, position"
    ):
        by_paper.setdefault(paper_id, []).append(name)
    assert by_paper == AUTHORS
    assert _rows(db, "SELECT paper_id, category FROM paper_categories ORDER BY 1, position") == [
        (1, "cs.CL"),
        (1, "cs.LG"),
    ]
    assert _rows(db, "SELECT source, source_id, paper_id FROM paper_sources ORDER BY 3, 1") == [
        ("arxiv-api", "1706.03762", 1),
        ("neurips", "3f5ee2", 1),
        ("catalogue", "gat", 2),
    ]
    assert _rows(db, "SELECT * FROM paper_families ORDER BY paper_id") == FAMILIES
    run = db.execute(f"SELECT {', '.join(FETCH_RUN)} FROM fetch_runs").fetchall()
    assert [dict(zip(FETCH_RUN, r, strict=True)) for r in run] == [FETCH_RUN]
    # Every paper waits for the search index once (v5 queued the papers of older databases).
    assert _rows(db, "SELECT paper_id FROM search_queue ORDER BY seq") == [(1,), (2,)]
    assert not {"papers_fts", "papers_fts_vocab", "fts_pending"} & set(db.table_names())
    # What every reader gets, through the current query code.
    paper = get_paper(db, "1706.03762")
    assert paper["title"] == "Attention Is All You Need"
    assert paper["authors"] == AUTHORS[1]
    assert paper["categories"] == CATEGORIES[1]
    assert sorted(paper["sources"]) == ["arxiv-api", "neurips"]
    assert paper["families"] == ["transformer"]
    assert paper["family_evidence"]["transformer"] == {
        "confidence": 0.9,
        "evidence": ["attention", "transformer"],
        "tagger": "rules-1",
    }
    curated = get_paper(db, 2)
    assert (curated["doi"], curated["openreview_id"]) == ("10.1000/graph.attention", "rJXMpikCZ")
    assert curated["curated"] is True and curated["stage"] == "gnns"
    assert curated["authors"] == ["Petar Veličković"] and curated["published"] is None


def _check_tagging(db: sqlite_utils.Database, version: int) -> None:
    rows = _rows(db, "SELECT paper_id, tagger, tagged_at FROM paper_tagging ORDER BY paper_id")
    if version < 2:
        # v2 drops the row of a paper edited since it was tagged: it is tagged again.
        assert rows == [(1, "rules-1", NOW)]
    else:
        assert rows == [(1, "rules-1", NOW), (2, "rules-1", NOW)]
    # And from now on an edit is caught by the trigger.
    db.execute("UPDATE papers SET abstract = abstract || ' Revised.' WHERE id = 1")
    assert _rows(db, "SELECT paper_id FROM paper_tagging WHERE paper_id = 1") == []


def _check_discovery(db: sqlite_utils.Database, version: int) -> None:
    assert _rows(db, "SELECT * FROM trend_cells") == [("2017-06", "NeurIPS", "", "", 1)]
    token = db.execute("SELECT value FROM discovery_state WHERE key = 'token'").fetchone()[0]
    if version >= 2:
        assert token == "cafebabe00000000"  # an index built for this database stays valid
    else:
        assert len(token) == 16
    if version < 3:
        # The cube is rebuilt in full from the papers on the next trend query.
        assert _rows(db, "SELECT value FROM trend_state WHERE key = 'watermark'") == [(0,)]
        assert ("*",) in _rows(db, "SELECT bucket FROM trend_dirty")


def _check_bench(db: sqlite_utils.Database, version: int) -> None:
    peaks = list_peaks(db)
    # A peak measured before v2 was measured with torch's GEMM: that is its engine.
    expected = [{**PEAK_V1, "gflops_engine": "torch"}]
    if version >= 2:
        expected.append({**PEAK_V1, "id": 2, "gflops_engine": "onnxruntime"})
    for row in expected:
        for key in ("sizes", "threads", "probes", "environment"):
            row[key] = json.loads(row[key])
    assert peaks == expected
    run = db.execute(f"SELECT {', '.join(RUN)} FROM bench_runs").fetchall()
    assert [dict(zip(RUN, r, strict=True)) for r in run] == [RUN]

    (row,) = result_rows(db)
    # Before v3 peak_memory_mb was the process's high-water mark: it moves, and the
    # configuration's own memory is unknown rather than wrong.
    memory = (None, 321.5, None) if version < 3 else (88.25, 321.5, 4096)
    assert (row["peak_memory_mb"], row["process_peak_memory_mb"], row["bytes_moved"]) == memory
    stored = db.execute(
        "SELECT peak_memory_mb, process_peak_memory_mb, bytes_moved FROM bench_results"
    ).fetchone()
    assert tuple(stored) == memory
    assert row["latency_ms"] == {
        "mean": 10.5,
        "p50": 10.0,
        "p90": 11.5,
        "p95": 11.75,
        "p99": 11.95,
        "stdev": 0.8,
        "iqr": 1.0,
        "min": 9.5,
        "max": 12.0,
        "count": 3,
    }
    assert (row["model"], row["family"], row["backend"], row["device"]) == (
        "resnet18",
        "cnn",
        "torch",
        "cpu",
    )
    assert (row["batch_size"], row["threads"], row["inter_op_threads"]) == (1, 1, 1)
    assert (row["params"], row["flops"], row["macs"]) == (11_689_512, 3_638_000_000, 1_819_000_000)
    assert (row["throughput_per_s"], row["achieved_gflops"], row["fraction_of_peak"]) == (
        100.0,
        363.8,
        0.4478,
    )
    assert (row["status"], row["stopped_by"], row["noisy"]) == ("ok", "min_time", False)
    assert row["eval"] == {"top1": 0.69}
    assert row["created_at"] == NOW
    assert samples(db, 1) == [9.5, 10.0, 12.0]


def _check_digest(db: sqlite_utils.Database) -> None:
    stored = db.execute(f"SELECT {', '.join(DIGEST)} FROM digests").fetchall()
    assert [dict(zip(DIGEST, r, strict=True)) for r in stored] == [DIGEST]
    assert _rows(db, "SELECT * FROM digest_featured") == [(1, "2024-W08", 1)]
