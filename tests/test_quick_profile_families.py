"""The quick profile (what `dlradar run` measures) covers every family of the taxonomy: a family
whose reference model is too big for it is measured by that model's small variant, labelled
"small" with its results, in the same run as the full-size quick models."""

from __future__ import annotations

from pathlib import Path

from bench import store
from bench.reference import CANONICAL_MODELS
from bench.runner import RunConfig, profile_config, run_benchmark
from bench.timing import TimingConfig
from bench.zoo import get_model
from core.families import families as taxonomy
from dlradar.database import open_db

FAST = TimingConfig(warmup=1, min_iterations=3, min_time_s=0.0, max_time_s=0.5)


def test_every_family_is_in_the_quick_profile() -> None:
    config = profile_config("quick")
    families = {get_model(name).family for name in config.models}
    assert families == set(taxonomy()) and len(families) == 13
    for name in config.small_models:
        assert name in config.models and config.size_of(name) == "small"
        assert CANONICAL_MODELS[get_model(name).family] == name  # the family's own model
        assert not get_model(name).quick
    assert all(config.size_of(name) == "full" for name in config.models if get_model(name).quick)
    # The full profile measures every model at its published size.
    assert profile_config("full").small_models == ()


def test_a_run_measures_each_model_at_its_own_size(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")
    config = RunConfig(
        models=("dqn", "lenet5"), small_models=("dqn",), backends=("torch",),
        timing=FAST, profile="test",
    )  # fmt: skip
    run_id = run_benchmark(db, config)
    rows = {r["model"]: r for r in store.result_rows(db, run_ids=[run_id])}
    assert rows["dqn"]["size"] == "small" and rows["lenet5"]["size"] == "full"
    assert rows["dqn"]["params"] == get_model("dqn").params(size="small")
    assert rows["lenet5"]["params"] == get_model("lenet5").params(size="full")
