"""Where a result was measured: bench migration v4 on an old database, `bench machines`,
`radar --machine`, export/import edge cases (no Ray needed: the fleet tests start one)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from dashboard_fixtures import build_fleet, machine_labels

from bench import store
from core.db import applied_versions
from dashboard.radar import radar_table
from dlradar.cli import cli
from dlradar.database import open_db

ZOO = [("lenet5", "cnn"), ("lstm", "lstm")]


def test_an_old_run_gets_a_uuid_and_its_machine_from_its_environment(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_db(path)
    environment = {"hostname": "old-box", "cpu_model": "Old CPU", "logical_cores": 4,
                   "memory_gb": 8.0, "gpu": {"name": "Old GPU", "memory_gb": 4.0},
                   "versions": {"torch": "1.0"}, "python": "3.11.2"}  # fmt: skip
    run_id = store.create_run(db, profile="quick", environment=environment, config={}, peak_id=None)
    # back to what bench v3 stored, then reopen: v4 runs on the old row
    for index in ("bench_runs_uuid", "bench_runs_fleet"):
        db.execute(f"DROP INDEX {index}")
    for column in ("uuid", "fleet_id", "machine"):
        db.execute(f"ALTER TABLE bench_runs DROP COLUMN {column}")
    db.execute("DELETE FROM _migrations WHERE component = 'bench' AND version = 4")
    db.conn.close()
    db = open_db(path)
    assert applied_versions(db)["bench"] == 4
    run = store.get_run(db, run_id)
    assert len(run["uuid"]) == 32 and run["fleet_id"] is None
    machine = run["machine"]
    assert machine["hostname"] == "old-box" and machine["node_id"] is None
    assert machine["cpu_model"] == "Old CPU" and machine["logical_cores"] == 4
    assert machine["accelerators"] == [{"name": "Old GPU", "memory_gb": 4.0}]
    assert machine["versions"] == {"torch": "1.0"}


def test_machines_and_the_radar_of_one_machine(tmp_path: Path) -> None:
    path = build_fleet(tmp_path / "fleet.db")
    runner = CliRunner()
    listed = runner.invoke(cli, ["bench", "machines", "--format", "jsonl", "--db", str(path)])
    assert listed.exit_code == 0, listed.output
    labels = [json.loads(line)["label"] for line in listed.stdout.splitlines()]
    assert labels == machine_labels()

    db = open_db(path)
    # without a machine, a configuration's latest result wins, wherever it was measured
    everywhere = {r["machine"]["hostname"] for r in store.latest_ok_results(db)}
    assert everywhere == {"beta"}
    for name, host in (("alpha", "alpha"), (machine_labels()[1], "beta"), ("2222bbbb", "beta")):
        rows = radar_table(db, ZOO, machine=name)
        results = [r for row in rows for r in row["results"]]
        assert results and {r["run_id"] for r in results} == {
            r["run_id"] for r in store.latest_ok_results(db, name)
        }
        assert {r["machine"]["hostname"] for r in store.latest_ok_results(db, name)} == {host}

    fast = runner.invoke(
        cli, ["radar", "--machine", "beta", "--format", "jsonl", "--db", str(path)]
    )
    slow = runner.invoke(
        cli, ["radar", "--machine", "alpha", "--format", "jsonl", "--db", str(path)]
    )
    assert fast.exit_code == 0 and slow.exit_code == 0, fast.output + slow.output

    def p50(output: str) -> float:
        cnn = next(r for r in map(json.loads, output.splitlines()) if r["family"] == "cnn")
        return float(next(r["p50_ms"] for r in cnn["results"] if r["backend"] == "torch"))

    assert p50(fast.stdout) < p50(slow.stdout)  # beta is the faster fixture machine
    unknown = runner.invoke(cli, ["radar", "--machine", "gamma", "--db", str(path)])
    assert unknown.exit_code == 1 and "alpha" in unknown.stderr


def test_import_refuses_what_is_no_export_and_is_idempotent(tmp_path: Path) -> None:
    source = build_fleet(tmp_path / "fleet.db")
    runner = CliRunner()
    out = tmp_path / "all.jsonl"
    result = runner.invoke(cli, ["bench", "export", "--fleet", "fixturefleet", "-o", str(out),
                                 "--db", str(source)])  # fmt: skip
    assert result.exit_code == 0, result.output
    target = tmp_path / "target.db"
    for expected in (2, 0, 0):
        again = runner.invoke(cli, ["bench", "import", str(out), "--db", str(target)])
        assert again.exit_code == 0 and f"imported {expected} run(s)" in again.stderr
    db = open_db(target)
    assert len(store.list_runs(db)) == 2 and len(store.result_rows(db)) == 8
    assert {r["fleet_id"] for r in store.result_rows(db)} == {"fixturefleet"}
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"hello": 1}\n')
    refused = runner.invoke(cli, ["bench", "import", str(junk), "--db", str(target)])
    assert refused.exit_code == 1 and "not an exported benchmark run" in refused.stderr
    missing = runner.invoke(cli, ["bench", "export", "99", "-o", str(out), "--db", str(source)])
    assert missing.exit_code == 1 and "99" in missing.stderr


def test_a_fleet_without_a_reachable_cluster_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    runner = CliRunner()
    db = ["--db", str(tmp_path / "x.db"), "--model", "lenet5"]
    missing = runner.invoke(cli, ["bench", "fleet", *db])
    assert missing.exit_code == 1 and "RAY_ADDRESS" in missing.stderr
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = runner.invoke(cli, ["bench", "fleet", "--address", f"127.0.0.1:{port}", *db])
    assert refused.exit_code == 1 and "no Ray cluster answers" in refused.stderr
    malformed = runner.invoke(cli, ["bench", "fleet", "--address", "nowhere", *db])
    assert malformed.exit_code == 1 and "HOST:PORT" in malformed.stderr


def test_nodes_are_chosen_by_id_or_its_start() -> None:
    from bench.fleet import FleetNode, select_nodes
    from core.errors import DlradarError

    nodes = [
        FleetNode("aaaa1111", "one", "10.0.0.1", cpus=8, alive=True, gpus=1),
        FleetNode("aaaa2222", "two", "10.0.0.2", cpus=4, alive=True),
        FleetNode("bbbb3333", "three", "10.0.0.3", cpus=4, alive=False),
        FleetNode("cccc4444", "head", "10.0.0.4", cpus=0, alive=True),  # no CPUs to time on
    ]
    assert [n.hostname for n in select_nodes(nodes)] == ["one", "two"]
    assert [n.hostname for n in select_nodes(nodes, ["aaaa2", "aaaa1111"])] == ["two", "one"]
    for wanted, message in (
        (["aaaa"], "matches several nodes"),
        (["ffff"], "is no node of the cluster"),
        (["bbbb"], "is not alive"),
    ):
        with pytest.raises(DlradarError, match=message):
            select_nodes(nodes, wanted)
