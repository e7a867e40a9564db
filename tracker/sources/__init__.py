"""Source formats: each module parses one kind of source, live or from a saved file.

The order of FORMATS matters for detection: more specific formats first. Each format's module is
imported only when it is used (lxml, bs4, feedparser and arxiv are slow to load), but by a plain
import statement that readers and tools can follow.
"""

from __future__ import annotations

from types import ModuleType

# Every module follows tracker.sources.base's contract.
FORMATS: tuple[str, ...] = (
    "arxiv-snapshot",
    "openreview",
    "arxiv-api",
    "arxiv-feed",
    "arxiv-oai",
    "pmlr",
    "neurips",
    "jsonl",
)


def load_format(name: str) -> ModuleType:
    """The module that reads format `name` (KeyError for a name not in FORMATS)."""
    match name:
        case "arxiv-snapshot":
            from tracker.sources import arxiv_snapshot

            return arxiv_snapshot
        case "openreview":
            from tracker.sources import openreview

            return openreview
        case "arxiv-api":
            from tracker.sources import arxiv_api

            return arxiv_api
        case "arxiv-feed":
            from tracker.sources import arxiv_feed

            return arxiv_feed
        case "arxiv-oai":
            from tracker.sources import arxiv_oai

            return arxiv_oai
        case "pmlr":
            from tracker.sources import pmlr

            return pmlr
        case "neurips":
            from tracker.sources import neurips

            return neurips
        case "jsonl":
            from tracker.sources import jsonl

            return jsonl
    raise KeyError(name)
