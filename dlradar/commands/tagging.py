"""The tagger's commands: `dlradar classify` (text in, families out) and `dlradar tag` (store)."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from core.errors import DlradarError
from core.output import render
from dlradar.database import open_db
from dlradar.options import db_option, format_option
from tracker.tagging.classify import TAGGER_VERSION, Classification, classify
from tracker.tagging.store import TagStats, tag_papers


def _rows(result: Classification) -> list[dict[str, Any]]:
    return [
        {"family": f, "confidence": result.confidence[f], "evidence": result.evidence[f]}
        for f in result.families
    ]


def _classify_lines(stream: IO[str], out: IO[str]) -> int:
    """Classify each JSON line {"title", "abstract"} of `stream`; one JSON line out per line."""
    try:
        return _classify_decoded_lines(stream, out)
    except UnicodeDecodeError as exc:
        # Decoding runs ahead of the lines (in chunks), so no line number can be named.
        raise DlradarError(f"the input is not UTF-8 text ({exc.reason})") from exc


def _classify_decoded_lines(stream: IO[str], out: IO[str]) -> int:
    count = 0
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DlradarError(f"line {number} of the input is not JSON: {exc.msg}") from exc
        if not isinstance(item, dict):
            raise DlradarError(f"line {number} of the input is not a JSON object")
        title = item.get("title") or ""
        # "summary" is what arXiv (and the daily listings) call the abstract.
        abstract = item.get("abstract") or item.get("summary") or ""
        if not isinstance(title, str) or not isinstance(abstract, str):
            raise DlradarError(f"line {number}: title and abstract must be strings")
        out.write(classify(title, abstract).to_json() + "\n")
        count += 1
    return count


@click.command("classify")
@click.argument("title", required=False)
@click.argument("abstract", required=False, default="")
@click.option(
    "--jsonl",
    "jsonl",
    # utf-8-sig: a byte-order mark (as some Windows tools write) is not part of the first line.
    type=click.File("r", encoding="utf-8-sig"),
    default=None,
    metavar="FILE",
    help='Read {"title", "abstract"} JSON lines from FILE (- for stdin); write one result per line.',
)
@db_option
@format_option("table")
def classify_command(
    title: str | None, abstract: str, jsonl: IO[str] | None, db_path: str | None, fmt: str
) -> None:
    """Tag a text with its architecture families, with evidence and confidence.

    Tags from the text alone (never from a curated list or the database: --db is accepted,
    as on every command, and not read). --format json prints
    {"families": [...], "evidence": {family: [words]}, "confidence": {family: 0..1}};
    --jsonl always writes one such object per input line, in order.

    \b
    Examples:
      dlradar classify "Graph Attention Networks"
      dlradar classify "Language Models are Few-Shot Learners" --format json
      dlradar classify "Mamba: Linear-Time Sequence Modeling" "We propose ..." --format json
      dlradar classify --jsonl papers.jsonl > families.jsonl
      cat papers.jsonl | dlradar classify --jsonl -
    """
    if jsonl is not None:
        if title is not None:
            raise click.UsageError("give either TITLE [ABSTRACT] or --jsonl FILE, not both")
        _classify_lines(jsonl, sys.stdout)
        return
    if title is None:
        raise click.UsageError("give a TITLE (and optionally an ABSTRACT), or --jsonl FILE")
    result = classify(title, abstract)
    if fmt in ("json", "jsonl"):
        click.echo(result.to_json())
    elif fmt == "table" and not result.families:
        click.echo("(no family)")
    else:
        click.echo(render(_rows(result), fmt, ["family", "confidence", "evidence"]), nl=False)


@click.command("tag")
@click.option(
    "--all", "retag_all", is_flag=True, help="Re-tag every paper, not only untagged or stale ones."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that classify (default: one per CPU for large jobs, else 1).",
)
@db_option
@format_option("table")
def tag_command(retag_all: bool, workers: int | None, db_path: str | None, fmt: str) -> None:
    """Tag the stored papers with their architecture families.

    Tags the papers that the current tagger version has not tagged yet (or whose text changed);
    --all re-tags every paper, e.g. after the taxonomy changed. Papers with curated families
    (the landmark catalogue) keep them. Prints the counts.

    \b
    Examples:
      dlradar tag
      dlradar tag --all --db data/dlradar.db
      dlradar tag --all --workers 1 --format json
    """
    db = open_db(db_path)
    try:
        stats = tag_papers(db, retag_all=retag_all, workers=workers, progress=_progress)
    finally:
        db.conn.close()
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(_render_stats(stats, fmt), nl=False)


def _progress(stats: TagStats) -> None:
    if sys.stderr.isatty():
        click.echo(f"\rtagged {stats.tagged:,} papers", err=True, nl=False)


def _render_stats(stats: TagStats, fmt: str) -> str:
    if fmt == "table":
        return f"{stats}\n"
    row = {
        "tagger": TAGGER_VERSION,
        "tagged": stats.tagged,
        "rows": stats.rows,
        "without_family": stats.without_family,
        "curated": stats.curated,
        "families": dict(sorted(stats.families.items())),
    }
    return render([row], fmt, list(row))


COMMANDS: list[click.Command] = [classify_command, tag_command]
