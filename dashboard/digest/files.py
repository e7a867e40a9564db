"""Writing the digest's and the feeds' files: atomically, and only when their text changed."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import DlradarError


def writable_directory(path: Path, setting: str) -> Path:
    """`path` as a directory to write into; DlradarError naming `setting` when it is a file."""
    if path.exists() and not path.is_dir():
        raise DlradarError(f"{setting} = {str(path)!r} is a file, not a directory")
    return path


def write_file(path: Path, text: str) -> bool:
    """Write atomically (temp file + rename); False when the file already holds `text`."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True
