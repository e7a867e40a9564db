"""A configuration's memory is its own: RSS growth over the level before its model was built,
never the process's high-water mark, so an earlier big model cannot inflate a later small one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
import torch
from torch import nn

from bench import store
from bench.flops import FlopCount
from bench.runner import RunConfig, run_benchmark
from bench.timing import TimingConfig
from dlradar.database import open_db

FAST = TimingConfig(warmup=1, min_iterations=3, min_time_s=0.0, max_time_s=1.0)
BIG_WIDTH = 4096  # three 4096x4096 layers: about 200 MB of float32 weights


@dataclass(frozen=True)
class SizedSpec:
    name: str
    width: int

    family: str = "mlp"
    task: str = "image"

    def build(self, *, size: str = "full", weights: str | None = None) -> nn.Module:
        layers = [nn.Linear(self.width, self.width) for _ in range(3)]
        return nn.Sequential(*layers).eval()

    def example_inputs(self, batch_size: int, *, size: str = "full") -> tuple[torch.Tensor, ...]:
        return (torch.ones(batch_size, self.width),)

    def flops(self, batch_size: int = 1, *, size: str = "full") -> FlopCount:
        macs = batch_size * 3 * self.width * self.width
        return FlopCount(macs=macs, flops=2 * macs, method="formula")

    def params(self, *, size: str = "full") -> int:
        return 3 * (self.width * self.width + self.width)


def test_a_small_model_after_a_big_one_shows_its_own_memory(tmp_path: Path) -> None:
    db = open_db(tmp_path / "m.db")
    config = RunConfig(models=("big", "small"), backends=("torch",), timing=FAST, profile="test")
    run_id = run_benchmark(db, config, specs=[SizedSpec("big", BIG_WIDTH), SizedSpec("small", 16)])
    rows = {r["model"]: r for r in store.result_rows(db, run_ids=[run_id])}
    big, small = rows["big"], rows["small"]
    weights_mb = SizedSpec("big", BIG_WIDTH).params() * 4 / 2**20
    assert big["peak_memory_mb"] is not None and small["peak_memory_mb"] is not None
    assert big["peak_memory_mb"] >= 0.9 * weights_mb  # the big model's weights are its own
    assert small["peak_memory_mb"] < 30  # ...and not the small one's
    # The process's high-water mark is kept apart, and says nothing about the model.
    assert small["process_peak_memory_mb"] is not None
    assert small["process_peak_memory_mb"] > small["peak_memory_mb"] + 100
    # bytes moved: weights once, input and output (float32), the roofline's x-axis.
    assert small["bytes_moved"] == 4 * (3 * (16 * 16 + 16) + 16 + 16)
    assert small["arithmetic_intensity"] == small["flops"] / small["bytes_moved"]


def test_old_rows_move_their_process_peak_apart(tmp_path: Path) -> None:
    # A v2 database stored the process's high-water mark as peak_memory_mb.
    from bench.schema import SCHEMA
    from core.db import apply_migrations
    from tracker.tables import SCHEMAS

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys=ON")
    v2 = type(SCHEMA)(SCHEMA.component)
    v2.steps = [s for s in SCHEMA.steps if s.version <= 2]
    apply_migrations(db, [*SCHEMAS, v2])
    db.execute(
        "INSERT INTO bench_runs (id, kind, profile, status, started_at, environment, config)"
        " VALUES (1, 'run', 'quick', 'ok', '2026-01-01T00:00:00+00:00', '{}', '{}')"
    )
    db.execute(
        "INSERT INTO bench_results (run_id, created_at, model, backend, device, dtype,"
        " batch_size, status, peak_memory_mb) VALUES (1, '2026-01-01T00:00:00+00:00', 'lenet5',"
        " 'torch', 'cpu', 'float32', 1, 'ok', 1101.0)"
    )
    db.conn.commit()
    (row,) = store.result_rows(open_db(path))
    assert row["peak_memory_mb"] is None
    assert row["process_peak_memory_mb"] == 1101.0
