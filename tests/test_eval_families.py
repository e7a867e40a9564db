"""Family evaluation tasks (issue #17): each states its metric and pass level, records learning
curves, and the cheap ones reach their pass level as the quick profile trains them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch

from bench import data, store
from bench.evaluate import EvalConfig, evaluate
from bench.family_eval import TASKS, TaskConfig, mmd2, repeat_task, run_task
from bench.runner import run_evaluation
from bench.zoo import get_model, list_models
from core.families import families as taxonomy_families
from dlradar.database import open_db

torch.set_num_threads(1)

# One model per family is evaluated by `bench eval --quick`; these tasks train briefly.
SHORT = {"ddpm-unet": 1, "dcgan": 1, "mamba-130m": 1, "switch-base-8": 1, "dqn": 1}


def test_quick_eval_covers_every_family() -> None:
    quick = {spec.family for spec in list_models() if spec.in_quick_eval}
    assert quick == set(taxonomy_families())


def test_majority_task_is_balanced_short_and_has_no_ties() -> None:
    x, y = data.majority_task(500, 32, seed=0)
    assert x.shape == (500, data.MAJORITY_LENGTH) and set(x.unique().tolist()) == {1, 2}
    assert torch.equal(y, ((x == 2).sum(1) * 2 > x.shape[1]).long())
    assert 0.4 < float(y.float().mean()) < 0.6


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_recurrent_models_learn_the_majority_task(name: str) -> None:
    result = evaluate(name, EvalConfig(size="small"))  # the quick profile's settings
    assert result.dataset == "majority 3000x15"
    assert result.accuracy >= 0.9
    assert len(result.curves) == 10


def test_gcn_reaches_its_pass_level_on_karate_club() -> None:
    result = run_task(get_model("gcn"), TaskConfig()).result
    assert result.quality_metric == "node_accuracy" and result.accuracy == result.quality
    assert result.passed and result.quality >= result.pass_level == 0.7
    assert result.curves[-1]["epoch"] == 200 and result.curves[0]["val_accuracy"] is not None


def test_vae_beats_the_independent_pixel_model() -> None:
    result = run_task(get_model("vae"), TaskConfig()).result
    assert result.quality_metric == "neg_elbo_nats" and not result.higher_is_better
    assert result.pass_level == result.details["independent_pixel_nll_nats"]
    assert result.passed and result.fit == "good"
    assert result.curves[-1]["val_loss"] < result.curves[0]["val_loss"]


@pytest.mark.parametrize("name", sorted(SHORT))
def test_family_task_states_metric_pass_level_and_curves(name: str) -> None:
    spec = get_model(name)
    trained = run_task(spec, TaskConfig(epochs=SHORT[name]))
    result = trained.result
    task = TASKS[spec.family]
    assert result.quality_metric == task.metric and result.dataset == task.dataset
    assert result.pass_level > 0 and isinstance(result.passed, bool)
    assert len(result.curves) == 1 and {"epoch", "train_loss", "val_loss"} <= set(result.curves[0])
    assert result.passed == (result.fit == "good")
    with torch.no_grad():
        out = trained.model(*trained.example)
    assert out.shape[0] == 2 and torch.isfinite(out).all()


def test_repeat_task_and_mmd() -> None:
    seqs = repeat_task(3, 12, 32, seed=0)
    assert torch.equal(seqs[:, 5:10], seqs[:, :5])
    assert int(seqs.min()) >= 2 and int(seqs.max()) < 32
    x = torch.randn(50, 4)
    assert mmd2(x, x, 1.0) == pytest.approx(0.0, abs=1e-6)
    assert mmd2(x, x + 3, 1.0) > 0.1


def test_eval_run_stores_family_metrics_and_onnx_check(tmp_path: Path) -> None:
    db = open_db(tmp_path / "eval.db")
    config = EvalConfig(size="small", task_epochs=1)
    run_id = run_evaluation(db, ["gcn", "switch-base-8"], config, stream=io.StringIO())
    rows = {r["model"]: r for r in store.result_rows(db, run_ids=[run_id])}
    gcn = rows["gcn"]["eval"]
    assert gcn["quality_metric"] == "node_accuracy" and gcn["pass_level"] == 0.7
    assert gcn["onnx_parity_ok"] is True and rows["gcn"]["parity_max_abs_diff"] is not None
    switch = rows["switch-base-8"]["eval"]
    assert switch["quality_metric"] == "perplexity"
    assert "data-dependent top-1 expert routing" in switch["onnx_error"]
