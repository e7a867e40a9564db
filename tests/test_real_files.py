"""Every real recorded file in ../shared/data/real imports (or fails with arXiv's own words)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from core.errors import DlradarError
from dlradar.cli import cli
from tracker.importer import Skipped, import_paths
from tracker.ingest import RunResult
from tracker.query import get_paper


def test_every_real_data_file_imports(db: sqlite_utils.Database, real: Path) -> None:
    outcomes = import_paths(db, [real])
    by_name: dict[str, RunResult | Skipped | DlradarError] = {}
    for outcome in outcomes:
        if isinstance(outcome, RunResult):
            by_name[Path(outcome.scope.removeprefix("file:")).name] = outcome
        elif isinstance(outcome, Skipped):
            by_name[outcome.path.name] = outcome
    data_files = [
        p
        for p in real.rglob("*")
        if p.is_file() and p.parent.name != "arxiv_docs" and p.name != "PROVENANCE.md"
    ]
    assert len(data_files) == 21
    for path in data_files:
        outcome = by_name[path.name]
        assert isinstance(outcome, RunResult), f"{path.name}: {outcome}"
        if "_id_abc_" in path.name:  # arXiv's HTTP 400 error feed
            assert outcome.status == "failed"
            assert '"incorrect id format for abc"' in (outcome.error or "")
        else:
            assert outcome.status in ("ok", "empty"), f"{path.name}: {outcome.summary()}"
    skipped = {o.path.name for o in outcomes if isinstance(o, Skipped)}
    assert skipped == {p.name for p in (real / "arxiv_docs").iterdir()} | {"PROVENANCE.md"}
    assert not [o for o in outcomes if isinstance(o, DlradarError)]
    # 1,118 daily papers + 86 feed + 22 API (the JSON wrappers repeat the XML files) + 1 OAI
    # + 1 PMLR; no paper is in two of these sources.
    assert db["papers"].count == 1118 + 86 + 22 + 1 + 1
    assert (
        db.execute("SELECT COUNT(*) FROM papers GROUP BY arxiv_id HAVING COUNT(*) > 1").fetchall()
        == []
    )
    assert get_paper(db, "astro-ph/0601001")["venue"] == "arXiv"
    pmlr = get_paper(db, "l9FVZ7NXmm")
    assert pmlr["venue"] == "ICML" and pmlr["year"] == 2025
    again = import_paths(db, [real])
    assert sum(o.counts.new for o in again if isinstance(o, RunResult)) == 0


def test_truncated_feed_keeps_complete_entries_and_says_what_was_lost(
    runner: CliRunner, real: Path, tmp_path: Path
) -> None:
    feed = next((real / "arxiv_listing_feed").glob("*TRUNCATED.xml"))
    result = runner.invoke(cli, ["import", str(feed), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert "86 read, 86 new" in result.output
    assert "cut off" in result.output


def test_arxiv_error_feed_is_a_clear_failure(runner: CliRunner, real: Path, tmp_path: Path) -> None:
    error_feed = next((real / "arxiv_api").glob("*_id_abc_*.body.xml"))
    result = runner.invoke(cli, ["import", str(error_feed), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "FAILED: arXiv API error for" in result.output
    assert '"incorrect id format for abc"' in result.output
