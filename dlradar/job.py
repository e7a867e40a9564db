"""The main job, `dlradar run`: what a weekly (or daily) run does, in order.

1. open or create the database (migrations), 2. load the landmark catalogue, 3. fetch the last
N days of arXiv in the configured categories, 4. tag untagged papers, 5. run the quick benchmark
profile, 6. write this week's digest, 7. serve the dashboard. A step that fails prints a one-line
reason and the job carries on with what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlite_utils

from bench.settings import configured_threads
from core.config import Settings
from core.db import db_file
from core.errors import DlradarError
from dashboard.digest.weekly import write_digest
from dlradar import hooks
from tracker import fetching, landmarks, trends

Say = Callable[[str], None]


def _attempt(say: Say, action: Callable[[], object], prefix: str = "") -> bool:
    """Run one step, print its one-line outcome; a DlradarError is reported, not raised."""
    try:
        say(f"  {prefix}{action()}")
    except DlradarError as exc:
        say(f"  {prefix}failed: {exc}")
        return False
    return True


def run_main_job(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    offline: bool = False,
    bench: bool = True,
    serve: bool = True,
    say: Say = print,
    today: date | None = None,
) -> bool:
    """Run every step; returns False when a local step failed (the others still ran).

    A source that cannot be reached (offline, service down) is reported but does not fail the
    job: the job's point is to carry on with what is stored.
    """
    ok = True
    unreachable: list[str] = []
    today = today or date.today()
    say(f"[1/7] database {db_file(db)}")

    say("[2/7] landmark catalogue")
    ok &= _attempt(say, lambda: landmarks.load_into(db).summary())

    say("[3/7] arXiv, last {} days".format(settings.get("arxiv", "days")))
    if offline:
        say("  skipped (--offline)")
    else:
        start, end = fetching.arxiv_window(settings, today=today)
        try:
            result = fetching.fetch_source(
                db, "arxiv", settings, options={"start": start, "end": end}
            )
            say("  " + result.summary())
            if result.status not in ("ok", "empty"):
                unreachable.append("arXiv")
        except DlradarError as exc:
            unreachable.append("arXiv")
            say(f"  failed: {exc}")

    say("[4/7] tagging")
    from tracker.tagging import tag_papers

    def tag() -> object:
        stats = tag_papers(db)
        # Bring the trend counts up to date now, so the dashboard never pays for it.
        trends.refresh(db)
        return stats

    ok &= _attempt(say, tag)

    say("[5/7] quick benchmark")
    if bench:
        # Imported only here: the harness brings in torch, which `run --no-bench` never needs.
        from bench.runner import run_quick_profile

        # [bench] threads, as `bench run` reads them; the job always runs the quick profile.
        threads = configured_threads(settings)
        ok &= _attempt(say, lambda: run_quick_profile(db, say=say, threads=threads or None))
    else:
        say("  skipped (--no-bench)")

    say("[6/7] weekly digest")
    ok &= _attempt(say, lambda: write_digest(db, settings))
    ok &= _attempt(say, lambda: hooks.after_new_papers(db, settings), "feeds: ")

    if unreachable:
        say(f"note: {', '.join(unreachable)} could not be fetched; the rest used what is stored")
    say("[7/7] dashboard")
    if serve:
        from dashboard.serve import serve as serve_dashboard

        serve_dashboard(db_file(db), settings)
    else:
        say("  skipped (--no-dashboard)")
    return ok
