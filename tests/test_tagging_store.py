"""tag_papers over a real (small) database, and the `dlradar tag` command."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from core.db import apply_migrations, utc_now
from dlradar.commands.tagging import tag_command
from dlradar.database import SCHEMAS, open_db
from tracker.tagging import TAGGER_VERSION, tag_papers

PAPERS = [
    (
        "Graph Attention Networks",
        "We present graph attention networks (GATs) for node classification.",
    ),
    ("Language Models are Few-Shot Learners", ""),
    ("Support-Vector Networks", "The support-vector network is a new learning machine."),
    ("Long Short-Term Memory", "We introduce LSTM, a recurrent network with gated memory cells."),
]


def _insert(db: sqlite_utils.Database, title: str, abstract: str = "", curated: int = 0) -> int:
    now = utc_now()
    cursor = db.conn.execute(
        "INSERT INTO papers (title, title_key, abstract, curated, first_seen, last_seen)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [title, title.lower(), abstract, curated, now, now],
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _families(db: sqlite_utils.Database) -> dict[int, dict[str, tuple[float, list[str], str]]]:
    out: dict[int, dict[str, tuple[float, list[str], str]]] = {}
    rows = db.conn.execute(
        "SELECT paper_id, family, confidence, evidence, tagger FROM paper_families"
    ).fetchall()
    for paper_id, family, confidence, evidence, tagger in rows:
        out.setdefault(paper_id, {})[family] = (confidence, json.loads(evidence), tagger)
    return out


def _small_db(path: Path) -> tuple[sqlite_utils.Database, list[int]]:
    db = open_db(path)
    ids = [_insert(db, title, abstract) for title, abstract in PAPERS]
    return db, ids


def test_tag_papers_writes_families_with_evidence_confidence_and_version(tmp_path: Path) -> None:
    db, (gat, gpt3, svm, lstm) = _small_db(tmp_path / "x.db")
    stats = tag_papers(db)
    assert stats.tagged == 4
    assert stats.without_family == 1
    tags = _families(db)
    assert set(tags[gat]) == {"gnn"}
    assert set(tags[gpt3]) == {"transformer"}
    assert svm not in tags
    assert set(tags[lstm]) == {"lstm", "rnn"}
    confidence, evidence, tagger = tags[gat]["gnn"]
    assert 0 < confidence <= 1 and evidence and tagger == TAGGER_VERSION
    assert stats.rows == 4 and stats.families["rnn"] == 1


def test_a_second_run_tags_nothing_not_even_family_less_papers(tmp_path: Path) -> None:
    db, _ = _small_db(tmp_path / "x.db")
    tag_papers(db)
    again = tag_papers(db)
    assert (again.tagged, again.rows) == (0, 0)
    new = _insert(db, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces")
    third = tag_papers(db)
    assert third.tagged == 1
    assert set(_families(db)[new]) == {"ssm"}


def test_a_paper_whose_text_changed_is_tagged_again(tmp_path: Path) -> None:
    db, (_, _, svm, _) = _small_db(tmp_path / "x.db")
    tag_papers(db)
    db.conn.execute(
        "UPDATE papers SET abstract = ? WHERE id = ?",
        ["We train a convolutional neural network (CNN) on support vectors.", svm],
    )
    stats = tag_papers(db)
    assert stats.tagged == 1
    assert set(_families(db)[svm]) == {"cnn"}


def test_an_edit_that_keeps_the_length_is_tagged_again(tmp_path: Path) -> None:
    db, (_, _, svm, lstm) = _small_db(tmp_path / "x.db")
    tag_papers(db)
    title = "Support-Vector Networks"
    edited = "Convolutional Networks!"[: len(title)].ljust(len(title))
    assert len(edited) == len(title) and edited != title
    db.conn.execute("UPDATE papers SET title = ? WHERE id = ?", [edited, svm])
    db.conn.execute("UPDATE papers SET last_seen = ? WHERE id = ?", [utc_now(), lstm])
    stats = tag_papers(db)
    assert stats.tagged == 1  # the edited paper only; touching last_seen changes no text
    assert set(_families(db)[svm]) == {"cnn"}


def test_papers_tagged_by_another_version_are_tagged_again(tmp_path: Path) -> None:
    db, (gat, *_) = _small_db(tmp_path / "x.db")
    tag_papers(db)
    db.conn.execute("UPDATE paper_tagging SET tagger = 'rules-0' WHERE paper_id = ?", [gat])
    stats = tag_papers(db)
    assert stats.tagged == 1
    assert _families(db)[gat]["gnn"][2] == TAGGER_VERSION


def test_migration_2_forgets_papers_whose_size_changed_under_version_1(tmp_path: Path) -> None:
    db, (_, _, svm, _) = _small_db(tmp_path / "x.db")
    tag_papers(db)
    # Back to the v1 schema: no trigger, and a size that no longer matches one paper's text.
    db.conn.execute("DROP TRIGGER papers_tagging_text_update")
    db.conn.execute("DELETE FROM _migrations WHERE component = 'tagging' AND version = 2")
    db.conn.execute("UPDATE papers SET abstract = abstract || ' CNN.' WHERE id = ?", [svm])
    apply_migrations(db, SCHEMAS)
    pending = {
        r[0]
        for r in db.conn.execute("SELECT id FROM papers EXCEPT SELECT paper_id FROM paper_tagging")
    }
    assert pending == {svm}
    assert tag_papers(db).tagged == 1


def test_curated_families_are_kept_and_all_retags_the_rest(tmp_path: Path) -> None:
    db, (gat, gpt3, _, _) = _small_db(tmp_path / "x.db")
    # A landmark whose curated families differ from what its title alone suggests.
    landmark = _insert(db, "Finding Structure in Time", curated=1)
    db.conn.execute(
        "INSERT INTO paper_families VALUES (?, 'rnn', 1.0, '[\"landmark catalogue\"]', 'curated')",
        [landmark],
    )
    # A stale machine tag from an older tagger version.
    db.conn.execute(
        "INSERT INTO paper_families VALUES (?, 'cnn', 0.7, '[\"CNN\"]', 'rules-0')", [gpt3]
    )
    first = tag_papers(db)
    assert first.curated == 1 and first.tagged == 4
    tags = _families(db)
    assert tags[landmark] == {"rnn": (1.0, ["landmark catalogue"], "curated")}
    assert set(tags[gpt3]) == {"transformer"}  # the stale row was replaced

    everything = tag_papers(db, retag_all=True)
    assert everything.tagged == 4 and everything.curated == 1
    assert _families(db)[landmark] == {"rnn": (1.0, ["landmark catalogue"], "curated")}
    assert {t for fams in _families(db).values() for _, _, t in fams.values()} == {
        "curated",
        TAGGER_VERSION,
    }
    assert set(_families(db)[gat]) == {"gnn"}


def test_tag_command_prints_counts_and_all_retags(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db, _ = _small_db(path)
    db.conn.close()
    runner = CliRunner()
    first = runner.invoke(tag_command, ["--db", str(path)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("tagged 4 papers")
    second = runner.invoke(tag_command, ["--db", str(path), "--format", "json"])
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)[0]["tagged"] == 0
    forced = runner.invoke(tag_command, ["--all", "--db", str(path), "--format", "json"])
    row = json.loads(forced.output)[0]
    assert (row["tagged"], row["without_family"], row["tagger"]) == (4, 1, TAGGER_VERSION)
    assert row["families"] == {"gnn": 1, "lstm": 1, "rnn": 1, "transformer": 1}


def test_worker_processes_store_the_same_tags_as_one_process(tmp_path: Path) -> None:
    db, _ = _small_db(tmp_path / "x.db")
    for title, abstract in PAPERS * 3:
        _insert(db, title + " (again)", abstract)
    single = tag_papers(db, workers=1, batch_size=3)
    expected = _families(db)
    parallel = tag_papers(db, retag_all=True, workers=2, batch_size=3)
    assert (parallel.tagged, parallel.rows, parallel.families) == (
        single.tagged,
        single.rows,
        single.families,
    )
    assert _families(db) == expected


def test_tagging_leaves_the_trend_cube_current(tmp_path: Path) -> None:
    from tracker import trends

    db, _ = _small_db(tmp_path / "x.db")
    assert trends._stale(db)  # new papers the cube has not seen
    tag_papers(db)
    assert not trends._stale(db)  # the first trends query has nothing to recompute
    assert tag_papers(db).tagged == 0 and not trends._stale(db)
