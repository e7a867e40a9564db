"""The tagger's own table: which tagger version last tagged each paper, and on what text.

`paper_families` alone cannot say that a paper was tagged and got no family, so without this
table every family-less paper would be classified again on every run. The text size lets
`dlradar tag` notice a paper whose title or abstract changed since (an abstract filled in later).
"""

from __future__ import annotations

import sqlite_utils

from dlradar.db import apply_migrations, migration

COMPONENT = "tagging"


@migration(COMPONENT, 1, "paper_tagging: tagger version and text size per tagged paper")
def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE paper_tagging (
            paper_id INTEGER PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            tagger TEXT NOT NULL,
            text_size INTEGER NOT NULL,
            tagged_at TEXT NOT NULL
        );
        """
    )


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tagger's table in a database opened before this module was imported."""
    if "paper_tagging" not in db.table_names():
        apply_migrations(db)
