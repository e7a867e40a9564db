"""Summary statistics of per-iteration latency samples (milliseconds).

Percentiles use linear interpolation between closest ranks (numpy's default, Hyndman-Fan
type 7), so they can be checked by hand: the q-th percentile of n sorted samples sits at
position (n - 1) * q / 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# IQR above this fraction of the median means the machine was too noisy to trust one figure.
NOISE_THRESHOLD = 0.10


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of `samples`, linearly interpolated between ranks."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100.0
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


@dataclass(frozen=True)
class LatencyStats:
    """One latency record: the distribution of steady-state iterations, in milliseconds."""

    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    stdev: float
    iqr: float
    min: float
    max: float

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float]) -> LatencyStats:
        if not samples_ms:
            raise ValueError("no latency samples to summarise")
        n = len(samples_ms)
        mean = math.fsum(samples_ms) / n
        # Sample standard deviation (n - 1); zero for a single sample.
        variance = math.fsum((s - mean) ** 2 for s in samples_ms) / (n - 1) if n > 1 else 0.0
        return cls(
            count=n,
            mean=mean,
            p50=percentile(samples_ms, 50),
            p90=percentile(samples_ms, 90),
            p95=percentile(samples_ms, 95),
            p99=percentile(samples_ms, 99),
            stdev=math.sqrt(variance),
            iqr=percentile(samples_ms, 75) - percentile(samples_ms, 25),
            min=min(samples_ms),
            max=max(samples_ms),
        )

    @property
    def relative_iqr(self) -> float:
        """IQR as a fraction of the median (the noise measure)."""
        return self.iqr / self.p50 if self.p50 > 0 else math.inf

    @property
    def noisy(self) -> bool:
        """True when IQR / median exceeds NOISE_THRESHOLD."""
        return self.relative_iqr > NOISE_THRESHOLD

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def throughput_per_s(batch_size: int, latency_ms: float) -> float:
    """Items per second at `batch_size` items per call taking `latency_ms`."""
    if latency_ms <= 0:
        raise ValueError("latency must be positive")
    return batch_size * 1000.0 / latency_ms
