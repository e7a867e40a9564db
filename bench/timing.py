"""Steady-state latency measurement: warm up, then time one call at a time until both a
minimum count and a minimum time are reached (or a time cap), keeping every sample.

Backends are reduced to a zero-argument callable that runs one inference and returns when
its result is ready: PyTorch eager (optionally torch.compile'd) on CPU or CUDA, and ONNX
Runtime sessions. On CUDA each iteration is timed with CUDA events and a synchronize, since
the host clock only sees kernel launches.
"""

from __future__ import annotations

import ctypes
import gc
import re
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")
Clock = Callable[[], float]


@dataclass(frozen=True)
class TimingConfig:
    """How long to measure one configuration."""

    warmup: int = 3
    min_iterations: int = 10
    min_time_s: float = 1.0
    max_time_s: float = 30.0
    # Slow models stop warming up after this long (one warm-up call is always made).
    max_warmup_s: float = 5.0

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.min_iterations < 1:
            raise ValueError("warmup must be >= 0 and min_iterations >= 1")
        if self.min_time_s < 0 or self.max_time_s <= 0 or self.max_time_s < self.min_time_s:
            raise ValueError("need 0 <= min_time_s <= max_time_s and max_time_s > 0")


@dataclass(frozen=True)
class Measurement:
    """Raw steady-state samples (ms) and why the loop stopped."""

    samples_ms: list[float]
    stopped_by: str  # "min_reached" or "max_time"
    elapsed_s: float


def measure(
    step: Callable[[], float],
    config: TimingConfig,
    *,
    clock: Clock = time.perf_counter,
) -> Measurement:
    """Call `step` (which runs one iteration and returns its duration in ms) until done.

    Stops when at least `min_iterations` samples AND `min_time_s` seconds are reached, or when
    `max_time_s` has passed (at least one sample is always taken). Warm-up calls (`warmup` of
    them, fewer once `max_warmup_s` has passed) are discarded.
    """
    warm_start = clock()
    for done in range(config.warmup):
        if done and clock() - warm_start >= config.max_warmup_s:
            break
        step()
    samples: list[float] = []
    # Like timeit (and torch.utils.benchmark), keep Python's cyclic GC out of the samples.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        while True:
            samples.append(step())
            elapsed = clock() - start
            if len(samples) >= config.min_iterations and elapsed >= config.min_time_s:
                return Measurement(samples, "min_reached", elapsed)
            if elapsed >= config.max_time_s:
                return Measurement(samples, "max_time", elapsed)
    finally:
        if gc_was_enabled:
            gc.enable()


def host_timed(call: Callable[[], object]) -> Callable[[], float]:
    """A step that times `call` with the host's monotonic high-resolution clock."""

    def step() -> float:
        start = time.perf_counter()
        call()
        return (time.perf_counter() - start) * 1000.0

    return step


def cuda_timed(call: Callable[[], object]) -> Callable[[], float]:
    """A step that times `call` with CUDA events, synchronising so the kernels have finished."""
    begin = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
    end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]

    def step() -> float:
        torch.cuda.synchronize()
        begin.record()
        call()
        end.record()
        end.synchronize()
        return float(begin.elapsed_time(end))

    return step


def first_call_ms(call: Callable[[], object], device: str) -> float:
    """Wall time of one call in ms, synchronised on CUDA so that the kernels are included."""
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    call()
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1000.0


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """Run `call` once; return its result and the wall time in seconds (for one-off phases)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


# --- backends -------------------------------------------------------------------------------


def torch_call(
    model: torch.nn.Module, inputs: Sequence[torch.Tensor], device: str
) -> Callable[[], torch.Tensor]:
    """One inference of `model` under inference_mode (inputs already on `device`)."""
    args = tuple(inputs)

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return model(*args)  # type: ignore[no-any-return]

    return call


def torch_step(call: Callable[[], object], device: str) -> Callable[[], float]:
    """The timing step for a torch call on `device` (events + synchronize on CUDA)."""
    return cuda_timed(call) if device.startswith("cuda") else host_timed(call)


def ort_feed(session: Any, inputs: Sequence[torch.Tensor]) -> dict[str, np.ndarray]:
    """Map torch inputs onto a session's input names, in order."""
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(inputs):
        raise ValueError(f"ONNX model takes {len(names)} inputs, {len(inputs)} given")
    return {name: t.detach().cpu().numpy() for name, t in zip(names, inputs, strict=True)}


def ort_call(session: Any, feed: dict[str, np.ndarray]) -> Callable[[], list[Any]]:
    """One ONNX Runtime inference (synchronous: returns when outputs are in host memory)."""

    def call() -> list[Any]:
        return session.run(None, feed)  # type: ignore[no-any-return]

    return call


# --- memory ---------------------------------------------------------------------------------

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def settled_rss_mb() -> float:
    """The process's resident memory after freed memory has gone back to the system.

    A collection frees unreachable objects and glibc's malloc_trim returns freed heap pages, so
    what an earlier model or configuration left behind is not counted as this one's.
    """
    gc.collect()
    _malloc_trim()
    match = re.search(r"VmRSS:\s+(\d+)\s+kB", _STATUS.read_text()) if _STATUS.exists() else None
    if match:
        return int(match.group(1)) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _malloc_trim() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: freed pages stay counted, a little high but never low
        return
    libc.malloc_trim(0)


@dataclass
class PeakMemory:
    """Process RSS high-water mark over a block, and CUDA max allocated when CUDA is used.

    On Linux the kernel's high-water mark (VmHWM) is reset at the start, so the figure is this
    block's peak; elsewhere it falls back to getrusage's lifetime maximum.
    """

    resettable: bool = field(default=False)

    def start(self) -> None:
        try:
            _CLEAR_REFS.write_text("5")
            self.resettable = True
        except OSError:
            self.resettable = False
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def rss_peak_mb(self) -> float:
        if self.resettable:
            match = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
            if match:
                return int(match.group(1)) / 1024.0
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    @staticmethod
    def cuda_peak_mb() -> float | None:
        if not torch.cuda.is_available():
            return None
        return torch.cuda.max_memory_allocated() / 2**20
