"""The curated landmark catalogue: papers a learner meets on the path, written by the team.

Loaded by `dlradar run` (and `dlradar catalogue --load`), so even an offline install opens on a
meaningful corpus. Curated papers are marked curated and keep the catalogue's families.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlite_utils

from core.db import transaction
from core.errors import FormatError
from core.families import LEARNING_STAGES
from tracker.ingest import RunResult, run_pages
from tracker.normalize import arxiv_urls, clean_title
from tracker.record import PaperRecord
from tracker.sources.base import Page
from tracker.store import PaperStore

STAGES = LEARNING_STAGES


@dataclass(frozen=True)
class Landmark:
    key: str
    title: str
    authors: tuple[str, ...]
    year: int
    venue: str
    arxiv_id: str | None
    doi: str | None
    families: tuple[str, ...]
    stage: str
    note: str

    def to_record(self) -> PaperRecord:
        url, pdf_url = arxiv_urls(self.arxiv_id) if self.arxiv_id else (None, None)
        return PaperRecord(
            source="catalogue",
            source_id=self.key,
            title=clean_title(self.title),
            authors=list(self.authors),
            arxiv_id=self.arxiv_id,
            doi=self.doi.lower() if self.doi else None,
            venue=self.venue,
            year=self.year,
            url=url,
            pdf_url=pdf_url,
            curated=True,
            families=list(self.families),
            stage=self.stage,
            comment=self.note,
        )


def load_catalogue() -> list[Landmark]:
    """The catalogue shipped in tracker/catalogue/landmarks.json."""
    try:
        text = resources.files("tracker").joinpath("catalogue/landmarks.json").read_text("utf-8")
        data: dict[str, Any] = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise FormatError(f"landmark catalogue unreadable: {exc}") from exc
    return [
        Landmark(
            key=p["key"],
            title=p["title"],
            authors=tuple(p["authors"]),
            year=int(p["year"]),
            venue=p["venue"],
            arxiv_id=p.get("arxiv_id"),
            doi=p.get("doi"),
            families=tuple(p.get("families", [])),
            stage=p["stage"],
            note=p.get("note", ""),
        )
        for p in data["papers"]
    ]


def load_into(db: sqlite_utils.Database) -> RunResult:
    """Store (or refresh) every landmark paper with its curated families; idempotent."""
    landmarks = load_catalogue()
    result = run_pages(db, "catalogue", "landmarks", [Page([lm.to_record() for lm in landmarks])])
    store = PaperStore(db)
    with transaction(db):
        ids = dict(
            db.execute(
                "SELECT source_id, paper_id FROM paper_sources WHERE source = 'catalogue'"
            ).fetchall()
        )
        for landmark in landmarks:
            if landmark.key in ids:
                store.set_curated_families(ids[landmark.key], landmark.families)
    return result
