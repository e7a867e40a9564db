"""The rows of `dlradar bench models`, with each model's params and FLOPs cached across runs.

Counting params and FLOPs builds every model of the zoo (seconds each for VGG16 or BERT), and
importing torch and transformers alone takes seconds. The figures depend only on the zoo's code
and the installed libraries, so they are kept in a small JSON file,
$XDG_CACHE_HOME/dlradar/zoo-figures.json (~/.cache/dlradar/... without XDG_CACHE_HOME), under a
key that hashes everything that determines them:

- the source of bench/zoo.py, bench/flops.py and bench/models/*.py: the zoo's entries, their
  configurations (BERT's, T5's, ...) and the counting conventions;
- the versions of torch, torchvision and transformers (library defaults such as BertConfig(),
  the layers torchvision builds, what FlopCounterMode sees), of dlradar and of Python.

Any change makes a new key, so a figure is never shown stale; within a key each model is counted
once, the first time it is listed. A listing whose figures are all cached imports neither torch
nor the zoo. The cache is only a shortcut: a missing, corrupt or unwritable file is ignored (and
rewritten when it can be), never an error. It lives beside the code rather than in the database
of --db because the figures belong to the code and the installed libraries, not to the data, and
listing the zoo opens no database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import core

CACHE_FORMAT = 1
CACHE_NAME = "zoo-figures.json"
KEEP_KEYS = 4  # one per recently used checkout or environment, so switching does not recount
BENCH_DIR = Path(__file__).resolve().parent
LIBRARIES = ("torch", "torchvision", "transformers", "torch_geometric", "diffusers")

# What the zoo says about a model (cheap), what counting finds (costly), and the rows' order.
META_FIELDS = ("name", "family", "input", "source", "task", "quick", "published_params")
FIGURE_FIELDS = ("params", "flops", "macs", "flop_method")
ROW_ORDER = (
    "name", "family", "params", "flops", "macs", "flop_method",
    "input", "source", "task", "quick", "published_params",
)  # fmt: skip

Progress = Callable[[str | None], None]  # a status line while counting; None: done, clear it
Notice = Callable[[str], None]


def default_cache_file() -> Path | None:
    """$XDG_CACHE_HOME/dlradar/zoo-figures.json, else under ~/.cache; None without a home."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative path
        return Path(xdg) / "dlradar" / CACHE_NAME
    try:
        return Path.home() / ".cache" / "dlradar" / CACHE_NAME
    except RuntimeError:  # no HOME and no passwd entry
        return None


def definition_files(bench_dir: Path = BENCH_DIR) -> list[Path]:
    """The source files that define the zoo's models and how their work is counted."""
    models = sorted((bench_dir / "models").glob("*.py"))
    return [bench_dir / "zoo.py", bench_dir / "flops.py", *models]


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)  # read from the installed metadata: imports nothing
    except metadata.PackageNotFoundError:
        return "absent"


def zoo_key(bench_dir: Path = BENCH_DIR) -> str:
    """A hash of everything that determines the zoo's rows (see the module's docstring)."""
    digest = hashlib.sha256()
    versions = {name: _library_version(name) for name in LIBRARIES}
    versions |= {
        "dlradar": core.__version__,
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
    }
    digest.update(json.dumps([CACHE_FORMAT, versions], sort_keys=True).encode())
    for path in definition_files(bench_dir):
        digest.update(f"\0{path.relative_to(bench_dir).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def list_zoo(
    family: str | None = None, *, progress: Progress | None = None, notice: Notice | None = None
) -> list[dict[str, Any]]:
    """One row per model of the zoo (of `family` if given), in registry order.

    Counts the params and FLOPs (batch 1, full size) of the models the cache lacks, telling
    `progress` what it is doing; `notice` hears why the cache could not be written.
    """
    path = default_cache_file()
    try:
        key = zoo_key()
    except OSError:  # the zoo's sources are not readable (installed as bytecode only): no cache
        key, path = "", None
    cache = _read(path)
    entry = _valid_entry(cache.get("entries", {}).get(key))
    fresh = entry is None
    if entry is None:
        if progress:
            progress("loading the model zoo (torch, transformers)")
        entry = {"models": _zoo_meta(), "figures": {}}
    models = [m for m in entry["models"] if not family or m["family"] == family]
    missing = [m["name"] for m in models if m["name"] not in entry["figures"]]
    if missing:
        entry["figures"] |= _count(missing, progress)
    if fresh or missing:
        if progress:
            progress(None)
        entry["written"] = datetime.now(UTC).isoformat(timespec="seconds")
        cache.setdefault("entries", {})[key] = entry
        _write(path, cache, notice)
    return [_row(m, entry["figures"][m["name"]]) for m in models]


def zoo_meta() -> list[dict[str, Any]]:
    """What the zoo says about each model (name, family, input, source, task, quick), from the
    cache when this zoo was listed before: a dashboard page then never imports torch (seconds
    of a first load). Without a cache entry it loads the zoo and stores the entry."""
    path = default_cache_file()
    try:
        key = zoo_key()
    except OSError:
        return _zoo_meta()
    cache = _read(path)
    entry = _valid_entry(cache.get("entries", {}).get(key))
    if entry is not None:
        return list(entry["models"])
    entry = {"models": _zoo_meta(), "figures": {}}
    entry["written"] = datetime.now(UTC).isoformat(timespec="seconds")
    cache.setdefault("entries", {})[key] = entry
    _write(path, cache, None)
    return list(entry["models"])


def _row(meta: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    merged = meta | figures
    return {name: merged[name] for name in ROW_ORDER}


def _zoo_meta() -> list[dict[str, Any]]:
    from bench.zoo import list_models  # torch and transformers: only when something is counted

    return [{name: getattr(spec, name) for name in META_FIELDS} for spec in list_models()]


def _count(names: list[str], progress: Progress | None) -> dict[str, dict[str, Any]]:
    from bench.zoo import get_model

    figures = {}
    for done, name in enumerate(names):
        if progress:
            progress(f"counting params and FLOPs: {done + 1}/{len(names)} {name}")
        spec = get_model(name)
        count = spec.flops(1)
        figures[name] = {
            "params": spec.params(),
            "flops": count.flops,
            "macs": count.macs,
            "flop_method": count.method,
        }
    return figures


# --- the cache file --------------------------------------------------------------------------


def _read(path: Path | None) -> dict[str, Any]:
    """The cache's content, or an empty cache when it is missing, unreadable or not ours."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError covers bad JSON and bad UTF-8
        return {}
    if not (
        isinstance(data, dict)
        and data.get("format") == CACHE_FORMAT
        and isinstance(data.get("entries"), dict)
    ):
        return {}
    return data


def _valid_entry(entry: Any) -> dict[str, Any] | None:
    """The entry if every field has the shape list_zoo relies on, else None (it is recounted)."""
    if not isinstance(entry, dict):
        return None
    models, figures = entry.get("models"), entry.get("figures")
    if not isinstance(models, list) or not isinstance(figures, dict) or not models:
        return None
    for meta in models:
        if not isinstance(meta, dict) or set(meta) != set(META_FIELDS):
            return None
        if not isinstance(meta["name"], str) or not isinstance(meta["family"], str):
            return None
    names = {meta["name"] for meta in models}
    for name, counted in figures.items():
        if name not in names or not _valid_figures(counted):
            return None
    return entry


def _valid_figures(counted: Any) -> bool:
    if not isinstance(counted, dict) or set(counted) != set(FIGURE_FIELDS):
        return False
    numbers = [counted[f] for f in ("params", "flops", "macs")]
    return all(type(n) is int and n >= 0 for n in numbers) and isinstance(
        counted["flop_method"], str
    )


def _write(path: Path | None, cache: dict[str, Any], notice: Notice | None) -> None:
    """Write atomically (a concurrent reader sees the old file or the new one), newest keys only."""
    if path is None:
        return
    entries = [(k, v) for k, v in cache["entries"].items() if isinstance(v, dict)]
    entries.sort(key=lambda item: str(item[1].get("written", "")), reverse=True)
    text = json.dumps({"format": CACHE_FORMAT, "entries": dict(entries[:KEEP_KEYS])}, indent=1)
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        if temp:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        if notice:
            notice(f"note: could not write the zoo cache {path} ({exc.strerror or exc})")
