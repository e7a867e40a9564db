"""tracker.fetching's contracts, without a server: the arXiv date window, the client a fetch is
polite with, which run a fetch resumes, what `dlradar runs` lists, and what fetch_source hands a
source module and records (the live path end to end is in test_fetch_resume.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlite_utils

from core.config import Settings, load_settings
from tracker import fetching
from tracker.record import PaperRecord
from tracker.sources.base import Page


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The defaults: no dlradar.toml, no DLRADAR_ variables."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DLRADAR_")]:
        monkeypatch.delenv(name)
    return load_settings()


def _configured(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "custom.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config)


# --- the arXiv window ---------------------------------------------------------------------------


def test_the_arxiv_window_ends_today_and_spans_the_configured_days(
    settings: Settings, tmp_path: Path
) -> None:
    today = date(2025, 3, 10)
    assert fetching.arxiv_window(settings, today=today) == (date(2025, 3, 3), today)  # 7 days
    three = _configured(tmp_path, "[arxiv]\ndays = 3\n")
    assert fetching.arxiv_window(three, today=today) == (date(2025, 3, 7), today)


def test_the_arxiv_window_takes_days_start_and_end_before_the_configuration(
    settings: Settings,
) -> None:
    today = date(2025, 3, 10)
    end = date(2025, 2, 1)
    assert fetching.arxiv_window(settings, days=2, today=today) == (date(2025, 3, 8), today)
    assert fetching.arxiv_window(settings, end=end, today=today) == (date(2025, 1, 25), end)
    assert fetching.arxiv_window(settings, end=end, days=1, today=today) == (date(2025, 1, 31), end)
    start = date(2024, 12, 1)
    assert fetching.arxiv_window(settings, start=start, end=end, today=today) == (start, end)
    assert fetching.arxiv_window(settings, start=start, today=today) == (start, today)


def test_the_arxiv_window_without_a_date_ends_on_the_real_today(settings: Settings) -> None:
    before = date.today()
    first, last = fetching.arxiv_window(settings)
    assert before <= last <= date.today()  # (a test run across midnight sees either day)
    assert (last - first).days == 7


# --- the polite client --------------------------------------------------------------------------


def test_the_fetch_client_is_built_from_the_configuration(
    settings: Settings, tmp_path: Path
) -> None:
    default = fetching.polite_client(settings)
    assert default.min_interval == 3.0
    assert default.timeout == (10.0, 30.0)
    assert default.deadline_s == 300.0
    assert default.max_bytes == 100_000_000
    assert default.policy.retries == 4
    custom = fetching.polite_client(
        _configured(
            tmp_path,
            "[arxiv]\ndelay_seconds = 5\n[sources]\ntimeout_seconds = 12\nretries = 2\n"
            "deadline_seconds = 40\nmax_response_mb = 3\n",
        )
    )
    assert (custom.min_interval, custom.timeout, custom.deadline_s) == (5.0, (10.0, 12.0), 40.0)
    assert (custom.max_bytes, custom.policy.retries) == (3_000_000, 2)


# --- resuming and listing runs ------------------------------------------------------------------


def _add_run(
    db: sqlite_utils.Database,
    source: str,
    scope: str,
    status: str,
    cursor: str | None,
    **columns: Any,
) -> int:
    values = {"source": source, "scope": scope, "status": status, "cursor": cursor}
    values |= {"started_at": "2025-01-01T00:00:00+00:00", **columns}
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    with db.conn:
        cur = db.execute(
            f"INSERT INTO fetch_runs ({names}) VALUES ({marks})", list(values.values())
        )
    return int(cur.lastrowid or 0)


@pytest.mark.parametrize("status", ["partial", "failed", "interrupted", "running"])
def test_a_run_that_did_not_complete_is_resumed_from_its_cursor(
    db: sqlite_utils.Database, status: str
) -> None:
    _add_run(db, "arxiv-api", "cs.LG a..b", status, "start=200")
    assert fetching.resume_cursor(db, "arxiv-api", "cs.LG a..b") == "start=200"
    # Only the same source and scope resume it.
    assert fetching.resume_cursor(db, "arxiv-api", "cs.LG a..c") is None
    assert fetching.resume_cursor(db, "openreview", "cs.LG a..b") is None


@pytest.mark.parametrize("status", ["ok", "empty"])
def test_a_completed_run_is_not_resumed(db: sqlite_utils.Database, status: str) -> None:
    _add_run(db, "arxiv-api", "scope", "partial", "start=100")
    _add_run(db, "arxiv-api", "scope", status, "start=400")
    assert fetching.resume_cursor(db, "arxiv-api", "scope") is None


def test_only_the_latest_run_of_a_scope_decides_and_a_run_without_cursor_starts_over(
    db: sqlite_utils.Database,
) -> None:
    _add_run(db, "arxiv-api", "scope", "partial", "start=100")
    _add_run(db, "arxiv-api", "scope", "partial", "start=300")
    _add_run(db, "arxiv-api", "other", "partial", "start=900")  # a later run of another scope
    assert fetching.resume_cursor(db, "arxiv-api", "scope") == "start=300"
    _add_run(db, "arxiv-api", "scope", "failed", None)  # failed before its first page
    assert fetching.resume_cursor(db, "arxiv-api", "scope") is None
    _add_run(db, "arxiv-api", "scope", "failed", "")
    assert fetching.resume_cursor(db, "arxiv-api", "scope") is None


def test_runs_are_listed_newest_first_by_source_up_to_the_limit(db: sqlite_utils.Database) -> None:
    ids = [
        _add_run(db, source, "s", "ok", None, params=json.dumps({"n": n}), errors=json.dumps([n]))
        for n, source in enumerate(["arxiv-api", "jsonl", "arxiv-api", "jsonl", "arxiv-api"])
    ]
    assert [r["id"] for r in fetching.list_runs(db)] == ids[::-1]
    assert [r["id"] for r in fetching.list_runs(db, limit=2)] == ids[:2:-1]
    assert [r["id"] for r in fetching.list_runs(db, limit=0)] == ids[::-1]  # 0 = all
    assert [r["id"] for r in fetching.list_runs(db, source="jsonl")] == [ids[3], ids[1]]
    assert [r["id"] for r in fetching.list_runs(db, source="arxiv-api", limit=2)] == [
        ids[4],
        ids[2],
    ]
    assert fetching.list_runs(db, source="neurips") == []
    assert len(fetching.list_runs(db, limit=20)) == 5
    # The default limit is 20 runs.
    for _ in range(20):
        _add_run(db, "jsonl", "s", "ok", None)
    assert len(fetching.list_runs(db)) == 20
    newest = fetching.list_runs(db, source="arxiv-api", limit=1)[0]
    assert newest["params"] == {"n": 4} and newest["errors"] == [4]  # decoded from JSON
    assert (newest["source"], newest["scope"], newest["status"]) == ("arxiv-api", "s", "ok")


def test_a_listed_run_whose_process_is_gone_is_interrupted(db: sqlite_utils.Database) -> None:
    _add_run(db, "jsonl", "s", "running", "line:3", message="pid 999999999")
    _add_run(db, "jsonl", "s", "running", None, message=f"pid {os.getpid()}",
             started_at="2999-01-01T00:00:00+00:00")  # fmt: skip
    # This process's pid, but the process started after the run did: a reused pid.
    _add_run(db, "jsonl", "s", "running", None, message=f"pid {os.getpid()}",
             started_at="2000-01-01T00:00:00+00:00")  # fmt: skip
    assert [r["status"] for r in fetching.list_runs(db)] == [
        "interrupted",
        "running",
        "interrupted",
    ]
    assert fetching.list_runs(db)[2]["cursor"] == "line:3"


# --- fetch_source -------------------------------------------------------------------------------


class FakeSource:
    """A source module: records how fetch_source called it and yields one page (or fails)."""

    def __init__(self, fail: bool = False) -> None:
        self.formats: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def load(self, name: str) -> Any:
        self.formats.append(name)
        return SimpleNamespace(fetch=self.fetch)

    def fetch(self, **kw: Any) -> Iterator[Page]:
        self.calls.append(kw)
        n = len(self.calls)
        record = PaperRecord(source="x", source_id=f"p{n}", title=f"A paper numbered {n} here",
                             authors=["A. Author"], arxiv_id=f"2501.{n:05d}")  # fmt: skip
        yield Page([record], cursor=f"cursor-{n}")
        if self.fail:
            from core.errors import DlradarError

            raise DlradarError("HTTP 503")


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> FakeSource:
    fake = FakeSource()
    monkeypatch.setattr(fetching, "load_format", fake.load)
    return fake


def test_an_arxiv_fetch_gets_the_configured_categories_page_size_and_limit(
    db: sqlite_utils.Database, source: FakeSource, settings: Settings
) -> None:
    window = {"start": date(2025, 1, 1), "end": date(2025, 1, 8)}
    result = fetching.fetch_source(db, "arxiv", settings, options=dict(window))
    assert source.formats == ["arxiv-api"]
    (call,) = source.calls
    assert call["categories"] == ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML"]
    assert (call["page_size"], call["max_results"], call["cursor"]) == (200, 2000, None)
    assert call["client"].min_interval == 3.0  # the configured client
    assert (result.source, result.status, result.counts.new) == ("arxiv-api", "ok", 1)
    assert result.scope == "cs.LG,cs.CV,cs.CL,cs.AI,cs.NE,stat.ML 2025-01-01..2025-01-08"
    run = fetching.list_runs(db)[0]
    # What the run was asked, without the client: enough to tell what it covered.
    assert run["params"] == {
        "start": "2025-01-01",
        "end": "2025-01-08",
        "categories": ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML"],
        "page_size": 200,
        "max_results": 2000,
        "resumed_from": None,
    }
    # Options given win over the configuration; the spelling of categories is arXiv's.
    given = {**window, "categories": ["CS.CV"], "page_size": 5, "max_results": 9}
    fetching.fetch_source(db, "arxiv", settings, options={**given, "base_url": "http://x"})
    call = source.calls[-1]
    assert (call["categories"], call["page_size"], call["max_results"]) == (["cs.CV"], 5, 9)
    assert call["base_url"] == "http://x"
    assert "base_url" not in fetching.list_runs(db)[0]["params"]


def test_the_arxiv_feed_gets_the_configured_categories(
    db: sqlite_utils.Database, source: FakeSource, settings: Settings
) -> None:
    result = fetching.fetch_source(db, "arxiv-feed", settings, options={})
    assert source.formats == ["arxiv-feed"]
    assert source.calls[0]["categories"] == ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML"]
    assert "page_size" not in source.calls[0] and "max_results" not in source.calls[0]
    assert result.scope == "cs.LG,cs.CV,cs.CL,cs.AI,cs.NE,stat.ML"
    fetching.fetch_source(db, "arxiv-feed", settings, options={"categories": ["STAT.ml"]})
    assert source.calls[-1]["categories"] == ["stat.ML"]


@pytest.mark.parametrize(
    ("name", "options", "fmt", "scope"),
    [
        (
            "arxiv-oai",
            {"set_spec": "cs", "from_date": "2025-01-01", "until_date": "2025-01-31"},
            "arxiv-oai",
            "cs 2025-01-01..2025-01-31",
        ),
        ("arxiv-oai", {"set_spec": "cs"}, "arxiv-oai", "cs None..None"),
        ("neurips", {"year": 2023}, "neurips", "NeurIPS 2023"),
        ("openreview", {"venue_id": "ICLR.cc/2024/Conference"}, "openreview",
         "ICLR.cc/2024/Conference"),
        ("icml", {"year": 2024}, "pmlr", "ICML 2024"),
        ("icml", {"volume": 235}, "pmlr", "PMLR v235"),
        ("icml", {"year": None, "volume": 202}, "pmlr", "PMLR v202"),
    ],
)  # fmt: skip
def test_each_live_source_reads_its_format_under_its_scope(
    db: sqlite_utils.Database,
    source: FakeSource,
    settings: Settings,
    name: str,
    options: dict[str, Any],
    fmt: str,
    scope: str,
) -> None:
    result = fetching.fetch_source(db, name, settings, options=dict(options))
    assert source.formats == [fmt]
    assert (result.source, result.scope) == (fmt, scope)
    assert "categories" not in source.calls[0]  # only arXiv's sources are given categories
    assert {k: source.calls[0][k] for k in options} == options


def test_a_cut_off_fetch_resumes_from_its_cursor_unless_told_to_restart(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    source = FakeSource(fail=True)
    monkeypatch.setattr(fetching, "load_format", source.load)
    options = {"venue_id": "V"}
    first = fetching.fetch_source(db, "openreview", settings, options=dict(options))
    assert (first.status, first.cursor, first.resumed_from) == ("partial", "cursor-1", None)
    second = fetching.fetch_source(db, "openreview", settings, options=dict(options))
    assert source.calls[-1]["cursor"] == "cursor-1"
    assert second.resumed_from == "cursor-1"
    assert fetching.list_runs(db)[0]["params"] == {"venue_id": "V", "resumed_from": "cursor-1"}
    fetching.fetch_source(db, "openreview", settings, options=dict(options), resume=False)
    assert source.calls[-1]["cursor"] is None
    assert fetching.list_runs(db)[0]["params"]["resumed_from"] is None
    # A client given is used as it is.
    client = fetching.polite_client(settings)
    fetching.fetch_source(db, "openreview", settings, options={**options, "client": client})
    assert source.calls[-1]["client"] is client


def test_fetch_reports_progress_through_the_callers_function(
    db: sqlite_utils.Database, source: FakeSource, settings: Settings
) -> None:
    messages: list[str] = []
    fetching.fetch_source(db, "neurips", settings, options={"year": 2023}, progress=messages.append)
    assert messages[0] == "neurips: page 1, 1 read, 1 new, 0 updated"


# --- Hugging Face attention ---------------------------------------------------------------------


class FakeHub:
    """tracker.sources.hf_papers's fetchers and tracker.attention's store, recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_on: date | None = None) -> None:
        from tracker.attention import StoreResult
        from tracker.sources import hf_papers

        self.asked: list[tuple[str, list[Any], Any, str]] = []
        self.stored: list[list[Any]] = []
        self.databases: list[Any] = []
        self.fail_on = fail_on

        def fetch_daily(dates: Any, warnings: list[str], *, client: Any, base_url: str) -> Any:
            for day in dates:
                self.asked.append(("daily", [day], client, base_url))
                if day == self.fail_on:
                    from core.errors import FetchError

                    raise FetchError(f"HTTP 503 for {day}")
                warnings.append(f"warned on {day}")
                yield from [f"{day} a", f"{day} b"]

        def fetch_papers(ids: Any, warnings: list[str], *, client: Any, base_url: str) -> Any:
            self.asked.append(("papers", list(ids), client, base_url))
            warnings.append("one id unknown")
            yield from ids

        def store(db: Any, batch: Any) -> StoreResult:
            self.databases.append(db)
            items = list(batch)
            self.stored.append(items)
            return StoreResult(seen=len(items), matched=len(items) - 1, unknown=1)

        monkeypatch.setattr(hf_papers, "fetch_daily", fetch_daily)
        monkeypatch.setattr(hf_papers, "fetch_papers", fetch_papers)
        monkeypatch.setattr(fetching, "store_attention", store)


def test_attention_is_fetched_a_day_at_a_time_for_the_week_ending_until(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    hub = FakeHub(monkeypatch)
    client = fetching.polite_client(settings)
    total, warnings = fetching.fetch_attention(
        db, settings, until=date(2025, 5, 27), client=client, base_url="http://hf"
    )
    days = [date(2025, 5, d) for d in range(21, 28)]  # 7 days by default, oldest first
    assert [a[1] for a in hub.asked] == [[d] for d in days]
    assert all(a[0] == "daily" and a[2] is client and a[3] == "http://hf" for a in hub.asked)
    assert hub.stored == [[f"{d} a", f"{d} b"] for d in days]  # each day stored on its own
    assert (total.seen, total.matched, total.unknown) == (14, 7, 7)
    assert warnings == [f"warned on {d}" for d in days]


def test_attention_by_id_is_one_batch_and_a_failing_day_keeps_the_days_before_it(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    from core.errors import FetchError

    hub = FakeHub(monkeypatch, fail_on=date(2025, 5, 27))
    client = fetching.polite_client(settings)
    total, warnings = fetching.fetch_attention(
        db, settings, until=date(2025, 5, 27), days=3, arxiv_ids=["2505.1", "2505.2", "2505.3"],
        client=client, base_url="http://hf",
    )  # fmt: skip
    assert hub.asked == [("papers", ["2505.1", "2505.2", "2505.3"], client, "http://hf")]
    assert hub.stored == [["2505.1", "2505.2", "2505.3"]]
    assert hub.databases == [db]
    assert (total.seen, total.matched, total.unknown) == (3, 2, 1)
    assert warnings == ["one id unknown"]
    with pytest.raises(FetchError, match="HTTP 503 for 2025-05-27"):
        fetching.fetch_attention(db, settings, until=date(2025, 5, 27), days=3)
    assert hub.stored[1:] == [["2025-05-25 a", "2025-05-25 b"], ["2025-05-26 a", "2025-05-26 b"]]


def test_attention_without_a_client_is_polite_to_hugging_face(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tracker.sources import hf_papers

    hub = FakeHub(monkeypatch)
    settings = _configured(tmp_path, "[sources]\ntimeout_seconds = 12\nretries = 2\n")
    fetching.fetch_attention(db, settings, until=date(2025, 5, 27), days=1)
    (_, _, client, base_url) = hub.asked[0]
    assert base_url == hf_papers.BASE_URL == "https://huggingface.co/api"
    assert client.min_interval == hf_papers.MIN_INTERVAL_S == 1.0  # not arXiv's 3 s
    assert (client.timeout, client.policy.retries) == ((10.0, 12.0), 2)
