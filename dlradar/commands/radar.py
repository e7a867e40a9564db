"""`dlradar radar`: the Radar's table as data, the same rows the dashboard's Radar page renders."""

from __future__ import annotations

import click

from core.config import load_settings
from core.output import render
from dlradar.database import open_existing_db
from dlradar.options import config_option, db_option, format_option

TABLE_COLUMNS = (
    "family",
    "papers",
    "share",
    "growth",
    "reference model",
    "p50 torch (ms)",
    "p50 onnxruntime (ms)",
    "quality",
    "measured configurations",
    "note",
)


@click.command("radar")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Reference batch size of the headline figures.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Reference thread count (default: the first of [bench] threads, else 1).",
)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Reference device of the headline figures.",
)
@click.option(
    "--machine",
    default=None,
    help="Only the timings of this machine: its hostname, the label `bench machines` prints"
    " or (the start of) its Ray node id.",
)
@db_option
@config_option
@format_option()
def radar_command(
    batch_size: int,
    threads: int | None,
    device: str,
    machine: str | None,
    db_path: str | None,
    config_path: str | None,
    fmt: str,
) -> None:
    """Per family: papers, share, growth, and what its models measured here.

    Tables show each family's headline: its canonical model (full size) at the reference
    configuration, or why there is none. JSON lines give every measured configuration, each
    exactly the latest successful result stored for it (as `bench show` prints it).

    \b
    Examples:
      dlradar radar
      dlradar radar --threads 2 --format jsonl
      dlradar radar --batch-size 8 --format csv > radar.csv
      dlradar radar --machine gpu-box --format jsonl
    """
    from bench.settings import configured_threads
    from dashboard.radar import ReferenceConfig, flat_rows, radar_table, with_headlines

    chosen = threads or (configured_threads(load_settings(config_path)) or (1,))[0]
    reference = ReferenceConfig(batch_size=batch_size, threads=chosen, device=device)
    from bench import store
    from bench.environment import machine_matches
    from core.errors import NotFoundError

    db = open_existing_db(db_path)
    if machine is not None and not store.is_set_up(db):
        raise NotFoundError(f"no machine {machine!r}: no benchmark stored yet")
    if machine is not None and not any(machine_matches(m, machine) for m in store.machines(db)):
        known = ", ".join(m["label"] for m in store.machines(db)) or "none"
        raise NotFoundError(f"no results of machine {machine!r} (machines: {known})")
    rows = radar_table(db, machine=machine)
    if fmt in ("json", "jsonl"):
        click.echo(render(with_headlines(rows, reference), fmt), nl=False)
        return
    click.echo(render(flat_rows(rows, reference), fmt, TABLE_COLUMNS), nl=False)
    where = f", measured on {machine}" if machine else ""
    click.echo(
        f"headline figures at {reference.label()}, full-size canonical models{where}", err=True
    )


COMMANDS: list[click.Command] = [radar_command]
