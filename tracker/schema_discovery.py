"""Discovery tables: the trend cube that makes `dlradar trends` fast, and what keeps it correct.

`trend_cells` holds paper counts per bucket (the month of `published`, 'YYYY-MM', or the
paper's `year` when it has no date), venue, category and family. Category '' means "the paper
once, whatever its categories" and family '' means "every paper, tagged or not", so totals and
shares need no second pass over the papers. At a million papers the cube has tens of thousands
of rows instead of millions, and a trend query reads only those.

New papers are those above the cube's watermark (`trend_state`, the highest paper id it has
seen); triggers on papers, paper_families and paper_categories record in `trend_dirty` the
bucket of every change to a paper below it. tracker.trends recomputes those buckets (from the
live tables) before it answers, so the cube is correct after every import, tagging run or
catalogue load, whichever code made the change. Importing new papers fires no trigger body at
all (see migration 3).
"""

from __future__ import annotations

import sqlite_utils

from core.db import Schema

COMPONENT = "discovery"
SCHEMA = Schema(COMPONENT)
FULL_REBUILD = "*"  # a trend_dirty entry meaning "recompute every bucket"


def bucket_sql(alias: str) -> str:
    """SQL for the trend bucket of the papers row `alias` (NULL when it has no date or year)."""
    return (
        f"CASE WHEN {alias}.published IS NULL THEN CAST({alias}.year AS TEXT)"
        f" ELSE substr({alias}.published, 1, 7) END"
    )


def _mark(alias: str) -> str:
    # OR IGNORE also drops the NULL bucket of a paper with neither date nor year.
    return f"INSERT OR IGNORE INTO trend_dirty (bucket) VALUES ({bucket_sql(alias)});"


def _mark_paper(paper_id: str) -> str:
    return (
        f"INSERT OR IGNORE INTO trend_dirty (bucket) SELECT {bucket_sql('p')}"
        f" FROM papers p WHERE p.id = {paper_id};"
    )


@SCHEMA.migration(1, "trend cube, its dirty buckets and the triggers that mark them")
def _v1(db: sqlite_utils.Database) -> None:
    triggers = []
    for table in ("paper_families", "paper_categories"):
        triggers += [
            f"CREATE TRIGGER {table}_trend_insert AFTER INSERT ON {table}"
            f" BEGIN {_mark_paper('NEW.paper_id')} END;",
            f"CREATE TRIGGER {table}_trend_delete AFTER DELETE ON {table}"
            f" BEGIN {_mark_paper('OLD.paper_id')} END;",
            f"CREATE TRIGGER {table}_trend_update AFTER UPDATE ON {table}"
            f" BEGIN {_mark_paper('OLD.paper_id')} {_mark_paper('NEW.paper_id')} END;",
        ]
    triggers += [
        f"CREATE TRIGGER papers_trend_insert AFTER INSERT ON papers BEGIN {_mark('NEW')} END;",
        # Deleting a paper cascades to its families and categories after the paper row is
        # gone, so their triggers find no bucket: this one marks it.
        f"CREATE TRIGGER papers_trend_delete AFTER DELETE ON papers BEGIN {_mark('OLD')} END;",
        "CREATE TRIGGER papers_trend_update AFTER UPDATE OF published, year, venue ON papers"
        " WHEN OLD.published IS NOT NEW.published OR OLD.year IS NOT NEW.year"
        f" OR OLD.venue IS NOT NEW.venue BEGIN {_mark('OLD')} {_mark('NEW')} END;",
    ]
    db.executescript(
        """
        CREATE TABLE trend_cells (
            bucket TEXT NOT NULL,
            venue TEXT NOT NULL,
            category TEXT NOT NULL,
            family TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (category, family, bucket, venue)
        ) WITHOUT ROWID;
        CREATE INDEX trend_cells_bucket ON trend_cells(bucket);
        CREATE TABLE trend_dirty (bucket TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
        -- Finds the papers of a year bucket (no date) without scanning the year's dated ones.
        CREATE INDEX papers_dateless_year ON papers(year) WHERE published IS NULL;
        """
        + "\n".join(triggers)
    )
    db.execute("INSERT INTO trend_dirty (bucket) VALUES (?)", [FULL_REBUILD])


@SCHEMA.migration(2, "discovery_state: database token and text-change counter for `similar`")
def _v2(db: sqlite_utils.Database) -> None:
    # The `similar` index lives in files beside the database. New papers (ids above the ones
    # indexed) are found by id; edited or deleted texts bump `text_changes`, which tells the
    # index to rebuild. The token tells an index file from one built for another database.
    db.executescript(
        """
        CREATE TABLE discovery_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        INSERT INTO discovery_state VALUES ('token', lower(hex(randomblob(8))));
        INSERT INTO discovery_state VALUES ('text_changes', '0');
        CREATE TRIGGER papers_similar_update AFTER UPDATE OF title, abstract ON papers
        WHEN OLD.title IS NOT NEW.title OR OLD.abstract IS NOT NEW.abstract
        BEGIN
            UPDATE discovery_state SET value = CAST(value AS INTEGER) + 1
            WHERE key = 'text_changes';
        END;
        CREATE TRIGGER papers_similar_delete AFTER DELETE ON papers
        BEGIN
            UPDATE discovery_state SET value = CAST(value AS INTEGER) + 1
            WHERE key = 'text_changes';
        END;
        """
    )


_WATERMARK = "(SELECT value FROM trend_state WHERE key = 'watermark')"
_V1_TRIGGERS = [
    f"{table}_trend_{event}"
    for table in ("paper_families", "paper_categories", "papers")
    for event in ("insert", "delete", "update")
]


@SCHEMA.migration(3, "trend cube: new papers found by id, not by an insert trigger")
def _v3(db: sqlite_utils.Database) -> None:
    # An AFTER INSERT trigger on papers cost 13 us per paper, a quarter of the import rate
    # (scripts/discovery.py --import-overhead). New papers have ids above the watermark
    # (the highest id the cube has seen; tracker.trends.refresh reads their buckets), so only
    # changes to papers below it need triggers, and a trigger whose WHEN is false costs ~1 us.
    # Deleting a paper lowers the watermark below its id: a later paper that reuses the id is
    # then new again (recomputing a bucket twice is harmless; missing one is not).
    statements = [f"DROP TRIGGER IF EXISTS {name};" for name in _V1_TRIGGERS]
    statements += [
        "CREATE TABLE trend_state (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)"
        " WITHOUT ROWID;",
        "INSERT INTO trend_state VALUES ('watermark', 0);",
        f"INSERT OR IGNORE INTO trend_dirty (bucket) VALUES ('{FULL_REBUILD}');",
    ]
    for table in ("paper_families", "paper_categories"):
        statements += [
            f"CREATE TRIGGER {table}_trend_insert AFTER INSERT ON {table}"
            f" WHEN NEW.paper_id <= {_WATERMARK} BEGIN {_mark_paper('NEW.paper_id')} END;",
            f"CREATE TRIGGER {table}_trend_delete AFTER DELETE ON {table}"
            f" WHEN OLD.paper_id <= {_WATERMARK} BEGIN {_mark_paper('OLD.paper_id')} END;",
            f"CREATE TRIGGER {table}_trend_update AFTER UPDATE ON {table}"
            f" WHEN OLD.paper_id <= {_WATERMARK} OR NEW.paper_id <= {_WATERMARK}"
            f" BEGIN {_mark_paper('OLD.paper_id')} {_mark_paper('NEW.paper_id')} END;",
        ]
    statements += [
        # Deleting a paper cascades to its families and categories after the paper row is
        # gone, so their triggers find no bucket: this one marks it.
        f"CREATE TRIGGER papers_trend_delete AFTER DELETE ON papers"
        f" WHEN OLD.id <= {_WATERMARK} BEGIN {_mark('OLD')}"
        " UPDATE trend_state SET value = OLD.id - 1 WHERE key = 'watermark'"
        " AND value >= OLD.id; END;",
        "CREATE TRIGGER papers_trend_update AFTER UPDATE OF id, published, year, venue ON papers"
        f" WHEN (OLD.id <= {_WATERMARK} OR NEW.id <= {_WATERMARK}) AND ("
        " OLD.id IS NOT NEW.id OR OLD.published IS NOT NEW.published"
        " OR OLD.year IS NOT NEW.year OR OLD.venue IS NOT NEW.venue)"
        f" BEGIN {_mark('OLD')} {_mark('NEW')} END;",
    ]
    db.executescript("\n".join(statements))
