"""Full-text search over titles and abstracts (FTS5), ranked by bm25, with a bounded cost.

bm25 over FTS5 scores every matching row before it can return the best 20, so a query made
only of very common words ("model", "neural network") costs about a second at a million
papers. The ranking therefore stops early: when even the rarest word of the query matches
more than `CANDIDATES` papers, only the `CANDIDATES` most recently stored matches are ranked.
Queries with at least one selective word (nearly every real query) are ranked exactly over
all matches. `SearchPlan.exact` says which happened, so callers can show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils

from tracker.normalize import ascii_fold

CANDIDATES = 5_000
# A word in more than this share of the papers ("the", "model" in an ML corpus) selects
# nothing and scores almost nothing under bm25, but reading its doclist costs the most:
# it is dropped from a query that has other words.
STOPWORD_SHARE = 0.5
# Title words weigh three times abstract words.
BM25 = "bm25(papers_fts, 3.0, 1.0)"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchPlan:
    match: str  # the FTS5 MATCH expression
    exact: bool  # ranked over every match (True) or over the most recent CANDIDATES
    rarest_df: int  # how many papers the query's rarest word appears in


def tokens(text: str) -> list[str]:
    """The words of `text` as FTS5's unicode61 tokenizer sees them (lower case, no accents)."""
    return [ascii_fold(w).lower() for w in _WORD.findall(text) if ascii_fold(w)]


def phrases(text: str) -> list[str]:
    """The user's words as FTS5 phrases ("pre-training" -> "pre training")."""
    parts = re.findall(r"[\w][\w'.+-]*", text, flags=re.UNICODE)
    return [p for p in (" ".join(tokens(part)) for part in parts) if p]


def match_expression(text: str, *, drop: frozenset[str] = frozenset()) -> str:
    """User words as an FTS5 query: every word required, each quoted so none is an operator."""
    return " ".join(f'"{p}"' for p in phrases(text) if p not in drop)


def plan(db: sqlite_utils.Database, text: str) -> SearchPlan | None:
    """How to run a search for `text`; None when it has no searchable word."""
    query = phrases(text)
    if not query:
        return None
    frequency = {w: _document_frequency(db, w) for w in sorted(set(tokens(text)))}
    rarest = min(frequency.values())
    papers = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM papers").fetchone()[0])
    common = {w for w, df in frequency.items() if df > STOPWORD_SHARE * papers}
    if common == set(frequency):  # only common words: keep the rarest of them
        common.discard(min(frequency, key=lambda w: (frequency[w], w)))
    match = match_expression(text, drop=frozenset(common))
    return SearchPlan(match=match, exact=rarest <= CANDIDATES, rarest_df=rarest)


def _document_frequency(db: sqlite_utils.Database, word: str) -> int:
    row = db.execute("SELECT doc FROM papers_fts_vocab WHERE term = ?", [word]).fetchone()
    return int(row[0]) if row else 0


def candidates_sql(search: SearchPlan, filters: list[str]) -> str:
    """SQL yielding (id, score) for the matches to rank, honouring the plan's bound.

    Filters on `p` (papers) apply while scanning, so a bounded scan still fills its quota
    with papers that pass them.
    """
    where = "".join(f" AND {clause}" for clause in filters)
    sql = (
        f"SELECT p.id AS id, {BM25} AS score FROM papers_fts"
        f" JOIN papers p ON p.id = papers_fts.rowid WHERE papers_fts MATCH ?{where}"
    )
    if not search.exact:
        sql += f" ORDER BY papers_fts.rowid DESC LIMIT {CANDIDATES}"
    return sql
