"""The garbage-collector pause that bulk loops run under."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
import sqlite_utils

from core.bulk import paused_gc, young_collect
from core.errors import FormatError
from tracker.ingest import run_pages
from tracker.record import PaperRecord
from tracker.sources.base import Page


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle only the cyclic collector frees


def test_paused_gc_turns_collection_off_and_restores_it() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0  # what was alive before is never scanned again
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_paused_gc_restores_collection_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("a page failed")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_paused_gc_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_young_collect_frees_cycles_made_inside_the_pause() -> None:
    with paused_gc():
        Node()
        assert young_collect_count() >= 1


def young_collect_count() -> int:
    before = gc.get_stats()[0]["collected"]
    young_collect()
    return int(gc.get_stats()[0]["collected"] - before)


def test_an_import_gives_the_collector_back_whether_it_ends_well_or_not(
    db: sqlite_utils.Database,
) -> None:
    def pages(fail: bool) -> Iterator[Page]:
        record = PaperRecord(source="jsonl", source_id="p1", title="A paper", arxiv_id="2501.00001")
        yield Page(records=[record])
        assert not gc.isenabled()  # the store loop ran paused
        if fail:
            raise FormatError("line 2: truncated")

    assert run_pages(db, "jsonl", "good", pages(fail=False)).status == "ok"
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert run_pages(db, "jsonl", "bad", pages(fail=True)).status == "partial"
    assert gc.isenabled() and gc.get_freeze_count() == 0
