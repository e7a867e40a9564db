"""The configuration is checked by type and range when it loads: a wrong value is one line
naming the setting and where it came from, before any command runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from core.config import load_settings
from core.errors import ConfigError
from dlradar.cli import cli
from dlradar.database import open_db


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ("smtp", "recipients = [1, 2]", "smtp.recipients = [1, 2]"),
        ("interests", "keywords = [1, 2.5]", "expected a list of texts"),
        ("dashboard", "port = 70000", "expected 1 to 65535"),
        ("arxiv", "days = -5", "arxiv.days = -5"),
        ("arxiv", "page_size = 0", "expected 1 to 2000"),
        ("digest", "top_papers = -3", "digest.top_papers = -3"),
        ("bench", "threads = [0]", "expected 1 to 1024"),
        ("bench", 'threads = ["two"]', "expected whole numbers"),
    ],
)
def test_a_wrong_value_names_the_setting_and_the_file(
    tmp_path: Path, section: str, line: str, expected: str
) -> None:
    config = tmp_path / "dlradar.toml"
    config.write_text(f"[{section}]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected") as error:
        load_settings(config)
    assert expected in str(error.value) and str(config) in str(error.value)
    result = CliRunner().invoke(cli, ["config", "show", "--config", str(config)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: ")


def test_environment_values_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRADAR_ARXIV_DAYS", "0")
    with pytest.raises(ConfigError, match=r"arxiv.days = 0 \(env DLRADAR_ARXIV_DAYS\)"):
        load_settings()


def test_thread_lists_from_the_environment_become_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRADAR_BENCH_THREADS", "1,2")
    assert load_settings().get("bench", "threads") == [1, 2]


def test_a_digest_directory_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digests").write_text("not a folder", encoding="utf-8")
    (tmp_path / "dlradar.toml").write_text('[digest]\ndirectory = "digests"\n', encoding="utf-8")
    open_db(tmp_path / "x.db").conn.close()
    result = CliRunner().invoke(cli, ["digest", "--week", "2025-W20", "--db", "x.db"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: [digest] directory = 'digests' is a file, not a directory"
    )
