"""Fixture databases for the dashboard tests, built with the project's own import, catalogue,
tagging and benchmark-store code.

- real:    the recorded arXiv daily listings of ../shared (1,118 papers), the landmark
           catalogue, tags, and benchmark rows (a peak, two timing runs, an evaluation run)
- empty:   a database with the schema and nothing else
- hostile: papers whose titles, authors and abstracts are markup (`<script>`, Markdown links)
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bench import store
from bench.stats import LatencyStats
from dlradar.database import open_db
from tracker.importer import import_file
from tracker.landmarks import load_into
from tracker.tagging import TAGGER_VERSION
from tracker.tagging.store import tag_papers

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DAILY = SHARED / "data" / "real" / "arxiv_daily_jsonl"

HOSTILE_TITLES = (
    "<script>alert(1)</script> Attention is all you script",
    "[click](http://evil.example) Convolutional networks for everyone",
    "**bold** _claim_ <img src=x onerror=alert(2)> a recurrent LSTM study",
)
HOSTILE_AUTHOR = "<b>Mallory</b> [link](http://evil.example)"
HOSTILE_VENUE = "**BOLD** [click](https://evil.example) ![p](https://evil.example/p.png)"


def require_shared() -> Path:
    """../shared's daily listings; skip (fail under CI=true) when they are missing."""
    if not DAILY.is_dir():
        message = "needs ../shared (checkout the shared folder beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return DAILY


def _tag(db: sqlite_utils.Database) -> None:
    """Tag every paper; an untagged fixture would let the family pages pass on empty charts."""
    tag_papers(db, workers=1)  # an import tags on arrival; this tags whatever is left
    tagged = db.execute(
        "SELECT COUNT(DISTINCT paper_id) FROM paper_families WHERE tagger = ?", [TAGGER_VERSION]
    ).fetchone()[0]
    assert tagged > 0, "the tagger tagged no fixture paper"


def build_real(path: Path) -> Path:
    """Real papers, the catalogue, tags and benchmark rows."""
    daily = require_shared()
    db = open_db(path)
    try:
        for file in sorted(daily.glob("*.jsonl")):
            import_file(db, file)
        load_into(db)
        _tag(db)
        add_bench_rows(db)
    finally:
        db.conn.close()
    return path


def build_empty(path: Path) -> Path:
    open_db(path).conn.close()
    return path


def build_hostile(path: Path, workdir: Path) -> Path:
    """Papers with markup in every text field, imported from a daily-listing style file."""
    source = workdir / "hostile.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i, title in enumerate(HOSTILE_TITLES, start=1):
            record = {
                "id": f"2505.9999{i}",
                "pdf": "javascript:alert(3)" if i == 1 else f"https://arxiv.org/pdf/2505.9999{i}",
                "abs": f"https://arxiv.org/abs/2505.9999{i}",
                "authors": [HOSTILE_AUTHOR, "Eve <eve@example.com>"],
                "title": title,
                "categories": ["cs.LG"],
                "comment": None,
                "published": "2025-05-27",
                "venue": HOSTILE_VENUE,
                "summary": f"We train a transformer. <script>alert({i})</script> [x](http://evil)",
            }
            handle.write(json.dumps(record) + "\n")
    db = open_db(path)
    try:
        import_file(db, source)
        _tag(db)
    finally:
        db.conn.close()
    return path


def _samples(rng: random.Random, median_ms: float, count: int) -> list[float]:
    return [median_ms * (1 + abs(rng.gauss(0, 0.03))) for _ in range(count)]


def _timing(
    model: str, family: str, backend: str, batch: int, median_ms: float, flops: int, seed: int
) -> store.ResultRecord:
    rng = random.Random(seed)
    samples = _samples(rng, median_ms, 30)
    stats = LatencyStats.from_samples(samples)
    achieved = flops / (stats.p50 / 1000) / 1e9
    return store.ResultRecord(
        model=model,
        family=family,
        task="image" if family == "cnn" else "sequence",
        backend=backend,
        device="cpu",
        batch_size=batch,
        threads_intra=1,
        threads_inter=1,
        params=61_706 if model == "lenet5" else 100_000,
        flops=flops,
        macs=flops // 2,
        flop_method="fixture",
        exporter="dynamo" if backend == "onnxruntime" else None,
        latency=stats,
        stopped_by="min_time",
        throughput_per_s=batch * 1000 / stats.p50,
        peak_memory_mb=12.0 if model == "lenet5" else 40.0,
        process_peak_memory_mb=900.0,
        bytes_moved=(61_706 if model == "lenet5" else 100_000) * 4 + batch * 4096,
        achieved_gflops=achieved,
        fraction_of_peak=achieved / 80.0,
        config={"size": "full"},
        samples_ms=samples,
    )


def _evaluation(model: str, family: str) -> store.ResultRecord:
    classes = 4
    matrix = [[20 if i == j else 1 for j in range(classes)] for i in range(classes)]
    curves = [
        {
            "epoch": e,
            "train_loss": 1.5 / e,
            "train_accuracy": 0.5 + 0.1 * e,
            "val_loss": 1.6 / e,
            "val_accuracy": 0.45 + 0.1 * e,
            "seconds": 0.5,
        }
        for e in range(1, 4)
    ]
    metrics: dict[str, Any] = {
        "model": model,
        "family": family,
        "size": "small",
        "dataset": "fixture",
        "num_classes": classes,
        "params": 1000,
        "split_sizes": {"train": 100, "val": 20, "test": 84},
        "curves": curves,
        "fit": "good",
        "fit_reason": "validation follows training",
        "test_loss": 0.4,
        "accuracy": 80 / 84,
        "precision_macro": 0.95,
        "recall_macro": 0.95,
        "f1_macro": 0.95,
        "confusion_matrix": matrix,
        "timings_s": {"train": 1.5},
        "config": {"optimizer": "adam", "epochs": 3},
        "onnx_accuracy": 80 / 84,
        "onnx_accuracy_diff": 0.0,
    }
    return store.ResultRecord(
        model=model,
        family=family,
        backend="torch",
        device="cpu",
        batch_size=64,
        threads_intra=1,
        threads_inter=1,
        eval_metrics=metrics,
        config={"eval": True},
    )


def add_bench_rows(db: sqlite_utils.Database) -> None:
    """A peak, two timing runs (the second with a regression and a failure), one evaluation."""
    environment = {"cpu_model": "Fixture CPU", "logical_cores": 2, "versions": {"torch": "x"}}
    peak_id = store.save_peak(
        db,
        {
            "gflops": 80.0,
            "gflops_size": 2048,
            "gflops_threads": 1,
            "bandwidth_gbs": 12.0,
            "bandwidth_kind": "copy",
            "bandwidth_threads": 1,
        },
    )
    models = (("lenet5", "cnn", 0.4, 840_000), ("lstm", "lstm", 1.2, 3_000_000))
    for run_index, slowdown in enumerate((1.0, 1.5)):
        run_id = store.create_run(
            db, profile="quick", environment=environment, config={}, peak_id=peak_id
        )
        seed = 0
        for model, family, median, flops in models:
            for backend, factor in (("torch", 1.0), ("onnxruntime", 0.7)):
                for batch in (1, 8):
                    seed += 1
                    scale = factor * (1 + 0.6 * (batch - 1)) * (slowdown if model == "lstm" else 1)
                    record = _timing(
                        model, family, backend, batch, median * scale, flops * batch, seed
                    )
                    store.save_result(db, run_id, record)
        if run_index == 1:
            store.save_result(
                db,
                run_id,
                store.ResultRecord(
                    model="gpt2",
                    family="transformer",
                    backend="onnxruntime",
                    device="cpu",
                    batch_size=1,
                    threads_intra=1,
                    threads_inter=1,
                    status="failed",
                    stage="export",
                    error="fixture: exporter failed",
                ),
            )
        store.finish_run(db, run_id, "ok" if run_index == 0 else "partial", "fixture run")
    eval_id = store.create_run(
        db, profile="eval", kind="eval", environment=environment, config={}, peak_id=None
    )
    store.save_result(db, eval_id, _evaluation("lenet5", "cnn"))
    store.save_result(db, eval_id, _evaluation("lstm", "lstm"))
    store.finish_run(db, eval_id, "ok", "fixture evaluation")


MACHINES = (
    ("alpha", "1111aaaa" + "0" * 48, "Fixture Xeon", 1.0),
    ("beta", "2222bbbb" + "0" * 48, "Fixture Ryzen", 0.6),
)


def machine_labels() -> list[str]:
    return [f"{host} · node {node[:8]}" for host, node, _, _ in MACHINES]


def build_fleet(path: Path) -> Path:
    """A database of one `bench fleet` over two machines: the same configurations (lenet5 and
    lstm, both backends, batch 1) measured on each, the second machine faster."""
    db = open_db(path)
    try:
        for index, (host, node, cpu, speed) in enumerate(MACHINES):
            environment = {
                "hostname": host, "cpu_model": cpu, "logical_cores": 8, "physical_cores": 4,
                "memory_gb": 32.0, "versions": {"torch": "x"}, "gpu": None,
            }  # fmt: skip
            machine = {
                "hostname": host, "node_id": node, "cpu_model": cpu, "physical_cores": 4,
                "logical_cores": 8, "memory_gb": 32.0, "accelerators": [],
                "versions": {"torch": "x"},
            }  # fmt: skip
            run_id = store.create_run(
                db, profile="quick", environment=environment, config={}, peak_id=None,
                machine=machine, fleet_id="fixturefleet",
            )  # fmt: skip
            for seed, (model, family, median) in enumerate(
                (("lenet5", "cnn", 0.4), ("lstm", "lstm", 1.2)), start=10 * index
            ):
                for backend, factor in (("torch", 1.0), ("onnxruntime", 0.7)):
                    record = _timing(
                        model, family, backend, 1, median * factor * speed, 840_000, seed
                    )
                    store.save_result(db, run_id, record)
            store.finish_run(db, run_id, "ok", "fixture fleet node")
    finally:
        db.conn.close()
    return path


def write_digest(directory: Path) -> Path:
    """A small digest file such as dashboard.digest.weekly writes (for the Digests page)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "2025-W22.md"
    path.write_text(
        "# dlradar weekly digest, 2025-W22\n\n- 1,118 papers this week\n- cnn: 12 papers\n",
        encoding="utf-8",
    )
    return path
