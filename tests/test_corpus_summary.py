"""The corpus summary: counts over every paper (tagged, families, venues, categories, years)
computed once per import or tagging run, so no page counts a million rows; a summary that no
longer describes the database is never shown (the reader counts for itself)."""

from __future__ import annotations

import json
import re
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


def test_every_writer_of_the_corpus_tables_bumps_the_stamp(tmp_path: Path) -> None:
    # The stamp is a counter (tracker.schema v8) that the stores bump once per batch, not counts
    # of every row: a change that keeps every count (a family replaced) must still show.
    from tracker.tagging.store import tag_papers

    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3))
    stamps = [overview._stamp(db)]
    with transaction(db):  # a paper seen again from another source
        PaperStore(db).add(
            [
                PaperRecord(
                    source="arxiv-api",
                    source_id="2501.00001",
                    arxiv_id="2501.00001",
                    title="A convolutional network",
                )
            ]
        )
    stamps.append(overview._stamp(db))
    with transaction(db):  # the catalogue's families replace the tagger's
        PaperStore(db).set_curated_families(1, ["rnn"])
    stamps.append(overview._stamp(db))
    db.execute("UPDATE paper_tagging SET tagger = 'an older tagger'")
    tag_papers(db)  # re-tags what an older tagger tagged
    stamps.append(overview._stamp(db))
    assert len(set(stamps)) == len(stamps), stamps
    assert overview.corpus_summary(db) == overview.compute_summary(db)
    assert {"family": "rnn", "papers": 1} in overview.corpus_summary(db)["families"]


CORPUS_WRITE = re.compile(
    r"(INSERT\b[^\"]*\bINTO|UPDATE|DELETE\s+FROM)\s+(papers|paper_categories|paper_sources"
    r"|paper_families)\b",
    re.IGNORECASE,
)


def test_only_the_stores_write_the_corpus_tables() -> None:
    # The stamp is only as good as the writers that bump it: any other module writing these
    # tables would leave pages showing a summary that no longer describes the database.
    root = Path(__file__).resolve().parents[1]
    writers = {
        str(path.relative_to(root))
        for part in ("core", "tracker", "bench", "dashboard", "dlradar")
        for path in (root / part).rglob("*.py")
        if CORPUS_WRITE.search(path.read_text(encoding="utf-8"))
    }
    assert writers == {"tracker/store.py", "tracker/tagging/store.py"}


def test_papers_stored_since_a_day_come_from_the_summary_per_day(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 3))
    with transaction(db):  # as if stored on New Year's Day (one) and four days later (two)
        db.execute("UPDATE papers SET first_seen = '2025-01-05T00:00:00+00:00'")
        db.execute("UPDATE papers SET first_seen = '2025-01-01T23:59:59+00:00' WHERE id = 1")
    overview.refresh_summary(db)
    assert overview.corpus_summary(db)["stored_per_day"] == {"2025-01-01": 1, "2025-01-05": 2}
    assert overview.paper_totals(db, overview.date(2025, 1, 1))["stored_this_week"] == 3
    assert overview.paper_totals(db, overview.date(2025, 1, 2))["stored_this_week"] == 2
    assert overview.paper_totals(db, overview.date(2025, 1, 5))["stored_this_week"] == 2
    assert overview.paper_totals(db, overview.date(2025, 1, 6))["stored_this_week"] == 0


def test_the_papers_page_counts_from_the_summary_what_it_knows(tmp_path: Path) -> None:
    from dashboard.data import summary_count
    from tracker.query import PaperFilter, count_papers

    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "a.jsonl", 5))
    with transaction(db):
        PaperStore(db).set_curated_families(2, ["rnn"])
    summary = overview.corpus_summary(db)
    for f in (PaperFilter(), PaperFilter(families=("cnn",)), PaperFilter(families=("rnn",)),
              PaperFilter(families=("gan",))):  # fmt: skip
        assert summary_count(summary, f) == count_papers(db, f), f
    assert summary_count(summary, PaperFilter(families=("cnn",), year_from=2020)) is None
    assert summary_count(summary, PaperFilter(families=("cnn", "rnn"))) is None
