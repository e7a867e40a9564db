"""The `dlradar` subcommands: one module per command group, each a thin click shell over the
library (tracker, bench, dashboard) that parses options and prints what the library returns."""

from __future__ import annotations

import click

from dlradar.commands import (
    bench,
    dashboard,
    digest,
    discovery,
    fetch,
    papers,
    radar,
    run,
    tagging,
)

GROUPS = (run, fetch, papers, tagging, discovery, bench, radar, dashboard, digest)


def all_commands() -> list[click.Command]:
    """Every subcommand, in the order `dlradar --help` lists them."""
    return [command for module in GROUPS for command in module.COMMANDS]
