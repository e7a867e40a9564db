"""Generates papers in the bulk arXiv snapshot format, for the ingest benchmark and fault tests.

Text follows a Zipf-like long tail over a vocabulary of real deep-learning words plus made-up
rare words, with abstracts of 100-220 words, so import and search figures mean something.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_COMMON = (
    "the of and a to in we is for that on with this by are as our an from be model models "
    "learning which can neural network networks data training method methods results show "
    "propose performance task tasks using based approach new deep large language image "
    "transformer attention diffusion graph reinforcement policy convolutional recurrent "
    "representation representations benchmark datasets dataset state art improves accuracy "
    "efficient inference generation generative optimization loss gradient parameters "
    "experiments demonstrate framework features feature sequence vision text multimodal "
    "agents reasoning robust robustness adversarial theory bounds convergence sample "
    "supervised unsupervised self contrastive pretraining fine tuning scaling memory "
    "latent space embedding embeddings classification detection segmentation retrieval"
).split()
_CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.NE", "stat.ML", "cs.RO", "eess.IV"]
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "qu", "ex", "an", "or", "is", "el"]


def vocabulary(size: int, seed: int = 0) -> list[str]:
    """Real words first (most frequent), then invented ones for the long tail."""
    rng = random.Random(seed)
    words = list(dict.fromkeys(_COMMON))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 5)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class PaperGenerator:
    """Deterministic stream of snapshot-format records with Zipf-distributed words."""

    def __init__(self, seed: int = 0, vocab_size: int = 50_000, zipf_a: float = 1.1) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = np.array(vocabulary(vocab_size, seed))
        ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
        weights = ranks**-zipf_a
        self.cdf = np.cumsum(weights / weights.sum())

    def _text(self, n: int) -> str:
        idx = np.searchsorted(self.cdf, self.rng.random(n))
        return " ".join(self.words[np.minimum(idx, len(self.words) - 1)])

    def records(self, count: int, start: int = 0) -> Iterator[dict[str, object]]:
        for i in range(start, start + count):
            # 120 (year, month) buckets, numbered within each: unique ids up to 12M papers.
            bucket, number = i % 120, i // 120 + 1
            year, month = 2016 + bucket // 12, 1 + bucket % 12
            arxiv_id = f"{year % 100:02d}{month:02d}.{number:05d}"
            n_authors = int(self.rng.integers(1, 9))
            authors = [
                [self._text(1).capitalize(), self._text(1).capitalize(), ""]
                for _ in range(n_authors)
            ]
            day = 1 + i % 28
            n_versions = int(self.rng.integers(1, 4))
            yield {
                "id": arxiv_id,
                "submitter": " ".join(authors[0][1::-1]),
                "authors": ", ".join(f"{a[1]} {a[0]}" for a in authors),
                "title": self._text(int(self.rng.integers(5, 14))).capitalize(),
                "comments": f"{int(self.rng.integers(5, 40))} pages",
                "journal-ref": None,
                "doi": None,
                "categories": " ".join(
                    self.rng.choice(_CATEGORIES, size=int(self.rng.integers(1, 4)), replace=False)
                ),
                "license": None,
                "abstract": "  " + self._text(int(self.rng.integers(100, 221))) + ".\n",
                "versions": [
                    {"version": f"v{v + 1}", "created": f"Mon, {day} Jan {year} 10:00:00 GMT"}
                    for v in range(n_versions)
                ],
                "update_date": f"{year}-{month:02d}-{day:02d}",
                "authors_parsed": authors,
            }


def write_snapshot(path: Path, count: int, seed: int = 0) -> Path:
    """Write `count` generated papers to `path` as snapshot JSON lines."""
    generator = PaperGenerator(seed)
    with path.open("w", encoding="utf-8") as handle:
        for record in generator.records(count):
            handle.write(json.dumps(record) + "\n")
    return path
