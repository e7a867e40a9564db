"""Render rows for stdout in the formats every listing command takes: table, json, jsonl, csv."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMATS = ("table", "json", "jsonl", "csv")

# C0 and C1 control characters (ESC starts terminal escape sequences, BEL ends OSC ones) and the
# bidirectional overrides that reorder what a terminal shows; tabs and newlines become spaces.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Whole escape sequences go first, so no half of one is left as text: OSC (ESC ] ... BEL or ST)
# and CSI (ESC [ ... final byte).
_ESCAPES = re.compile("\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|\x1b\\[[0-?]*[ -/]*[@-~]")
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal_text(text: str) -> str:
    """Text safe to print on a terminal: no control characters, no escape sequences.

    A title such as 'ESC]52;c;...BEL' would otherwise write the reader's clipboard, and
    'ESC[2J' clear the screen, when `papers --format table` prints it."""
    spaced = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub("", _ESCAPES.sub("", spaced))


def csv_text(text: str) -> str:
    """A CSV cell safe to open in a spreadsheet: terminal-safe, and never read as a formula."""
    cleaned = terminal_text(text)
    if cleaned.startswith(_FORMULA_START) and not _is_number(cleaned):
        return "'" + cleaned
    return cleaned


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(
    rows: Iterable[Mapping[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    max_width: int | None = None,
) -> str:
    """Return the rows as text. `columns` picks and orders table/csv columns (json keeps all)."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([csv_text(_cell(row.get(c))) for c in cols])
        return buffer.getvalue()
    if fmt == "table":
        return _table(rows, cols, max_width or shutil.get_terminal_size((120, 24)).columns)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _table(rows: list[Mapping[str, Any]], cols: list[str], width: int) -> str:
    if not rows:
        return "(no rows)\n"
    cells = [[terminal_text(_cell(r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    # Shrink the widest columns until the table fits the terminal.
    budget = max(width - 2 * (len(cols) - 1), 10 * len(cols))
    while sum(widths) > budget and max(widths) > 10:
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def fit(text: str, w: int) -> str:
        return text if len(text) <= w else text[: max(w - 1, 0)] + "…"

    lines = ["  ".join(c.ljust(w)[:w] for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(
            "  ".join(fit(v, w).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines) + "\n"
