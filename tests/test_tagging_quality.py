"""The tagger against the hand-labelled development set on real arXiv texts (../shared)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tracker.tagging import load_taxonomy
from tracker.tagging.classify import Tagger
from tracker.tagging.rules import Taxonomy

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "tagging_benchmark", ROOT / "scripts" / "tagging.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    if not (SHARED / "data" / "real").exists():
        message = "needs ../shared (checkout the shared folder beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return _benchmark()


def _dev_examples(bench: ModuleType) -> list[Any]:
    examples: list[Any] = bench.load_labels("dev", bench.load_texts())
    # The labelled set is part of the repository: fewer than 100 papers is a broken checkout or
    # a lost label file, never a reason to let the quality gate pass silently.
    assert len(examples) >= 100, "scripts/labels/dev.jsonl holds fewer than 100 labelled papers"
    return examples


def test_dev_set_quality_stays_high(bench: ModuleType) -> None:
    examples = _dev_examples(bench)
    report = bench.evaluate(examples)
    precision, recall, _ = report.micro()
    assert report.macro_f1() >= 0.92, report.text("dev", len(examples))
    assert precision >= 0.95, report.text("dev", len(examples))
    assert recall >= 0.9, report.text("dev", len(examples))


def test_every_real_text_classifies_with_evidence(bench: ModuleType) -> None:
    from tracker.tagging import classify

    texts = bench.load_texts()
    assert len(texts) > 1000
    tagged = 0
    for title, abstract in texts.values():
        result = classify(title, abstract)
        assert set(result.evidence) == set(result.families) == set(result.confidence)
        tagged += bool(result.families)
    # Most 2025 deep-learning papers name a family; a sizeable minority does not.
    assert 0.5 < tagged / len(texts) < 0.9


def _without_negatives(taxonomy: Taxonomy) -> Taxonomy:
    return dataclasses.replace(taxonomy, negatives=[])


def test_negative_phrases_matter_on_the_dev_set(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thresholds above still pass with every negative phrase turned off; this does not."""
    examples = _dev_examples(bench)
    with_negatives = bench.evaluate(examples)
    monkeypatch.setattr(bench, "classify", Tagger(_without_negatives(load_taxonomy())).classify)
    without = bench.evaluate(examples)
    assert len(without.wrong) > len(with_negatives.wrong)
    assert without.micro()[0] < with_negatives.micro()[0]  # the negatives buy precision
    assert without.macro_f1() < with_negatives.macro_f1()


# Negative phrases that overlap no term of their family on their own: guards kept in the taxonomy
# for texts where a longer term would reach into them. The test below ignores only these.
NON_OVERLAPPING = {
    ("mlp", "feed-forward layer"),
    ("mlp", "feedforward layer"),
    ("cnn", "graph conv"),
    ("cnn", "GraphConv"),
    ("cnn", "GCN"),
    ("cnn", "GCNs"),
    ("cnn", "ST-GCN"),
    ("transformer", "CLIPScore"),
    ("rl", "preference optimization"),
}


def test_every_negative_phrase_cancels_a_term_of_its_family() -> None:
    """Each negative phrase, put in a text alone, lowers its family's confidence; with the terms'
    `unless` rules off, so that the phrase and nothing else is what cancels."""
    taxonomy = load_taxonomy()
    plain = dataclasses.replace(
        taxonomy, terms=[dataclasses.replace(t, unless=frozenset()) for t in taxonomy.terms]
    )
    on, off = Tagger(plain), Tagger(_without_negatives(plain))
    assert len(taxonomy.negatives) > 50
    inert = []
    for negative in taxonomy.negatives:
        (family,) = negative.families
        if (family, negative.label) in NON_OVERLAPPING:
            continue
        phrase = negative.label
        texts = [
            ("", f"We propose a {phrase} for this task."),
            (f"A {phrase}", ""),
            (f"{phrase} for images", f"We propose a {phrase}. Our {phrase} is small."),
        ]
        if not any(
            on.classify(t, a).confidence.get(family, 0.0)
            < off.classify(t, a).confidence.get(family, 0.0)
            for t, a in texts
        ):
            inert.append((family, phrase))
    assert inert == []
