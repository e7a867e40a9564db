"""Full-text search over titles and abstracts, ranked by bm25 (tantivy, see tracker.search_index).

Every word of a query is required; a run of words joined by punctuation ("pre-training",
"GPT-4o") or put in double quotes ('"state space model"') must appear as a phrase: those words,
in that order, where a hyphen counts as a space and each word may be singular or plural
("state-space models" matches). A title match weighs three times an abstract match.
Words found in most papers ("the", "model" in an ML corpus) select nothing and score almost
nothing under bm25, so they are dropped from a query that has other words.

Filters (family, venue, dates...) live in SQLite, so a filtered search takes the best-scoring
matches from the index and keeps those that pass the filters, widening the window until the
page is full. Since every match outside the window scores lower than every one inside it, the
result is exactly the filtered bm25 ranking; when the window grows past `WIDEST`, the search
runs again restricted to the filtered papers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils
import tantivy

from tracker import search_index
from tracker.search_index import SCHEMA

# A word in more than this share of the papers is dropped from a query that has other words.
STOPWORD_SHARE = 0.5
TITLE_BOOST = 3.0
FIRST_WINDOW = 200
WIDEST = 50_000
_PART = re.compile(r"[\w][\w'.+-]*", re.UNICODE)
_QUOTED = re.compile(r'"([^"]*)"?')  # an unclosed quote runs to the end
# Words a phrase keeps as they are (no plural form tried): they carry no number.
_FIXED = frozenset(
    "a an and as at by for from in into is of on or the to via vs with without".split()
)
MAX_VARIANTS = 16  # plural forms tried per phrase: 2 per word up to 4 words, else the last only


@dataclass(frozen=True)
class SearchPlan:
    query: tantivy.Query
    phrases: tuple[tuple[str, ...], ...]  # the phrases searched for, after dropping
    rarest_df: int  # how many papers the query's rarest word appears in


def tokens(text: str) -> list[str]:
    """The words of `text` as the index sees them (lower case, no accents)."""
    return search_index.tokens(text)


def phrases(text: str) -> list[tuple[str, ...]]:
    """The user's words as phrases ("pre-training" -> ("pre", "training"); '"state space
    model"' -> ("state", "space", "model"))."""
    found: list[tuple[str, ...]] = []
    rest: list[str] = []
    last = 0
    for quoted in _QUOTED.finditer(text):
        rest.append(text[last : quoted.start()])
        found.append(tuple(tokens(quoted.group(1))))
        last = quoted.end()
    rest.append(text[last:])
    found += [tuple(tokens(part)) for part in _PART.findall(" ".join(rest))]
    return list(dict.fromkeys(p for p in found if p))


def quoted(text: str) -> str:
    """`text` as one phrase query (a saved interest keyword is a phrase, not loose words)."""
    return '"' + text.replace('"', " ") + '"'


def _number_forms(word: str) -> tuple[str, ...]:
    if word in _FIXED or not word.isalpha() or len(word) < 3:
        return (word,)
    if word.endswith("ies") and len(word) > 4:
        return (word, word[:-3] + "y")
    if word.endswith("s") and not word.endswith("ss"):
        return (word, word[:-1])
    if word.endswith("y") and word[-2:-1] not in set("aeiou"):
        return (word, word[:-1] + "ies")
    return (word, word + "s")


def phrase_variants(phrase: Sequence[str]) -> list[tuple[str, ...]]:
    """The phrase with each word singular or plural ("mixture of expert" also finds "mixtures
    of experts"); for long phrases only the last word varies."""
    if len(phrase) == 1:
        return [tuple(phrase)]
    forms = [_number_forms(w) for w in phrase]
    if len(phrase) > 4:
        forms = [(w,) for w in phrase[:-1]] + [forms[-1]]
    variants: list[tuple[str, ...]] = [()]
    for options in forms:
        variants = [(*v, w) for v in variants for w in options]
    return variants[:MAX_VARIANTS]


def phrase_in(field: str, phrase: Sequence[str]) -> tantivy.Query:
    """These words, in this order, in one field (title or abstract), in any number."""
    if len(phrase) == 1:
        return tantivy.Query.term_query(SCHEMA, field, phrase[0])
    variants = [tantivy.Query.phrase_query(SCHEMA, field, list(v)) for v in phrase_variants(phrase)]
    if len(variants) == 1:
        return variants[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, v) for v in variants])


def _all_of(queries: Sequence[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def text_query(found: Sequence[tuple[str, ...]]) -> tantivy.Query:
    """Every phrase in the title or the abstract, title matches boosted."""
    return _all_of(
        [
            tantivy.Query.boolean_query(
                [
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.boost_query(phrase_in("title", p), TITLE_BOOST),
                    ),
                    (tantivy.Occur.Should, phrase_in("abstract", p)),
                ]
            )
            for p in found
        ]
    )


def field_query(field: str, text: str) -> tantivy.Query | None:
    """Every phrase of `text` in one field (title or abstract); None when `text` has no word."""
    found = phrases(text)
    return _all_of([phrase_in(field, p) for p in found]) if found else None


def plan(index: tantivy.Index, text: str) -> SearchPlan | None:
    """The query to run for `text`; None when it has no searchable word."""
    found = phrases(text)
    if not found:
        return None
    searcher = index.searcher()
    words = sorted({w for p in found for w in p})
    frequency = {
        w: max(searcher.doc_freq("title", w), searcher.doc_freq("abstract", w)) for w in words
    }
    papers = max(searcher.num_docs - 1, 0)  # less the watermark document
    common = {w for w, df in frequency.items() if df > STOPWORD_SHARE * papers}
    if common == set(frequency):  # only common words: keep the rarest of them
        common.discard(min(frequency, key=lambda w: (frequency[w], w)))
    kept = tuple(p for p in found if not (len(p) == 1 and p[0] in common)) or found[:1]
    return SearchPlan(
        query=text_query(kept), phrases=tuple(kept), rarest_df=min(frequency.values())
    )


def top(
    index: tantivy.Index, query: tantivy.Query, limit: int
) -> tuple[list[tuple[int, float]], int]:
    """The best `limit` matches as (paper id, score), best first, and how many match in all.

    Equal scores rank by paper id. tantivy returns ties in an order that depends on its
    segments and on the limit, so without this a second page could repeat or skip papers
    of the first; the search therefore reaches past the cut until the tie there ends.
    """
    searcher = index.searcher()
    fetch = limit + min(limit, 1000) + 1  # a tie at the cut usually ends within: one search
    while True:
        result = searcher.search(query, fetch, count=True)
        hits = result.hits
        if len(hits) < fetch or not limit or hits[-1][0] < hits[limit - 1][0]:
            break
        fetch *= 4
    total = int(result.count or 0)  # type: ignore[attr-defined]  # missing from the stub
    ids = searcher.fast_field_values("paper_id", [address for _, address in hits])
    found = [(int(i or 0), float(score)) for (score, _), i in zip(hits, ids, strict=True)]
    found.sort(key=lambda hit: (-hit[1], hit[0]))
    return found[:limit], total


def count(index: tantivy.Index, query: tantivy.Query) -> int:
    return top(index, query, 0)[1]


def matching_ids(index: tantivy.Index, query: tantivy.Query) -> list[int]:
    """Every paper matching `query` (for counting or joining with SQL filters)."""
    total = count(index, query)
    return [paper_id for paper_id, _ in top(index, query, total)[0]] if total else []


def within(query: tantivy.Query, paper_ids: Sequence[int]) -> tantivy.Query:
    """`query` restricted to these papers."""
    ids = tantivy.Query.term_set_query(SCHEMA, "paper_id", list(paper_ids))
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, ids)])


def passing(
    db: sqlite_utils.Database, paper_ids: Sequence[int], clauses: list[str], params: list[Any]
) -> set[int]:
    """Which of these papers pass the SQL filter `clauses` (on `p`, the papers table)."""
    if not paper_ids:
        return set()
    sql = "SELECT p.id FROM papers p WHERE p.id IN (SELECT value FROM json_each(?))" + "".join(
        f" AND {c}" for c in clauses
    )
    return {row[0] for row in db.execute(sql, [json.dumps(list(paper_ids)), *params])}


def filtered_ids(
    db: sqlite_utils.Database, clauses: list[str], params: list[Any], *, limit: int | None = None
) -> list[int]:
    """Papers passing the SQL filter `clauses` (at most `limit` of them)."""
    sql = "SELECT p.id FROM papers p WHERE " + " AND ".join(clauses)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [row[0] for row in db.execute(sql, params)]


def ranked(
    db: sqlite_utils.Database,
    index: tantivy.Index,
    search: SearchPlan,
    clauses: list[str],
    params: list[Any],
    want: int,
    *,
    scan_clauses: list[str] | None = None,
) -> list[tuple[int, float]]:
    """The best `want` (0 = all) matches passing the filters, as (paper id, score), best first.

    `clauses` test one candidate at a time; `scan_clauses` (same parameters) are the form
    that is cheaper for listing every paper that passes, if different.
    """
    if not clauses:
        return top(index, search.query, want or count(index, search.query))[0]
    window = max(FIRST_WINDOW, 4 * want) if want else count(index, search.query)
    while window <= WIDEST:
        hits, total = top(index, search.query, window)
        ok = passing(db, [i for i, _ in hits], clauses, params)
        kept = [hit for hit in hits if hit[0] in ok]
        if (want and len(kept) >= want) or len(hits) >= total:
            return kept[:want] if want else kept
        window *= 8
    # A broad query under a narrow filter: rank among the filtered papers only.
    ids = filtered_ids(db, scan_clauses or clauses, params)
    if not ids:
        return []
    query = within(search.query, ids)
    return top(index, query, want or count(index, query))[0]
