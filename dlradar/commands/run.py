"""`dlradar run`, the main job, and `dlradar config show`, the settings it runs with."""

from __future__ import annotations

import os

import click

from core.config import load_settings
from core.db import resolve_db_path
from core.output import render
from dlradar.database import open_db
from dlradar.options import config_option, db_option, format_option


@click.command("run")
@click.option("--offline", is_flag=True, help="Skip every network fetch.")
@click.option("--days", type=int, default=None, help="arXiv window in days (default 7).")
@click.option("--no-bench", is_flag=True, help="Skip the quick benchmark profile.")
@click.option("--no-dashboard", is_flag=True, help="Do not serve the dashboard at the end.")
@config_option
@db_option
def run_command(
    offline: bool,
    days: int | None,
    no_bench: bool,
    no_dashboard: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """The main job: catalogue, fetch the last week of arXiv, tag, bench, digest, dashboard.

    Each step that fails prints a one-line reason and the job carries on with what is stored.

    \b
    Examples:
      dlradar run
      dlradar run --offline --no-dashboard
    """
    from dlradar.job import run_main_job

    settings = load_settings(config_path)
    settings.override("arxiv", "days", days)
    ok = run_main_job(
        open_db(db_path),
        settings,
        offline=offline,
        bench=not no_bench,
        serve=not no_dashboard,
        say=lambda line: click.echo(line, err=True),
    )
    if not ok:
        raise click.exceptions.Exit(1)


@click.group("config")
def config_group() -> None:
    """Inspect the effective configuration."""


@config_group.command("show")
@config_option
@format_option()
@db_option
def config_show(config_path: str | None, fmt: str, db_path: str | None) -> None:
    """Print every setting, its value, and where it came from (default, file, env, flag).

    \b
    Example:
      DLRADAR_ARXIV_DAYS=3 dlradar config show
    """
    settings = load_settings(config_path)
    rows = [
        {
            "setting": "database",
            "value": str(resolve_db_path(db_path)),
            "origin": _db_origin(db_path),
        }
    ]
    rows += settings.rows()
    click.echo(render(rows, fmt, ("setting", "value", "origin")), nl=False)


def _db_origin(db_path: str | None) -> str:
    if db_path:
        return "flag --db"
    return "env DLRADAR_DB" if os.environ.get("DLRADAR_DB") else "default"


COMMANDS: list[click.Command] = [run_command, config_group]
