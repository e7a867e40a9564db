"""The digest's tables, declared as a migration (see core.db).

digests           one row per written ISO week: when, its counts, its files, and which benchmark
                  results it covered (ids after `bench_after` up to `bench_until`)
digest_featured   the papers each digest featured; paper_id is the key, so a paper is featured in
                  one digest at most
"""

from __future__ import annotations

import sqlite_utils

from core.db import Schema

SCHEMA = Schema("digest")


@SCHEMA.migration(1, "digests and the papers they featured")
def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE digests (
            week TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            since TEXT NOT NULL,
            until TEXT NOT NULL,
            counts TEXT NOT NULL DEFAULT '{}',
            files TEXT NOT NULL DEFAULT '[]',
            bench_after INTEGER NOT NULL DEFAULT 0,
            bench_until INTEGER NOT NULL DEFAULT 0,
            summary TEXT NOT NULL DEFAULT '',
            sent TEXT
        );

        CREATE TABLE digest_featured (
            paper_id INTEGER PRIMARY KEY,
            week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
            rank INTEGER NOT NULL
        );
        CREATE INDEX digest_featured_week ON digest_featured(week, rank);
        """
    )
