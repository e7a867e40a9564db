"""`dlradar fetch SOURCE`: runs a live source into the store, resuming interrupted runs.

Each source is named here with how its scope (what a run covers) and options are built. A run
that was killed or failed left its last committed cursor in `fetch_runs`; the next run of the
same scope resumes from it. A completed run is not resumed: re-running it fetches again, and
deduplication keeps the database free of duplicates.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import click
import sqlite_utils

from dlradar.config import Settings, load_settings
from dlradar.db import open_db
from dlradar.options import config_option, db_option
from tracker.http import PoliteClient, RetryPolicy
from tracker.ingest import RunResult, run_pages
from tracker.normalize import canonical_categories
from tracker.sources import load_format


@dataclass(frozen=True)
class LiveSource:
    """How `fetch NAME` calls a source module's fetch()."""

    name: str
    format: str
    scope: Callable[[dict[str, Any]], str]


LIVE_SOURCES: dict[str, LiveSource] = {
    "arxiv": LiveSource(
        "arxiv",
        "arxiv-api",
        lambda o: f"{','.join(o['categories'])} {o['start']}..{o['end']}",
    ),
    "arxiv-feed": LiveSource("arxiv-feed", "arxiv-feed", lambda o: ",".join(o["categories"])),
    "arxiv-oai": LiveSource(
        "arxiv-oai",
        "arxiv-oai",
        lambda o: f"{o['set_spec']} {o.get('from_date')}..{o.get('until_date')}",
    ),
    "neurips": LiveSource("neurips", "neurips", lambda o: f"NeurIPS {o['year']}"),
    "openreview": LiveSource("openreview", "openreview", lambda o: str(o["venue_id"])),
    "icml": LiveSource(
        "icml",
        "pmlr",
        lambda o: f"ICML {o['year']}" if o.get("year") else f"PMLR v{o['volume']}",
    ),
}


def polite_client(settings: Settings) -> PoliteClient:
    """One HTTP client per run: arXiv's 3 s spacing and the configured retries and timeout."""
    return PoliteClient(
        min_interval=float(settings.get("arxiv", "delay_seconds")),
        timeout=(10.0, float(settings.get("sources", "timeout_seconds"))),
        policy=RetryPolicy(retries=int(settings.get("sources", "retries"))),
    )


def resume_cursor(db: sqlite_utils.Database, source: str, scope: str) -> str | None:
    """The cursor of the latest run of this scope when that run did not complete."""
    row = db.execute(
        "SELECT status, cursor FROM fetch_runs WHERE source = ? AND scope = ? ORDER BY id DESC LIMIT 1",
        [source, scope],
    ).fetchone()
    if row and row[0] not in ("ok", "empty") and row[1]:
        return str(row[1])
    return None


def fetch_source(
    db: sqlite_utils.Database,
    name: str,
    settings: Settings,
    *,
    options: dict[str, Any],
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Fetch one live source with `options` (see each module's fetch()) and store it."""
    source = LIVE_SOURCES[name]
    module = load_format(source.format)
    if name == "arxiv":
        options.setdefault("categories", settings.get("arxiv", "categories"))
        options.setdefault("page_size", settings.get("arxiv", "page_size"))
        options.setdefault("max_results", settings.get("arxiv", "max_results"))
    if name == "arxiv-feed":
        options.setdefault("categories", settings.get("arxiv", "categories"))
    if "categories" in options:
        # Ask arXiv in its own spelling (cs.LG, as stored); and the scope, hence resuming,
        # must not depend on how a flag or the config spelt them.
        options["categories"] = canonical_categories(options["categories"])
    scope = source.scope(options)
    cursor = resume_cursor(db, source.format, scope) if resume else None
    options.setdefault("client", polite_client(settings))
    pages = module.fetch(cursor=cursor, **options)
    params = {k: v for k, v in options.items() if k not in ("client", "base_url")}
    params["resumed_from"] = cursor
    return run_pages(db, source.format, scope, pages, params=params, progress=progress)


def list_runs(
    db: sqlite_utils.Database, *, source: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM fetch_runs"
    params: list[Any] = []
    if source:
        sql += " WHERE source = ?"
        params.append(source)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    cursor = db.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:
        row["params"] = json.loads(row["params"])
        row["errors"] = json.loads(row["errors"])
    return rows


# -- CLI ---------------------------------------------------------------------------------


def _run(
    ctx_db: str | None, config_path: str | None, name: str, options: dict[str, Any], resume: bool
) -> None:
    settings = load_settings(config_path)
    db = open_db(ctx_db)

    def progress(message: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{message}", err=True, nl=False)

    result = fetch_source(db, name, settings, options=options, resume=resume, progress=progress)
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(result.summary(), err=True)  # a failed run's reason ends this line ("FAILED: ...")
    if result.counts.new or result.counts.updated:
        # The per-family and per-interest Atom feeds follow every fetch (dashboard/feeds.py).
        from dashboard.feeds import refresh_feeds

        click.echo(f"feeds: {refresh_feeds(db, settings)}", err=True)
    if result.status in ("failed", "partial"):
        # Exit 1 without an "Error:" line: it would repeat the reason the summary gave.
        raise click.exceptions.Exit(1)


def _check_window(start: date, end: date, start_flag: str, end_flag: str) -> None:
    # A reversed window would be sent as is and come back empty, looking like a quiet week.
    if start > end:
        raise click.UsageError(f"{start_flag} {start} is after {end_flag} {end}")


_resume = click.option(
    "--restart",
    "restart",
    is_flag=True,
    help="Ignore the cursor of an interrupted run; start over.",
)


@click.group("fetch")
def fetch_group() -> None:
    """Fetch papers live from arXiv, NeurIPS, OpenReview or PMLR (polite: 3 s between requests).

    \b
    Examples:
      dlradar fetch arxiv --days 7 --category cs.LG --category cs.CV
      dlradar fetch arxiv-feed --category cs.AI
      dlradar fetch arxiv-oai --set cs:cs:LG --from 2025-01-01
      dlradar fetch neurips --year 2023
      dlradar fetch openreview --venue-id NeurIPS.cc/2024/Conference
      dlradar fetch icml --year 2024
    """


@fetch_group.command("arxiv")
@click.option(
    "--category", "categories", multiple=True, help="arXiv category, any case (repeatable)."
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Window: the last N days (default 7).",
)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Window start.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Window end.")
@click.option(
    "--max-results", type=click.IntRange(min=1), default=None, help="Stop after N papers."
)
@_resume
@config_option
@db_option
def fetch_arxiv(
    categories: tuple[str, ...],
    days: int | None,
    start: Any,
    end: Any,
    max_results: int | None,
    restart: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Search the arXiv export API by category and submission date.

    \b
    Example:
      dlradar fetch arxiv --days 3 --category cs.LG
    """
    if start and days:
        raise click.UsageError("--start and --days both set the window's start; give one")
    settings = load_settings(config_path)
    end_date = end.date() if end else date.today()
    start_date = (
        start.date() if start else end_date - timedelta(days=days or settings.get("arxiv", "days"))
    )
    _check_window(start_date, end_date, "--start", "--end")
    options: dict[str, Any] = {"start": start_date, "end": end_date}
    if categories:
        options["categories"] = list(categories)
    if max_results:
        options["max_results"] = max_results
    _run(db_path, config_path, "arxiv", options, not restart)


@fetch_group.command("arxiv-feed")
@click.option(
    "--category", "categories", multiple=True, help="arXiv category, any case (repeatable)."
)
@config_option
@db_option
def fetch_arxiv_feed(
    categories: tuple[str, ...], config_path: str | None, db_path: str | None
) -> None:
    """Read today's arXiv announcement feeds (new and cross-listed papers).

    \b
    Example:
      dlradar fetch arxiv-feed --category cs.AI --category cs.LG
    """
    options: dict[str, Any] = {}
    if categories:
        options["categories"] = list(categories)
    _run(db_path, config_path, "arxiv-feed", options, False)


@fetch_group.command("arxiv-oai")
@click.option("--set", "set_spec", default="cs:cs:LG", show_default=True, help="OAI-PMH set.")
@click.option(
    "--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From date."
)
@click.option(
    "--until", "until_date", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Until date."
)
@_resume
@config_option
@db_option
def fetch_arxiv_oai(
    set_spec: str,
    from_date: Any,
    until_date: Any,
    restart: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Harvest arXiv metadata in bulk over OAI-PMH (resumption tokens; resumable).

    \b
    Example:
      dlradar fetch arxiv-oai --set cs:cs:LG --from 2025-06-01 --until 2025-06-07
    """
    if from_date and until_date:
        _check_window(from_date.date(), until_date.date(), "--from", "--until")
    options: dict[str, Any] = {
        "set_spec": set_spec,
        "from_date": from_date.date() if from_date else None,
        "until_date": until_date.date() if until_date else None,
    }
    _run(db_path, config_path, "arxiv-oai", options, not restart)


@fetch_group.command("neurips")
@click.option("--year", type=int, required=True, help="Conference year.")
@click.option("--no-abstracts", is_flag=True, help="Only the listing (one request).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after N papers.")
@_resume
@config_option
@db_option
def fetch_neurips(
    year: int,
    no_abstracts: bool,
    limit: int | None,
    restart: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Read the NeurIPS proceedings of a year (listing and abstract pages).

    \b
    Example:
      dlradar fetch neurips --year 2023 --limit 100
    """
    options: dict[str, Any] = {"year": year, "with_abstracts": not no_abstracts, "limit": limit}
    _run(db_path, config_path, "neurips", options, not restart)


@fetch_group.command("openreview")
@click.option(
    "--venue-id", required=True, help="e.g. NeurIPS.cc/2024/Conference, ICML.cc/2024/Conference."
)
@_resume
@config_option
@db_option
def fetch_openreview(
    venue_id: str, restart: bool, config_path: str | None, db_path: str | None
) -> None:
    """Read accepted papers of a venue from the OpenReview API v2 (2023 onwards).

    \b
    Example:
      dlradar fetch openreview --venue-id NeurIPS.cc/2023/Conference
    """
    _run(db_path, config_path, "openreview", {"venue_id": venue_id}, not restart)


@fetch_group.command("icml")
@click.option("--year", type=int, default=None, help="Conference year (PMLR volume looked up).")
@click.option(
    "--volume",
    type=click.IntRange(min=1),
    default=None,
    help="PMLR volume number instead of --year (a year dlradar does not know yet).",
)
@_resume
@config_option
@db_option
def fetch_icml(
    year: int | None,
    volume: int | None,
    restart: bool,
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Read the ICML proceedings of a year from its PMLR volume.

    \b
    Examples:
      dlradar fetch icml --year 2024
      dlradar fetch icml --volume 267     # ICML 2025, by its PMLR volume
    """
    if (year is None) == (volume is None):
        raise click.UsageError("give either --year or --volume")
    options = {"year": year} if year is not None else {"volume": volume}
    _run(db_path, config_path, "icml", options, not restart)
