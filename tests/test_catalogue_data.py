"""Validates the curated landmark catalogue (tracker/catalogue/landmarks.json) as data.

The catalogue is shown to learners as fact and doubles as a labelled test set for the family
tagger, so these checks guard its shape and its consistency with ../shared/taxonomy.md: schema,
unique keys and identifiers, identifier syntax, families and stages, and coverage of the path.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_PATH = REPO_ROOT / "tracker" / "catalogue" / "landmarks.json"
SHARED_DIR = REPO_ROOT.parent / "shared"

# The family ids of the design contract (taxonomy.md may add more, never rename these).
FAMILIES = frozenset(
    {"mlp", "cnn", "rnn", "lstm", "gru", "transformer", "gnn", "gan", "vae", "diffusion", "ssm"}
    | {"moe", "rl"}
)
# Families that are sub-kinds of another: a paper tagged with the key is also tagged with the value.
IMPLIED_FAMILIES = {"lstm": "rnn", "gru": "rnn"}
STAGES = (
    "basics",
    "neural-networks",
    "cnns",
    "rnns",
    "transformers",
    "generative",
    "graphs",
    "reinforcement-learning",
    "training",
    "evaluation",
    "frontiers",
)
REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "key": str,
    "title": str,
    "authors": list,
    "year": int,
    "venue": str,
    "arxiv_id": (str, type(None)),
    "doi": (str, type(None)),
    "families": list,
    "stage": str,
    "note": str,
}
OPTIONAL_FIELDS = {"authors_truncated"}
MIN_PAPERS = 60
YEAR_RANGE = (1940, 2026)
# An arXiv preprint and the venue version of a paper are at most this many years apart; a
# larger gap almost always means a mistyped id.
MAX_ARXIV_YEAR_GAP = 2

KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NEW_ARXIV_RE = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})$")
OLD_ARXIV_RE = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/(?P<yy>\d{2})(?P<mm>\d{2})\d{3}$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")

# Landmarks the issue and the brief name explicitly: their absence is a regression.
REQUIRED_KEYS = (
    "perceptron backpropagation universal-approximation lenet-5 alexnet vgg googlenet resnet "
    "densenet unet yolo efficientnet convnext lstm gru-encoder-decoder gru-empirical-evaluation "
    "seq2seq bahdanau-attention transformer bert gpt gpt-2 gpt-3 t5 vit swin clip llama "
    "instructgpt gan dcgan stylegan vae vq-vae ddpm score-sde latent-diffusion flow-matching gcn "
    "gat graphsage gin s4 mamba sparsely-gated-moe switch-transformer dqn-nature ppo alphago "
    "dropout batch-norm layer-norm adam glorot-init he-init-prelu word2vec glove elmo wavenet tcn "
    "mlp-mixer kan svm random-forests roc-analysis random-search calibration scaling-laws "
    "chinchilla chain-of-thought lora flashattention dpo elman-srn echo-state-network"
).split()

# The hard cases that taxonomy.md spells out, as (catalogue key, exact families).
TAXONOMY_HARD_CASES: tuple[tuple[str, set[str]], ...] = (
    ("gpt-3", {"transformer"}),
    ("gcn", {"gnn"}),
    ("gat", {"gnn"}),
    ("chebnet", {"gnn"}),
    ("svm", set()),
    ("instructgpt", {"transformer", "rl"}),
    ("dpo", {"transformer"}),
    ("clip", {"transformer", "cnn"}),
    ("flow-matching", {"diffusion"}),
    ("switch-transformer", {"transformer", "moe"}),
    ("mamba", {"ssm"}),
    ("lstm", {"lstm", "rnn"}),
    ("deepwalk", set()),
    ("graphormer", {"gnn", "transformer"}),
)


def _load_catalogue() -> dict[str, Any]:
    with CATALOGUE_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


CATALOGUE = _load_catalogue()
PAPERS: list[dict[str, Any]] = CATALOGUE["papers"]
BY_KEY: dict[str, dict[str, Any]] = {paper["key"]: paper for paper in PAPERS}


def _ids(papers: list[dict[str, Any]], field: str) -> list[str]:
    return [paper[field] for paper in papers if paper[field] is not None]


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def test_top_level_shape() -> None:
    assert set(CATALOGUE) == {"version", "papers"}
    assert CATALOGUE["version"] == 1
    assert isinstance(PAPERS, list)
    assert len(PAPERS) >= MIN_PAPERS


@pytest.mark.parametrize("paper", PAPERS, ids=lambda paper: str(paper.get("key")))
def test_paper_schema(paper: dict[str, Any]) -> None:
    missing = set(REQUIRED_FIELDS) - set(paper)
    unknown = set(paper) - set(REQUIRED_FIELDS) - OPTIONAL_FIELDS
    assert not missing, f"missing fields {sorted(missing)}"
    assert not unknown, f"unknown fields {sorted(unknown)}"
    for field, kind in REQUIRED_FIELDS.items():
        assert isinstance(paper[field], kind), f"{field} has type {type(paper[field]).__name__}"
    assert not isinstance(paper["year"], bool)
    if "authors_truncated" in paper:
        # Only ever present to say "the list stops early"; absent otherwise.
        assert paper["authors_truncated"] is True


@pytest.mark.parametrize("paper", PAPERS, ids=lambda paper: str(paper.get("key")))
def test_paper_text_fields(paper: dict[str, Any]) -> None:
    assert KEY_RE.match(paper["key"]), "key must be a lower-case slug"
    for field in ("title", "venue", "note"):
        text = paper[field]
        assert text.strip() == text and text, f"{field} is empty or padded"
        assert "  " not in text, f"{field} has a double space"
    authors = paper["authors"]
    assert authors, "no authors"
    assert all(isinstance(name, str) and name.strip() == name and name for name in authors)
    assert len(set(authors)) == len(authors), "an author is listed twice"
    assert paper["note"].endswith("."), "the note is one sentence ending with a full stop"
    assert YEAR_RANGE[0] <= paper["year"] <= YEAR_RANGE[1]


def test_keys_titles_and_identifiers_are_unique() -> None:
    assert _duplicates([paper["key"] for paper in PAPERS]) == []
    assert _duplicates([paper["title"].casefold() for paper in PAPERS]) == []
    assert _duplicates(_ids(PAPERS, "arxiv_id")) == []
    assert _duplicates([doi.lower() for doi in _ids(PAPERS, "doi")]) == []


@pytest.mark.parametrize(
    "paper", [p for p in PAPERS if p["arxiv_id"] is not None], ids=lambda paper: paper["key"]
)
def test_arxiv_id_syntax(paper: dict[str, Any]) -> None:
    arxiv_id = paper["arxiv_id"]
    match = NEW_ARXIV_RE.match(arxiv_id) or OLD_ARXIV_RE.match(arxiv_id)
    assert match, f"{arxiv_id!r} is not an arXiv id without version"
    assert 1 <= int(match["mm"]) <= 12, f"{arxiv_id!r} has no valid month"
    yymm = int(match["yy"] + match["mm"])
    if "num" in match.groupdict() and match["num"] is not None:
        # arXiv moved from 4- to 5-digit sequence numbers in January 2015.
        expected_digits = 5 if yymm >= 1501 else 4
        assert len(match["num"]) == expected_digits, f"{arxiv_id!r} has the wrong digit count"
    arxiv_year = 1900 + int(match["yy"]) if int(match["yy"]) >= 91 else 2000 + int(match["yy"])
    assert abs(paper["year"] - arxiv_year) <= MAX_ARXIV_YEAR_GAP, (
        f"{arxiv_id!r} is from {arxiv_year}, the paper from {paper['year']}"
    )


@pytest.mark.parametrize(
    "paper", [p for p in PAPERS if p["doi"] is not None], ids=lambda paper: paper["key"]
)
def test_doi_syntax(paper: dict[str, Any]) -> None:
    assert DOI_RE.match(paper["doi"]), f"{paper['doi']!r} is not a bare DOI"


@pytest.mark.parametrize("paper", PAPERS, ids=lambda paper: str(paper.get("key")))
def test_families_follow_the_taxonomy(paper: dict[str, Any]) -> None:
    families = paper["families"]
    assert all(isinstance(family, str) for family in families)
    assert len(set(families)) == len(families), "a family is listed twice"
    assert set(families) <= FAMILIES, f"unknown families {sorted(set(families) - FAMILIES)}"
    for family, implied in IMPLIED_FAMILIES.items():
        if family in families:
            assert implied in families, f"{family} implies {implied}"


@pytest.mark.parametrize(("key", "families"), TAXONOMY_HARD_CASES)
def test_taxonomy_hard_cases(key: str, families: set[str]) -> None:
    assert set(BY_KEY[key]["families"]) == families


def test_stages_are_known_and_all_represented() -> None:
    stages = Counter(paper["stage"] for paper in PAPERS)
    assert set(stages) <= set(STAGES), f"unknown stages {sorted(set(stages) - set(STAGES))}"
    assert set(STAGES) <= set(stages), f"empty stages {sorted(set(STAGES) - set(stages))}"


def test_named_landmarks_are_present() -> None:
    assert [key for key in REQUIRED_KEYS if key not in BY_KEY] == []


def test_family_ids_match_the_shared_taxonomy() -> None:
    taxonomy = SHARED_DIR / "taxonomy.md"
    if not taxonomy.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{taxonomy} is missing")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    # Table rows look like "| mlp | feed-forward networks | ... |"; the header row is "| id |".
    rows = re.findall(r"^\|\s*([a-z]+)\s*\|", taxonomy.read_text(encoding="utf-8"), re.MULTILINE)
    taxonomy_ids = {row for row in rows if row != "id"}
    assert taxonomy_ids >= FAMILIES
