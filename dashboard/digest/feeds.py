"""Atom feeds: the weekly digest (one entry per week) and new papers per family and per interest.

`write_digest_feed` rebuilds `<digest directory>/feed.atom` from the digests table;
`refresh_feeds` rebuilds `<feeds directory>/<family>.atom` and `interest-<slug>.atom` (one per
saved keyword and author) with the newest papers. Feeds are built with ElementTree, so all
paper text is XML-escaped; a feed's <updated> is its newest entry's, and a file is rewritten only
when its content changes, so refreshing twice is a no-op.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from core.config import Settings
from core.families import families as taxonomy_families
from dashboard.digest import render
from dashboard.digest.files import writable_directory, write_file
from tracker.overview import tagged_families
from tracker.query import Paper, PaperFilter, find_papers
from tracker.search import quoted

ATOM = "http://www.w3.org/2005/Atom"
PAPERS_PER_FEED = 50
DIGESTS_IN_FEED = 52
EPOCH = "1970-01-01T00:00:00Z"

ET.register_namespace("", ATOM)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def _timestamp(value: str | None) -> str:
    """An ISO date or datetime as an RFC 3339 timestamp (Atom requires a full one)."""
    if not value:
        return EPOCH
    if len(value) == 10:
        return f"{value}T00:00:00Z"
    return value.replace("+00:00", "Z")


def _year_start(year: int | None) -> str | None:
    """A year-only paper (the catalogue's) dates from January 1st of its year, never 1970."""
    return f"{year:04d}-01-01" if year and 1 <= year <= 9999 else None


def _feed(feed_id: str, title: str, self_href: str, entries: list[ET.Element]) -> str:
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", feed_id)
    _el(feed, "title", title, type="text")
    updated = max((e.findtext(f"{{{ATOM}}}updated") or EPOCH for e in entries), default=EPOCH)
    _el(feed, "updated", updated)
    _el(feed, "link", rel="self", href=self_href)
    author = _el(feed, "author")
    _el(author, "name", "dlradar")
    _el(feed, "generator", "dlradar")
    feed.extend(entries)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def slug(text: str) -> str:
    """`Graph Neural Networks` -> `graph-neural-networks` (file-name safe, at most 60 chars)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    return cleaned or "interest"


# --- paper feeds -----------------------------------------------------------------------------


def paper_entry(paper: Paper) -> ET.Element:
    """One paper as an Atom entry: title and summary as text, links only when http(s)."""
    entry = ET.Element(f"{{{ATOM}}}entry")
    abs_url = render.safe_url(paper["url"])
    _el(entry, "id", abs_url or f"urn:dlradar:paper:{paper['id']}")
    _el(entry, "title", render.one_line(paper["title"]), type="text")
    published = paper["published"] or _year_start(paper["year"])
    # A paper without any date of its own is as new as its arrival here.
    _el(entry, "updated", _timestamp(paper["updated"] or published or paper["first_seen"]))
    if published:
        _el(entry, "published", _timestamp(published))
    for name in paper["authors"][:10] or ["unknown"]:
        _el(_el(entry, "author"), "name", render.one_line(name))
    if abs_url:
        _el(entry, "link", rel="alternate", type="text/html", href=abs_url)
    pdf_url = render.safe_url(paper["pdf_url"])
    if pdf_url:
        _el(entry, "link", rel="related", type="application/pdf", href=pdf_url)
    for family in paper["families"]:
        _el(entry, "category", term=family)
    # A catalogue paper has no abstract: its note says why it matters.
    text = paper["abstract"] or paper["comment"] or ""
    summary = render.extractive_tldr(text) or render.one_line(text)
    _el(entry, "summary", summary, type="text")
    return entry


@dataclass
class FeedsResult:
    """Which feed files a refresh wrote and which were already up to date."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"paper feeds: {len(self.written)} written, {len(self.unchanged)} unchanged,"
            f" {len(self.removed)} removed"
        )


def _families(db: sqlite_utils.Database, settings: Settings) -> list[str]:
    families = set(tagged_families(db))
    families.update(settings.get("interests", "families"))
    families.update(taxonomy_families())  # every family gets a feed, even an empty one
    return sorted(f for f in families if f)


def _newest(papers: list[Paper]) -> list[Paper]:
    papers.sort(key=lambda p: (p["published"] or "", p["id"]), reverse=True)
    return papers[:PAPERS_PER_FEED]


def refresh_feeds(db: sqlite_utils.Database, settings: Settings) -> FeedsResult:
    """Rebuild the per-family and per-interest paper feeds in [digest] feeds_directory."""
    directory = writable_directory(
        Path(settings.get("digest", "feeds_directory")), "[digest] feeds_directory"
    )
    result = FeedsResult()
    wanted: dict[Path, str] = {}
    for family in _families(db, settings):
        papers = find_papers(db, PaperFilter(families=(family,)), limit=PAPERS_PER_FEED)
        name = f"{slug(family)}.atom"
        wanted[directory / name] = _feed(
            f"urn:dlradar:feed:family:{family}",
            f"dlradar: new {family} papers",
            name,
            [paper_entry(p) for p in papers],
        )
    interests = [("keyword", k) for k in settings.get("interests", "keywords")]
    interests += [("author", a) for a in settings.get("interests", "authors")]
    for kind, value in interests:
        # A keyword is a phrase, as in the digest's interest matches (tracker.interests).
        query = (
            PaperFilter(search=quoted(value)) if kind == "keyword" else PaperFilter(author=value)
        )
        # Search ranks by relevance; a feed wants the newest of the matches.
        papers = _newest(find_papers(db, query, limit=PAPERS_PER_FEED * 4))
        name = f"interest-{slug(value)}.atom"
        if directory / name in wanted:
            name = f"interest-{kind}-{slug(value)}.atom"
        wanted[directory / name] = _feed(
            f"urn:dlradar:feed:interest:{kind}:{slug(value)}",
            f"dlradar: new papers, {kind} {render.one_line(value)}",
            name,
            [paper_entry(p) for p in papers],
        )
    for path, text in wanted.items():
        (result.written if write_file(path, text) else result.unchanged).append(path)
    # Feeds of interests no longer saved would otherwise go stale silently.
    for old in sorted(directory.glob("interest-*.atom")) if directory.is_dir() else []:
        if old not in wanted:
            old.unlink()
            result.removed.append(old)
    return result


# --- the digest feed -------------------------------------------------------------------------


def write_digest_feed(db: sqlite_utils.Database, directory: Path) -> Path:
    """Rebuild `<directory>/feed.atom`: the newest DIGESTS_IN_FEED weekly digests."""
    entries = []
    rows = db.query(
        "SELECT week, created, since, until, counts, summary FROM digests"
        " ORDER BY week DESC LIMIT ?",
        [DIGESTS_IN_FEED],
    )
    for row in rows:
        entry = ET.Element(f"{{{ATOM}}}entry")
        _el(entry, "id", f"urn:dlradar:digest:{row['week']}")
        _el(entry, "title", f"dlradar weekly digest {row['week']}", type="text")
        _el(entry, "updated", _timestamp(row["created"]))
        _el(entry, "published", _timestamp(row["created"]))
        _el(entry, "link", rel="alternate", type="text/html", href=f"{row['week']}.html")
        _el(entry, "link", rel="alternate", type="text/markdown", href=f"{row['week']}.md")
        _el(entry, "link", rel="alternate", type="application/json", href=f"{row['week']}.json")
        # type="html": the fragment is stored as text, so ElementTree escapes it once more.
        _el(entry, "content", row["summary"], type="html")
        entries.append(entry)
    path = directory / "feed.atom"
    write_file(
        path, _feed("urn:dlradar:feed:digest", "dlradar weekly digest", "feed.atom", entries)
    )
    return path
