"""Loading the curated landmark catalogue into the database."""

from __future__ import annotations

import sqlite_utils

from core.db import transaction
from tracker.landmarks import load_catalogue, load_into
from tracker.query import PaperFilter, count_papers, find_papers, get_paper
from tracker.record import PaperRecord
from tracker.store import PaperStore


def test_catalogue_loads_as_curated_papers_with_their_families(db: sqlite_utils.Database) -> None:
    catalogue = load_catalogue()
    assert len(catalogue) >= 60
    result = load_into(db)
    assert result.counts.new == len(catalogue)
    assert count_papers(db, PaperFilter(curated=True)) == len(catalogue)
    gpt3 = next(lm for lm in catalogue if lm.title == "Language Models are Few-Shot Learners")
    paper = get_paper(db, gpt3.arxiv_id or "")
    assert paper["curated"] and paper["families"] == ["transformer"]
    assert paper["family_evidence"]["transformer"]["tagger"] == "curated"
    assert paper["stage"] == gpt3.stage
    assert load_into(db).counts.new == 0  # idempotent


def test_catalogue_merges_with_the_arxiv_preprint(db: sqlite_utils.Database) -> None:
    with transaction(db):
        PaperStore(db).add(
            [
                PaperRecord(
                    source="arxiv-api",
                    source_id="1512.03385",
                    arxiv_id="1512.03385",
                    title="Deep Residual Learning for Image Recognition",
                    abstract="Deeper neural networks are more difficult to train.",
                    authors=["Kaiming He"],
                    venue="arXiv",
                    year=2015,
                    published="2015-12-10",
                )
            ]
        )
    load_into(db)
    paper = get_paper(db, "1512.03385")
    assert paper["venue"] == "CVPR" and paper["year"] == 2016
    assert paper["abstract"].startswith("Deeper neural networks")
    assert paper["published"] == "2015-12-10"
    assert sorted(paper["sources"]) == ["arxiv-api", "catalogue"]
    assert db["papers"].count == len(load_catalogue())


def test_tagging_keeps_curated_papers_as_the_catalogue_has_them(db: sqlite_utils.Database) -> None:
    from tracker.tagging import tag_papers

    load_into(db)
    # Every paper here is curated: the tagger classifies none of them, family or not.
    assert str(tag_papers(db)).startswith("tagged 0 papers")
    svm = next(lm for lm in load_catalogue() if lm.title == "Support-Vector Networks")
    paper = find_papers(db, PaperFilter(curated=True, search="Support-Vector Networks"))[0]
    assert paper["title"] == svm.title
    assert svm.families == () and paper["families"] == []  # no family, even machine-made
