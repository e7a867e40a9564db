"""`similar`: nearest papers by TF-IDF content, the on-disk index following the database, and
`dlradar similar`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from core.db import transaction
from core.errors import NotFoundError
from dlradar.commands.discovery import similar_command
from tracker import similar
from tracker.record import PaperRecord
from tracker.store import PaperStore

PAPERS = [
    ("Graph neural networks for molecular property prediction",
     "We train message passing graph neural networks on molecular graphs to predict"
     " molecular properties such as solubility and toxicity."),
    ("Message passing on molecular graphs predicts chemical properties",
     "A message passing neural network over molecular graphs predicts solubility, toxicity"
     " and other molecular properties of drug candidates."),
    ("Deep residual learning for image recognition",
     "Residual connections let very deep convolutional networks train on ImageNet image"
     " classification."),
    ("Proximal policy optimization for robot locomotion",
     "Reinforcement learning with proximal policy optimization teaches simulated robots to"
     " walk."),
    ("A survey of speech recognition",
     "Automatic speech recognition systems transcribe audio; we survey acoustic models."),
]  # fmt: skip


def add(db: sqlite_utils.Database, title: str, abstract: str, arxiv_id: str | None = None) -> int:
    record = PaperRecord(
        source="jsonl", source_id=title, title=title, abstract=abstract,
        authors=["A. Author"], published="2024-05-01", year=2024, arxiv_id=arxiv_id,
    )  # fmt: skip
    with transaction(db):
        PaperStore(db).add([record])
    return int(db.execute("SELECT max(id) FROM papers").fetchone()[0])


@pytest.fixture
def papers(db: sqlite_utils.Database) -> list[int]:
    similar._CACHE.clear()
    return [
        add(db, title, abstract, arxiv_id=f"2405.0000{i}")
        for i, (title, abstract) in enumerate(PAPERS, 1)
    ]


def test_obvious_neighbour_first_with_descending_scores(
    db: sqlite_utils.Database, papers: list[int]
) -> None:
    results = similar.similar_papers(db, papers[0], limit=10)
    assert results[0][0]["id"] == papers[1]
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    assert papers[0] not in [p["id"] for p, _ in results]
    # The speech survey shares no content word with the molecule paper.
    assert papers[4] not in [p["id"] for p, _ in results]
    # By arXiv id too, and rows have the find_papers shape.
    by_arxiv = similar.similar_papers(db, "2405.00002", limit=1)
    assert by_arxiv[0][0]["id"] == papers[0]
    assert {"title", "authors", "families", "categories"} <= set(by_arxiv[0][0])


def test_index_lives_beside_the_database_and_follows_changes(
    db: sqlite_utils.Database, db_path: Path, papers: list[int]
) -> None:
    similar.similar_papers(db, papers[2])
    directory = Path(f"{db_path}.similar")
    assert (directory / "current.json").is_file()
    built = json.loads((directory / "current.json").read_text())

    # A new paper is appended with the stored IDF weights, without a rebuild.
    resnet = add(db, "Residual networks for image classification",
                 "Deep convolutional residual networks classify ImageNet images.")  # fmt: skip
    similar._CACHE.clear()
    assert similar.similar_papers(db, papers[2], limit=1)[0][0]["id"] == resnet
    extended = json.loads((directory / "current.json").read_text())
    assert extended["built_rows"] == built["built_rows"] and extended["max_id"] == resnet

    # An edited abstract rebuilds it: the robot paper now talks about molecules.
    with transaction(db):
        db.execute(
            "UPDATE papers SET title = ?, abstract = ? WHERE id = ?",
            ["Molecular graphs", "Message passing over molecular graphs predicts solubility.",
             papers[3]],
        )  # fmt: skip
    nearest = [p["id"] for p, _ in similar.similar_papers(db, papers[3], limit=2)]
    assert set(nearest) == {papers[0], papers[1]}
    assert json.loads((directory / "current.json").read_text())["built_rows"] == len(papers) + 1


def test_unknown_paper_and_paper_without_words(
    db: sqlite_utils.Database, papers: list[int]
) -> None:
    with pytest.raises(NotFoundError):
        similar.similar_papers(db, 999)
    empty = add(db, "The", "")  # only a stop word
    assert similar.similar_papers(db, empty) == []


def test_cli(db: sqlite_utils.Database, db_path: Path, papers: list[int]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        similar_command, [str(papers[0]), "--db", str(db_path), "--limit", "2", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["id"] == papers[1]
    assert rows[0]["score"] >= rows[-1]["score"] > 0
    assert "family_evidence" not in rows[0]
    table = runner.invoke(similar_command, [str(papers[0]), "--db", str(db_path)])
    assert "Message passing on molecular graphs" in table.output
    assert "Examples" in runner.invoke(similar_command, ["--help"]).output
