"""NeurIPS proceedings: hand-written listing and abstract pages (no real copy exists, see
../shared/data/real/PROVENANCE.md), read offline and fetched live from a scripted local server."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import FetchError, FormatError
from tracker.http import PoliteClient, RetryPolicy
from tracker.sources import neurips

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conferences"
LISTING = FIXTURES / "neurips_2023_listing.html"
ABSTRACT_MAIN = FIXTURES / "neurips_2023_abstract_conference.html"
ABSTRACT_DB = FIXTURES / "neurips_2023_abstract_datasets.html"
MALFORMED = FIXTURES / "neurips_malformed.html"

HASHES = [
    "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "1b2c3d4e5f60718293a4b5c6d7e8f90a",
    "2c3d4e5f60718293a4b5c6d7e8f90a1b",
    "3d4e5f60718293a4b5c6d7e8f90a1b2c",
]
SITE = "https://proceedings.neurips.cc/paper_files/paper/2023"
MAIN_ABSTRACT = (
    "Sparse mixture-of-experts (MoE) layers let a transformer grow its parameter count without "
    "growing the compute per token. We show that learned routers mostly pick up local token "
    "statistics, and propose a router that uses them directly."
)


def fast_client() -> PoliteClient:
    return PoliteClient(min_interval=0.0, policy=RetryPolicy(retries=1, backoff_base_s=0.01))


def abstract_path(index: int) -> str:
    track = "Datasets_and_Benchmarks" if index == 2 else "Conference"
    return f"/paper_files/paper/2023/hash/{HASHES[index]}-Abstract-{track}.html"


# -- offline ---------------------------------------------------------------------------------


def test_listing_entries() -> None:
    entries, warnings = neurips.parse_listing(LISTING.read_text(encoding="utf-8"), str(LISTING))
    assert warnings == []
    assert [e.paper_hash for e in entries] == HASHES
    first, second, third, _fourth = entries
    # TeX braces and doubled spaces cleaned from titles; non-ASCII names kept as written.
    assert (
        first.title == "Sparse Mixture-of-Experts Transformers Learn Routing from Local Statistics"
    )
    assert first.authors == ["Zoë Kravitz", "Łukasz Nowak", "José García-Pérez", "Wei Zhang"]
    assert second.title == "Score-Based Diffusion Models on Graphs with Spectral Guidance"
    assert second.authors == ["Jürgen Möller", "Ana Ñúñez"]
    assert (first.track, third.track) == ("Main Conference Track", "Datasets and Benchmarks Track")
    assert third.url == f"{SITE}/hash/{HASHES[2]}-Abstract-Datasets_and_Benchmarks.html"
    assert third.pdf_url == f"{SITE}/file/{HASHES[2]}-Paper-Datasets_and_Benchmarks.pdf"


def test_read_listing_gives_records_without_abstracts() -> None:
    (page,) = neurips.read(LISTING)
    assert len(page.records) == 4 and page.warnings == []
    record = page.records[3]
    assert record.source == "neurips" and record.source_id == HASHES[3]
    assert record.title == "Convolutional Priors for Vision Transformers at Scale"
    assert record.authors == ["Priya Raghunathan", "Oğuz Yılmaz"]
    assert (record.venue, record.year, record.abstract) == ("NeurIPS", 2023, "")
    assert record.url == f"{SITE}/hash/{HASHES[3]}-Abstract-Conference.html"
    assert record.pdf_url == f"{SITE}/file/{HASHES[3]}-Paper-Conference.pdf"
    assert record.journal_ref == (
        "Advances in Neural Information Processing Systems 36 (NeurIPS 2023), Main Conference Track"
    )


def test_read_abstract_page_on_its_own() -> None:
    (page,) = neurips.read(ABSTRACT_MAIN)
    (record,) = page.records
    assert record.source_id == HASHES[0]
    assert (
        record.title == "Sparse Mixture-of-Experts Transformers Learn Routing from Local Statistics"
    )
    # citation_author meta tags ("Family, Given") become "Given Family".
    assert record.authors == ["Zoë Kravitz", "Łukasz Nowak", "José García-Pérez", "Wei Zhang"]
    assert record.abstract == MAIN_ABSTRACT  # the monitoring comment after it is not included
    assert (record.venue, record.year, record.published) == ("NeurIPS", 2023, None)
    assert record.url == f"{SITE}/hash/{HASHES[0]}-Abstract-Conference.html"
    assert record.pdf_url == f"{SITE}/file/{HASHES[0]}-Paper-Conference.pdf"


def test_abstract_page_without_author_meta_uses_the_body() -> None:
    (page,) = neurips.read(ABSTRACT_DB)
    (record,) = page.records
    assert record.source_id == HASHES[2]
    assert record.authors == ["Søren Kierkegaard-Holm", "Chloé Dubois", "Hiroshi Tanaka"]
    assert record.abstract.startswith("We release BenchRNN, twelve tasks")
    assert record.abstract.endswith("under one training budget.")
    assert record.journal_ref is not None and record.journal_ref.endswith(
        "Datasets and Benchmarks Track"
    )
    assert record.url == f"{SITE}/hash/{HASHES[2]}-Abstract-Datasets_and_Benchmarks.html"


def test_malformed_page_is_a_format_error() -> None:
    assert neurips.sniff(MALFORMED.read_text(encoding="utf-8"))
    with pytest.raises(FormatError, match=r"neurips_malformed\.html: no paper title"):
        list(neurips.read(MALFORMED))


def test_an_xml_file_is_a_format_error_without_bs4s_parser_warning(real: Path) -> None:
    # `import FILE.xml --format neurips` printed XMLParsedAsHTMLWarning's paragraphs on stderr.
    xml = real / "arxiv_oai_pmh" / "hepcrawl__arxiv-single.xml"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FormatError, match="not a NeurIPS abstract page"):
            list(neurips.read(xml))


def test_sniff() -> None:
    for path in (LISTING, ABSTRACT_MAIN, ABSTRACT_DB):
        assert neurips.sniff(path.read_text(encoding="utf-8")[:4096]), path.name
    assert not neurips.sniff("<html><body><ul class='menu'><li>Home</li></ul></body></html>")
    assert not neurips.sniff('{"notes": [], "count": 0}')


# -- live ------------------------------------------------------------------------------------


def html(path: Path) -> Reply:
    return Reply.file(path, "text/html; charset=utf-8")


def test_fetch_listing_then_abstract_pages(recorded_server: RecordedServer) -> None:
    recorded_server.route("/paper_files/paper/2023", html(LISTING))
    recorded_server.route(abstract_path(0), html(ABSTRACT_MAIN))
    recorded_server.route(abstract_path(1), html(MALFORMED))  # HTTP 200, but not the paper
    recorded_server.route(abstract_path(2), html(ABSTRACT_DB))
    # abstract_path(3) is not scripted: the server answers 404.
    with fast_client() as client:
        pages = list(
            neurips.fetch(year=2023, client=client, base_url=recorded_server.url, page_size=2)
        )
    assert [p.cursor for p in pages] == ["2023:2", "2023:4"]
    records = [r for p in pages for r in p.records]
    assert [r.source_id for r in records] == HASHES
    assert records[0].abstract == MAIN_ABSTRACT
    assert records[2].abstract.startswith("We release BenchRNN")
    # The malformed page and the missing one: stored from the listing, each with a warning.
    assert records[1].title == "Score-Based Diffusion Models on Graphs with Spectral Guidance"
    assert records[1].abstract == "" and records[3].abstract == ""
    (first_warning,) = pages[0].warnings
    assert abstract_path(1) in first_warning and "no paper title" in first_warning
    (second_warning,) = pages[1].warnings
    assert abstract_path(3) in second_warning and "404" in second_warning
    # Links point at the real site, not at the server the pages came from.
    assert all(r.url and r.url.startswith("https://proceedings.neurips.cc/") for r in records)
    assert [r.path for r in recorded_server.requests] == [
        "/paper_files/paper/2023",
        *[abstract_path(i) for i in range(4)],
    ]
    assert recorded_server.requests[0].headers["User-Agent"].startswith("dlradar/")


def test_fetch_resumes_after_the_cursor(recorded_server: RecordedServer) -> None:
    recorded_server.route("/paper_files/paper/2023", html(LISTING), repeat_last=True)
    recorded_server.route(abstract_path(2), html(ABSTRACT_DB))
    with fast_client() as client:
        pages = list(
            neurips.fetch(
                year=2023, cursor="2023:2", limit=1, client=client, base_url=recorded_server.url
            )
        )
        assert [p.cursor for p in pages] == ["2023:3"]
        assert [r.source_id for r in pages[0].records] == [HASHES[2]]
        (done,) = neurips.fetch(
            year=2023, cursor="2023:4", client=client, base_url=recorded_server.url
        )
    assert done.records == [] and "all 4 papers were fetched before" in done.notes["empty"]
    assert [r.path for r in recorded_server.requests] == [
        "/paper_files/paper/2023",
        abstract_path(2),
        "/paper_files/paper/2023",
    ]


def test_fetch_listing_only_is_one_request(recorded_server: RecordedServer) -> None:
    recorded_server.route("/paper_files/paper/2023", html(LISTING))
    with fast_client() as client:
        (page,) = neurips.fetch(
            year=2023, with_abstracts=False, client=client, base_url=recorded_server.url
        )
    assert [r.source_id for r in page.records] == HASHES and page.cursor == "2023:4"
    assert len(recorded_server.requests) == 1


def test_fetch_malformed_listing_is_a_format_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/paper_files/paper/2023", html(MALFORMED))
    with fast_client() as client, pytest.raises(FormatError) as caught:
        list(neurips.fetch(year=2023, client=client, base_url=recorded_server.url))
    assert f"{recorded_server.url}/paper_files/paper/2023: no ul.paper-list" in str(caught.value)


def test_fetch_stops_when_abstract_pages_keep_failing(recorded_server: RecordedServer) -> None:
    # Every abstract page 404s: two failures are warnings, the third in a row stops the run,
    # and the cursor of the stored first page is where the next run resumes.
    recorded_server.route("/paper_files/paper/2023", html(LISTING))
    stored = []
    with fast_client() as client, pytest.raises(FetchError, match="404"):
        for page in neurips.fetch(
            year=2023, client=client, base_url=recorded_server.url, page_size=2
        ):
            stored.append(page)
    assert [p.cursor for p in stored] == ["2023:2"]
    assert len(stored[0].warnings) == 2


def test_fetch_listing_unreachable_is_a_fetch_error(recorded_server: RecordedServer) -> None:
    recorded_server.route("/paper_files/paper/2023", [Reply(status=503), Reply(status=503)])
    with fast_client() as client, pytest.raises(FetchError, match=r"paper_files/paper/2023.*503"):
        list(neurips.fetch(year=2023, client=client, base_url=recorded_server.url))


def test_older_listing_layout() -> None:
    # Before 2021: /paper/{year}/hash/{hash}-Abstract.html without a track; authors may also
    # come in a span.paper-authors.
    page = (
        '<html><body><ul class="paper-list">'
        '<li><a href="/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html">'
        "An Old Paper</a> <i>Ada Lovelace, Alan Turing</i></li>"
        '<li><a href="/paper_files/paper/2017/hash/00000000000000000000000000000001-Abstract.html">'
        'Another</a><span class="paper-authors">Grace Hopper</span></li>'
        "<li>Not a paper</li>"
        "</ul></body></html>"
    )
    entries, warnings = neurips.parse_listing(page, "old.html")
    assert [(e.title, e.authors, e.year, e.track) for e in entries] == [
        ("An Old Paper", ["Ada Lovelace", "Alan Turing"], 2017, None),
        ("Another", ["Grace Hopper"], 2017, None),
    ]
    assert entries[0].pdf_url == (
        "https://proceedings.neurips.cc/paper_files/paper/2017/file/"
        "3f5ee243547dee91fbd053c1c4a845aa-Paper.pdf"
    )
    assert entries[0].url.endswith(
        "/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html"
    )
    assert warnings == ["old.html: listing item 3 has no abstract link; skipped"]


def test_fetch_pages_without_a_charset_are_read_as_utf8(recorded_server: RecordedServer) -> None:
    # requests would decode text/html without a charset as ISO-8859-1 ("ZoÃ«").
    recorded_server.route("/paper_files/paper/2023", Reply.file(LISTING, "text/html"))
    with fast_client() as client:
        (page,) = neurips.fetch(
            year=2023, with_abstracts=False, client=client, base_url=recorded_server.url
        )
    assert page.records[0].authors[:2] == ["Zoë Kravitz", "Łukasz Nowak"]
