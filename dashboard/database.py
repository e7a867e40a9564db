"""Every table the readers read or write: the tracker's, the bench's and the digest's own.

The dashboard and the digest open the database through :func:`open_db`, which brings these
schemas up to date; the application opens it the same way (dlradar.database).
"""

from __future__ import annotations

import os

import sqlite_utils

from bench.schema import SCHEMA as BENCH_SCHEMA
from core import db as core_db
from core.db import Schema
from dashboard.digest.schema import SCHEMA as DIGEST_SCHEMA
from tracker.tables import SCHEMAS as TRACKER_SCHEMAS

SCHEMAS: tuple[Schema, ...] = (*TRACKER_SCHEMAS, BENCH_SCHEMA, DIGEST_SCHEMA)


def open_db(
    path: str | os.PathLike[str] | None = None, *, migrate: bool = True
) -> sqlite_utils.Database:
    """core.db.open_db with every schema: tracker, tagging, discovery, bench, digest."""
    return core_db.open_db(path, SCHEMAS, migrate=migrate)
