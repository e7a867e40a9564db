"""Ingest benchmark: import rate, database size and `papers --search` latency at N papers.

Generates N papers in the bulk arXiv snapshot format (Zipf-like vocabulary, abstracts of
100-220 words; see tracker/synthetic.py), imports them end to end (parse, normalise,
deduplicate, store, index) into a fresh database, then times full-text searches.

    .venv/bin/python scripts/ingest.py                      # 10k and 100k
    .venv/bin/python scripts/ingest.py --sizes 1000000      # 1M (about 2.5 GB of disk)

Goals on a 2-core machine: >= 20,000 papers/s imported; search p95 < 50 ms at 1M papers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dlradar.database import open_db
from tracker.importer import import_file
from tracker.query import PaperFilter, find_papers
from tracker.synthetic import vocabulary, write_snapshot

# Common words (millions of matches at 1M), mid-frequency, rare, and multi-word queries.
QUERIES = [
    "model", "learning", "neural network", "transformer", "diffusion", "graph",
    "attention model", "reinforcement policy", "segmentation", "contrastive pretraining",
    "the of and", "latent space embedding",
]  # fmt: skip


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (the reader and the indexer)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(size: int, workdir: Path, repeats: int) -> dict[str, float]:
    source = workdir / f"snapshot-{size}.json"
    if not source.exists():
        t = time.perf_counter()
        write_snapshot(source, size, seed=size)
        print(f"  generated {size:,} papers in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    db_path = workdir / f"ingest-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{db_path}.search", ignore_errors=True)
    db = open_db(db_path)
    load_before = os.getloadavg()[0]
    cpu = _cpu_seconds()
    t = time.perf_counter()
    result = import_file(db, source)
    elapsed = time.perf_counter() - t
    cpu_main, cpu_children = (
        after - before for after, before in zip(_cpu_seconds(), cpu, strict=True)
    )
    # Random titles from a Zipf vocabulary with the same first author do occur at 1M: the
    # store rightly merges them, so count what was read.
    assert result.counts.seen == size and result.status == "ok", result.summary()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [Path(f"{db_path}{s}") for s in ("", "-wal")]
    files += [f for f in Path(f"{db_path}.search").rglob("*") if f.is_file()]
    size_mb = sum(f.stat().st_size for f in files if f.exists()) / 1e6
    rare = vocabulary(50_000, seed=size)[-5:]
    queries = [*QUERIES, *rare]
    latencies: list[float] = []
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            find_papers(db, PaperFilter(search=q), limit=20)
            latencies.append((time.perf_counter() - t) * 1000)
    filtered: list[float] = []
    for q in [*QUERIES, *rare] * repeats:
        t = time.perf_counter()
        find_papers(db, PaperFilter(search=q, categories=("cs.CV",), year_from=2020), limit=20)
        filtered.append((time.perf_counter() - t) * 1000)
    db.conn.close()
    return {
        "papers": size,
        "merged": result.counts.updated,
        "import_s": elapsed,
        "papers_per_s": size / elapsed,
        "db_mb": size_mb,
        "search_p50_ms": statistics.median(latencies),
        "search_p95_ms": percentile(latencies, 0.95),
        "search_max_ms": max(latencies),
        "filtered_p50_ms": statistics.median(filtered),
        "filtered_p95_ms": percentile(filtered, 0.95),
        "cpu_main_s": cpu_main,
        "cpu_children_s": cpu_children,
        "load_before": load_before,
        "filtered_max_ms": max(filtered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=None, help="Keep generated files here.")
    parser.add_argument("--repeats", type=int, default=5, help="Passes over the query set.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dlradar-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"work directory: {workdir}", file=sys.stderr)
    print(
        f"{'papers':>9} {'import s':>9} {'papers/s':>9} {'cpu s':>11} {'db MB':>8}"
        f" {'search p50':>11} {'p95 ms':>8} {'max ms':>8} {'filtered p50':>13} {'p95 ms':>8}"
    )
    for size in args.sizes:
        r = run(size, workdir, args.repeats)
        cpu = f"{r['cpu_main_s']:.1f}+{r['cpu_children_s']:.1f}"
        print(
            f"{r['papers']:>9,} {r['import_s']:>9.1f} {r['papers_per_s']:>9,.0f} {cpu:>11}"
            f" {r['db_mb']:>8.0f} {r['search_p50_ms']:>11.1f} {r['search_p95_ms']:>8.1f}"
            f" {r['search_max_ms']:>8.1f} {r['filtered_p50_ms']:>13.1f}"
            f" {r['filtered_p95_ms']:>8.1f}",
            flush=True,
        )
        if r["load_before"] > 0.5:
            print(f"  (load average {r['load_before']:.1f} before the import: figures are noisy)")
    print(
        "cpu s = this process + its reader and indexer processes. Goals: >= 20,000 papers/s;"
        " search p95 < 50 ms at 1,000,000 papers."
    )


if __name__ == "__main__":
    main()
