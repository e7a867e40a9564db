"""Thread settings for both runtimes: set them, then record what each runtime really uses.

PyTorch's inter-op pool can be sized only once per process (before it first runs parallel
work); later requests are refused, so the value recorded is always read back from torch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class ThreadSettings:
    """Intra-op threads (parallelism inside one operator) and inter-op threads (across ops)."""

    intra: int
    inter: int = 1

    def __post_init__(self) -> None:
        if self.intra < 1 or self.inter < 1:
            raise ValueError(f"thread counts must be at least 1, got {self.intra}/{self.inter}")

    def label(self) -> str:
        return f"{self.intra}/{self.inter}"


def apply_torch(settings: ThreadSettings) -> ThreadSettings:
    """Set torch's thread pools to `settings`; return what torch reports afterwards."""
    torch.set_num_threads(settings.intra)
    if torch.get_num_interop_threads() != settings.inter:
        # Refused once the pool has started: it keeps its size, which is recorded below.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(settings.inter)
    return torch_settings()


def torch_settings() -> ThreadSettings:
    """The thread counts torch is using now."""
    return ThreadSettings(torch.get_num_threads(), torch.get_num_interop_threads())


@contextmanager
def torch_threads(settings: ThreadSettings) -> Iterator[ThreadSettings]:
    """Run a block under `settings` (intra-op restored afterwards); yields the applied values."""
    previous = torch.get_num_threads()
    try:
        yield apply_torch(settings)
    finally:
        torch.set_num_threads(previous)


def ort_session_options(settings: ThreadSettings) -> Any:
    """onnxruntime.SessionOptions with both pools sized and spinning threads kept (the default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra
    options.inter_op_num_threads = settings.inter
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: warnings would clutter stderr progress
    return options


def ort_settings(session_options: Any) -> ThreadSettings:
    """The thread counts recorded in an onnxruntime.SessionOptions."""
    return ThreadSettings(
        max(int(session_options.intra_op_num_threads), 1),
        max(int(session_options.inter_op_num_threads), 1),
    )
