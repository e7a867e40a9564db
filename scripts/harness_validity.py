"""Harness validity: does our per-call timing agree with torch.utils.benchmark.Timer?

For each quick model of the zoo (and any named with --model) at the same thread settings, the
same inference callable is timed by bench.timing (per-call samples, our p50) and by
torch.utils.benchmark.Timer.blocked_autorange (its median), alternating a few times; the
ratio of the medians should lie within 0.95-1.05. On a loaded machine other processes stall
a few percent of the calls by a scheduler slice (about 4 ms); Timer's block averages absorb the
stalls while a per-call median skips them, so `mean_ratio` (our mean over Timer's mean) is
printed too. Also printed: ONNX Runtime's speed-up over PyTorch eager and the fraction of the
measured peak (stored by `dlradar bench peak`, else probed here) that each reaches.

    .venv/bin/python scripts/harness_validity.py
    .venv/bin/python scripts/harness_validity.py --model resnet18 --threads 1,2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch.utils.benchmark as torch_benchmark

from bench import store
from bench.onnx_export import create_session, export_onnx
from bench.peak import measure_peak, peak_for_threads
from bench.stats import LatencyStats
from bench.threads import ThreadSettings, apply_torch
from bench.timing import TimingConfig, host_timed, measure, ort_call, ort_feed, torch_call
from bench.zoo import get_model, list_models
from core.output import render
from dlradar.database import open_db

GOAL = (0.95, 1.05)


def ours(call: Any, timing: TimingConfig) -> LatencyStats:
    return LatencyStats.from_samples(measure(host_timed(call), timing).samples_ms)


def timer_stats(call: Any, threads: int, min_run_time: float) -> tuple[float, float]:
    """Timer's median and mean per call (ms) over its blocks."""
    timer = torch_benchmark.Timer(stmt="call()", globals={"call": call}, num_threads=threads)
    result = timer.blocked_autorange(min_run_time=min_run_time)
    return float(result.median * 1000.0), float(result.mean * 1000.0)


def validate(
    name: str,
    threads: int,
    batch: int,
    timing: TimingConfig,
    repeats: int,
    workdir: Path,
    peak: dict[str, Any] | None,
) -> dict[str, Any]:
    spec = get_model(name)
    apply_torch(ThreadSettings(threads))
    model = spec.build()
    inputs = spec.example_inputs(batch)
    call = torch_call(model, inputs, "cpu")
    ratios, mean_ratios, p50s, medians = [], [], [], []
    for _ in range(repeats):  # alternate so that drifting load hits both methods alike
        stats = ours(call, timing)
        median, mean = timer_stats(call, threads, timing.min_time_s)
        p50s.append(stats.p50)
        medians.append(median)
        ratios.append(stats.p50 / median)
        # Timer's blocks average over the calls stalled by other processes; our mean does too.
        mean_ratios.append(stats.mean / mean)
    row: dict[str, Any] = {
        "model": name, "threads": threads, "batch": batch,
        "ours_p50_ms": statistics.median(p50s), "timer_median_ms": statistics.median(medians),
        "ratio": statistics.median(ratios),
        "ratio_range": f"{min(ratios):.3f}-{max(ratios):.3f}",
        "mean_ratio": statistics.median(mean_ratios),
    }  # fmt: skip
    row["within_goal"] = GOAL[0] <= row["ratio"] <= GOAL[1]
    flops = spec.flops(batch).flops
    ceiling = peak_for_threads(peak, threads) if peak else None
    row["torch_gflops"] = flops / row["ours_p50_ms"] / 1e6
    row["torch_peak_frac"] = row["torch_gflops"] / ceiling if ceiling else None
    try:
        exported = export_onnx(model, spec.example_inputs(2), workdir / f"{name}.onnx")
        session = create_session(exported.path, ThreadSettings(threads), "cpu")
        ort_p50 = ours(ort_call(session, ort_feed(session, inputs)), timing).p50
        row["ort_p50_ms"] = ort_p50
        row["ort_speedup"] = row["ours_p50_ms"] / ort_p50
        row["ort_gflops"] = flops / ort_p50 / 1e6
        row["ort_peak_frac"] = row["ort_gflops"] / ceiling if ceiling else None
    except Exception as exc:  # report and carry on with the other models
        row["ort_error"] = str(exc)[:120]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="extra model (repeatable)")
    parser.add_argument("--threads", default="1", help="thread counts, e.g. 1,2")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="alternations per model")
    parser.add_argument("--db", default=None, help="database with a stored peak")
    parser.add_argument("--format", default="table", choices=["table", "json", "jsonl", "csv"])
    args = parser.parse_args(argv)

    names = [s.name for s in list_models() if s.quick]
    names += [n for n in args.model if n not in names]
    thread_counts = [int(t) for t in args.threads.split(",")]
    timing = TimingConfig(warmup=3, min_iterations=20, min_time_s=args.min_time,
                          max_time_s=max(30.0, args.min_time))  # fmt: skip
    peak = store.latest_peak(open_db(args.db)) if args.db else None
    if peak is None:
        print("probing the peak (no --db with a stored one) ...", file=sys.stderr)
        peak = measure_peak(sizes=(512, 1024, 2048), threads=thread_counts).to_dict()
    print(f"peak: {peak['gflops']:.1f} GFLOP/s; load average {os.getloadavg()}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlradar-validity-") as tmp:
        for threads in thread_counts:
            for name in names:
                row = validate(name, threads, args.batch_size, timing, args.repeats, Path(tmp),
                               peak)  # fmt: skip
                print(f"{name} threads={threads}: ratio {row['ratio']:.3f}", file=sys.stderr)
                rows.append(row)
    columns = ["model", "threads", "batch", "ours_p50_ms", "timer_median_ms", "ratio",
               "ratio_range", "within_goal", "mean_ratio", "ort_p50_ms", "ort_speedup",
               "torch_gflops",
               "torch_peak_frac", "ort_gflops", "ort_peak_frac"]  # fmt: skip
    print(render(rows, args.format, columns), end="")
    inside = sum(r["within_goal"] for r in rows)
    print(
        f"{inside}/{len(rows)} within {GOAL[0]}-{GOAL[1]}; load average {os.getloadavg()}"
        " (other processes' load stalls some calls: compare mean_ratio)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
