"""Source formats: each module parses one kind of source, live or from a saved file.

The order matters for detection: more specific formats first.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# format name -> module; every module follows tracker.sources.base's contract.
FORMAT_MODULES: dict[str, str] = {
    "arxiv-snapshot": "tracker.sources.arxiv_snapshot",
    "openreview": "tracker.sources.openreview",
    "arxiv-api": "tracker.sources.arxiv_api",
    "arxiv-feed": "tracker.sources.arxiv_feed",
    "arxiv-oai": "tracker.sources.arxiv_oai",
    "pmlr": "tracker.sources.pmlr",
    "neurips": "tracker.sources.neurips",
    "jsonl": "tracker.sources.jsonl",
}


def load_format(name: str) -> ModuleType:
    return importlib.import_module(FORMAT_MODULES[name])
