"""`dlradar bench peak`: the machine's measured FP32 GEMM throughput and memory bandwidth.

These are the ceilings of the roofline: each result's achieved GFLOP/s is reported as a
fraction of the best GEMM rate found here. One GEMM size is not the peak (small ones are
overhead-bound, large ones may spill caches), so several sizes and thread counts are probed
and the best is kept. Bandwidth is measured with a large copy (2 x bytes moved) and a STREAM-
style triad a = b + s*c (3 x bytes moved), the best of the two being reported. GEMM is probed
through both runtimes' kernels (torch's BLAS and ONNX Runtime's MLAS), since on some CPUs one
of them uses wider vector units than the other and the ceiling is the faster one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from bench.threads import ThreadSettings, ort_session_options, torch_threads
from bench.timing import TimingConfig, host_timed, measure
from core.db import utc_now

DEFAULT_SIZES = (256, 512, 1024, 2048)
DEFAULT_BANDWIDTH_MB = 256


def default_threads() -> tuple[int, ...]:
    cores = os.cpu_count() or 1
    return (1,) if cores == 1 else (1, cores)


@dataclass(frozen=True)
class Probe:
    kind: str  # "gemm", "copy" or "triad"
    engine: str  # "torch" or "onnxruntime" (their GEMM kernels differ, e.g. AVX2 vs AVX-512)
    size: int  # matrix side for gemm, MiB per array for copy/triad
    threads: int
    median_ms: float
    rate: float  # GFLOP/s for gemm, GB/s for copy/triad


@dataclass(frozen=True)
class PeakResult:
    gflops: float
    gflops_engine: str
    gflops_size: int
    gflops_threads: int
    bandwidth_gbs: float
    bandwidth_kind: str
    bandwidth_threads: int
    sizes: list[int]
    threads: list[int]
    probes: list[Probe]
    measured_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def gemm_probe(size: int, threads: int, timing: TimingConfig) -> Probe:
    """Median time of one size x size FP32 matrix product (2 n^3 FLOPs) on `threads` threads."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator)
    b = torch.rand(size, size, generator=generator)
    out = torch.empty(size, size)
    with torch_threads(ThreadSettings(threads)):
        result = measure(host_timed(lambda: torch.mm(a, b, out=out)), timing)
    ms = _median(result.samples_ms)
    return Probe("gemm", "torch", size, threads, ms, 2.0 * size**3 / (ms / 1000.0) / 1e9)


def _matmul_model(size: int) -> bytes:
    from onnx import TensorProto, helper

    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [size, size])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [size, size])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [size, size])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm", [a, b], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def ort_gemm_probe(size: int, threads: int, timing: TimingConfig) -> Probe:
    """The same product through ONNX Runtime's MatMul kernel (MLAS), on `threads` threads."""
    import onnxruntime as ort

    session = ort.InferenceSession(
        _matmul_model(size),
        sess_options=ort_session_options(ThreadSettings(threads)),
        providers=["CPUExecutionProvider"],
    )
    generator = torch.Generator().manual_seed(0)
    feed = {
        "a": torch.rand(size, size, generator=generator).numpy(),
        "b": torch.rand(size, size, generator=generator).numpy(),
    }
    result = measure(host_timed(lambda: session.run(None, feed)), timing)
    ms = _median(result.samples_ms)
    return Probe("gemm", "onnxruntime", size, threads, ms, 2.0 * size**3 / (ms / 1000.0) / 1e9)


def bandwidth_probes(megabytes: int, threads: int, timing: TimingConfig) -> list[Probe]:
    """Copy and triad over arrays of `megabytes` MiB each (well beyond any cache)."""
    n = megabytes * 2**20 // 4
    a = torch.zeros(n)
    b = torch.rand(n)
    c = torch.rand(n)
    nbytes = n * 4
    probes = []
    with torch_threads(ThreadSettings(threads)):
        copy = measure(host_timed(lambda: a.copy_(b)), timing)
        ms = _median(copy.samples_ms)
        rate = 2 * nbytes / (ms / 1000.0) / 1e9
        probes.append(Probe("copy", "torch", megabytes, threads, ms, rate))
        triad = measure(host_timed(lambda: torch.add(b, c, alpha=3.0, out=a)), timing)
        ms = _median(triad.samples_ms)
        rate = 3 * nbytes / (ms / 1000.0) / 1e9
        probes.append(Probe("triad", "torch", megabytes, threads, ms, rate))
    return probes


def measure_peak(
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    threads: Sequence[int] | None = None,
    bandwidth_mb: int = DEFAULT_BANDWIDTH_MB,
    timing: TimingConfig | None = None,
) -> PeakResult:
    """Probe GEMM at every size and thread count, and bandwidth at every thread count."""
    thread_counts = list(threads or default_threads())
    timing = timing or TimingConfig(warmup=2, min_iterations=5, min_time_s=0.3, max_time_s=5.0)
    probes: list[Probe] = []
    for count in thread_counts:
        for size in sizes:
            probes.append(gemm_probe(size, count, timing))
            probes.append(ort_gemm_probe(size, count, timing))
        probes.extend(bandwidth_probes(bandwidth_mb, count, timing))
    best_gemm = max((p for p in probes if p.kind == "gemm"), key=lambda p: p.rate)
    best_bw = max((p for p in probes if p.kind != "gemm"), key=lambda p: p.rate)
    return PeakResult(
        gflops=best_gemm.rate,
        gflops_engine=best_gemm.engine,
        gflops_size=best_gemm.size,
        gflops_threads=best_gemm.threads,
        bandwidth_gbs=best_bw.rate,
        bandwidth_kind=best_bw.kind,
        bandwidth_threads=best_bw.threads,
        sizes=list(sizes),
        threads=thread_counts,
        probes=probes,
    )


def peak_for_threads(peak: dict[str, Any], threads: int) -> float:
    """The ceiling for a result run on `threads` threads: the best stored GEMM rate probed on
    at most that many threads (more threads never lower the ceiling), else the overall best."""
    rates = [
        p["rate"]
        for p in peak.get("probes") or []
        if p["kind"] == "gemm" and p["threads"] <= threads
    ]
    return max(rates) if rates else float(peak["gflops"])
