"""OpenReview API v2: hand-written responses in the API's shape, read offline and fetched live
from a scripted local server, paging by offset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import ConfigError, FetchError, FormatError
from tracker.http import PoliteClient, RetryPolicy
from tracker.sources import openreview

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conferences"
OFFSET0 = FIXTURES / "openreview_neurips2023_offset0.json"
OFFSET2 = FIXTURES / "openreview_neurips2023_offset2.json"
NOT_A_RESPONSE = FIXTURES / "openreview_not_a_response.json"
VENUE_ID = "NeurIPS.cc/2023/Conference"


def fast_client() -> PoliteClient:
    return PoliteClient(min_interval=0.0, policy=RetryPolicy(retries=1, backoff_base_s=0.01))


def json_reply(path: Path) -> Reply:
    return Reply.file(path, "application/json; charset=utf-8")


def test_read_saved_response() -> None:
    (page,) = openreview.read(OFFSET0)
    assert page.warnings == [] and len(page.records) == 2
    first, second = page.records
    assert (first.source, first.source_id, first.openreview_id) == (
        "openreview",
        "aB3xYz9QwE",
        "aB3xYz9QwE",
    )
    assert first.title == "Gated State-Space Models for Long Audio"
    assert first.authors == ["Mélanie Rousseau", "Tomasz Wiśniewski", "Kenji Sato"]
    assert first.abstract == (
        "State-space models (SSMs) scale linearly with sequence length. We add a gate to each "
        "SSM block and train on hour-long audio."
    )
    assert (first.venue, first.year) == ("NeurIPS", 2023)
    # pdate (publication), mdate (modification), milliseconds since the epoch, in UTC.
    assert (first.published, first.updated) == ("2023-09-21", "2023-12-01")
    assert first.comment == "NeurIPS 2023 poster"
    assert first.url == "https://openreview.net/forum?id=aB3xYz9QwE"
    assert (
        first.pdf_url == "https://openreview.net/pdf/5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ff.pdf"
    )
    assert second.title == "Latent Diffusion without an Autoencoder"  # TeX braces cleaned
    assert second.authors == ["Ifeoma Okafor", "Ángel Ruiz"]


def test_api_v1_notes_and_unusable_notes(tmp_path: Path) -> None:
    # API v1 gives content values unwrapped; a note without a title is skipped with a warning.
    path = tmp_path / "v1.json"
    notes = [
        {
            "id": "v1NoteId01",
            "forum": "v1NoteId01",
            "cdate": 1653004800000,
            "content": {
                "title": "A Paper from API v1",
                "authors": ["Ada Lovelace"],
                "abstract": "Plain values.",
                "venueid": "ICML.cc/2022/Conference",
            },
        },
        {"id": "noTitle001", "forum": "noTitle001", "content": {"abstract": "No title here."}},
    ]
    path.write_text(json.dumps({"notes": notes, "count": 2}), encoding="utf-8")
    (page,) = openreview.read(path)
    (record,) = page.records
    assert (record.title, record.authors, record.venue, record.year, record.published) == (
        "A Paper from API v1",
        ["Ada Lovelace"],
        "ICML",
        2022,
        "2022-05-20",
    )
    (warning,) = page.warnings
    assert "note 1" in warning and "noTitle001 has no title" in warning


def test_not_a_response_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"openreview_not_a_response\.json: no \"notes\" list"):
        list(openreview.read(NOT_A_RESPONSE))
    broken = tmp_path / "cut.json"
    broken.write_text(OFFSET0.read_text(encoding="utf-8")[:300], encoding="utf-8")
    with pytest.raises(FormatError, match=r"cut\.json: not JSON"):
        list(openreview.read(broken))


def test_empty_response_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text('{"notes": [], "count": 0}', encoding="utf-8")
    (page,) = openreview.read(path)
    assert page.records == [] and page.notes == {"empty": "empty.json: the response holds no notes"}


def test_sniff() -> None:
    assert openreview.sniff(OFFSET0.read_text(encoding="utf-8")[:4096])
    assert openreview.sniff(json.dumps([{"id": "x", "forum": "x", "content": {"title": "t"}}]))
    assert not openreview.sniff(NOT_A_RESPONSE.read_text(encoding="utf-8"))
    assert not openreview.sniff('{"id": "2501.00001", "title": "t", "abstract": "a"}\n')
    assert not openreview.sniff('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">')


# -- live ------------------------------------------------------------------------------------


def test_fetch_pages_by_offset(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", json_reply(OFFSET0), query={"offset": "0"})
    recorded_server.route("/notes", json_reply(OFFSET2), query={"offset": "2"})
    with fast_client() as client:
        pages = list(
            openreview.fetch(
                venue_id=VENUE_ID, client=client, base_url=recorded_server.url, page_size=2
            )
        )
    assert [p.cursor for p in pages] == [f"{VENUE_ID}:2", f"{VENUE_ID}:3"]
    assert [[r.source_id for r in p.records] for p in pages] == [
        ["aB3xYz9QwE", "Qm7Rt2LpVn"],
        ["Zx81KkPq0s"],
    ]
    # The count (3) says the second page is the last: no third request.
    assert [r.query for r in recorded_server.requests] == [
        {"content.venueid": VENUE_ID, "limit": "2", "offset": "0"},
        {"content.venueid": VENUE_ID, "limit": "2", "offset": "2"},
    ]
    assert recorded_server.requests[0].headers["User-Agent"].startswith("dlradar/")


def test_fetch_resumes_from_the_cursor(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", json_reply(OFFSET2), query={"offset": "2"})
    with fast_client() as client:
        (page,) = openreview.fetch(
            venue="NeurIPS",
            year=2023,
            cursor=f"{VENUE_ID}:2",
            client=client,
            base_url=recorded_server.url,
            page_size=2,
        )
    assert [r.source_id for r in page.records] == ["Zx81KkPq0s"]
    assert page.cursor == f"{VENUE_ID}:3" and page.warnings == []
    assert [r.query["offset"] for r in recorded_server.requests] == ["2"]


def test_fetch_retries_a_rate_limit_then_continues(recorded_server: RecordedServer) -> None:
    recorded_server.route(
        "/notes",
        [Reply(status=429, headers={"Retry-After": "0"}), json_reply(OFFSET2)],
        query={"offset": "2"},
    )
    with fast_client() as client:
        (page,) = openreview.fetch(
            venue_id=VENUE_ID, cursor="2", client=client, base_url=recorded_server.url
        )
    assert len(page.records) == 1 and len(recorded_server.requests) == 2


def test_fetch_venue_without_papers_is_an_empty_page(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", Reply.text('{"notes": [], "count": 0}', "application/json"))
    with fast_client() as client:
        (page,) = openreview.fetch(
            venue_id="ICML.cc/2031/Conference", client=client, base_url=recorded_server.url
        )
    assert page.records == []
    assert page.notes == {
        "empty": "OpenReview has no accepted papers with venueid ICML.cc/2031/Conference"
    }


def test_fetch_non_json_answer_is_a_format_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", Reply.text("<html>Service Unavailable</html>", "text/html"))
    with fast_client() as client, pytest.raises(FormatError) as caught:
        list(openreview.fetch(venue_id=VENUE_ID, client=client, base_url=recorded_server.url))
    message = str(caught.value)
    assert f"{recorded_server.url}/notes?" in message and "not JSON" in message


def test_fetch_forbidden_is_a_fetch_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", Reply.file(NOT_A_RESPONSE, "application/json", status=403))
    with fast_client() as client, pytest.raises(FetchError, match="403"):
        list(openreview.fetch(venue_id=VENUE_ID, client=client, base_url=recorded_server.url))


def test_venue_ids() -> None:
    assert openreview.venue_id_for("ICML", 2024) == "ICML.cc/2024/Conference"
    assert openreview.venue_id_for("neurips", 2025) == "NeurIPS.cc/2025/Conference"
    with pytest.raises(ConfigError, match="'CVPR' is not one of"):
        openreview.venue_id_for("CVPR", 2024)


def test_fetch_json_without_a_charset_is_utf8(recorded_server: RecordedServer) -> None:
    recorded_server.route("/notes", Reply.file(OFFSET0, "application/json"))
    with fast_client() as client:
        pages = list(
            openreview.fetch(
                venue_id=VENUE_ID, client=client, base_url=recorded_server.url, limit=2
            )
        )
    assert pages[0].records[0].authors[0] == "Mélanie Rousseau"
    assert [p.cursor for p in pages] == [f"{VENUE_ID}:2"]  # limit reached: no second request
    assert len(recorded_server.requests) == 1 and recorded_server.requests[0].query["limit"] == "2"
