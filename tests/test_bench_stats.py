"""Latency statistics (bench/stats.py): the edges and the errors, and percentiles against numpy
on random samples. The worked examples by hand are in test_bench_harness.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.stats import LatencyStats, percentile, throughput_per_s

latencies = st.lists(
    st.floats(min_value=0.001, max_value=1e4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(latencies, st.floats(min_value=0.0, max_value=100.0))
def test_percentile_is_numpys_linear_percentile(samples: list[float], q: float) -> None:
    expected = float(np.percentile(samples, q, method="linear"))
    assert percentile(samples, q) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert min(samples) <= percentile(samples, q) <= max(samples)


@settings(max_examples=40, deadline=None)
@given(latencies)
def test_latency_stats_agree_with_numpy(samples: list[float]) -> None:
    stats = LatencyStats.from_samples(samples)
    assert stats.count == len(samples)
    assert stats.mean == pytest.approx(float(np.mean(samples)), rel=1e-9)
    ddof = 1 if len(samples) > 1 else 0
    assert stats.stdev == pytest.approx(float(np.std(samples, ddof=ddof)), rel=1e-6, abs=1e-9)
    q75, q25 = np.percentile(samples, [75, 25])
    assert stats.iqr == pytest.approx(float(q75 - q25), rel=1e-9, abs=1e-9)
    assert stats.p50 <= stats.p90 <= stats.p95 <= stats.p99 <= stats.max


def test_two_samples_already_have_a_sample_stdev() -> None:
    stats = LatencyStats.from_samples([1.0, 3.0])
    assert stats.stdev == pytest.approx(math.sqrt(2.0))  # ((1-2)^2 + (3-2)^2) / (2 - 1)
    assert stats.iqr == pytest.approx(1.0)  # 2.5 - 1.5


def test_to_dict_is_every_field_as_a_float() -> None:
    stats = LatencyStats.from_samples([2.0, 4.0])
    data = stats.to_dict()
    assert data == {
        "count": 2.0,
        "mean": 3.0,
        "p50": 3.0,
        "p90": pytest.approx(3.8),
        "p95": pytest.approx(3.9),
        "p99": pytest.approx(3.98),
        "stdev": pytest.approx(math.sqrt(2.0)),
        "iqr": 1.0,
        "min": 2.0,
        "max": 4.0,
    }
    assert all(type(v) is float for v in data.values())


def test_errors_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^percentile of no samples$"):
        percentile([], 50)
    for q in (-0.001, 100.001, 101.0):
        with pytest.raises(ValueError, match=rf"^percentile {q} outside 0\.\.100$"):
            percentile([1.0], q)
    with pytest.raises(ValueError, match=r"^no latency samples to summarise$"):
        LatencyStats.from_samples([])
    for latency in (0.0, -1.0):
        with pytest.raises(ValueError, match=r"^latency must be positive$"):
            throughput_per_s(4, latency)
    assert throughput_per_s(4, 8.0) == 500.0
    assert throughput_per_s(2, 0.5) == 4000.0  # under a millisecond is fine
