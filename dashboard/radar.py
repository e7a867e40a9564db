"""The Radar's table as data: per family, what is published next to what was measured here.

`dlradar radar` prints it and the Radar page renders it, so both show the same figures. Every
result is exactly the stored latest successful result of its configuration (model, backend,
device, dtype, batch size, threads, size); a family's headline comes from its canonical model
(bench.reference) at one reference configuration, and says why when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlite_utils

from bench import store
from bench.reference import canonical_model
from core.families import families as taxonomy_families
from tracker import overview, trends


class RadarResult(TypedDict):
    model: str
    backend: str
    device: str
    dtype: str | None
    batch_size: int
    threads: int | None
    size: str | None  # "full" (the published network) or "small" (a variant for quick runs)
    p50_ms: float
    p90_ms: float
    throughput_per_s: float | None
    fraction_of_peak: float | None
    peak_memory_mb: float | None
    parity_max_abs_diff: float | None
    quality_metric: str | None
    quality: float | None
    run_id: int
    measured_at: str


class RadarFailure(TypedDict):
    model: str
    backend: str
    device: str
    batch_size: int
    threads: int | None
    size: str | None
    status: str
    stage: str | None
    error: str | None
    run_id: int


class RadarQuality(TypedDict):
    """A model's latest evaluation: its task's metric, at the size it was trained."""

    model: str
    size: str | None
    quality_metric: str | None
    quality: float | None
    run_id: int
    measured_at: str


class RadarFamily(TypedDict):
    family: str
    papers: int
    share: float
    growth: float | None
    reference_models: list[str]
    canonical_model: str | None
    results: list[RadarResult]
    failures: list[RadarFailure]
    evaluations: list[RadarQuality]


@dataclass(frozen=True)
class ReferenceConfig:
    """The one configuration a headline figure is read at, so families compare like with like."""

    batch_size: int = 1
    threads: int = 1
    device: str = "cpu"
    size: str = "full"

    def label(self) -> str:
        plural = "s" if self.threads != 1 else ""
        return f"batch {self.batch_size}, {self.threads} thread{plural}, {self.device}"


@dataclass(frozen=True)
class Headline:
    """A family's figure at the reference configuration, or why there is none."""

    model: str | None
    result: RadarResult | None
    why: str | None  # set when result is None


def _quality(metrics: dict[str, Any] | None) -> tuple[str | None, float | None]:
    """The metric that stands for a model's quality: its task's own, else accuracy."""
    if not metrics:
        return None, None
    if metrics.get("quality_metric"):
        value = metrics.get("quality")
        return str(metrics["quality_metric"]), None if value is None else float(value)
    if metrics.get("accuracy") is not None:
        return "accuracy", float(metrics["accuracy"])
    return None, None


def _evaluated_size(row: store.ResultRow) -> str | None:
    # Evaluations stored before the run config carried the size have it in their metrics.
    return row["size"] or (row["eval"] or {}).get("size")


def _evaluation(row: store.ResultRow) -> RadarQuality:
    metric, quality = _quality(row["eval"])
    return {
        "model": row["model"],
        "size": _evaluated_size(row),
        "quality_metric": metric,
        "quality": quality,
        "run_id": row["run_id"],
        "measured_at": row["created_at"],
    }


def _result(
    row: store.ResultRow, evaluations: dict[tuple[str, str | None], RadarQuality]
) -> RadarResult:
    latency = row["latency_ms"]
    assert latency is not None  # latest_ok_results keeps timed rows only
    # Quality of the same model at the same size only: a small variant's accuracy is not the
    # published network's.
    evaluation = evaluations.get((row["model"], row["size"]))
    metric = evaluation["quality_metric"] if evaluation else None
    quality = evaluation["quality"] if evaluation else None
    return {
        "model": row["model"],
        "backend": row["backend"],
        "device": row["device"],
        "dtype": row["dtype"],
        "batch_size": row["batch_size"],
        "threads": row["threads"],
        "size": row["size"],
        "p50_ms": latency["p50"],
        "p90_ms": latency["p90"],
        "throughput_per_s": row["throughput_per_s"],
        "fraction_of_peak": row["fraction_of_peak"],
        "peak_memory_mb": row["peak_memory_mb"],
        "parity_max_abs_diff": row["parity_max_abs_diff"],
        "quality_metric": metric,
        "quality": quality,
        "run_id": row["run_id"],
        "measured_at": row["created_at"],
    }


def _failure(row: store.ResultRow) -> RadarFailure:
    return {
        "model": row["model"],
        "backend": row["backend"],
        "device": row["device"],
        "batch_size": row["batch_size"],
        "threads": row["threads"],
        "size": row["size"],
        "status": row["status"],
        "stage": row["stage"],
        "error": row["error"],
        "run_id": row["run_id"],
    }


def _zoo_models() -> list[tuple[str, str]]:
    """(model, family) of every zoo entry, from the zoo listing's cache when it has this zoo
    (else the zoo is loaded, with torch)."""
    from bench.zoo_listing import zoo_meta

    return [(m["name"], m["family"]) for m in zoo_meta()]


def radar_table(
    db: sqlite_utils.Database,
    zoo: Sequence[tuple[str, str]] | None = None,
    machine: str | None = None,
    summary: overview.CorpusSummary | None = None,
) -> list[RadarFamily]:
    """One row per family of the taxonomy (and any other measured or stored one), most
    published first: papers, share, growth, the zoo's models, every measured configuration.

    With `machine` (a hostname, a machine label or a Ray node id, see bench.store.machines),
    only the timings measured on that machine (evaluations are the model's, on any machine);
    `summary`: the corpus summary when the caller has read it already."""
    zoo = list(zoo) if zoo is not None else _zoo_models()
    shares = {row["family"]: row for row in overview.family_shares(db, summary)}
    growth = {str(row["family"]): row["growth"] for row in trends.family_growth(db, period="month")}
    evaluated = store.latest_evaluations(db).values() if store.is_set_up(db) else []
    evaluations = {(e["model"], e["size"]): e for e in map(_evaluation, evaluated)}
    results = store.latest_ok_results(db, machine) if store.is_set_up(db) else []
    failures = list(store.latest_failures(db, machine).values()) if store.is_set_up(db) else []
    models_of: dict[str, list[str]] = {}
    for model, family in zoo:
        models_of.setdefault(family, []).append(model)
    names = set(taxonomy_families()) | set(shares) | set(models_of)
    names |= {r["family"] for r in results if r["family"]}
    measured_family = {r["model"]: r["family"] for r in [*evaluated, *results] if r["family"]}

    def family_models(family: str) -> set[str]:
        return set(models_of.get(family, [])) | {
            m for m, f in measured_family.items() if f == family
        }

    table: list[RadarFamily] = []
    for family in names:
        share = shares.get(family)
        table.append(
            {
                "family": family,
                "papers": share["papers"] if share else 0,
                "share": share["share"] if share else 0.0,
                "growth": growth.get(family),
                "reference_models": models_of.get(family, []),
                "canonical_model": canonical_model(family),
                "results": [_result(r, evaluations) for r in results if r["family"] == family],
                "failures": [_failure(r) for r in failures if r["family"] == family],
                "evaluations": [
                    e for e in evaluations.values() if e["model"] in family_models(family)
                ],
            }
        )
    order = list(taxonomy_families())
    table.sort(
        key=lambda row: (
            -row["papers"],
            order.index(row["family"]) if row["family"] in order else len(order),
            row["family"],
        )
    )
    return table


def headline(
    row: RadarFamily, reference: ReferenceConfig, backend: str, model: str | None = None
) -> Headline:
    """A model's result at `reference` on `backend` (by default the family's canonical model),
    or a reason in a reader's words."""
    model = model or row["canonical_model"]
    if model is None:
        return Headline(None, None, "no reference model in the zoo")
    for result in row["results"]:
        if (
            result["model"] == model
            and result["backend"] == backend
            and result["device"] == reference.device
            and result["batch_size"] == reference.batch_size
            and result["threads"] == reference.threads
            and result["size"] == reference.size
        ):
            return Headline(model, result, None)
    for failure in row["failures"]:
        if (
            failure["model"] == model
            and failure["backend"] == backend
            and failure["batch_size"] == reference.batch_size
            and failure["threads"] == reference.threads
            and failure["size"] == reference.size
        ):
            stage = f" ({failure['stage']})" if failure["stage"] else ""
            reason = failure["error"] or "no reason stored"
            if backend == "onnxruntime" and failure["stage"] == "export":
                return Headline(model, None, f"no ONNX: {reason}")
            return Headline(model, None, f"{failure['status']}{stage}: {reason}")
    others = [r for r in row["results"] if r["model"] == model and r["backend"] == backend]
    if others:
        seen = sorted(
            {f"batch {r['batch_size']}, {r['threads']} threads, {r['size']}" for r in others}
        )
        return Headline(
            model, None, f"not measured at {reference.label()} ({'; '.join(seen)} only)"
        )
    return Headline(
        model, None, f"not measured: `dlradar bench run --full --model {model} --backend {backend}`"
    )


BACKENDS = ("torch", "onnxruntime")


def with_headlines(rows: Sequence[RadarFamily], reference: ReferenceConfig) -> list[dict[str, Any]]:
    """Each family with its headline per backend at `reference` (figure or reason), as printed
    by `dlradar radar --format json|jsonl`."""
    out: list[dict[str, Any]] = []
    for row in rows:
        heads = {backend: headline(row, reference, backend) for backend in BACKENDS}
        out.append(
            {
                **row,
                "headline": {
                    "reference": reference.label(),
                    "model": row["canonical_model"],
                    **{
                        backend: head.result if head.result else {"not_measured": head.why}
                        for backend, head in heads.items()
                    },
                },
            }
        )
    return out


def flat_rows(rows: Sequence[RadarFamily], reference: ReferenceConfig) -> list[dict[str, Any]]:
    """One line per family for tables and CSV: the headline figures, or why they are missing."""
    out: list[dict[str, Any]] = []
    for row in rows:
        line: dict[str, Any] = {
            "family": row["family"],
            "papers": row["papers"],
            "share": round(row["share"], 4),
            "growth": None if row["growth"] is None else round(row["growth"], 3),
            "reference model": row["canonical_model"],
        }
        notes = []
        for backend in BACKENDS:
            head = headline(row, reference, backend)
            line[f"p50 {backend} (ms)"] = head.result["p50_ms"] if head.result else None
            if head.result is None and head.why:
                notes.append(f"{backend}: {head.why}")
        line["quality"] = quality_text(row)
        line["measured configurations"] = len(row["results"])
        line["note"] = "; ".join(notes) or None
        out.append(line)
    return out


def quality_text(row: RadarFamily) -> str | None:
    """The family's quality figure, labelled with its model and size: the canonical model at
    full size when evaluated, else the best-known evaluation of any of its models."""
    scored = [e for e in row["evaluations"] if e["quality"] is not None]
    canonical = [e for e in scored if e["model"] == row["canonical_model"]]
    chosen = next((e for e in canonical if e["size"] == "full"), None) or next(
        iter(canonical or scored), None
    )
    if chosen is None:
        return None
    return (
        f"{chosen['quality']:.3f} {chosen['quality_metric']} ({chosen['model']},"
        f" {chosen['size'] or 'size not recorded'})"
    )


def quick_figure(row: RadarFamily, reference: ReferenceConfig, backend: str) -> RadarResult | None:
    """The family's fastest result at the reference batch and threads of any of its models and
    sizes: a quick-profile figure, shown labelled with its model and size, never as the headline."""
    candidates = [
        r
        for r in row["results"]
        if r["backend"] == backend
        and r["device"] == reference.device
        and r["batch_size"] == reference.batch_size
        and r["threads"] == reference.threads
    ]
    return min(candidates, key=lambda r: r["p50_ms"], default=None)
