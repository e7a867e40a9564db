"""A live fetch stores page by page: a failure keeps the pages before it, and the re-run resumes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.config import load_settings
from dlradar.cli import cli
from tracker.fetching import fetch_source, list_runs
from tracker.http import PoliteClient, RetryPolicy


def _client() -> PoliteClient:
    return PoliteClient(min_interval=0.0, policy=RetryPolicy(retries=2, backoff_base_s=0.01))


def test_failed_page_then_resume_without_duplicates(
    db: sqlite_utils.Database, real: Path, recorded_server: RecordedServer
) -> None:
    api = real / "arxiv_api"
    page0 = api / "arxivpy_fixture__q_testing_s0_m10_bc5a6c384fe9.body.xml"
    page1 = api / "arxivpy_fixture__q_testing_s10_m10_34e56e15aaac.body.xml"
    # Page 0 is served as often as it is asked: a re-fetched first page must be seen as such.
    recorded_server.route("/api/query", Reply.file(page0), query={"start": "0"}, repeat_last=True)
    recorded_server.route("/api/query", [Reply(status=503)] * 3, query={"start": "10"})
    options = {
        "start": "2025-01-01",
        "end": "2025-01-08",
        "page_size": 10,
        "max_results": 20,
        "base_url": recorded_server.url_for("/api/query"),
    }
    settings = load_settings()
    first = fetch_source(db, "arxiv", settings, options={**options, "client": _client()})
    assert first.status == "partial"
    assert "HTTP 503" in (first.error or "")
    assert (first.counts.new, db["papers"].count) == (10, 10)
    assert list_runs(db)[0]["cursor"] == first.cursor

    assert [r.query["start"] for r in recorded_server.requests] == ["0", "10", "10", "10"]
    before = len(recorded_server.requests)
    recorded_server.route("/api/query", Reply.file(page1), query={"start": "10"})
    second = fetch_source(db, "arxiv", settings, options={**options, "client": _client()})
    assert second.status == "ok"
    # Resumed: page 0 is not asked again (a re-fetched page 0 would be read, though not new).
    assert [r.query["start"] for r in recorded_server.requests[before:]] == ["10"]
    assert (second.counts.seen, second.counts.new, second.counts.updated) == (10, 10, 0)
    assert second.pages == 1
    assert recorded_server.unmatched == []
    assert db["papers"].count == 20
    assert list_runs(db)[0]["params"]["resumed_from"] == first.cursor

    # A completed run is not resumed: the next one fetches the window again, adding nothing.
    recorded_server.route("/api/query", Reply.file(page0), query={"start": "0"})
    recorded_server.route("/api/query", Reply.file(page1), query={"start": "10"})
    third = fetch_source(db, "arxiv", settings, options={**options, "client": _client()})
    assert (third.status, third.counts.seen, third.counts.new) == ("ok", 20, 0)
    assert db["papers"].count == 20


def test_a_failed_fetch_says_its_reason_once_and_exits_1(
    runner: CliRunner,
    tmp_path: Path,
    recorded_server: RecordedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The summary's "FAILED: reason" used to be followed by "Error: reason", the same words.
    from tracker import fetching

    live = fetching.fetch_source

    def from_the_recorded_server(*args: object, options: dict[str, object], **kw: object) -> object:
        options.update(base_url=recorded_server.url, client=_client())
        return live(*args, options=options, **kw)

    monkeypatch.setattr(fetching, "fetch_source", from_the_recorded_server)
    recorded_server.route("/notes", Reply(status=503), repeat_last=True)
    args = ["fetch", "openreview", "--venue-id", "ICML.cc/2024/Conference"]
    result = runner.invoke(cli, [*args, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1, result.output
    reason = "failed after 3 attempts"
    assert result.output.count(reason) == 1, result.output
    assert f"0 read, 0 new, 0 updated; FAILED: GET {recorded_server.url}" in result.output
    assert "Error:" not in result.output


def test_categories_are_asked_and_scoped_in_arxivs_spelling(
    db: sqlite_utils.Database, real: Path, recorded_server: RecordedServer, tmp_path: Path
) -> None:
    empty = real / "arxiv_api" / "arxivpy_fixture__id_0000.0000_s0_m100_8b51d9633a68.body.xml"
    recorded_server.route("/api/query", Reply.file(empty), repeat_last=True)
    config = tmp_path / "dlradar.toml"
    config.write_text('[arxiv]\ncategories = ["cs.lg", "STAT.ML"]\n')
    window = {"start": "2025-01-01", "end": "2025-01-08"}
    base = {"base_url": recorded_server.url_for("/api/query")}
    for settings, options in (
        (load_settings(config), window),  # from the config file
        (load_settings(), {**window, "categories": ["CS.lg", "stat.ml"]}),  # from --category
    ):
        result = fetch_source(
            db, "arxiv", settings, options={**options, **base, "client": _client()}
        )
        assert result.scope == "cs.LG,stat.ML 2025-01-01..2025-01-08"
        query = recorded_server.requests[-1].query["search_query"]
        assert "(cat:cs.LG OR cat:stat.ML)" in query, query
