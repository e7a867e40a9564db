"""The `dlradar` subcommands: one module per command group, each a thin click shell over the
library (tracker, bench, dashboard) that parses options and prints what the library returns.

A module is imported only when one of its commands runs (or `dlradar --help` lists them all):
`dlradar papers --help` must not pay for torch, pandas or Streamlit. Each group below names its
commands, so the CLI can find a command without importing every module; a test checks the names
against each module's COMMANDS.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import click


def _run() -> ModuleType:
    from dlradar.commands import run

    return run


def _fetch() -> ModuleType:
    from dlradar.commands import fetch

    return fetch


def _papers() -> ModuleType:
    from dlradar.commands import papers

    return papers


def _tagging() -> ModuleType:
    from dlradar.commands import tagging

    return tagging


def _discovery() -> ModuleType:
    from dlradar.commands import discovery

    return discovery


def _bench() -> ModuleType:
    from dlradar.commands import bench

    return bench


def _radar() -> ModuleType:
    from dlradar.commands import radar

    return radar


def _dashboard() -> ModuleType:
    from dlradar.commands import dashboard

    return dashboard


def _digest() -> ModuleType:
    from dlradar.commands import digest

    return digest


# (command names, in the order `dlradar --help` lists them; the module that defines them)
GROUPS: tuple[tuple[tuple[str, ...], Callable[[], ModuleType]], ...] = (
    (("run", "config"), _run),
    (("fetch", "import"), _fetch),
    (("papers", "paper", "runs", "catalogue", "reindex"), _papers),
    (("classify", "tag"), _tagging),
    (("trends", "similar"), _discovery),
    (("bench",), _bench),
    (("radar",), _radar),
    (("dashboard",), _dashboard),
    (("digest",), _digest),
)


def command_names() -> list[str]:
    return [name for names, _ in GROUPS for name in names]


def load_command(name: str) -> click.Command | None:
    """The command called `name`, importing only the module that defines it."""
    for names, module in GROUPS:
        if name in names:
            return next((c for c in module().COMMANDS if c.name == name), None)
    return None


def all_commands() -> list[click.Command]:
    """Every subcommand, in the order `dlradar --help` lists them (imports every module)."""
    return [command for _, module in GROUPS for command in module().COMMANDS]
