"""Reading and writing the benchmark tables (runs, results, samples, peaks).

Results are written one configuration at a time, each in its own transaction, so an
interrupted run keeps everything that finished. `result_rows` gives the public shape that
`dlradar bench show` prints and the dashboard reads.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

import sqlite_utils

from bench.environment import machine_label, machine_matches, machine_of
from bench.stats import LatencyStats
from core.db import transaction, utc_now
from core.errors import DlradarError, NotFoundError

RUN_STATUSES = ("running", "ok", "partial", "failed", "interrupted", "unavailable")


@dataclass
class ResultRecord:
    """Everything measured for one configuration (model x backend x device x batch x threads)."""

    model: str
    backend: str
    device: str
    batch_size: int
    threads_intra: int | None
    threads_inter: int | None
    status: str = "ok"  # ok | failed | unavailable (the machine lacks the device)
    family: str | None = None
    task: str | None = None
    dtype: str = "float32"
    params: int | None = None
    flops: int | None = None
    macs: int | None = None
    flop_method: str | None = None
    exporter: str | None = None
    providers: list[str] | None = None
    stage: str | None = None  # where a failure happened: build, export, session, parity, run
    error: str | None = None
    latency: LatencyStats | None = None
    stopped_by: str | None = None
    throughput_per_s: float | None = None
    peak_memory_mb: float | None = (
        None  # the configuration's own: RSS growth over the pre-build level
    )
    process_peak_memory_mb: float | None = None  # the process's RSS high-water mark in the block
    bytes_moved: int | None = None  # weights, inputs and outputs of one call (roofline x-axis)
    cuda_peak_memory_mb: float | None = None
    build_s: float | None = None
    export_s: float | None = None
    session_s: float | None = None
    first_call_ms: float | None = None
    parity_max_abs_diff: float | None = None
    achieved_gflops: float | None = None
    fraction_of_peak: float | None = None
    eval_metrics: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    samples_ms: list[float] = field(default_factory=list)

    @property
    def noisy(self) -> bool | None:
        return None if self.latency is None else self.latency.noisy


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
    if cursor.lastrowid is None:
        raise RuntimeError(f"insert into {table} returned no row id")
    return int(cursor.lastrowid)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


# --- peaks ----------------------------------------------------------------------------------


def save_peak(db: sqlite_utils.Database, peak: dict[str, Any]) -> int:
    """Store a measured peak (see bench.peak.PeakResult.to_dict); returns its id."""
    row = {
        "measured_at": peak.get("measured_at") or utc_now(),
        "gflops": peak["gflops"],
        "gflops_engine": peak.get("gflops_engine", "torch"),
        "gflops_size": peak["gflops_size"],
        "gflops_threads": peak["gflops_threads"],
        "bandwidth_gbs": peak["bandwidth_gbs"],
        "bandwidth_kind": peak["bandwidth_kind"],
        "bandwidth_threads": peak["bandwidth_threads"],
        "sizes": _json(peak.get("sizes", [])),
        "threads": _json(peak.get("threads", [])),
        "probes": _json(peak.get("probes", [])),
        "environment": _json(peak.get("environment", {})),
    }
    with transaction(db):
        return _insert(db, "bench_peaks", row)


def latest_peak(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The most recent stored peak, JSON fields decoded, or None when none was measured."""
    rows = list(db.query("SELECT * FROM bench_peaks ORDER BY id DESC LIMIT 1"))
    return _decode_peak(rows[0]) if rows else None


def list_peaks(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return [_decode_peak(r) for r in db.query("SELECT * FROM bench_peaks ORDER BY id")]


def _decode_peak(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("sizes", "threads", "probes", "environment"):
        out[key] = json.loads(out[key]) if out.get(key) else None
    return out


# --- runs -----------------------------------------------------------------------------------


def create_run(
    db: sqlite_utils.Database,
    *,
    profile: str,
    environment: dict[str, Any],
    config: dict[str, Any],
    peak_id: int | None,
    kind: str = "run",
    machine: dict[str, Any] | None = None,
    fleet_id: str | None = None,
    uuid: str | None = None,
) -> int:
    """A new run (status `running`); `machine` defaults to this environment's, without a node id."""
    row = {
        "uuid": uuid or uuidlib.uuid4().hex,
        "fleet_id": fleet_id,
        "machine": _json(machine if machine is not None else machine_of(environment)),
        "kind": kind,
        "profile": profile,
        "started_at": utc_now(),
        "status": "running",
        "environment": _json(environment),
        "git_commit": environment.get("git_commit"),
        "peak_id": peak_id,
        "config": _json(config),
    }
    with transaction(db):
        return _insert(db, "bench_runs", row)


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str, message: str | None = None
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    with transaction(db):
        db.execute(
            "UPDATE bench_runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
            [status, utc_now(), message, run_id],
        )


def get_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM bench_runs WHERE id = ?", [run_id]))
    if not rows:
        raise NotFoundError(f"benchmark run {run_id} not found")
    return _decode_run(rows[0])


def latest_run_id(db: sqlite_utils.Database, kind: str | None = None) -> int:
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = list(db.query(f"SELECT id FROM bench_runs {where} ORDER BY id DESC LIMIT 1", params))
    if not rows:
        raise NotFoundError("no benchmark runs stored yet (try `dlradar bench run --quick`)")
    return int(rows[0]["id"])


def list_runs(db: sqlite_utils.Database, limit: int = 0) -> list[dict[str, Any]]:
    """Runs, newest first, with their result counts."""
    sql = (
        "SELECT r.*, (SELECT COUNT(*) FROM bench_results x WHERE x.run_id = r.id) AS results,"
        " (SELECT COUNT(*) FROM bench_results x WHERE x.run_id = r.id AND x.status = 'failed')"
        " AS failed,"
        " (SELECT COUNT(*) FROM bench_results x WHERE x.run_id = r.id AND x.status = 'ok') AS ok"
        " FROM bench_runs r ORDER BY r.id DESC"
    )
    if limit > 0:
        sql += f" LIMIT {int(limit)}"
    return [_decode_run(r) for r in db.query(sql)]


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["environment"] = json.loads(out["environment"]) if out.get("environment") else {}
    out["config"] = json.loads(out["config"]) if out.get("config") else {}
    out["machine"] = json.loads(out["machine"]) if out.get("machine") else None
    return out


# --- results --------------------------------------------------------------------------------


def save_result(db: sqlite_utils.Database, run_id: int, record: ResultRecord) -> int:
    """Store one configuration and its raw samples atomically; returns the result id."""
    latency = record.latency
    row: dict[str, Any] = {
        "run_id": run_id,
        "created_at": utc_now(),
        "model": record.model,
        "family": record.family,
        "task": record.task,
        "backend": record.backend,
        "device": record.device,
        "dtype": record.dtype,
        "batch_size": record.batch_size,
        "threads_intra": record.threads_intra,
        "threads_inter": record.threads_inter,
        "params": record.params,
        "flops": record.flops,
        "macs": record.macs,
        "flop_method": record.flop_method,
        "exporter": record.exporter,
        "providers": _json(record.providers),
        "status": record.status,
        "stage": record.stage,
        "error": record.error,
        "stopped_by": record.stopped_by,
        "throughput_per_s": record.throughput_per_s,
        "peak_memory_mb": record.peak_memory_mb,
        "process_peak_memory_mb": record.process_peak_memory_mb,
        "bytes_moved": record.bytes_moved,
        "cuda_peak_memory_mb": record.cuda_peak_memory_mb,
        "build_s": record.build_s,
        "export_s": record.export_s,
        "session_s": record.session_s,
        "first_call_ms": record.first_call_ms,
        "parity_max_abs_diff": record.parity_max_abs_diff,
        "achieved_gflops": record.achieved_gflops,
        "fraction_of_peak": record.fraction_of_peak,
        "noisy": None if record.noisy is None else int(record.noisy),
        "eval_metrics": _json(record.eval_metrics),
        "config": _json(record.config) or "{}",
    }
    stats = asdict(latency) if latency else {}
    for key in ("count", "mean", "p50", "p90", "p95", "p99", "stdev", "iqr", "min", "max"):
        row[f"latency_{key}"] = stats.get(key)
    with transaction(db):
        result_id = _insert(db, "bench_results", row)
        db.conn.executemany(
            "INSERT INTO bench_samples (result_id, iteration, ms) VALUES (?, ?, ?)",
            [(result_id, i, ms) for i, ms in enumerate(record.samples_ms)],
        )
    return result_id


def samples(db: sqlite_utils.Database, result_id: int) -> list[float]:
    """The raw per-iteration latencies (ms) of a result, in iteration order."""
    return [
        float(r["ms"])
        for r in db.query(
            "SELECT ms FROM bench_samples WHERE result_id = ? ORDER BY iteration", [result_id]
        )
    ]


class Latency(TypedDict):
    """Steady-state latency of one configuration, in milliseconds (count: timed calls)."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    stdev: float
    iqr: float
    min: float
    max: float
    count: int


class ResultRow(TypedDict):
    """One stored result as `bench show --format jsonl` prints it and every reader gets it."""

    run_id: int
    result_id: int
    model: str
    family: str | None
    backend: str
    device: str
    dtype: str | None
    batch_size: int
    threads: int | None
    inter_op_threads: int | None
    params: int | None
    flops: float | None
    macs: float | None
    latency_ms: Latency | None
    throughput_per_s: float | None
    peak_memory_mb: float | None
    process_peak_memory_mb: float | None
    bytes_moved: int | None
    arithmetic_intensity: float | None
    size: str | None
    status: str
    error: str | None
    stage: str | None
    exporter: str | None
    providers: list[str] | None
    noisy: bool | None
    stopped_by: str | None
    achieved_gflops: float | None
    fraction_of_peak: float | None
    parity_max_abs_diff: float | None
    phases: dict[str, float | None] | None
    cuda_peak_memory_mb: float | None
    eval: dict[str, Any] | None
    created_at: str
    machine: dict[str, Any] | None  # where it was measured (bench.environment.machine_of)
    fleet_id: str | None  # the `bench fleet` it was part of


# The run's columns every public row carries (joined as bench_runs u).
RUN_COLUMNS = "u.machine AS run_machine, u.fleet_id AS run_fleet_id"


class ResultDetails(TypedDict):
    """What a result was measured on, beyond its public row: the task and model size."""

    task: str | None
    size: str | None
    latency_count: int | None
    stopped_by: str | None


class Sample(TypedDict):
    result_id: int
    iteration: int
    ms: float


def result_details(db: sqlite_utils.Database) -> dict[int, ResultDetails]:
    """Every stored result's task, model size and why its timing stopped, by result id."""
    out: dict[int, ResultDetails] = {}
    for result_id, config, count, stopped_by, task in db.execute(
        "SELECT id, config, latency_count, stopped_by, task FROM bench_results"
    ).fetchall():
        out[int(result_id)] = {
            "task": task,
            "size": json.loads(config or "{}").get("size"),
            "latency_count": count,
            "stopped_by": stopped_by,
        }
    return out


def samples_of(db: sqlite_utils.Database, result_ids: Sequence[int]) -> list[Sample]:
    """The raw per-iteration latencies of several results, by result and iteration."""
    if not result_ids:
        return []
    marks = ",".join("?" * len(result_ids))
    rows = db.execute(
        f"SELECT result_id, iteration, ms FROM bench_samples WHERE result_id IN ({marks})"
        " ORDER BY result_id, iteration",
        list(result_ids),
    ).fetchall()
    return [{"result_id": int(r), "iteration": int(i), "ms": float(ms)} for r, i, ms in rows]


def is_set_up(db: sqlite_utils.Database) -> bool:
    """Whether this database has the benchmark tables (opened with bench's schema)."""
    return "bench_results" in db.table_names()


def result_count(db: sqlite_utils.Database) -> tuple[int, int]:
    """How many results are stored, and the newest result id (0 when none)."""
    total, last_id = db.execute(
        "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM bench_results"
    ).fetchone()
    return int(total), int(last_id)


def timing_results(
    db: sqlite_utils.Database, *, after_id: int | None = None, up_to_id: int | None = None
) -> list[tuple[dict[str, Any], ResultRow]]:
    """Results of timing runs (not `bench eval`) by id range, oldest first, each as
    (its run's environment, its public row)."""
    clauses, params = ["u.kind = 'run'"], []
    if after_id is not None:
        clauses.append("r.id > ?")
        params.append(after_id)
    if up_to_id is not None:
        clauses.append("r.id <= ?")
        params.append(up_to_id)
    rows = db.query(
        f"SELECT r.*, u.environment AS run_environment, {RUN_COLUMNS} FROM bench_results r"
        f" JOIN bench_runs u ON u.id = r.run_id WHERE {' AND '.join(clauses)} ORDER BY r.id",
        params,
    )
    return [(json.loads(row["run_environment"] or "{}"), public_row(row)) for row in rows]


ConfigurationKey = tuple[str, str, str, str | None, int, int | None, str | None]


def configuration_key(row: ResultRow) -> ConfigurationKey:
    """What makes two results comparable: model, backend, device, dtype, batch, threads, size."""
    return (
        row["model"],
        row["backend"],
        row["device"],
        row["dtype"],
        row["batch_size"],
        row["threads"],
        row["size"],
    )


def _on_machine(rows: Iterable[ResultRow], machine: str | None) -> Iterator[ResultRow]:
    for row in rows:
        if machine is None or machine_matches(row["machine"], machine):
            yield row


def latest_ok_results(db: sqlite_utils.Database, machine: str | None = None) -> list[ResultRow]:
    """The latest successful timing of every configuration (timing runs only), oldest first;
    with `machine` (a hostname, machine label or Ray node id), only that machine's.

    A figure is only comparable with its configuration: a 2-thread result never stands in for a
    1-thread one, and a failed attempt never hides an earlier success."""
    rows = db.query(
        f"SELECT r.*, {RUN_COLUMNS} FROM bench_results r JOIN bench_runs u ON u.id = r.run_id"
        " WHERE u.kind = 'run' AND r.status = 'ok' AND r.latency_p50 IS NOT NULL ORDER BY r.id"
    )
    latest: dict[ConfigurationKey, ResultRow] = {}
    for public in _on_machine(map(public_row, rows), machine):
        latest[configuration_key(public)] = public
    return sorted(latest.values(), key=lambda r: r["result_id"])


def latest_failures(
    db: sqlite_utils.Database, machine: str | None = None
) -> dict[ConfigurationKey, ResultRow]:
    """Configurations whose latest timing attempt failed, with that attempt (stage, error)."""
    rows = db.query(
        f"SELECT r.*, {RUN_COLUMNS} FROM bench_results r JOIN bench_runs u ON u.id = r.run_id"
        " WHERE u.kind = 'run' ORDER BY r.id"
    )
    latest: dict[ConfigurationKey, ResultRow] = {}
    for public in _on_machine(map(public_row, rows), machine):
        latest[configuration_key(public)] = public
    return {key: row for key, row in latest.items() if row["status"] != "ok"}


def latest_evaluations(db: sqlite_utils.Database) -> dict[tuple[str, str | None], ResultRow]:
    """The latest successful evaluation (`bench eval`) of every model and size."""
    rows = db.query(
        f"SELECT r.*, {RUN_COLUMNS} FROM bench_results r JOIN bench_runs u ON u.id = r.run_id"
        " WHERE u.kind = 'eval' AND r.status = 'ok' AND r.eval_metrics IS NOT NULL ORDER BY r.id"
    )
    latest: dict[tuple[str, str | None], ResultRow] = {}
    for row in rows:
        public = public_row(row)
        latest[(public["model"], public["size"])] = public
    return latest


def result_rows(
    db: sqlite_utils.Database,
    *,
    run_ids: Sequence[int] | None = None,
    model: str | None = None,
    backend: str | None = None,
    status: str | None = None,
) -> list[ResultRow]:
    """Results in the public shape (design.md's `bench show` fields first), oldest first."""
    clauses: list[str] = []
    params: list[Any] = []
    if run_ids:
        clauses.append(f"r.run_id IN ({', '.join('?' for _ in run_ids)})")
        params.extend(run_ids)
    for column, value in (("model", model), ("backend", backend), ("status", status)):
        if value is not None:
            clauses.append(f"r.{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.query(
        f"SELECT r.*, {RUN_COLUMNS} FROM bench_results r JOIN bench_runs u ON u.id = r.run_id"
        f" {where} ORDER BY r.run_id, r.id",
        params,
    )
    return [public_row(r) for r in rows]


def public_row(row: dict[str, Any]) -> ResultRow:
    """One stored result as the nested object that `bench show --format jsonl` prints."""
    latency: Latency | None = None
    if row.get("latency_p50") is not None:
        latency = {
            "mean": row["latency_mean"],
            "p50": row["latency_p50"],
            "p90": row["latency_p90"],
            "p95": row["latency_p95"],
            "p99": row["latency_p99"],
            "stdev": row["latency_stdev"],
            "iqr": row["latency_iqr"],
            "min": row["latency_min"],
            "max": row["latency_max"],
            "count": row["latency_count"],
        }
    eval_metrics = json.loads(row["eval_metrics"]) if row.get("eval_metrics") else None
    phases = {k: row[k] for k in ("build_s", "export_s", "session_s", "first_call_ms")}
    return {
        "run_id": row["run_id"],
        "result_id": row["id"],
        "model": row["model"],
        "family": row["family"],
        "backend": row["backend"],
        "device": row["device"],
        "dtype": row["dtype"],
        "batch_size": row["batch_size"],
        "threads": row["threads_intra"],
        "inter_op_threads": row["threads_inter"],
        "params": row["params"],
        "flops": row["flops"],
        "macs": row["macs"],
        "latency_ms": latency,
        "throughput_per_s": row["throughput_per_s"],
        "peak_memory_mb": row["peak_memory_mb"],
        "process_peak_memory_mb": row.get("process_peak_memory_mb"),
        "bytes_moved": row.get("bytes_moved"),
        "arithmetic_intensity": (
            row["flops"] / row["bytes_moved"] if row["flops"] and row.get("bytes_moved") else None
        ),
        "size": json.loads(row.get("config") or "{}").get("size"),
        "status": row["status"],
        "error": row["error"],
        "stage": row["stage"],
        "exporter": row["exporter"],
        "providers": json.loads(row["providers"]) if row.get("providers") else None,
        "noisy": None if row["noisy"] is None else bool(row["noisy"]),
        "stopped_by": row["stopped_by"],
        "achieved_gflops": row["achieved_gflops"],
        "fraction_of_peak": row["fraction_of_peak"],
        "parity_max_abs_diff": row["parity_max_abs_diff"],
        "phases": phases if any(v is not None for v in phases.values()) else None,
        "cuda_peak_memory_mb": row["cuda_peak_memory_mb"],
        "eval": eval_metrics,
        "created_at": row["created_at"],
        "machine": json.loads(row["run_machine"]) if row.get("run_machine") else None,
        "fleet_id": row.get("run_fleet_id"),
    }


# --- export and import ----------------------------------------------------------------------

EXPORT_FORMAT = "dlradar-bench-run"
EXPORT_VERSION = 1
# Columns that belong to one database only: ids are renumbered on import, a peak stays behind
# (the results keep their fraction of it).
_LOCAL_RUN_COLUMNS = ("id", "peak_id")
_LOCAL_RESULT_COLUMNS = ("id", "run_id")
_RUN_JSON = ("environment", "config", "machine")
_RESULT_JSON = ("providers", "eval_metrics", "config")


@dataclass
class ImportSummary:
    """What `import_runs` did: runs added, runs already there (by uuid), results added."""

    added: list[int] = field(default_factory=list)  # the new local run ids
    skipped: list[str] = field(default_factory=list)  # uuids already stored
    results: int = 0


def export_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    """One run as a self-contained object: the run (uuid, environment, machine, config), every
    result with its raw samples. One line of `bench export`'s JSON lines."""
    rows = list(db.query("SELECT * FROM bench_runs WHERE id = ?", [run_id]))
    if not rows:
        raise NotFoundError(f"benchmark run {run_id} not found")
    run = {k: v for k, v in rows[0].items() if k not in _LOCAL_RUN_COLUMNS}
    for key in _RUN_JSON:
        run[key] = json.loads(run[key]) if run.get(key) else None
    results = []
    for row in db.query("SELECT * FROM bench_results WHERE run_id = ? ORDER BY id", [run_id]):
        result = {k: v for k, v in row.items() if k not in _LOCAL_RESULT_COLUMNS}
        for key in _RESULT_JSON:
            result[key] = json.loads(result[key]) if result.get(key) else None
        result["samples_ms"] = samples(db, int(row["id"]))
        results.append(result)
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "run": run, "results": results}


def export_runs(db: sqlite_utils.Database, run_ids: Sequence[int]) -> Iterator[dict[str, Any]]:
    for run_id in run_ids:
        yield export_run(db, run_id)


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def export_run_part(
    db: sqlite_utils.Database, run_id: int, after_result_id: int = 0
) -> tuple[dict[str, Any], int]:
    """The run (its current status) with only its results after `after_result_id`, and the last
    result id included: how a fleet node sends its results as they are measured."""
    # One read snapshot for both reads: a result committed between them (the node's harness
    # writes while this reads) would shift the ids against the results, and one was lost.
    own = not db.conn.in_transaction
    if own:
        db.execute("BEGIN")
    try:
        exported = export_run(db, run_id)
        ids = [
            int(r["id"])
            for r in db.query("SELECT id FROM bench_results WHERE run_id = ? ORDER BY id", [run_id])
        ]
    finally:
        if own:
            db.execute("COMMIT")
    if len(ids) != len(exported["results"]):
        raise RuntimeError(f"run {run_id}: results changed while being exported")
    fresh = [i for i, result_id in enumerate(ids) if result_id > after_result_id]
    exported["results"] = [exported["results"][i] for i in fresh]
    return exported, ids[fresh[-1]] if fresh else after_result_id


def _insert_results(
    db: sqlite_utils.Database, run_id: int, results: Iterable[dict[str, Any]]
) -> int:
    columns = _columns(db, "bench_results")
    count = 0
    for result in results:
        row = {k: v for k, v in result.items() if k in columns and k not in _LOCAL_RESULT_COLUMNS}
        for key in _RESULT_JSON:
            if key in row:
                row[key] = _json(row[key]) if key != "config" else _json(row[key]) or "{}"
        row["run_id"] = run_id
        result_id = _insert(db, "bench_results", row)
        db.conn.executemany(
            "INSERT INTO bench_samples (result_id, iteration, ms) VALUES (?, ?, ?)",
            [(result_id, i, float(ms)) for i, ms in enumerate(result.get("samples_ms") or [])],
        )
        count += 1
    return count


def merge_run_part(
    db: sqlite_utils.Database, exported: dict[str, Any], *, fleet_id: str | None = None
) -> int:
    """Store a part of a run (export_run_part): the run the first time its uuid is seen, then
    each part's results, and the run's status, end and message as the part says."""
    _check_export(exported)
    run = exported["run"]
    with transaction(db):
        rows = list(db.query("SELECT id FROM bench_runs WHERE uuid = ?", [run["uuid"]]))
        if not rows:
            return _import_new(db, exported, fleet_id)
        run_id = int(rows[0]["id"])
        _insert_results(db, run_id, exported.get("results") or [])
        db.execute(
            "UPDATE bench_runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
            [run.get("status"), run.get("finished_at"), run.get("message"), run_id],
        )
    return run_id


def import_run(
    db: sqlite_utils.Database, exported: dict[str, Any], *, fleet_id: str | None = None
) -> int | None:
    """Store one exported run (its results and samples) in one transaction; returns the new
    run id, or None when a run with its uuid is stored already (importing twice adds nothing).

    `fleet_id` sets the run's fleet (the driver of `bench fleet` groups its nodes' runs)."""
    _check_export(exported)
    with transaction(db):
        if list(db.query("SELECT 1 FROM bench_runs WHERE uuid = ?", [exported["run"]["uuid"]])):
            return None
        return _import_new(db, exported, fleet_id)


def _check_export(exported: dict[str, Any]) -> None:
    if exported.get("format") != EXPORT_FORMAT or not isinstance(exported.get("run"), dict):
        raise DlradarError(f"not an exported benchmark run (expected format {EXPORT_FORMAT!r})")
    if int(exported.get("version") or 0) > EXPORT_VERSION:
        raise DlradarError(
            f"exported with a newer format (version {exported['version']}); upgrade dlradar"
        )
    if not exported["run"].get("uuid"):
        raise DlradarError("exported run has no uuid")


def _import_new(db: sqlite_utils.Database, exported: dict[str, Any], fleet_id: str | None) -> int:
    """Insert an exported run and its results (inside the caller's transaction)."""
    run = dict(exported["run"])
    for key in _RUN_JSON:
        run[key] = _json(run.get(key)) or "{}"
    if fleet_id is not None:
        run["fleet_id"] = fleet_id
    columns = _columns(db, "bench_runs")
    run_row = {k: v for k, v in run.items() if k in columns and k not in _LOCAL_RUN_COLUMNS}
    run_id = _insert(db, "bench_runs", run_row)
    _insert_results(db, run_id, exported.get("results") or [])
    return run_id


def import_runs(db: sqlite_utils.Database, exported: Iterable[dict[str, Any]]) -> ImportSummary:
    """Store every exported run not stored yet (by uuid)."""
    summary = ImportSummary()
    for item in exported:
        run_id = import_run(db, item)
        if run_id is None:
            summary.skipped.append(str(item["run"]["uuid"]))
            continue
        summary.added.append(run_id)
        summary.results += len(item.get("results") or [])
    return summary


def machines(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every distinct machine that has runs stored, in order of its first run, each with its
    `label` (bench.environment.machine_label), `runs` and `last_run` (started_at)."""
    seen: dict[str, dict[str, Any]] = {}
    for text, started in db.execute(
        "SELECT machine, started_at FROM bench_runs ORDER BY id"
    ).fetchall():
        machine = json.loads(text or "{}")
        if not machine:
            continue
        label = machine_label(machine)
        entry = seen.setdefault(label, machine | {"label": label, "runs": 0})
        entry["runs"] += 1
        entry["last_run"] = started
    return list(seen.values())


def run_ids_of_fleet(db: sqlite_utils.Database, fleet_id: str) -> list[int]:
    return [
        int(r["id"])
        for r in db.query("SELECT id FROM bench_runs WHERE fleet_id = ? ORDER BY id", [fleet_id])
    ]
