"""The list of subcommands; each component contributes its own click commands."""

from __future__ import annotations

import click


def all_commands() -> list[click.Command]:
    from tracker import cli as tracker_cli

    commands: list[click.Command] = list(tracker_cli.COMMANDS)
    for module_name in (
        "tracker.tagging.cli",
        "tracker.discovery_cli",
        "bench.cli",
        "dashboard.cli",
        "dashboard.digest_cli",
    ):
        try:
            module = __import__(module_name, fromlist=["COMMANDS"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        commands.extend(module.COMMANDS)
    return commands
