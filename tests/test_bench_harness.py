"""Harness unit tests: statistics, the stopping rule, noise, compare's rule, report formats,
threads, environment and the peak probe (tiny sizes)."""

from __future__ import annotations

import gc
import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch

from bench import store
from bench.compare import compare_rows, judge
from bench.environment import REPO_ROOT, capture_environment, environment_differences, git_commit
from bench.peak import measure_peak, peak_for_threads
from bench.report import BenchReport, flatten, unflatten
from bench.stats import LatencyStats, percentile, throughput_per_s
from bench.threads import ThreadSettings, ort_session_options, ort_settings, torch_threads
from bench.timing import TimingConfig, measure

# --- statistics on known samples ----------------------------------------------------------


def test_percentiles_interpolate_between_ranks_by_hand() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]  # sorted 1 2 3 4; position of q = 3 * q / 100
    assert percentile(samples, 50) == pytest.approx(2.5)  # position 1.5
    assert percentile(samples, 90) == pytest.approx(3.7)  # position 2.7
    assert percentile(samples, 25) == pytest.approx(1.75)  # position 0.75
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0


def test_latency_stats_of_one_to_ten() -> None:
    stats = LatencyStats.from_samples([float(x) for x in range(10, 0, -1)])
    assert stats.count == 10
    assert stats.mean == pytest.approx(5.5)
    assert stats.p50 == pytest.approx(5.5)  # position 4.5
    assert stats.p90 == pytest.approx(9.1)  # position 8.1
    assert stats.p95 == pytest.approx(9.55)  # position 8.55
    assert stats.p99 == pytest.approx(9.91)  # position 8.91
    assert stats.iqr == pytest.approx(7.75 - 3.25)  # positions 6.75 and 2.25
    assert stats.stdev == pytest.approx(math.sqrt(82.5 / 9))  # sample stdev (n - 1)
    assert (stats.min, stats.max) == (1.0, 10.0)


def test_single_sample_has_zero_spread() -> None:
    stats = LatencyStats.from_samples([3.0])
    assert (stats.p50, stats.p99, stats.iqr, stats.stdev) == (3.0, 3.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        LatencyStats.from_samples([])


def test_noise_flag_above_ten_percent_iqr() -> None:
    steady = LatencyStats.from_samples([10.0, 10.1, 9.9, 10.0, 10.05])
    assert not steady.noisy
    # sorted 8 10 12 14: p25 = 9.5, p75 = 12.5, IQR 3 over median 11 = 27 %
    shaky = LatencyStats.from_samples([8.0, 10.0, 12.0, 14.0])
    assert shaky.relative_iqr == pytest.approx(3 / 11)
    assert shaky.noisy
    # exactly 10 % is not yet noisy: p25 9.5, p75 10.5, IQR 1 over median 10
    boundary = LatencyStats.from_samples([9.5, 9.5, 10.0, 10.5, 10.5])
    assert boundary.relative_iqr == 0.1 and not boundary.noisy


def test_throughput_is_items_per_second() -> None:
    assert throughput_per_s(8, 4.0) == pytest.approx(2000.0)
    assert throughput_per_s(1, 1000.0) == pytest.approx(1.0)


# --- stopping rule --------------------------------------------------------------------------


class FakeClock:
    """Each step takes exactly `step_s` seconds of this clock: no real time is involved."""

    def __init__(self, step_s: float) -> None:
        self.now = 0.0
        self.step_s = step_s
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def step(self) -> float:
        self.calls += 1
        self.now += self.step_s
        return self.step_s * 1000.0


def test_stops_only_when_both_minimum_count_and_time_are_reached() -> None:
    # min time dominates: 10 steps of 1 s are needed to reach 10 s, though 3 would be enough
    clock = FakeClock(1.0)
    result = measure(clock.step, TimingConfig(0, 3, 10.0, 100.0), clock=clock)
    assert (len(result.samples_ms), result.stopped_by) == (10, "min_reached")
    # min count dominates: 15 iterations although 3 s passed after 3
    clock = FakeClock(1.0)
    result = measure(clock.step, TimingConfig(0, 15, 3.0, 100.0), clock=clock)
    assert (len(result.samples_ms), result.stopped_by) == (15, "min_reached")


def test_max_time_caps_a_slow_configuration() -> None:
    clock = FakeClock(2.0)
    result = measure(clock.step, TimingConfig(0, 100, 1.0, 5.0), clock=clock)
    assert (len(result.samples_ms), result.stopped_by) == (3, "max_time")  # 2, 4, 6 s
    assert result.samples_ms == [2000.0, 2000.0, 2000.0]


def test_warmup_calls_are_made_but_not_kept() -> None:
    clock = FakeClock(1.0)
    result = measure(clock.step, TimingConfig(4, 2, 0.0, 100.0, max_warmup_s=100.0), clock=clock)
    assert clock.calls == 6 and len(result.samples_ms) == 2
    # a slow model stops warming up once max_warmup_s has passed (one call always runs)
    clock = FakeClock(3.0)
    measure(clock.step, TimingConfig(4, 1, 0.0, 100.0, max_warmup_s=5.0), clock=clock)
    assert clock.calls == 2 + 1


def test_timing_config_rejects_inconsistent_limits() -> None:
    with pytest.raises(ValueError):
        TimingConfig(min_time_s=5.0, max_time_s=1.0)
    with pytest.raises(ValueError):
        TimingConfig(min_iterations=0)


# --- compare's regression rule ----------------------------------------------------------------


def test_regression_needs_seven_percent_and_beyond_noise() -> None:
    assert judge(100.0, 106.0, 1.0, 1.0) == "unchanged"  # 6 %: within the threshold
    assert judge(100.0, 110.0, 1.0, 1.0) == "regression"  # 10 %, noise 1 ms
    assert judge(100.0, 110.0, 12.0, 1.0) == "unchanged"  # 10 ms change inside 12 ms IQR
    assert judge(100.0, 110.0, 1.0, 12.0) == "unchanged"  # either run's noise counts
    assert judge(100.0, 90.0, 1.0, 1.0) == "improvement"
    assert judge(100.0, 110.0, 1.0, 1.0, threshold=0.2) == "unchanged"


def _row(model: str, p50: float | None, iqr: float = 1.0, status: str = "ok") -> dict[str, Any]:
    latency = None if p50 is None else {"p50": p50, "iqr": iqr}
    return {"model": model, "backend": "torch", "device": "cpu", "dtype": "float32",
            "batch_size": 1, "threads": 1, "inter_op_threads": 1, "status": status,
            "latency_ms": latency}  # fmt: skip


def test_compare_rows_pairs_configurations() -> None:
    a = [_row("m1", 10.0), _row("m2", 10.0), _row("gone", 5.0), _row("broken", 5.0)]
    b = [_row("m1", 12.0), _row("m2", 10.2), _row("new", 1.0), _row("broken", None, 0, "failed")]
    verdicts = {c.model: c.verdict for c in compare_rows(a, b)}
    assert verdicts == {"m1": "regression", "m2": "unchanged", "gone": "removed",
                        "broken": "failed", "new": "new"}  # fmt: skip
    m1 = next(c for c in compare_rows(a, b) if c.model == "m1")
    assert m1.change_pct == pytest.approx(20.0) and m1.noise_ms == 1.0


def test_environment_differences_name_what_changed() -> None:
    env = capture_environment()
    other = dict(env, cpu_model="Other CPU", versions=dict(env["versions"], torch="0.0"))
    differences = environment_differences(env, other)
    assert any("cpu_model" in d for d in differences)
    assert any(d.startswith("torch ") for d in differences)
    assert environment_differences(env, dict(env, load_average=[9.0])) == []


# --- report formats -------------------------------------------------------------------------


def _report() -> BenchReport:
    ok = {
        "run_id": 1, "model": "tiny", "backend": "onnxruntime", "batch_size": 8, "threads": 2,
        "latency_ms": {"mean": 1.5, "p50": 1.25, "p90": 2.0, "p99": 3.0, "iqr": 0.25},
        "throughput_per_s": 6400.0, "providers": ["CPUExecutionProvider"], "noisy": False,
        "status": "ok", "error": None, "phases": {"build_s": 0.5, "export_s": None},
        "eval": {"accuracy": 0.9, "confusion_matrix": [[1, 0], [0, 1]]},
    }  # fmt: skip
    failed = {
        "run_id": 1, "model": "bad", "backend": "onnxruntime", "batch_size": 1, "threads": 1,
        "latency_ms": None, "throughput_per_s": None, "providers": None, "noisy": None,
        "status": "failed", "error": "export: no, | twice\nnewline", "phases": None, "eval": None,
    }  # fmt: skip
    return BenchReport([ok, failed], {"id": 1, "profile": "quick", "status": "partial"})


def test_flatten_and_unflatten_are_inverse() -> None:
    nested = {"a": 1, "b": {"c": 2, "d": {"e": None}}, "f": [1, 2]}
    assert flatten(nested) == {"a": 1, "b.c": 2, "b.d.e": None, "f": [1, 2]}
    assert unflatten({"a": 1, "b.c": 2, "f": [1, 2]}) == {"a": 1, "b": {"c": 2}, "f": [1, 2]}


def test_report_round_trips_through_json_csv_and_dataframe(tmp_path: Any) -> None:
    report = _report()
    assert BenchReport.from_json(report.to_json()).to_dict() == report.to_dict()
    report.to_json(tmp_path / "r.json")
    assert BenchReport.from_json(tmp_path / "r.json").to_dict() == report.to_dict()
    assert BenchReport.from_csv(report.to_csv()).results == report.results
    frame = report.to_dataframe()
    assert list(frame["latency_ms.p50"].isna()) == [False, True]
    assert frame.loc[0, "latency_ms.p50"] == 1.25
    assert BenchReport.from_dataframe(frame).results == report.results


def test_markdown_report_has_one_row_per_configuration() -> None:
    text = _report().to_markdown()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2  # header, rule, two configurations
    assert "| tiny | onnxruntime |" in text and "1.25" in text
    assert "failed" in table[3] and "\\|" in table[3]  # a pipe in the error is escaped
    assert "Benchmark run 1 (quick, partial)" in text


# --- threads, environment, peak -------------------------------------------------------------


def test_thread_settings_are_applied_and_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(ThreadSettings(1)) as applied:
        assert torch.get_num_threads() == 1 == applied.intra
        assert applied.inter == torch.get_num_interop_threads()
    assert torch.get_num_threads() == before
    options = ort_session_options(ThreadSettings(2, 1))
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)
    assert ort_settings(options) == ThreadSettings(2, 1)
    with pytest.raises(ValueError):
        ThreadSettings(0)


def test_environment_records_hardware_versions_threads_and_load() -> None:
    env = capture_environment()
    for key in (
        "cpu_model",
        "physical_cores",
        "logical_cores",
        "memory_gb",
        "gpu",
        "python",
        "versions",
        "torch_threads",
        "load_average",
        "git_commit",
        "ort_providers",
    ):
        assert key in env, key  # fmt: skip
    assert env["cpu_model"] and env["logical_cores"] >= 1 and env["memory_gb"] > 0
    assert torch.__version__.startswith(env["versions"]["torch"])
    assert {"onnxruntime", "onnx", "transformers"} <= set(env["versions"])
    assert env["torch_threads"]["intra"] == torch.get_num_threads()
    assert env["gpu"] is None or "name" in env["gpu"]
    assert env["git_commit"] == _head(REPO_ROOT)  # inside a checkout: its HEAD, never None
    assert "CPUExecutionProvider" in env["ort_providers"]


def _head(repo: Path) -> str | None:
    """HEAD as git itself says it, or None where git says there is none."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else None


def test_git_commit_is_the_checkouts_head_and_none_outside_one(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        assert git_commit(REPO_ROOT) is None
        return
    head = _head(REPO_ROOT)
    if (REPO_ROOT / ".git").exists():
        assert head is not None and re.fullmatch(r"[0-9a-f]{40}", head)
    assert git_commit(REPO_ROOT) == head
    assert git_commit(tmp_path) is None  # not a checkout
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    # A fresh repository: no commit yet is None; after one, its hash.
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    assert git_commit(repo) is None
    (repo / "f").write_text("x")
    subprocess.run([*git, "add", "f"], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True, env=env)
    assert git_commit(repo) == _head(repo)
    assert git_commit(repo) is not None


def test_peak_on_tiny_sizes_is_stored_and_read_back(db: Any) -> None:
    tiny = TimingConfig(warmup=1, min_iterations=3, min_time_s=0.0, max_time_s=1.0)
    result = measure_peak(sizes=(32, 64), threads=(1,), bandwidth_mb=2, timing=tiny)
    kinds = {(p.kind, p.engine, p.size) for p in result.probes}
    assert kinds == {
        ("gemm", "torch", 32),
        ("gemm", "torch", 64),
        ("gemm", "onnxruntime", 32),
        ("gemm", "onnxruntime", 64),
        ("copy", "torch", 2),
        ("triad", "torch", 2),
    }
    gemm = [p for p in result.probes if p.kind == "gemm"]
    assert result.gflops == max(p.rate for p in gemm) > 0
    best = next(p for p in gemm if p.rate == result.gflops)
    assert best.rate == pytest.approx(2 * best.size**3 / (best.median_ms / 1000) / 1e9)
    assert result.bandwidth_gbs > 0
    peak_id = store.save_peak(db, result.to_dict())
    stored = store.latest_peak(db)
    assert stored is not None and stored["id"] == peak_id
    assert stored["gflops"] == pytest.approx(result.gflops)
    assert len(stored["probes"]) == 6
    assert peak_for_threads(stored, 1) == pytest.approx(result.gflops)
    assert peak_for_threads(stored, 7) == pytest.approx(result.gflops)  # not probed: overall


def test_garbage_collector_is_paused_while_timing_only() -> None:
    clock = FakeClock(1.0)
    states: list[bool] = []

    def step() -> float:
        states.append(gc.isenabled())
        return clock.step()

    assert gc.isenabled()
    measure(step, TimingConfig(1, 3, 0.0, 100.0), clock=clock)
    assert states == [True, False, False, False]  # warm-up with GC, samples without
    assert gc.isenabled()


def test_a_version_one_bench_database_upgrades(db_path: Any) -> None:
    from core.db import applied_versions
    from dlradar.database import open_db

    db = open_db(db_path)
    # turn it back into what bench schema v1 created, then reopen
    db.execute("ALTER TABLE bench_peaks DROP COLUMN gflops_engine")
    db.execute("ALTER TABLE bench_results DROP COLUMN process_peak_memory_mb")
    db.execute("ALTER TABLE bench_results DROP COLUMN bytes_moved")
    for index in ("bench_runs_uuid", "bench_runs_fleet"):
        db.execute(f"DROP INDEX {index}")
    for column in ("uuid", "fleet_id", "machine"):
        db.execute(f"ALTER TABLE bench_runs DROP COLUMN {column}")
    db.execute("DELETE FROM _migrations WHERE component = 'bench' AND version > 1")
    db.conn.close()
    db = open_db(db_path)
    assert applied_versions(db)["bench"] >= 2
    peak = {"gflops": 1.0, "gflops_engine": "onnxruntime", "gflops_size": 8,
            "gflops_threads": 1, "bandwidth_gbs": 1.0, "bandwidth_kind": "copy",
            "bandwidth_threads": 1}  # fmt: skip
    store.save_peak(db, peak)
    stored = store.latest_peak(db)
    assert stored is not None and stored["gflops_engine"] == "onnxruntime"
    db.conn.close()
