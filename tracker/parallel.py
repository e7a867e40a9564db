"""Parses a big file in a second process while this one stores, so import uses both cores.

The reader process sends pickled Pages through a bounded queue (back-pressure keeps memory
flat); this process stores each page as it arrives. A parse error in the reader is re-raised
here with its message. If this process dies (SIGKILL), the reader notices its parent is gone
and exits instead of blocking forever on a full queue.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.bulk import paused_gc, young_collect
from core.errors import DlradarError, FormatError
from tracker.sources.base import Page

# Files smaller than this are parsed in-process: starting a process costs more than it saves.
PARALLEL_MIN_BYTES = 8_000_000
_QUEUE_PAGES = 4
_DONE = "done"
_FAILED = "failed"


def _context() -> Any:
    # fork shares the already-imported parser modules; spawn would import them again.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _produce(read: Callable[[Path], Iterator[Page]], path: Path, out: Any, parent: int) -> None:
    def put(item: object) -> None:
        while True:
            try:
                out.put(item, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:  # the importer was killed: nobody will read this
                    os._exit(1)

    try:
        with paused_gc():
            for page in read(path):
                put(page)
                young_collect()
    except DlradarError as exc:
        put((_FAILED, str(exc)))
    except Exception as exc:
        put((_FAILED, f"{path.name}: reader crashed: {type(exc).__name__}: {exc}"))
    else:
        put((_DONE, ""))


def read_in_background(read: Callable[[Path], Iterator[Page]], path: Path) -> Iterator[Page]:
    """Yield the Pages of `read(path)`, parsed in a child process when the file is big."""
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        yield from read(path)
        return
    ctx = _context()
    pages: Any = ctx.Queue(maxsize=_QUEUE_PAGES)
    reader = ctx.Process(target=_produce, args=(read, path, pages, os.getpid()), daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = pages.get(timeout=5.0)
            except queue.Empty:
                if not reader.is_alive():
                    raise FormatError(
                        f"{path.name}: the reader process died (exit code {reader.exitcode})"
                    ) from None
                continue
            if isinstance(item, Page):
                yield item
                continue
            kind, message = item
            if kind == _FAILED:
                raise FormatError(message)
            return
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join(timeout=5)
