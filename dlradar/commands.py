"""The list of subcommands; each component contributes its own click commands."""

from __future__ import annotations

import click


def all_commands() -> list[click.Command]:
    from bench import cli as bench_cli
    from dashboard import cli as dashboard_cli
    from dashboard import digest_cli
    from tracker import cli as tracker_cli
    from tracker import discovery_cli
    from tracker.tagging import cli as tagging_cli

    modules = (tracker_cli, tagging_cli, discovery_cli, bench_cli, dashboard_cli, digest_cli)
    return [command for module in modules for command in module.COMMANDS]
