"""The application's database: opened with every component's schema (see dashboard.database,
the readers' list, which is every table there is)."""

from __future__ import annotations

import os

import sqlite_utils

from core.db import resolve_db_path
from core.errors import NotFoundError
from dashboard.database import SCHEMAS, open_db

__all__ = ["SCHEMAS", "open_db", "open_existing_db", "require_database"]


def require_database(path: str | os.PathLike[str] | None) -> None:
    """Refuse a database that does not exist: commands that only read it would otherwise create
    an empty one (and its folders) at a mistyped --db, and print "(no rows)" with exit 0."""
    db_path = resolve_db_path(path)
    # Only a missing path: a device or a directory gets open_db's own message.
    if not db_path.exists():
        raise NotFoundError(
            f"no database at {db_path}; run `dlradar run` or `dlradar import` first"
            " (or give --db / $DLRADAR_DB)"
        )


def open_existing_db(path: str | os.PathLike[str] | None = None) -> sqlite_utils.Database:
    """open_db for commands that read: the database must exist already."""
    require_database(path)
    return open_db(path)
