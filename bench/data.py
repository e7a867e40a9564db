"""Datasets for the evaluation: scikit-learn's digits as images, and a generated sequence task.

Both are deterministic from a seed and need no download. Digits (1,797 8x8 images, 10 classes)
are resized to the model's input (bilinear, channels repeated) and scaled to [-1, 1]. The sequence
task, "first signal", is described in `first_signal_task`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from core.errors import DlradarError

DIGIT_CLASSES = 10
SIGNAL_CLASSES = 4
TASK_VOCAB = 16  # 4 signal tokens (1..4) and 11 noise tokens (5..15); 0 is never drawn


@dataclass(frozen=True)
class Split:
    """Train, validation and test tensors of one dataset (x: inputs, y: int64 labels)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    name: str

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train_y),
            "val": len(self.val_y),
            "test": len(self.test_y),
        }


def digits_images(channels: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All of scikit-learn's digits as float images (N, channels, height, width) in [-1, 1]."""
    digits = load_digits()
    pixels = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if (height, width) != (8, 8):
        pixels = F.interpolate(pixels, size=(height, width), mode="bilinear", align_corners=False)
    images = (pixels * 2.0 - 1.0).repeat(1, channels, 1, 1).contiguous()
    return images, torch.tensor(digits.target, dtype=torch.int64)


def first_signal_task(
    samples: int,
    seq_len: int,
    *,
    seed: int,
    signals_per_sequence: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The "first signal" task: which signal token comes first?

    Each sequence holds `seq_len` random noise tokens (5..15) into which `signals_per_sequence`
    distinct signal tokens (1..4, one per class) are planted at random distinct positions. The
    label is the class of the EARLIEST signal. A bag of tokens sees which signals occur but not
    their order, so it scores 1/3 with three signals (chance is 1/4); solving the task needs
    order and memory (an RNN must latch the first signal and ignore the later ones).
    """
    if not 1 <= signals_per_sequence <= SIGNAL_CLASSES:
        raise DlradarError(f"signals_per_sequence must be 1..{SIGNAL_CLASSES}")
    if seq_len < signals_per_sequence:
        raise DlradarError(f"seq_len {seq_len} is shorter than {signals_per_sequence} signals")
    rng = np.random.default_rng(seed)
    tokens = rng.integers(SIGNAL_CLASSES + 1, TASK_VOCAB, size=(samples, seq_len))
    labels = np.empty(samples, dtype=np.int64)
    for row in range(samples):
        classes = rng.choice(SIGNAL_CLASSES, size=signals_per_sequence, replace=False)
        positions = np.sort(rng.choice(seq_len, size=signals_per_sequence, replace=False))
        tokens[row, positions] = classes + 1
        labels[row] = classes[0]  # planted at the smallest position
    return torch.tensor(tokens, dtype=torch.int64), torch.tensor(labels)


MAJORITY_CLASSES = 2
MAJORITY_LENGTH = 15  # bits per string at most: "short bit strings"


def majority_task(samples: int, seq_len: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The "majority" task of the recurrent families: which of two tokens (1 or 2) occurs more
    often in a random string of `seq_len` (at most MAJORITY_LENGTH) of them? An odd length has
    no ties (an even one is shortened by one). The answer needs the whole string, counted in
    the state, which every recurrent cell learns to >= 0.9 accuracy within the quick profile."""
    length = min(seq_len, MAJORITY_LENGTH)
    length -= length % 2 == 0
    if length < 1:
        raise DlradarError("majority task needs at least one token")
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(samples, length))
    labels = (bits.sum(1) * 2 > length).astype(np.int64)
    return torch.tensor(bits + 1, dtype=torch.int64), torch.tensor(labels)


def split(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    num_classes: int,
    name: str,
) -> Split:
    """Stratified train/validation/test split, deterministic from `seed`."""
    if not (0 < test_fraction < 1 and 0 < val_fraction < 1 and val_fraction + test_fraction < 1):
        raise DlradarError("val and test fractions must be in (0, 1) and sum to less than 1")
    index = np.arange(len(y))
    labels = y.numpy()
    rest, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=labels
    )
    train, val = train_test_split(
        rest,
        test_size=val_fraction / (1.0 - test_fraction),
        random_state=seed,
        stratify=labels[rest],
    )
    pick = [torch.as_tensor(part) for part in (train, val, test)]
    return Split(
        train_x=x[pick[0]],
        train_y=y[pick[0]],
        val_x=x[pick[1]],
        val_y=y[pick[1]],
        test_x=x[pick[2]],
        test_y=y[pick[2]],
        num_classes=num_classes,
        name=name,
    )


def augment_images(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random small rotations (+-10 degrees) and shifts (+-10 % of the size), one per image."""
    batch = images.shape[0]
    angle = (torch.rand(batch, generator=generator) * 2 - 1) * (10.0 * np.pi / 180.0)
    shift = (torch.rand(batch, 2, generator=generator) * 2 - 1) * 0.2  # grid spans [-1, 1]
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)
