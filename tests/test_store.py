"""Deduplication, merge precedence, search-index consistency and migrations of the paper store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from core.db import applied_versions, apply_migrations, transaction
from dlradar.database import SCHEMAS
from tracker import query, search_index
from tracker.query import PaperFilter, count_papers, find_papers, get_paper, search_note
from tracker.record import PaperRecord
from tracker.store import PaperStore, StoreCounts


def _add(db: sqlite_utils.Database, *records: PaperRecord) -> tuple[int, int, int]:
    with transaction(db):
        counts = PaperStore(db).add(list(records))
    return counts.seen, counts.new, counts.updated


def preprint(**overrides: object) -> PaperRecord:
    fields: dict[str, object] = {
        "source": "arxiv-api",
        "source_id": "1706.03762",
        "title": "Attention Is All You Need",
        "abstract": "The dominant sequence transduction models are based on recurrent networks.",
        "authors": ["Ashish Vaswani", "Noam Shazeer"],
        "arxiv_id": "1706.03762",
        "arxiv_version": 5,
        "venue": "arXiv",
        "year": 2017,
        "published": "2017-06-12",
        "categories": ["cs.CL", "cs.LG"],
    }
    fields.update(overrides)
    return PaperRecord(**fields)  # type: ignore[arg-type]


def proceedings(**overrides: object) -> PaperRecord:
    fields: dict[str, object] = {
        "source": "neurips",
        "source_id": "3f5ee243547dee91fbd053c1c4a845aa",
        "title": "Attention is All you Need",
        "abstract": "",
        "authors": ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"],
        "venue": "NeurIPS",
        "year": 2017,
        "published": "2017-12-04",
        "url": "https://proceedings.neurips.cc/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html",
    }
    fields.update(overrides)
    return PaperRecord(**fields)  # type: ignore[arg-type]


def test_rerun_never_duplicates(db: sqlite_utils.Database) -> None:
    assert _add(db, preprint()) == (1, 1, 0)
    assert _add(db, preprint()) == (1, 0, 0)
    assert _add(db, preprint(), preprint()) == (2, 0, 0)
    assert db["papers"].count == 1
    assert db["paper_sources"].count == 1


def test_proceedings_venue_wins_over_preprint_and_keeps_arxiv_fields(
    db: sqlite_utils.Database,
) -> None:
    _add(db, preprint())
    assert _add(db, proceedings()) == (1, 0, 1)  # matched by title + first author
    paper = get_paper(db, "1706.03762")
    assert paper["venue"] == "NeurIPS"
    assert paper["title"] == "Attention is All you Need"
    assert paper["authors"] == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    # The proceedings record had no abstract: the preprint's stays.
    assert paper["abstract"].startswith("The dominant sequence")
    assert paper["published"] == "2017-06-12"  # the earliest appearance
    assert paper["categories"] == ["cs.CL", "cs.LG"]
    assert sorted(paper["sources"]) == ["arxiv-api", "neurips"]
    # A later preprint record does not take the venue back.
    _add(db, preprint(arxiv_version=7))
    paper = get_paper(db, "1706.03762")
    assert paper["venue"] == "NeurIPS"
    assert paper["arxiv_version"] == 7


def test_matching_by_doi_and_openreview_id(db: sqlite_utils.Database) -> None:
    _add(db, preprint(doi="10.5555/3295222.3295349"))
    _add(db, proceedings(title="A different title entirely here", doi="10.5555/3295222.3295349"))
    _add(
        db,
        proceedings(
            source="openreview", source_id="abc", openreview_id="abcXYZ", title="X Y", authors=[]
        ),
    )
    _add(
        db,
        proceedings(source="pmlr", source_id="p1", openreview_id="abcXYZ", title="Z", authors=[]),
    )
    assert db["papers"].count == 2


def test_same_title_different_first_author_stays_apart(db: sqlite_utils.Database) -> None:
    _add(db, preprint())
    _add(db, preprint(source_id="9999.99999", arxiv_id="9999.99999", authors=["Someone Else"]))
    assert db["papers"].count == 2


def test_identifier_owned_by_another_paper_is_not_stolen(db: sqlite_utils.Database) -> None:
    _add(db, preprint())
    _add(
        db,
        preprint(source_id="2001.00001", arxiv_id="2001.00001", title="Other paper", doi="10.1/x"),
    )
    # This record matches the first paper by arXiv id but carries the second paper's DOI.
    _add(db, preprint(doi="10.1/x"))
    assert get_paper(db, "1706.03762")["doi"] is None
    assert get_paper(db, "2001.00001")["doi"] == "10.1/x"


def test_fts_follows_updates(db: sqlite_utils.Database) -> None:
    _add(db, preprint(abstract="About recurrent networks."))
    assert count_papers(db, PaperFilter(search="recurrent")) == 1
    _add(db, proceedings(abstract="About self-attention only."))
    assert count_papers(db, PaperFilter(search="recurrent")) == 0
    assert count_papers(db, PaperFilter(search="self-attention")) == 1
    # Re-indexing replaced the paper's document rather than adding a second one.
    assert count_papers(db, PaperFilter(search="attention")) == 1
    assert search_index.backlog(db) == 0


def test_filters(db: sqlite_utils.Database) -> None:
    _add(db, preprint())
    bert = "BERT: Pre-training of Deep Bidirectional Transformers"
    _add(db, preprint(source_id="1810.04805", arxiv_id="1810.04805", title=bert,
                      authors=["Jacob Devlin"], published="2018-10-11", year=2018,
                      categories=["cs.CL"]))  # fmt: skip
    titles = lambda f: [p["title"] for p in find_papers(db, f)]  # noqa: E731
    assert titles(PaperFilter(year_from=2018)) == [
        "BERT: Pre-training of Deep Bidirectional Transformers"
    ]
    assert titles(PaperFilter(categories=("cs.LG",))) == ["Attention Is All You Need"]
    assert titles(PaperFilter(author="devlin")) == [
        "BERT: Pre-training of Deep Bidirectional Transformers"
    ]
    assert titles(PaperFilter(since="2017-01-01", until="2017-12-31")) == [
        "Attention Is All You Need"
    ]
    assert len(titles(PaperFilter(venues=("arxiv",)))) == 2
    assert titles(PaperFilter(search='Bidirectional "pre-training": -')) == [
        "BERT: Pre-training of Deep Bidirectional Transformers"
    ]


def test_category_filter_takes_any_case_through_the_index(db: sqlite_utils.Database) -> None:
    # --venue was case-insensitive but --category cs.lg found nothing.
    _add(db, preprint())
    _add(db, preprint(source_id="2001.00001", arxiv_id="2001.00001", title="Another",
                      categories=["stat.ML"]))  # fmt: skip
    for typed, title in (("cs.lg", "Attention Is All You Need"), ("STAT.ml", "Another")):
        assert [p["title"] for p in find_papers(db, PaperFilter(categories=(typed,)))] == [title]
        assert count_papers(db, PaperFilter(categories=(typed,), search="attention")) == (
            title == "Attention Is All You Need"
        )
    # Canonical spelling, not COLLATE NOCASE: the lookup stays an indexed equality.
    clauses, params = query._where(PaperFilter(categories=("CS.lg", "cs.LG")))
    assert params == ["cs.LG"]
    plan = db.execute("EXPLAIN QUERY PLAN SELECT p.id FROM papers p WHERE " + clauses[0], params)
    assert any("USING COVERING INDEX paper_categories_category" in row[-1] for row in plan)


def test_author_filter_takes_percent_and_underscore_literally(db: sqlite_utils.Database) -> None:
    # They were LIKE wildcards: "the_dude" also found "the dude", "100%" "Team 100 Real".
    names = ["the_dude", "the dude", "Team 100% Real", "Team 100 Real"]
    for n, name in enumerate(names):
        _add(db, preprint(source_id=f"2001.0000{n}", arxiv_id=f"2001.0000{n}",
                          title=f"Paper {n}", authors=[name]))  # fmt: skip
    for typed, found in (
        ("The_Dude", "the_dude"),
        ("100%", "Team 100% Real"),
        ("%", "Team 100% Real"),
        ("dude", None),
    ):
        hits = [p["authors"][0] for p in find_papers(db, PaperFilter(author=typed))]
        assert hits == ([found] if found else ["the dude", "the_dude"]), typed
        per_row = count_papers(db, PaperFilter(author=typed, search="paper"))
        assert per_row == len(hits), typed


def test_author_filter_ignores_accents_both_ways(db: sqlite_utils.Database) -> None:
    # "Wubben" missed "Wübben": LIKE folds ASCII case only.
    names = ["Dirk Wübben", "Anna Wubben", "Søren Kierkegaard", "Łukasz Kaiser", "Bob Smith"]
    for n, name in enumerate(names):
        _add(db, preprint(source_id=f"2002.0000{n}", arxiv_id=f"2002.0000{n}",
                          title=f"Paper {n}", authors=[name]))  # fmt: skip
    for typed, found in (
        ("wubben", {"Dirk Wübben", "Anna Wubben"}),
        ("Wübben", {"Dirk Wübben", "Anna Wubben"}),
        ("soren", {"Søren Kierkegaard"}),
        ("lukasz", {"Łukasz Kaiser"}),
        ("smith", {"Bob Smith"}),
        ("wüb%", set()),  # the % is still a literal character
    ):
        hits = {p["authors"][0] for p in find_papers(db, PaperFilter(author=typed))}
        assert hits == found, typed
        assert count_papers(db, PaperFilter(author=typed, search="paper")) == len(found), typed


def test_migrations_are_idempotent(db: sqlite_utils.Database) -> None:
    versions = applied_versions(db)
    assert versions["tracker"] >= 1
    assert apply_migrations(db, SCHEMAS) == []
    assert applied_versions(db) == versions
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _fifty(db: sqlite_utils.Database) -> None:
    records = [
        preprint(
            source_id=f"2501.{i:05d}",
            arxiv_id=f"2501.{i:05d}",
            title=f"Paper {i}" + (" about zebra models" if i == 40 else " on a model"),
            authors=[f"Author {i}"],
            abstract="A model." + (" Rare zebra words." if i == 3 else ""),
            year=2000 + i % 5,
        )
        for i in range(50)
    ]
    _add(db, *records)


def test_search_ranks_every_match_by_bm25(db: sqlite_utils.Database) -> None:
    _fifty(db)
    # "model" is in all 50 papers: every one is a match and ranked.
    common = find_papers(db, PaperFilter(search="model"), limit=0)
    assert len(common) == 50
    scores = [p["score"] for p in common]
    assert scores == sorted(scores, reverse=True)
    # Title words weigh more than abstract words.
    ranked = find_papers(db, PaperFilter(search="zebra model"), limit=50)
    assert [p["arxiv_id"] for p in ranked] == ["2501.00040", "2501.00003"]
    assert count_papers(db, PaperFilter(search="model")) == 50
    assert find_papers(db, PaperFilter(search="?!"), limit=5) == []
    # Paging walks the same ranking.
    first = find_papers(db, PaperFilter(search="model"), limit=10)
    second = find_papers(db, PaperFilter(search="model"), limit=10, offset=10)
    assert [p["id"] for p in first + second] == [p["id"] for p in common[:20]]


@pytest.mark.parametrize(("first_window", "widest"), [(200, 50_000), (2, 4), (2, 1)])
def test_filtered_search_is_the_filtered_ranking(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, first_window: int, widest: int
) -> None:
    """However the window over the index's best matches grows (or gives way to ranking among
    the filtered papers), a filtered search returns exactly the filtered bm25 ranking."""
    from tracker import search

    _fifty(db)
    unfiltered = find_papers(db, PaperFilter(search="model"), limit=0)
    expected = [p["id"] for p in unfiltered if p["year"] == 2003]
    monkeypatch.setattr(search, "FIRST_WINDOW", first_window)
    monkeypatch.setattr(search, "WIDEST", widest)
    got = find_papers(db, PaperFilter(search="model", year_from=2003, year_to=2003), limit=4)
    assert [p["id"] for p in got] == expected[:4]
    everything = find_papers(db, PaperFilter(search="model", year_from=2003, year_to=2003), limit=0)
    assert [p["id"] for p in everything] == expected
    assert count_papers(db, PaperFilter(search="model", year_from=2003, year_to=2003)) == 10


def test_search_note_names_the_words_it_ignored(db: sqlite_utils.Database) -> None:
    _fifty(db)
    assert search_note(db, "zebra model") == (
        "ignored 'model': in over 50% of the papers, so they neither select nor rank"
    )
    assert search_note(db, "zebra") is None
    assert search_note(db, "model") is None  # alone, a common word still searches


def test_new_rows_are_built_in_column_order(db: sqlite_utils.Database) -> None:
    # _write inserts row.values() positionally: the dict must follow PAPER_COLUMNS exactly.
    from tracker.store import PAPER_COLUMNS

    item = PaperStore(db)._new(1, preprint(), "k|x", "2025-01-01T00:00:00+00:00", {})
    assert list(item.row) == list(PAPER_COLUMNS)


def test_words_in_most_papers_do_not_narrow_a_search(db: sqlite_utils.Database) -> None:
    records = [
        preprint(
            source_id=f"2502.{i:05d}",
            arxiv_id=f"2502.{i:05d}",
            title=f"Study number {i}",
            authors=[f"Writer {i}"],
            abstract="A quokka appears." if i == 7 else "The network learns.",
        )
        for i in range(10)
    ]
    _add(db, *records)
    # "network" is in 9 of 10 papers: it is dropped, so the one quokka paper is found anyway.
    found = find_papers(db, PaperFilter(search="network quokka"))
    assert [p["arxiv_id"] for p in found] == ["2502.00007"]
    # Alone, a common word still searches.
    assert len(find_papers(db, PaperFilter(search="network"))) == 9


def test_a_deleted_index_is_rebuilt_from_the_database(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    import shutil

    from click.testing import CliRunner

    from dlradar.cli import cli

    _fifty(db)
    assert count_papers(db, PaperFilter(search="zebra")) == 2
    directory = search_index.index_dir(db)
    assert directory is not None and directory.is_dir()
    # Deleted behind our back (the queue was already pruned): the new index takes every
    # stored paper in again, rather than answering from nothing.
    search_index.forget(db)
    shutil.rmtree(directory)
    assert count_papers(db, PaperFilter(search="zebra")) == 2
    assert count_papers(db, PaperFilter(search="model")) == 50
    path = db.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(cli, ["reindex", "--db", path])
    assert result.exit_code == 0, result.output
    assert "50 papers indexed" in result.output
    search_index.forget(db)
    assert count_papers(db, PaperFilter(search="model")) == 50
    assert search_index.backlog(db) == 0


@pytest.mark.parametrize("one_batch", [False, True])
def test_same_arxiv_id_from_two_sources_is_one_paper_even_with_a_revised_title(
    db: sqlite_utils.Database, one_batch: bool
) -> None:
    # The title key differs (a revised title) and the first author too: only the arXiv id ties
    # the two records together, so this fails if `_match` stops matching on it.
    api = preprint(title="Attention Is All You Need", authors=["Ashish Vaswani"])
    feed = preprint(
        source="arxiv-feed",
        source_id="oai:arXiv.org:1706.03762v6",
        title="Transformers: Attention Alone Suffices for Sequence Transduction",
        authors=["Noam Shazeer", "Ashish Vaswani"],
        arxiv_version=6,
    )
    if one_batch:
        assert _add(db, api, feed) == (2, 1, 0)
    else:
        assert _add(db, api) == (1, 1, 0)
        assert _add(db, feed) == (1, 0, 1)
    assert db["papers"].count == 1
    rows = sorted(db.execute("SELECT source, source_id, paper_id FROM paper_sources").fetchall())
    (paper_id,) = db.execute("SELECT id FROM papers").fetchone()
    assert rows == [
        ("arxiv-api", "1706.03762", paper_id),
        ("arxiv-feed", "oai:arXiv.org:1706.03762v6", paper_id),
    ]
    paper = get_paper(db, "1706.03762")
    assert sorted(paper["sources"]) == ["arxiv-api", "arxiv-feed"]


# --- contracts the mutation run (tests/mutation, group dedup) showed unguarded -----------------


def _bare(source: str, source_id: str, title: str, author: str = "Ada Lovelace") -> PaperRecord:
    """A record with no identifier: only its source id or its title key can match it."""
    return PaperRecord(source=source, source_id=source_id, title=title, authors=[author])


def test_a_source_record_seen_again_with_a_corrected_title_is_the_same_paper(
    db: sqlite_utils.Database,
) -> None:
    assert _add(db, _bare("neurips", "abc123", "Deep Residual Lerning for Images")) == (1, 1, 0)
    corrected = _bare("neurips", "abc123", "Deep Residual Learning for Image Recognition", "K. He")
    assert _add(db, corrected) == (1, 0, 1)
    assert db["papers"].count == 1
    (title,) = db.execute("SELECT title FROM papers").fetchone()
    assert title == "Deep Residual Learning for Image Recognition"
    # Within one batch too: the second record of a source id joins the first.
    both = [_bare("pmlr", "v1", "A first title of some length"), _bare("pmlr", "v1", "Renamed")]
    assert _add(db, *both) == (2, 1, 0)
    assert db["papers"].count == 2


def test_a_bare_title_match_needs_twelve_characters_before_the_author(
    db: sqlite_utils.Database,
) -> None:
    # "abcdefghijkl|lovelace": 12 characters, specific enough; 11 are not.
    _add(db, _bare("neurips", "a", "Abcdefghijkl"), _bare("neurips", "b", "Abcdefghijk"))
    assert _add(db, _bare("pmlr", "c", "abcdefghijkl"), _bare("pmlr", "d", "abcdefghijk")) == (
        2,
        1,
        1,
    )
    rows = db.execute(
        "SELECT p.title_key, COUNT(*) FROM paper_sources s JOIN papers p ON p.id = s.paper_id"
        " GROUP BY p.id ORDER BY p.id"
    ).fetchall()
    assert rows == [
        ("abcdefghijkl|lovelace", 2),
        ("abcdefghijk|lovelace", 1),
        ("abcdefghijk|lovelace", 1),
    ]


def test_empty_identifiers_are_stored_as_none_and_never_match(db: sqlite_utils.Database) -> None:
    one = PaperRecord(source="jsonl", source_id="1", title="A first paper about things", doi="")
    two = PaperRecord(
        source="jsonl", source_id="2", title="A second paper, quite other", doi="", arxiv_id=""
    )
    assert _add(db, one, two) == (2, 2, 0)
    ids = db.execute("SELECT arxiv_id, doi, openreview_id FROM papers").fetchall()
    assert ids == [(None, None, None), (None, None, None)]


def test_counts_add_up() -> None:
    counts = StoreCounts(seen=1, new=2, updated=3)
    counts += StoreCounts(seen=10, new=20, updated=30)
    assert (counts.seen, counts.new, counts.updated) == (11, 22, 33)


def test_categories_are_kept_once_in_order_and_blank_ones_dropped(
    db: sqlite_utils.Database,
) -> None:
    _add(db, preprint(categories=["cs.LG", "", "cs.LG", "cs.CV"]))
    assert get_paper(db, "1706.03762")["categories"] == ["cs.LG", "cs.CV"]
    _add(db, preprint(source="arxiv-feed", source_id="x", categories=["stat.ML", "cs.CV", ""]))
    assert get_paper(db, "1706.03762")["categories"] == ["cs.LG", "cs.CV", "stat.ML"]


def test_more_records_than_one_lookup_query_holds(db: sqlite_utils.Database) -> None:
    # Lookups go in chunks of bound parameters: every chunk must be asked.
    records = [
        PaperRecord(
            source="jsonl",
            source_id=f"s{i}",
            title=f"Paper number {i} on a topic",
            authors=[f"Author {i}"],
            arxiv_id=f"2401.{i:05d}",
        )
        for i in range(1000)
    ]
    assert _add(db, *records) == (1000, 1000, 0)
    assert _add(db, *records) == (1000, 0, 0)
    # Found by arXiv id alone (other source ids), beyond the first chunk too.
    again = [
        PaperRecord(source="arxiv-api", source_id=r.arxiv_id or "", title=r.title + " v2",
                    authors=["Someone Else"], arxiv_id=r.arxiv_id)
        for r in records
    ]  # fmt: skip
    assert _add(db, *again) == (1000, 0, 1000)
    assert db["papers"].count == 1000


def test_a_new_arxiv_paper_gets_its_urls_and_an_empty_abstract(db: sqlite_utils.Database) -> None:
    _add(db, PaperRecord(source="jsonl", source_id="u", title="No links given here at all",
                         arxiv_id="2401.00001"))  # fmt: skip
    row = db.execute("SELECT url, pdf_url, abstract FROM papers").fetchone()
    assert tuple(row) == (
        "https://arxiv.org/abs/2401.00001",
        "https://arxiv.org/pdf/2401.00001",
        "",
    )
    # A given pdf link is kept; a given page link means no arXiv default for either.
    _add(db, PaperRecord(source="jsonl", source_id="v", title="Only a pdf link was given",
                         arxiv_id="2401.00002", pdf_url="https://example.org/p.pdf"))  # fmt: skip
    _add(db, PaperRecord(source="jsonl", source_id="w", title="Only a page link was given",
                         arxiv_id="2401.00003", url="https://example.org/page"))  # fmt: skip
    _add(db, PaperRecord(source="jsonl", source_id="x", title="Neither arXiv nor any link"))
    rows = db.execute("SELECT url, pdf_url FROM papers ORDER BY id").fetchall()[1:]
    assert [tuple(r) for r in rows] == [
        ("https://arxiv.org/abs/2401.00002", "https://example.org/p.pdf"),
        ("https://example.org/page", None),
        (None, None),
    ]


def test_ids_are_consecutive(db: sqlite_utils.Database) -> None:
    _add(db, _bare("jsonl", "1", "The first of three papers"))
    _add(db, _bare("jsonl", "2", "The second of three papers"),
         _bare("jsonl", "3", "The third of three papers"))  # fmt: skip
    assert [r[0] for r in db.execute("SELECT id FROM papers ORDER BY id")] == [1, 2, 3]


def test_curated_families_replace_the_taggers_with_catalogue_evidence(
    db: sqlite_utils.Database,
) -> None:
    _add(db, preprint())
    (paper_id,) = db.execute("SELECT id FROM papers").fetchone()
    with transaction(db):
        db.execute(
            "INSERT INTO paper_families VALUES (?, 'rnn', 0.7, '[\"recurrent\"]', 'rules-2')",
            [paper_id],
        )
        PaperStore(db).set_curated_families(paper_id, ["transformer"])
    rows = db.execute("SELECT family, confidence, evidence, tagger FROM paper_families").fetchall()
    assert [tuple(r) for r in rows] == [("transformer", 1.0, '["landmark catalogue"]', "curated")]


def _row(db: sqlite_utils.Database, paper_id: int = 1) -> dict[str, object]:
    cursor = db.execute("SELECT * FROM papers WHERE id = ?", [paper_id])
    columns = [d[0] for d in cursor.description]
    return dict(zip(columns, cursor.fetchone(), strict=True))


def test_merge_precedence_field_by_field(db: sqlite_utils.Database) -> None:
    # The proceedings first: no identifier, no abstract, no categories.
    _add(db, proceedings(url=None, comment=None))
    # The preprint (ranked lower) fills what is missing and claims its arXiv id; its title,
    # venue and authors do not replace the proceedings'.
    assert _add(db, preprint(comment="15 pages", arxiv_version=2, published="2017-06-12")) == (
        1,
        0,
        1,
    )
    row = _row(db)
    assert row["arxiv_id"] == "1706.03762" and row["arxiv_version"] == 2
    assert (row["title"], row["venue"], row["year"]) == (
        "Attention is All you Need",
        "NeurIPS",
        2017,
    )
    assert row["abstract"].startswith("The dominant sequence")
    assert (row["comment"], row["primary_category"]) == ("15 pages", "cs.CL")
    assert (row["url"], row["pdf_url"]) == (
        "https://arxiv.org/abs/1706.03762",
        "https://arxiv.org/pdf/1706.03762",
    )  # the arXiv pages once an arXiv id is known and no page was
    assert row["published"] == "2017-06-12"  # earlier than the proceedings' date
    assert row["rank"] == 40 and row["curated"] == 0
    paper = get_paper(db, 1)
    assert paper["authors"] == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert paper["categories"] == ["cs.CL", "cs.LG"]
    # An older version, a later date and another primary category change nothing of those.
    _add(db, preprint(source="arxiv-oai", source_id="o", arxiv_version=1,
                      published="2017-07-01", categories=["stat.ML"]))  # fmt: skip
    row = _row(db)
    assert (row["arxiv_version"], row["published"], row["primary_category"]) == (
        2,
        "2017-06-12",
        "cs.CL",
    )
    assert get_paper(db, 1)["categories"] == ["cs.CL", "cs.LG", "stat.ML"]
    # The same rank wins ties: a second proceedings record renames, and the curated catalogue
    # (ranked higher) replaces the comment but never the primary category.
    _add(db, proceedings(source="pmlr", source_id="p", title="Attention Is All You Need!",
                         authors=["A. Vaswani"]))  # fmt: skip
    assert _row(db)["title"] == "Attention Is All You Need!"
    assert get_paper(db, 1)["authors"] == ["A. Vaswani"]
    _add(db, preprint(source="catalogue", source_id="c", curated=True, comment="landmark",
                      categories=["cs.LG"], stage="transformers", arxiv_version=3))  # fmt: skip
    row = _row(db)
    assert (row["curated"], row["comment"], row["primary_category"]) == (1, "landmark", "cs.CL")
    assert (row["stage"], row["arxiv_version"], row["rank"]) == ("transformers", 3, 50)
    # A record that brings nothing new only touches last_seen.
    before = _row(db)
    assert _add(db, preprint(source="arxiv-oai", source_id="o", arxiv_version=1,
                             published="2017-07-01", categories=["stat.ML"])) == (1, 0, 0)  # fmt: skip
    after = _row(db)
    assert {k: v for k, v in after.items() if k != "last_seen"} == {
        k: v for k, v in before.items() if k != "last_seen"
    }


def test_a_changed_title_queues_the_paper_for_the_index_again(db: sqlite_utils.Database) -> None:
    _add(db, preprint(title="Attention Is All You Need"))
    _add(db, proceedings(title="Attention Suffices Entirely", authors=["Ashish Vaswani"],
                         source_id="n2", url=None, arxiv_id="1706.03762"))  # fmt: skip
    assert db["papers"].count == 1
    # The title changed: the paper is queued for the index again (once per change).
    queued = [r[0] for r in db.execute("SELECT paper_id FROM search_queue ORDER BY seq")]
    assert queued == [1, 1]
    _add(db, preprint(source="arxiv-oai", source_id="o2"))  # lower rank: no text change
    assert [r[0] for r in db.execute("SELECT paper_id FROM search_queue")] == [1, 1]


def test_a_title_seen_earlier_in_the_same_batch_is_matched(db: sqlite_utils.Database) -> None:
    batch = [
        _bare("neurips", "n1", "Specific Enough Title for Matching"),
        _bare("pmlr", "p1", "Specific enough title for matching"),
    ]
    assert _add(db, *batch) == (2, 1, 0)
    assert db["papers"].count == 1 and db["paper_sources"].count == 2


def test_an_update_without_new_text_is_not_queued_for_the_index(
    db: sqlite_utils.Database,
) -> None:
    _add(db, preprint())
    assert _add(db, preprint(source="arxiv-oai", source_id="o", categories=["q-bio.NC"])) == (
        1,
        0,
        1,
    )
    assert [r[0] for r in db.execute("SELECT paper_id FROM search_queue")] == [1]


def test_the_title_key_follows_the_winning_record_and_its_authors(
    db: sqlite_utils.Database,
) -> None:
    _add(db, preprint())  # key: "...|vaswani"
    # A lower-ranked record with other authors leaves the key alone.
    _add(db, preprint(source="arxiv-feed", source_id="f", authors=["Someone Else"]))
    assert _row(db)["title_key"] == "attention is all you need|vaswani"
    # A winning record without authors keeps the stored authors in the key.
    _add(db, proceedings(authors=[], arxiv_id="1706.03762"))
    assert _row(db)["title_key"] == "attention is all you need|vaswani"
    # A winning record with authors brings its first author's surname.
    _add(db, proceedings(source="pmlr", source_id="p", authors=["Noam Shazeer"],
                         arxiv_id="1706.03762"))  # fmt: skip
    assert _row(db)["title_key"] == "attention is all you need|shazeer"


def test_empty_texts_never_replace_and_are_filled(db: sqlite_utils.Database) -> None:
    _add(db, preprint(venue=""))
    assert _row(db)["venue"] == ""
    _add(db, preprint(source="arxiv-feed", source_id="f", venue="arXiv"))  # lower rank fills ""
    assert _row(db)["venue"] == "arXiv"
    _add(db, proceedings(venue="", arxiv_id="1706.03762"))  # a winner's "" changes nothing
    assert _row(db)["venue"] == "arXiv"


def test_a_first_version_number_is_recorded(db: sqlite_utils.Database) -> None:
    _add(db, preprint(arxiv_version=None))
    _add(db, preprint(source="arxiv-feed", source_id="f", arxiv_version=1))
    assert _row(db)["arxiv_version"] == 1


def test_a_proceedings_page_link_is_kept_when_the_arxiv_id_arrives(
    db: sqlite_utils.Database,
) -> None:
    _add(db, proceedings())
    _add(db, preprint())
    row = _row(db)
    assert row["url"] == proceedings().url and row["arxiv_id"] == "1706.03762"


def test_chunks_cover_every_value_once() -> None:
    from tracker.store import _chunks

    assert list(_chunks(list("abcde"), 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(_chunks([], 2)) == []
