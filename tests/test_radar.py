"""`dlradar radar`: the Radar's table as data, every figure exactly as `bench show` stored it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from bench.flops import FlopCount
from bench.runner import RunConfig, run_benchmark
from bench.timing import TimingConfig
from dlradar.cli import cli
from dlradar.database import open_db

FAST = TimingConfig(warmup=1, min_iterations=5, min_time_s=0.0, max_time_s=1.0)


@dataclass(frozen=True)
class Mlp:
    """A small stand-in registered under the mlp family's canonical name."""

    name: str = "mlp"
    family: str = "mlp"
    task: str = "image"

    def build(self, *, size: str = "full", weights: str | None = None) -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).eval()

    def example_inputs(self, batch_size: int, *, size: str = "full") -> tuple[torch.Tensor, ...]:
        return (torch.ones(batch_size, 64),)

    def flops(self, batch_size: int = 1, *, size: str = "full") -> FlopCount:
        macs = batch_size * (64 * 64 + 64 * 10)
        return FlopCount(macs=macs, flops=2 * macs, method="formula")

    def params(self, *, size: str = "full") -> int:
        return 64 * 64 + 64 + 64 * 10 + 10


@pytest.fixture(scope="module")
def radar_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    path = tmp_path_factory.mktemp("radar") / "radar.db"
    db = open_db(path)
    both = RunConfig(models=("mlp",), threads=(1, 2), timing=FAST, profile="test")
    first = run_benchmark(db, both, specs=[Mlp()])
    # A later run at 2 threads only: the 1-thread figures must stay those of the first run.
    second = run_benchmark(
        db, RunConfig(models=("mlp",), threads=(2,), timing=FAST, profile="test"), specs=[Mlp()]
    )
    return path, first, second


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_figure_is_the_stored_latest_result_of_its_configuration(
    radar_db: tuple[Path, int, int],
) -> None:
    path, first, second = radar_db
    radar = [
        json.loads(line)
        for line in _invoke("radar", "--db", str(path), "--format", "jsonl").splitlines()
    ]
    shown = [
        json.loads(line)
        for line in _invoke(
            "bench", "show", "--all", "--db", str(path), "--format", "jsonl"
        ).splitlines()
    ]
    (mlp,) = [row for row in radar if row["family"] == "mlp"]
    assert {"family", "papers", "share", "growth", "reference_models", "results"} <= set(mlp)
    configurations = {(r["backend"], r["threads"]): r for r in mlp["results"]}
    assert set(configurations) == {(b, t) for b in ("torch", "onnxruntime") for t in (1, 2)}
    for (backend, threads), result in configurations.items():
        expected_run = first if threads == 1 else second
        assert result["run_id"] == expected_run, (backend, threads)
        (stored,) = [
            s for s in shown
            if s["run_id"] == expected_run and s["backend"] == backend and s["threads"] == threads
        ]  # fmt: skip
        assert result["p50_ms"] == stored["latency_ms"]["p50"]
        assert result["p90_ms"] == stored["latency_ms"]["p90"]
        for key in ("throughput_per_s", "fraction_of_peak", "batch_size", "device", "dtype"):
            assert result[key] == stored[key], key
        assert result["measured_at"] == stored["created_at"]


@pytest.mark.parametrize("threads", [1, 2])
def test_the_headline_is_read_at_the_reference_configuration(
    radar_db: tuple[Path, int, int], threads: int
) -> None:
    path, first, second = radar_db
    out = _invoke("radar", "--db", str(path), "--format", "json", "--threads", str(threads))
    (mlp,) = [row for row in json.loads(out) if row["family"] == "mlp"]
    head: dict[str, Any] = mlp["headline"]
    assert head["model"] == "mlp" and head["reference"].startswith(f"batch 1, {threads} thread")
    assert head["torch"]["threads"] == threads
    assert head["torch"]["run_id"] == (first if threads == 1 else second)
    # A family without a measured canonical model says why instead of showing a number.
    (cnn,) = [row for row in json.loads(out) if row["family"] == "cnn"]
    assert cnn["headline"]["torch"] == {
        "not_measured": "not measured: `dlradar bench run --full --model resnet50 --backend torch`"
    }


def test_the_table_lists_every_family_and_never_prints_none(
    radar_db: tuple[Path, int, int],
) -> None:
    path, _, _ = radar_db
    out = _invoke("radar", "--db", str(path), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("family,papers,share,growth,reference model,p50 torch (ms)")
    families = {line.split(",")[0] for line in lines[1:]}
    assert {"mlp", "cnn", "gnn", "rl", "moe"} <= families
    assert "None" not in out
