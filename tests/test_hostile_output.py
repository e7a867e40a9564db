"""Text leaving the program is safe for where it lands: no terminal escapes reach a terminal,
no spreadsheet formula reaches a CSV, whatever a stored title holds."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.db import transaction
from core.output import csv_text, render, terminal_text
from dlradar.cli import cli
from dlradar.database import open_db
from tracker.record import PaperRecord
from tracker.store import PaperStore

CLIPBOARD = "\x1b]52;c;aGVsbG8=\x07"  # OSC 52: write the reader's clipboard
TITLE_BAR = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J"
HOSTILE = f"{CLIPBOARD}Deep {CLEAR}nets{TITLE_BAR}\u202e and more"


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.db"
    db = open_db(path)
    with transaction(db):
        PaperStore(db).add(
            [
                PaperRecord(
                    source="jsonl", source_id="h1", title=HOSTILE, authors=["=cmd|' /C calc'!A0"]
                ),
                PaperRecord(source="jsonl", source_id="h2", title="@SUM(1+1)", authors=["A B"]),
            ]
        )
    db.conn.close()
    return path


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_papers_never_prints_an_escape_sequence(hostile_db: Path, fmt: str) -> None:
    result = CliRunner().invoke(cli, ["papers", "--db", str(hostile_db), "--format", fmt])
    assert result.exit_code == 0, result.output
    for control in ("\x1b", "\x07", "\u202e"):
        assert control not in result.stdout
    assert "Deep nets" in " ".join(result.stdout.split())  # the words survive


def test_csv_cells_are_never_formulas(hostile_db: Path) -> None:
    result = CliRunner().invoke(cli, ["papers", "--db", str(hostile_db), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    cells = [value for row in rows for value in row.values()]
    assert "'@SUM(1+1)" in cells and "'=cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_sanitisers_keep_plain_text_and_numbers() -> None:
    assert terminal_text("A title\twith\ttabs\nand lines") == "A title with tabs and lines"
    assert csv_text("-3.5") == "-3.5" and csv_text("+1") == "+1"
    assert csv_text("-cmd") == "'-cmd"
    assert render([{"t": "\x1b[31mred\x1b[0m"}], "table").splitlines()[-1] == "red"
