"""`dlradar bench fleet` on a real Ray cluster started here: two nodes of one CPU each on
127.0.0.1 (ray.cluster_utils.Cluster), stopped at the end. lenet5 at size small with a short
timing, so the module stays well under two minutes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench import store
from dlradar.cli import cli
from dlradar.database import open_db

ROOT = Path(__file__).resolve().parents[1]
TIMING = ["--warmup", "1", "--min-iterations", "5", "--min-time", "0.05", "--max-time", "1"]
PROFILE = ["--model", "lenet5", "--quick", "--size", "small", *TIMING]


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class LocalCluster:
    def __init__(self, cluster: Any, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir  # TMPDIR of the nodes: where their tasks' databases live

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def node_ids(self) -> list[str]:
        return [str(node.node_id) for node in self.cluster.list_all_nodes()]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[LocalCluster]:
    patch = pytest.MonkeyPatch()
    # Ray would rewrite 127.0.0.1 to this machine's network address (see bench.fleet.connect);
    # read when ray is imported, so first.
    patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        patch.undo()
        _missing("needs Ray (pip install ray==2.55.1)")
    # A short private directory: Ray's socket paths must stay under 108 characters, and its
    # files must not mix with another cluster's.
    base = Path(tempfile.mkdtemp(prefix="dlr-ray-", dir="/tmp"))
    workdir = base / "work"
    workdir.mkdir()
    patch.setenv("RAY_TMPDIR", str(base))
    patch.setenv("TMPDIR", str(workdir))
    patch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    patch.setenv("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    node_args = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    cluster = Cluster(
        initialize_head=True,
        head_node_args=node_args
        | {
            "_system_config": {
                "health_check_period_ms": 500,
                "health_check_failure_threshold": 4,
            }
        },
    )
    try:
        cluster.add_node(**node_args)
        cluster.wait_for_nodes()
        import ray

        # One driver for the module: the fleets reuse its warm workers (bench.fleet keeps a
        # connection it did not make), so later tests do not import torch again.
        ray.init(address=cluster.address, log_to_driver=False)
        yield LocalCluster(cluster, workdir)
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
        patch.undo()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet_run(
    ray_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """A fleet run of lenet5 on both nodes, with 2 threads each (Ray would give them 1), on
    the CPU and on CUDA, which these nodes lack; returns the database and the driver's stderr."""
    db = tmp_path_factory.mktemp("fleet") / "driver.db"
    result = CliRunner().invoke(
        cli,
        ["bench", "fleet", "--address", ray_cluster.address, *PROFILE, "--threads", "2",
         "--backend", "torch,onnxruntime", "--device", "cpu,cuda", "--format", "jsonl",
         "--db", str(db)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + str(result.exception)
    return db, result.stderr


@pytest.fixture(scope="module")
def fleet_db(fleet_run: tuple[Path, str]) -> Path:
    return fleet_run[0]


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def test_a_fleet_measures_every_node_and_names_it(
    ray_cluster: LocalCluster, fleet_run: tuple[Path, str]
) -> None:
    fleet_db = fleet_run[0]
    result = CliRunner().invoke(
        cli, ["bench", "show", "--all", "--format", "jsonl", "--db", str(fleet_db)]
    )
    assert result.exit_code == 0, result.output
    rows = _jsonl(result.stdout)
    nodes = {row["machine"]["node_id"] for row in rows}
    assert nodes == set(ray_cluster.node_ids())  # both nodes' results arrived, each naming its node
    cpu = [row for row in rows if row["device"] == "cpu"]
    assert {row["backend"] for row in cpu} == {"torch", "onnxruntime"}
    assert len(cpu) == 4 and all(row["status"] == "ok" for row in cpu)
    # what a node lacks is reported with its reason, and its other results are kept
    cuda = [row for row in rows if row["device"] == "cuda"]
    assert len(cuda) == 4 and {row["status"] for row in cuda} == {"unavailable"}
    assert all("CUDA is not available" in row["error"] for row in cuda)
    stderr = fleet_run[1]
    assert stderr.count("partial") == 2 and "CUDA is not available" in stderr
    assert len({row["fleet_id"] for row in rows}) == 1 and rows[0]["fleet_id"]
    for row in rows:
        machine = row["machine"]
        assert machine["hostname"] and machine["cpu_model"] and machine["logical_cores"]
        assert machine["memory_gb"] > 0 and machine["versions"]["torch"]
        assert isinstance(machine["accelerators"], list)
    db = open_db(fleet_db)
    runs = store.list_runs(db)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"partial"}
    assert len({r["uuid"] for r in runs}) == 2


def test_threads_inside_a_task_are_what_was_asked(fleet_db: Path) -> None:
    db = open_db(fleet_db)
    for run in store.list_runs(db):
        environment = run["environment"]
        # Ray starts workers with OMP_NUM_THREADS=1; the task set what --threads asked.
        assert environment["omp_num_threads"] == "2"
        assert environment["torch_threads"]["intra"] == 2
    assert {row["threads"] for row in store.result_rows(db) if row["device"] == "cpu"} == {2}


def test_export_and_import_carry_runs_without_duplicates(fleet_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runs = store.list_runs(open_db(fleet_db))
    exported = tmp_path / "fleet.jsonl"
    result = runner.invoke(
        cli,
        ["bench", "export", *(str(r["id"]) for r in runs), "-o", str(exported), "--db", str(fleet_db)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = _jsonl(exported.read_text())
    assert len(lines) == 2 and all(line["run"]["machine"]["node_id"] for line in lines)
    assert all(line["run"]["environment"]["cpu_model"] for line in lines)
    elsewhere = tmp_path / "elsewhere.db"
    first = runner.invoke(
        cli, ["bench", "import", str(exported), "--format", "jsonl", "--db", str(elsewhere)]
    )
    assert first.exit_code == 0, first.output
    assert len(_jsonl(first.stdout)) == 2
    again = runner.invoke(cli, ["bench", "import", str(exported), "--db", str(elsewhere)])
    assert again.exit_code == 0 and "imported 0 run(s)" in again.stderr
    back_home = runner.invoke(cli, ["bench", "import", str(exported), "--db", str(fleet_db)])
    assert "imported 0 run(s)" in back_home.stderr and "2 already stored" in back_home.stderr
    original = store.result_rows(open_db(fleet_db))
    copied = store.result_rows(open_db(elsewhere))
    assert len(copied) == len(original) == 8

    def same(row: store.ResultRow) -> tuple[Any, ...]:
        return (row["machine"], row["model"], row["backend"], row["latency_ms"], row["fleet_id"])

    assert sorted(map(same, copied), key=str) == sorted(map(same, original), key=str)
    # raw samples travel too
    db = open_db(elsewhere)
    assert all(store.samples(db, row["result_id"]) for row in copied if row["status"] == "ok")


def test_ctrl_c_cancels_the_remote_tasks_and_keeps_what_finished(
    ray_cluster: LocalCluster, tmp_path: Path
) -> None:
    from bench.fleet import FleetInterrupted, run_fleet
    from bench.runner import profile_config
    from bench.timing import TimingConfig

    config = profile_config(
        "quick",
        models=("lenet5",),
        backends=("torch",),
        size="small",
        timing=TimingConfig(warmup=1, min_iterations=5, min_time_s=0.05, max_time_s=1.0),
    )
    db = open_db(tmp_path / "driver.db")
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        if ": ok, run" in text:  # the first node's run is stored: now the user presses Ctrl-C
            raise KeyboardInterrupt

    with pytest.raises(FleetInterrupted) as stopped:
        run_fleet(db, config, address=ray_cluster.address, nodes=ray_cluster.node_ids(), say=say)
    fleet = stopped.value.fleet
    assert fleet.interrupted and len(fleet.run_ids) == 1
    statuses = sorted(o.status for o in fleet.outcomes)
    assert statuses == ["cancelled", "ok"]
    assert [r["id"] for r in store.list_runs(db)] == fleet.run_ids  # what finished is kept
    assert sum("cancelled" in line for line in lines) == 1, lines


def test_a_node_killed_mid_run_is_reported_and_the_others_kept(
    ray_cluster: LocalCluster, tmp_path: Path
) -> None:
    from bench.fleet import run_fleet
    from bench.runner import profile_config
    from bench.timing import TimingConfig

    doomed = ray_cluster.cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    ray_cluster.cluster.wait_for_nodes()
    head = ray_cluster.cluster.head_node.node_id
    config = profile_config(
        "quick",
        models=("lenet5",),
        backends=("torch",),
        batch_sizes=(1, 2),  # two configurations: the node dies during the second
        size="small",
        timing=TimingConfig(warmup=1, min_iterations=5, min_time_s=3.0, max_time_s=5.0),
    )
    db = open_db(tmp_path / "driver.db")
    lines: list[str] = []
    outcome: dict[str, Any] = {}

    def drive() -> None:
        try:
            outcome["fleet"] = run_fleet(
                db, config, address=ray_cluster.address, nodes=[head, doomed.node_id],
                say=lines.append,
            )  # fmt: skip
        except BaseException as exc:  # pragma: no cover - shown by the assertion below
            outcome["error"] = exc

    driver = threading.Thread(target=drive)
    driver.start()
    deadline = time.monotonic() + 90
    # Kill the node once its first configuration is stored here, while it times the second.
    first_part = f"node {doomed.node_id[:8]}: 1 configuration(s) stored"
    while not any(first_part in line for line in list(lines)):
        assert time.monotonic() < deadline and driver.is_alive(), lines
        time.sleep(0.05)
    ray_cluster.cluster.remove_node(doomed, allow_graceful=False)
    driver.join(timeout=60)
    assert not driver.is_alive() and "error" not in outcome, outcome
    by_node = {o.node.node_id: o for o in outcome["fleet"].outcomes}
    killed, kept = by_node[doomed.node_id], by_node[head]
    assert killed.status == "lost" and killed.reason, killed
    assert kept.status == "ok" and kept.run_id is not None
    assert store.get_run(db, kept.run_id)["status"] == "ok"
    assert len(store.result_rows(db, run_ids=[kept.run_id])) == 2
    # the lost node's finished configuration is kept, its run marked interrupted with the reason
    lost_run = store.get_run(db, killed.run_id)
    assert lost_run["status"] == "interrupted" and "lost" in lost_run["message"]
    (row,) = store.result_rows(db, run_ids=[killed.run_id])
    assert row["status"] == "ok" and row["batch_size"] == 1
    assert row["machine"]["node_id"] == doomed.node_id
    assert any(doomed.node_id[:8] in line and ": lost" in line for line in lines), lines
