"""A PMLR volume's source BibTeX, as the volume repositories keep it (mlresearch/vNNN/*.bib):
the volume from its @Proceedings entry, papers under short keys without url. It imported 0
papers with a warning per entry, and was not recognised without --format pmlr."""

from __future__ import annotations

from pathlib import Path

from dlradar.database import open_db
from tracker.importer import detect_format, import_file
from tracker.query import PaperFilter, find_papers
from tracker.sources import pmlr

SOURCE_BIB = Path(__file__).resolve().parent / "fixtures" / "conferences" / "pmlr_v235_source.bib"


def test_a_source_bibtex_is_recognised_as_pmlr() -> None:
    assert detect_format(SOURCE_BIB) == "pmlr"


def test_its_papers_take_the_volume_of_the_proceedings_entry() -> None:
    (page,) = list(pmlr.read(SOURCE_BIB))
    by_id = {r.source_id: r for r in page.records}
    assert sorted(by_id) == ["pmlr-v235-aamand24a", "pmlr-v235-abbas24b"]
    paper = by_id["pmlr-v235-aamand24a"]
    assert paper.title == "Optimal Sparse Attention for Transformers under a Memory Budget"
    assert paper.authors == ["Anders Aamand", "Justin Y. Chen", "Huy Lê Nguỹên"]
    assert paper.venue == "ICML" and paper.year == 2024
    assert paper.openreview_id == "abCDef123"
    assert paper.abstract.startswith("We show that a sparse attention pattern")
    assert paper.journal_ref == (
        "Proceedings of the 41st International Conference on Machine Learning, PMLR 235:1-30, 2024"
    )
    assert paper.url == "https://proceedings.mlr.press/v235/aamand24a.html"
    assert paper.pdf_url == "https://proceedings.mlr.press/v235/aamand24a/aamand24a.pdf"
    # The entry without a title is the only one skipped, and the warning says which.
    assert len(page.warnings) == 1 and "'nobody24' has no title" in page.warnings[0]


def test_import_stores_them(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    result = import_file(db, SOURCE_BIB)
    assert (result.status, result.counts.new) == ("ok", 2)
    titles = {p["title"] for p in find_papers(db, PaperFilter(venues=("ICML",)))}
    assert "State Space Models Meet Graphs" in titles
