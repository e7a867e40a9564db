"""The `dlradar` console command: parses options and translates named errors into exit codes.

Every command is a thin shell over a library function in tracker/, bench/ or dashboard/
(dlradar/commands/, one module per command group).
Exit codes: 0 success (also when nothing new was found), 1 failure with a one-line reason on
stderr, 2 usage error (click's own).
"""

from __future__ import annotations

import errno
import sqlite3

import click

from core import __version__
from core.errors import DlradarError
from dlradar.commands import command_names, load_command


def storage_message(exc: BaseException) -> str:
    """One line for an error of the system below dlradar, saying what it means for the data."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in lowered:
        return f"the disk is full ({text}); what was committed before is kept"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write: {text}"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database is read-only ({text}); nothing was changed"
    if "locked" in lowered or "busy" in lowered:
        return f"the database is locked by another process ({text}); try again when it is done"
    if isinstance(exc, OverflowError):
        return f"a value is out of range ({text})"
    if isinstance(exc, MemoryError):
        return "out of memory; what was committed before is kept"
    return f"{type(exc).__name__}: {text}"


class DlradarGroup(click.Group):
    """Turns a DlradarError anywhere below into `Error: <reason>` on stderr and exit code 1.

    Subcommands are loaded on first use (dlradar.commands): a command's start-up pays only for
    its own module.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command_names())  # as click.Group lists them

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DlradarError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except (sqlite3.Error, OSError, OverflowError, MemoryError) as exc:
            # What the library did not name (a disk that filled up, a read-only file, a number
            # beyond what SQLite takes) still ends in one line, never a traceback.
            click.echo(f"Error: {storage_message(exc)}", err=True)
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


def main() -> None:
    cli(prog_name="dlradar")


if __name__ == "__main__":  # pragma: no cover
    main()
