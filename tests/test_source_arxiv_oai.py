"""arXiv OAI-PMH: the real GetRecord response, hand-written ListRecords pages, live harvesting."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from fake_clock import FakeTime, SpacingRecorder, fake_client
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import FormatError
from tracker.http import PoliteClient
from tracker.sources import arxiv_api, arxiv_feed, arxiv_oai
from tracker.sources.arxiv_oai import OaiCursor, OaiError

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "arxiv_oai_pmh"
SINGLE = REAL / "hepcrawl__arxiv-single.xml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv"
PAGE1 = FIXTURES / "oai_listrecords_page1.xml"
PAGE2 = FIXTURES / "oai_listrecords_page2.xml"
NO_MATCH = FIXTURES / "oai_no_records_match.xml"
BAD_ARGUMENT = FIXTURES / "oai_bad_argument.xml"
BAD_TOKEN = FIXTURES / "oai_bad_resumption_token.xml"
TOKEN = "6958373|1001"  # the resumption token in PAGE1


def need(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    return path


# -- offline ---------------------------------------------------------------------------------


def test_every_real_file_is_checked() -> None:
    # Add a test (and a name here) for any OAI-PMH file added to the shared folder.
    assert sorted(p.name for p in need(REAL).iterdir()) == [SINGLE.name]


def test_real_getrecord_response() -> None:
    (page,) = arxiv_oai.read(need(SINGLE))
    (record,) = page.records
    assert (record.source, record.source_id, record.arxiv_id) == (
        "arxiv-oai",
        "1401.2122",
        "1401.2122",
    )
    assert record.title == "New integrable (3+1)-dimensional systems and contact geometry"
    assert record.authors == ["A. Sergyeyev"]
    assert (record.published, record.updated, record.year) == ("2014-01-09", "2017-10-23", 2014)
    assert record.categories == ["math.AP", "hep-th", "math-ph", "math.DG", "math.MP", "nlin.SI"]
    assert record.doi == "10.1007/s11005-017-1013-4"
    assert record.journal_ref == "Lett. Math. Phys. 108 (2018), no. 2, 359-376"
    assert record.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert record.abstract.startswith("We introduce a novel systematic construction")
    assert record.abstract.endswith("rational in the spectral parameter.")
    assert record.comment and "\n" not in record.comment and "  " not in record.comment
    assert record.venue == "arXiv" and record.url == "https://arxiv.org/abs/1401.2122"
    assert page.warnings == [] and "empty" not in page.notes


def test_listrecords_pages_token_and_deleted_records() -> None:
    first = arxiv_oai.parse_response(PAGE1.read_bytes(), PAGE1.name)
    assert [r.arxiv_id for r in first.records] == ["1706.03762", "1512.03385"]
    assert first.records[0].authors[5] == "Aidan N. Gomez"
    assert (first.token, first.response_date) == (TOKEN, "2025-06-02T08:15:03Z")
    last = arxiv_oai.parse_response(PAGE2.read_bytes(), PAGE2.name)
    assert [r.arxiv_id for r in last.records] == ["1412.6980"]
    assert (last.token, last.deleted) == (None, 1)


def test_no_records_match_is_an_empty_result() -> None:
    (page,) = arxiv_oai.read(NO_MATCH)
    assert page.records == [] and "no records match" in page.notes["empty"]


@pytest.mark.parametrize(
    ("path", "code"), [(BAD_ARGUMENT, "badArgument"), (BAD_TOKEN, "badResumptionToken")]
)
def test_other_oai_errors_are_clear_errors(path: Path, code: str) -> None:
    with pytest.raises(OaiError, match=rf'^arXiv OAI-PMH error {code} for {path.name}: "\w'):
        list(arxiv_oai.read(path))


def test_malformed_xml_names_file_and_line(tmp_path: Path) -> None:
    cut = tmp_path / "harvest.xml"
    cut.write_bytes(PAGE1.read_bytes()[:1500])
    with pytest.raises(FormatError, match=r"^harvest\.xml: not well-formed XML at line \d+: "):
        list(arxiv_oai.read(cut))


def test_not_oai_is_a_format_error(tmp_path: Path) -> None:
    other = tmp_path / "feed.xml"
    other.write_bytes((FIXTURES / "feed_rss2.xml").read_bytes())
    with pytest.raises(FormatError, match=r"^feed\.xml: not an OAI-PMH response"):
        list(arxiv_oai.read(other))


def test_sniff() -> None:
    for path in [need(SINGLE), PAGE1, NO_MATCH]:
        head = path.read_text()[:4096]
        assert arxiv_oai.sniff(head)
        assert not arxiv_api.sniff(head) and not arxiv_feed.sniff(head)
    assert not arxiv_oai.sniff('{"id": "1401.2122", "title": "OAI-PMH"}')
    assert not arxiv_oai.sniff((FIXTURES / "feed_empty_weekend.xml").read_text())


# -- live ------------------------------------------------------------------------------------


def harvest_routes(server: RecordedServer) -> None:
    server.route("/oai", Reply.file(PAGE1), query={"verb": "ListRecords", "set": "cs:cs:LG"})
    server.route("/oai", Reply.file(PAGE2), query={"resumptionToken": TOKEN})


def test_harvest_follows_the_resumption_token(recorded_server: RecordedServer) -> None:
    harvest_routes(recorded_server)
    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    pages = list(
        arxiv_oai.fetch(
            client=recorder.attach(fake_client(fake, min_interval=0.1)),
            base_url=recorded_server.url_for("/oai"),
            set_spec="cs:cs:LG",
            from_date=date(2025, 5, 26),
            until_date="2025-06-01",
        )
    )
    assert [[r.arxiv_id for r in p.records] for p in pages] == [
        ["1706.03762", "1512.03385"],
        ["1412.6980"],
    ]
    first, second = recorded_server.requests
    assert first.query == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs:cs:LG",
        "from": "2025-05-26",
        "until": "2025-06-01",
    }
    assert second.query == {"verb": "ListRecords", "resumptionToken": TOKEN}  # the token alone
    cursors = [OaiCursor.load(p.cursor or "") for p in pages]
    assert (cursors[0].token, cursors[0].done) == (TOKEN, False)
    assert (cursors[1].token, cursors[1].done, cursors[1].next_from) == (None, True, "2025-06-02")
    assert pages[1].notes["deleted"] == "1"
    assert first.headers["User-Agent"].startswith("dlradar/")
    assert recorder.gaps() == pytest.approx([0.1])  # the configured interval, on the fake clock
    assert fake.sleeps == pytest.approx([0.1])


def test_killed_harvest_resumes_at_its_token(recorded_server: RecordedServer) -> None:
    harvest_routes(recorded_server)
    polite = PoliteClient(min_interval=0)
    url = recorded_server.url_for("/oai")
    first_page = next(arxiv_oai.fetch(client=polite, base_url=url, sets=["cs:cs:LG"], days=None))
    pages = list(arxiv_oai.fetch(cursor=first_page.cursor, client=polite, base_url=url))
    assert [[r.arxiv_id for r in p.records] for p in pages] == [["1412.6980"]]
    assert [r.query.get("resumptionToken") for r in recorded_server.requests] == [None, TOKEN]
    assert "from" not in recorded_server.requests[0].query  # days=None: the whole set


def test_incremental_run_starts_from_the_last_response_date(
    recorded_server: RecordedServer,
) -> None:
    recorded_server.route("/oai", Reply.file(NO_MATCH), repeat_last=True)
    done = OaiCursor(["cs:cs:NE"], "2025-05-01", None, 1, None, True, "2025-06-01").dump()
    (page,) = arxiv_oai.fetch(
        cursor=done, client=PoliteClient(min_interval=0), base_url=recorded_server.url_for("/oai")
    )
    assert recorded_server.requests[0].query["from"] == "2025-06-01"
    assert recorded_server.requests[0].query["set"] == "cs:cs:NE"
    assert page.records == [] and "no records match" in page.notes["empty"]
    assert OaiCursor.load(page.cursor or "").done


def test_default_window_and_several_sets(recorded_server: RecordedServer) -> None:
    recorded_server.route("/oai", Reply.file(NO_MATCH), repeat_last=True)
    pages = list(
        arxiv_oai.fetch(
            client=PoliteClient(min_interval=0),
            base_url=recorded_server.url_for("/oai"),
            today=date(2025, 6, 8),
        )
    )
    assert [r.query["set"] for r in recorded_server.requests] == list(arxiv_oai.DEFAULT_SETS)
    assert {r.query["from"] for r in recorded_server.requests} == {"2025-06-01"}
    assert len(pages) == len(arxiv_oai.DEFAULT_SETS)
    assert [OaiCursor.load(p.cursor or "").done for p in pages][-2:] == [False, True]


def test_bad_argument_is_a_clear_fetch_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/oai", Reply.file(BAD_ARGUMENT))
    url = recorded_server.url_for("/oai")
    with pytest.raises(
        OaiError, match=r'badArgument for .*/oai\?verb=ListRecords.*: "Invalid date'
    ):
        list(arxiv_oai.fetch(client=PoliteClient(min_interval=0), base_url=url, sets=["cs:cs:LG"]))


def test_expired_token_restarts_the_set(recorded_server: RecordedServer) -> None:
    recorded_server.route("/oai", Reply.file(BAD_TOKEN), query={"resumptionToken": "old|1"})
    harvest_routes(recorded_server)
    stale = OaiCursor(["cs:cs:LG"], None, None, 0, "old|1").dump()
    pages = list(
        arxiv_oai.fetch(
            cursor=stale,
            client=PoliteClient(min_interval=0),
            base_url=recorded_server.url_for("/oai"),
        )
    )
    assert [len(p.records) for p in pages] == [2, 1]
    assert "resumption token refused" in pages[0].warnings[0]
    assert OaiCursor.load(pages[-1].cursor or "").done


def test_503_with_retry_after_during_a_harvest(recorded_server: RecordedServer) -> None:
    # OAI-PMH servers use 503 + Retry-After for flow control.
    recorded_server.route(
        "/oai", [Reply(status=503, headers={"Retry-After": "20"}), Reply.file(PAGE1)]
    )
    recorded_server.route("/oai", Reply.file(PAGE2), query={"resumptionToken": TOKEN})
    sleeps: list[float] = []
    polite = PoliteClient(min_interval=0, sleep=sleeps.append)
    pages = list(
        arxiv_oai.fetch(client=polite, base_url=recorded_server.url_for("/oai"), sets=["cs:cs:LG"])
    )
    assert len(pages) == 2 and sleeps == [20.0]
