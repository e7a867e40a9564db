"""Run one benchmark profile on every node of an existing Ray cluster (`dlradar bench fleet`).

One task per node, pinned to it (NodeAffinitySchedulingStrategy, soft=False) and reserving all
of its CPUs and GPUs, so nothing else Ray schedules runs there while it times (and CUDA stays
visible to it: Ray hides the GPUs from a task that asks for none). Inside the task the
thread counts are set explicitly (Ray sets OMP_NUM_THREADS=1 in its workers) and the run is the
same harness as `bench run` (bench.runner.run_benchmark) into a temporary database on the node;
the task streams the run back one measured configuration at a time (bench.store.export_run_part),
and the driver stores each part in its own database as it arrives, all under one fleet id. A node that fails, dies or
lacks a backend is reported with its reason while the others finish; KeyboardInterrupt cancels
the remote tasks and keeps what finished.

Ray is imported here only, inside functions, so `import bench` stays light.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from bench import store
from core.errors import DlradarError

if TYPE_CHECKING:
    from bench.runner import RunConfig

ENV_ADDRESS = "RAY_ADDRESS"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
WORKDIR_PREFIX = "dlradar-fleet-"  # + the node id's first 8 characters: a node's work in progress


@dataclass(frozen=True)
class FleetNode:
    """A node of the cluster as the driver sees it."""

    node_id: str
    hostname: str
    address: str
    cpus: int
    alive: bool
    gpus: int = 0

    @property
    def label(self) -> str:
        return f"{self.hostname} · node {self.node_id[:8]}"


@dataclass
class NodeOutcome:
    """What became of one node's part: its stored run, or why there is none."""

    node: FleetNode
    status: str = "pending"  # ok | partial | failed | unavailable | interrupted | lost | cancelled
    run_id: int | None = None  # in the driver's database
    results: int = 0
    ok: int = 0
    reason: str | None = None
    seconds: float | None = None
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node.node_id,
            "hostname": self.node.hostname,
            "address": self.node.address,
            "cpus": self.node.cpus,
            "gpus": self.node.gpus,
            "status": self.status,
            "run_id": self.run_id,
            "results": self.results,
            "ok": self.ok,
            "reason": self.reason,
            "seconds": None if self.seconds is None else round(self.seconds, 2),
        }


@dataclass
class FleetResult:
    fleet_id: str
    outcomes: list[NodeOutcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def run_ids(self) -> list[int]:
        """Runs stored here: finished ones, and the kept part of a run whose node was lost."""
        return [o.run_id for o in self.outcomes if o.run_id is not None]


class FleetInterrupted(KeyboardInterrupt):
    """Ctrl-C during a fleet: the remote tasks were cancelled; `fleet` holds what finished."""

    def __init__(self, fleet: FleetResult) -> None:
        super().__init__("stopped by the user (Ctrl-C)")
        self.fleet = fleet


def resolve_address(address: str | None) -> str:
    """--address, else $RAY_ADDRESS; a fleet needs an existing cluster (`ray start --head`)."""
    chosen = address or os.environ.get(ENV_ADDRESS)
    if not chosen:
        raise DlradarError(
            "no Ray cluster given: pass --address HOST:PORT or set RAY_ADDRESS"
            " (start one with `ray start --head` on one machine)"
        )
    return chosen


LOOPBACK = ("127.0.0.1", "localhost", "::1")
CONNECT_TIMEOUT_S = 10


def connect(address: str) -> bool:
    """Join the cluster at `address` as a driver (the cluster keeps running after we leave);
    False when this process is connected already (the caller's connection is used)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise DlradarError(f"--address {address!r}: expected HOST:PORT, e.g. 10.0.0.5:6379")
    try:  # Ray itself would retry an unreachable address for minutes
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise DlradarError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with"
            " `ray start --head` and pass the address it prints"
        ) from exc
    if host in LOOPBACK and "ray" not in sys.modules:
        # Ray rewrites a loopback address to this machine's network address (where a cluster
        # started on 127.0.0.1 does not listen) unless told that it runs without a network.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # Ray's notes on accelerator variables
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise DlradarError(f"cannot connect to the Ray cluster at {address}: {exc}") from exc
    return True


def disconnect() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def cluster_nodes() -> list[FleetNode]:
    """Every node the cluster knows, alive or not."""
    import ray

    out = []
    for node in ray.nodes():  # type: ignore[no-untyped-call]
        resources = node.get("Resources") or {}
        out.append(
            FleetNode(
                node_id=str(node["NodeID"]),
                hostname=str(node.get("NodeManagerHostname") or node.get("NodeManagerAddress")),
                address=str(node.get("NodeManagerAddress") or ""),
                cpus=int(resources.get("CPU") or 0),
                alive=bool(node.get("Alive")),
                gpus=int(resources.get("GPU") or 0),
            )
        )
    return out


def select_nodes(nodes: Sequence[FleetNode], wanted: Sequence[str] = ()) -> list[FleetNode]:
    """Every alive node with CPUs, or those named in `wanted` (node ids or their start)."""
    alive = [n for n in nodes if n.alive]
    if not wanted:
        chosen = [n for n in alive if n.cpus > 0]
        if not chosen:
            raise DlradarError("the Ray cluster has no alive node with CPUs")
        return chosen
    chosen = []
    for name in wanted:
        matches = [n for n in nodes if n.node_id == name or n.node_id.startswith(name)]
        if len(matches) != 1:
            known = ", ".join(n.node_id[:12] for n in alive) or "none"
            what = "matches several nodes" if matches else "is no node of the cluster"
            raise DlradarError(f"--nodes {name!r} {what} (alive: {known})")
        node = matches[0]
        if not node.alive:
            raise DlradarError(f"node {node.node_id[:12]} ({node.hostname}) is not alive")
        if node not in chosen:
            chosen.append(node)
    return chosen


def set_threads(threads: int) -> dict[str, Any]:
    """Inside a task: the thread counts asked for, not Ray's default of one. Sets the OpenMP/MKL
    variables (read by libraries not loaded yet) and torch's intra-op pool; returns what holds."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)
    return {
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ[THREAD_VARIABLES[0]],
    }


def measure_on_node(config: RunConfig, fleet_id: str) -> Iterator[dict[str, Any]]:
    """The body of a node's task (a Ray streaming generator): `bench run`'s harness into a
    temporary database on the node, yielding the run as it grows (bench.store.export_run_part:
    the run with the results measured since the last part), so that the driver keeps every
    finished configuration even if the node dies later."""
    import ray

    from bench.runner import run_benchmark
    from bench.schema import SCHEMA
    from core.db import open_db

    node_id = ray.get_runtime_context().get_node_id()
    set_threads(max(config.threads))
    with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{node_id[:8]}-") as tmp:
        path = Path(tmp) / "node.db"
        db = open_db(path, [SCHEMA])
        reader = open_db(path, [SCHEMA], migrate=False)
        events: queue.Queue[str | None] = queue.Queue()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                set_threads(max(config.threads))  # this thread's own OpenMP setting
                run_benchmark(db, config, say=events.put, node_id=node_id, fleet_id=fleet_id)
            except BaseException as exc:  # raised below, in the task, after what was measured
                failure.append(exc)
            finally:
                events.put(None)

        worker = threading.Thread(target=work, name="dlradar-bench-node", daemon=True)
        worker.start()
        sent = 0
        try:
            while True:
                line = events.get()
                run_ids = [int(r["id"]) for r in reader.query("SELECT id FROM bench_runs")]
                # "[n/total] ..." follows each stored configuration; None: the run is over
                if run_ids and (line is None or line.startswith("[")):
                    part, last = store.export_run_part(reader, run_ids[0], sent)
                    if last != sent or line is None:
                        sent = last
                        yield part
                if line is None:
                    break
            worker.join()
            if failure:
                raise failure[0]
        finally:
            reader.conn.close()
            db.conn.close()


def _error_text(exc: BaseException) -> str:
    """A one-line reason from a Ray error: the remote exception's own message when the task
    raised one (not Ray's traceback around it), else the first line of Ray's."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:2]) if lines else ""
    name = type(exc).__name__
    return f"{name}: {text}"[:500] if text else name


def run_fleet(
    db: sqlite_utils.Database,
    config: RunConfig,
    *,
    address: str,
    nodes: Sequence[str] = (),
    say: Callable[[str], None] | None = None,
    fleet_id: str | None = None,
) -> FleetResult:
    """Run `config` once on every selected node of the cluster at `address`; store each node's
    run in `db` as it grows (a configuration at a time), all with one fleet id. Returns every
    node's outcome.

    KeyboardInterrupt cancels the tasks still running (their nodes are reported `cancelled`),
    keeps what finished and propagates."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    tell = say or (lambda _text: None)
    fleet = FleetResult(fleet_id or uuid.uuid4().hex)
    start = time.perf_counter()
    joined = connect(address)
    try:
        chosen = select_nodes(cluster_nodes(), nodes)
    except BaseException:
        if joined:
            disconnect()
        raise
    remote = ray.remote(measure_on_node)
    pending: dict[Any, NodeOutcome] = {}  # node's ObjectRefGenerator -> its outcome
    try:
        for node in chosen:
            outcome = NodeOutcome(node)
            fleet.outcomes.append(outcome)
            ref = remote.options(
                name=f"dlradar-bench-{node.node_id[:8]}",
                num_cpus=node.cpus,  # the whole node: nothing else is scheduled there meanwhile
                # and its GPUs: Ray hides every GPU from a task that asks for none
                num_gpus=node.gpus,
                num_returns="streaming",  # a part of the run per measured configuration
                max_retries=0,  # a run that died is reported, not repeated elsewhere
                retry_exceptions=False,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
            ).remote(config, fleet.fleet_id)
            pending[ref] = outcome
            gpus = f", {node.gpus} GPUs" if node.gpus else ""
            tell(f"{node.label} ({node.address}, {node.cpus} CPUs{gpus}): started")
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for parts in ready:
                outcome = pending[parts]
                stored = outcome.results
                if _receive(db, fleet, outcome, parts):
                    if outcome.results > stored:
                        tell(
                            f"{outcome.node.label}: {outcome.results} configuration(s) stored"
                            f" in run {outcome.run_id}"
                        )
                else:
                    del pending[parts]
                    outcome.seconds = time.perf_counter() - start
                    tell(_describe(outcome))
    except KeyboardInterrupt:
        fleet.interrupted = True
        for ref, outcome in pending.items():
            with contextlib.suppress(Exception):  # already gone: nothing left to stop
                ray.cancel(ref, force=True)
            outcome.status, outcome.reason = "cancelled", "stopped by the user (Ctrl-C)"
            _close_lost_run(db, outcome)
            with contextlib.suppress(Exception):
                tell(_describe(outcome))
        fleet.seconds = time.perf_counter() - start
        raise FleetInterrupted(fleet) from None
    finally:
        if joined:
            disconnect()
    fleet.seconds = time.perf_counter() - start
    return fleet


def _receive(
    db: sqlite_utils.Database, fleet: FleetResult, outcome: NodeOutcome, parts: Any
) -> bool:
    """Store the node's next part; False once the node is done (finished, failed or lost)."""
    import ray

    try:
        ref = next(parts)
    except StopIteration:
        if outcome.status == "pending":  # a generator that ended without a single part
            outcome.status, outcome.reason = "failed", "the node returned no run"
        return False
    try:
        part = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the task raised (a missing library, say)
        outcome.status, outcome.reason = "failed", _error_text(exc)
    except ray.exceptions.TaskCancelledError as exc:
        outcome.status, outcome.reason = "cancelled", _error_text(exc)
    except ray.exceptions.RayError as exc:  # the node or its worker died, or it was unreachable
        outcome.status, outcome.reason = "lost", _error_text(exc)
    else:
        _store_part(db, fleet, outcome, part)
        return True
    _close_lost_run(db, outcome)
    return False


def _store_part(
    db: sqlite_utils.Database, fleet: FleetResult, outcome: NodeOutcome, part: dict[str, Any]
) -> None:
    run = part["run"]
    results = part.get("results") or []
    outcome.run_id = store.merge_run_part(db, part, fleet_id=fleet.fleet_id)
    outcome.results += len(results)
    outcome.ok += sum(1 for r in results if r.get("status") == "ok")
    outcome.failures.extend(
        f"{r['backend']} {r['device']}: {r.get('error')}"
        for r in results
        if r.get("status") != "ok"
    )
    outcome.status = str(run.get("status"))
    if outcome.failures:
        outcome.reason = "; ".join(sorted(set(outcome.failures)))[:500]
    elif outcome.status not in ("ok", "running"):
        outcome.reason = run.get("message")


def _close_lost_run(db: sqlite_utils.Database, outcome: NodeOutcome) -> None:
    """A node that stopped mid-run: its stored part of the run is kept, marked interrupted."""
    if outcome.run_id is not None:
        store.finish_run(
            db, outcome.run_id, "interrupted", f"node {outcome.status}: {outcome.reason}"[:500]
        )


def _describe(outcome: NodeOutcome) -> str:
    head = f"{outcome.node.label}: {outcome.status}"
    if outcome.run_id is not None:
        head += f", run {outcome.run_id}: {outcome.ok} of {outcome.results} configurations ok"
    if outcome.seconds is not None:
        head += f" after {outcome.seconds:.1f} s"
    return head + (f" ({outcome.reason})" if outcome.reason else "")
