"""What every source module provides: pages of normalised records, read from a file or fetched live.

A source module (tracker/sources/<name>.py) exposes:

* ``FORMAT``: the format name (``dlradar import --format NAME``) and the ``source`` its records carry;
* ``sniff(head: str) -> bool``: whether the first few KB of a file look like this format;
* ``read(path: Path) -> Iterator[Page]``: parse a saved file offline with the same parser that
  the live fetch uses.

Live fetchers additionally expose ``fetch(*, cursor=None, client=None, base_url=..., **options)
-> Iterator[Page]`` (see tracker.fetching for the options each one takes).
Each Page is stored atomically with the cursor it carries, so an interrupted run resumes there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tracker.record import PaperRecord


@dataclass(slots=True)
class Page:
    """A batch of records stored in one transaction, with the cursor to resume after it."""

    records: list[PaperRecord]
    cursor: str | None = None
    # Problems that did not stop the source, e.g. "entry 88 is cut off: ..."; stored with the run.
    warnings: list[str] = field(default_factory=list)
    # Free-form facts for the run summary, e.g. {"empty_reason": "no announcements on weekends"}.
    notes: dict[str, str] = field(default_factory=dict)
    # Whether the parser already passed each record through tracker.record.validate_record
    # (naming its line); else the store's caller does, naming the entry.
    checked: bool = False


class FileSource(Protocol):
    FORMAT: str

    def sniff(self, head: str) -> bool: ...

    def read(self, path: Path) -> Iterator[Page]: ...


def resume_position(cursor: str | None, scope: str, warnings: list[str]) -> int:
    """Items already done according to a "SCOPE:N" cursor (or a bare "N"); 0 to start over.

    A cursor of another scope (another year, volume or venue) or an unreadable one starts over,
    with a warning saying so.
    """
    if not cursor:
        return 0
    cursor_scope, _, position = cursor.rpartition(":")
    if cursor_scope and cursor_scope != scope:
        warnings.append(f"cursor {cursor!r} belongs to {cursor_scope}, not {scope}; starting over")
        return 0
    try:
        return max(0, int(position))
    except ValueError:
        warnings.append(f"cursor {cursor!r} is not a position; starting over")
        return 0
