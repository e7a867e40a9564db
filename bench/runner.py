"""Run a benchmark profile: build each model, export it, time every configuration, store it.

A configuration is model x device x backend x threads x batch size. Each is measured alone
(never two things timed at once) and stored as soon as it finishes, so Ctrl-C keeps what
finished; the run is then marked `interrupted`. A configuration that fails (build, export,
session, parity, run) is stored as failed with its stage and reason, and the run goes on.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np
import sqlite_utils
import torch

from bench import store
from bench.choices import BACKENDS, DEVICES, PROFILES
from bench.environment import capture_environment, machine_of
from bench.onnx_export import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    EXPORTERS,
    ExportError,
    ExportResult,
    check_parity,
    create_session,
    export_onnx,
    fixed_batch,
)
from bench.peak import peak_for_threads
from bench.stats import LatencyStats, throughput_per_s
from bench.store import ResultRecord
from bench.threads import (
    ThreadSettings,
    apply_torch,
    ort_session_options,
    ort_settings,
    torch_settings,
)
from bench.timing import (
    PeakMemory,
    TimingConfig,
    first_call_ms,
    host_timed,
    measure,
    ort_call,
    ort_feed,
    settled_rss_mb,
    timed,
    torch_call,
    torch_step,
)
from core.errors import DlradarError

EXPORT_BATCH = 2  # export with batch 2: batch 1 lets the exporter specialise the batch dim


class FlopLike(Protocol):
    @property
    def macs(self) -> int: ...
    @property
    def flops(self) -> int: ...
    @property
    def method(self) -> str: ...


class BenchModel(Protocol):
    """What the runner needs of a zoo entry (bench.zoo.ModelSpec provides it)."""

    @property
    def name(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def task(self) -> str: ...

    def build(self, *, size: str = ..., weights: str | None = ...) -> torch.nn.Module: ...
    def example_inputs(self, batch_size: int, *, size: str = ...) -> tuple[torch.Tensor, ...]: ...
    def flops(self, batch_size: int = ..., *, size: str = ...) -> FlopLike: ...
    def params(self, *, size: str = ...) -> int: ...


@dataclass(frozen=True)
class RunConfig:
    """What to measure and how long; stored with the run."""

    models: tuple[str, ...]
    backends: tuple[str, ...] = ("torch", "onnxruntime")
    devices: tuple[str, ...] = ("cpu",)
    batch_sizes: tuple[int, ...] = (1,)
    threads: tuple[int, ...] = (1,)
    inter_op_threads: int = 1
    timing: TimingConfig = field(default_factory=TimingConfig)
    profile: str = "custom"
    size: str = "full"
    # Models measured at their small variant whatever `size` says: the quick profile covers a
    # family whose reference model is too big for it that way.
    small_models: tuple[str, ...] = ()
    weights: str | None = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    def __post_init__(self) -> None:
        for backend in self.backends:
            if backend not in BACKENDS:
                raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        for device in self.devices:
            if device not in DEVICES:
                raise ValueError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}")
        if any(b < 1 for b in self.batch_sizes) or any(t < 1 for t in self.threads):
            raise ValueError("batch sizes and thread counts must be at least 1")

    def size_of(self, model: str) -> str:
        """The variant of `model` this run measures."""
        return "small" if model in self.small_models else self.size

    def configurations_per_model(self) -> int:
        return len(self.devices) * len(self.backends) * len(self.threads) * len(self.batch_sizes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


QUICK_TIMING = TimingConfig(warmup=2, min_iterations=10, min_time_s=0.25, max_time_s=3.0)
FULL_TIMING = TimingConfig(
    warmup=2, min_iterations=10, min_time_s=0.5, max_time_s=8.0, max_warmup_s=3.0
)


def profile_config(profile: str, **overrides: Any) -> RunConfig:
    """The `quick` or `full` profile, with any non-None override applied."""
    from bench.reference import CANONICAL_MODELS
    from bench.zoo import list_models

    specs = list_models()
    if profile == "quick":
        quick = [s.name for s in specs if s.quick]
        # Every family is measured: one too big for the quick profile by its reference
        # model's small variant (labelled "small" with its results, never the family's figure).
        covered = {s.family for s in specs if s.quick}
        small = tuple(
            s.name
            for s in specs
            if s.family not in covered and CANONICAL_MODELS.get(s.family) == s.name
        )
        base = RunConfig(
            models=(*quick, *small),
            small_models=small,
            batch_sizes=(1,),
            threads=(1,),
            timing=QUICK_TIMING,
            profile="quick",
        )
    elif profile == "full":
        base = RunConfig(
            models=tuple(s.name for s in specs),
            batch_sizes=(1, 8),
            threads=(1,),
            timing=FULL_TIMING,
            profile="full",
        )
    else:
        raise DlradarError(f"unknown benchmark profile {profile!r} ({' or '.join(PROFILES)})")
    changes = {k: v for k, v in overrides.items() if v not in (None, ())}
    return replace(base, **changes) if changes else base


# --- progress -------------------------------------------------------------------------------


class Progress:
    """A line per configuration on stderr; on a TTY also a bar redrawn below the lines.

    With `say`, lines go to that callback instead (the weekly job's log), without a bar.
    """

    def __init__(
        self, total: int, stream: TextIO | None = None, say: Callable[[str], None] | None = None
    ) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.say = say
        self.tty = say is None and bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, text: str) -> None:
        if self.say is not None:
            self.say(text)
            return
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self._bar()
        self.stream.flush()

    def advance(self, text: str) -> None:
        self.done += 1
        self.line(f"[{self.done}/{self.total}] {text}")

    def _bar(self) -> None:
        if not self.tty or self.total == 0:
            return
        width = 30
        filled = int(width * self.done / self.total)
        self.stream.write(f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def describe(record: ResultRecord) -> str:
    head = (
        f"{record.model} {record.backend} {record.device} batch={record.batch_size}"
        f" threads={record.threads_intra}"
    )
    if record.status != "ok" or record.latency is None:
        return f"{head}: FAILED at {record.stage}: {record.error}"
    lat = record.latency
    text = (
        f"{head}: p50 {lat.p50:.3f} ms (IQR {100 * lat.relative_iqr:.1f}%, n={lat.count})"
        f" {record.throughput_per_s:.1f}/s"
    )
    if record.fraction_of_peak is not None:
        text += f" {record.achieved_gflops:.1f} GFLOP/s ({100 * record.fraction_of_peak:.0f}% peak)"
    if lat.noisy:
        text += " [noisy]"
    return text


# --- the run --------------------------------------------------------------------------------


@dataclass
class _Context:
    db: sqlite_utils.Database
    run_id: int
    config: RunConfig
    peak: dict[str, Any] | None
    progress: Progress
    workdir: Path
    results: list[int] = field(default_factory=list)
    failures: int = 0
    unavailable: int = 0
    baseline_mb: float = 0.0  # resident memory before the current model was built

    def save(self, record: ResultRecord) -> None:
        self.results.append(store.save_result(self.db, self.run_id, record))
        if record.status != "ok":
            self.failures += 1
        if record.status == "unavailable":
            self.unavailable += 1
        self.progress.advance(describe(record))


def resolve_models(names: Sequence[str]) -> list[BenchModel]:
    from bench.zoo import get_model

    return [get_model(name) for name in names]


def run_benchmark(
    db: sqlite_utils.Database,
    config: RunConfig,
    *,
    specs: Sequence[BenchModel] | None = None,
    stream: TextIO | None = None,
    say: Callable[[str], None] | None = None,
    node_id: str | None = None,
    fleet_id: str | None = None,
) -> int:
    """Measure every configuration of `config` and store it; returns the run id.

    `specs` overrides the zoo lookup of `config.models` (tests pass their own small models).
    `node_id` and `fleet_id` say that this run is one Ray node's part of a `bench fleet`
    (bench.fleet); they are stored with the run's machine.
    KeyboardInterrupt marks the run `interrupted` and propagates after earlier results are kept.
    """
    models = list(specs) if specs is not None else resolve_models(config.models)
    peak = store.latest_peak(db)
    apply_torch(ThreadSettings(config.threads[0], config.inter_op_threads))
    environment = capture_environment()
    run_id = store.create_run(
        db,
        profile=config.profile,
        environment=environment,
        config=config.to_dict() | {"models": [m.name for m in models]},
        peak_id=peak["id"] if peak else None,
        machine=machine_of(environment, node_id),
        fleet_id=fleet_id,
    )
    progress = Progress(len(models) * config.configurations_per_model(), stream, say)
    if peak is None:
        progress.line("no stored peak: run `dlradar bench peak` for roofline fractions")
    try:
        with tempfile.TemporaryDirectory(prefix="dlradar-onnx-") as tmp:
            ctx = _Context(db, run_id, config, peak, progress, Path(tmp))
            _warm_runtimes(ctx)
            for spec in models:
                _run_model(ctx, spec)
    except KeyboardInterrupt:
        progress.close()
        store.finish_run(db, run_id, "interrupted", "stopped by the user (Ctrl-C)")
        raise
    except BaseException as exc:
        progress.close()
        store.finish_run(db, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    progress.close()
    total = len(ctx.results)
    status = "ok" if ctx.failures == 0 else ("failed" if ctx.failures == total else "partial")
    if total and ctx.unavailable == total:
        status = "unavailable"
    store.finish_run(db, run_id, status, f"{total - ctx.failures} of {total} configurations ok")
    return run_id


def _warm_runtimes(ctx: _Context) -> None:
    """Load the runtimes' code (kernels, the exporter, ONNX Runtime) with a tiny model first, so
    that the memory they take once is not counted as the first configuration's own."""
    tiny = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    inputs = (torch.zeros(EXPORT_BATCH, 1, 4, 4),)
    with torch.inference_mode():
        tiny(*inputs)
    if "onnxruntime" not in ctx.config.backends:
        return
    try:
        exported = export_onnx(tiny.eval(), inputs, ctx.workdir / "warm-up.onnx")
        session = create_session(exported.path, ThreadSettings(1, 1), "cpu")
        ort_call(session, ort_feed(session, inputs))()
    except Exception:  # a runtime that fails here fails again, reported, with the first model
        return


def run_quick_profile(
    db: sqlite_utils.Database,
    *,
    say: Callable[[str], None] | None = None,
    threads: Sequence[int] | None = None,
) -> str:
    """The quick profile (used by `dlradar run`): run it, store it, return a one-line summary."""
    config = profile_config("quick", threads=tuple(threads) if threads else None)
    start = time.perf_counter()
    run_id = run_benchmark(db, config, say=say)
    run = store.get_run(db, run_id)
    seconds = time.perf_counter() - start
    return f"benchmark run {run_id}: {run['status']}, {run['message']} in {seconds:.0f} s"


def _error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if not isinstance(exc, DlradarError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:500]


def _base_record(ctx: _Context, spec: BenchModel, device: str, backend: str) -> ResultRecord:
    return ResultRecord(
        model=spec.name,
        family=spec.family,
        task=spec.task,
        backend=backend,
        device=device,
        batch_size=0,
        threads_intra=None,
        threads_inter=None,
        config={
            "size": ctx.config.size_of(spec.name),
            "weights": ctx.config.weights,
            "timing": asdict(ctx.config.timing),
        },
    )


def _fail_all(
    ctx: _Context,
    base: ResultRecord,
    stage: str,
    error: str,
    backends: Sequence[str],
    threads_list: Sequence[int] | None = None,
    *,
    status: str = "failed",
) -> None:
    """Record every (backend, threads, batch) configuration under `base` as failed (or as
    `unavailable`: what this machine lacks, such as CUDA, is no failure of the model)."""
    for backend in backends:
        for threads in threads_list or ctx.config.threads:
            for batch in ctx.config.batch_sizes:
                ctx.save(
                    replace(
                        base,
                        backend=backend,
                        batch_size=batch,
                        threads_intra=threads,
                        threads_inter=ctx.config.inter_op_threads,
                        status=status,
                        stage=stage,
                        error=error,
                    )
                )


def _run_model(ctx: _Context, spec: BenchModel) -> None:
    config = ctx.config
    try:
        params = spec.params(size=config.size_of(spec.name))
    except Exception:  # a count the zoo cannot give is left empty, not fatal
        params = None
    for device in config.devices:
        base = _base_record(ctx, spec, device, config.backends[0])
        base.params = params
        if device == "cuda" and not torch.cuda.is_available():
            _fail_all(
                ctx,
                base,
                "device",
                "CUDA is not available on this machine",
                config.backends,
                status="unavailable",
            )
            continue
        ctx.baseline_mb = settled_rss_mb()
        try:
            model, build_s = timed(
                lambda: spec.build(size=config.size_of(spec.name), weights=config.weights)
            )
            model = model.eval().to(device)
        except Exception as exc:
            _fail_all(ctx, base, "build", _error_text(exc), config.backends)
            continue
        base.build_s = build_s
        if params is None:
            base.params = sum(p.numel() for p in model.parameters())
        for backend in config.backends:
            if backend == "onnxruntime":
                _run_onnxruntime(ctx, spec, model, replace(base, backend=backend))
            else:
                _run_torch(ctx, spec, model, replace(base, backend=backend))
        del model


def _with_flops(ctx: _Context, spec: BenchModel, record: ResultRecord) -> ResultRecord:
    try:
        count = spec.flops(record.batch_size, size=ctx.config.size_of(spec.name))
        record.flops, record.macs, record.flop_method = count.flops, count.macs, count.method
    except Exception:  # FLOPs are context, not a reason to lose the timing
        record.flop_method = "unavailable"
    return record


def _finish(ctx: _Context, record: ResultRecord, samples_ms: list[float]) -> ResultRecord:
    """Fill the latency record, throughput and roofline figures from raw samples."""
    stats = LatencyStats.from_samples(samples_ms)
    record.samples_ms = samples_ms
    record.latency = stats
    record.throughput_per_s = throughput_per_s(record.batch_size, stats.p50)
    if record.flops:
        record.achieved_gflops = record.flops / (stats.p50 / 1000.0) / 1e9
        if ctx.peak is not None and record.threads_intra:
            ceiling = peak_for_threads(ctx.peak, record.threads_intra)
            record.fraction_of_peak = record.achieved_gflops / ceiling if ceiling > 0 else None
    return record


@contextmanager
def _memory(ctx: _Context, record: ResultRecord) -> Iterator[None]:
    """The configuration's own memory: the peak RSS of its block over the level before its model
    was built (weights, activations, runtime buffers; for ONNX Runtime also the PyTorch model
    that its parity check keeps), so earlier configurations cannot inflate it."""
    settled_rss_mb()  # what the previous block freed goes back first
    tracker = PeakMemory()
    tracker.start()
    try:
        yield
    finally:
        peak = tracker.rss_peak_mb()
        record.process_peak_memory_mb = peak
        record.peak_memory_mb = max(peak - ctx.baseline_mb, 0.0)
        record.cuda_peak_memory_mb = tracker.cuda_peak_mb()


def _bytes_moved(
    params: int | None, inputs: Sequence[torch.Tensor], output: Any, element_size: int = 4
) -> int | None:
    """Bytes one call must move at least: its weights once, its inputs and its output.

    A lower bound of the real traffic (activations that spill from cache are not seen), which
    places a result on the roofline's x-axis (FLOPs per byte)."""
    if params is None:
        return None
    moved = params * element_size + sum(t.numel() * t.element_size() for t in inputs)
    if isinstance(output, torch.Tensor):
        moved += output.numel() * output.element_size()
    elif isinstance(output, np.ndarray):
        moved += int(output.nbytes)
    return moved


def _run_torch(ctx: _Context, spec: BenchModel, model: torch.nn.Module, base: ResultRecord) -> None:
    config = ctx.config
    for threads in config.threads:
        applied = apply_torch(ThreadSettings(threads, config.inter_op_threads))
        runnable: Callable[..., Any] = model
        if base.backend == "torch-compile":
            # torch.compile only wraps; compilation happens in (and is timed as) the first call.
            try:
                runnable = torch.compile(model)
            except Exception as exc:
                _fail_all(ctx, base, "compile", _error_text(exc), [base.backend], [threads])
                continue
        for batch in config.batch_sizes:
            record = replace(
                base, batch_size=batch, threads_intra=applied.intra, threads_inter=applied.inter
            )
            _with_flops(ctx, spec, record)
            try:
                inputs = tuple(
                    t.to(base.device)
                    for t in spec.example_inputs(batch, size=config.size_of(spec.name))
                )
                call = torch_call(runnable, inputs, base.device)  # type: ignore[arg-type]
                with _memory(ctx, record):
                    record.first_call_ms = first_call_ms(call, base.device)
                    result = measure(torch_step(call, base.device), config.timing)
                record.bytes_moved = _bytes_moved(record.params, inputs, call())
                record.stopped_by = result.stopped_by
                _finish(ctx, record, result.samples_ms)
            except Exception as exc:
                record.status, record.stage, record.error = "failed", "run", _error_text(exc)
            ctx.save(record)


def _export(ctx: _Context, spec: BenchModel, model: torch.nn.Module, device: str) -> ExportResult:
    cpu_model = model.to("cpu") if device != "cpu" else model
    inputs = spec.example_inputs(EXPORT_BATCH, size=ctx.config.size_of(spec.name))
    path = ctx.workdir / f"{spec.name}.onnx"
    try:
        return export_model(spec, cpu_model, inputs, path, ctx.config.size_of(spec.name))
    finally:
        if device != "cpu":
            model.to(device)


def export_model(
    spec: Any,
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    path: Path,
    size: str = "small",
) -> ExportResult:
    """Export with the exporters the zoo entry allows; a failure names the entry's reason for
    leaving the others out (data-dependent routing, say), or for not trying at full size."""
    if size == "full" and not getattr(spec, "onnx_full_size", True):
        raise ExportError(f"ONNX export not tried at full size: {spec.onnx_note}")
    exporters = getattr(spec, "onnx_exporters", None) or EXPORTERS
    try:
        return export_onnx(model, inputs, path, exporters=exporters)
    except ExportError as exc:
        note = getattr(spec, "onnx_note", "")
        if note:
            raise ExportError(f"{exc}; {note}") from exc
        raise


def _run_onnxruntime(
    ctx: _Context, spec: BenchModel, model: torch.nn.Module, base: ResultRecord
) -> None:
    config = ctx.config
    try:
        exported = _export(ctx, spec, model, base.device)
    except Exception as exc:
        _fail_all(ctx, base, "export", _error_text(exc), [base.backend])
        return
    base.exporter, base.export_s = exported.exporter, exported.seconds
    ctx.progress.line(
        f"{spec.name}: exported to ONNX by the {exported.exporter} exporter"
        f" in {exported.seconds:.1f} s"
    )
    if exported.failed_attempts:
        base.config = base.config | {"export_failures": list(exported.failed_attempts)}
    for threads in config.threads:
        wanted = ThreadSettings(threads, config.inter_op_threads)
        try:
            session, session_s = timed(
                lambda w=wanted: create_session(exported.path, w, base.device)  # type: ignore[misc]
            )
        except Exception as exc:
            _fail_all(ctx, base, "session", _error_text(exc), [base.backend], [threads])
            continue
        applied = ort_settings(ort_session_options(wanted))
        for batch in config.batch_sizes:
            record = replace(
                base,
                batch_size=batch,
                threads_intra=applied.intra,
                threads_inter=applied.inter,
                providers=list(session.get_providers()),
                session_s=session_s,
            )
            _with_flops(ctx, spec, record)
            _measure_onnxruntime(ctx, spec, model, session, record)
            ctx.save(record)
        del session
    exported.path.unlink(missing_ok=True)  # full-size models leave files of hundreds of MB


def _measure_onnxruntime(
    ctx: _Context, spec: BenchModel, model: torch.nn.Module, session: Any, record: ResultRecord
) -> None:
    config = ctx.config
    stage = "parity"
    try:
        pinned = fixed_batch(session)
        if pinned is not None and pinned != record.batch_size:
            raise DlradarError(f"exported graph is fixed to batch {pinned}")
        inputs = spec.example_inputs(record.batch_size, size=config.size_of(spec.name))
        with torch.inference_mode():
            reference = model(*(t.to(record.device) for t in inputs))
        feed = ort_feed(session, inputs)
        call = ort_call(session, feed)
        with _memory(ctx, record):
            outputs, first_s = timed(call)
            record.bytes_moved = _bytes_moved(record.params, inputs, outputs[0])
            record.first_call_ms = first_s * 1000.0
            parity = check_parity(reference, outputs[0], rtol=config.rtol, atol=config.atol)
            record.parity_max_abs_diff = parity.max_abs_diff
            if not parity.ok:
                raise DlradarError(
                    f"onnxruntime output differs from PyTorch: max abs diff"
                    f" {parity.max_abs_diff:.3g} beyond rtol={parity.rtol:g} atol={parity.atol:g}"
                )
            stage = "run"
            result = measure(host_timed(call), config.timing)
        record.stopped_by = result.stopped_by
        _finish(ctx, record, result.samples_ms)
    except Exception as exc:
        record.status, record.stage, record.error = "failed", stage, _error_text(exc)


# --- evaluation -----------------------------------------------------------------------------


def run_evaluation(
    db: sqlite_utils.Database,
    names: Sequence[str],
    eval_config: Any = None,
    *,
    stream: TextIO | None = None,
) -> int:
    """Train and evaluate each model (bench.evaluate), check its ONNX export on the same test
    split, and store one result per model with the metrics; returns the run id."""
    from bench.evaluate import EvalConfig

    config = eval_config or EvalConfig()
    progress = Progress(len(names), stream)
    run_id = store.create_run(
        db,
        profile="eval",
        kind="eval",
        environment=capture_environment(),
        config=asdict(config) | {"models": list(names)},
        peak_id=None,
    )
    failures = 0
    try:
        with tempfile.TemporaryDirectory(prefix="dlradar-eval-") as tmp:
            for name in names:
                record = _evaluate_one(name, config, Path(tmp), progress)
                store.save_result(db, run_id, record)
                failures += record.status != "ok"
                progress.advance(_describe_eval(record))
    except KeyboardInterrupt:
        progress.close()
        store.finish_run(db, run_id, "interrupted", "stopped by the user (Ctrl-C)")
        raise
    progress.close()
    status = "ok" if failures == 0 else ("failed" if failures == len(names) else "partial")
    store.finish_run(db, run_id, status, f"{len(names) - failures} of {len(names)} models ok")
    return run_id


def _evaluate_one(name: str, config: Any, workdir: Path, progress: Progress) -> ResultRecord:
    from bench.evaluate import PASS_LEVELS, accuracy_of_logits, test_arrays, train_and_evaluate
    from bench.family_eval import has_task
    from bench.zoo import get_model

    threads = torch_settings()
    record = ResultRecord(
        model=name,
        backend="torch",
        device="cpu",
        batch_size=config.batch_size,
        threads_intra=threads.intra,
        threads_inter=threads.inter,
        config={"eval": True, "size": config.size},
    )
    try:
        spec = get_model(name)
        record.family, record.task = spec.family, spec.task
        if has_task(spec):
            return _evaluate_family_task(spec, config, workdir, progress, record)
        trained = train_and_evaluate(spec, config, progress.line)
    except Exception as exc:
        record.status, record.stage, record.error = "failed", "eval", _error_text(exc)
        return record
    result = trained.result
    record.params = result.params
    metrics: dict[str, Any] = {}
    try:
        test_x, test_y = test_arrays(spec, config)
        example = (torch.from_numpy(test_x[:EXPORT_BATCH]),)
        exported = export_onnx(trained.model, example, workdir / f"{name}.onnx")
        record.exporter, record.export_s = exported.exporter, exported.seconds
        session = create_session(exported.path, ThreadSettings(threads.intra, threads.inter), "cpu")
        name_in = session.get_inputs()[0].name
        logits = np.concatenate(
            [
                session.run(None, {name_in: test_x[i : i + 256]})[0]
                for i in range(0, len(test_x), 256)
            ]
        )
        result = result.with_onnx_accuracy(accuracy_of_logits(logits, test_y))
        with torch.inference_mode():
            reference = trained.model(torch.from_numpy(test_x[:256]))
        record.parity_max_abs_diff = check_parity(reference, logits[:256]).max_abs_diff
    except Exception as exc:  # the PyTorch evaluation stands; the ONNX side records why not
        metrics["onnx_error"] = _error_text(exc)
    level = PASS_LEVELS.get(spec.family)
    metrics |= {
        "quality_metric": "accuracy",
        "quality": result.accuracy,
        "higher_is_better": True,
        "pass_level": level,
        "passed": None if level is None else result.accuracy >= level,
    }
    record.eval_metrics = result.to_dict() | metrics
    return record


def _evaluate_family_task(
    spec: Any, config: Any, workdir: Path, progress: Progress, record: ResultRecord
) -> ResultRecord:
    """A family's own task (bench.family_eval): its metric, pass level and curves; then the
    trained model's ONNX export checked against PyTorch on the task's inputs, or why not."""
    from bench.family_eval import TaskConfig, run_task

    task_config = TaskConfig(
        seed=config.seed,
        size=config.size,
        epochs=config.task_epochs,
        lr=config.lr,
        batch_size=config.batch_size,
        time_budget_s=config.time_budget_s,
    )
    try:
        trained = run_task(spec, task_config, progress.line)
    except Exception as exc:
        record.status, record.stage, record.error = "failed", "eval", _error_text(exc)
        return record
    record.params = trained.result.params
    metrics: dict[str, Any] = {}
    try:
        exported = export_model(
            spec, trained.model, trained.example, workdir / f"{spec.name}.onnx", config.size
        )
        record.exporter, record.export_s = exported.exporter, exported.seconds
        threads = torch_settings()
        session = create_session(exported.path, ThreadSettings(threads.intra, threads.inter), "cpu")
        outputs = ort_call(session, ort_feed(session, trained.example))()
        with torch.inference_mode():
            reference = trained.model(*trained.example)
        parity = check_parity(reference, outputs[0], rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL)
        record.parity_max_abs_diff = parity.max_abs_diff
        metrics["onnx_parity_ok"] = parity.ok
    except Exception as exc:  # the PyTorch evaluation stands; the ONNX side records why not
        metrics["onnx_error"] = _error_text(exc)
    record.eval_metrics = trained.result.to_dict() | metrics
    return record


def _describe_eval(record: ResultRecord) -> str:
    if record.status != "ok" or record.eval_metrics is None:
        return f"{record.model} eval: FAILED at {record.stage}: {record.error}"
    m = record.eval_metrics
    if m.get("f1_macro") is not None:
        text = (
            f"{record.model} eval: accuracy {m['accuracy']:.3f}, macro F1 {m['f1_macro']:.3f},"
            f" fit {m['fit']}"
        )
    else:
        text = f"{record.model} eval: {m['quality_metric']} {m['quality']:.4g}"
    if m.get("pass_level") is not None:
        text += f" (pass level {m['pass_level']:.4g} {'reached' if m['passed'] else 'NOT reached'})"
    if m.get("onnx_accuracy") is not None:
        text += f", ONNX accuracy {m['onnx_accuracy']:.3f} ({m['onnx_accuracy_diff']:+.3f})"
    elif m.get("onnx_error"):
        text += f", ONNX failed: {m['onnx_error']}"
    return text
