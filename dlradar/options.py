"""Click options shared by every command (--db, --format, --config)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from dlradar.output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="SQLite database (default: $DLRADAR_DB, else data/dlradar.db).",
    )(fn)


def format_option(default: str = "table") -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default=default,
            show_default=True,
            help="Output format.",
        )(fn)

    return decorate


def config_option(fn: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Configuration file (default: ./dlradar.toml when present).",
    )(fn)
