"""Saved interests ([interests] keywords, families, authors) and ranking papers by them.

A paper scores for each interest it matches, and the reason says which:

- a keyword (a word or phrase, matched like `papers --search`): 3 in the title, else 1 in the
  abstract;
- a family of interest: 2 times the tag's confidence;
- an author of interest (part of a name, any case): 2.5;
- with `venue_bonus`, 0.5 more for a paper published at a venue (not only on arXiv).

Ties go to the newer paper. Scoring runs in SQL over the matches only, so it costs what the
interests match, not what the database holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils
import tantivy

from core.config import Settings
from core.errors import ConfigError
from tracker import query, search, search_index
from tracker.query import PaperFilter

TITLE_WEIGHT = 3.0
ABSTRACT_WEIGHT = 1.0
FAMILY_WEIGHT = 2.0
AUTHOR_WEIGHT = 2.5
VENUE_BONUS = 0.5
PREPRINT_VENUES = ("arxiv", "")
NARROW_FILTER = 50_000  # papers; a filter passing fewer is also applied in the search index


@dataclass(frozen=True)
class Interests:
    """What a reader follows: keywords (words or phrases), family ids and author names."""

    keywords: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Interests:
        """The [interests] section of the effective settings (blank entries dropped)."""
        section = settings.values.get("interests", {})

        def clean(key: str) -> tuple[str, ...]:
            values = [str(v).strip() for v in section.get(key, []) or []]
            return tuple(dict.fromkeys(v for v in values if v))

        return cls(keywords=clean("keywords"), families=clean("families"), authors=clean("authors"))

    def is_empty(self) -> bool:
        return not (self.keywords or self.families or self.authors)


@dataclass
class RankedPaper:
    """A paper (a tracker.query.find_papers row), its interest score and a one-line reason."""

    paper: query.Paper
    score: float
    reason: str


def _keyword_ids(
    index: tantivy.Index, column: str, keyword: str, among: list[int] | None
) -> list[int] | None:
    """Papers with `keyword` as a phrase in `column` ("latent space": those words, in order),
    only `among` these papers if given."""
    words = search.tokens(keyword)
    if not words:
        return None
    query = search.phrase_in(column, words)
    return search.matching_ids(index, query if among is None else search.within(query, among))


def _hits_sql(
    index: tantivy.Index,
    interests: Interests,
    clauses: list[str],
    where_params: list[Any],
    among: list[int] | None,
) -> tuple[str, list[Any]]:
    """SQL yielding (paper_id, kind, item, weight), one row per interest a paper matches.

    The filter (`clauses` on papers p) goes into every part, so a selective filter (the last
    week, say) drives the author scan instead of every author of every paper; without a filter
    the parts do not touch the papers table at all.
    """
    parts: list[str] = []
    params: list[Any] = []

    def part(
        select: str, source: str, id_column: str, condition: str, papers_first: bool = False
    ) -> str:
        if not clauses:
            return f"SELECT {id_column}, {select} FROM {source} WHERE {condition}"
        where = " AND ".join(clauses)
        # CROSS JOIN fixes the loop order: the filtered papers outside, their rows inside.
        joined = (
            f"papers p CROSS JOIN {source} ON {id_column} = p.id"
            if papers_first
            else f"{source} JOIN papers p ON p.id = {id_column}"
        )
        return f"SELECT p.id, {select} FROM {joined} WHERE {condition} AND {where}"

    for keyword in interests.keywords:
        for column, weight in (("title", TITLE_WEIGHT), ("abstract", ABSTRACT_WEIGHT)):
            ids = _keyword_ids(index, column, keyword, among)
            if not ids:
                continue
            # The index's matches enter the SQL as a JSON array (SQLite's json_each).
            parts.append(part(f"'{column}', ?, {weight}", "json_each(?) k", "k.value", "1"))
            params += [keyword, json.dumps(ids), *where_params]
    if interests.families:
        marks = ",".join("?" * len(interests.families))
        parts.append(
            part(f"'family', f.family, {FAMILY_WEIGHT} * f.confidence", "paper_families f",
                 "f.paper_id", f"f.family IN ({marks})")
        )  # fmt: skip
        params += [*interests.families, *where_params]
    for author in interests.authors:
        # Two matching authors on one paper give two rows: `best` below keeps one.
        condition, values = query.author_matches("a.name", author)
        parts.append(
            part(f"'author', ?, {AUTHOR_WEIGHT}", "paper_authors a", "a.paper_id",
                 condition, papers_first=True)
        )  # fmt: skip
        params += [author, *values, *where_params]
    return " UNION ALL ".join(parts), params


def rank_by_interests(
    db: sqlite_utils.Database,
    interests: Interests,
    *,
    filter: PaperFilter = PaperFilter(),  # noqa: B008 - the filter of `dlradar papers`
    limit: int = 20,
    venue_bonus: bool = True,
) -> list[RankedPaper]:
    """Papers matching `filter` and at least one interest, best first (`limit` 0 = all)."""
    if interests.is_empty():
        return []
    index = search_index.ensure_indexed(db)
    clauses, filter_params = query._where(filter)
    if filter.search:
        plan = search.plan(index, filter.search)
        if plan is None:
            return []
        clauses.append("p.id IN (SELECT value FROM json_each(?))")
        filter_params.append(json.dumps(search.matching_ids(index, plan.query)))
    # A selective filter (the digest's week, say) is applied inside the index too, so a
    # common keyword brings back the week's matches rather than every match since 2007.
    among = None
    if clauses and interests.keywords:
        candidates = search.filtered_ids(db, clauses, filter_params, limit=NARROW_FILTER + 1)
        among = candidates if len(candidates) <= NARROW_FILTER else None
    hits, params = _hits_sql(index, interests, clauses, filter_params, among)
    if not hits:
        return []
    bonus = (
        f"CASE WHEN lower(COALESCE(p.venue, '')) NOT IN ('arxiv', '') THEN {VENUE_BONUS} ELSE 0 END"
        if venue_bonus
        else "0"
    )
    # A keyword in the title and the abstract counts once, with the title's weight.
    sql = f"""
        WITH hits(paper_id, kind, item, weight) AS ({hits}),
        best AS (
            -- One row per interest (a keyword "moe" and the family moe are two interests);
            -- SQLite takes the bare column `kind` from the row of MAX(weight).
            SELECT paper_id, item, kind, MAX(weight) AS weight FROM hits
            GROUP BY paper_id, item, CASE WHEN kind IN ('title', 'abstract') THEN '' ELSE kind END
        )
        SELECT p.id, SUM(b.weight) + {bonus} AS score,
            json_group_array(json_array(b.kind, b.item, b.weight))
        FROM best b JOIN papers p ON p.id = b.paper_id
        GROUP BY p.id
        ORDER BY score DESC, p.published IS NULL, p.published DESC, p.id DESC
    """
    all_params = list(params)
    if limit:
        sql += " LIMIT ?"
        all_params.append(limit)
    ranked = db.execute(sql, all_params).fetchall()
    papers = {p["id"]: p for p in _papers(db, [r[0] for r in ranked])}
    out: list[RankedPaper] = []
    for paper_id, score, matched in ranked:
        paper = papers[paper_id]
        reason = _reason(json.loads(matched), paper, venue_bonus)
        out.append(RankedPaper(paper=paper, score=round(float(score), 4), reason=reason))
    return out


def _papers(db: sqlite_utils.Database, ids: list[int]) -> list[query.Paper]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = db.execute(f"SELECT *, NULL AS score FROM papers WHERE id IN ({marks})", chunk)
        columns = [d[0] for d in cursor.description]
        rows += [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    return query._with_lists(db, rows)


def _reason(matched: list[list[Any]], paper: query.Paper, venue_bonus: bool) -> str:
    """'matches "mixture of experts" in the title; family moe; author Albert Gu'."""
    by_kind: dict[str, list[str]] = {}
    for kind, item, _ in matched:
        by_kind.setdefault(kind, []).append(str(item))
    parts: list[str] = []
    keyword_parts = [
        f"{', '.join(_quoted(by_kind[kind]))} in the {kind}"
        for kind in ("title", "abstract")
        if kind in by_kind
    ]
    if keyword_parts:
        parts.append("matches " + ", ".join(keyword_parts))
    families = sorted(by_kind.get("family", []))
    if families:
        parts.append(f"famil{'ies' if len(families) > 1 else 'y'} {', '.join(families)}")
    for wanted in by_kind.get("author", []):
        names = [a for a in paper["authors"] if wanted.lower() in a.lower()]
        parts.append(f"author {names[0] if names else wanted}")
    venue = paper.get("venue") or ""
    if venue_bonus and venue.lower() not in PREPRINT_VENUES:
        parts.append(f"at {venue}")
    return "; ".join(parts)


def _quoted(items: list[str]) -> list[str]:
    return [f'"{item}"' for item in sorted(items, key=str.lower)]


def papers_by_interests(
    db: sqlite_utils.Database,
    settings: Settings,
    filter: PaperFilter,
    limit: int,
) -> list[dict[str, Any]]:
    """Rows for `dlradar papers --interests`: find_papers rows plus "interest_score" and
    "reason", best first (`limit` 0 = all). Raises ConfigError when no interest is saved."""
    interests = Interests.from_settings(settings)
    if interests.is_empty():
        raise ConfigError(
            "no saved interests: set [interests] keywords, families or authors in dlradar.toml"
            " (or DLRADAR_INTERESTS_KEYWORDS etc.)"
        )
    ranked = rank_by_interests(db, interests, filter=filter, limit=limit)
    return [{**r.paper, "interest_score": r.score, "reason": r.reason} for r in ranked]
