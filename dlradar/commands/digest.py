"""`dlradar digest`: a thin shell over dashboard.digest.write_digest."""

from __future__ import annotations

import click

from core.config import load_settings
from core.errors import DlradarError
from dashboard.digest.weekly import parse_week, write_digest
from dlradar import hooks
from dlradar.database import open_existing_db
from dlradar.options import config_option, db_option


def _week(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_week(value).label
    except DlradarError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("digest")
@click.option(
    "--week",
    callback=_week,
    metavar="YYYY-Www",
    help="ISO week to report, once it is over (default: the last complete week).",
)
@click.option("--force", is_flag=True, help="Rewrite a week that was already written.")
@click.option(
    "--send",
    is_flag=True,
    help="Email it over [smtp] (password: $DLRADAR_SMTP_PASSWORD); once a week unless --force.",
)
@db_option
@config_option
def digest(
    week: str | None, force: bool, send: bool, db_path: str | None, config_path: str | None
) -> None:
    """Write the weekly digest as Markdown, HTML and JSON, and update its Atom feed.

    Files go to [digest] directory (default data/digests): YYYY-Www.md, .html, .json and
    feed.atom. The same week again changes nothing unless --force; a paper featured in an
    earlier digest is never featured again.

    \b
    Examples:
      dlradar digest                      # the last complete ISO week
      dlradar digest --week 2025-W34      # a given week
      dlradar digest --week 2025-W34 --force --config dlradar.toml
      DLRADAR_SMTP_PASSWORD=... dlradar digest --send
    """
    settings = load_settings(config_path)
    db = open_existing_db(db_path)
    try:
        result = write_digest(db, settings, week=week, force=force, send=send)
        # The digest's footer links the family and interest feeds: they must be current.
        feeds = hooks.after_new_papers(db, settings)
    finally:
        db.conn.close()
    click.echo(str(result))
    click.echo(f"feeds: {feeds}", err=True)


COMMANDS: list[click.Command] = [digest]
