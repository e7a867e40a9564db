"""`dlradar import`: reads saved source files offline with the parsers `fetch` uses live.

The format is detected from the file's first few KB unless forced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import sqlite_utils

from core.errors import DlradarError, FormatError
from tracker.ingest import ProgressFn, RunResult, run_is_alive, run_pages
from tracker.parallel import PARALLEL_MIN_BYTES, read_in_background
from tracker.sources import FORMATS, load_format

SNIFF_BYTES = 8192


# The magic bytes of the archives a paper dump is often shipped in (the arXiv snapshot: zip).
COMPRESSED = {
    b"\x1f\x8b": ("gzip", "gunzip"),
    b"PK\x03\x04": ("zip", "unzip"),
    b"BZh": ("bzip2", "bunzip2"),
    b"\xfd7zXZ\x00": ("xz", "unxz"),
    b"\x28\xb5\x2f\xfd": ("zstd", "unzstd"),
}


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from exc


def check_not_compressed(path: Path, head: bytes | None = None) -> None:
    """FormatError naming the archive type when `path` is compressed (no parser reads those)."""
    head = _read_head(path) if head is None else head
    for magic, (kind, tool) in COMPRESSED.items():
        if head.startswith(magic):
            raise FormatError(f"{path}: a {kind}-compressed file; decompress it first ({tool})")


def detect_format(path: Path) -> str:
    """Name of the format whose sniffer accepts the start of `path`."""
    raw = _read_head(path)
    check_not_compressed(path, raw)
    head = raw.decode("utf-8", errors="replace")
    if not head.strip():
        raise FormatError(f"{path}: the file is empty (nothing to import)")
    for name in FORMATS:
        if load_format(name).sniff(head):
            return name
    raise FormatError(
        f"{path}: not a format dlradar reads (tried {', '.join(FORMATS)}); "
        "use --format to force one"
    )


def import_file(
    db: sqlite_utils.Database,
    path: Path,
    *,
    fmt: str | None = None,
    progress: ProgressFn | None = None,
    restart: bool = False,
    tag: bool = True,
) -> RunResult:
    """Parse `path` and store its papers as one import run; parse errors end the run as failed.

    An import of the same, unchanged file that was interrupted resumes after its last committed
    line (formats read line by line), unless `restart`. New papers are tagged unless not `tag`
    (a bulk load may tag later, with `dlradar tag` on every core).
    """
    path = path.resolve()
    if not path.is_file():
        raise FormatError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    if fmt:
        check_not_compressed(path)  # else every line would be a warning, and the run "ok"
    name = fmt or detect_format(path)
    module = load_format(name)
    scope = f"file:{path}"
    stat = path.stat()
    params: dict[str, object] = {
        "path": str(path),
        "format": name,
        "mode": "import",
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    read = module.read
    resumed = None if restart else resumable_import(db, name, scope, params)
    if resumed is not None and getattr(module, "RESUMES_AT_LINE", False):
        run_id, after_line = resumed
        params["resumed_from"] = f"line:{after_line}"
        read = partial(module.read, after_line=after_line)
        if progress:
            progress(f"{path.name}: resuming after line {after_line} (run {run_id} was cut off)")

    # A big file is parsed in a second process while this one stores (tracker.parallel), and
    # indexed for search in a third (tracker.search_index).
    big = stat.st_size >= PARALLEL_MIN_BYTES
    return run_pages(
        db,
        name,
        scope,
        read_in_background(read, path),
        params=params,
        progress=progress,
        index_beside=big,
        tag=tag,
    )


def resumable_import(
    db: sqlite_utils.Database, name: str, scope: str, params: dict[str, object]
) -> tuple[int, int] | None:
    """(run id, line) of the latest import of this file when it was cut off with a committed
    `line:N` cursor and the file is unchanged since (same size and modification time)."""
    row = db.execute(
        "SELECT id, status, message, started_at, cursor, params FROM fetch_runs"
        " WHERE source = ? AND scope = ? ORDER BY id DESC LIMIT 1",
        [name, scope],
    ).fetchone()
    if row is None:
        return None
    run_id, status, message, started_at, cursor, stored = row
    if status in ("ok", "empty") or run_is_alive(status, message, started_at):
        return None
    match = re.fullmatch(r"line:(\d+)", cursor or "")
    try:
        before = json.loads(stored or "{}")
    except ValueError:
        return None
    unchanged = all(before.get(key) == params[key] for key in ("size", "mtime_ns"))
    if not (match and unchanged):
        return None
    return int(run_id), int(match.group(1))


@dataclass
class Skipped:
    """A file found in a directory that is in no format dlradar reads (documentation, say)."""

    path: Path
    reason: str


def import_paths(
    db: sqlite_utils.Database,
    paths: list[Path],
    *,
    fmt: str | None = None,
    progress: ProgressFn | None = None,
    restart: bool = False,
    tag: bool = True,
) -> list[RunResult | Skipped | DlradarError]:
    """Import each file (directories recursively); a failing file does not stop the others.

    A file named explicitly must be readable; one found inside a directory that no format
    recognises is skipped (and reported), so a folder of mixed files can be imported at once.
    """
    outcomes: list[RunResult | Skipped | DlradarError] = []
    for path, explicit in _expand(paths):
        try:
            if not explicit and fmt is None:
                try:
                    detect_format(path)
                except FormatError as exc:
                    outcomes.append(Skipped(path, str(exc)))
                    continue
            outcomes.append(
                import_file(db, path, fmt=fmt, progress=progress, restart=restart, tag=tag)
            )
        except DlradarError as exc:
            outcomes.append(exc)
    return outcomes


def _expand(paths: list[Path]) -> Iterator[tuple[Path, bool]]:
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and not found.name.startswith("."):
                    yield found, False
        else:
            yield path, True
