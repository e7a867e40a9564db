"""`dlradar papers`, `paper`, `runs`, `catalogue` and `reindex`: reading what the tracker stored."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from core.config import load_settings
from core.families import LEARNING_STAGES
from core.output import render
from dlradar.options import check_families, config_option, db_option, format_option

if TYPE_CHECKING:
    from tracker.ingest import RunResult

# The database and the tracker are imported inside each command: `papers --help` stays quick.

MAX_LIMIT = 10**9  # beyond it SQLite cannot bind the number; 0 means all anyway
PAPER_COLUMNS = ("id", "published", "venue", "families", "title", "authors")


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(f"\r{message}", err=True, nl=False)


def _report(result: RunResult) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(result.summary(), err=True)


@click.command("papers")
@click.option(
    "--family",
    "families",
    multiple=True,
    callback=check_families,
    help="Architecture family id (repeatable).",
)
@click.option("--venue", "venues", multiple=True, help="Venue, e.g. NeurIPS, ICML, arXiv.")
@click.option("--year", type=str, default=None, help="A year (2024) or a range (2020-2024).")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Published on or after."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Published on or before."
)
@click.option(
    "--category", "categories", multiple=True, help="arXiv category, e.g. cs.LG (any case)."
)
@click.option(
    "--author", default=None, help="Part of an author's name, any case, accents optional."
)
@click.option(
    "--search",
    "-s",
    default=None,
    help="Full-text search of title and abstract: every word must occur; words in double quotes"
    ' ("state space model") or joined by hyphens must occur as a phrase, in any case and number'
    ' ("state-space models" matches), ranked by relevance.',
)
@click.option("--curated", is_flag=True, default=False, help="Only landmark catalogue papers.")
@click.option(
    "--interests",
    "by_interests",
    is_flag=True,
    help="Rank by the saved [interests] (keywords, families, authors), with a reason per paper.",
)
@config_option
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=MAX_LIMIT),
    default=50,
    show_default=True,
    help="0 = all.",
)
@format_option()
@db_option
def papers_command(
    families: tuple[str, ...],
    venues: tuple[str, ...],
    year: str | None,
    since: Any,
    until: Any,
    categories: tuple[str, ...],
    author: str | None,
    search: str | None,
    curated: bool,
    by_interests: bool,
    config_path: str | None,
    limit: int,
    fmt: str,
    db_path: str | None,
) -> None:
    """List stored papers, newest first (by relevance with --search, by --interests).

    \b
    Examples:
      dlradar papers --family transformer --year 2025 --limit 20
      dlradar papers --search '"state space model"' --category cs.LG --format jsonl
      dlradar papers --venue NeurIPS --year 2020-2024 --author Hinton --format csv
      dlradar papers --interests --since 2025-01-01 --limit 10
    """
    from dlradar.database import open_existing_db
    from tracker import interests, query

    year_from, year_to = _year_range(year)
    if since and until and since > until:
        raise click.UsageError(f"--since {since:%Y-%m-%d} is after --until {until:%Y-%m-%d}")
    f = query.PaperFilter(
        families=families,
        venues=venues,
        year_from=year_from,
        year_to=year_to,
        since=since.date().isoformat() if since else None,
        until=until.date().isoformat() if until else None,
        categories=categories,
        author=author,
        search=search,
        curated=True if curated else None,
    )
    db = open_existing_db(db_path)
    columns: tuple[str, ...] = PAPER_COLUMNS
    if by_interests:
        rows = interests.papers_by_interests(db, load_settings(config_path), f, max(limit, 0))
        columns = ("interest_score", *PAPER_COLUMNS[:-1], "reason")
    else:
        rows = [dict(p) for p in query.find_papers(db, f, limit=max(limit, 0))]
    note = query.search_note(db, search)
    if note:
        click.echo(f"note: {note}", err=True)
    if fmt in ("json", "jsonl"):
        for row in rows:
            row.pop("family_evidence", None)
    click.echo(render(rows, fmt, columns), nl=False)


def _year_range(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    try:
        if "-" in text:
            start, end = text.split("-", 1)
            first, last = int(start), int(end)
        else:
            first = last = int(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: expected YYYY or YYYY-YYYY", param_hint="--year"
        ) from exc
    if first > last:
        raise click.BadParameter(f"{text!r}: the range is reversed", param_hint="--year")
    if not (first >= 1 and last <= 9999):
        raise click.BadParameter(f"{text!r}: years run from 1 to 9999", param_hint="--year")
    return first, last


@click.command("paper")
@click.argument("paper_id")
@format_option("json")
@db_option
def paper_command(paper_id: str, fmt: str, db_path: str | None) -> None:
    """Show one paper with its sources and the evidence of its families.

    PAPER_ID is the numeric id, an arXiv id, a DOI or an OpenReview id.

    \b
    Example:
      dlradar paper 1706.03762
    """
    from dlradar.database import open_existing_db
    from tracker import query

    row = query.get_paper(open_existing_db(db_path), paper_id)
    click.echo(render([row], fmt, PAPER_COLUMNS), nl=False)


@click.command("runs")
@click.option("--source", default=None, help="Only runs of this source.")
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=MAX_LIMIT),
    default=20,
    show_default=True,
    help="0 = all.",
)
@format_option()
@db_option
def runs_command(source: str | None, limit: int, fmt: str, db_path: str | None) -> None:
    """List fetch and import runs, newest first, with counts, errors and cursors.

    \b
    Example:
      dlradar runs --source arxiv-api --limit 5
    """
    from dlradar.database import open_existing_db
    from tracker import fetching

    rows = fetching.list_runs(open_existing_db(db_path), source=source, limit=limit)
    columns = ("id", "source", "scope", "started_at", "status", "seen", "new", "updated", "message")
    click.echo(render(rows, fmt, columns), nl=False)


@click.command("reindex")
@db_option
def reindex_command(db_path: str | None) -> None:
    """Rebuild the full-text search index from the stored papers.

    The index lives beside the database (<db>.search/) and is kept up to date by every
    import and fetch; rebuild it after deleting or damaging it, or to compact it.

    \b
    Example:
      dlradar reindex --db data/dlradar.db
    """
    from dlradar.database import open_db
    from tracker import search_index

    db = open_db(db_path)
    run = search_index.rebuild(db, progress=_progress)
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(f"search index rebuilt: {run.indexed:,} papers indexed", err=True)


@click.command("catalogue")
@click.option("--load", is_flag=True, help="Store the catalogue in the database.")
@click.option("--stage", default=None, type=click.Choice(LEARNING_STAGES), help="Only this stage.")
@format_option()
@db_option
def catalogue_command(load: bool, stage: str | None, fmt: str, db_path: str | None) -> None:
    """List the curated landmark papers of the learning path (or --load them).

    \b
    Examples:
      dlradar catalogue --stage cnns
      dlradar catalogue --load
    """
    from dlradar.database import open_db
    from tracker import landmarks

    if load:
        _report(landmarks.load_into(open_db(db_path)))
        return
    rows = [
        {
            "key": lm.key,
            "year": lm.year,
            "venue": lm.venue,
            "stage": lm.stage,
            "families": list(lm.families),
            "arxiv_id": lm.arxiv_id,
            "title": lm.title,
            "authors": list(lm.authors),
            "note": lm.note,
        }
        for lm in landmarks.load_catalogue()
        if stage is None or lm.stage == stage
    ]
    click.echo(render(rows, fmt, ("key", "year", "venue", "stage", "families", "title")), nl=False)


COMMANDS: list[click.Command] = [
    papers_command,
    paper_command,
    runs_command,
    catalogue_command,
    reindex_command,
]
