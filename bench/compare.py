"""`dlradar bench compare RUN_A RUN_B`: the change of every configuration between two runs.

A slowdown is a regression only when it is beyond REGRESSION_THRESHOLD (7 %) of run A's median
AND beyond the measured noise: the larger of the two runs' IQRs (ms). Speed-ups are judged the
same way. Differences in the environment (CPU, core count, GPU, library versions) are warned
about, since they make any change suspect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from bench import store
from bench.environment import environment_differences

REGRESSION_THRESHOLD = 0.07
KEY_FIELDS = ("model", "backend", "device", "dtype", "batch_size", "threads", "inter_op_threads")


@dataclass(frozen=True)
class Change:
    """One configuration present in either run."""

    model: str
    backend: str
    device: str
    dtype: str
    batch_size: int
    threads: int | None
    inter_op_threads: int | None
    p50_a: float | None
    p50_b: float | None
    change_pct: float | None  # (b - a) / a, in percent; positive = slower
    noise_ms: float | None
    verdict: str  # regression | improvement | unchanged | new | removed | failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    run_a: int
    run_b: int
    changes: list[Change]
    environment_warnings: list[str]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.verdict == "regression"]


def judge(
    p50_a: float,
    p50_b: float,
    iqr_a: float,
    iqr_b: float,
    threshold: float = REGRESSION_THRESHOLD,
) -> str:
    """regression / improvement / unchanged for one configuration's medians and IQRs (ms)."""
    delta = p50_b - p50_a
    noise = max(iqr_a, iqr_b)
    if abs(delta) > threshold * p50_a and abs(delta) > noise:
        return "regression" if delta > 0 else "improvement"
    return "unchanged"


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in KEY_FIELDS)


def compare_rows(
    rows_a: Sequence[Mapping[str, Any]],
    rows_b: Sequence[Mapping[str, Any]],
    threshold: float = REGRESSION_THRESHOLD,
) -> list[Change]:
    """Pair results by configuration and judge each pair (the last result wins on duplicates)."""
    by_a = {_key(r): r for r in rows_a}
    by_b = {_key(r): r for r in rows_b}
    changes: list[Change] = []
    for key in list(by_a) + [k for k in by_b if k not in by_a]:
        a, b = by_a.get(key), by_b.get(key)
        lat_a = (a or {}).get("latency_ms") if a and a.get("status") == "ok" else None
        lat_b = (b or {}).get("latency_ms") if b and b.get("status") == "ok" else None
        p50_a = lat_a["p50"] if lat_a else None
        p50_b = lat_b["p50"] if lat_b else None
        change_pct = noise = None
        if a is None:
            verdict = "new"
        elif b is None:
            verdict = "removed"
        elif lat_a is None or lat_b is None:
            verdict = "failed"
        else:
            verdict = judge(lat_a["p50"], lat_b["p50"], lat_a["iqr"], lat_b["iqr"], threshold)
            change_pct = 100.0 * (lat_b["p50"] - lat_a["p50"]) / lat_a["p50"]
            noise = max(lat_a["iqr"], lat_b["iqr"])
        fields = dict(zip(KEY_FIELDS, key, strict=True))
        changes.append(
            Change(
                **fields,
                p50_a=p50_a,
                p50_b=p50_b,
                change_pct=change_pct,
                noise_ms=noise,
                verdict=verdict,
            )
        )
    return changes


def compare_runs(
    db: sqlite_utils.Database, run_a: int, run_b: int, threshold: float = REGRESSION_THRESHOLD
) -> Comparison:
    """Compare two stored runs (NotFoundError when either does not exist)."""
    meta_a, meta_b = store.get_run(db, run_a), store.get_run(db, run_b)
    changes = compare_rows(
        store.result_rows(db, run_ids=[run_a]), store.result_rows(db, run_ids=[run_b]), threshold
    )
    warnings = environment_differences(meta_a["environment"], meta_b["environment"])
    return Comparison(run_a, run_b, changes, warnings)
