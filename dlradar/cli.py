"""The `dlradar` console command: parses options and translates named errors into exit codes.

Every command is a thin shell over a library function in tracker/, bench/ or dashboard/
(dlradar/commands/, one module per command group).
Exit codes: 0 success (also when nothing new was found), 1 failure with a one-line reason on
stderr, 2 usage error (click's own).
"""

from __future__ import annotations

import click

from core import __version__
from core.errors import DlradarError
from dlradar.commands import all_commands


class DlradarGroup(click.Group):
    """Turns a DlradarError anywhere below into `Error: <reason>` on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DlradarError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted: what finished is stored.", err=True)
            ctx.exit(130)


@click.group(cls=DlradarGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dlradar")
def cli() -> None:
    """Follow the deep-learning literature and measure its models on this machine.

    \b
    Examples:
      dlradar run                          # the weekly job: catalogue, fetch, tag, bench, digest
      dlradar import ../shared/data/real/arxiv_daily_jsonl/*.jsonl
      dlradar papers --family transformer --year 2025 --limit 20
      dlradar fetch arxiv --days 7 --category cs.LG

    Every command takes --db PATH (else $DLRADAR_DB, else data/dlradar.db).
    """


for _command in all_commands():
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="dlradar")


if __name__ == "__main__":  # pragma: no cover
    main()
