"""Community attention from the Hugging Face Papers API, on responses written from its
documentation (tests/fixtures/hf_papers), served by the recorded server: stored on the papers
dlradar has, politely fetched, and used (and named) by the weekly digest's ranking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.config import load_settings
from dashboard.digest.weekly import build_digest, parse_week
from dlradar.cli import cli
from dlradar.database import open_db
from tracker.attention import attention_of
from tracker.fetching import fetch_attention
from tracker.http import PoliteClient
from tracker.importer import import_file
from tracker.sources import hf_papers

FIXTURES = Path(__file__).parent / "fixtures" / "hf_papers"
DAILY = FIXTURES / "daily_papers_2025-05-27.json"
LISTING = "arxiv_daily_jsonl/dw-dengwei_daily-arXiv-ai-enhanced_2025-05-27.jsonl"


@pytest.fixture
def db(tmp_path: Path, real: Path) -> sqlite_utils.Database:
    database = open_db(tmp_path / "d.db")
    import_file(database, real / LISTING)
    return database


def _client(waits: list[float]) -> PoliteClient:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return PoliteClient(min_interval=hf_papers.MIN_INTERVAL_S, sleep=sleep, clock=lambda: clock[0])


def _ids(db: sqlite_utils.Database, *arxiv_ids: str) -> list[int]:
    return [
        db.execute("SELECT id FROM papers WHERE arxiv_id = ?", [a]).fetchone()[0] for a in arxiv_ids
    ]


def test_daily_papers_are_stored_on_the_papers_dlradar_has(
    db: sqlite_utils.Database, recorded_server: RecordedServer
) -> None:
    recorded_server.route(
        "/daily_papers", Reply.text("[]", "application/json"), query={"date": "2025-05-26"}
    )
    recorded_server.route(
        "/daily_papers", Reply.file(DAILY, "application/json"), query={"date": "2025-05-27"}
    )
    waits: list[float] = []
    papers = db["papers"].count
    result, warnings = fetch_attention(
        db, load_settings(), until=date(2025, 5, 27), days=2,
        base_url=recorded_server.url, client=_client(waits),
    )  # fmt: skip
    assert [r.query["date"] for r in recorded_server.requests] == ["2025-05-26", "2025-05-27"]
    assert waits and min(waits) >= 0.9  # one request a second (less the clock's own steps)
    assert (result.seen, result.matched, result.unknown) == (4, 3, 1)
    assert warnings == ["daily papers of 2025-05-27, entry 3: no arXiv id or upvote count"]
    first, second, fourth = _ids(db, "2505.18291", "2505.18302", "2505.18315")
    stored = attention_of(db, [first, second, fourth])
    assert stored[first]["upvotes"] == 41 and stored[first]["comments"] == 3
    assert stored[first]["github_repo"] == "https://github.com/zifuwan/InstructPart"
    assert stored[first]["featured_on"] == "2025-05-27"
    assert stored[second]["github_repo"] is None
    assert stored[fourth]["github_repo"] is None  # a javascript: link is no repository
    assert db["papers"].count == papers  # attention adds no paper


def test_papers_asked_by_id_and_unknown_to_hugging_face(
    db: sqlite_utils.Database, recorded_server: RecordedServer
) -> None:
    recorded_server.route(
        "/papers/2505.18159", Reply.file(FIXTURES / "paper_2505.18159.json", "application/json")
    )
    recorded_server.route(
        "/papers/2505.18291", Reply.text('{"error": "Not Found"}', "application/json", status=404)
    )
    result, warnings = fetch_attention(
        db, load_settings(), until=date(2025, 5, 27), arxiv_ids=["2505.18159", "2505.18291"],
        base_url=recorded_server.url, client=_client([]),
    )  # fmt: skip
    assert (result.seen, result.matched, warnings) == (1, 1, [])
    (paper_id,) = _ids(db, "2505.18159")
    assert attention_of(db, [paper_id])[paper_id]["upvotes"] == 12


def test_the_command_reports_in_one_line(
    db: sqlite_utils.Database, recorded_server: RecordedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_server.route("/daily_papers", Reply.file(DAILY, "application/json"))
    monkeypatch.setattr(hf_papers, "BASE_URL", recorded_server.url)
    monkeypatch.setattr(hf_papers, "MIN_INTERVAL_S", 0.0)
    path = db.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(
        cli, ["fetch", "hf-papers", "--days", "1", "--until", "2025-05-27", "--db", path]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "hf-papers: 4 read, 3 stored papers updated, 1 not in the database; 1 warning(s):"
        " daily papers of 2025-05-27, entry 3: no arXiv id or upvote count"
    )


def test_the_digest_ranks_by_attention_and_says_so(
    db: sqlite_utils.Database, recorded_server: RecordedServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    from datetime import UTC, datetime

    settings = load_settings()
    week = parse_week("2025-W22")
    before = build_digest(db, settings, week, datetime.now(UTC))
    assert (
        "none stored for this week: `dlradar fetch hf-papers`" in before["ranking"]["description"]
    )
    recorded_server.route("/daily_papers", Reply.file(DAILY, "application/json"))
    fetch_attention(
        db, settings, until=date(2025, 5, 27), days=1, base_url=recorded_server.url,
        client=_client([]),
    )  # fmt: skip
    digest = build_digest(db, settings, week, datetime.now(UTC))
    assert "known for 3 of the week's papers" in digest["ranking"]["description"]
    top = digest["papers"][0]
    assert top["arxiv_id"] == "2505.18291"  # 41 upvotes and code: first among arXiv-only papers
    assert top["signals"][:2] == ["upvotes", "code"]
    assert top["reason"].startswith(
        "41 upvotes on Hugging Face Daily Papers; code at github.com/zifuwan/InstructPart; "
    )
    # Every reason ends with the family in a reader's words: the phrase that decided it.
    tagged = [p for p in digest["papers"] if p["families"]]
    assert tagged and all('(it says "' in p["reason"] for p in tagged)
