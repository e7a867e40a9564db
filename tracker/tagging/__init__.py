"""Architecture-family tagging: the taxonomy as data, a compiled matcher, and the store writer.

`classify(title, abstract)` tags one text; `tag_papers(db)` tags the stored papers. The rules
live in core/data/families.toml.
"""

from tracker.tagging.classify import (
    TAGGER_VERSION,
    Classification,
    Tagger,
    classify,
    default_tagger,
)
from tracker.tagging.rules import Taxonomy, load_taxonomy
from tracker.tagging.store import TagStats, tag_papers

__all__ = [
    "TAGGER_VERSION",
    "Classification",
    "TagStats",
    "Tagger",
    "Taxonomy",
    "classify",
    "default_tagger",
    "load_taxonomy",
    "tag_papers",
]
