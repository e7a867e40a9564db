"""Shared fixtures: the ../shared folder, fresh databases, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from dlradar.database import open_db

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL = SHARED / "data" / "real"


def require_shared(path: Path = REAL) -> Path:
    """Return `path` under ../shared; skip (or, under CI=true, fail) when it is missing."""
    if not path.exists():
        message = f"needs {path} (check out the shared folder beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def real() -> Path:
    return require_shared(REAL)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dlradar.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(db_path)
    yield database
    database.conn.close()


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # Commands must not touch the developer's data/, config or cache: run from an empty directory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLRADAR_DB", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return CliRunner()
