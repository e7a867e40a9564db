"""Live fetching: runs a live source into the store, resuming interrupted runs.

Each source is named here with how its scope (what a run covers) and options are built. A run
that was killed or failed left its last committed cursor in `fetch_runs`; the next run of the
same scope resumes from it. A completed run is not resumed: re-running it fetches again, and
deduplication keeps the database free of duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from core.config import Settings
from tracker.attention import Observation, StoreResult, store_attention
from tracker.http import PoliteClient, RetryPolicy
from tracker.ingest import RunResult, run_pages, shown_status
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


def arxiv_window(
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    days: int | None = None,
    today: date | None = None,
) -> tuple[date, date]:
    """The submission-date window of an arXiv fetch: `end` (else today) back to `start`, else
    `days` before it, else [arxiv] days of the configuration."""
    last = end or today or date.today()
    first = start or last - timedelta(days=days or int(settings.get("arxiv", "days")))
    return first, last


def polite_client(settings: Settings) -> PoliteClient:
    """One HTTP client per run: arXiv's 3 s spacing and the configured retries, timeout,
    deadline and size cap."""
    return PoliteClient(
        min_interval=float(settings.get("arxiv", "delay_seconds")),
        timeout=(10.0, float(settings.get("sources", "timeout_seconds"))),
        deadline_s=float(settings.get("sources", "deadline_seconds")),
        max_bytes=int(settings.get("sources", "max_response_mb")) * 1_000_000,
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
        row["status"] = shown_status(row["status"], row["message"], row["started_at"])
    return rows


def fetch_attention(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    until: date,
    days: int = 7,
    arxiv_ids: list[str] | None = None,
    base_url: str | None = None,
    client: PoliteClient | None = None,
) -> tuple[StoreResult, list[str]]:
    """Hugging Face attention (upvotes, linked code) for stored arXiv papers: the Daily Papers
    of the `days` days ending `until`, or each of `arxiv_ids`. Returns what was stored and the
    warnings; HTTP failures raise FetchError, keeping what earlier days stored."""
    from tracker.sources import hf_papers

    http = client or PoliteClient(
        min_interval=hf_papers.MIN_INTERVAL_S,
        timeout=(10.0, float(settings.get("sources", "timeout_seconds"))),
        policy=RetryPolicy(retries=int(settings.get("sources", "retries"))),
    )
    url = base_url or hf_papers.BASE_URL
    warnings: list[str] = []
    total = StoreResult()
    if arxiv_ids:
        batches: Iterable[Iterable[Observation]] = [
            hf_papers.fetch_papers(arxiv_ids, warnings, client=http, base_url=url)
        ]
    else:
        # A day at a time, each stored as it arrives: a failure keeps the days before it.
        batches = (
            hf_papers.fetch_daily([day], warnings, client=http, base_url=url)
            for day in hf_papers.days(until, days)
        )
    for batch in batches:
        done = store_attention(db, batch)
        total.seen += done.seen
        total.matched += done.matched
        total.unknown += done.unknown
    return total, warnings
