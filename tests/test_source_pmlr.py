"""ICML from PMLR: the real PMLR files of ../shared, a hand-written volume BibTeX, and the live
download of a volume BibTeX from a scripted local server. Also the BibTeX reader itself and the
sniffers of the three conference formats side by side."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import ConfigError, FetchError, FormatError
from tracker.http import PoliteClient, RetryPolicy
from tracker.importer import detect_format
from tracker.sources import neurips, openreview, pmlr
from tracker.sources.bibtex import bib_text, parse_bibtex, split_names

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conferences"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL_PMLR = SHARED / "data" / "real" / "icml_pmlr"
SAMPLE_BIB = FIXTURES / "pmlr_v202_sample.bib"

POST = "mlresearch_v267___posts_2025-10-06-abnar25a.md"
CONFIG_202 = "mlresearch_v202__config.yml"
CONFIG_267 = "mlresearch_v267__config.yml"
# Every real file of ../shared/data/real/icml_pmlr and the test that checks it (see
# test_every_real_pmlr_file_is_tested): a new file there fails until it gets a test here.
REAL_FILES_TESTED = {
    POST: "test_real_paper_record",
    CONFIG_202: "test_real_volume_config_is_metadata_without_papers",
    CONFIG_267: "test_real_volume_config_is_metadata_without_papers",
}


def real_dir() -> Path:
    if not REAL_PMLR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REAL_PMLR} is missing (the shared folder must be beside the repo in CI)")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    return REAL_PMLR


def fast_client() -> PoliteClient:
    return PoliteClient(min_interval=0.0, policy=RetryPolicy(retries=1, backoff_base_s=0.01))


# -- the real files ----------------------------------------------------------------------------


def test_every_real_pmlr_file_is_tested() -> None:
    assert sorted(p.name for p in real_dir().iterdir()) == sorted(REAL_FILES_TESTED)


def test_real_paper_record() -> None:
    path = real_dir() / POST
    assert pmlr.sniff(path.read_text(encoding="utf-8")[:4096])
    pages = list(pmlr.read(path))
    assert len(pages) == 1 and pages[0].warnings == [] and pages[0].notes == {}
    (record,) = pages[0].records
    assert record.source == "pmlr"
    assert record.source_id == "pmlr-v267-abnar25a"
    assert record.title == (
        "Parameters vs FLOPs: Scaling Laws for Optimal Sparsity for Mixture-of-Experts "
        "Language Models"
    )
    assert record.authors == [
        "Samira Abnar",
        "Harshay Shah",
        "Dan Busbridge",
        "Alaaeldin El-Nouby",
        "Joshua M. Susskind",
        "Vimal Thilak",
    ]
    assert record.openreview_id == "l9FVZ7NXmm"
    assert (record.venue, record.year, record.published) == ("ICML", 2025, "2025-10-06")
    assert record.url == "https://proceedings.mlr.press/v267/abnar25a.html"
    assert record.pdf_url == (
        "https://raw.githubusercontent.com/mlresearch/v267/main/assets/abnar25a/abnar25a.pdf"
    )
    assert record.journal_ref == (
        "Proceedings of the 42nd International Conference on Machine Learning, "
        "PMLR 267:204-230, 2025"
    )
    assert record.abstract.startswith("Scaling the capacity of language models has consistently")
    assert record.abstract.endswith("offering insights for designing more efficient architectures.")
    assert "\n" not in record.abstract and "  " not in record.abstract


def test_real_record_tex_title_is_cleaned_like_the_plain_title() -> None:
    # The record carries both `title` and `tex_title` ("Parameters vs {FLOP}s: ..."); without
    # the plain one the TeX one is used, and its braces go.
    data = pmlr.parse_front_matter((real_dir() / POST).read_text(encoding="utf-8"), POST)
    assert "{FLOP}s" in data["tex_title"]
    del data["title"]
    record = pmlr.record_from_post(data)
    assert record.title.startswith("Parameters vs FLOPs: Scaling Laws")
    assert "{" not in record.title


@pytest.mark.parametrize(
    ("name", "volume", "year"), [(CONFIG_202, 202, 2023), (CONFIG_267, 267, 2025)]
)
def test_real_volume_config_is_metadata_without_papers(name: str, volume: int, year: int) -> None:
    path = real_dir() / name
    assert pmlr.sniff(path.read_text(encoding="utf-8")[:4096])
    pages = list(pmlr.read(path))
    assert len(pages) == 1
    assert pages[0].records == [] and pages[0].warnings == []
    assert pages[0].notes == {
        "empty": f"PMLR volume {volume} (ICML {year}) metadata: no papers; "
        f"fetch the volume with `dlradar fetch icml --year {year}`"
    }
    assert pmlr.ICML_VOLUMES[year] == volume


# -- the volume BibTeX ---------------------------------------------------------------------


def test_sample_bibtex_records_and_warnings() -> None:
    pages = list(pmlr.read(SAMPLE_BIB))
    records = [r for page in pages for r in page.records]
    warnings = [w for page in pages for w in page.warnings]
    assert [r.source_id for r in records] == [
        "pmlr-v202-abad-rocamora23a",
        "pmlr-v202-chen23zz",
        "pmlr-v202-zhou23q",
    ]
    first, second, third = records
    assert first.title == "Vanilla Bayesian Optimization of Transformer Depth with Sparse Priors"
    assert first.authors == [
        "Elías Abad Rocamora",
        "Jörg Müller",
        "Miguel Ángel Bautista",
        "Søren Østergaard",
        "Anna van der Berg",
    ]
    assert first.abstract == (
        "We place $\\ell_1$ priors on the depth of a Transformer and search it with Bayesian "
        "optimization. The search needs ten times fewer trainings than Müller et al."
    )
    assert (first.venue, first.year, first.published) == ("ICML", 2023, None)
    assert first.url == "https://proceedings.mlr.press/v202/abad-rocamora23a.html"
    assert (
        first.pdf_url == "https://proceedings.mlr.press/v202/abad-rocamora23a/abad-rocamora23a.pdf"
    )
    assert first.journal_ref == (
        "Proceedings of the 40th International Conference on Machine Learning, PMLR 202:101-118, 2023"
    )
    # A quoted title, a @string macro for the booktitle, a bare year, '#' concatenation.
    assert second.title == "Recurrent Memory for LSTMs and GRUs: A Unified View"
    assert second.abstract == "A single recurrence covers both gated units and their variants."
    assert second.journal_ref is not None and second.journal_ref.startswith(
        "Proceedings of the 40th"
    )
    assert second.pdf_url == "https://proceedings.mlr.press/v202/chen23zz/chen23zz.pdf"
    # "and others" is not an author; an openreview field is kept.
    assert third.title == "MultiHead Attention Is a Mixture of Experts"
    assert third.authors == ["Yu Zhou", "Ananya Kumar"]
    assert third.openreview_id == "Xy12AbCdEf"
    # The entry without a title and the entry cut off at the end of the file are reported.
    assert len(warnings) == 2
    assert any("pmlr-v202-notitle23a" in w and "no title" in w for w in warnings)
    assert any("line 65" in w and "never closed" in w for w in warnings)


def test_bibtex_reader_details() -> None:
    text = (
        '@string{ conf = "Proc. of" }\n'
        "@comment{ignored {with} braces}\n"
        '@preamble{ "\\newcommand{\\x}{y}" }\n'
        "@Article( key1 , title = conf # { the {N}ested {{Braces}}}, year = 2020 , )\n"
        '@misc{key2, title = {Escaped \\{ brace}, note = "quoted {"} inside"}\n'
        "@misc{key3, title = {missing comma} year = {2021}}\n"
        "@misc{key4, title = {after a bad one}}\n"
    )
    parsed = parse_bibtex(text)
    assert [(e.entry_type, e.key) for e in parsed.entries] == [
        ("article", "key1"),
        ("misc", "key2"),
        ("misc", "key4"),
    ]
    assert parsed.entries[0].fields == {"title": "Proc. of the {N}ested {{Braces}}", "year": "2020"}
    assert parsed.entries[1].fields["title"] == "Escaped \\{ brace"
    assert parsed.entries[1].fields["note"] == 'quoted {"} inside'
    assert len(parsed.problems) == 1 and "line 6" in parsed.problems[0]
    assert parsed.entries[2].line == 7


def test_bibtex_names_and_text() -> None:
    assert split_names(
        "de la Fuente, Jr., Juan and {Google DeepMind} and Erd\\H{o}s, P{\\'a}l and others"
    ) == ["Juan de la Fuente Jr.", "Google DeepMind", "Pál Erdős"]
    assert bib_text("{T}ransformer {LSTM}s \\emph{x} $a_{1}$ {\\o}~\\v{s}") == (
        "Transformer LSTMs \\emph{x} $a_{1}$ ø š"
    )
    # An accent inside a group keeps the group's closing brace for the group.
    assert (
        bib_text("{Jos\\'{e}} and {\\'\\i}ñigo said {\\'e}t{\\'{e}}") == "José and íñigo said été"
    )


def test_not_a_bibtex_or_record_is_a_format_error(tmp_path: Path) -> None:
    jekyll_post = tmp_path / "post.md"
    jekyll_post.write_text("---\nlayout: post\ntitle: Hello\n---\nBody\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"post\.md.*layout: inproceedings"):
        list(pmlr.read(jekyll_post))
    other_bib = tmp_path / "refs.bib"
    other_bib.write_text("@misc{x, title = {Not a paper entry}}\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"refs\.bib: no @InProceedings entries"):
        list(pmlr.read(other_bib))


# -- live ------------------------------------------------------------------------------------

BIB_PATH = "/v202/assets/bib/bibliography.bib"


def test_fetch_volume_bibtex_in_pages_and_resume(recorded_server: RecordedServer) -> None:
    recorded_server.route(
        BIB_PATH, Reply.file(SAMPLE_BIB, "application/x-bibtex"), repeat_last=True
    )
    with fast_client() as client:
        pages = list(
            pmlr.fetch(year=2023, client=client, base_url=recorded_server.url, page_size=2)
        )
        assert [p.cursor for p in pages] == ["v202:2", "v202:4"]
        assert [[r.source_id for r in p.records] for p in pages] == [
            ["pmlr-v202-abad-rocamora23a", "pmlr-v202-chen23zz"],
            ["pmlr-v202-zhou23q"],
        ]
        # Records link to the real site even when fetched from elsewhere.
        assert pages[0].records[0].url == "https://proceedings.mlr.press/v202/abad-rocamora23a.html"
        # The cut-off entry is reported with the URL; the untitled one with its page.
        assert any(BIB_PATH in w and "never closed" in w for w in pages[0].warnings)
        assert any("notitle23a" in w for w in pages[1].warnings)

        # A run killed after the first page resumes after it.
        resumed = list(
            pmlr.fetch(volume=202, cursor="v202:2", client=client, base_url=recorded_server.url)
        )
        assert [r.source_id for p in resumed for r in p.records] == ["pmlr-v202-zhou23q"]
        assert resumed[-1].cursor == "v202:4"

        # A finished volume yields an empty page that says so.
        (done,) = pmlr.fetch(
            year=2023, cursor="v202:4", client=client, base_url=recorded_server.url
        )
        assert done.records == [] and "all 4 papers were fetched before" in done.notes["empty"]

        limited = list(pmlr.fetch(year=2023, limit=1, client=client, base_url=recorded_server.url))
        assert [p.cursor for p in limited] == ["v202:1"]
    assert len(recorded_server.requests_to(BIB_PATH)) == 4
    assert recorded_server.requests[0].headers["User-Agent"].startswith("dlradar/")


def test_fetch_html_instead_of_bibtex_is_a_format_error(recorded_server: RecordedServer) -> None:
    recorded_server.route(
        "/v235/assets/bib/bibliography.bib",
        Reply.text("<html><body>Maintenance</body></html>", "text/html"),
    )
    with fast_client() as client, pytest.raises(FormatError) as caught:
        list(pmlr.fetch(year=2024, client=client, base_url=recorded_server.url))
    message = str(caught.value)
    assert "/v235/assets/bib/bibliography.bib" in message and "no @InProceedings" in message


def test_fetch_missing_volume_is_a_fetch_error(recorded_server: RecordedServer) -> None:
    with fast_client() as client, pytest.raises(FetchError, match=r"v267/assets/bib.*404"):
        list(pmlr.fetch(year=2025, client=client, base_url=recorded_server.url))


def test_unknown_year_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ICML 1999 has no known PMLR volume"):
        list(pmlr.fetch(year=1999))


# -- sniffing: the three conference formats apart, and apart from arXiv and JSON lines -------


def _head(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(4096).decode("utf-8", errors="replace")


def test_sniff_tells_the_conference_formats_apart() -> None:
    shared = real_dir().parent
    samples: dict[Path, str | None] = {
        FIXTURES / "neurips_2023_listing.html": "neurips",
        FIXTURES / "neurips_2023_abstract_conference.html": "neurips",
        FIXTURES / "neurips_2023_abstract_datasets.html": "neurips",
        FIXTURES / "neurips_malformed.html": "neurips",
        FIXTURES / "openreview_neurips2023_offset0.json": "openreview",
        FIXTURES / "openreview_neurips2023_offset2.json": "openreview",
        FIXTURES / "openreview_not_a_response.json": None,
        SAMPLE_BIB: "pmlr",
        REAL_PMLR / POST: "pmlr",
        REAL_PMLR / CONFIG_202: "pmlr",
        REAL_PMLR / CONFIG_267: "pmlr",
    }
    # arXiv Atom (API and listing feed), OAI-PMH XML and JSON lines of papers: none of ours.
    for folder in ("arxiv_api", "arxiv_listing_feed", "arxiv_oai_pmh", "arxiv_daily_jsonl"):
        for path in sorted((shared / folder).iterdir())[:3]:
            samples[path] = None
    sniffers = {"neurips": neurips.sniff, "openreview": openreview.sniff, "pmlr": pmlr.sniff}
    for path, expected in samples.items():
        head = _head(path)
        claimed = [name for name, sniff in sniffers.items() if sniff(head)]
        assert claimed == ([expected] if expected else []), path.name


def test_cursor_of_another_volume_starts_over(recorded_server: RecordedServer) -> None:
    recorded_server.route(BIB_PATH, Reply.file(SAMPLE_BIB, "application/x-bibtex"))
    with fast_client() as client:
        pages = list(
            pmlr.fetch(year=2023, cursor="v235:2", client=client, base_url=recorded_server.url)
        )
    assert pages[0].records[0].source_id == "pmlr-v202-abad-rocamora23a"
    assert any("cursor 'v235:2' belongs to v235, not v202" in w for w in pages[0].warnings)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FIXTURES / "neurips_2023_listing.html", "neurips"),
        (FIXTURES / "neurips_2023_abstract_conference.html", "neurips"),
        (FIXTURES / "openreview_neurips2023_offset0.json", "openreview"),
        (SAMPLE_BIB, "pmlr"),
        (REAL_PMLR / POST, "pmlr"),
        (REAL_PMLR / CONFIG_202, "pmlr"),
        (REAL_PMLR / CONFIG_267, "pmlr"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_import_detects_conference_files(path: Path, expected: str) -> None:
    # `dlradar import` asks every format's sniffer in turn: no other format may claim these.
    if path.is_relative_to(SHARED):
        real_dir()
    assert detect_format(path) == expected
