"""Papers are tagged as they arrive: the README's quick start (import, then ask by family)
shows tagged papers without a separate `dlradar tag`, and the feeds are refreshed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlradar.cli import cli
from dlradar.database import open_db
from tracker.importer import import_file


def _papers(path: Path) -> Path:
    rows = [
        {"id": "2501.00001", "title": "A vision transformer for tiny images",
         "abstract": "We train a Vision Transformer with self-attention on patches."},
        {"id": "2501.00002", "title": "Graph convolutional networks for molecules",
         "abstract": "A GCN with message passing over molecular graphs."},
        {"id": "2501.00003", "title": "On the history of computing",
         "abstract": "An essay about punch cards."},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_an_import_tags_its_papers(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    result = import_file(db, _papers(tmp_path / "papers.jsonl"))
    assert "tagged 3" in result.summary()
    families = {
        (row[0], row[1])
        for row in db.execute(
            "SELECT p.arxiv_id, f.family FROM paper_families f JOIN papers p ON p.id = f.paper_id"
        )
    }
    assert ("2501.00001", "transformer") in families
    assert ("2501.00002", "gnn") in families
    assert not any(arxiv_id == "2501.00003" for arxiv_id, _ in families)
    # Every paper carries its tagging state, the essay included (tagged, no family).
    assert db.execute("SELECT COUNT(*) FROM paper_tagging").fetchone()[0] == 3


def test_no_tag_leaves_them_for_dlradar_tag(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    result = import_file(db, _papers(tmp_path / "papers.jsonl"), tag=False)
    assert result.tagged is None
    assert db.execute("SELECT COUNT(*) FROM paper_tagging").fetchone()[0] == 0


def test_the_quick_start_shows_tagged_papers_and_fresh_feeds(
    tmp_path: Path, real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the feeds go to data/feeds under the working directory
    files = sorted((real / "arxiv_daily_jsonl").glob("*.jsonl"))
    assert files, "no daily listing files in ../shared/data/real/arxiv_daily_jsonl"
    runner = CliRunner()
    db = str(tmp_path / "quick.db")
    imported = runner.invoke(cli, ["import", *map(str, files), "--db", db])
    assert imported.exit_code == 0, imported.output
    assert "feeds: " in imported.output
    listed = runner.invoke(
        cli, ["papers", "--family", "transformer", "--format", "jsonl", "--db", db]
    )
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    assert len(rows) >= 10
    assert all("transformer" in row["families"] for row in rows)
    assert (tmp_path / "data" / "feeds" / "transformer.atom").is_file()


def test_an_import_extends_the_similar_papers_index(tmp_path: Path) -> None:
    # `similar` built its index on first use: 12.5 s at 67k papers, 121 s at a million.
    from tracker import similar

    db = open_db(tmp_path / "d.db")
    import_file(db, _papers(tmp_path / "papers.jsonl"))
    directory = similar.index_dir(db)
    assert directory is not None
    stored = similar.load_index(directory)
    assert stored is not None and len(stored.ids) == 3
    built: list[str] = []
    similar._CACHE.clear()
    index = similar.ensure_index(db, progress=built.append)
    assert built == [] and len(index.ids) == 3  # read as stored, nothing rebuilt
    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps({"id": "2501.00004", "title": "Another transformer", "abstract": "Attention."})
        + "\n"
    )
    import_file(db, more)
    stored = similar.load_index(directory)
    assert stored is not None and len(stored.ids) == 4
