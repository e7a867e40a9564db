"""Evaluation: datasets, brief seeded training, metrics and the fitting flag."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bench import data
from bench import evaluate as evaluation
from bench.evaluate import (
    EpochRecord,
    EvalConfig,
    EvalResult,
    accuracy_of_logits,
    evaluate,
    fitting_flag,
    set_dropout,
    train_and_evaluate,
)
from bench.zoo import get_model
from core.errors import DlradarError

torch.set_num_threads(1)

TINY_SEQUENCES = EvalConfig(epochs=2, size="small", samples=400, seq_len=12)


def assert_coherent(result: EvalResult, epochs: int) -> None:
    """The invariants every result must satisfy, whatever the model learned."""
    matrix = np.array(result.confusion_matrix)
    test_size = result.split_sizes["test"]
    assert matrix.shape == (result.num_classes, result.num_classes)
    assert matrix.sum() == test_size
    assert result.accuracy == pytest.approx(np.trace(matrix) / test_size)
    assert [record.epoch for record in result.curves] == list(range(1, epochs + 1))
    for value in (result.precision_macro, result.recall_macro, result.f1_macro):
        assert 0.0 <= value <= 1.0
    for record in result.curves:
        assert record.train_loss > 0 and record.val_loss > 0
        assert 0.0 <= record.train_accuracy <= 1.0 and 0.0 <= record.val_accuracy <= 1.0
    assert result.fit in {"good", "overfitting", "underfitting"} and result.fit_reason
    assert result.timings_s["total"] >= result.timings_s["train"] > 0
    encoded = json.loads(json.dumps(result.to_dict()))
    assert len(encoded["curves"]) == epochs and encoded["config"]["epochs"] == epochs


def test_digits_resized_to_the_model_input() -> None:
    images, labels = data.digits_images(3, 32, 32)
    assert images.shape == (1797, 3, 32, 32) and labels.shape == (1797,)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert torch.equal(images[:, 0], images[:, 2])  # grey repeated over channels
    assert set(labels.tolist()) == set(range(10))


def test_first_signal_task_labels_the_earliest_signal() -> None:
    tokens, labels = data.first_signal_task(200, 20, seed=3)
    again, same = data.first_signal_task(200, 20, seed=3)
    assert torch.equal(tokens, again) and torch.equal(labels, same)
    assert not torch.equal(tokens, data.first_signal_task(200, 20, seed=4)[0])
    assert tokens.min() >= 1 and tokens.max() < data.TASK_VOCAB
    for row, label in zip(tokens.tolist(), labels.tolist(), strict=True):
        signals = [token for token in row if 1 <= token <= data.SIGNAL_CLASSES]
        assert len(signals) == 3 == len(set(signals))
        assert label == signals[0] - 1
    # Every class occurs, so the task is not one label in disguise.
    assert set(labels.tolist()) == set(range(data.SIGNAL_CLASSES))


def test_split_is_stratified_disjoint_and_seeded() -> None:
    x, y = data.digits_images(1, 8, 8)
    parts = data.split(x, y, val_fraction=0.15, test_fraction=0.2, seed=0, num_classes=10, name="d")
    sizes = parts.sizes()
    assert sum(sizes.values()) == 1797 and sizes["test"] == 360
    rows = {tuple(t.flatten().tolist()) for t in parts.test_x}
    assert not rows & {tuple(t.flatten().tolist()) for t in parts.train_x[:200]}
    assert np.bincount(parts.test_y.numpy()).min() >= 35  # stratified: ~36 per class
    again = data.split(x, y, val_fraction=0.15, test_fraction=0.2, seed=0, num_classes=10, name="d")
    assert torch.equal(parts.test_y, again.test_y)


def test_augmentation_keeps_shape_and_is_seeded() -> None:
    images = data.digits_images(1, 32, 32)[0][:8]
    first = data.augment_images(images, torch.Generator().manual_seed(0))
    second = data.augment_images(images, torch.Generator().manual_seed(0))
    assert first.shape == images.shape and torch.equal(first, second)
    assert not torch.equal(first, images)


def test_lenet5_evaluation_is_coherent_and_learns() -> None:
    result = evaluate("lenet5", EvalConfig(epochs=2))
    assert_coherent(result, 2)
    assert result.dataset == "digits 1x32x32" and result.params == 61_706
    assert result.accuracy > 0.5  # chance is 0.1


def test_seeded_evaluation_is_reproducible() -> None:
    config = EvalConfig(epochs=1, size="small", optimizer="sgd", augment=True, dropout=0.2)
    first, second = evaluate("mlp", config), evaluate("mlp", config)
    assert first.curves[0].train_loss == second.curves[0].train_loss
    assert first.confusion_matrix == second.confusion_matrix
    assert first.config["augment"] is True and first.config["lr"] == 0.05
    assert first.config["dropout_layers"] == 1 and first.config["dropout"] == 0.2


@pytest.mark.parametrize("name", ["transformer-tiny", "bert-base", "t5-small"])
def test_sequence_models_evaluate_on_the_generated_task(name: str) -> None:
    result = evaluate(name, TINY_SEQUENCES)
    assert_coherent(result, 2)
    assert result.num_classes == data.SIGNAL_CLASSES
    assert result.dataset == "first-signal 400x12"


def test_recurrent_models_evaluate_on_the_majority_task() -> None:
    result = evaluate("gru", TINY_SEQUENCES)  # 12 tokens: the odd 11 (no ties)
    assert_coherent(result, 2)
    assert result.num_classes == data.MAJORITY_CLASSES
    assert result.dataset == "majority 400x11"


def test_torchvision_cnn_small_on_digits() -> None:
    result = evaluate("resnet18", EvalConfig(epochs=2, size="small", image_size=16))
    assert_coherent(result, 2)
    assert result.dataset == "digits 3x16x16"


def test_test_arrays_score_the_trained_model_identically() -> None:
    trained = train_and_evaluate("gpt2", TINY_SEQUENCES)
    inputs, labels = evaluation.test_arrays("gpt2", TINY_SEQUENCES)
    assert inputs.dtype == np.int64 and inputs.shape == (len(labels), 12)
    with torch.no_grad():
        logits = trained.model(torch.from_numpy(inputs)).numpy()
    assert logits.shape == (len(labels), data.SIGNAL_CLASSES)
    assert accuracy_of_logits(logits, labels) == pytest.approx(trained.result.accuracy)
    with_onnx = trained.result.with_onnx_accuracy(trained.result.accuracy - 0.01)
    assert with_onnx.onnx_accuracy_diff == pytest.approx(-0.01)
    images, _ = evaluation.test_arrays(get_model("lenet5"))
    assert images.dtype == np.float32 and images.shape[1:] == (1, 32, 32)


def test_time_budget_stops_training_early() -> None:
    config = EvalConfig(epochs=50, size="small", samples=400, seq_len=12, time_budget_s=0.0)
    result = evaluate("lstm", config)
    # A zero budget still trains one batch, then records the partial first epoch and stops.
    assert len(result.curves) == 1 and result.stopped_early is not None
    assert "time budget" in result.stopped_early and "time budget" in result.fit_reason
    assert np.array(result.confusion_matrix).sum() == result.split_sizes["test"]


def _curve(losses: list[tuple[float, float]], accuracies: tuple[float, float]) -> list[EpochRecord]:
    return [
        EpochRecord(epoch, train, accuracies[0], val, accuracies[1], 0.1)
        for epoch, (train, val) in enumerate(losses, start=1)
    ]


def test_fitting_flag_reads_the_curves() -> None:
    rising = _curve([(1.0, 0.8), (0.5, 0.6), (0.2, 0.7), (0.1, 0.9)], (0.99, 0.85))
    flag, reason = fitting_flag(rising, 10)
    assert flag == "overfitting" and "val loss rose" in reason
    gap = _curve([(0.5, 0.6), (0.3, 0.5)], (0.99, 0.7))
    assert fitting_flag(gap, 10)[0] == "overfitting"
    low = _curve([(2.2, 2.2), (2.1, 2.2)], (0.2, 0.15))
    flag, reason = fitting_flag(low, 10)
    assert flag == "underfitting" and "low" in reason
    good = _curve([(0.5, 0.5), (0.3, 0.35)], (0.95, 0.93))
    assert fitting_flag(good, 10)[0] == "good"
    # Near zero, a threefold rise of the validation loss (0.010 -> 0.037) is noise.
    noisy = _curve([(0.03, 0.02), (0.01, 0.01), (0.005, 0.037)], (0.999, 0.989))
    assert fitting_flag(noisy, 10)[0] == "good"


def test_options_are_checked() -> None:
    with pytest.raises(DlradarError, match="optimizer"):
        evaluate("lenet5", EvalConfig(optimizer="rmsprop"))
    with pytest.raises(DlradarError, match="image_size"):
        evaluate("mlp", EvalConfig(image_size=32))
    with pytest.raises(DlradarError, match="dropout"):
        set_dropout(get_model("lenet5").build(), 1.5)
    assert set_dropout(get_model("lenet5").build(), 0.3) == 2
