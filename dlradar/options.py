"""Click options shared by every command (--db, --format, --config)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from core.errors import ConfigError
from core.families import family_ids
from core.output import FORMATS

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


def check_families(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of a --family option: the ids of ../shared/taxonomy.md, else a usage error.

    A typo ("transformers") would otherwise select nothing and look like a real zero.
    """
    if not value:
        return value
    given = (value,) if isinstance(value, str) else tuple(value)
    try:
        ids = tuple(family_ids(given))
    except ConfigError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc
    return ids[0] if isinstance(value, str) else ids
