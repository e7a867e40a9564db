"""Streaming JSON-lines reading shared by the snapshot and generic formats."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from core.errors import FormatError
from tracker.record import PaperRecord, validate_record
from tracker.sources.base import Page

PAGE_SIZE = 2000
# The longest line read: a paper of the arXiv snapshot with 3,000 authors takes about 300 KB.
MAX_LINE_BYTES = 2_000_000


def text_or_raw(value: Any, clean: Callable[[str], str | None]) -> Any:
    """`clean(value)` for text (None if that leaves nothing); any other value as it is, for
    tracker.record.validate_record to drop with a warning naming the field, where failing
    here would lose the whole line."""
    if isinstance(value, str):
        return clean(value) or None
    return value


def first_object(head: str) -> dict[str, Any] | None:
    """The first JSON object of a JSON-lines head, if the head starts with one."""
    line = head.lstrip().split("\n", 1)[0]
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, a 5,000-digit number, deep nesting
        return None
    return value if isinstance(value, dict) else None


def capped_lines(handle: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | None]:
    """The lines of `handle`, None in place of each line longer than `limit` bytes.

    A long line is skipped in `limit`-sized reads, never held whole: a 50 MB line would
    otherwise cost its bytes, its text and its parsed objects at once (close to 1 GB).
    """
    while True:
        line = handle.readline(limit)
        if not line:
            return
        if len(line) < limit or line.endswith(b"\n"):
            yield line
            continue
        while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
            pass
        yield None


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        # Invalid UTF-8 is read as U+FFFD, as the text of a lenient reader would be; a line
        # that is no JSON fails again, with the JSON's own message.
        return orjson.loads(line.decode("utf-8", errors="replace"))


def read_lines(
    path: Path,
    convert: Callable[[dict[str, Any]], PaperRecord | None],
    *,
    label: str,
    page_size: int = PAGE_SIZE,
    after_line: int = 0,
) -> Iterator[Page]:
    """Yield Pages of converted, validated records; bad lines become warnings, never a crash.

    Each record passes tracker.record.validate_record here, where its line number is known.
    `after_line` resumes an interrupted import: the lines up to it were stored and are skipped
    unparsed.

    A file whose lines are all unreadable raises FormatError (naming the first problem): it is
    not in this format, which must not pass for an empty listing. A file without a non-blank
    line is empty: one Page without records, noted as such.
    """
    records: list[PaperRecord] = []
    warnings: list[str] = []
    unreadable = 0  # lines that gave no record
    yielded = False  # a full page of records went out: the file holds papers
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    line_no = 0
    with handle:
        for line_no, line in enumerate(capped_lines(handle), start=1):
            if line_no <= after_line:
                yielded = True  # stored by the interrupted run: the file holds papers
                continue
            where = f"{path.name} line {line_no}"
            if line is None:
                warnings.append(f"{where}: longer than {MAX_LINE_BYTES:,} bytes; skipped")
                unreadable += 1
                continue
            if not line.strip():
                continue
            try:
                obj = _loads(line)
                record = convert(obj) if isinstance(obj, dict) else None
                if record is None:
                    warnings.append(f"{where}: not a {label} paper object")
                    unreadable += 1
                    continue
            except json.JSONDecodeError as exc:
                cut = "" if line.endswith(b"\n") else " (the file ends mid-line: truncated?)"
                warnings.append(f"{where}: invalid JSON ({exc.msg}){cut}")
                unreadable += 1
                continue
            except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                warnings.append(f"{where}: unusable {label} record ({exc})")
                unreadable += 1
                continue
            checked, problems = validate_record(record, where)
            warnings.extend(problems)
            if checked is None:
                unreadable += 1
                continue
            records.append(checked)
            if len(records) >= page_size:
                yield Page(records, cursor=f"line:{line_no}", warnings=warnings, checked=True)
                records, warnings = [], []
                yielded = True
    if not (records or yielded) and unreadable:
        first = warnings[0].removeprefix(f"{path.name} ")
        raise FormatError(f"{path.name}: no readable paper in {unreadable} line(s); {first}")
    if records or warnings:
        yield Page(records, cursor=f"line:{line_no}", warnings=warnings, checked=True)
    elif not yielded:
        yield Page(
            [],
            cursor=f"line:{line_no}",
            notes={"empty": f"{path.name} holds no papers"},
            checked=True,
        )
