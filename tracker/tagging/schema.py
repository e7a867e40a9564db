"""The tagger's own table: which tagger version last tagged each paper, and on what text.

`paper_families` alone cannot say that a paper was tagged and got no family, so without this
table every family-less paper would be classified again on every run. A trigger drops a paper's
row when its title or abstract changes (an abstract filled in later, a corrected title), so
`dlradar tag` classifies it again; `text_size` is kept for inspection only.
"""

from __future__ import annotations

import sqlite_utils

from core.db import Schema, applied_versions, apply_migrations
from tracker import schema as tracker_schema

COMPONENT = "tagging"
SCHEMA = Schema(COMPONENT)


@SCHEMA.migration(1, "paper_tagging: tagger version and text size per tagged paper")
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


@SCHEMA.migration(2, "a paper whose title or abstract changes is tagged again")
def _v2(db: sqlite_utils.Database) -> None:
    # v1 compared the stored text size with the current one, which missed an edit that kept the
    # length (a corrected word). The trigger sees every edit, and costs nothing on insert.
    db.executescript(
        """
        CREATE TRIGGER papers_tagging_text_update AFTER UPDATE OF title, abstract ON papers
        WHEN OLD.title IS NOT NEW.title OR OLD.abstract IS NOT NEW.abstract
        BEGIN
            DELETE FROM paper_tagging WHERE paper_id = NEW.id;
        END;
        -- Papers edited under v1 whose size changed are caught once, here.
        DELETE FROM paper_tagging WHERE paper_id IN (
            SELECT t.paper_id FROM paper_tagging t JOIN papers p ON p.id = t.paper_id
            WHERE t.text_size != length(coalesce(p.title, '')) + length(coalesce(p.abstract, ''))
        );
        """
    )


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tagger's table in a database opened without it (by a caller that does not tag)."""
    if applied_versions(db).get(COMPONENT, 0) < 2:
        apply_migrations(db, [tracker_schema.SCHEMA, SCHEMA])
