"""`dlradar fetch SOURCE` and `dlradar import PATH...`: papers in, from live sources or saved files.

Both end with the hook that keeps the feeds current (dlradar.hooks). Data on stdout, progress and
the run's summary on stderr.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from core.config import load_settings
from core.errors import DlradarError
from dlradar import hooks
from dlradar.database import open_db, open_existing_db
from dlradar.options import config_option, db_option
from tracker import fetching
from tracker.ingest import RunResult
from tracker.sources import FORMATS


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(f"\r{message}", err=True, nl=False)


def _report(result: RunResult) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(result.summary(), err=True)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default=None,
    help="Force the file format instead of detecting it from the content.",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Read an interrupted file from its first line instead of resuming after the last"
    " stored one.",
)
@click.option(
    "--no-tag",
    "no_tag",
    is_flag=True,
    help="Store without tagging (a bulk load can tag afterwards with `dlradar tag`).",
)
@db_option
@config_option
def import_command(
    paths: tuple[Path, ...],
    fmt: str | None,
    restart: bool,
    no_tag: bool,
    db_path: str | None,
    config_path: str | None,
) -> None:
    """Import saved source files (directories are read recursively).

    Reads arXiv API responses, listing feeds, OAI-PMH responses, the bulk arXiv metadata
    snapshot, JSON lines of papers, PMLR records and BibTeX, NeurIPS pages and OpenReview
    responses, with the same parsers that `fetch` uses. New papers are tagged with their
    families and the feeds refreshed. Re-importing never duplicates a paper; an import that was
    cut off (killed, disk full) resumes after its last stored line when the same unchanged file
    is imported again.

    \b
    Examples:
      dlradar import ../shared/data/real/arxiv_daily_jsonl/*.jsonl
      dlradar import arxiv-metadata-oai-snapshot.json --format arxiv-snapshot --no-tag
    """
    from tracker.importer import Skipped, import_paths

    settings = load_settings(config_path)
    db = open_db(db_path)
    failures = 0
    changed = False
    outcomes = import_paths(
        db, list(paths), fmt=fmt, progress=_progress, restart=restart, tag=not no_tag
    )
    for outcome in outcomes:
        if isinstance(outcome, Skipped):
            click.echo(f"skipped {outcome.path}: not a paper source format", err=True)
        elif isinstance(outcome, DlradarError):
            failures += 1
            click.echo(f"Error: {outcome}", err=True)
        else:
            _report(outcome)
            failures += outcome.status in ("failed", "partial")
            changed |= bool(outcome.counts.new or outcome.counts.updated)
    if changed:
        click.echo(f"feeds: {hooks.after_new_papers(db, settings)}", err=True)
    if failures:
        raise click.exceptions.Exit(1)


def _run(
    ctx_db: str | None, config_path: str | None, name: str, options: dict[str, Any], resume: bool
) -> None:
    settings = load_settings(config_path)
    db = open_db(ctx_db)

    def progress(message: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{message}", err=True, nl=False)

    result = fetching.fetch_source(
        db, name, settings, options=options, resume=resume, progress=progress
    )
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(result.summary(), err=True)  # a failed run's reason ends this line ("FAILED: ...")
    if result.counts.new or result.counts.updated:
        click.echo(f"feeds: {hooks.after_new_papers(db, settings)}", err=True)
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
      dlradar fetch hf-papers --days 7
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
    start_date, end_date = fetching.arxiv_window(
        load_settings(config_path),
        start=start.date() if start else None,
        end=end.date() if end else None,
        days=days,
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


@fetch_group.command("hf-papers")
@click.option(
    "--days",
    type=click.IntRange(1, 60),
    default=7,
    show_default=True,
    help="Read the Hugging Face Daily Papers of the last N days (one request a day).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of the window (default: today).",
)
@click.option(
    "--paper",
    "papers",
    multiple=True,
    help="Ask for this stored arXiv id instead of the daily lists (repeatable).",
)
@config_option
@db_option
def fetch_hf_papers(
    days: int,
    until: Any,
    papers: tuple[str, ...],
    config_path: str | None,
    db_path: str | None,
) -> None:
    """Read community attention (upvotes, linked code) from Hugging Face for stored papers.

    Adds no paper: it annotates the arXiv papers already stored, and the weekly digest ranks
    by it (and says so). One request a second.

    \b
    Examples:
      dlradar fetch hf-papers                      # the last 7 days of Daily Papers
      dlradar fetch hf-papers --days 3 --until 2025-05-27
      dlradar fetch hf-papers --paper 2505.20286 --paper 2505.19000
    """

    settings = load_settings(config_path)
    db = open_existing_db(db_path)
    result, warnings = fetching.fetch_attention(
        db,
        settings,
        until=until.date() if until else date.today(),
        days=days,
        arxiv_ids=[p.strip() for p in papers] or None,
    )
    line = str(result)
    if warnings:
        line += f"; {len(warnings)} warning(s): " + "; ".join(warnings[:3])
    click.echo(line, err=True)


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


COMMANDS: list[click.Command] = [fetch_group, import_command]
