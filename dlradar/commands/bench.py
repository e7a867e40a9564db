"""`dlradar bench ...`: thin click shells over bench.runner, bench.peak, bench.store,
bench.compare and bench.report. Data on stdout, progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench import store
from bench.choices import BACKENDS, DEVICES
from bench.environment import machine_label
from bench.report import BenchReport
from bench.settings import RunOverrides, run_config
from core.config import load_settings
from core.errors import DlradarError
from core.output import render
from dlradar.database import open_db, open_existing_db
from dlradar.options import check_families, config_option, db_option, format_option

if TYPE_CHECKING:
    from bench.runner import RunConfig

SHOW_COLUMNS = (
    "run_id",
    "model",
    "backend",
    "device",
    "batch_size",
    "threads",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "iqr_ms",
    "throughput_per_s",
    "achieved_gflops",
    "fraction_of_peak",
    "peak_memory_mb",
    "parity_max_abs_diff",
    "noisy",
    "status",
    "error",
    "machine",
)


def split_list(values: Iterable[str]) -> list[str]:
    """Repeated options and comma lists both: ("a,b", "c") -> ["a", "b", "c"]."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def int_list(values: Iterable[str], name: str) -> list[int]:
    try:
        numbers = [int(v) for v in split_list(values)]
    except ValueError as exc:
        raise click.BadParameter(f"expects integers, e.g. 1,8 ({exc})", param_hint=name) from exc
    if any(n < 1 for n in numbers):
        raise click.BadParameter("must be at least 1", param_hint=name)
    return numbers


def choice_list(values: Iterable[str], allowed: Iterable[str], name: str) -> list[str]:
    items = split_list(values)
    allowed = list(allowed)
    for item in items:
        if item not in allowed:
            raise click.BadParameter(
                f"{item!r} is not one of {', '.join(allowed)}", param_hint=name
            )
    return items


def emit_results(rows: Sequence[Mapping[str, Any]], fmt: str) -> None:
    """Results on stdout: nested objects for json/jsonl, flat chosen columns for table/csv."""
    if fmt in ("json", "jsonl"):
        click.echo(render(rows, fmt), nl=False)
        return
    columns = list(SHOW_COLUMNS)
    if any(r.get("eval") for r in rows):
        columns[6:6] = ["accuracy", "f1_macro", "fit", "onnx_accuracy_diff"]
    click.echo(render([_flat_row(r) for r in rows], fmt, columns), nl=False)


def warn_noisy(rows: Sequence[Mapping[str, Any]]) -> None:
    noisy = [r for r in rows if r.get("noisy")]
    if noisy:
        names = ", ".join(
            f"{r['model']} {r['backend']} {r['device']} batch {r['batch_size']}"
            f" {r['threads']} threads ({r.get('size') or 'full'}, run {r['run_id']})"
            for r in noisy
        )
        click.echo(
            f"warning: {len(noisy)} configuration(s) noisy (IQR > 10% of the median): {names}",
            err=True,
        )


def _flat_row(row: Mapping[str, Any]) -> dict[str, Any]:
    latency = row.get("latency_ms") or {}
    out = dict(row)
    for key in ("p50", "p90", "p99", "iqr", "mean"):
        out[f"{key}_ms"] = latency.get(key)
    if isinstance(row.get("machine"), dict):
        out["machine"] = machine_label(row["machine"])
    evaluation = row.get("eval") or {}
    for key in (
        "accuracy", "f1_macro", "onnx_accuracy", "onnx_accuracy_diff", "fit",
        "quality_metric", "quality", "pass_level", "passed",
    ):  # fmt: skip
        out[key] = evaluation.get(key)
    return out


@click.group("bench")
def bench() -> None:
    """Measure the model zoo on this machine (PyTorch and ONNX Runtime) and store the results.

    \b
    Examples:
      dlradar bench peak                       # measure the roofline ceilings once
      dlradar bench run --quick                # a few small models, under a minute
      dlradar bench run --model resnet18 --backend torch,onnxruntime --batch-size 1,8
      dlradar bench show --format jsonl        # the latest run, one object per configuration
      dlradar bench compare 3 4                # regressions beyond 7 % and the noise
      dlradar bench fleet --address HEAD:6379 --quick   # every node of a Ray cluster
      dlradar bench export 3 -o run3.jsonl     # then `dlradar bench import run3.jsonl` elsewhere
    """


def profile_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The profile options of `bench run`, shared with `bench fleet` (read by run_overrides)."""
    options = [
        click.option(
            "--quick/--full",
            "quick",
            default=None,
            help="The quick profile (a few small models, batch 1) or the full one (every model,"
            " batch 1 and 8); default: [bench] profile of the configuration (quick).",
        ),
        click.option("--model", "models", multiple=True, help="Model name (repeat or comma list)."),
        click.option(
            "--backend", "backends", multiple=True, help=f"{'|'.join(BACKENDS)} (repeatable)."
        ),
        click.option(
            "--device", "devices", multiple=True, help=f"{'|'.join(DEVICES)} (repeatable)."
        ),
        click.option("--batch-size", "batch_sizes", multiple=True, help="Batch sizes, e.g. 1,8."),
        click.option(
            "--threads", "threads", multiple=True, help="Intra-op thread counts, e.g. 1,2."
        ),
        click.option(
            "--inter-op-threads",
            type=click.IntRange(min=1),
            default=None,
            help="Inter-op threads for both runtimes (default 1).",
        ),
        click.option("--warmup", type=click.IntRange(min=0), default=None, help="Warm-up calls."),
        click.option(
            "--min-iterations",
            type=click.IntRange(min=1),
            default=None,
            help="Stop only after this many timed calls ...",
        ),
        click.option(
            "--min-time",
            type=click.FloatRange(min=0),
            default=None,
            help="... and this many seconds (both must be reached).",
        ),
        click.option(
            "--max-time",
            type=click.FloatRange(min=0.001),
            default=None,
            help="Stop a configuration after this many seconds regardless.",
        ),
        click.option(
            "--size",
            type=click.Choice(["full", "small"]),
            default=None,
            help="Model size: the published network or a tiny one (default full).",
        ),
        click.option(
            "--weights",
            type=click.Path(dir_okay=False),
            default=None,
            help="Checkpoint (state_dict) to load, or 'torchvision' for pretrained weights.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def profile_config(config_path: str | None, options: Mapping[str, Any]) -> RunConfig:
    """The RunConfig of the profile options (see profile_options), merged with the settings."""
    overrides = RunOverrides(
        quick=options["quick"],
        models=tuple(split_list(options["models"])),
        backends=tuple(choice_list(options["backends"], BACKENDS, "--backend")),
        devices=tuple(choice_list(options["devices"], DEVICES, "--device")),
        batch_sizes=tuple(int_list(options["batch_sizes"], "--batch-size")),
        threads=tuple(int_list(options["threads"], "--threads")),
        inter_op_threads=options["inter_op_threads"],
        warmup=options["warmup"],
        min_iterations=options["min_iterations"],
        min_time_s=options["min_time"],
        max_time_s=options["max_time"],
        size=options["size"],
        weights=options["weights"],
    )
    try:
        return run_config(load_settings(config_path), overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@bench.command("run")
@profile_options
@db_option
@config_option
@format_option()
def run_command(db_path: str | None, config_path: str | None, fmt: str, **options: Any) -> None:
    """Time models on each backend, device, batch size and thread count; store every result.

    Without --quick or --full the [bench] profile setting chooses (quick unless configured).
    Options narrow or widen either profile. Ctrl-C keeps what finished.

    \b
    Examples:
      dlradar bench run --quick
      dlradar bench run --full --backend onnxruntime
      dlradar bench run --model lenet5,mlp --threads 1,2 --min-iterations 50 --min-time 2
    """
    from bench.runner import run_benchmark

    config = profile_config(config_path, options)
    db = open_db(db_path)
    run_id = run_benchmark(db, config)
    run = store.get_run(db, run_id)
    rows = store.result_rows(db, run_ids=[run_id])
    emit_results(rows, fmt)
    warn_noisy(rows)
    click.echo(f"run {run_id}: {run['status']} ({run['message']})", err=True)
    if run["status"] in ("failed", "unavailable"):
        raise DlradarError(f"run {run_id}: every configuration failed (see `bench show {run_id}`)")


@bench.command("fleet")
@click.option(
    "--address",
    default=None,
    metavar="HOST:PORT",
    help="The Ray cluster's head (`ray start --head` prints it); default: $RAY_ADDRESS.",
)
@click.option(
    "--nodes",
    "nodes",
    multiple=True,
    help="Ray node ids (or their first characters; repeat or comma list); default: every alive"
    " node.",
)
@profile_options
@db_option
@config_option
@format_option()
def fleet_command(
    address: str | None,
    nodes: tuple[str, ...],
    db_path: str | None,
    config_path: str | None,
    fmt: str,
    **options: Any,
) -> None:
    """Run the same profile once on every node of an existing Ray cluster; store every result.

    Each node runs `bench run`'s harness alone (its task reserves all the node's CPUs), with
    the thread counts asked for; its results are stored here as they arrive (one configuration
    at a time), each run naming its machine (hostname, Ray node id), all sharing one fleet id. A node that fails,
    dies or lacks a backend is reported with its reason while the others finish. Ctrl-C cancels
    the remote tasks and keeps what finished. Every machine needs dlradar installed.

    \b
    Examples:
      ray start --head --port 6379               # on one machine; `ray start --address
                                                 #   HEAD:6379` on each of the others
      dlradar bench fleet --address HEAD:6379 --quick
      RAY_ADDRESS=HEAD:6379 dlradar bench fleet --model lenet5 --threads 1,4 --format jsonl
      dlradar bench fleet --address HEAD:6379 --nodes 8f3a,c41b --model resnet18
    """
    from bench.fleet import FleetInterrupted, resolve_address, run_fleet

    config = profile_config(config_path, options)
    chosen_address = resolve_address(address)
    db = open_db(db_path)
    try:
        fleet = run_fleet(
            db,
            config,
            address=chosen_address,
            nodes=split_list(nodes),
            say=lambda text: click.echo(text, err=True),
        )
    except FleetInterrupted as stop:
        kept = ", ".join(map(str, stop.fleet.run_ids)) or "none"
        click.echo(f"fleet {stop.fleet.fleet_id}: interrupted; runs kept: {kept}", err=True)
        raise
    rows = store.result_rows(db, run_ids=fleet.run_ids) if fleet.run_ids else []
    emit_results(rows, fmt)
    warn_noisy(rows)
    lost = [o for o in fleet.outcomes if o.run_id is None]
    click.echo(
        f"fleet {fleet.fleet_id}: {len(fleet.run_ids)} of {len(fleet.outcomes)} node(s) measured"
        f" in {fleet.seconds:.1f} s (runs {', '.join(map(str, fleet.run_ids)) or 'none'})",
        err=True,
    )
    for outcome in lost:
        click.echo(f"node {outcome.node.label}: {outcome.status}: {outcome.reason}", err=True)
    if not fleet.run_ids:
        raise DlradarError(f"fleet {fleet.fleet_id}: no node returned results")


@bench.command("export")
@click.argument("run_ids", nargs=-1, type=int)
@click.option("--fleet", "fleet_id", default=None, help="Every run of this fleet id.")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, allow_dash=True),
    required=True,
    help="File to write (JSON lines, one run per line); '-' for stdout.",
)
@db_option
def export_command(
    run_ids: tuple[int, ...], fleet_id: str | None, output: str, db_path: str | None
) -> None:
    """Write runs (their environment, machine, results and raw samples) as JSON lines, for
    `bench import` on another machine: how results travel without a cluster.

    \b
    Examples:
      dlradar bench export 3 4 -o laptop.jsonl
      dlradar bench export --fleet 1f0c... -o fleet.jsonl
    """
    import orjson

    db = open_existing_db(db_path)
    ids = list(run_ids) + (store.run_ids_of_fleet(db, fleet_id) if fleet_id else [])
    if not ids:
        raise click.UsageError("name the runs to export (RUN_ID... or --fleet ID)")
    for run_id in ids:
        store.get_run(db, run_id)  # NotFoundError for an unknown id, before writing anything
    lines = [orjson.dumps(item) + b"\n" for item in store.export_runs(db, ids)]
    if output == "-":
        sys.stdout.buffer.write(b"".join(lines))
        sys.stdout.flush()
    else:
        try:
            with open(output, "wb") as handle:
                handle.writelines(lines)
        except OSError as exc:
            raise DlradarError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"exported {len(ids)} run(s) to {output}", err=True)


@bench.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@db_option
@format_option()
def import_command(files: tuple[str, ...], db_path: str | None, fmt: str) -> None:
    """Store runs written by `bench export` (on this or another machine). Importing the same
    file twice adds nothing: a run is known by its uuid.

    \b
    Examples:
      dlradar bench import laptop.jsonl
      dlradar bench import a.jsonl b.jsonl --format json
    """
    import orjson

    items: list[dict[str, Any]] = []
    for name in files:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise DlradarError(f"cannot read {name}: {exc.strerror or exc}") from exc
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise DlradarError(f"{name}:{number}: not JSON ({exc})") from exc
    db = open_db(db_path)
    summary = store.import_runs(db, items)
    runs = {r["id"]: r for r in store.list_runs(db) if r["id"] in summary.added}
    rows = [
        {
            "run_id": run_id,
            "uuid": runs[run_id]["uuid"],
            "machine": machine_label(runs[run_id]["machine"]),
            "status": runs[run_id]["status"],
            "results": runs[run_id]["results"],
        }
        for run_id in summary.added
    ]
    click.echo(render(rows, fmt, ("run_id", "uuid", "machine", "status", "results")), nl=False)
    click.echo(
        f"imported {len(summary.added)} run(s) with {summary.results} result(s);"
        f" {len(summary.skipped)} already stored",
        err=True,
    )


@bench.command("eval")
@click.option("--model", "models", multiple=True, help="Model name (repeat or comma list).")
@click.option("--quick", is_flag=True, help="The quick profile's models at size small.")
@click.option(
    "--all", "all_models", is_flag=True, help="Every model of the zoo (slow for the big ones)."
)
@click.option(
    "--optimizer",
    type=click.Choice(["adam", "sgd"]),
    default="adam",
    show_default=True,
    help="Optimiser.",
)
@click.option("--lr", type=float, default=None, help="Learning rate (default by optimiser).")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Training epochs (default 10; the family tasks of gnn, vae, diffusion, gan, ssm, moe"
    " and rl each have their own, rl counting thousands of environment steps).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Training batch size.",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds of training per model; stops early and records why (full-size models are slow).",
)
@click.option(
    "--dropout",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Set every dropout layer's probability.",
)
@click.option("--augment", is_flag=True, help="Images: random shifts and rotations.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (data, weights).")
@click.option(
    "--size",
    type=click.Choice(["full", "small"]),
    default=None,
    help="Model size (default full; small with --quick).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Intra-op threads of training (small models train fastest on one; more threads on"
    " a busy machine mostly wait for each other).",
)
@db_option
@format_option()
def eval_command(
    models: tuple[str, ...],
    quick: bool,
    all_models: bool,
    optimizer: str,
    lr: float | None,
    epochs: int | None,
    batch_size: int,
    time_budget: float,
    dropout: float | None,
    augment: bool,
    seed: int,
    size: str | None,
    threads: int,
    db_path: str | None,
    fmt: str,
) -> None:
    """Train each model briefly (seeded), evaluate it and its ONNX export; store the metrics.

    Every task states its metric and the pass level the quick profile reaches. MLPs and CNNs
    learn scikit-learn's digits (accuracy), recurrent models the majority of 15-bit strings
    (accuracy >= 0.9), Transformers a generated sequence task; GNNs classify KarateClub's nodes,
    the VAE is scored by its ELBO on digits, the DDPM UNet by its denoising loss, the DCGAN by
    the MMD of its samples to real digits, Mamba and Switch by perplexity on repeated patterns,
    and DQN by its return on CartPole (see bench/family_eval.py). Without --model (or --all),
    --quick evaluates one model of every family at size small.

    \b
    Examples:
      dlradar bench eval --model lenet5 --epochs 5 --optimizer sgd --dropout 0.2
      dlradar bench eval --quick --format jsonl
    """
    from bench.evaluate import EvalConfig
    from bench.runner import run_evaluation
    from bench.zoo import list_models

    names = split_list(models)
    if not names:
        specs = list_models()
        names = [s.name for s in specs if all_models or s.in_quick_eval]
    config = EvalConfig(
        optimizer=optimizer,
        lr=lr,
        epochs=epochs or EvalConfig.epochs,
        task_epochs=epochs,
        batch_size=batch_size,
        dropout=dropout,
        augment=augment,
        seed=seed,
        size=size or ("small" if quick else "full"),
        time_budget_s=time_budget,
    )
    from bench.threads import ThreadSettings, torch_threads

    db = open_db(db_path)
    with torch_threads(ThreadSettings(threads, 1)):
        run_id = run_evaluation(db, names, config)
    rows = store.result_rows(db, run_ids=[run_id])
    if fmt in ("json", "jsonl"):
        click.echo(render(rows, fmt), nl=False)
        return
    columns = (
        "run_id",
        "model",
        "family",
        "quality_metric",
        "quality",
        "pass_level",
        "passed",
        "accuracy",
        "f1_macro",
        "fit",
        "onnx_accuracy",
        "onnx_accuracy_diff",
        "exporter",
        "status",
        "error",
    )
    click.echo(render([_flat_row(r) for r in rows], fmt, columns), nl=False)


@bench.command("peak")
@click.option("--sizes", multiple=True, help="GEMM sizes to probe (default 256,512,1024,2048).")
@click.option("--threads", multiple=True, help="Thread counts to probe (default 1 and all cores).")
@click.option(
    "--bandwidth-mb",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="MiB per array of the copy/triad bandwidth probes.",
)
@db_option
@format_option()
def peak_command(
    sizes: tuple[str, ...],
    threads: tuple[str, ...],
    bandwidth_mb: int,
    db_path: str | None,
    fmt: str,
) -> None:
    """Measure FP32 GEMM GFLOP/s (best over sizes and threads) and memory bandwidth; store them.

    Every later result reports its achieved GFLOP/s as a fraction of this peak.

    \b
    Examples:
      dlradar bench peak
      dlradar bench peak --sizes 1024,2048 --threads 1,2 --format json
    """
    from bench.environment import capture_environment
    from bench.peak import DEFAULT_SIZES, measure_peak

    result = measure_peak(
        sizes=int_list(sizes, "--sizes") or DEFAULT_SIZES,
        threads=int_list(threads, "--threads") or None,
        bandwidth_mb=bandwidth_mb,
    )
    data = result.to_dict() | {"environment": capture_environment()}
    db = open_db(db_path)
    peak_id = store.save_peak(db, data)
    probes = [p | {"unit": "GFLOP/s" if p["kind"] == "gemm" else "GB/s"} for p in data["probes"]]
    if fmt in ("json", "jsonl"):
        summary = {k: v for k, v in data.items() if k != "environment"} | {"id": peak_id}
        click.echo(render([summary], fmt), nl=False)
    else:
        columns = ("kind", "engine", "size", "threads", "median_ms", "rate", "unit")
        click.echo(render(probes, fmt, columns), nl=False)
    click.echo(
        f"peak {peak_id}: {result.gflops:.1f} GFLOP/s ({result.gflops_engine} GEMM"
        f" {result.gflops_size},"
        f" {result.gflops_threads} threads), {result.bandwidth_gbs:.1f} GB/s"
        f" ({result.bandwidth_kind}, {result.bandwidth_threads} threads)",
        err=True,
    )


@bench.command("models")
@click.option(
    "--family",
    default=None,
    callback=check_families,
    help="Only this family (cnn, mlp, rnn, ...).",
)
@db_option
@format_option()
def models_command(family: str | None, db_path: str | None, fmt: str) -> None:
    """List the model zoo (nothing is run): name, family, params, FLOPs at batch 1, input.

    Counting params and FLOPs builds each model, so the first listing takes a while; the figures
    are then cached in $XDG_CACHE_HOME/dlradar/ (else ~/.cache/dlradar/) and recounted whenever
    the zoo's code or the torch, torchvision, transformers or dlradar version changes.
    The zoo is code, not data: --db is accepted, as on every command, and no database is opened.

    \b
    Examples:
      dlradar bench models
      dlradar bench models --family transformer --format jsonl
    """
    from bench.zoo_listing import list_zoo

    rows = list_zoo(
        family, progress=_count_progress, notice=lambda text: click.echo(text, err=True)
    )
    if family and not rows:
        click.echo(f"no model of family {family!r} in the zoo yet", err=True)
    click.echo(
        render(
            rows, fmt, ("name", "family", "params", "flops", "macs", "input", "source", "quick")
        ),
        nl=False,
    )


def _count_progress(text: str | None) -> None:
    """A status line redrawn in place on a TTY (cleared with None); nothing otherwise."""
    if sys.stderr.isatty():
        click.echo(f"\r\x1b[K{text or ''}", err=True, nl=False)


@bench.command("list")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Newest runs to show (0 = all).",
)
@db_option
@format_option()
def list_command(limit: int, db_path: str | None, fmt: str) -> None:
    """List stored benchmark and evaluation runs, newest first.

    \b
    Example:
      dlradar bench list --limit 5
    """
    runs = store.list_runs(open_existing_db(db_path), limit)
    if fmt in ("table", "csv"):  # flat formats: the environment's two columns
        for run in runs:
            env = run.pop("environment")
            run["cpu"] = env.get("cpu_model")
            run["torch"] = (env.get("versions") or {}).get("torch")
            run["machine"] = machine_label(run.get("machine"))
    columns = (
        "id",
        "kind",
        "profile",
        "status",
        "started_at",
        "finished_at",
        "results",
        "failed",
        "machine",
        "cpu",
        "torch",
        "fleet_id",
        "git_commit",
    )
    click.echo(render(runs, fmt, columns), nl=False)


@bench.command("machines")
@db_option
@format_option()
def machines_command(db_path: str | None, fmt: str) -> None:
    """List the machines that measured the stored runs: hostname, Ray node id (runs of a
    `bench fleet`), CPU, cores, memory, runs. `dlradar radar --machine` takes any of the names.

    \b
    Example:
      dlradar bench machines --format jsonl
    """
    rows = store.machines(open_existing_db(db_path))
    if fmt in ("table", "csv"):
        for row in rows:
            gpus = row.get("accelerators") or []
            row["accelerators"] = ", ".join(str(a.get("name")) for a in gpus) or None
            row["torch"] = (row.get("versions") or {}).get("torch")
    columns = (
        "label", "hostname", "node_id", "cpu_model", "logical_cores", "memory_gb",
        "accelerators", "torch", "runs", "last_run",
    )  # fmt: skip
    click.echo(render(rows, fmt, columns), nl=False)


@bench.command("show")
@click.argument("run_ids", nargs=-1, type=int)
@click.option("--all", "all_runs", is_flag=True, help="Every stored run (default: the latest).")
@click.option("--model", default=None, help="Only this model.")
@click.option("--backend", default=None, help="Only this backend.")
@click.option(
    "--status", type=click.Choice(["ok", "failed"]), default=None, help="Only ok or failed rows."
)
@click.option("--markdown", is_flag=True, help="Print the Markdown report instead.")
@click.option(
    "--save",
    "save_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the report to this file: .json, .csv or .md.",
)
@db_option
@format_option()
def show_command(
    run_ids: tuple[int, ...],
    all_runs: bool,
    model: str | None,
    backend: str | None,
    status: str | None,
    markdown: bool,
    save_path: str | None,
    db_path: str | None,
    fmt: str,
) -> None:
    """Show the results of runs (default: the latest), one row per configuration.

    \b
    Examples:
      dlradar bench show
      dlradar bench show 3 --format jsonl
      dlradar bench show --all --model resnet18 --format csv
      dlradar bench show 3 --markdown > report.md
      dlradar bench show 3 --save run3.csv     # JSON, CSV or Markdown by the suffix
    """
    db = open_existing_db(db_path)
    ids: list[int] | None = list(run_ids) or (None if all_runs else [store.latest_run_id(db)])
    for run_id in ids or []:
        store.get_run(db, run_id)  # NotFoundError for an unknown id
    rows = store.result_rows(db, run_ids=ids, model=model, backend=backend, status=status)
    report = BenchReport(rows, store.get_run(db, ids[0]) if ids and len(ids) == 1 else {})
    if save_path:
        try:
            click.echo(f"report written to {report.save(save_path)}", err=True)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--save") from exc
    if markdown:
        click.echo(report.to_markdown(), nl=False)
        return
    emit_results(rows, fmt)


@bench.command("compare")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=7.0,  # bench.compare.REGRESSION_THRESHOLD, in per cent
    show_default=True,
    help="Percent slowdown beyond which (and beyond the noise) a change is a regression.",
)
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when any regression is found.")
@db_option
@format_option()
def compare_command(
    run_a: int,
    run_b: int,
    threshold: float,
    fail_on_regression: bool,
    db_path: str | None,
    fmt: str,
) -> None:
    """Compare two runs configuration by configuration (median latency, IQR noise).

    \b
    Example:
      dlradar bench compare 3 4 --format csv
    """
    from bench.compare import compare_runs

    comparison = compare_runs(open_existing_db(db_path), run_a, run_b, threshold / 100.0)
    for warning in comparison.environment_warnings:
        click.echo(f"warning: environments differ: {warning}", err=True)
    rows = [c.to_dict() for c in comparison.changes]
    columns = (
        "model",
        "backend",
        "device",
        "batch_size",
        "threads",
        "p50_a",
        "p50_b",
        "change_pct",
        "noise_ms",
        "verdict",
    )
    click.echo(render(rows, fmt, columns), nl=False)
    count = len(comparison.regressions)
    click.echo(f"{count} regression(s) between run {run_a} and run {run_b}", err=True)
    if fail_on_regression and count:
        sys.exit(1)


COMMANDS: list[click.Command] = [bench]
