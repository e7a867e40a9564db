"""Settings: defaults < file < environment < flags, each value's origin, and every way a value
can be wrong, with the exact message (core/config.py; the validation by type and range is
also in test_config_validation.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from core.config import DEFAULTS, RANGES, load_settings
from core.errors import ConfigError


@pytest.fixture(autouse=True)
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DLRADAR_")]:
        monkeypatch.delenv(name)
    return tmp_path


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dlradar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_their_origin() -> None:
    settings = load_settings()
    assert settings.values == DEFAULTS and settings.values is not DEFAULTS
    assert settings.path is None
    assert {o for section in settings.origins.values() for o in section.values()} == {"default"}
    assert settings.get("arxiv", "delay_seconds") == 3.0


def test_a_file_in_the_working_directory_is_read_and_named(tmp_path: Path) -> None:
    path = _file(tmp_path, "[arxiv]\ndays = 3\ndelay_seconds = 5\n")
    settings = load_settings()
    assert settings.path == path.resolve()
    assert (settings.get("arxiv", "days"), settings.get("arxiv", "delay_seconds")) == (3, 5.0)
    assert type(settings.get("arxiv", "delay_seconds")) is float  # an int where a float goes
    assert settings.origins["arxiv"]["days"] == f"file {Path('dlradar.toml')}"
    assert settings.origins["arxiv"]["page_size"] == "default"
    assert load_settings(path).path == path.resolve()


def test_the_environment_wins_over_the_file_and_flags_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _file(tmp_path, "[arxiv]\ndays = 3\n")
    monkeypatch.setenv("DLRADAR_ARXIV_DAYS", "4")
    settings = load_settings()
    assert settings.get("arxiv", "days") == 4
    assert settings.origins["arxiv"]["days"] == "env DLRADAR_ARXIV_DAYS"
    settings.override("arxiv", "days", 5)
    assert (settings.get("arxiv", "days"), settings.origins["arxiv"]["days"]) == (5, "flag")
    settings.override("arxiv", "days", None)  # a flag not given changes nothing
    assert (settings.get("arxiv", "days"), settings.origins["arxiv"]["days"]) == (5, "flag")
    settings.override("arxiv", "days", 6, origin="job")
    assert (settings.get("arxiv", "days"), settings.origins["arxiv"]["days"]) == (6, "job")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(r, True) for r in ("1", "true", "TRUE", "Yes", "yes", "on", "ON")]
    + [(r, False) for r in ("0", "false", "False", "NO", "no", "off", "Off")],
)
def test_booleans_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("DLRADAR_SMTP_STARTTLS", raw)
    monkeypatch.setenv("DLRADAR_SMTP_PLAINTEXT_LOGIN", raw)
    settings = load_settings()
    assert settings.get("smtp", "starttls") is expected
    assert settings.get("smtp", "plaintext_login") is expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("DLRADAR_SMTP_STARTTLS", "maybe", "DLRADAR_SMTP_STARTTLS='maybe': expected true or false"),
        ("DLRADAR_ARXIV_DAYS", "seven", "DLRADAR_ARXIV_DAYS='seven': expected an integer"),
        (
            "DLRADAR_ARXIV_DELAY_SECONDS",
            "3s",
            "DLRADAR_ARXIV_DELAY_SECONDS='3s': expected a number",
        ),
    ],
)
def test_an_unreadable_environment_value_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, message: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == message


def test_environment_numbers_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRADAR_ARXIV_DELAY_SECONDS", "4.5")
    monkeypatch.setenv("DLRADAR_ARXIV_CATEGORIES", " cs.LG, ,cs.CV ")
    monkeypatch.setenv("DLRADAR_SMTP_HOST", "mail.example.org")
    settings = load_settings()
    assert settings.get("arxiv", "delay_seconds") == 4.5
    assert settings.get("arxiv", "categories") == ["cs.LG", "cs.CV"]
    assert settings.get("smtp", "host") == "mail.example.org"


@pytest.mark.parametrize(("section", "key"), sorted(RANGES))
def test_ranges_are_inclusive_at_both_ends(tmp_path: Path, section: str, key: str) -> None:
    low, high = RANGES[(section, key)]
    is_float = isinstance(DEFAULTS[section][key], float)
    for value in (low, high):
        text = f"{float(value)!r}" if is_float else str(int(value))
        settings = load_settings(_file(tmp_path, f"[{section}]\n{key} = {text}\n"))
        assert settings.get(section, key) == value
    step = 0.05 if is_float else 1
    for value in (low - step, high + step):
        text = f"{float(value)!r}" if is_float else str(int(value))
        path = _file(tmp_path, f"[{section}]\n{key} = {text}\n")
        with pytest.raises(ConfigError) as error:
            load_settings(path)
        assert str(error.value) == (
            f"{section}.{key} = {float(value) if is_float else int(value)!r} (file {path}):"
            f" expected {low:g} to {high:g}"
        )


def test_thread_counts_from_1_to_1024(tmp_path: Path) -> None:
    assert load_settings(_file(tmp_path, "[bench]\nthreads = [1, 1024]\n")).get(
        "bench", "threads"
    ) == [1, 1024]
    for bad in ("[0]", "[1025]", "[2, 1025]"):
        path = _file(tmp_path, f"[bench]\nthreads = {bad}\n")
        with pytest.raises(ConfigError) as error:
            load_settings(path)
        assert str(error.value) == (f"bench.threads = {bad} (file {path}): expected 1 to 1024")
    for bad in ("[true]", "[1.5]"):
        path = _file(tmp_path, f"[bench]\nthreads = {bad}\n")
        with pytest.raises(ConfigError, match=re.escape("expected whole numbers, e.g. [1, 2]")):
            load_settings(path)


def test_every_file_error_is_one_exact_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as error:
        load_settings(missing)
    assert str(error.value) == f"config file {missing} does not exist"
    cases = {
        "[arxiv\n": "invalid TOML: ",
        "[nonsense]\nx = 1\n": "unknown section [nonsense] (known: " + ", ".join(DEFAULTS) + ")",
        "arxiv = 3\n": "unknown section [arxiv] (known: " + ", ".join(DEFAULTS) + ")",
        "[arxiv]\nspeed = 1\n": "unknown setting arxiv.speed",
        "[smtp]\npassword = 'x'\n": "smtp.password is a secret: set DLRADAR_SMTP_PASSWORD instead",
        "[smtp]\nuser = 'x'\nhostname = 'y'\n": "unknown setting smtp.hostname",
        "[arxiv]\ndays = '7'\n": "arxiv.days should be int, got '7'",
        "[smtp]\nstarttls = 1\n": "smtp.starttls should be bool, got 1",
    }
    for text, message in cases.items():
        path = _file(tmp_path, text)
        with pytest.raises(ConfigError) as error:
            load_settings(path)
        assert str(error.value).startswith(f"{path}: {message}"), str(error.value)
        if not message.endswith(": "):
            assert str(error.value) == f"{path}: {message}"


def test_interest_families_are_canonical(tmp_path: Path) -> None:
    path = _file(tmp_path, '[interests]\nfamilies = ["CNN", "Transformer"]\n')
    assert load_settings(path).get("interests", "families") == ["cnn", "transformer"]
    assert (
        load_settings(_file(tmp_path, "[interests]\nfamilies = []\n")).get("interests", "families")
        == []
    )


def test_an_unknown_interest_family_names_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, '[interests]\nfamilies = ["transformers"]\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value).startswith(
        f"{path}: interests.families: unknown family 'transformers'; the families are mlp, "
    )
    monkeypatch.setenv("DLRADAR_INTERESTS_FAMILIES", "cnn,gans")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value).startswith(
        "DLRADAR_INTERESTS_FAMILIES: interests.families: unknown family 'gans'"
    )


def test_the_smtp_password_comes_from_the_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    assert settings.secret("smtp", "password") is None
    assert settings.secret("smtp", "user") is None  # not a secret: never read from the env
    assert settings.secret("arxiv", "days") is None  # a section without secrets
    row = {"setting": "smtp.password", "value": "(not set)", "origin": "env DLRADAR_SMTP_PASSWORD"}
    assert settings.rows()[-1] == row
    monkeypatch.setenv("DLRADAR_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("DLRADAR_SMTP_USER", "ada")
    settings = load_settings()
    assert settings.secret("smtp", "password") == "hunter2"
    assert settings.secret("smtp", "user") is None
    rows = settings.rows()
    assert rows[-1] == {**row, "value": "(set)"}
    assert "hunter2" not in str(rows)
    assert {"setting": "smtp.user", "value": "ada", "origin": "env DLRADAR_SMTP_USER"} in rows
    assert len(rows) == sum(len(s) for s in DEFAULTS.values()) + 1
