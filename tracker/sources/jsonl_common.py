"""Streaming JSON-lines reading shared by the snapshot and generic formats."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from core.errors import FormatError
from tracker.record import PaperRecord
from tracker.sources.base import Page

PAGE_SIZE = 2000


def first_object(head: str) -> dict[str, Any] | None:
    """The first JSON object of a JSON-lines head, if the head starts with one."""
    line = head.lstrip().split("\n", 1)[0]
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def read_lines(
    path: Path,
    convert: Callable[[dict[str, Any]], PaperRecord | None],
    *,
    label: str,
    page_size: int = PAGE_SIZE,
    after_line: int = 0,
) -> Iterator[Page]:
    """Yield Pages of converted records; bad lines become warnings, never a crash.

    `after_line` resumes an interrupted import: the lines up to it were stored and are skipped
    unparsed.

    A file whose lines are all unreadable raises FormatError (naming the first problem): it is
    not in this format, which must not pass for an empty listing. A file without a non-blank
    line is empty: one Page without records, noted as such.
    """
    records: list[PaperRecord] = []
    warnings: list[str] = []
    yielded = False  # a full page of records went out: the file holds papers
    try:
        handle = path.open("r", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    line_no = 0
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if line_no <= after_line:
                yielded = True  # stored by the interrupted run: the file holds papers
                continue
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
                record = convert(obj) if isinstance(obj, dict) else None
                if record is None:
                    warnings.append(f"{path.name} line {line_no}: not a {label} paper object")
                    continue
            except json.JSONDecodeError as exc:
                cut = "" if line.endswith("\n") else " (the file ends mid-line: truncated?)"
                warnings.append(f"{path.name} line {line_no}: invalid JSON ({exc.msg}){cut}")
                continue
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                warnings.append(f"{path.name} line {line_no}: unusable {label} record ({exc})")
                continue
            records.append(record)
            if len(records) >= page_size:
                yield Page(records, cursor=f"line:{line_no}", warnings=warnings)
                records, warnings = [], []
                yielded = True
    if not (records or yielded) and warnings:
        # Every non-blank line gave a warning, so their count is the number of lines tried.
        first = warnings[0].removeprefix(f"{path.name} ")
        raise FormatError(f"{path.name}: no readable paper in {len(warnings)} line(s); {first}")
    if records or warnings:
        yield Page(records, cursor=f"line:{line_no}", warnings=warnings)
    elif not yielded:
        yield Page([], cursor=f"line:{line_no}", notes={"empty": f"{path.name} holds no papers"})
