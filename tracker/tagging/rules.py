"""Load the taxonomy data (core/data/families.toml) into typed, validated rules.

The TOML file is the whole taxonomy: families and their parents, the terms (words, phrases,
model names) that are evidence for a family and how strongly, the negative phrases that cancel
a term where they overlap it, and the context cues that weaken or strengthen what sits in the
same clause. Nothing in the code knows any family name or model name; it only reads this data.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.families import TAXONOMY_FILE, Family, taxonomy_text


@dataclass(frozen=True, slots=True)
class Term:
    """One way of writing evidence: a phrase and what it votes for.

    `votes` maps a family id to the strength (0..1) of one mention in a neutral clause of the
    abstract. `unless` names families or flags whose presence in the same text cancels this
    term (e.g. "self-attention" counts for transformer unless the model is a GNN or an RNN).
    `title_only` terms count only when a title is classified without its abstract.
    """

    label: str
    votes: tuple[tuple[str, float], ...]
    case_sensitive: bool = False
    unless: frozenset[str] = frozenset()
    title_only: bool = False


@dataclass(frozen=True, slots=True)
class Negative:
    """A phrase that cancels the given families' terms wherever the two overlap."""

    label: str
    families: frozenset[str]
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Cue:
    """A context word: multiplies the strength of every term in the same clause by `factor`.

    With `carry`, the factor also holds for the following clauses of the same sentence up to a
    clause with an `own` cue ("Unlike CNNs, which ..., we propose ..."). `own` cues mark the
    paper's own work: sentences before the first one of them are background (motivation).
    """

    label: str
    kind: str
    factor: float
    case_sensitive: bool = False
    carry: bool = False
    own: bool = False
    in_title: bool = True


@dataclass(frozen=True, slots=True)
class Flag:
    """A phrase whose mere presence in the text raises a named flag (used by Term.unless)."""

    label: str
    name: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Scoring:
    """How mentions add up to a confidence; see tracker.tagging.classify."""

    threshold: float
    title_factor: float
    abstract_factor: float
    background_factor: float
    repeat_limit: int
    title_only_threshold: float


@dataclass(frozen=True)
class Taxonomy:
    families: dict[str, Family]
    terms: list[Term] = field(default_factory=list)
    negatives: list[Negative] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    scoring: Scoring = Scoring(0.5, 1.0, 0.8, 1.0, 3, 0.5)

    @property
    def family_ids(self) -> list[str]:
        return list(self.families)


def taxonomy_digest(path: Path | None = None) -> str:
    """A short fingerprint of the taxonomy file: changes whenever any rule changes."""
    return hashlib.sha256(taxonomy_text(path).encode("utf-8")).hexdigest()[:8]


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"taxonomy: {where} must be a list of non-empty strings")
    return list(value)


def _weight(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"taxonomy: {where} must be a number between 0 and 1")
    return float(value)


def _factor(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or not 0.0 <= float(value) <= 2.0:
        raise ConfigError(f"taxonomy: {where} must be a number between 0 and 2")
    return float(value)


def parse_taxonomy(data: dict[str, Any]) -> Taxonomy:
    """Validate the TOML document and turn it into rules; raises ConfigError naming the fault."""
    raw_families = data.get("families")
    if not isinstance(raw_families, dict) or not raw_families:
        raise ConfigError("taxonomy: no [families] table")
    families: dict[str, Family] = {}
    for fid, spec in raw_families.items():
        parents = tuple(_strings(spec.get("parents", []), f"families.{fid}.parents"))
        families[fid] = Family(fid, str(spec.get("name", fid)), parents)
    for fam in families.values():
        for parent in fam.parents:
            if parent not in families:
                raise ConfigError(f"taxonomy: family {fam.id} has unknown parent {parent}")

    flags = [
        Flag(phrase, name, bool(spec.get("case_sensitive", False)))
        for name, spec in data.get("flags", {}).items()
        for phrase in _strings(spec.get("phrases"), f"flags.{name}.phrases")
    ]
    flag_names = {f"flag:{f.name}" for f in flags}

    terms: list[Term] = []
    negatives: list[Negative] = []
    for fid, spec in raw_families.items():
        for i, group in enumerate(spec.get("terms", [])):
            where = f"families.{fid}.terms[{i}]"
            votes = {fid: _weight(group.get("weight"), f"{where}.weight")}
            for other, w in group.get("also", {}).items():
                if other not in families:
                    raise ConfigError(f"taxonomy: {where}.also names unknown family {other}")
                votes[other] = _weight(w, f"{where}.also.{other}")
            unless = frozenset(_strings(group.get("unless", []), f"{where}.unless"))
            for name in unless:
                if name not in families and name not in flag_names:
                    raise ConfigError(f"taxonomy: {where}.unless names unknown {name}")
            for phrase in _strings(group.get("names"), f"{where}.names"):
                terms.append(
                    Term(
                        phrase,
                        tuple(votes.items()),
                        bool(group.get("case_sensitive", False)),
                        unless,
                        bool(group.get("title_only", False)),
                    )
                )
        for i, group in enumerate(spec.get("negatives", [])):
            where = f"families.{fid}.negatives[{i}]"
            for phrase in _strings(group.get("names"), f"{where}.names"):
                negatives.append(
                    Negative(phrase, frozenset([fid]), bool(group.get("case_sensitive", False)))
                )

    cues = [
        Cue(
            phrase,
            kind,
            _factor(spec.get("factor"), f"context.{kind}.factor"),
            bool(spec.get("case_sensitive", False)),
            bool(spec.get("carry", False)),
            bool(spec.get("own", False)),
            bool(spec.get("in_title", True)),
        )
        for kind, spec in data.get("context", {}).items()
        for phrase in _strings(spec.get("cues"), f"context.{kind}.cues")
    ]
    raw_scoring = data.get("scoring", {})
    scoring = Scoring(
        threshold=_weight(raw_scoring.get("threshold", 0.5), "scoring.threshold"),
        title_factor=_weight(raw_scoring.get("title_factor", 1.0), "scoring.title_factor"),
        abstract_factor=_weight(raw_scoring.get("abstract_factor", 0.8), "scoring.abstract_factor"),
        background_factor=_weight(
            raw_scoring.get("background_factor", 1.0), "scoring.background_factor"
        ),
        repeat_limit=int(raw_scoring.get("repeat_limit", 3)),
        title_only_threshold=_weight(
            raw_scoring.get("title_only_threshold", 0.5), "scoring.title_only_threshold"
        ),
    )
    return Taxonomy(families, terms, negatives, cues, flags, scoring)


@cache
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy shipped with dlradar (or the TOML file at `path`)."""
    try:
        data = tomllib.loads(taxonomy_text(path))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"taxonomy: cannot read {path or TAXONOMY_FILE}: {exc}") from exc
    return parse_taxonomy(data)
