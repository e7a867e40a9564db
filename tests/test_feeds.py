"""Atom feeds: new papers per family and per saved interest, and the weekly digest's feed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import feedparser
import pytest
import sqlite_utils

from core.config import Settings, load_settings
from core.db import transaction
from core.errors import DlradarError
from dashboard.digest import feeds as feeds_module
from dashboard.digest.feeds import (
    EPOCH,
    PAPERS_PER_FEED,
    FeedsResult,
    _feed,
    _timestamp,
    _year_start,
    paper_entry,
    refresh_feeds,
    slug,
    write_digest_feed,
)
from dashboard.digest.weekly import write_digest
from dlradar.database import open_db
from tracker.importer import import_file
from tracker.query import Paper
from tracker.record import PaperRecord
from tracker.store import PaperStore
from tracker.tagging.store import tag_papers


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DLRADAR_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def db(workdir: Path) -> Iterator[sqlite_utils.Database]:
    database = open_db(workdir / "dlradar.db")
    yield database
    database.conn.close()


@pytest.fixture
def settings(workdir: Path) -> Settings:
    settings = load_settings()
    settings.override("interests", "keywords", ["graph attention"])
    settings.override("interests", "authors", ["Ada Lovelace"])
    return settings


def add(db: sqlite_utils.Database, *records: PaperRecord) -> None:
    with transaction(db):
        PaperStore(db).add(list(records))
    tag_papers(db, workers=1)


def paper(n: int, title: str, abstract: str, published: str, **extra: str) -> PaperRecord:
    return PaperRecord(
        source="jsonl",
        source_id=f"p{n}",
        title=title,
        abstract=abstract,
        authors=[extra.pop("author", f"Author {n}")],
        arxiv_id=f"2508.{10000 + n}",
        published=published,
        url=f"https://arxiv.org/abs/2508.{10000 + n}",
        pdf_url=f"https://arxiv.org/pdf/2508.{10000 + n}",
        venue="arXiv",
        year=2025,
    )


PAPERS = (
    paper(1, "A Vision Transformer for crops", "We propose a vision transformer.", "2025-08-18"),
    paper(
        2,
        "Graph attention networks for molecules",
        "We propose a graph neural network with graph attention layers.",
        "2025-08-20",
        author="Ada Lovelace",
    ),
    paper(3, "Scaling Transformers", "We train transformer language models.", "2025-08-22"),
)


def parse(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, (path, parsed.bozo_exception)
    return parsed


def test_family_and_interest_feeds(db: sqlite_utils.Database, settings: Settings) -> None:
    add(db, *PAPERS)
    result = refresh_feeds(db, settings)
    feeds = Path("data/feeds")
    names = sorted(p.name for p in feeds.iterdir())
    assert "transformer.atom" in names and "gnn.atom" in names and "lstm.atom" in names
    assert "interest-graph-attention.atom" in names and "interest-ada-lovelace.atom" in names
    assert len(result.written) == len(names) and not result.unchanged

    transformer = parse(feeds / "transformer.atom")
    assert transformer.feed.title == "dlradar: new transformer papers"
    titles = [e.title for e in transformer.entries]
    assert titles == ["Scaling Transformers", "A Vision Transformer for crops"]  # newest first
    first = transformer.entries[0]
    assert first.id == "https://arxiv.org/abs/2508.10003"
    assert first.link == "https://arxiv.org/abs/2508.10003"
    assert {link.type for link in first.links} == {"text/html", "application/pdf"}
    assert first.published.startswith("2025-08-22") and first.summary
    assert transformer.feed.updated == first.updated  # a feed's updated is its newest entry's
    assert [t.term for t in first.tags] == ["transformer"]

    assert [e.title for e in parse(feeds / "gnn.atom").entries] == [PAPERS[1].title]
    assert [e.title for e in parse(feeds / "lstm.atom").entries] == []
    for interest in ("interest-graph-attention.atom", "interest-ada-lovelace.atom"):
        assert [e.title for e in parse(feeds / interest).entries] == [PAPERS[1].title]


def test_refresh_rewrites_only_what_changed(db: sqlite_utils.Database, settings: Settings) -> None:
    add(db, *PAPERS)
    refresh_feeds(db, settings)
    feeds = Path("data/feeds")
    before = {p.name: p.read_bytes() for p in feeds.iterdir()}
    again = refresh_feeds(db, settings)
    assert not again.written and len(again.unchanged) == len(before)

    traffic = "We propose a graph neural network with graph attention for traffic."
    add(db, paper(4, "Graph attention for traffic", traffic, "2025-08-23"))
    third = refresh_feeds(db, settings)
    assert sorted(p.name for p in third.written) == ["gnn.atom", "interest-graph-attention.atom"]
    assert len(parse(feeds / "gnn.atom").entries) == 2

    # An interest no longer saved loses its feed; a new one gets one.
    settings.override("interests", "authors", [])
    settings.override("interests", "keywords", ["transformer"])
    fourth = refresh_feeds(db, settings)
    assert {p.name for p in fourth.removed} == {
        "interest-graph-attention.atom",
        "interest-ada-lovelace.atom",
    }
    assert len(parse(feeds / "interest-transformer.atom").entries) == 2


def test_slugs() -> None:
    assert slug("Graph Neural Networks") == "graph-neural-networks"
    assert slug("  Yoshua  Bengio ") == "yoshua-bengio"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("日本") == "interest"


def test_digest_feed_has_one_entry_per_week(db: sqlite_utils.Database, settings: Settings) -> None:
    add(db, *PAPERS)
    write_digest(db, settings, week="2025-W34")
    write_digest(db, settings, week="2025-W33")
    write_digest(db, settings, week="2025-W34", force=True)
    feed = parse(Path("data/digests/feed.atom"))
    assert [e.id for e in feed.entries] == [
        "urn:dlradar:digest:2025-W34",
        "urn:dlradar:digest:2025-W33",
    ]
    w34 = feed.entries[0]
    assert w34.link == "2025-W34.html" and w34.title == "dlradar weekly digest 2025-W34"
    assert "Scaling Transformers" in w34.content[0].value
    assert "No papers published from 2025-08-11" in feed.entries[1].content[0].value


def test_real_feed_family_feeds(real: Path, db: sqlite_utils.Database, settings: Settings) -> None:
    (listing,) = sorted((real / "arxiv_listing_feed").glob("*TRUNCATED.xml"))
    import_file(db, listing)
    tag_papers(db, workers=1)
    refresh_feeds(db, settings)
    counts = dict(db.execute("SELECT family, COUNT(*) FROM paper_families GROUP BY family"))
    for family, count in counts.items():
        entries = parse(Path("data/feeds") / f"{family}.atom").entries
        assert len(entries) == min(count, PAPERS_PER_FEED)
        assert all(e.link.startswith("https://arxiv.org/abs/") for e in entries)


def test_catalogue_entries_carry_their_year_and_note_never_1970(
    db: sqlite_utils.Database, settings: Settings, workdir: Path
) -> None:
    from tracker import landmarks

    landmarks.load_into(db)
    refresh_feeds(db, settings)
    feed_text = (workdir / "data" / "feeds" / "cnn.atom").read_text(encoding="utf-8")
    assert "1970-01-01" not in feed_text
    parsed = feedparser.parse(feed_text)
    lenet = next(e for e in parsed.entries if "Gradient-based learning" in e.title)
    assert lenet.published.startswith("1998-01-01")  # the catalogue gives the year only
    assert lenet.summary  # its note, as it has no abstract
    assert all(entry.summary for entry in parsed.entries)


def test_a_paper_without_any_date_is_dated_by_its_arrival(
    db: sqlite_utils.Database, settings: Settings, workdir: Path
) -> None:
    with transaction(db):
        PaperStore(db).add(
            [
                PaperRecord(
                    source="jsonl",
                    source_id="undated",
                    title="A transformer without a date",
                    abstract="Self-attention everywhere in this transformer model.",
                )
            ]
        )
    tag_papers(db, workers=1)
    refresh_feeds(db, settings)
    parsed = feedparser.parse((workdir / "data" / "feeds" / "transformer.atom").read_bytes())
    (entry,) = parsed.entries
    first_seen = db.execute("SELECT first_seen FROM papers").fetchone()[0]
    assert entry.updated.startswith(first_seen[:10])


# -- the XML itself, pinned byte for byte (tests/fixtures/digest_render/*.atom) -----------------

GOLDEN = Path(__file__).parent / "fixtures" / "digest_render"


def _golden(name: str, text: str) -> None:
    expected = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


def _paper(**fields: object) -> Paper:
    base: dict[str, object] = {
        "id": 7,
        "arxiv_id": None,
        "arxiv_version": None,
        "doi": None,
        "openreview_id": None,
        "title": "t",
        "authors": [],
        "abstract": None,
        "venue": None,
        "year": None,
        "published": None,
        "updated": None,
        "categories": [],
        "url": None,
        "pdf_url": None,
        "sources": [],
        "families": [],
        "family_evidence": {},
        "curated": False,
        "stage": None,
        "comment": None,
        "journal_ref": None,
        "score": None,
        "first_seen": "2025-08-30T10:00:00+00:00",
    }
    return cast(Paper, base | fields)


def test_paper_entries_and_their_feed_match_the_expected_xml() -> None:
    papers = [
        _paper(
            id=1,
            title="<script>alert(1)</script>\n Hostile  ]]> & title",
            authors=[f"Author {i} <x>" for i in range(12)],
            abstract="Background here. We propose a <b>model</b> & more. It works.",
            published="2025-08-20",
            updated="2025-08-21T10:00:00+00:00",
            url="https://arxiv.org/abs/2508.00001",
            pdf_url="javascript:alert(2)",
            families=["transformer", "rnn"],
        ),
        _paper(
            id=2,
            title="Catalogue paper",
            year=1998,
            comment="Why it\nmatters.",
            url="javascript:alert(3)",
            pdf_url="https://example.org/p.pdf",
        ),
        _paper(id=3, title="Undated", abstract=""),
        _paper(id=4, title="Year zero", year=0),
    ]
    entries = [paper_entry(p) for p in papers]
    _golden("papers.expected.atom", _feed("urn:x", "dlradar: <new> & papers", "x.atom", entries))
    _golden("empty.expected.atom", _feed("urn:y", "empty", "y.atom", []))


def test_the_digest_feed_matches_the_expected_xml(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    for week, created in [("2025-W33", "2025-08-18T06:00:00+00:00"), ("2025-W34", "2025-08-25")]:
        db["digests"].insert(
            {
                "week": week,
                "created": created,
                "since": "x",
                "until": "y",
                "summary": f"<p>{week} &amp; <b>more</b></p>",
            }
        )
    path = write_digest_feed(db, tmp_path)
    assert path == tmp_path / "feed.atom"
    _golden("digest.expected.atom", path.read_text(encoding="utf-8"))


def test_year_and_timestamp_edges() -> None:
    assert _year_start(None) is None and _year_start(0) is None
    assert _year_start(1) == "0001-01-01" and _year_start(9999) == "9999-01-01"
    assert _year_start(10000) is None and _year_start(-5) is None
    assert _timestamp(None) == EPOCH and _timestamp("") == EPOCH
    assert _timestamp("2025-08-20") == "2025-08-20T00:00:00Z"
    assert _timestamp("2025-08-20T01:02:03+00:00") == "2025-08-20T01:02:03Z"


def test_feeds_result_says_what_it_did() -> None:
    result = FeedsResult([Path("a"), Path("b")], [Path("c")], [])
    assert str(result) == "paper feeds: 2 written, 1 unchanged, 0 removed"


def test_feed_ids_titles_and_a_shared_interest_name(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    add(db, *PAPERS)
    # A keyword and an author with the same slug: the second gets its kind in the file name.
    settings.override("interests", "keywords", ["Ada Lovelace"])
    settings.override("interests", "authors", ["Ada Lovelace"])
    refresh_feeds(db, settings)
    feeds = Path("data/feeds")
    family = parse(feeds / "transformer.atom").feed
    assert (family.id, family.title) == (
        "urn:dlradar:feed:family:transformer",
        "dlradar: new transformer papers",
    )
    keyword = parse(feeds / "interest-ada-lovelace.atom").feed
    assert (keyword.id, keyword.title) == (
        "urn:dlradar:feed:interest:keyword:ada-lovelace",
        "dlradar: new papers, keyword Ada Lovelace",
    )
    author = parse(feeds / "interest-author-ada-lovelace.atom")
    assert (author.feed.id, author.feed.title) == (
        "urn:dlradar:feed:interest:author:ada-lovelace",
        "dlradar: new papers, author Ada Lovelace",
    )
    assert [e.title for e in author.entries] == [PAPERS[1].title]


def test_an_interest_feed_lists_the_newest_matches_first(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    # Stored in an order that is neither by date nor its reverse; one has no date at all.
    text = "We propose a graph attention model."
    add(
        db,
        paper(1, "Graph attention, middle", text, "2025-08-20"),
        paper(2, "Graph attention, newest", text, "2025-08-22"),
        paper(3, "Graph attention, oldest", text, "2025-08-18"),
    )
    with transaction(db):
        PaperStore(db).add(
            [PaperRecord(source="jsonl", source_id="u", title="Graph attention, undated")]
        )
    refresh_feeds(db, settings)
    entries = parse(Path("data/feeds/interest-graph-attention.atom")).entries
    assert [e.title.split(", ")[1] for e in entries] == ["newest", "middle", "oldest", "undated"]


def test_a_feed_holds_at_most_papers_per_feed(
    db: sqlite_utils.Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds_module, "PAPERS_PER_FEED", 2)
    add(
        db,
        *(
            paper(n, f"Transformer {n}", "We train a transformer.", f"2025-08-1{n}")
            for n in range(5)
        ),
    )
    refresh_feeds(db, settings)
    entries = parse(Path("data/feeds/transformer.atom")).entries
    assert [e.title for e in entries] == ["Transformer 4", "Transformer 3"]


def test_a_file_in_place_of_the_feeds_directory_is_named(
    db: sqlite_utils.Database, settings: Settings, workdir: Path
) -> None:
    (workdir / "feeds").write_text("x")
    settings.override("digest", "feeds_directory", "feeds")
    with pytest.raises(DlradarError) as caught:
        refresh_feeds(db, settings)
    assert str(caught.value) == "[digest] feeds_directory = 'feeds' is a file, not a directory"


def test_slugs_are_cut_at_60_characters_without_edge_dashes() -> None:
    assert slug("a" * 70) == "a" * 60
    assert slug("!" + "a" * 70) == "a" * 60  # a leading dash does not take a character
    assert slug("a" * 59 + " b") == "a" * 59  # nor is one left at the cut
    assert slug("--Hello--") == "hello"


def test_an_interest_feed_takes_the_newest_of_its_most_relevant_matches(
    db: sqlite_utils.Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One paper per feed: the 4 most relevant matches are candidates, and the newest of them
    # is shown. The 4 old papers say "graph attention" in the title and the abstract, the 2 new
    # ones once in a long abstract: not among the candidates.
    monkeypatch.setattr(feeds_module, "PAPERS_PER_FEED", 1)
    settings.override("interests", "authors", [])
    strong = "We propose graph attention. Graph attention everywhere."
    weak = "We study many things over many pages, among them once graph attention, and more."
    old = [paper(n, f"Graph attention {n}", strong, f"2025-08-1{n}") for n in range(4)]
    new = [paper(n, f"Other {n}", weak, f"2025-08-2{n}") for n in range(4, 6)]
    add(db, *old, *new)
    refresh_feeds(db, settings)
    entries = parse(Path("data/feeds/interest-graph-attention.atom")).entries
    assert [e.title for e in entries] == ["Graph attention 3"]


def test_a_summary_falls_back_to_the_text_as_it_is() -> None:
    # An abstract that is nothing but an empty LaTeX macro has no sentence to take.
    entry = paper_entry(_paper(abstract="\\emph{}"))
    assert entry.findtext("{http://www.w3.org/2005/Atom}summary") == "\\emph{}"
