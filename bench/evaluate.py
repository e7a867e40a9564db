"""Brief, seeded training and evaluation of a zoo model ("build, train, evaluate").

Image models learn scikit-learn's digits resized to their input; sequence models learn the
generated "first signal" task (bench.data). The result holds per-epoch learning curves, an
over/under-fitting flag with its reason, and accuracy, macro precision/recall/F1 and the confusion
matrix on the held-out test split. `train_and_evaluate` also returns the trained classifier (one
tensor in, class logits out) so that it can be exported to ONNX and checked on `test_arrays`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from torch import nn

from bench import data
from bench.zoo import ModelSpec, get_model
from core.errors import DlradarError

OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}
TORCHVISION_EVAL_SIZE = 32  # torchvision CNNs learn the 8x8 digits at 32x32, not 224x224
VAL_LOSS_NOISE = 0.05  # rises of the validation loss below this (nats) are not overfitting

Progress = Callable[[str], None]
RECURRENT_FAMILIES = ("rnn", "lstm", "gru")  # learn the majority task; the others first-signal
# Each classification task's metric is held-out accuracy; the level the quick profile reaches.
PASS_LEVELS = {"mlp": 0.9, "cnn": 0.9, "rnn": 0.9, "lstm": 0.9, "gru": 0.9, "transformer": 0.6}


@dataclass(frozen=True)
class EvalConfig:
    """Training and data options; every default is what `dlradar bench eval` uses."""

    optimizer: str = "adam"  # 'adam' | 'sgd' (momentum 0.9)
    lr: float | None = None  # None: 1e-3 for Adam, 0.05 for SGD
    epochs: int = 10
    batch_size: int = 64
    dropout: float | None = None  # None: keep the model's own; else set on every nn.Dropout
    augment: bool = False  # images: random shifts and rotations of the training batches
    seed: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.2
    size: str = "full"  # zoo size: 'full' or 'small'
    weights: str | None = None  # start from a checkpoint instead of random weights
    image_size: int | None = None  # images: override the input resolution
    samples: int = 3000  # sequence task: number of generated sequences
    seq_len: int = 32  # sequence task: tokens per sequence
    weight_decay: float = 0.0
    # Family tasks (bench.family_eval): epochs, or steps, of training; None: each task's own.
    task_epochs: int | None = None
    # Stop training after this many seconds (checked after every batch; the epoch in progress
    # becomes the last point of the curves). None: train every epoch.
    time_budget_s: float | None = None

    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]


@dataclass(frozen=True)
class EpochRecord:
    """One point of the learning curves."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass(frozen=True)
class EvalResult:
    """Everything one evaluation measured; to_dict() gives plain JSON-ready values."""

    model: str
    family: str
    size: str
    dataset: str
    num_classes: int
    params: int
    split_sizes: dict[str, int]
    curves: list[EpochRecord]
    fit: str  # 'good' | 'overfitting' | 'underfitting'
    fit_reason: str
    test_loss: float
    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    confusion_matrix: list[list[int]]
    timings_s: dict[str, float]
    config: dict[str, Any]
    stopped_early: str | None = None  # why training ended before config.epochs, if it did
    onnx_accuracy: float | None = None
    onnx_accuracy_diff: float | None = None  # ONNX minus PyTorch, in accuracy points (0..1)

    def with_onnx_accuracy(self, accuracy: float) -> EvalResult:
        """A copy that also records the exported model's accuracy on the same test split."""
        return replace(self, onnx_accuracy=accuracy, onnx_accuracy_diff=accuracy - self.accuracy)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainedModel:
    """The trained classifier (eval mode, forward(x) -> logits (B, classes)) and its result."""

    model: nn.Module
    result: EvalResult


class Classifier(nn.Module):
    """Turns a zoo model into a classifier with one input tensor and (B, classes) logits.

    Models whose output already is class logits keep their own head and have their first
    `num_classes` logits used (a 1000-way ImageNet head learns the ten digits in logits 0..9);
    models that return hidden states get a linear head on the pooled (BERT), last-token (GPT-2)
    or single decoder-step (T5) state.
    """

    def __init__(
        self, backbone: nn.Module, num_classes: int, hidden: int | None, decoder_start: bool
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_classes = num_classes
        self.decoder_start = decoder_start
        self.head = nn.Linear(hidden, num_classes) if hidden is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # T5 decodes one step from its start token (id 0).
        decoder = (torch.zeros_like(x[:, :1]),) if self.decoder_start else ()
        out = self.backbone(x, *decoder)
        if out.dim() == 3:
            out = out[:, -1]
        if self.head is None:
            sliced: torch.Tensor = out[:, : self.num_classes]
            return sliced
        logits: torch.Tensor = self.head(out)
        return logits


def load_split(spec: ModelSpec, config: EvalConfig) -> data.Split:
    """The dataset of `spec` under `config`, resized/limited to what the model accepts."""
    shapes = spec.shapes(config.size)
    if spec.task == "image":
        assert shapes.image is not None
        channels, height, width = shapes.image
        if config.image_size is not None:
            height = width = config.image_size
        elif spec.source == "torchvision":
            height = width = TORCHVISION_EVAL_SIZE
        if spec.name == "mlp" and (height, width) != shapes.image[1:]:
            raise DlradarError("mlp: image_size must equal its input size (a dense first layer)")
        x, y = data.digits_images(channels, height, width)
        num_classes, name = data.DIGIT_CLASSES, f"digits {channels}x{height}x{width}"
    else:
        if shapes.vocab_size < data.TASK_VOCAB:
            raise DlradarError(
                f"{spec.name}: vocabulary {shapes.vocab_size} is smaller than the task's "
                f"{data.TASK_VOCAB} tokens"
            )
        if shapes.max_len and config.seq_len > shapes.max_len:
            raise DlradarError(f"{spec.name}: seq_len {config.seq_len} > {shapes.max_len}")
        if spec.family in RECURRENT_FAMILIES:
            x, y = data.majority_task(config.samples, config.seq_len, seed=config.seed)
            num_classes = data.MAJORITY_CLASSES
            name = f"majority {config.samples}x{x.shape[1]}"
        else:
            x, y = data.first_signal_task(config.samples, config.seq_len, seed=config.seed)
            num_classes = data.SIGNAL_CLASSES
            name = f"first-signal {config.samples}x{config.seq_len}"
    return data.split(
        x,
        y,
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
        seed=config.seed,
        num_classes=num_classes,
        name=name,
    )


def test_arrays(
    spec: ModelSpec | str, config: EvalConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The held-out test split as numpy (inputs, labels): float32 images or int64 token ids,
    exactly as `train_and_evaluate` scored the PyTorch model with the same config."""
    spec = get_model(spec) if isinstance(spec, str) else spec
    split = load_split(spec, config or EvalConfig())
    return split.test_x.numpy(), split.test_y.numpy()


test_arrays.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported


def accuracy_of_logits(logits: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of (N, classes) logits against labels, e.g. from an ONNX Runtime session."""
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def build_classifier(spec: ModelSpec, config: EvalConfig, num_classes: int) -> nn.Module:
    """The zoo model wrapped as a classifier, its dropout set as configured (seeded head)."""
    backbone = spec.build(size=config.size, weights=config.weights)
    shapes = spec.shapes(config.size)
    hidden = None
    if shapes.num_classes is None or shapes.num_classes < num_classes:
        with torch.no_grad():
            probe = spec.example_inputs(1, size=config.size)
            out = backbone(*probe)
        hidden = int(out.shape[-1])
    if config.dropout is not None:
        set_dropout(backbone, config.dropout)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return Classifier(backbone, num_classes, hidden, decoder_start=shapes.decoder_len > 0)


def set_dropout(module: nn.Module, p: float) -> int:
    """Set the probability of every nn.Dropout in `module`; returns how many were changed."""
    if not 0.0 <= p < 1.0:
        raise DlradarError(f"dropout must be in [0, 1), got {p}")
    changed = 0
    for sub in module.modules():
        if isinstance(sub, nn.Dropout):
            sub.p = p
            changed += 1
    return changed


def train_and_evaluate(
    spec: ModelSpec | str, config: EvalConfig | None = None, progress: Progress | None = None
) -> TrainedModel:
    """Train `spec` briefly on its dataset and score it on the held-out test split."""
    config = config or EvalConfig()
    spec = get_model(spec) if isinstance(spec, str) else spec
    _validate(config)
    started = time.perf_counter()
    split = load_split(spec, config)
    loaded = time.perf_counter()
    model = build_classifier(spec, config, split.num_classes)
    built = time.perf_counter()
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer: torch.optim.Optimizer
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(
            parameters, lr=config.learning_rate(), weight_decay=config.weight_decay
        )
    else:
        optimizer = torch.optim.SGD(
            parameters, lr=config.learning_rate(), momentum=0.9, weight_decay=config.weight_decay
        )
    generator = torch.Generator().manual_seed(config.seed)
    augment = config.augment and spec.task == "image"
    curves: list[EpochRecord] = []
    deadline = None if config.time_budget_s is None else built + config.time_budget_s
    stopped_early = None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # dropout masks
        for epoch in range(1, config.epochs + 1):
            epoch_start = time.perf_counter()
            train_loss, train_acc, complete = _train_epoch(
                model, optimizer, split, config.batch_size, generator, augment, deadline
            )
            val_loss, val_acc, _ = _predict(model, split.val_x, split.val_y, config.batch_size)
            record = EpochRecord(
                epoch, train_loss, train_acc, val_loss, val_acc, time.perf_counter() - epoch_start
            )
            curves.append(record)
            if progress:
                progress(
                    f"{spec.name} epoch {epoch}/{config.epochs}: train loss {train_loss:.4f} "
                    f"acc {train_acc:.3f}, val loss {val_loss:.4f} acc {val_acc:.3f}"
                )
            if deadline is not None and time.perf_counter() >= deadline and epoch < config.epochs:
                stopped_early = (
                    f"time budget of {config.time_budget_s:g} s reached in epoch {epoch}"
                    + ("" if complete else " (part of its batches)")
                )
                break
    trained = time.perf_counter()
    test_loss, _, predictions = _predict(model, split.test_x, split.test_y, config.batch_size)
    labels = split.test_y.numpy()
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predictions, average="macro", zero_division=0
    )
    matrix = confusion_matrix(labels, predictions, labels=list(range(split.num_classes)))
    finished = time.perf_counter()
    fit, reason = fitting_flag(curves, split.num_classes)
    if stopped_early:
        reason += f"; {stopped_early}"
    result = EvalResult(
        model=spec.name,
        family=spec.family,
        size=config.size,
        dataset=split.name,
        num_classes=split.num_classes,
        params=sum(p.numel() for p in model.parameters()),
        split_sizes=split.sizes(),
        curves=curves,
        fit=fit,
        fit_reason=reason,
        test_loss=test_loss,
        accuracy=float(accuracy_score(labels, predictions)),
        precision_macro=float(precision),
        recall_macro=float(recall),
        f1_macro=float(f1),
        confusion_matrix=matrix.tolist(),
        stopped_early=stopped_early,
        timings_s={
            "data": loaded - started,
            "build": built - loaded,
            "train": trained - built,
            "test": finished - trained,
            "total": finished - started,
        },
        config={
            **asdict(config),
            "lr": config.learning_rate(),
            "augment": augment,
            # Dropout layers the option acted on (ResNets have none, so it changes nothing there).
            "dropout_layers": sum(isinstance(m, nn.Dropout) for m in model.modules()),
            "threads": torch.get_num_threads(),
        },
    )
    return TrainedModel(model=model.eval(), result=result)


def evaluate(
    spec: ModelSpec | str, config: EvalConfig | None = None, progress: Progress | None = None
) -> EvalResult:
    """Train and score `spec`; see train_and_evaluate (this drops the trained model)."""
    return train_and_evaluate(spec, config, progress).result


def fitting_flag(curves: list[EpochRecord], num_classes: int) -> tuple[str, str]:
    """Judge the learning curves: 'underfitting', 'overfitting' or 'good', with the reason.

    Underfitting: the final training accuracy stays below halfway between chance and perfect.
    Overfitting: validation loss rose from its best epoch by over 10 % and over 0.05 (near zero,
    a relative rise is noise) while training loss kept falling, or training accuracy exceeds
    validation accuracy by more than 10 points.
    """
    if not curves:
        return "underfitting", "no epoch was trained"
    last = curves[-1]
    chance = 1.0 / num_classes
    if last.train_accuracy < chance + 0.5 * (1.0 - chance):
        return "underfitting", (
            f"train accuracy {last.train_accuracy:.3f} and val accuracy "
            f"{last.val_accuracy:.3f} are low (chance {chance:.3f})"
        )
    best = min(curves, key=lambda record: record.val_loss)
    if (
        best.epoch < last.epoch
        and last.val_loss - best.val_loss > max(0.1 * best.val_loss, VAL_LOSS_NOISE)
        and last.train_loss < best.train_loss
    ):
        return "overfitting", (
            f"val loss rose from {best.val_loss:.4f} (epoch {best.epoch}) to "
            f"{last.val_loss:.4f} while train loss fell to {last.train_loss:.4f}"
        )
    gap = last.train_accuracy - last.val_accuracy
    if gap > 0.10:
        return "overfitting", (
            f"train accuracy {last.train_accuracy:.3f} exceeds val accuracy "
            f"{last.val_accuracy:.3f} by {gap:.3f}"
        )
    return "good", (
        f"train accuracy {last.train_accuracy:.3f}, val accuracy {last.val_accuracy:.3f}, "
        "val loss not rising"
    )


def _validate(config: EvalConfig) -> None:
    if config.optimizer not in OPTIMIZERS:
        raise DlradarError(f"unknown optimizer {config.optimizer!r}; expected adam or sgd")
    if config.epochs < 1 or config.batch_size < 1:
        raise DlradarError("epochs and batch size must be at least 1")
    if config.learning_rate() <= 0:
        raise DlradarError("learning rate must be positive")


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    split: data.Split,
    batch_size: int,
    generator: torch.Generator,
    augment: bool,
    deadline: float | None,
) -> tuple[float, float, bool]:
    """One pass over the training split; stops early at `deadline` (perf_counter time).
    Returns the mean loss and accuracy over the samples seen, and whether the pass completed."""
    model.train()
    order = torch.randperm(len(split.train_y), generator=generator)
    total_loss, correct, seen = 0.0, 0, 0
    for start in range(0, len(order), batch_size):
        if deadline is not None and seen and time.perf_counter() >= deadline:
            return total_loss / seen, correct / seen, False
        index = order[start : start + batch_size]
        x, y = split.train_x[index], split.train_y[index]
        if augment:
            x = data.augment_images(x, generator)
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        total_loss += float(loss.detach()) * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return total_loss / seen, correct / seen, True


def _predict(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float, np.ndarray]:
    model.eval()
    losses, predictions = [], []
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            logits = model(x[start : start + batch_size])
            target = y[start : start + batch_size]
            losses.append(float(F.cross_entropy(logits, target, reduction="sum")))
            predictions.append(logits.argmax(1))
    predicted = torch.cat(predictions)
    accuracy = float((predicted == y).float().mean())
    return sum(losses) / len(y), accuracy, predicted.numpy()


def default_config(**overrides: Any) -> EvalConfig:
    """EvalConfig with `overrides` (unknown names raise TypeError, as dataclasses do)."""
    return replace(EvalConfig(), **overrides)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.evaluate MODEL [--epochs N ...]`: print one EvalResult as JSON.

    A developer's shortcut for reproducing figures; `dlradar bench eval` is the user's command.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.evaluate")
    parser.add_argument("model")
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--epochs", type=int, default=EvalConfig.epochs)
    parser.add_argument("--batch-size", type=int, default=EvalConfig.batch_size)
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="full", choices=("full", "small"))
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--samples", type=int, default=EvalConfig.samples)
    parser.add_argument("--seq-len", type=int, default=EvalConfig.seq_len)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--time-budget", type=float, help="seconds of training at most")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = EvalConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dropout=args.dropout,
        augment=args.augment,
        seed=args.seed,
        size=args.size,
        image_size=args.image_size,
        samples=args.samples,
        seq_len=args.seq_len,
        time_budget_s=args.time_budget,
    )
    try:
        result = evaluate(args.model, config, progress=lambda line: print(line, file=sys.stderr))
    except DlradarError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
