"""The corpus summary: counts over every paper (tagged, families, venues, categories, years)
computed once per import or tagging run, so no page counts a million rows; a summary that no
longer describes the database is never shown (the reader counts for itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.db import transaction
from dlradar.database import open_db
from tracker import overview
from tracker.importer import import_file
from tracker.record import PaperRecord
from tracker.store import PaperStore


def _papers(path: Path, n: int, start: int = 1) -> Path:
    path.write_text(
        "".join(
            json.dumps({
                "id": f"2501.{i:05d}", "title": f"A convolutional network, part {i}",
                "abstract": "We train a CNN.", "venue": "NeurIPS" if i % 2 else None,
                "published": "2025-01-15", "categories": ["cs.CV"],
            }) + "\n"
            for i in range(start, start + n)
        )
    )  # fmt: skip
    return path


def test_an_import_stores_the_summary_the_pages_read(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 4))
    (stored,) = db.execute("SELECT value FROM corpus_summary").fetchall()
    summary = json.loads(stored[0])
    assert summary == overview.compute_summary(db)
    assert summary["tagged"] == 4
    assert {v["venue"]: v["papers"] for v in summary["venues"]} == {"NeurIPS": 2, "arXiv": 2}
    assert overview.filter_options(db)["families"] == [{"family": "cnn", "papers": 4}]
    assert overview.paper_totals(db, overview.date(2025, 1, 1))["tagged"] == 4


def test_a_stale_summary_is_never_shown(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 4))
    # A paper stored without an import run (no refresh): the stored summary is out of date.
    with transaction(db):
        PaperStore(db).add(
            [PaperRecord(source="jsonl", source_id="x", title="Another paper", venue="ICML")]
        )
    assert {"venue": "ICML", "papers": 1} in overview.filter_options(db)["venues"]
    assert overview.corpus_summary(db) == overview.compute_summary(db)


def test_no_tag_imports_refresh_it_too(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3), tag=False)
    stamp, value = db.execute("SELECT stamp, value FROM corpus_summary").fetchone()
    assert json.loads(value)["tagged"] == 0
    import_file(db, _papers(tmp_path / "b.jsonl", 2, start=10), tag=False)
    assert db.execute("SELECT stamp FROM corpus_summary").fetchone()[0] != stamp
    venues = {v["venue"]: v["papers"] for v in overview.corpus_summary(db)["venues"]}
    assert venues == {"NeurIPS": 3, "arXiv": 2}


def test_a_summary_stored_by_an_older_version_is_recounted(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 2))
    (value,) = db.execute("SELECT value FROM corpus_summary").fetchone()
    older = {k: v for k, v in json.loads(value).items() if k != "venue_years"}
    db.execute("UPDATE corpus_summary SET value = ?", [json.dumps(older)])
    assert overview.venue_year_counts(db) == [
        {"venue": "NeurIPS", "year": 2025, "papers": 1},
        {"venue": "arXiv", "year": 2025, "papers": 1},
    ]


def test_the_dashboard_reads_the_summary_once_for_all_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A page showing totals, shares, filter choices and venue-by-year counts reads the summary
    # (its stamp, its JSON) once, not four times.
    import streamlit as st

    from dashboard import data

    path = tmp_path / "d.db"
    import_file(open_db(path), _papers(tmp_path / "a.jsonl", 4))
    reads: list[object] = []
    real = overview.corpus_summary

    def counted(db: object) -> overview.CorpusSummary:
        reads.append(db)
        return real(db)  # type: ignore[arg-type]

    monkeypatch.setattr(overview, "corpus_summary", counted)
    st.cache_data.clear()
    try:
        assert data.paper_totals(str(path))["tagged"] == 4
        assert data.family_shares(str(path)) == [{"family": "cnn", "papers": 4, "share": 1.0}]
        assert data.filter_options(str(path))["year_min"] == 2025
        assert {v["venue"] for v in data.venue_year_counts(str(path))} == {"NeurIPS", "arXiv"}
    finally:
        st.cache_data.clear()
    assert len(reads) == 1


def test_papers_per_source_follow_a_second_source_of_a_stored_paper(tmp_path: Path) -> None:
    # A paper seen again from another source adds no paper, family or category: the stamp
    # counts source links too, so the per-source figures never go stale.
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3))
    before = {s["source"]: s["papers"] for s in overview.source_summaries(db)}
    with transaction(db):
        PaperStore(db).add(
            [PaperRecord(source="arxiv-api", source_id="2501.00001", arxiv_id="2501.00001",
                         title="A convolutional network, part 1")]
        )  # fmt: skip
    assert db.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 3
    after = {s["source"]: s["papers"] for s in overview.source_summaries(db)}
    assert after == {**before, "arxiv-api": 1}


CHANGES = {
    "a paper": "INSERT INTO papers (title, title_key, first_seen, last_seen)"
    " VALUES ('New', 'new', '2025-01-01', '2025-01-01')",
    "a venue": "UPDATE papers SET venue = 'ICML' WHERE id = 1",
    "a year": "UPDATE papers SET year = 2019 WHERE id = 2",
    "a category": "INSERT INTO paper_categories (paper_id, position, category) VALUES (1, 9, 'cs.RO')",
    "a category changed": "UPDATE paper_categories SET category = 'cs.AI' WHERE paper_id = 1",
    "a category removed": "DELETE FROM paper_categories WHERE paper_id = 2",
    "a source": "INSERT INTO paper_sources VALUES ('arxiv-api', 'x', 1, '2025-01-01', '2025-01-01')",
    "a source changed": "UPDATE paper_sources SET source = 'arxiv-feed' WHERE paper_id = 1",
    "a family": "INSERT INTO paper_families (paper_id, family, confidence, tagger)"
    " VALUES (1, 'rnn', 0.9, 't')",
    "a family changed": "UPDATE paper_families SET family = 'gan' WHERE paper_id = 1",
    "a family removed": "DELETE FROM paper_families WHERE paper_id = 3",
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_the_summary_counts_makes_the_stored_one_stale(
    tmp_path: Path, change: str
) -> None:
    # The stamp is a counter that triggers bump (tracker.schema v8), not counts of every row:
    # a change that keeps every count (a venue or family replaced) must still show.
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3))
    stored = overview.corpus_summary(db)
    with transaction(db):
        db.execute(CHANGES[change])
    fresh = overview.compute_summary(db)
    assert fresh != stored
    assert overview.corpus_summary(db) == fresh


def test_what_the_summary_does_not_count_leaves_it_valid(tmp_path: Path) -> None:
    # A re-fetch touches every seen paper's last_seen and rewrites unchanged fields; the
    # summary of a million papers is not recounted for that.
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3))
    (stamp,) = db.execute("SELECT stamp FROM corpus_summary").fetchone()
    with transaction(db):
        db.execute("UPDATE paper_sources SET last_seen = '2026-01-01'")
        db.execute("UPDATE papers SET venue = venue, year = year, last_seen = '2026-01-01'")
        db.execute("UPDATE paper_families SET confidence = 0.5")
    assert overview._stamp(db) == stamp
