"""Run bookkeeping of tracker.ingest.run_pages: what `fetch_runs` holds after each page and at
the end, whatever ends the run (the atomicity of a page is tested in test_kill.py); how a run
sums itself up and names its warnings; what it does once its pages are in (search index,
tagging, similar-papers index, corpus summary); and when a run stored as running is alive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import psutil
import pytest
import sqlite_utils

from core.errors import DlradarError
from tracker import ingest, search_index
from tracker.record import PaperRecord
from tracker.sources.base import Page


def _page(n: int, cursor: str | None, warnings: tuple[str, ...] = ()) -> Page:
    records = [
        PaperRecord(source="jsonl", source_id=f"{n}-{i}", title=f"Paper {i} of page {n} here",
                    authors=[f"Author {n}{i}"], arxiv_id=f"2402.{n:02d}{i:03d}")
        for i in range(3)
    ]  # fmt: skip
    return Page(records, cursor=cursor, warnings=list(warnings))


def _run(db: sqlite_utils.Database) -> dict[str, Any]:
    cursor = db.execute("SELECT * FROM fetch_runs ORDER BY id DESC LIMIT 1")
    columns = [d[0] for d in cursor.description]
    row = dict(zip(columns, cursor.fetchone(), strict=True))
    row["errors"] = json.loads(row["errors"])
    return row


def test_each_committed_page_is_in_the_run_row_and_a_page_without_cursor_keeps_the_last(
    db: sqlite_utils.Database,
) -> None:
    seen_mid_run: list[tuple[Any, ...]] = []
    messages: list[str] = []

    def progress(message: str) -> None:
        messages.append(message)
        row = _run(db)
        seen_mid_run.append(
            (row["status"], row["seen"], row["pages"], row["cursor"], row["errors"])
        )

    pages = [_page(1, "c1", ("w1",)), _page(2, None), _page(3, None, ("w3",))]
    result = ingest.run_pages(db, "jsonl", "scope", iter(pages), params={"a": 1}, progress=progress)
    assert seen_mid_run[:3] == [
        ("running", 3, 1, "c1", ["w1"]),
        ("running", 6, 2, "c1", ["w1"]),
        ("running", 9, 3, "c1", ["w1", "w3"]),
    ]
    assert messages[:3] == [
        "jsonl: page 1, 3 read, 3 new, 0 updated",
        "jsonl: page 2, 6 read, 6 new, 0 updated",
        "jsonl: page 3, 9 read, 9 new, 0 updated",
    ]
    row = _run(db)
    assert (row["status"], row["seen"], row["new"], row["pages"], row["cursor"]) == (
        "ok", 9, 9, 3, "c1",
    )  # fmt: skip
    assert row["errors"] == ["w1", "w3"]
    assert row["message"] == result.summary()
    assert row["message"].startswith(
        "jsonl scope: 9 read, 9 new, 0 updated; tagged 9; 2 warning(s): w1; w3"
    )
    assert json.loads(row["params"]) == {"a": 1}
    assert row["finished_at"] and row["started_at"] <= row["finished_at"]
    assert ingest.last_cursor(db, "jsonl", "scope") == "c1"
    assert ingest.last_cursor(db, "jsonl", "another scope") is None


def test_a_failed_run_records_its_warnings_and_then_its_error(db: sqlite_utils.Database) -> None:
    def pages() -> Any:
        yield _page(1, "c1", ("w1",))
        raise DlradarError("HTTP 503 three times")

    result = ingest.run_pages(db, "jsonl", "scope", pages())
    assert (result.status, result.error) == ("partial", "HTTP 503 three times")
    row = _run(db)
    assert row["status"] == "partial" and row["errors"] == ["w1", "HTTP 503 three times"]
    assert row["message"].endswith("; FAILED: HTTP 503 three times")

    def nothing() -> Any:
        raise DlradarError("no connection")
        yield  # pragma: no cover

    result = ingest.run_pages(db, "jsonl", "scope", nothing())
    assert (result.status, _run(db)["errors"]) == ("failed", ["no connection"])


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (KeyboardInterrupt(), "interrupted: KeyboardInterrupt"),
        (RuntimeError("boom: "), "interrupted: RuntimeError: boom"),
        (RuntimeError("no room on disk X"), "interrupted: RuntimeError: no room on disk X"),
        (ValueError(), "interrupted: ValueError"),
    ],
)
def test_an_interrupted_run_says_so_and_reraises(
    db: sqlite_utils.Database, error: BaseException, expected: str
) -> None:
    def pages() -> Any:
        yield _page(1, "c1")
        raise error

    with pytest.raises(type(error)):
        ingest.run_pages(db, "jsonl", "scope", pages())
    row = _run(db)
    assert (row["status"], row["seen"], row["cursor"]) == ("interrupted", 3, "c1")
    assert row["errors"] == [expected]


def test_an_index_that_cannot_be_updated_is_a_warning_not_a_failure(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def busy(database: sqlite_utils.Database, progress: object = None) -> None:
        calls.append(progress)
        raise search_index.IndexBusy("locked")

    monkeypatch.setattr(search_index, "index_pending", busy)

    def progress(message: str) -> None:
        pass

    result = ingest.run_pages(db, "jsonl", "scope", iter([_page(1, "c1")]), progress=progress)
    assert calls == [progress]  # the index reports its progress through the caller's
    assert result.status == "ok"
    assert result.warnings == ["search index busy (another import?): papers stay queued for it"]

    def broken(database: sqlite_utils.Database, progress: object = None) -> None:
        raise DlradarError("disk full")

    monkeypatch.setattr(search_index, "index_pending", broken)
    result = ingest.run_pages(db, "jsonl", "scope 2", iter([_page(2, "c2")]))
    assert result.warnings == ["search index not updated: disk full"]
    assert _run(db)["errors"] == ["search index not updated: disk full"]


class _Process:
    """psutil.Process of a process created at `created` (a UTC datetime), or raising `error`."""

    asked: ClassVar[list[int]] = []

    def __init__(self, created: datetime | None, error: BaseException | None = None) -> None:
        self.created = created
        self.error = error

    def __call__(self, pid: int) -> _Process:
        self.asked.append(pid)
        if self.error is not None:
            raise self.error
        return self

    def create_time(self) -> float:
        assert self.created is not None
        return self.created.timestamp()


STARTED = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_a_running_run_is_alive_while_the_process_that_wrote_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = STARTED.isoformat()

    def alive(created: datetime | None, error: BaseException | None = None, **kw: Any) -> bool:
        process = _Process(created, error)
        monkeypatch.setattr(ingest.psutil, "Process", process)
        args = {"status": "running", "message": "pid 4242", "started_at": started, **kw}
        return ingest.run_is_alive(**args)

    _Process.asked.clear()
    assert alive(STARTED - timedelta(hours=1))  # started before the run: the run's own process
    assert _Process.asked == [4242]
    assert alive(STARTED + timedelta(seconds=1))  # a second of slack for clocks
    # A pid the system gave to a process started after the run: the run's process is gone.
    assert not alive(STARTED + timedelta(seconds=1.5))
    assert not alive(STARTED + timedelta(days=1))
    for error in (
        psutil.NoSuchProcess(4242),
        psutil.AccessDenied(4242),
        OverflowError("pid too big"),
        ValueError("pid out of range"),
    ):
        assert not alive(None, error)
    # A start time it cannot read: the process is given the benefit of the doubt.
    assert alive(STARTED + timedelta(days=1), started_at="yesterday")
    assert alive(STARTED + timedelta(days=1), started_at=None)
    # Not ours to judge: no pid in the message (a run of an older version).
    assert alive(STARTED + timedelta(days=1), message=None)
    assert alive(STARTED + timedelta(days=1), message="fetching page 3")
    assert alive(STARTED + timedelta(days=1), message="pid 4242 and more")
    # Only a running run can be alive.
    for status in ("ok", "empty", "partial", "failed", "interrupted"):
        assert not alive(STARTED - timedelta(hours=1), status=status)


@pytest.mark.parametrize(
    ("status", "created", "shown"),
    [
        ("running", STARTED - timedelta(hours=1), "running"),
        ("running", STARTED + timedelta(days=1), "interrupted"),
        ("ok", STARTED + timedelta(days=1), "ok"),
        ("partial", STARTED + timedelta(days=1), "partial"),
        ("failed", STARTED - timedelta(hours=1), "failed"),
    ],
)
def test_a_run_is_shown_interrupted_only_when_it_says_running_and_its_process_is_gone(
    monkeypatch: pytest.MonkeyPatch, status: str, created: datetime, shown: str
) -> None:
    monkeypatch.setattr(ingest.psutil, "Process", _Process(created))
    assert ingest.shown_status(status, "pid 4242", STARTED.isoformat()) == shown


def test_an_unusable_entry_leaves_its_page_with_a_warning_naming_file_page_and_entry(
    db: sqlite_utils.Database,
) -> None:
    def entry(source_id: Any, title: str = "A usable title", **kw: Any) -> PaperRecord:
        return PaperRecord(source="jsonl", source_id=source_id, title=title, **kw)

    pages = [
        _page(1, "c1"),
        Page(
            [
                entry("good", title="A first usable title", arxiv_id="2403.00001"),
                entry(5),  # no text: shown as "?"
                entry("x" * 100, title=""),  # its id cut to 80 characters in the warning
                entry("kept", title="Another usable title", year=99999, arxiv_id="2403.00002"),
            ]
        ),
    ]
    result = ingest.run_pages(db, "jsonl", "file:/data/in/listing.jsonl", iter(pages))
    assert result.warnings[:2] == [
        "listing.jsonl page 2 entry 2 (?): field source_id: expected text, got int 5;"
        " record skipped",
        f"listing.jsonl page 2 entry 3 ({'x' * 80}): field title: empty after removing control"
        " characters; record skipped",
    ]
    (year,) = result.warnings[2:]  # kept, without its year
    assert year.startswith("listing.jsonl page 2 entry 4 (kept): field year: 99999 is outside")
    assert (result.counts.seen, result.counts.new) == (5, 5)
    kept = db.execute("SELECT year FROM papers WHERE arxiv_id = '2403.00002'").fetchall()
    assert kept == [(None,)]
    # A live source's warnings name the source and its scope.
    live = ingest.run_pages(db, "openreview", "ICLR.cc/2024", iter([Page([entry(7)])]))
    assert live.warnings == [
        "openreview ICLR.cc/2024 page 1 entry 1 (?): field source_id: expected text, got int 7;"
        " record skipped"
    ]
    # A page its parser already checked (naming its lines) is not checked again.
    checked = Page([entry("ok", year=99999, arxiv_id="2403.00003")], checked=True)
    assert ingest.run_pages(db, "jsonl", "file:x.jsonl", iter([checked])).warnings == []


def test_the_summary_line_says_what_was_read_and_stored_and_what_went_wrong() -> None:
    from tracker.store import StoreCounts

    def run(**kw: Any) -> ingest.RunResult:
        base: dict[str, Any] = {
            "run_id": 1,
            "source": "arxiv-api",
            "scope": "cs.LG",
            "status": "ok",
        }
        return ingest.RunResult(**(base | kw))

    counts = StoreCounts(seen=12, new=5, updated=3)
    assert run(counts=counts).summary() == "arxiv-api cs.LG: 12 read, 5 new, 3 updated"
    assert run(counts=counts, resumed_from="start=200").summary() == (
        "arxiv-api cs.LG: 12 read, 5 new, 3 updated (resumed after start=200)"
    )
    assert (
        run(status="empty").summary() == "arxiv-api cs.LG: 0 read, 0 new, 0 updated (nothing new)"
    )
    assert run(status="empty", notes={"empty": "a weekend", "other": "x"}).summary() == (
        "arxiv-api cs.LG: 0 read, 0 new, 0 updated (nothing new: a weekend)"
    )
    # Notes say something only for an empty run.
    assert (
        run(notes={"empty": "a weekend"}).summary() == "arxiv-api cs.LG: 0 read, 0 new, 0 updated"
    )
    assert run(counts=counts, tagged="tagged 5 (cnn 3)").summary() == (
        "arxiv-api cs.LG: 12 read, 5 new, 3 updated; tagged 5 (cnn 3)"
    )
    # The first three warnings, and how many there were in all (kept and only counted).
    warned = run(warnings=["w1", "w2", "w3", "w4"], more_warnings=6)
    assert (
        warned.summary() == "arxiv-api cs.LG: 0 read, 0 new, 0 updated; 10 warning(s): w1; w2; w3"
    )
    assert run(warnings=["w1"]).summary().endswith("; 1 warning(s): w1")
    failed = run(status="partial", warnings=["w1"], error="HTTP 503", resumed_from="c",
                 tagged="tagged 1")  # fmt: skip
    assert failed.summary() == (
        "arxiv-api cs.LG: 0 read, 0 new, 0 updated (resumed after c); tagged 1;"
        " 1 warning(s): w1; FAILED: HTTP 503"
    )


def test_a_run_keeps_the_first_thousand_warnings_and_counts_the_rest(
    db: sqlite_utils.Database,
) -> None:
    mid_run: list[int] = []

    def progress(message: str) -> None:
        if message.startswith("jsonl: page"):
            mid_run.append(len(_run(db)["errors"]))

    many = [f"w{i}" for i in range(2600)]
    pages = [_page(1, "c1", tuple(many[:999])), _page(2, "c2", ("x1", "x2", "x3")),
             _page(3, "c3", tuple(many))]  # fmt: skip
    result = ingest.run_pages(db, "jsonl", "scope", iter(pages), progress=progress)
    assert ingest.MAX_WARNINGS == 1000
    assert mid_run == [999, 1000, 1000]  # the stored list never grows beyond it
    assert result.warnings == [*many[:999], "x1"]
    assert result.more_warnings == 2 + 2600
    assert "; 3602 warning(s): w0; w1; w2" in result.summary()
    assert _run(db)["errors"] == [*many[:999], "x1", "... and 2,602 more warning(s)"]


def _summary_is_stored(db: sqlite_utils.Database) -> bool:
    """Whether the corpus summary readers get is the stored one (else they count for themselves)."""
    from tracker import overview

    row = db.execute("SELECT stamp FROM corpus_summary WHERE key = 'corpus'").fetchone()
    return row is not None and row[0] == overview._stamp(db)


def test_a_run_that_stored_papers_tags_them_and_brings_the_indexes_and_summary_up_to_date(
    db: sqlite_utils.Database,
) -> None:
    from tracker import similar

    messages: list[str] = []
    result = ingest.run_pages(
        db, "jsonl", "scope", iter([_page(1, "c1")]), progress=messages.append
    )
    assert result.tagged is not None and result.tagged.startswith("tagged 3")
    assert "jsonl: tagging the new papers" in messages
    assert messages[-1] == "jsonl: updating the similar-papers index"
    directory = similar.index_dir(db)
    assert directory is not None and similar.load_index(directory) is not None
    assert _summary_is_stored(db)
    assert result.warnings == []


def test_a_run_without_tagging_still_stores_the_summary_and_builds_no_similar_index(
    db: sqlite_utils.Database,
) -> None:
    from tracker import similar

    messages: list[str] = []
    result = ingest.run_pages(
        db, "jsonl", "scope", iter([_page(1, "c1")]), progress=messages.append, tag=False
    )
    assert result.tagged is None and "tagged" not in result.summary()
    assert not any("tagging" in m or "similar" in m for m in messages)
    assert db.execute("SELECT COUNT(*) FROM paper_families").fetchone()[0] == 0
    directory = similar.index_dir(db)
    assert directory is not None and similar.load_index(directory) is None
    assert _summary_is_stored(db)


def test_a_failed_tagging_is_a_warning_and_the_summary_is_still_stored(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker import tagging

    def failing(database: sqlite_utils.Database) -> object:
        raise DlradarError("taxonomy missing")

    monkeypatch.setattr(tagging, "tag_papers", failing)
    result = ingest.run_pages(db, "jsonl", "scope", iter([_page(1, "c1")]))
    assert result.status == "ok" and result.tagged is None
    assert result.warnings == ["tagging failed, run `dlradar tag`: taxonomy missing"]
    assert _summary_is_stored(db)


@pytest.mark.parametrize(
    ("families", "said"),
    [
        ({"cnn": 4, "rnn": 3, "gan": 2, "vae": 1}, "tagged 7 (cnn 4, rnn 3, gan 2, ...)"),
        ({"cnn": 4, "rnn": 3, "gan": 2}, "tagged 7 (cnn 4, rnn 3, gan 2)"),
        ({"cnn": 4}, "tagged 7 (cnn 4)"),
        ({}, "tagged 7"),
    ],
)
def test_the_tagging_is_summed_up_by_its_three_biggest_families(
    db: sqlite_utils.Database,
    monkeypatch: pytest.MonkeyPatch,
    families: dict[str, int],
    said: str,
) -> None:
    from collections import Counter

    from tracker import tagging
    from tracker.tagging.store import TagStats

    monkeypatch.setattr(
        tagging, "tag_papers", lambda database: TagStats(7, families=Counter(families))
    )
    result = ingest.run_pages(db, "jsonl", "scope", iter([_page(1, "c1")]))
    assert result.tagged == said


@pytest.mark.parametrize("error", [DlradarError("bad"), OSError("disk full"), ValueError("bad"),
                                   MemoryError("too big")])  # fmt: skip
def test_a_similar_index_that_cannot_be_updated_is_a_warning(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    from tracker import similar

    def failing(database: sqlite_utils.Database) -> object:
        raise error

    monkeypatch.setattr(similar, "ensure_index", failing)
    result = ingest.run_pages(db, "jsonl", "scope", iter([_page(1, "c1")]))
    assert result.status == "ok"
    assert result.warnings == [f"similar-papers index not updated (built on first use): {error}"]
    assert _run(db)["errors"] == result.warnings


def test_a_database_without_a_file_gets_no_similar_index(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker import similar

    def unexpected(database: sqlite_utils.Database) -> object:
        raise AssertionError("an in-memory database's index would die with the process")

    monkeypatch.setattr(similar, "index_dir", lambda database: None)  # as for ":memory:"
    monkeypatch.setattr(similar, "ensure_index", unexpected)
    messages: list[str] = []
    result = ingest.run_pages(
        db, "jsonl", "scope", iter([_page(1, "c1")]), progress=messages.append
    )
    assert (result.status, result.warnings) == ("ok", [])
    assert not any("similar" in m for m in messages)


@pytest.mark.parametrize(
    ("error", "warned"),
    [
        (RuntimeError("disk full"), ["search indexer beside the import failed: RuntimeError: disk full"]),
        # A busy index beside the import is no failure: this process indexes what is queued.
        (search_index.IndexBusy("locked"), []),
    ],
)  # fmt: skip
def test_an_indexer_beside_a_big_import_that_fails_is_a_warning_unless_the_index_was_busy(
    db: sqlite_utils.Database,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    warned: list[str],
) -> None:
    import os

    parent = os.getpid()
    real = search_index.index_pending

    def failing_in_the_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(search_index, "index_pending", failing_in_the_child)
    pages = [_page(1, "c1"), _page(2, "c2")]
    result = ingest.run_pages(db, "jsonl", "scope", iter(pages), index_beside=True, tag=False)
    assert (result.status, result.warnings) == ("ok", warned)
    assert search_index.backlog(db) == 0  # this process indexed what the indexer left


def test_a_run_that_changed_nothing_neither_tags_nor_touches_the_similar_index(
    db: sqlite_utils.Database,
) -> None:
    ingest.run_pages(db, "jsonl", "scope", iter([_page(1, "c1")]))
    for pages in ([_page(1, "c1")], []):  # the same papers again, then nothing at all
        messages: list[str] = []
        result = ingest.run_pages(db, "jsonl", "scope", iter(pages), progress=messages.append)
        assert (result.counts.new, result.counts.updated, result.tagged) == (0, 0, None)
        assert not any("tagging" in m or "similar" in m for m in messages), messages
