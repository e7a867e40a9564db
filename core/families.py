"""The family taxonomy as data: core/data/families.toml, the ids of ../shared/taxonomy.md.

The same file carries the tagger's rules (tracker.tagging.rules reads them from here); the base
reads only the families themselves, which every part and reader may name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from core.errors import ConfigError

TAXONOMY_FILE = "families.toml"


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    name: str
    parents: tuple[str, ...] = ()


def taxonomy_text(path: Path | None = None) -> str:
    """The taxonomy file shipped with dlradar (or the TOML file at `path`), as text."""
    if path is not None:
        return path.read_text(encoding="utf-8")
    return (resources.files("core") / "data" / TAXONOMY_FILE).read_text(encoding="utf-8")


@cache
def families() -> dict[str, Family]:
    """Every family of the shipped taxonomy, by id, in the file's order."""
    try:
        data = tomllib.loads(taxonomy_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"taxonomy: cannot read {TAXONOMY_FILE}: {exc}") from exc
    raw = data.get("families")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("taxonomy: no [families] table")
    return {
        fid: Family(fid, str(spec.get("name", fid)), tuple(spec.get("parents", [])))
        for fid, spec in raw.items()
    }


def family_ids(values: Iterable[object]) -> list[str]:
    """Family ids as ../shared/taxonomy.md spells them (lower case), in order.

    ConfigError naming an unknown id and the known ones: a typo ("transformers") would
    otherwise select nothing and look like a real zero.
    """
    known = list(families())
    given = list(values)
    ids = [str(v).strip().lower() for v in given]
    for raw, family in zip(given, ids, strict=True):
        if family not in known:
            raise ConfigError(f"unknown family {raw!r}; the families are {', '.join(known)}")
    return ids


# The stages of a learner's path, in order: the landmark catalogue files each paper under one.
LEARNING_STAGES = (
    "basics", "neural-networks", "cnns", "rnns", "transformers", "generative", "graphs",
    "reinforcement-learning", "training", "evaluation", "frontiers",
)  # fmt: skip
