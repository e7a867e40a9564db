"""The main job, `dlradar run`: what a weekly (or daily) run does, in order.

1. open or create the database (migrations), 2. load the landmark catalogue, 3. fetch the last
N days of arXiv in the configured categories, 4. tag untagged papers, 5. run the quick benchmark
profile, 6. write this week's digest, 7. serve the dashboard. A step that fails prints a one-line
reason and the job carries on with what is stored; steps whose component is not installed yet
say so and are skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, timedelta

import sqlite_utils

from dlradar.config import Settings
from dlradar.db import db_file
from dlradar.errors import DlradarError
from tracker import fetching, landmarks, trends

Say = Callable[[str], None]


def _component(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


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
    say(f"[1/7] database {db.conn.execute('PRAGMA database_list').fetchone()[2]}")

    say("[2/7] landmark catalogue")
    try:
        say("  " + landmarks.load_into(db).summary())
    except DlradarError as exc:
        ok = False
        say(f"  failed: {exc}")

    say("[3/7] arXiv, last {} days".format(settings.get("arxiv", "days")))
    if offline:
        say("  skipped (--offline)")
    else:
        start = today - timedelta(days=int(settings.get("arxiv", "days")))
        try:
            result = fetching.fetch_source(
                db, "arxiv", settings, options={"start": start, "end": today}
            )
            say("  " + result.summary())
            if result.status not in ("ok", "empty"):
                unreachable.append("arXiv")
        except DlradarError as exc:
            unreachable.append("arXiv")
            say(f"  failed: {exc}")

    say("[4/7] tagging")
    tagging = _component("tracker.tagging")
    if tagging is None:
        say("  skipped: the tagger is not installed in this version")
    else:
        try:
            stats = tagging.tag_papers(db)  # type: ignore[attr-defined]
            say(f"  {stats}")
            # Bring the trend counts up to date now, so the dashboard never pays for it.
            trends.refresh(db)
        except DlradarError as exc:
            ok = False
            say(f"  failed: {exc}")

    say("[5/7] quick benchmark")
    runner = _component("bench.runner")
    if not bench:
        say("  skipped (--no-bench)")
    elif runner is None or not hasattr(runner, "run_quick_profile"):
        say("  skipped: the benchmark harness is not installed in this version")
    else:
        try:
            say("  " + str(runner.run_quick_profile(db, say=say)))
        except DlradarError as exc:
            ok = False
            say(f"  failed: {exc}")

    say("[6/7] weekly digest")
    digest = _component("dashboard.digest")
    if digest is None or not hasattr(digest, "write_digest"):
        say("  skipped: the digest is not installed in this version")
    else:
        try:
            say("  " + str(digest.write_digest(db, settings)))
        except DlradarError as exc:
            ok = False
            say(f"  failed: {exc}")
    feeds = _component("dashboard.feeds")
    if feeds is not None and hasattr(feeds, "refresh_feeds"):
        try:
            say(f"  feeds: {feeds.refresh_feeds(db, settings)}")
        except DlradarError as exc:
            ok = False
            say(f"  feeds failed: {exc}")

    if unreachable:
        say(f"note: {', '.join(unreachable)} could not be fetched; the rest used what is stored")
    say("[7/7] dashboard")
    server = _component("dashboard.serve")
    if not serve:
        say("  skipped (--no-dashboard)")
    elif server is None or not hasattr(server, "serve"):
        say("  skipped: the dashboard is not installed in this version")
    else:
        server.serve(db_file(db), settings)
    return ok
