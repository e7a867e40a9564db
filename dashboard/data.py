"""Cached, read-only data access for the dashboard pages.

Every function takes the database path (so the cache is per database) and returns plain
Python values (lists of dicts, numbers), aggregated in SQL so that pages stay fast at a million
papers. Results are cached with a short TTL, so papers fetched or benchmarks run while the
dashboard is open show up within a minute. Libraries that are still being written elsewhere
(tracker.trends, tracker.interests, tracker.similar) are called through `optional`, which turns
their absence into `Unavailable` for the page to explain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
import streamlit as st

from bench import store
from bench.environment import machine_label
from core.config import Settings, load_settings
from core.db import resolve_db_path
from dashboard.database import open_db
from dashboard.radar import RadarFamily, radar_table
from tracker import overview
from tracker.query import Paper, PaperFilter, count_papers, find_papers, get_paper

TTL_SECONDS = 60
T = TypeVar("T")

_MIGRATED: set[str] = set()


class Unavailable(Exception):
    """A library the page needs is not there yet (or not implemented yet)."""


def current_db_path() -> str:
    """The database the dashboard shows: $DLRADAR_DB, else data/dlradar.db."""
    return str(resolve_db_path())


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@contextmanager
def connect(path: str) -> Iterator[sqlite_utils.Database]:
    """A short-lived connection; the schema is brought up to date once per process and path."""
    db = open_db(path, migrate=path not in _MIGRATED)
    _MIGRATED.add(path)
    try:
        yield db
    finally:
        db.conn.close()


def optional(what: str, call: Callable[[], T]) -> T:
    """Run `call`, turning a missing or unfinished library into Unavailable(what)."""
    try:
        return call()
    except (ImportError, NotImplementedError) as exc:
        raise Unavailable(f"{what} is not available yet ({type(exc).__name__})") from exc


# --- papers ---------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def corpus_summary(path: str) -> overview.CorpusSummary:
    """The corpus summary (tracker.overview), read once for the figures of every page (each read
    checks its stamp and parses it: a few milliseconds, paid once per page, not per figure)."""
    with connect(path) as db:
        return overview.corpus_summary(db)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def paper_totals(path: str) -> overview.PaperTotals:
    """Papers in total, published and stored in the last 7 days, tagged, curated."""
    week_ago = (datetime.now(UTC) - timedelta(days=7)).date()
    with connect(path) as db:
        return overview.paper_totals(db, week_ago, corpus_summary(path))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sources(path: str) -> list[overview.SourceSummary]:
    """Per source: papers it holds, its last run and its last successful fetch."""
    with connect(path) as db:
        return overview.source_summaries(db, corpus_summary(path))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def filter_options(path: str) -> overview.FilterOptions:
    """Choices for the paper filters: families, venues and categories by frequency, year range."""
    with connect(path) as db:
        return overview.filter_options(db, corpus_summary(path))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def papers(path: str, f: PaperFilter, limit: int) -> tuple[list[Paper], int]:
    """The first `limit` papers matching `f` and how many match in all."""
    known = summary_count(corpus_summary(path), f)
    with connect(path) as db:
        return find_papers(db, f, limit=limit), count_papers(db, f) if known is None else known


def summary_count(summary: overview.CorpusSummary, f: PaperFilter) -> int | None:
    """How many papers match `f` when the corpus summary knows it (no filter, or one family
    alone: the Papers page's first view and the Trends page's links), else None."""
    if f == PaperFilter():
        return summary["papers"]
    if len(f.families) == 1 and replace(f, families=()) == PaperFilter():
        return next((r["papers"] for r in summary["families"] if r["family"] == f.families[0]), 0)
    return None


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def paper(path: str, paper_id: str) -> Paper | None:
    from core.errors import NotFoundError

    with connect(path) as db:
        try:
            return get_paper(db, paper_id)
        except NotFoundError:
            return None


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def similar(path: str, paper_id: int, limit: int = 10) -> list[tuple[Paper, float]]:
    def call() -> list[tuple[Paper, float]]:
        from tracker.similar import similar_papers

        with connect(path) as db:
            return similar_papers(db, paper_id, limit=limit)

    return optional("similar papers (tracker/similar.py)", call)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def ranked_by_interests(path: str, f: PaperFilter, limit: int) -> list[dict[str, Any]]:
    """Papers matching `f` ranked by the saved interests, with score and reason."""

    def call() -> list[dict[str, Any]]:
        from tracker.interests import Interests, rank_by_interests

        interests = Interests.from_settings(settings())
        with connect(path) as db:
            ranked = rank_by_interests(db, interests, filter=f, limit=limit)
        return [r.paper | {"interest_score": r.score, "reason": r.reason} for r in ranked]

    return optional("ranking by saved interests (tracker/interests.py)", call)


def saved_interests() -> dict[str, list[str]]:
    section = settings().values.get("interests", {})
    return {k: list(section.get(k, [])) for k in ("keywords", "families", "authors")}


# --- trends ---------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def family_counts(path: str, period: str, by: str | None = None) -> list[dict[str, Any]]:
    def call() -> list[dict[str, Any]]:
        from tracker.trends import family_counts as counts

        with connect(path) as db:
            return counts(db, period=period, by=by)

    return optional("family trends (tracker/trends.py)", call)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def family_growth(path: str, period: str) -> list[dict[str, Any]]:
    def call() -> list[dict[str, Any]]:
        from tracker.trends import family_growth as growth

        with connect(path) as db:
            return growth(db, period=period)

    return optional("family growth (tracker/trends.py)", call)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def family_shares(path: str) -> list[overview.FamilyShare]:
    """Per family, over the whole database: papers and their share of all papers."""
    with connect(path) as db:
        return overview.family_shares(db, corpus_summary(path))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def venue_year_counts(path: str) -> list[overview.VenueYearCount]:
    """Papers per venue and year (the 12 largest venues; the rest as 'other')."""
    return corpus_summary(path)["venue_years"]


# --- benchmarks -----------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def bench_runs(path: str) -> list[dict[str, Any]]:
    with connect(path) as db:
        return store.list_runs(db)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def latest_peak(path: str) -> dict[str, Any] | None:
    with connect(path) as db:
        return store.latest_peak(db)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def bench_results(path: str, run_ids: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """Stored results (all runs, or `run_ids`) flattened to one level, with their run's
    environment summary, so every number can be shown with its conditions."""
    with connect(path) as db:
        rows = store.result_rows(db, run_ids=list(run_ids) or None)
        details = store.result_details(db)
        runs = {r["id"]: r for r in store.list_runs(db)}
    out = []
    for row in rows:
        flat = {k: v for k, v in row.items() if k not in ("latency_ms", "phases", "eval")}
        latency: Mapping[str, Any] = row["latency_ms"] or {}
        for key in ("mean", "p50", "p90", "p95", "p99", "stdev", "iqr", "count"):
            flat[f"latency_{key}"] = latency.get(key)
        flat["eval"] = row.get("eval")
        stored = details.get(row["result_id"])
        flat["task"] = stored["task"] if stored else None
        flat["size"] = stored["size"] if stored else None
        run = runs.get(row["run_id"], {})
        env = run.get("environment") or {}
        flat["run_kind"] = run.get("kind")
        flat["run_started"] = run.get("started_at")
        flat["cpu"] = _cpu_name(env)
        flat["machine"] = machine_label(row["machine"])
        flat["node_id"] = (row["machine"] or {}).get("node_id")
        out.append(flat)
    return out


def with_shapes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each model's input description from the zoo (imports torch: only where shown)."""
    inputs = {m["model"]: m["input"] for m in zoo_models()}
    return [r | {"shapes": inputs.get(r["model"])} for r in rows]


def _cpu_name(env: dict[str, Any]) -> str | None:
    name = env.get("cpu_model")
    cores = env.get("logical_cores")
    if not name:
        return None
    return f"{name} ({cores} cores)" if cores else str(name)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def bench_machines(path: str) -> list[dict[str, Any]]:
    """Every machine with stored runs (bench.store.machines), with its label."""
    with connect(path) as db:
        return store.machines(db)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def bench_samples(path: str, result_ids: tuple[int, ...]) -> list[store.Sample]:
    """Raw per-iteration latencies of the given results."""
    with connect(path) as db:
        return store.samples_of(db, result_ids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def compare_runs(path: str, run_a: int, run_b: int) -> dict[str, Any]:
    from bench.compare import compare_runs as compare

    with connect(path) as db:
        result = compare(db, run_a, run_b)
    return {
        "changes": [c.to_dict() for c in result.changes],
        "warnings": list(result.environment_warnings),
    }


@st.cache_data(ttl=3600, show_spinner=False)
def zoo_models() -> list[dict[str, Any]]:
    """The model zoo (name, family, source, input), or [] when the zoo cannot be loaded.

    Read from the zoo listing's cache (bench.zoo_listing) when it has this zoo: importing torch
    for the zoo's names cost a page's first load seconds."""
    try:
        from bench.zoo_listing import zoo_meta

        models = zoo_meta()
    except ImportError:
        return []
    return [
        {
            "model": m["name"],
            "family": m["family"],
            "source": m["source"],
            "input": m["input"],
            "quick": m["quick"],
        }
        for m in models
    ]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def radar(path: str, machine: str | None = None) -> list[RadarFamily]:
    """The Radar's table (dashboard.radar.radar_table), with the zoo's models per family;
    with `machine`, only that machine's timings."""
    zoo = [(m["model"], m["family"]) for m in zoo_models()]
    with connect(path) as db:
        return radar_table(db, zoo, machine, corpus_summary(path))


def configured_threads() -> int:
    """The reference thread count: the first of [bench] threads, else 1."""
    from bench.settings import configured_threads as threads

    return (threads(settings()) or (1,))[0]


# --- roadmap and digests --------------------------------------------------------------------


@st.cache_data(ttl=3600, show_spinner=False)
def catalogue() -> list[dict[str, Any]]:
    from tracker.landmarks import load_catalogue

    return [
        {
            "key": lm.key,
            "title": lm.title,
            "authors": list(lm.authors),
            "year": lm.year,
            "venue": lm.venue,
            "arxiv_id": lm.arxiv_id,
            "families": list(lm.families),
            "stage": lm.stage,
            "note": lm.note,
        }
        for lm in load_catalogue()
    ]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def stored_landmarks(path: str) -> dict[str, int]:
    """Catalogue key -> paper id, for the landmarks this database holds."""
    with connect(path) as db:
        return overview.catalogue_paper_ids(db)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def recent_papers(
    path: str, families: tuple[str, ...], limit: int, window_days: int = 365
) -> list[overview.RecentPaper]:
    """The newest non-curated papers of `families` (see tracker.overview.recent_papers)."""
    with connect(path) as db:
        return overview.recent_papers(db, families, limit, window_days)


def digest_directory() -> Path:
    return Path(str(settings().get("digest", "directory"))).expanduser()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def digest_files(directory: str) -> list[dict[str, Any]]:
    """Markdown digests (newest first) with their text and sibling files of the same week."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    out = []
    for md in sorted(folder.glob("*.md"), reverse=True):
        siblings = sorted(p for p in folder.glob(f"{md.stem}.*") if p.suffix != ".md")
        out.append(
            {
                "name": md.name,
                "text": md.read_text(encoding="utf-8", errors="replace"),
                "others": [(p.name, p.read_bytes()) for p in siblings],
            }
        )
    return out


def clear_caches() -> None:
    st.cache_data.clear()
