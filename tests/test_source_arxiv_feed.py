"""arXiv announcement feeds: the real cut-off feed, hand-written fixtures, the live path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fake_clock import FakeTime, SpacingRecorder, fake_client
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import FormatError
from tracker.http import PoliteClient
from tracker.sources import arxiv_api, arxiv_feed, arxiv_oai

REAL = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "arxiv_listing_feed"
)
TRUNCATED_NAME = "zotero-arxiv-daily_e856935__rss.arxiv.org_atom_cs.AI_2025-08-20_TRUNCATED.xml"
TRUNCATED = REAL / TRUNCATED_NAME
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv"


def need(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    return path


def test_every_real_file_is_checked() -> None:
    # Add a test (and a name here) for any feed file added to the shared folder.
    assert sorted(p.name for p in need(REAL).iterdir()) == [TRUNCATED_NAME]


def test_truncated_real_feed_yields_every_complete_entry() -> None:
    (page,) = arxiv_feed.read(need(TRUNCATED))
    assert len(page.records) == 86
    assert all(r.abstract and r.authors and r.categories for r in page.records)
    (warning,) = page.warnings
    assert warning.startswith(f"{TRUNCATED_NAME}: the feed is cut off in entry 87 (2508.13435v1, ")
    assert "SVDformer" in warning and "it has no abstract, so it was skipped" in warning
    assert warning.endswith("XML error at line 1233: no element found")
    assert page.notes["announce_type_new"] == "41" and page.notes["announce_type_cross"] == "45"
    assert page.notes["feed_date"] == "2025-08-20"
    assert "2508.13435" not in {r.arxiv_id for r in page.records}


def test_truncated_real_feed_fields() -> None:
    (page,) = arxiv_feed.read(need(TRUNCATED))
    first = page.records[0]
    assert (first.arxiv_id, first.arxiv_version, first.source_id) == ("2508.13167", 1, "2508.13167")
    assert first.title.startswith("Chain-of-Agents: End-to-End Agent Foundation Models")
    assert first.abstract.startswith("Recent advances in large language models (LLMs)")
    assert "Announce Type" not in first.abstract and "arXiv:2508" not in first.abstract
    assert len(first.authors) == 30
    assert first.authors[:2] == ["Weizhen Li", "Jianbo Lin"]
    assert first.authors[-1] == "Wangchunshu Zhou"
    assert (first.categories, first.published, first.year) == (
        ["cs.AI", "cs.CL"],
        "2025-08-20",
        2025,
    )
    assert first.license == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert (first.url, first.venue, first.source) == (
        "https://arxiv.org/abs/2508.13167",
        "arXiv",
        "arxiv-feed",
    )
    # The primary category comes first: cs.AI for the 41 new papers, another for the 45 cross-lists.
    cross = next(r for r in page.records if r.arxiv_id == "2508.12448")
    assert cross.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert sum(r.categories[0] == "cs.AI" for r in page.records) == 41


def test_empty_weekend_feed_is_an_empty_page_with_a_note() -> None:
    (page,) = arxiv_feed.read(FIXTURES / "feed_empty_weekend.xml")
    assert page.records == [] and page.warnings == []
    assert "has no entries" in page.notes["empty"]
    assert "Saturdays, Sundays and holidays" in page.notes["empty"]


def test_replacements_are_kept_and_marked() -> None:
    (page,) = arxiv_feed.read(FIXTURES / "feed_replace_and_cross.xml")
    new, cross, replaced = page.records
    assert (new.published, new.updated) == ("2024-02-23", None)
    assert new.authors[2] == "Matthias Gallé" and new.authors[6] == "Ahmet Üstün"
    assert (cross.published, cross.categories) == ("2024-02-23", ["cs.CL", "cs.LG"])
    # A replacement's date is that of the new version: published stays unknown.
    assert (replaced.published, replaced.updated) == (None, "2024-02-23")
    assert (replaced.arxiv_id, replaced.arxiv_version, replaced.year) == ("1706.03762", 7, 2017)
    assert replaced.doi == "10.48550/arxiv.1706.03762"
    assert (
        replaced.journal_ref == "Advances in Neural Information Processing Systems 30 (NIPS 2017)"
    )
    assert page.notes["announce_type_replace"] == "1"


def test_rss2_variant() -> None:
    (page,) = arxiv_feed.read(FIXTURES / "feed_rss2.xml")
    (record,) = page.records
    assert (record.arxiv_id, record.published, record.categories) == (
        "2402.14740",
        "2024-02-23",
        ["cs.LG", "cs.CL"],
    )
    assert record.abstract.startswith("AI alignment in the shape of")


def test_year_from_id() -> None:
    assert arxiv_feed.year_from_id("2508.13167") == 2025
    assert arxiv_feed.year_from_id("hep-th/9901001") == 1999
    assert arxiv_feed.year_from_id("astro-ph/0601001") == 2006
    assert arxiv_feed.year_from_id("nonsense") is None


def test_not_a_feed_is_a_format_error(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Service unavailable</p>")
    with pytest.raises(FormatError, match=r"^page\.html: not an arXiv announcement feed"):
        list(arxiv_feed.read(page))


def test_sniff() -> None:
    for name in ["feed_empty_weekend.xml", "feed_replace_and_cross.xml", "feed_rss2.xml"]:
        head = (FIXTURES / name).read_text()[:4096]
        assert arxiv_feed.sniff(head)
        assert not arxiv_api.sniff(head) and not arxiv_oai.sniff(head)
    assert arxiv_feed.sniff(need(TRUNCATED).read_text()[:4096])
    assert not arxiv_feed.sniff('{"id": "2508.13167", "title": "x", "summary": "rss.arxiv.org"}')


# -- live ------------------------------------------------------------------------------------


def test_fetch_builds_the_url_and_stores_each_day_once(recorded_server: RecordedServer) -> None:
    recorded_server.route("/atom/cs.AI+cs.LG", Reply.file(need(TRUNCATED)), repeat_last=True)
    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    polite = recorder.attach(fake_client(fake, min_interval=0.1))
    base = recorded_server.url_for("/atom")
    (page,) = arxiv_feed.fetch(client=polite, base_url=base, categories=["cs.AI", "cs.LG"])
    assert len(page.records) == 86 and len(page.warnings) == 1
    assert json.loads(page.cursor or "") == {
        "feed": f"{base}/cs.AI+cs.LG",
        "feed_date": "2025-08-20",
    }
    # The same day's feed again: nothing new to store.
    (again,) = arxiv_feed.fetch(
        cursor=page.cursor, client=polite, base_url=base, categories=["cs.AI", "cs.LG"]
    )
    assert again.records == [] and "already stored" in again.notes["empty"]
    assert all(r.headers["User-Agent"].startswith("dlradar/") for r in recorded_server.requests)
    assert len(recorded_server.requests) == 2
    assert recorder.gaps() == pytest.approx([0.1])  # the configured interval, on the fake clock
    assert fake.sleeps == pytest.approx([0.1])


def test_fetch_survives_a_connection_dropped_mid_body(recorded_server: RecordedServer) -> None:
    body = need(TRUNCATED).read_bytes()
    recorded_server.route("/atom/cs.LG", [Reply.truncated(body, keep=50_000), Reply(body=body)])
    polite = PoliteClient(min_interval=0, sleep=lambda s: None)
    (page,) = arxiv_feed.fetch(
        client=polite, base_url=recorded_server.url_for("/atom"), categories=["cs.LG"]
    )
    assert len(page.records) == 86
    assert len(recorded_server.requests) == 2


def test_fetch_of_an_empty_weekend_feed(recorded_server: RecordedServer) -> None:
    recorded_server.route("/atom/cs.LG", Reply.file(FIXTURES / "feed_empty_weekend.xml"))
    (page,) = arxiv_feed.fetch(
        client=PoliteClient(min_interval=0),
        base_url=recorded_server.url_for("/atom"),
        categories=["cs.LG"],
    )
    assert page.records == [] and "Saturdays" in page.notes["empty"]
