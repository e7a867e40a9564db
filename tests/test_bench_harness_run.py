"""Harness integration tests on tiny models: ONNX export and parity, failure recording, Ctrl-C,
the store and `dlradar bench` commands through click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlite_utils
import torch
from click.testing import CliRunner
from torch import nn

from bench import store
from bench.flops import FlopCount
from bench.onnx_export import ExportError, check_parity, create_session, export_onnx
from bench.report import BenchReport
from bench.runner import RunConfig, run_benchmark
from bench.threads import ThreadSettings
from bench.timing import TimingConfig
from dlradar.commands.bench import bench
from dlradar.database import open_db

FAST = TimingConfig(warmup=1, min_iterations=3, min_time_s=0.0, max_time_s=1.0)
DESIGN_FIELDS = {"run_id", "model", "backend", "device", "dtype", "batch_size", "threads",
                 "params", "flops", "latency_ms", "throughput_per_s", "peak_memory_mb",
                 "status", "error"}  # fmt: skip


class SvdNet(nn.Module):
    """Uses an operator that neither ONNX exporter supports."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.svdvals(x.reshape(x.shape[0], 4, 4))


@dataclass(frozen=True)
class TinySpec:
    """A real (small) model that satisfies the runner's BenchModel protocol."""

    name: str
    kind: str = "mlp"  # mlp | svd | interrupt
    family: str = "mlp"
    task: str = "image"

    def build(self, *, size: str = "full", weights: str | None = None) -> nn.Module:
        if self.kind == "interrupt":
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of a run
        torch.manual_seed(0)
        if self.kind == "svd":
            return SvdNet().eval()
        return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).eval()

    def example_inputs(self, batch_size: int, *, size: str = "full") -> tuple[torch.Tensor, ...]:
        return (torch.randn(batch_size, 16, generator=torch.Generator().manual_seed(1)),)

    def flops(self, batch_size: int = 1, *, size: str = "full") -> FlopCount:
        macs = batch_size * (16 * 32 + 32 * 4)
        return FlopCount(macs=macs, flops=2 * macs, method="formula")

    def params(self, *, size: str = "full") -> int:
        return 16 * 32 + 32 + 32 * 4 + 4


def _config(**changes: Any) -> RunConfig:
    base: dict[str, Any] = {
        "models": ("tiny",), "backends": ("torch", "onnxruntime"), "batch_sizes": (1, 3),
        "threads": (1,), "timing": FAST, "profile": "test",
    }  # fmt: skip
    return RunConfig(**(base | changes))


@pytest.fixture(scope="module")
def bench_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    """One database with a tiny two-model run (one model fails to export) and a second run."""
    path = tmp_path_factory.mktemp("bench") / "bench.db"
    db = open_db(path)
    specs = [TinySpec("tiny"), TinySpec("svd-net", kind="svd")]
    first = run_benchmark(db, _config(models=("tiny", "svd-net")), specs=specs)
    second = run_benchmark(db, _config(backends=("torch",), batch_sizes=(1,)), specs=specs[:1])
    db.conn.close()
    yield path, first, second


def _rows(path: Path, run_id: int) -> list[dict[str, Any]]:
    db = open_db(path)
    try:
        return store.result_rows(db, run_ids=[run_id])
    finally:
        db.conn.close()


# --- export and parity ----------------------------------------------------------------------


def test_export_prefers_dynamo_and_matches_pytorch(tmp_path: Path) -> None:
    spec = TinySpec("tiny")
    model = spec.build()
    exported = export_onnx(model, spec.example_inputs(2), tmp_path / "tiny.onnx")
    assert exported.exporter == "dynamo" and exported.path.stat().st_size > 0
    session = create_session(exported.path, ThreadSettings(1), "cpu")
    assert session.get_providers() == ["CPUExecutionProvider"]
    x = spec.example_inputs(5)[0]  # another batch size than exported: the batch is symbolic
    parity = check_parity(model(x), session.run(None, {"input": x.numpy()})[0])
    assert parity.ok and parity.max_abs_diff < 1e-5


def test_torchscript_exporter_is_the_fallback(tmp_path: Path) -> None:
    spec = TinySpec("tiny")
    exported = export_onnx(
        spec.build(), spec.example_inputs(2), tmp_path / "t.onnx", exporters=["torchscript"]
    )
    assert exported.exporter == "torchscript"


def test_unexportable_model_names_each_exporters_reason(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as failure:
        export_onnx(SvdNet(), (torch.randn(2, 16),), tmp_path / "svd.onnx")
    message = str(failure.value)
    assert "dynamo:" in message and "torchscript:" in message and "svd" in message.lower()


def test_parity_check_catches_a_different_output() -> None:
    reference = torch.ones(2, 3)
    assert not check_parity(reference, np.full((2, 3), 1.1, dtype=np.float32)).ok
    assert check_parity(reference, np.full((2, 3), 1.00001, dtype=np.float32)).ok


# --- runs -----------------------------------------------------------------------------------


def test_run_measures_every_configuration(bench_db: tuple[Path, int, int]) -> None:
    path, first, _ = bench_db
    ok = [r for r in _rows(path, first) if r["model"] == "tiny"]
    assert [(r["backend"], r["batch_size"]) for r in ok] == [
        ("torch", 1), ("torch", 3), ("onnxruntime", 1), ("onnxruntime", 3)
    ]  # fmt: skip
    for row in ok:
        assert row["status"] == "ok" and row["error"] is None
        assert row["threads"] == 1 and row["inter_op_threads"] >= 1
        latency = row["latency_ms"]
        assert latency["count"] >= 3 and latency["min"] <= latency["p50"] <= latency["p99"]
        assert row["throughput_per_s"] == pytest.approx(row["batch_size"] * 1000 / latency["p50"])
        assert row["flops"] == 2 * row["batch_size"] * (16 * 32 + 32 * 4)
        assert row["achieved_gflops"] == pytest.approx(row["flops"] / latency["p50"] / 1e6)
        # A 676-parameter model may fit in pages the process already holds: 0 MB of its own.
        assert row["peak_memory_mb"] >= 0 and row["process_peak_memory_mb"] > 0
        assert row["params"] == 676
        assert row["phases"]["first_call_ms"] > 0
    onnx = [r for r in ok if r["backend"] == "onnxruntime"]
    assert all(r["exporter"] == "dynamo" and r["parity_max_abs_diff"] < 1e-4 for r in onnx)
    assert all(r["providers"] == ["CPUExecutionProvider"] for r in onnx)
    assert all(r["phases"]["export_s"] > 0 and r["phases"]["session_s"] > 0 for r in onnx)


def test_raw_samples_are_stored(bench_db: tuple[Path, int, int]) -> None:
    path, first, _ = bench_db
    row = _rows(path, first)[0]
    db = open_db(path)
    samples = store.samples(db, row["result_id"])
    db.conn.close()
    assert len(samples) == row["latency_ms"]["count"]
    assert min(samples) == pytest.approx(row["latency_ms"]["min"])


def test_failed_export_is_recorded_and_the_run_goes_on(bench_db: tuple[Path, int, int]) -> None:
    path, first, _ = bench_db
    rows = _rows(path, first)
    failed = [r for r in rows if r["status"] == "failed"]
    assert {(r["model"], r["backend"], r["batch_size"]) for r in failed} == {
        ("svd-net", "onnxruntime", 1), ("svd-net", "onnxruntime", 3)
    }  # fmt: skip
    assert all(r["stage"] == "export" and "torchscript:" in r["error"] for r in failed)
    assert all(r["latency_ms"] is None for r in failed)
    # the same model still ran on PyTorch, and the run is partial, not failed
    assert sum(r["model"] == "svd-net" and r["status"] == "ok" for r in rows) == 2
    db = open_db(path)
    assert store.get_run(db, first)["status"] == "partial"
    db.conn.close()


def test_ctrl_c_keeps_finished_results_and_marks_the_run(db: sqlite_utils.Database) -> None:
    specs = [TinySpec("tiny"), TinySpec("stops", kind="interrupt"), TinySpec("never")]
    config = _config(models=("tiny", "stops", "never"), backends=("torch",), batch_sizes=(1,))
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(db, config, specs=specs, say=lines.append)
    assert [line.split(":")[0] for line in lines if line.startswith("[")] == [
        "[1/3] tiny torch cpu batch=1 threads=1"
    ]
    run_id = store.latest_run_id(db)
    run = store.get_run(db, run_id)
    assert run["status"] == "interrupted" and run["finished_at"]
    rows = store.result_rows(db, run_ids=[run_id])
    assert [(r["model"], r["status"]) for r in rows] == [("tiny", "ok")]


def test_small_zoo_model_runs_on_both_backends(db: sqlite_utils.Database) -> None:
    from bench.zoo import get_model

    config = _config(models=("lenet5",), batch_sizes=(1, 2), size="small")
    run_id = run_benchmark(db, config)
    rows = store.result_rows(db, run_ids=[run_id])
    assert [(r["backend"], r["status"]) for r in rows] == [
        ("torch", "ok"), ("torch", "ok"), ("onnxruntime", "ok"), ("onnxruntime", "ok")
    ]  # fmt: skip
    spec = get_model("lenet5")
    assert {r["params"] for r in rows} == {spec.params(size="small")}
    assert rows[3]["flops"] == spec.flops(2, size="small").flops
    assert rows[3]["parity_max_abs_diff"] < 1e-4
    env = store.get_run(db, run_id)["environment"]
    assert env["cpu_model"] and env["versions"]["onnxruntime"]


def test_report_from_the_database_round_trips(bench_db: tuple[Path, int, int]) -> None:
    path, first, _ = bench_db
    db = open_db(path)
    report = BenchReport.from_db(db, [first])
    db.conn.close()
    assert report.run["id"] == first and len(report.results) == 8
    assert BenchReport.from_csv(report.to_csv()).results == report.results
    assert BenchReport.from_json(report.to_json()).to_dict() == report.to_dict()


# --- the CLI --------------------------------------------------------------------------------


def test_show_jsonl_prints_the_design_fields(bench_db: tuple[Path, int, int]) -> None:
    path, first, _ = bench_db
    result = CliRunner().invoke(bench, ["show", str(first), "--db", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 8
    for obj in objects:
        assert set(obj) >= DESIGN_FIELDS
        assert obj["run_id"] == first
        if obj["status"] == "ok":
            assert {"mean", "p50", "p90", "p99", "iqr"} <= set(obj["latency_ms"])
        else:
            assert obj["error"]


def test_show_defaults_to_the_latest_run_and_list_lists_runs(
    bench_db: tuple[Path, int, int],
) -> None:
    path, first, second = bench_db
    runner = CliRunner()
    shown = runner.invoke(bench, ["show", "--db", str(path), "--format", "json"])
    assert {r["run_id"] for r in json.loads(shown.stdout)} == {second}
    listed = runner.invoke(bench, ["list", "--db", str(path), "--format", "jsonl"])
    runs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in runs] == [second, first]
    assert runs[1]["results"] == 8 and runs[1]["failed"] == 2
    missing = runner.invoke(bench, ["show", "999", "--db", str(path)])
    assert missing.exit_code != 0 and "999" in str(missing.exception or missing.output)


def test_compare_pairs_the_runs_configurations(bench_db: tuple[Path, int, int]) -> None:
    path, first, second = bench_db
    args = ["compare", str(first), str(second), "--db", str(path), "--format", "jsonl"]
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 0, result.output
    changes = [json.loads(line) for line in result.stdout.splitlines()]
    tiny_torch_1 = next(
        c for c in changes
        if (c["model"], c["backend"], c["batch_size"]) == ("tiny", "torch", 1)
    )  # fmt: skip
    assert tiny_torch_1["verdict"] in {"regression", "improvement", "unchanged"}
    assert tiny_torch_1["change_pct"] is not None
    assert sum(c["verdict"] == "removed" for c in changes) == 7  # second run measured one


def test_quick_profile_entry_point_reports_a_summary(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dlradar run` calls run_quick_profile; here its profile holds the tiny model only."""
    import bench.runner as runner

    monkeypatch.setattr(
        runner, "profile_config", lambda name, **_: _config(profile=name, backends=("torch",))
    )
    monkeypatch.setattr(runner, "resolve_models", lambda names: [TinySpec("tiny")])
    said: list[str] = []
    summary = runner.run_quick_profile(db, say=said.append)
    run_id = store.latest_run_id(db)
    assert summary.startswith(f"benchmark run {run_id}: ok, 2 of 2 configurations ok")
    assert sum(line.startswith("[") for line in said) == 2
    assert store.get_run(db, run_id)["profile"] == "quick"


def test_compare_warns_when_environments_differ(bench_db: tuple[Path, int, int]) -> None:
    path, first, second = bench_db
    db = open_db(path)
    original = store.get_run(db, second)["environment"]
    changed = dict(original, cpu_model="Another CPU", logical_cores=64)
    db.execute("UPDATE bench_runs SET environment = ? WHERE id = ?", [json.dumps(changed), second])
    try:
        result = CliRunner().invoke(bench, ["compare", str(first), str(second), "--db", str(path)])
    finally:
        db.execute(
            "UPDATE bench_runs SET environment = ? WHERE id = ?", [json.dumps(original), second]
        )
        db.conn.close()
    assert result.exit_code == 0
    assert "warning: environments differ: cpu_model:" in result.stderr
    assert "Another CPU" in result.stderr and "logical_cores" in result.stderr
