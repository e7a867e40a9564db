"""Quoted phrases are searched as phrases (hyphen and plural variants count), in `papers
--search` and in the saved-interest keyword feeds. On the shipped daily listings the unquoted
words matched 45 papers, 39 of them without the phrase."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest
import sqlite_utils
from click.testing import CliRunner

from core.config import load_settings
from dashboard.digest.feeds import refresh_feeds
from dlradar.cli import cli
from dlradar.database import open_db
from tracker.importer import import_paths
from tracker.search import phrase_variants, phrases

# "state space model" as a reader means it: any case, hyphenated or not, singular or plural.
STATE_SPACE_MODEL = re.compile(r"\bstates?[\s-]+spaces?[\s-]+models?\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def listings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import REAL, require_shared

    files = sorted((require_shared(REAL) / "arxiv_daily_jsonl").glob("*.jsonl"))
    path = tmp_path_factory.mktemp("phrases") / "d.db"
    db = open_db(path)
    import_paths(db, files)
    db.conn.close()
    return path


def _search(db_path: Path, text: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["papers", "--search", text, "--limit", "0", "--format", "jsonl", "--db", str(db_path)]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def _has_phrase(db: sqlite_utils.Database, paper_id: object) -> bool:
    title, abstract = db.execute(
        "SELECT title, abstract FROM papers WHERE id = ?", [paper_id]
    ).fetchone()
    return bool(STATE_SPACE_MODEL.search(f"{title}\n{abstract}"))


def test_a_quoted_phrase_finds_only_papers_with_the_phrase(listings: Path) -> None:
    quoted = _search(listings, '"state space model"')
    loose = _search(listings, "state space model")
    db = open_db(listings)
    assert quoted, "the listings hold state-space-model papers"
    assert all(_has_phrase(db, row["id"]) for row in quoted)
    # The loose words match more, some without the phrase; every phrase paper is among them.
    assert len(loose) > len(quoted)
    assert not all(_has_phrase(db, row["id"]) for row in loose)
    assert {row["id"] for row in quoted} <= {row["id"] for row in loose}
    # Every paper of the listings that has the phrase in some form is found.
    having = {
        pid for (pid,) in db.execute("SELECT id FROM papers").fetchall() if _has_phrase(db, pid)
    }
    assert {row["id"] for row in quoted} == having


def test_the_interest_feed_of_a_keyword_holds_the_phrase(
    listings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    settings.override("interests", "keywords", ["state space model"])
    db = open_db(listings)
    refresh_feeds(db, settings)
    feed = feedparser.parse((tmp_path / "data/feeds/interest-state-space-model.atom").read_bytes())
    assert feed.entries
    for entry in feed.entries:
        assert STATE_SPACE_MODEL.search(f"{entry.title}\n{entry.summary}") or any(
            _has_phrase(db, pid)
            for (pid,) in db.execute("SELECT id FROM papers WHERE title = ?", [entry.title])
        ), entry.title


def test_phrase_parsing() -> None:
    assert phrases('"state space model" mamba') == [("state", "space", "model"), ("mamba",)]
    assert phrases('"unclosed quote') == [("unclosed", "quote")]
    assert phrases("pre-training") == [("pre", "training")]
    assert ("mixtures", "of", "experts") in phrase_variants(("mixture", "of", "expert"))
    assert ("family", "of", "models") in phrase_variants(("families", "of", "model"))
    assert all(v[1] == "of" for v in phrase_variants(("mixture", "of", "expert")))
