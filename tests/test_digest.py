"""The weekly digest: built from the real cs.AI listing feed (2025-W34), an empty week,
idempotence and --force, never featuring a paper twice, and hostile paper text in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
import sqlite_utils
from bs4 import BeautifulSoup
from click.testing import CliRunner
from markdown_it import MarkdownIt

from core.config import Settings, load_settings
from core.db import transaction
from core.errors import DlradarError
from dashboard.digest.render import (
    extractive_tldr,
    render_feed_summary,
    render_html,
    render_markdown,
    render_text,
    shorten_authors,
)
from dashboard.digest.weekly import last_complete_week, parse_week, write_digest
from dlradar.cli import cli
from dlradar.database import open_db
from tracker.importer import import_file
from tracker.record import PaperRecord
from tracker.store import PaperStore
from tracker.tagging.store import tag_papers

WEEK = "2025-W34"  # the listing feed's papers are published 2025-08-20
HOSTILE_TITLE = "<script>alert(1)</script> [x](javascript:alert(1)) Transformers"
HOSTILE_AUTHOR = '<img src=x onerror="alert(2)">'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (digest files are relative to it) and no DLRADAR_* overrides."""
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("DLRADAR_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return load_settings()


@pytest.fixture
def w34(real: Path, workdir: Path) -> Iterator[sqlite_utils.Database]:
    """The real cs.AI listing feed of 2025-08-20, imported and tagged."""
    db = open_db(workdir / "dlradar.db")
    (feed,) = sorted((real / "arxiv_listing_feed").glob("*TRUNCATED.xml"))
    assert import_file(db, feed).status == "ok"
    tag_papers(db, workers=1)
    yield db
    db.conn.close()


def _read(workdir: Path, week: str = WEEK) -> tuple[str, dict, str]:  # type: ignore[type-arg]
    base = workdir / "data" / "digests" / week
    md = base.with_suffix(".md").read_text(encoding="utf-8")
    data = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
    html = base.with_suffix(".html").read_text(encoding="utf-8")
    return md, data, html


def test_weeks() -> None:
    assert parse_week("2025-W34").monday.isoformat() == "2025-08-18"
    assert parse_week("2025-W34").sunday.isoformat() == "2025-08-24"
    assert parse_week("2020-W53").label == "2020-W53"
    for bad in ("2025-34", "2025-W54", "2021-W53", "W34"):
        with pytest.raises(DlradarError, match="ISO week"):
            parse_week(bad)
    # A week is complete once its Sunday is over.
    assert last_complete_week(datetime(2025, 8, 24, 23, 59, tzinfo=UTC)).label == "2025-W33"
    assert last_complete_week(datetime(2025, 8, 25, 0, 1, tzinfo=UTC)).label == "2025-W34"
    assert last_complete_week(datetime(2026, 1, 5, tzinfo=UTC)).label == "2026-W01"


def test_text_helpers() -> None:
    assert shorten_authors(["A"]) == "A"
    assert shorten_authors(["A", "B"]) == "A and B"
    assert shorten_authors(["A", "B", "C", "D", "E"]) == "A, B, C, D and E"
    assert shorten_authors([f"N{i}" for i in range(9)]) == "N0, N1, N2 and 6 others"
    abstract = (
        "Deep models are everywhere, e.g. in vision. Yet they are slow. To this end, we propose"
        " FastNet, a pruned network. It is 3x faster. Code is public."
    )
    assert extractive_tldr(abstract) == "We propose FastNet, a pruned network. It is 3x faster."
    assert extractive_tldr("No contribution cue. Second.") == "No contribution cue. Second."
    assert extractive_tldr(r"We study \textbf{jailbreaks}.") == "We study jailbreaks."
    assert len(extractive_tldr("We propose " + "very " * 200 + "long things.")) <= 320


def test_w34_digest_from_the_real_feed(w34: sqlite_utils.Database, settings: Settings) -> None:
    papers = w34.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    tagged = w34.execute("SELECT COUNT(DISTINCT paper_id) FROM paper_families").fetchone()[0]
    per_family = dict(w34.execute("SELECT family, COUNT(*) FROM paper_families GROUP BY family"))
    assert papers == 86  # the 87th entry of the truncated feed has no abstract

    # The default week is the last complete one: on Wednesday 2025-08-27 that is 2025-W34.
    result = write_digest(w34, settings, now=datetime(2025, 8, 27, 6, 0, tzinfo=UTC))
    assert result.week == WEEK and result.status == "written"
    assert str(result).startswith("2025-W34: written 2025-W34.md, 2025-W34.json, 2025-W34.html")
    md, data, html = _read(Path.cwd())

    counts = data["counts"]
    assert counts["papers"] == 86
    assert counts["tagged"] == tagged and counts["untagged"] == 86 - tagged
    assert counts["by_source"] == {"arxiv-feed": 86}
    assert counts["featured"] == len(data["papers"]) == 10  # [digest] top_papers
    assert data["empty"] is False
    assert "No saved interests" in data["ranking"]["description"]

    abstracts = dict(w34.execute("SELECT id, abstract FROM papers"))
    for paper in data["papers"]:
        assert paper["reason"] and paper["families"]
        # Extractive: the TL;DR's words come from the abstract, in order.
        first_words = " ".join(paper["tldr"].split()[1:6])
        assert first_words in " ".join(abstracts[paper["id"]].split())
        assert paper["url"].startswith("https://arxiv.org/abs/")
        assert paper["pdf_url"].startswith("https://arxiv.org/pdf/")
        if len(paper["authors"]) > 5:
            assert paper["authors_short"].endswith(f"and {len(paper['authors']) - 3} others")

    trends = {row["family"]: row for row in data["trends"]["families"]}
    assert {f: row["count"] for f, row in trends.items()} == per_family
    assert all(row["average"] == 0 for row in trends.values())  # no earlier weeks stored
    assert data["trends"]["weeks"] == ["2025-W30", "2025-W31", "2025-W32", "2025-W33"]
    assert "No benchmark results are stored yet" in data["benchmarks"]["note"]

    for heading in ("## Top papers", "## Trends", "## Benchmarks"):
        assert heading in md
    assert "Nothing new" not in md and "Nothing new" not in html
    assert md.count("[abs](https://arxiv.org/abs/") == 10
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("svg") is not None  # the trends chart, inline
    assert len(soup.find_all("li")) == 10
    assert "dlradar.toml" in soup.get_text()  # the footer says how to change the configuration

    feed = feedparser.parse(Path("data/digests/feed.atom").read_bytes())
    assert feed.bozo == 0
    assert [e.id for e in feed.entries] == ["urn:dlradar:digest:2025-W34"]
    assert data["papers"][0]["title"] in feed.entries[0].content[0].value


def test_empty_week_says_nothing_new(w34: sqlite_utils.Database, settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["digest", "--week", "2025-W35", "--db", "dlradar.db"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2025-W35: written")
    md, data, html = _read(Path.cwd(), "2025-W35")
    assert data["empty"] is True and data["counts"]["papers"] == 0 and data["papers"] == []
    assert "## Nothing new this week" in md and "No papers this week." in md
    assert "Nothing new this week" in html
    # The week before held papers: the trends still compare against it.
    transformer = next(r for r in data["trends"]["families"] if r["family"] == "transformer")
    assert transformer["count"] == 0 and transformer["average"] > 0


def test_the_json_notes_are_null_unless_they_apply(
    w34: sqlite_utils.Database, settings: Settings
) -> None:
    """nothing_new only for a week without papers; papers_note only when none is featured."""
    write_digest(w34, settings, week=WEEK)
    write_digest(w34, settings, week="2025-W35")
    _, busy, _ = _read(Path.cwd(), WEEK)
    assert len(busy["papers"]) == 10
    assert busy["nothing_new"] is None and busy["papers_note"] is None
    md, empty, html = _read(Path.cwd(), "2025-W35")
    assert empty["papers"] == [] and empty["papers_note"] == "No papers this week."
    assert empty["nothing_new"].startswith("No papers published from 2025-08-25 to 2025-08-31")
    assert empty["nothing_new"] in md.replace("\\", "")  # Markdown escapes the backticks
    text = render_text(empty)
    assert "NOTHING NEW THIS WEEK\n" + empty["nothing_new"] in text
    assert "No papers this week." in text and "No papers this week." in html
    for data in (busy, empty):  # every renderer still reads both shapes
        for output in (render_markdown(data), render_text(data), render_html(data)):
            assert "None" not in output
    # The Atom entry's HTML fragment: the counts, then the featured titles (in order) or the note.
    busy_summary = lxml.html.fragment_fromstring(render_feed_summary(busy), create_parent="div")
    assert [li.text_content() for li in busy_summary.iter("li")] == [
        p["title"] for p in busy["papers"]
    ]
    assert [a.get("href") for a in busy_summary.iter("a")] == [p["url"] for p in busy["papers"]]
    paragraphs = [p.text_content() for p in busy_summary.iter("p")]
    assert paragraphs[0].startswith(f"{busy['counts']['papers']} papers published 2025-08-18")
    assert paragraphs[-1] == busy["benchmarks"]["note"]
    assert "None" not in busy_summary.text_content()
    empty_summary = lxml.html.fragment_fromstring(render_feed_summary(empty), create_parent="div")
    assert list(empty_summary.iter("li")) == [] and list(empty_summary.iter("ol")) == []
    assert [p.text_content() for p in empty_summary.iter("p")][1] == empty["nothing_new"]

    settings.override("digest", "top_papers", 0)
    write_digest(w34, settings, week=WEEK, force=True)
    _, none_featured, _ = _read(Path.cwd(), WEEK)
    assert none_featured["papers"] == [] and none_featured["nothing_new"] is None
    assert none_featured["papers_note"] == "No papers featured ([digest] top_papers is 0)."


def test_same_week_again_changes_nothing_unless_forced(
    w34: sqlite_utils.Database, settings: Settings
) -> None:
    write_digest(w34, settings, week=WEEK)
    files = sorted(Path("data/digests").iterdir())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    featured = list(w34.query("SELECT paper_id, rank FROM digest_featured ORDER BY rank"))

    again = write_digest(w34, settings, week=WEEK)
    assert again.status == "unchanged" and "nothing changed" in str(again)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before

    forced = write_digest(w34, settings, week=WEEK, force=True)
    assert forced.status == "rewritten"
    # The same papers again: a digest's own picks are not "featured before".
    assert list(w34.query("SELECT paper_id, rank FROM digest_featured ORDER BY rank")) == featured
    assert w34.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1
    assert len(feedparser.parse(Path("data/digests/feed.atom").read_bytes()).entries) == 1

    cli_again = CliRunner().invoke(cli, ["digest", "--week", WEEK, "--db", "dlradar.db"])
    assert cli_again.exit_code == 0 and "nothing changed" in cli_again.output


def test_a_paper_is_never_featured_twice(w34: sqlite_utils.Database, settings: Settings) -> None:
    settings.override("digest", "top_papers", 3)
    first = json.loads(Path(write_digest(w34, settings, week=WEEK).files[1]).read_text())
    shown = [p["id"] for p in first["papers"]]
    # Those papers turn up again in the next week (re-dated by a later source, say).
    marks = ",".join("?" * len(shown))
    with transaction(w34):
        w34.execute(f"UPDATE papers SET published = '2025-08-26' WHERE id IN ({marks})", shown)
    result = write_digest(w34, settings, week="2025-W35")
    _, second, _ = _read(Path.cwd(), "2025-W35")
    assert second["counts"]["papers"] == 3 and second["counts"]["already_featured"] == 3
    assert second["papers"] == [] and result.counts["featured"] == 0
    assert second["papers_note"] == "All 3 papers of this week were featured in earlier digests."
    assert second["nothing_new"] is None  # the week has papers, just none new to feature
    rows = w34.execute("SELECT paper_id, COUNT(*) FROM digest_featured GROUP BY paper_id")
    assert all(count == 1 for _, count in rows)


def _add_hostile_papers(db: sqlite_utils.Database) -> None:
    records = [
        PaperRecord(
            source="jsonl",
            source_id="hostile-1",
            title=HOSTILE_TITLE,
            abstract="We propose a Transformer </textarea><script>alert(3)</script> & more.",
            authors=[HOSTILE_AUTHOR, "B. Author"],
            venue="NeurIPS <b>2025</b>",
            year=2025,
            published="2025-08-20",
            url="javascript:alert(4)",
            pdf_url="https://example.org/a.pdf?x=1&y=<2>",
        ),
        PaperRecord(
            source="jsonl",
            source_id="hostile-2",
            title="![img](https://evil.example/x.png) **bold** `code` | cell ]]> Transformer",
            abstract="We propose a transformer for <iframe src=//evil>.",
            authors=["C. Author"],
            venue="ICML",
            year=2025,
            published="2025-08-21",
            url="https://arxiv.org/abs/2508.99999",
        ),
    ]
    with transaction(db):
        PaperStore(db).add(records)
    tag_papers(db, workers=1)


def test_hostile_paper_text_is_escaped_everywhere(workdir: Path, settings: Settings) -> None:
    from dashboard.digest.feeds import refresh_feeds

    db = open_db(workdir / "dlradar.db")
    _add_hostile_papers(db)
    settings.override("interests", "keywords", ["Transformer"])
    write_digest(db, settings, week=WEEK)
    refresh_feeds(db, settings)
    md, data, html = _read(workdir)
    assert data["counts"]["featured"] == 2
    assert {p["title"] for p in data["papers"]} >= {HOSTILE_TITLE}

    # JSON: the exact text survives, and the file has no raw "<" to break out of a <script>.
    raw_json = (workdir / "data/digests" / f"{WEEK}.json").read_text()
    assert "<" not in raw_json and ">" not in raw_json
    hostile = next(p for p in data["papers"] if p["title"] == HOSTILE_TITLE)
    assert hostile["authors"][0] == HOSTILE_AUTHOR and hostile["url"] == "javascript:alert(4)"

    def assert_inert(rendered_html: str, where: str) -> None:
        soup = BeautifulSoup(rendered_html, "html.parser")
        for tag in ("script", "img", "iframe", "b", "textarea"):
            assert soup.find(tag) is None, f"{where}: <{tag}> got through"
        for link in soup.find_all("a"):
            assert str(link["href"]).startswith("https://"), f"{where}: link {link['href']}"

    assert_inert(html, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Markdown: rendered by a CommonMark renderer that passes raw HTML through.
    rendered = MarkdownIt("commonmark", {"html": True}).render(md)
    assert_inert(rendered, "markdown")
    assert "<script>alert(1)</script>" in BeautifulSoup(rendered, "html.parser").get_text()

    # Atom: the digest feed and the paper feeds parse; titles are text; no markup elements.
    for path in [workdir / "data/digests/feed.atom", *sorted((workdir / "data/feeds").glob("*"))]:
        raw = path.read_bytes()
        tree = ET.fromstring(raw)
        assert not [e for e in tree.iter() if e.tag.split("}")[-1] in {"script", "img"}]
        parsed = feedparser.parse(raw)
        assert parsed.bozo == 0, (path, parsed.bozo_exception)
        for entry in parsed.entries:
            # Titles and summaries are declared text: readers show them as text, never markup.
            assert entry.title_detail.type == "text/plain"
            if "content" in entry:
                assert entry.content[0].type == "text/html"
                assert_inert(entry.content[0].value, str(path))
            else:
                assert entry.summary_detail.type == "text/plain"
    family_feed = ET.parse(workdir / "data/feeds/transformer.atom").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [e.findtext(f"{atom}title") for e in family_feed.iter(f"{atom}entry")]
    assert HOSTILE_TITLE in titles  # stored and shown as text, not markup
    db.conn.close()


def test_atom_raw_xml_keeps_hostile_titles_as_exact_text(workdir: Path, settings: Settings) -> None:
    """On the raw bytes, not through feedparser (which sanitises what it reads): every title is
    the hostile text exactly, and no <script> element exists, in the XML or in the HTML content."""
    from dashboard.digest.feeds import refresh_feeds

    db = open_db(workdir / "dlradar.db")
    _add_hostile_papers(db)
    write_digest(db, settings, week=WEEK)
    refresh_feeds(db, settings)
    db.conn.close()
    atom = "{http://www.w3.org/2005/Atom}"

    def no_script(root: lxml.etree._Element, where: str) -> None:
        tags = {str(e.tag).split("}")[-1].lower() for e in root.iter() if isinstance(e.tag, str)}
        assert not tags & {"script", "img", "iframe"}, (where, tags)

    digest_feed = (workdir / "data/digests/feed.atom").read_bytes()
    root = lxml.etree.fromstring(digest_feed)
    no_script(root, "digest feed")
    (content,) = root.iter(f"{atom}content")
    assert content.get("type") == "html"
    fragment = lxml.html.fragment_fromstring(content.text, create_parent="div")
    no_script(fragment, "digest feed content")
    items = [li.text_content() for li in fragment.iter("li")]
    assert HOSTILE_TITLE in items  # the fragment shows the title as text, exactly
    assert "![img](https://evil.example/x.png) **bold** `code` | cell ]]> Transformer" in items
    assert all(a.get("href", "").startswith("https://") for a in fragment.iter("a"))

    paper_feeds = sorted((workdir / "data/feeds").glob("*.atom"))
    assert paper_feeds
    seen = False
    for path in paper_feeds:
        root = lxml.etree.fromstring(path.read_bytes())
        no_script(root, path.name)
        for entry in root.iter(f"{atom}entry"):
            title = entry.find(f"{atom}title")
            assert title is not None and title.get("type") == "text" and len(title) == 0
            if title.text == HOSTILE_TITLE:
                seen = True
                names = [n.text for n in entry.iter(f"{atom}name")]
                assert names[0] == HOSTILE_AUTHOR
                assert [link.get("href") for link in entry.iter(f"{atom}link")] == [
                    "https://example.org/a.pdf?x=1&y=%3C2%3E"  # javascript: is dropped
                ]
    assert seen


def test_cli_help_and_bad_week(workdir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["digest", "--help"])
    assert result.exit_code == 0
    assert "dlradar digest --week 2025-W34" in result.output and "--send" in result.output
    bad = runner.invoke(cli, ["digest", "--week", "2025-34", "--db", "x.db"])
    assert bad.exit_code == 2 and "ISO week" in bad.output


def test_a_week_not_over_yet_is_refused(workdir: Path, settings: Settings) -> None:
    # A partial digest would be recorded, and the scheduled run would then find the week
    # "already written" and never write it whole.
    db = open_db(workdir / "dlradar.db")
    wednesday = datetime(2025, 8, 27, 6, 0, tzinfo=UTC)  # in 2025-W35
    with pytest.raises(
        DlradarError, match=r"2025-W35 is not over yet.*last complete week is 2025-W34"
    ):
        write_digest(db, settings, week="2025-W35", now=wednesday)
    assert write_digest(db, settings, week="2025-W34", now=wednesday).status == "written"
    db.conn.close()
    result = CliRunner().invoke(cli, ["digest", "--week", "9999-W01", "--db", "dlradar.db"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: week 9999-W01 is not over yet")
    assert not (workdir / "data" / "digests" / "9999-W01.md").exists()


def _bench_run(db: sqlite_utils.Database, cpu: str, timings: dict[str, list[float]]) -> None:
    from bench import store
    from bench.stats import LatencyStats

    environment = {"cpu_model": cpu, "logical_cores": 2, "gpu": None}
    run_id = store.create_run(db, profile="quick", environment=environment, config={}, peak_id=None)
    for model, samples in timings.items():
        record = store.ResultRecord(
            model=model, backend="torch", device="cpu", batch_size=1, threads_intra=1,
            threads_inter=1, family="cnn", latency=LatencyStats.from_samples(samples),
            samples_ms=samples,
        )  # fmt: skip
        store.save_result(db, run_id, record)
    store.save_result(
        db,
        run_id,
        store.ResultRecord(
            model="t5-small",
            backend="onnxruntime",
            device="cpu",
            batch_size=1,
            threads_intra=1,
            threads_inter=1,
            status="failed",
            stage="export",
            error="exporter crashed",
        ),
    )
    store.finish_run(db, run_id, "partial")


def test_benchmarks_since_the_previous_digest_on_the_same_hardware(
    workdir: Path, settings: Settings
) -> None:
    db = open_db(workdir / "dlradar.db")
    steady = [10.0, 10.1, 9.9, 10.0, 10.05, 9.95]
    _bench_run(db, "CPU A", {"resnet18": steady, "lenet5": [1.0, 1.01, 0.99, 1.0]})
    first = write_digest(db, settings, week="2025-W33")
    _, w33, _ = _read(workdir, "2025-W33")
    assert "since the start" in w33["benchmarks"]["note"]
    verdicts = {
        (c["model"], c["verdict"]) for g in w33["benchmarks"]["hardware"] for c in g["changes"]
    }
    assert verdicts == {("resnet18", "new"), ("lenet5", "new"), ("t5-small", "failed")}
    assert first.counts["bench_changes"] == 3

    # Same hardware: resnet18 20 % slower (a regression), lenet5 the same (not listed).
    _bench_run(db, "CPU A", {"resnet18": [s * 1.2 for s in steady], "lenet5": [1.0, 1.0, 1.01]})
    # Other hardware is never compared with CPU A: its faster resnet18 is "new" there.
    _bench_run(db, "CPU B", {"resnet18": [s / 2 for s in steady]})
    write_digest(db, settings, week="2025-W34")
    md, w34, html = _read(workdir)
    bench = w34["benchmarks"]
    assert "since the previous digest (2025-W33)" in bench["note"]
    groups = {g["hardware"]: g["changes"] for g in bench["hardware"]}
    assert set(groups) == {"CPU A (2 logical cores)", "CPU B (2 logical cores)"}
    on_a = {c["model"]: c for c in groups["CPU A (2 logical cores)"]}
    assert set(on_a) == {"resnet18", "t5-small"}
    assert on_a["resnet18"]["verdict"] == "regression"
    assert on_a["resnet18"]["change_pct"] == pytest.approx(20.0, abs=0.5)
    on_b = {c["model"]: c["verdict"] for c in groups["CPU B (2 logical cores)"]}
    assert on_b == {"resnet18": "new", "t5-small": "failed"}
    assert on_a["t5-small"]["error"] == "exporter crashed"
    assert bench["regressions"] == 1 and w34["counts"]["bench_regressions"] == 1
    assert "REGRESSION: resnet18 torch/cpu batch 1 threads 1" in md
    assert "1 unchanged" in bench["note"]
    assert 'style="color:#d1242f;">REGRESSION' in html

    write_digest(db, settings, week="2025-W35")
    _, w35, _ = _read(workdir, "2025-W35")
    assert w35["benchmarks"]["hardware"] == []
    assert (
        "No new benchmark results since the previous digest (2025-W34)" in w35["benchmarks"]["note"]
    )
    db.conn.close()


def test_saved_interests_come_first(w34: sqlite_utils.Database, settings: Settings) -> None:
    settings.override("interests", "keywords", ["diffusion"])
    settings.override("digest", "top_papers", 8)
    write_digest(w34, settings, week=WEEK)
    _, data, _ = _read(Path.cwd())
    matching = w34.execute(
        "SELECT COUNT(*) FROM papers WHERE title LIKE '%diffusion%' OR abstract LIKE '%diffusion%'"
    ).fetchone()[0]
    assert 0 < matching < 8
    reasons = [p["reason"] for p in data["papers"]]
    assert len(reasons) == 8
    assert all('"diffusion"' in r for r in reasons[:matching])
    assert not any('"diffusion"' in r for r in reasons[matching:])
    assert data["ranking"]["description"].startswith(
        "Papers matching the saved interests (keywords diffusion) first"
    )
