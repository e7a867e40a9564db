"""How long each dashboard page takes to render at 100k papers (default) or 1M (--papers 1000000).

Builds a database with the project's own code (tracker.synthetic.write_snapshot +
tracker.importer.import_file), gives every paper one or two random families, adds a few
benchmark rows, then runs every page under Streamlit's AppTest: `cold` with the data cache
cleared (what the first visitor after a TTL expiry waits for), `warm` on a rerun (cached).
Module imports are excluded (a served dashboard is a long-lived process).

    .venv/bin/python scripts/dashboard_pages.py                    # 100k papers
    .venv/bin/python scripts/dashboard_pages.py --papers 1000000   # 1M papers
    .venv/bin/python scripts/dashboard_pages.py --db /tmp/big.db   # reuse a database built before
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from bench import store  # noqa: E402
from bench.stats import LatencyStats  # noqa: E402
from dlradar.database import open_db  # noqa: E402
from tracker import overview, trends  # noqa: E402
from tracker.importer import import_file  # noqa: E402
from tracker.synthetic import write_snapshot  # noqa: E402

FAMILIES = (
    "mlp", "cnn", "rnn", "lstm", "gru", "transformer", "gnn", "gan", "vae", "diffusion", "ssm",
    "moe", "rl",
)  # fmt: skip
APP = str(ROOT / "dashboard" / "app.py")
SCENARIOS: tuple[tuple[str, dict[str, str]], ...] = (
    ("overview", {}),
    ("papers", {}),
    ("papers", {"family": "cnn", "year_from": "2020"}),
    ("papers", {"q": "diffusion transformer"}),
    ("trends", {}),
    ("benchmarks", {}),
    ("radar", {}),
    ("roadmap", {}),
    ("digests", {}),
)


def build(path: Path, papers: int) -> None:
    db = open_db(path)
    with tempfile.TemporaryDirectory(prefix="dlradar-bench-dash-") as tmp:
        start = time.perf_counter()
        snapshot = write_snapshot(Path(tmp) / "snapshot.jsonl", papers, seed=1)
        print(f"wrote {papers:,} papers in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        start = time.perf_counter()
        import_file(db, snapshot, tag=False)  # synthetic text: families are drawn below
        print(f"imported in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    tag_randomly(db)
    # An import tags its papers and brings the trend cube up to date in the same step
    # (tracker.ingest): do the same here, so no page pays for it.
    start = time.perf_counter()
    trends.refresh(db)
    overview.refresh_summary(db)
    print(
        f"trend cube and corpus summary built in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    add_bench_rows(db)
    db.conn.close()


def tag_randomly(db: sqlite_utils.Database, seed: int = 0) -> None:
    """One family per paper, a second for about a third of them (weighted like the field)."""
    rng = random.Random(seed)
    weights = [2, 8, 2, 2, 1, 30, 4, 2, 2, 10, 2, 3, 6]
    start = time.perf_counter()
    ids = [row[0] for row in db.execute("SELECT id FROM papers")]
    rows = []
    for paper_id in ids:
        first = rng.choices(FAMILIES, weights)[0]
        rows.append((paper_id, first, 0.9, '["synthetic"]', "synthetic"))
        if rng.random() < 0.33:
            second = rng.choices(FAMILIES, weights)[0]
            if second != first:
                rows.append((paper_id, second, 0.6, '["synthetic"]', "synthetic"))
    db.conn.execute("BEGIN")
    db.conn.executemany(
        "INSERT OR IGNORE INTO paper_families (paper_id, family, confidence, evidence, tagger)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    db.conn.execute("COMMIT")
    print(f"tagged {len(rows):,} rows in {time.perf_counter() - start:.1f} s", file=sys.stderr)


def add_bench_rows(db: sqlite_utils.Database) -> None:
    rng = random.Random(0)
    peak = {"gflops": 75.0, "gflops_size": 2048, "gflops_threads": 1, "bandwidth_gbs": 10.0,
            "bandwidth_kind": "copy", "bandwidth_threads": 1}  # fmt: skip
    peak_id = store.save_peak(db, peak)
    run_id = store.create_run(
        db, profile="quick", environment={"cpu_model": "synthetic"}, config={}, peak_id=peak_id
    )
    for model, family, median in (("lenet5", "cnn", 0.4), ("lstm", "lstm", 1.2)):
        for backend in ("torch", "onnxruntime"):
            samples = [median * (1 + abs(rng.gauss(0, 0.05))) for _ in range(200)]
            stats = LatencyStats.from_samples(samples)
            record = store.ResultRecord(
                model=model, family=family, backend=backend, device="cpu", batch_size=1,
                threads_intra=1, threads_inter=1, latency=stats, flops=1_000_000,
                throughput_per_s=1000 / stats.p50, samples_ms=samples,
            )  # fmt: skip
            store.save_result(db, run_id, record)
    store.finish_run(db, run_id, "ok", "synthetic")


def measure(db_path: Path, repeats: int) -> list[dict[str, object]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DLRADAR_DB"] = str(db_path)

    def run(page: str, query: dict[str, str]) -> tuple[AppTest, float]:
        at = AppTest.from_file(APP, default_timeout=600)
        at.query_params.update(query)
        start = time.perf_counter()
        if page == "overview":
            at.run()
        else:
            at.switch_page(f"views/{page}.py").run()
        seconds = time.perf_counter() - start
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].value}")
        return at, seconds

    for page, query in SCENARIOS:  # load every module once (imports are not the page's cost)
        run(page, query)
    results = []
    for page, query in SCENARIOS:
        cold, warm = [], []
        for _ in range(repeats):
            st.cache_data.clear()
            at, seconds = run(page, query)
            cold.append(seconds)
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        label = page + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        results.append(
            {"page": label, "cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000, help="papers to generate")
    parser.add_argument("--db", type=Path, help="use (or build, if missing) this database")
    parser.add_argument("--repeats", type=int, default=3, help="runs per page (median shown)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dlradar-dash-") as tmp:
        db_path = args.db or Path(tmp) / "dashboard.db"
        if not db_path.exists():
            build(db_path, args.papers)
        count = open_db(db_path).execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        os.chdir(tmp)  # no dlradar.toml, no data/digests: the pages' empty states where due
        results = measure(db_path, args.repeats)
    print(f"dashboard page render times (AppTest, median of {args.repeats}) at {count:,} papers")
    print(f"{'page':45} {'cold (s)':>9} {'warm (s)':>9}")
    for row in results:
        print(f"{row['page']:45} {row['cold_s']:9.3f} {row['warm_s']:9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
