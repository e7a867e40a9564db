"""Storage and range errors end in one line and an exit code, never a traceback, and what was
committed before stays."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dlradar.cli import cli
from dlradar.database import open_db
from tracker.store import PaperStore

HUGE = "9" * 23


def _jsonl(path: Path, count: int) -> Path:
    lines = [
        json.dumps(
            {"id": f"2501.{i:05d}", "title": f"Paper {i}", "summary": "S.", "authors": ["A B"]}
        )
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _one_line_error(result: Any) -> str:
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    return str(result.output.strip().splitlines()[-1])


def test_a_disk_that_fills_up_during_an_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "full.db"
    source = _jsonl(tmp_path / "papers.jsonl", 2500)  # several pages
    real_add = PaperStore.add
    calls = {"n": 0}

    def add(self: PaperStore, records: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real_add(self, records)

    monkeypatch.setattr(PaperStore, "add", add)
    result = CliRunner().invoke(cli, ["import", str(source), "--db", str(db_path)])
    line = _one_line_error(result)
    assert line.startswith("Error: the disk is full") and "committed before is kept" in line
    db = open_db(db_path)
    stored = db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    assert 0 < stored < 2500  # the first page stayed


def test_a_read_only_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root a chmod does not stop writes, so the error SQLite gives is what is simulated.
    def refuse(self: PaperStore, records: Any) -> Any:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(PaperStore, "add", refuse)
    source = _jsonl(tmp_path / "papers.jsonl", 3)
    result = CliRunner().invoke(cli, ["import", str(source), "--db", str(tmp_path / "ro.db")])
    assert _one_line_error(result).startswith("Error: the database is read-only")


@pytest.mark.parametrize(
    "args",
    [
        ["papers", "--year", HUGE],
        ["papers", "--limit", HUGE],
        ["paper", HUGE],
        ["similar", HUGE],
        ["digest", "--week", "9999-W52"],
        ["trends", "--growth", "--trailing", "1" + "0" * 20],
        ["papers", "--author", "a" * 100_000],
    ],
)
def test_values_beyond_range_are_one_line(tmp_path: Path, args: list[str]) -> None:
    db_path = tmp_path / "range.db"
    open_db(db_path).conn.close()
    result = CliRunner().invoke(cli, [*args, "--db", str(db_path)])
    line = _one_line_error(result)
    assert line.startswith("Error:"), line
