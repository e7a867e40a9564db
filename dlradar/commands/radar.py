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
@db_option
@config_option
@format_option()
def radar_command(
    batch_size: int,
    threads: int | None,
    device: str,
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
    """
    from bench.settings import configured_threads
    from dashboard.radar import ReferenceConfig, flat_rows, radar_table, with_headlines

    chosen = threads or (configured_threads(load_settings(config_path)) or (1,))[0]
    reference = ReferenceConfig(batch_size=batch_size, threads=chosen, device=device)
    rows = radar_table(open_existing_db(db_path))
    if fmt in ("json", "jsonl"):
        click.echo(render(with_headlines(rows, reference), fmt), nl=False)
        return
    click.echo(render(flat_rows(rows, reference), fmt, TABLE_COLUMNS), nl=False)
    click.echo(f"headline figures at {reference.label()}, full-size canonical models", err=True)


COMMANDS: list[click.Command] = [radar_command]
