"""Community attention per paper: Hugging Face daily-papers upvotes and linked code.

`dlradar fetch hf-papers` stores, for stored arXiv papers, what the Hugging Face Papers API says
of them (tracker.sources.hf_papers); the weekly digest ranks by it and says so. Kept in its own
table: it is a signal about a paper, refreshed by each fetch, not part of the paper's record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import sqlite_utils

from core.db import Schema, transaction, utc_now

SCHEMA = Schema("attention")


@SCHEMA.migration(1, "paper_attention: Hugging Face upvotes, comments and linked code per paper")
def _v1(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE paper_attention (
            paper_id INTEGER PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
            upvotes INTEGER NOT NULL,
            comments INTEGER,
            github_repo TEXT,
            github_stars INTEGER,
            featured_on TEXT,
            source TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        )
        """
    )


class Attention(TypedDict):
    """What readers get: the community's signal for one paper."""

    upvotes: int
    comments: int | None
    github_repo: str | None
    github_stars: int | None
    featured_on: str | None  # the Hugging Face daily-papers date it was listed on
    fetched_at: str


@dataclass(frozen=True)
class Observation:
    """One paper as the Hugging Face Papers API describes it."""

    arxiv_id: str
    upvotes: int
    comments: int | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    featured_on: str | None = None


@dataclass
class StoreResult:
    seen: int = 0  # observations read
    matched: int = 0  # of stored papers, whose attention was written
    unknown: int = 0  # arXiv ids dlradar has not stored (not added: attention is no paper)

    def __str__(self) -> str:
        return (
            f"hf-papers: {self.seen} read, {self.matched} stored papers updated,"
            f" {self.unknown} not in the database"
        )


def store_attention(
    db: sqlite_utils.Database, observations: Iterable[Observation], source: str = "hf-papers"
) -> StoreResult:
    """Write each observation onto the stored paper with its arXiv id, in one transaction."""
    result = StoreResult()
    now = utc_now()
    rows = []
    for seen in observations:
        result.seen += 1
        row = db.execute("SELECT id FROM papers WHERE arxiv_id = ?", [seen.arxiv_id]).fetchone()
        if row is None:
            result.unknown += 1
            continue
        rows.append(
            (row[0], seen.upvotes, seen.comments, seen.github_repo, seen.github_stars,
             seen.featured_on, source, now)
        )  # fmt: skip
    with transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO paper_attention (paper_id, upvotes, comments, github_repo,"
            " github_stars, featured_on, source, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    result.matched = len(rows)
    return result


def attention_of(db: sqlite_utils.Database, paper_ids: Sequence[int]) -> dict[int, Attention]:
    """The stored attention of these papers (those without any are left out)."""
    if not paper_ids or "paper_attention" not in db.table_names():
        return {}
    placeholders = ",".join("?" * len(paper_ids))
    out: dict[int, Attention] = {}
    for row in db.execute(
        "SELECT paper_id, upvotes, comments, github_repo, github_stars, featured_on, fetched_at"
        f" FROM paper_attention WHERE paper_id IN ({placeholders})",
        list(paper_ids),
    ):
        out[int(row[0])] = {
            "upvotes": int(row[1]),
            "comments": row[2],
            "github_repo": row[3],
            "github_stars": row[4],
            "featured_on": row[5],
            "fetched_at": row[6],
        }
    return out


def stored_arxiv_ids(
    db: sqlite_utils.Database, since: str, until: str, limit: int = 5000
) -> list[str]:
    """arXiv ids of stored papers published in [since, until] (ISO dates), newest first."""
    rows = db.execute(
        "SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL AND published BETWEEN ? AND ?"
        " ORDER BY published DESC LIMIT ?",
        [since, until + "T99", limit],
    )
    return [str(r[0]) for r in rows]
