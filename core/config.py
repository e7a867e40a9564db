"""Effective settings: defaults < dlradar.toml (or --config) < DLRADAR_* environment < flags.

Every setting lives in a section (`[arxiv] categories = [...]`); its environment variable is
DLRADAR_<SECTION>_<KEY> in upper case (lists comma separated). Secrets such as the SMTP password
are read from the environment only (DLRADAR_SMTP_PASSWORD) and never shown.
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.families import family_ids

CONFIG_FILE = "dlradar.toml"
SECRET_ENV = {"smtp": {"password": "DLRADAR_SMTP_PASSWORD"}}

DEFAULTS: dict[str, dict[str, Any]] = {
    "arxiv": {
        "categories": ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML"],
        "days": 7,
        "page_size": 200,
        "max_results": 2000,
        "delay_seconds": 3.0,
    },
    "sources": {
        "timeout_seconds": 30.0,
        "retries": 4,
        # The longest one request may take, however slowly a server trickles it, and the
        # biggest answer read (see tracker.http).
        "deadline_seconds": 300.0,
        "max_response_mb": 100,
    },
    "interests": {
        "keywords": [],
        "families": [],
        "authors": [],
    },
    "digest": {
        "directory": "data/digests",
        "feeds_directory": "data/feeds",
        "top_papers": 10,
    },
    "smtp": {
        "host": "",
        "port": 587,
        "starttls": True,
        # Send the password over a connection without TLS: only for a trusted local relay.
        "plaintext_login": False,
        "user": "",
        "sender": "",
        "recipients": [],
    },
    "bench": {
        "profile": "quick",
        "threads": [1],
    },
    "dashboard": {
        "host": "127.0.0.1",
        "port": 8501,
    },
}


# Ranges (inclusive) of the numeric settings and the element type of the lists: a value outside
# them is a ConfigError naming the setting and where it came from, when the file is loaded, not
# a traceback (or a silent no-op such as `days = -5`) deep inside a command.
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("arxiv", "days"): (1, 3650),
    ("arxiv", "page_size"): (1, 2000),  # the arXiv API returns at most 2000 entries a call
    ("arxiv", "max_results"): (1, 1_000_000),
    ("arxiv", "delay_seconds"): (0, 3600),
    ("sources", "timeout_seconds"): (0.1, 3600),
    ("sources", "retries"): (0, 20),
    ("sources", "deadline_seconds"): (1, 86_400),
    ("sources", "max_response_mb"): (1, 10_000),
    ("digest", "top_papers"): (1, 1000),
    ("smtp", "port"): (1, 65535),
    ("dashboard", "port"): (1, 65535),
}
LIST_ITEMS: dict[tuple[str, str], type] = {
    ("arxiv", "categories"): str,
    ("interests", "keywords"): str,
    ("interests", "families"): str,
    ("interests", "authors"): str,
    ("smtp", "recipients"): str,
    ("bench", "threads"): int,
}


@dataclass
class Settings:
    """The effective settings and, for each, where its value came from."""

    values: dict[str, dict[str, Any]]
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    path: Path | None = None

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def secret(self, section: str, key: str) -> str | None:
        name = SECRET_ENV.get(section, {}).get(key)
        return os.environ.get(name) if name else None

    def override(self, section: str, key: str, value: Any, origin: str = "flag") -> None:
        if value is None:
            return
        self.values[section][key] = value
        self.origins[section][key] = origin

    def rows(self) -> list[dict[str, Any]]:
        """One row per setting for `dlradar config show`."""
        rows = [
            {"setting": f"{s}.{k}", "value": v, "origin": self.origins[s][k]}
            for s, section in self.values.items()
            for k, v in section.items()
        ]
        for section, secrets in SECRET_ENV.items():
            for key, env in secrets.items():
                state = "set" if os.environ.get(env) else "not set"
                rows.append(
                    {"setting": f"{section}.{key}", "value": f"({state})", "origin": f"env {env}"}
                )
        return rows


def _coerce(raw: str, like: Any, name: str) -> Any:
    if isinstance(like, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}={raw!r}: expected true or false")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r}: expected an integer") from exc
    if isinstance(like, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r}: expected a number") from exc
    if isinstance(like, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _check_interest_families(values: dict[str, dict[str, Any]], origin: str) -> None:
    """Canonical ids in [interests] families; ConfigError naming where an unknown one came from."""
    entries = [v for v in values["interests"]["families"] if str(v).strip()]
    if not entries:
        return
    where = origin.removeprefix("file ").removeprefix("env ")
    try:
        values["interests"]["families"] = family_ids(entries)
    except ConfigError as exc:
        raise ConfigError(f"{where}: interests.families: {exc}") from exc


def load_settings(config_path: str | os.PathLike[str] | None = None) -> Settings:
    """Merge defaults, the config file and the environment (flags are applied by the caller)."""
    values = copy.deepcopy(DEFAULTS)
    origins = {s: dict.fromkeys(keys, "default") for s, keys in values.items()}
    path = Path(config_path) if config_path else Path(CONFIG_FILE)
    if config_path and not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    used: Path | None = None
    if path.is_file():
        used = path.resolve()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
        for section, entries in data.items():
            if section not in values or not isinstance(entries, dict):
                raise ConfigError(
                    f"{path}: unknown section [{section}] (known: {', '.join(values)})"
                )
            for key, value in entries.items():
                if key not in values[section]:
                    if section in SECRET_ENV and key in SECRET_ENV[section]:
                        raise ConfigError(
                            f"{path}: {section}.{key} is a secret: set {SECRET_ENV[section][key]} instead"
                        )
                    raise ConfigError(f"{path}: unknown setting {section}.{key}")
                default = values[section][key]
                if isinstance(default, float) and isinstance(value, int):
                    value = float(value)
                if type(value) is not type(default):
                    raise ConfigError(
                        f"{path}: {section}.{key} should be {type(default).__name__}, got {value!r}"
                    )
                values[section][key] = value
                origins[section][key] = f"file {path}"
    for section, entries in values.items():
        for key, default in entries.items():
            name = f"DLRADAR_{section}_{key}".upper()
            if name in os.environ:
                entries[key] = _coerce(os.environ[name], default, name)
                origins[section][key] = f"env {name}"
    _check_values(values, origins)
    _check_interest_families(values, origins["interests"]["families"])
    return Settings(values, origins, used)


def _check_values(values: dict[str, dict[str, Any]], origins: dict[str, dict[str, str]]) -> None:
    """Every list holds items of its type, every number lies in its range (see RANGES)."""
    for (section, key), (low, high) in RANGES.items():
        value = values[section][key]
        if not low <= value <= high:
            where = origins[section][key]
            raise ConfigError(
                f"{section}.{key} = {value!r} ({where}): expected {low:g} to {high:g}"
            )
    for (section, key), item_type in LIST_ITEMS.items():
        items = values[section][key]
        where = origins[section][key]
        if item_type is int:
            try:
                # Environment lists arrive as strings ("1,2"); bool is no thread count.
                values[section][key] = [_whole(item) for item in items]
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{section}.{key} = {items!r} ({where}): expected whole numbers, e.g. [1, 2]"
                ) from exc
            if any(n < 1 or n > 1024 for n in values[section][key]):
                raise ConfigError(f"{section}.{key} = {items!r} ({where}): expected 1 to 1024")
        elif not all(isinstance(item, str) for item in items):  # blank ones are ignored
            raise ConfigError(
                f'{section}.{key} = {items!r} ({where}): expected a list of texts, e.g. ["a"]'
            )


def _whole(item: object) -> int:
    if isinstance(item, bool) or not isinstance(item, int | str):
        raise TypeError(item)
    return int(item)
