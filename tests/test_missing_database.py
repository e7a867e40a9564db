"""Commands that only read refuse a database that does not exist, and create nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dlradar.cli import cli

READERS = [
    ["papers"],
    ["paper", "1"],
    ["runs"],
    ["trends"],
    ["similar", "1"],
    ["radar"],
    ["bench", "list"],
    ["bench", "show"],
    ["bench", "compare", "1", "2"],
    ["digest", "--week", "2025-W10"],
    ["dashboard", "--port", "8599"],
]


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a))
def test_a_mistyped_db_is_refused_without_creating_it(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "typo" / "dlradr.db"
    result = CliRunner().invoke(cli, [*args, "--db", str(missing)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: no database at {missing}; run `dlradar run` or `dlradar import` first"
        " (or give --db / $DLRADAR_DB)"
    )
    assert not (tmp_path / "typo").exists()
