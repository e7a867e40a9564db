"""Checks on the hand-labelled architecture-family sets in scripts/labels/.

The label files are gold data for the tagger benchmark, so a malformed line, a duplicated or
unknown id, or a README whose counts drifted from the files would silently skew every figure.
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import feedparser
import pytest

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "scripts" / "labels"
SHARED = REPO.parent / "shared"
SPLITS = ("dev", "holdout")
FAMILIES = (
    *("mlp", "cnn", "rnn", "lstm", "gru", "transformer", "gnn"),
    *("gan", "vae", "diffusion", "ssm", "moe", "rl"),
)
ID_PATTERN = re.compile(r"^\d{4}\.\d{4,5}$")
SEED = 2025
SEED_ROUND_2, ROUND_2_SAMPLE = 2026, 170
SEED_ROUND_3, ROUND_3_SAMPLE = 2027, 240
SEED_ROUND_4, ROUND_4_SAMPLE = 2028, 240
DAILY_SAMPLE, FEED_SAMPLE = 300, 60


def _load(split: str) -> list[dict[str, Any]]:
    path = LABELS / f"{split}.jsonl"
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name}:{number} is blank"
        record = json.loads(line)
        assert isinstance(record, dict), f"{path.name}:{number} is not a JSON object"
        records.append(record)
    return records


@pytest.fixture(scope="module")
def labels() -> dict[str, list[dict[str, Any]]]:
    return {split: _load(split) for split in SPLITS}


def _shared_dir() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("needs ../shared (checkout the shared folder beside the repo)")
        pytest.skip("needs ../shared (checkout the shared folder beside the repo)")
    return SHARED


def test_records_are_well_formed(labels: dict[str, list[dict[str, Any]]]) -> None:
    for split, records in labels.items():
        for record in records:
            assert set(record) <= {"id", "families", "doubt"}, record
            assert isinstance(record["id"], str) and ID_PATTERN.match(record["id"]), record
            families = record["families"]
            assert isinstance(families, list), record
            assert all(family in FAMILIES for family in families), record
            assert families == sorted(set(families)), f"{split}: unsorted or repeated {record}"
            if "doubt" in record:
                assert record["doubt"] is True, record
        ids = [record["id"] for record in records]
        assert ids == sorted(ids), f"{split}.jsonl is not sorted by id"


def test_ids_unique_across_files(labels: dict[str, list[dict[str, Any]]]) -> None:
    ids = [record["id"] for records in labels.values() for record in records]
    duplicates = sorted({paper_id for paper_id in ids if ids.count(paper_id) > 1})
    assert not duplicates, duplicates


def test_lstm_and_gru_imply_rnn(labels: dict[str, list[dict[str, Any]]]) -> None:
    for records in labels.values():
        for record in records:
            if {"lstm", "gru"} & set(record["families"]):
                assert "rnn" in record["families"], record


def test_sizes(labels: dict[str, list[dict[str, Any]]]) -> None:
    assert len(labels["dev"]) + len(labels["holdout"]) >= 300
    assert len(labels["holdout"]) >= 100


def _readme_table() -> dict[str, tuple[int, int, int]]:
    rows: dict[str, tuple[int, int, int]] = {}
    pattern = re.compile(r"^\|\s*([a-z()]+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|$")
    for line in (LABELS / "README.md").read_text(encoding="utf-8").splitlines():
        match = pattern.match(line.strip())
        if match:
            dev, holdout, total = (int(group) for group in match.groups()[1:])
            rows[match.group(1)] = (dev, holdout, total)
    return rows


def test_readme_counts_match_files(labels: dict[str, list[dict[str, Any]]]) -> None:
    table = _readme_table()
    expected: dict[str, list[int]] = {"papers": [], "(none)": [], "doubt": []}
    expected.update({family: [] for family in FAMILIES})
    for split in SPLITS:
        records = labels[split]
        expected["papers"].append(len(records))
        expected["(none)"].append(sum(not record["families"] for record in records))
        expected["doubt"].append(sum(bool(record.get("doubt")) for record in records))
        for family in FAMILIES:
            expected[family].append(sum(family in record["families"] for record in records))
    for row, (dev, holdout) in expected.items():
        assert table.get(row) == (dev, holdout, dev + holdout), f"README row {row!r}"


def _daily_ids(shared: Path) -> set[str]:
    ids: set[str] = set()
    for path in glob.glob(str(shared / "data/real/arxiv_daily_jsonl/*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            ids.update(json.loads(line)["id"] for line in handle if line.strip())
    return ids


def _feed_ids(shared: Path, *, with_cut_off: bool = False) -> set[str]:
    paths = glob.glob(str(shared / "data/real/arxiv_listing_feed/*.xml"))
    assert len(paths) == 1, paths
    entries = feedparser.parse(paths[0]).entries
    if not with_cut_off:
        entries = entries[:-1]  # the last entry is cut off
    return {re.sub(r"v\d+$", "", str(entry.id).rsplit(":", 1)[-1]) for entry in entries}


def test_sample_and_split_reproduce_from_shared_data(
    labels: dict[str, list[dict[str, Any]]],
) -> None:
    """Each round drew a fresh holdout from the papers not yet labelled; once the tagger had
    been scored on a holdout, that holdout was retired into dev (see README.md)."""
    shared = _shared_dir()
    daily, feed = _daily_ids(shared), _feed_ids(shared)
    assert len(daily) == 1118 and len(feed) == 86 and not daily & feed
    labelled = {split: {record["id"] for record in labels[split]} for split in SPLITS}
    assert labelled["dev"] | labelled["holdout"] <= daily | feed, "ids not in ../shared data"

    # Round 1: 360 papers (dev 240, holdout 120), all now in dev.
    rng = random.Random(SEED)
    first = set(rng.sample(sorted(daily), DAILY_SAMPLE) + rng.sample(sorted(feed), FEED_SAMPLE))
    assert first <= labelled["dev"]

    # Round 2 drew from every id scripts/tagging.py reads, which includes the cut-off feed
    # entry; that one has no abstract and was dropped from the draw. Now in dev too.
    everything = daily | _feed_ids(shared, with_cut_off=True)
    cut_off = everything - daily - feed
    pool = sorted(everything - first)
    second = set(random.Random(SEED_ROUND_2).sample(pool, ROUND_2_SAMPLE)) - cut_off
    assert second <= labelled["dev"]

    # Round 3 drew from every paper not labelled before it (all of dev); round 4 from the rest,
    # with the tagger unchanged in between. The holdout is both.
    pool = sorted(everything - labelled["dev"] - cut_off)
    third = set(random.Random(SEED_ROUND_3).sample(pool, ROUND_3_SAMPLE))
    pool = sorted(set(pool) - third)
    fourth = set(random.Random(SEED_ROUND_4).sample(pool, ROUND_4_SAMPLE))
    assert labelled["holdout"] == third | fourth
