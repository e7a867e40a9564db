"""The tracker's tables, declared as migrations (see core.db)."""

from __future__ import annotations

import sqlite_utils

from core.db import Schema

SCHEMA = Schema("tracker")


@SCHEMA.migration(1, "papers, authors, categories, sources, families, fetch runs, FTS")
def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE papers (
            id INTEGER PRIMARY KEY,
            arxiv_id TEXT UNIQUE,
            arxiv_version INTEGER,
            doi TEXT UNIQUE,
            openreview_id TEXT UNIQUE,
            title TEXT NOT NULL,
            title_key TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '',
            venue TEXT,
            year INTEGER,
            published TEXT,
            updated TEXT,
            primary_category TEXT,
            comment TEXT,
            journal_ref TEXT,
            license TEXT,
            url TEXT,
            pdf_url TEXT,
            curated INTEGER NOT NULL DEFAULT 0,
            stage TEXT,
            rank INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE INDEX papers_title_key ON papers(title_key);
        CREATE INDEX papers_published ON papers(published);
        CREATE INDEX papers_year_venue ON papers(year, venue);
        CREATE INDEX papers_venue ON papers(venue);

        CREATE TABLE paper_authors (
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (paper_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX paper_authors_name ON paper_authors(name COLLATE NOCASE);

        CREATE TABLE paper_categories (
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            category TEXT NOT NULL,
            PRIMARY KEY (paper_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX paper_categories_category ON paper_categories(category, paper_id);

        CREATE TABLE paper_sources (
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (source, source_id)
        );
        CREATE INDEX paper_sources_paper ON paper_sources(paper_id);

        CREATE TABLE paper_families (
            paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            family TEXT NOT NULL,
            confidence REAL NOT NULL,
            evidence TEXT NOT NULL DEFAULT '[]',
            tagger TEXT NOT NULL,
            PRIMARY KEY (paper_id, family)
        ) WITHOUT ROWID;
        CREATE INDEX paper_families_family ON paper_families(family, paper_id);

        CREATE TABLE fetch_runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            seen INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            pages INTEGER NOT NULL DEFAULT 0,
            errors TEXT NOT NULL DEFAULT '[]',
            cursor TEXT,
            message TEXT
        );
        CREATE INDEX fetch_runs_source ON fetch_runs(source, scope, id);

        CREATE VIRTUAL TABLE papers_fts USING fts5(
            title, abstract, content='papers', content_rowid='id'
        );
        """
    )


@SCHEMA.migration(2, "FTS vocabulary, for search planning")
def _v2(db: sqlite_utils.Database) -> None:
    # Document frequencies per word: lets search tell selective words from common ones.
    db.execute("CREATE VIRTUAL TABLE papers_fts_vocab USING fts5vocab(papers_fts, row)")


@SCHEMA.migration(3, "drop the author-name index")
def _v3(db: sqlite_utils.Database) -> None:
    # Author filters match inside names (LIKE '%x%'), which no B-tree index serves, while
    # keeping it cost a fifth of the import time at 100k papers (scripts/ingest.py).
    db.execute("DROP INDEX IF EXISTS paper_authors_name")


@SCHEMA.migration(4, "queue of papers waiting for the full-text index")
def _v4(db: sqlite_utils.Database) -> None:
    # Storing queues papers here; tracker.fts indexes them (see there for why).
    db.execute("CREATE TABLE fts_pending (paper_id INTEGER PRIMARY KEY)")


@SCHEMA.migration(5, "full-text index moves to tantivy (tracker.search_index), fed by a queue")
def _v5(db: sqlite_utils.Database) -> None:
    # AUTOINCREMENT: a sequence number is never reused after pruning, so the index's
    # watermark (the last number it took in) stays meaningful.
    db.executescript(
        """
        DROP TABLE IF EXISTS papers_fts_vocab;
        DROP TABLE IF EXISTS papers_fts;
        DROP TABLE IF EXISTS fts_pending;
        CREATE TABLE search_queue (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            paper_id INTEGER NOT NULL
        );
        INSERT INTO search_queue (paper_id) SELECT id FROM papers ORDER BY id;
        """
    )


@SCHEMA.migration(6, "venue index that the venue filter can use")
def _v6(db: sqlite_utils.Database) -> None:
    # The venue filter compares with COLLATE NOCASE ("neurips" finds NeurIPS), which a
    # BINARY index cannot serve: it cost every insert and helped no query.
    db.executescript(
        """
        DROP INDEX IF EXISTS papers_venue;
        CREATE INDEX papers_venue_nocase ON papers(venue COLLATE NOCASE);
        """
    )


@SCHEMA.migration(7, "newest-first and first-seen indexes; the corpus summary the pages read")
def _v7(db: sqlite_utils.Database) -> None:
    # The papers list orders by (published IS NULL, published DESC, id DESC): without an index
    # on exactly that, the newest 50 of a million papers took a sort of all of them (3.9 s).
    db.execute("CREATE INDEX papers_newest ON papers(published IS NULL, published DESC, id DESC)")
    db.execute("CREATE INDEX papers_first_seen ON papers(first_seen)")
    # Counts over the whole corpus (tagged papers, venues, categories, years, families) are
    # computed once per import or tagging run (tracker.overview.refresh_summary), not per page.
    db.execute(
        "CREATE TABLE corpus_summary (key TEXT PRIMARY KEY, stamp TEXT NOT NULL,"
        " value TEXT NOT NULL, computed_at TEXT NOT NULL)"
    )


# Bumped by every write of the corpus tables (papers, their categories, sources and families:
# tracker.store and tracker.tagging.store, the only modules that write them), once per batch.
NOTE_CORPUS_CHANGE = "UPDATE corpus_changes SET changes = changes + 1 WHERE id = 1"


@SCHEMA.migration(8, "a change counter of the corpus tables: the corpus summary's stamp")
def _v8(db: sqlite_utils.Database) -> None:
    # The summary's stamp counted every row of four tables on each read (0.1-0.4 s of a page's
    # first load at a million papers); a counter is one row to read. The stores bump it once
    # per batch they write: triggers bumping it per row cost a fifth of the import rate.
    db.execute(
        "CREATE TABLE corpus_changes (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " changes INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO corpus_changes VALUES (1, 0)")
