"""The normalised paper record that every source parser produces and the store consumes."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields

# How much a source is trusted for a paper's title, venue and year: a proceedings venue
# wins over the arXiv preprint, and our own curated catalogue over both.
SOURCE_RANK: dict[str, int] = {
    "catalogue": 50,
    "neurips": 40,
    "pmlr": 40,
    "openreview": 40,
    "arxiv-api": 30,
    "arxiv-oai": 30,
    "arxiv-snapshot": 30,
    "arxiv-feed": 20,
    "jsonl": 10,
}

PROCEEDINGS_SOURCES = frozenset({"neurips", "pmlr", "openreview"})


@dataclass(slots=True)
class PaperRecord:
    """One paper as one source saw it, already normalised (see tracker.normalize)."""

    source: str
    source_id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    openreview_id: str | None = None
    venue: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date YYYY-MM-DD
    updated: str | None = None  # ISO date YYYY-MM-DD
    categories: list[str] = field(default_factory=list)  # primary first
    comment: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    url: str | None = None
    pdf_url: str | None = None
    curated: bool = False
    families: list[str] = field(default_factory=list)  # curated families only
    stage: str | None = None  # learning-path stage, curated only

    @property
    def rank(self) -> int:
        return SOURCE_RANK.get(self.source, 0)

    def __reduce__(self) -> tuple[type[PaperRecord], tuple[object, ...]]:
        # A big import sends every record from its reader process: a tuple of the fields
        # pickles and loads in half the time of a slots dataclass's default state.
        return (PaperRecord, _field_values(self))


_field_values = operator.attrgetter(*(f.name for f in fields(PaperRecord)))
