"""arXiv export API: the real recorded responses offline, and the live path on a local server."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_clock import FakeTime, SpacingRecorder, fake_client
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import FetchError, FormatError
from tracker.http import PoliteClient, RetryPolicy
from tracker.record import PaperRecord
from tracker.sources import arxiv_api, arxiv_feed, arxiv_oai
from tracker.sources.arxiv_api import ApiCursor, ArxivApiError

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
API = REAL / "arxiv_api"

# Every file of ../shared/data/real/arxiv_api and what it must give: (records, first arXiv id),
# or the error. test_every_real_file_is_checked fails when a file is added without an entry.
STEMS = {
    "arxivpy_fixture__id_0000.0000_s0_m100_8b51d9633a68": (0, None),
    "arxivpy_fixture__id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af": (1, "1707.08567"),
    "arxivpy_fixture__id_1707.08567_s0_m100_6a1afebfc6a3": (1, "1707.08567"),
    "arxivpy_fixture__id_abc_s0_m100_b79c8dcf6bc3": (None, "incorrect id format for abc"),
    "arxivpy_fixture__id_astro-ph_0601001_s0_m100_3150dca9dc76": (1, "astro-ph/0601001"),
    "arxivpy_fixture__q_testing_s0_m10_bc5a6c384fe9": (10, "2202.12139"),
    "arxivpy_fixture__q_testing_s10_m10_34e56e15aaac": (10, None),
}
EXPECTED = {f"{stem}{ext}": want for stem, want in STEMS.items() for ext in (".json", ".body.xml")}
Q0 = API / "arxivpy_fixture__q_testing_s0_m10_bc5a6c384fe9.body.xml"
Q10 = API / "arxivpy_fixture__q_testing_s10_m10_34e56e15aaac.body.xml"
ONE = API / "arxivpy_fixture__id_1707.08567_s0_m100_6a1afebfc6a3.body.xml"
NONE = API / "arxivpy_fixture__id_0000.0000_s0_m100_8b51d9633a68.body.xml"
ERROR_JSON = API / "arxivpy_fixture__id_abc_s0_m100_b79c8dcf6bc3.json"
START, END = "2025-01-01", "2025-01-08"  # the submittedDate window of the live tests


def need(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    return path


def records_of(path: Path) -> list[PaperRecord]:
    return [r for page in arxiv_api.read(path) for r in page.records]


# -- offline: the real recorded responses -----------------------------------------------------


def test_every_real_file_is_checked() -> None:
    assert sorted(p.name for p in need(API).iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_reads_as_expected(name: str) -> None:
    path = need(API / name)
    count, first = EXPECTED[name]
    assert arxiv_api.sniff(path.read_text(encoding="utf-8")[:4096])
    if count is None:
        with pytest.raises(ArxivApiError, match=f'"{first}"'):
            records_of(path)
        return
    pages = list(arxiv_api.read(path))
    records = [r for page in pages for r in page.records]
    assert len(records) == count
    if first:
        assert records[0].arxiv_id == first
    for record in records:
        assert record.source == "arxiv-api" and record.venue == "arXiv"
        assert record.source_id == record.arxiv_id and record.arxiv_version
        assert record.title and record.abstract and record.authors and record.categories
        assert record.published and record.year == int(record.published[:4])
        assert record.url == f"https://arxiv.org/abs/{record.arxiv_id}"
    if count == 0:
        assert "no entries" in pages[0].notes["empty"]


def test_json_wrapper_and_raw_body_give_the_same_records() -> None:
    for stem, (count, _) in STEMS.items():
        if count:
            json_records = records_of(need(API / f"{stem}.json"))
            assert json_records == records_of(API / f"{stem}.body.xml")


def test_search_page_fields() -> None:
    first = records_of(need(Q0))[0]
    assert (
        first.title
        == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.arxiv_version == 1
    assert first.categories == ["cs.SE", "cs.LG"]
    assert first.doi == "10.1109/icstw55395.2022.00035"
    assert first.journal_ref and first.journal_ref.startswith("Artificial Intelligence in Software")
    assert first.pdf_url == "https://arxiv.org/pdf/2202.12139"
    assert "  " not in first.abstract and "\n" not in first.abstract


def test_34_authors_with_non_ascii_names() -> None:
    (record,) = records_of(need(ONE))
    assert len(record.authors) == 34
    assert record.authors[0] == "Kees A. Schouhamer Immink"
    assert "Dirk Wübben" in record.authors
    assert (
        record.comment == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert (record.published, record.updated, record.categories) == (
        "2017-07-27",
        "2017-07-27",
        ["cs.IT"],
    )


def test_old_style_id() -> None:
    (record,) = records_of(
        need(API / "arxivpy_fixture__id_astro-ph_0601001_s0_m100_3150dca9dc76.json")
    )
    assert (record.arxiv_id, record.arxiv_version, record.year) == ("astro-ph/0601001", 1, 2006)
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert record.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]


def test_error_feed_quotes_arxiv_and_names_the_request() -> None:
    with pytest.raises(FetchError) as caught:
        records_of(need(ERROR_JSON))
    message = str(caught.value)
    assert message.startswith("arXiv API error (HTTP 400) for arxivpy_fixture__id_abc")
    assert "id_list=abc" in message and message.endswith('"incorrect id format for abc"')


def test_malformed_xml_is_a_format_error_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "cut.body.xml"
    broken.write_bytes(need(Q0).read_bytes()[:3000])
    with pytest.raises(FormatError, match=r"^cut\.body\.xml: not well-formed XML at line \d+"):
        records_of(broken)


def test_sniff_tells_the_formats_apart() -> None:
    api_head = need(Q0).read_text(encoding="utf-8")[:4096]
    feed_head = next((REAL / "arxiv_listing_feed").iterdir()).read_text(encoding="utf-8")[:4096]
    oai_head = (REAL / "arxiv_oai_pmh" / "hepcrawl__arxiv-single.xml").read_text()[:4096]
    others = [
        '{"id": "2401.00001", "title": "T", "abstract": "A", "authors": ["X"]}\n',
        '{"notes": [{"id": "abc", "content": {"title": {"value": "T"}}}], "count": 1}',
        "title: Proceedings of ICML\nvolume: 202\nyear: 2023\n",
        '<!DOCTYPE html><html><body><ul class="paper-list"><li>x</li></ul></body></html>',
    ]
    assert arxiv_api.sniff(api_head) and arxiv_api.sniff(ERROR_JSON.read_text()[:4096])
    for head in [feed_head, oai_head, *others]:
        assert not arxiv_api.sniff(head)
    assert arxiv_feed.sniff(feed_head) and not arxiv_feed.sniff(api_head)
    assert arxiv_oai.sniff(oai_head) and not arxiv_oai.sniff(api_head)


def test_sniff_matrix_over_every_real_file() -> None:
    """Each real file is claimed by at most one arXiv format, and the right one."""
    owners = {
        "arxiv_api": "arxiv-api",
        "arxiv_listing_feed": "arxiv-feed",
        "arxiv_oai_pmh": "arxiv-oai",
    }
    modules = [arxiv_api, arxiv_feed, arxiv_oai]
    checked = 0
    for path in sorted(need(REAL).rglob("*")):
        if not path.is_file():
            continue  # arXiv's docs quote API and feed XML, but are Markdown: claimed by none
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        claimed = [m.FORMAT for m in modules if m.sniff(head)]
        expected = owners.get(path.parent.name)
        assert claimed == ([expected] if expected else []), path.name
        checked += 1
    assert checked >= 10


def test_query_and_cursor() -> None:
    query = arxiv_api.build_query(
        ["cs.LG", "stat.ML"],
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2025, 1, 8, 6, 30, tzinfo=UTC),
    )
    assert query == "(cat:cs.LG OR cat:stat.ML) AND submittedDate:[202501010000 TO 202501080630]"
    cursor = ApiCursor(query, 200, "2025-01-08T06:30:00+00:00")
    assert ApiCursor.load(cursor.dump()) == cursor
    with pytest.raises(FormatError, match="unreadable cursor"):
        ApiCursor.load("start=3")


# -- live, against the local server ----------------------------------------------------------


def client(min_interval: float = 0.0, **kw: object) -> PoliteClient:
    return PoliteClient(min_interval=min_interval, **kw)  # type: ignore[arg-type]


def test_paging_across_two_pages_with_cursors(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(Q0)), query={"start": "0"})
    recorded_server.route("/api/query", Reply.file(Q10), query={"start": "10"})
    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    pages = list(
        arxiv_api.fetch(
            client=recorder.attach(fake_client(fake, min_interval=0.2)),
            base_url=recorded_server.url_for("/api/query"),
            page_size=10,
            max_results=20,
            start=START,
            end=END,
        )
    )
    assert [len(p.records) for p in pages] == [10, 10]
    assert records_of(Q0) + records_of(Q10) == [r for p in pages for r in p.records]
    cursors = [ApiCursor.load(p.cursor or "") for p in pages]
    assert [(c.start, c.done) for c in cursors] == [(10, False), (20, False)]
    first, second = recorded_server.requests
    assert first.query["search_query"] == (
        "(cat:cs.LG OR cat:cs.CV OR cat:cs.CL OR cat:cs.AI OR cat:cs.NE OR cat:stat.ML)"
        " AND submittedDate:[202501010000 TO 202501082359]"  # a bare end date includes that day
    )
    assert (first.query["sortBy"], first.query["sortOrder"]) == ("submittedDate", "ascending")
    assert [r.query["start"] for r in (first, second)] == ["0", "10"]
    assert first.query["max_results"] == "10"
    assert first.headers["User-Agent"].startswith("dlradar/")
    assert recorder.gaps() == pytest.approx([0.2])  # the configured interval, on the fake clock
    assert fake.sleeps == pytest.approx([0.2])


def test_an_empty_page_mid_results_is_asked_again(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(Q0)), query={"start": "0"})
    recorded_server.route("/api/query", [Reply.file(NONE), Reply.file(Q10)], query={"start": "10"})
    pages = list(
        arxiv_api.fetch(
            client=client(),
            base_url=recorded_server.url_for("/api/query"),
            page_size=10,
            max_results=20,
            start=START,
            end=END,
        )
    )
    assert [len(p.records) for p in pages] == [10, 10]
    assert [r.query["start"] for r in recorded_server.requests] == ["0", "10", "10"]


def test_resume_from_a_cursor_fetches_only_the_rest(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(Q10)), query={"start": "10"})
    query = arxiv_api.build_query(
        ["cs.LG"], datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 8, tzinfo=UTC)
    )
    cursor = ApiCursor(query, 10, "2025-01-08T00:00:00+00:00").dump()
    pages = list(
        arxiv_api.fetch(
            cursor=cursor,
            client=client(),
            base_url=recorded_server.url_for("/api/query"),
            page_size=10,
            max_results=20,
        )
    )
    assert [len(p.records) for p in pages] == [10]
    (request,) = recorded_server.requests
    assert (request.query["search_query"], request.query["start"]) == (query, "10")


def test_finished_search_then_incremental_run(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(ONE)), repeat_last=True)
    url = recorded_server.url_for("/api/query")
    (page,) = arxiv_api.fetch(
        client=client(), base_url=url, categories=["cs.IT"], start=START, end=END
    )
    cursor = ApiCursor.load(page.cursor or "")
    assert (len(page.records), cursor.start, cursor.done) == (1, 1, True)
    now = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    # No window and no categories given: the cursor's categories, from its window's end to now.
    list(arxiv_api.fetch(cursor=page.cursor, client=client(), base_url=url, now=now))
    assert recorded_server.requests[1].query["search_query"] == (
        "(cat:cs.IT) AND submittedDate:[202501082359 TO 202501101200]"
    )
    assert recorded_server.requests[1].query["start"] == "0"


def test_empty_result_is_an_empty_page(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(NONE)))
    (page,) = arxiv_api.fetch(
        client=client(), base_url=recorded_server.url_for("/api/query"), start=START, end=END
    )
    assert page.records == [] and "no papers match" in page.notes["empty"]
    assert ApiCursor.load(page.cursor or "").done


def test_http_400_error_feed_becomes_a_clear_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.recorded_json(need(ERROR_JSON)))
    url = recorded_server.url_for("/api/query")
    with pytest.raises(ArxivApiError) as caught:
        list(arxiv_api.fetch(client=client(), base_url=url, start=START, end=END))
    message = str(caught.value)
    assert message.startswith(f"arXiv API error (HTTP 400) for {url}?search_query=")
    assert message.endswith('"incorrect id format for abc"')
    assert len(recorded_server.requests) == 1  # a 400 is not retried


def test_429_retry_after_is_honoured_and_3_s_kept_by_default(
    recorded_server: RecordedServer,
) -> None:
    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    recorded_server.route(
        "/api/query",
        [Reply(status=429, headers={"Retry-After": "30"}), Reply.file(need(Q0))],
        query={"start": "0"},
    )
    recorded_server.route("/api/query", Reply.file(Q10), query={"start": "10"})
    polite = recorder.attach(fake_client(fake))  # default 3 s interval
    pages = list(
        arxiv_api.fetch(
            client=polite,
            base_url=recorded_server.url_for("/api/query"),
            page_size=10,
            max_results=20,
            start=START,
            end=END,
        )
    )
    assert [len(p.records) for p in pages] == [10, 10]
    assert fake.sleeps == [30.0, 3.0]  # Retry-After, then the 3 s interval before page 2
    assert recorder.gaps() == [30.0, 3.0]


def test_503_exhausted_after_a_stored_page(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api/query", Reply.file(need(Q0)), query={"start": "0"})
    recorded_server.route("/api/query", Reply(status=503), query={"start": "10"}, repeat_last=True)
    polite = client(policy=RetryPolicy(retries=2), sleep=lambda s: None)
    url = recorded_server.url_for("/api/query")
    pages = arxiv_api.fetch(
        client=polite, base_url=url, page_size=10, max_results=20, start=START, end=END
    )
    first = next(pages)
    assert ApiCursor.load(first.cursor or "").start == 10  # committed before the failure
    with pytest.raises(FetchError) as caught:
        next(pages)
    message = str(caught.value)
    assert message.startswith(f"GET {url}?search_query=")
    assert "start=10" in message
    assert message.endswith("failed after 3 attempts: HTTP 503 Service Unavailable")


def test_dropped_connection_then_success(recorded_server: RecordedServer) -> None:
    body = need(Q0).read_bytes()
    recorded_server.route("/api/query", [Reply.truncated(body, keep=2000), Reply(body=body)])
    polite = client(sleep=lambda s: None)
    pages = list(
        arxiv_api.fetch(
            client=polite,
            base_url=recorded_server.url_for("/api/query"),
            page_size=10,
            max_results=10,
            start=START,
            end=END,
        )
    )
    assert [len(p.records) for p in pages] == [10]
    assert len(recorded_server.requests) == 2


def test_recorded_json_replays_the_served_bytes() -> None:
    wrapper = json.loads(need(ERROR_JSON).read_text())
    assert Reply.recorded_json(ERROR_JSON).status == wrapper["status_code"] == 400
    body_file = API / "arxivpy_fixture__id_1707.08567_s0_m100_6a1afebfc6a3.body.xml"
    json_file = API / "arxivpy_fixture__id_1707.08567_s0_m100_6a1afebfc6a3.json"
    assert Reply.recorded_json(json_file).body == body_file.read_bytes()
