"""The tagger against the hand-labelled development set on real arXiv texts (../shared)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

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


def test_dev_set_quality_stays_high(bench: ModuleType) -> None:
    examples = bench.load_labels("dev", bench.load_texts())
    if len(examples) < 100:
        pytest.skip("scripts/labels/dev.jsonl holds fewer than 100 labelled papers")
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
