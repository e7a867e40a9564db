"""`dlradar bench` end to end on zoo models at size small, through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.report import BenchReport
from bench.zoo import list_models
from dlradar.cli import cli
from dlradar.commands.bench import bench

DESIGN_FIELDS = {"run_id", "model", "backend", "device", "dtype", "batch_size", "threads",
                 "params", "flops", "latency_ms", "throughput_per_s", "peak_memory_mb",
                 "status", "error"}  # fmt: skip
FAST = ["--warmup", "1", "--min-iterations", "3", "--min-time", "0", "--max-time", "1"]


def test_models_lists_the_zoo_without_running(runner: CliRunner) -> None:
    result = runner.invoke(bench, ["models", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in rows] == [s.name for s in list_models()]
    for row in rows:
        assert {"name", "family", "params", "flops", "input", "source"} <= set(row)
        assert row["params"] > 0 and row["flops"] > 0
    assert not Path("data").exists()  # listing the zoo opens no database


def test_peak_then_run_then_show_with_roofline(runner: CliRunner, db_path: Path) -> None:
    db = ["--db", str(db_path)]
    peak = runner.invoke(bench, ["peak", "--sizes", "64", "--threads", "1", "--bandwidth-mb",
                                 "2", "--format", "json", *db])  # fmt: skip
    assert peak.exit_code == 0, peak.output
    assert json.loads(peak.stdout)[0]["gflops"] > 0
    args = ["run", "--model", "lenet5", "--size", "small", "--batch-size", "1,2",
            "--threads", "1", "--format", "jsonl", *FAST, *db]  # fmt: skip
    run = runner.invoke(bench, args)
    assert run.exit_code == 0, run.output
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["backend"], r["batch_size"]) for r in rows] == [
        ("torch", 1), ("torch", 2), ("onnxruntime", 1), ("onnxruntime", 2)
    ]  # fmt: skip
    for row in rows:
        assert set(row) >= DESIGN_FIELDS and row["status"] == "ok"
        assert row["fraction_of_peak"] > 0  # a peak was stored, so every result has one
    shown = runner.invoke(bench, ["show", "--format", "csv", *db])
    assert shown.exit_code == 0 and len(shown.stdout.splitlines()) == 1 + 4
    table = list(csv.DictReader(io.StringIO(shown.stdout)))
    # the table formats render floats to 4 significant digits
    expected = [r["latency_ms"]["p50"] for r in rows]
    assert [float(r["p50_ms"]) for r in table] == pytest.approx(expected, rel=1e-3)
    markdown = runner.invoke(bench, ["show", "--markdown", "--save", "r.json", *db])
    assert "| lenet5 | onnxruntime | cpu | 2 | 1 |" in markdown.stdout
    saved = BenchReport.from_json(Path("r.json"))  # the runner fixture works in tmp_path
    assert [r["latency_ms"] for r in saved.results] == [r["latency_ms"] for r in rows]
    assert saved.run["profile"] == "quick+custom"  # [bench] profile's default


@pytest.mark.parametrize(
    ("setting", "env", "flag", "profile"),
    [
        (None, None, None, "quick"),  # the default of [bench] profile
        ("full", None, None, "full"),  # the file chooses
        ("full", None, "--quick", "quick"),  # a flag wins over the file
        ("quick", None, "--full", "full"),
        ("full", "quick", None, "quick"),  # the environment wins over the file
    ],
)
def test_the_configured_profile_is_the_default_one(
    runner: CliRunner,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    env: str | None,
    flag: str | None,
    profile: str,
) -> None:
    if setting:
        Path("dlradar.toml").write_text(f'[bench]\nprofile = "{setting}"\n')  # in tmp_path
    if env:
        monkeypatch.setenv("DLRADAR_BENCH_PROFILE", env)
    db = ["--db", str(db_path)]
    args = ["bench", "run", "--model", "lenet5", "--size", "small", "--backend", "torch",
            "--threads", "1", "--format", "jsonl", *FAST, *db, *([flag] if flag else [])]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    batches = [json.loads(line)["batch_size"] for line in result.stdout.splitlines()]
    assert batches == {"quick": [1], "full": [1, 8]}[profile]  # the profile's batch sizes
    listed = runner.invoke(cli, ["bench", "list", "--format", "json", *db])
    assert json.loads(listed.stdout)[0]["profile"] == f"{profile}+custom"
    shown = runner.invoke(cli, ["config", "show", "--format", "json", *db])
    row = next(r for r in json.loads(shown.stdout) if r["setting"] == "bench.profile")
    assert row["value"] == (env or setting or "quick")
    origin = "env DLRADAR_BENCH_PROFILE" if env else ("file" if setting else "default")
    assert row["origin"].startswith(origin)


def test_an_unknown_configured_profile_is_a_one_line_error(
    runner: CliRunner, db_path: Path
) -> None:
    Path("dlradar.toml").write_text('[bench]\nprofile = "fast"\n')
    result = runner.invoke(cli, ["bench", "run", "--model", "lenet5", "--db", str(db_path)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: bench.profile = 'fast' (file ")
    assert result.output.rstrip().endswith("expected quick or full")
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_model_and_bad_options_are_usage_or_named_errors(
    runner: CliRunner, db_path: Path
) -> None:
    unknown = runner.invoke(bench, ["run", "--model", "nope", "--db", str(db_path)])
    assert unknown.exit_code != 0 and "nope" in str(unknown.exception)
    bad = runner.invoke(bench, ["run", "--backend", "tensorflow", "--db", str(db_path)])
    assert bad.exit_code == 2 and "tensorflow" in bad.output
    bad_batch = runner.invoke(bench, ["run", "--batch-size", "0", "--db", str(db_path)])
    assert bad_batch.exit_code == 2


def test_eval_stores_metrics_with_the_onnx_accuracy(runner: CliRunner, db_path: Path) -> None:
    args = ["eval", "--model", "lenet5", "--size", "small", "--epochs", "1", "--format",
            "jsonl", "--db", str(db_path)]  # fmt: skip
    result = runner.invoke(bench, args)
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    metrics = row["eval"]
    assert row["status"] == "ok" and row["exporter"] in {"dynamo", "torchscript"}
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "f1_macro" in metrics
    assert metrics["onnx_accuracy"] is not None
    assert metrics["onnx_accuracy_diff"] == metrics["onnx_accuracy"] - metrics["accuracy"]
    listed = runner.invoke(bench, ["list", "--format", "jsonl", "--db", str(db_path)])
    assert json.loads(listed.stdout.splitlines()[0])["kind"] == "eval"


def test_compare_threshold_default_matches_the_library() -> None:
    import click

    from bench.compare import REGRESSION_THRESHOLD
    from dlradar.commands.bench import bench

    compare = bench.commands["compare"]
    option = next(
        p for p in compare.params if isinstance(p, click.Option) and p.name == "threshold"
    )
    assert option.default == pytest.approx(REGRESSION_THRESHOLD * 100)


def test_list_as_csv_fills_the_cpu_and_torch_columns(runner: CliRunner, db_path: Path) -> None:
    from bench import store
    from dlradar.database import open_db

    db = open_db(db_path)
    environment = {"cpu_model": "Test CPU", "versions": {"torch": "9.9"}}
    store.create_run(db, profile="quick", environment=environment, config={}, peak_id=None)
    db.conn.close()
    listed = runner.invoke(bench, ["list", "--format", "csv", "--db", str(db_path)])
    assert listed.exit_code == 0, listed.output
    (row,) = csv.DictReader(io.StringIO(listed.stdout))
    assert (row["cpu"], row["torch"]) == ("Test CPU", "9.9")
