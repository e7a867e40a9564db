"""Garbage-collector settings for bulk work (a big import, indexing, re-tagging).

A bulk loop allocates millions of short-lived, acyclic objects (records, rows, strings):
reference counting frees every one of them, yet each 700 allocations wake the cyclic
collector, which re-scans whatever is alive. At 100k imported papers that scanning cost
about 1 CPU-second of the main process's 7 (scripts/ingest.py). Inside `paused_gc()`
the objects alive at the start are frozen out of every scan and automatic collection is
off; `young_collect()` once per page still frees any cycle a page made, scanning only
what that page allocated and kept.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Turn off automatic cyclic collection for the body; restore it however the body ends.

    The collector is process-wide: this is for batch jobs (import, indexing, tagging), not
    for code that a threaded server (the dashboard) runs.
    """
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def young_collect() -> None:
    """Collect cycles among the objects allocated since the last collection (cheap)."""
    gc.collect(0)
