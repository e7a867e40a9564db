"""What ties the parts together after they change the database.

New or changed papers (a fetch, an import, the weekly job) make the per-family and per-interest
Atom feeds stale: the readers' feeds are rebuilt here, so the tracker never imports a reader.
"""

from __future__ import annotations

import sqlite_utils

from core.config import Settings
from dashboard.digest.feeds import FeedsResult, refresh_feeds


def after_new_papers(db: sqlite_utils.Database, settings: Settings) -> FeedsResult:
    """Rebuild the paper feeds; returns what was written (its str is a one-line summary)."""
    return refresh_feeds(db, settings)
