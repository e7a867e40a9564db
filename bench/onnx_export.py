"""Export a model to ONNX, open it in ONNX Runtime, and check it against PyTorch.

Export tries `torch.onnx.export(dynamo=True)` first and falls back to the TorchScript
exporter (`dynamo=False`); the exporter that produced the file is recorded, and so are the
reasons of the attempts that failed. Both export with a symbolic batch dimension so one file
serves every batch size of a sweep.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.threads import ThreadSettings, ort_session_options
from core.errors import DlradarError

EXPORTERS = ("dynamo", "torchscript")
OUTPUT_NAME = "output"
DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-4


class ExportError(DlradarError):
    """No exporter could turn the model into ONNX (the message lists each one's reason)."""


class ParityError(DlradarError):
    """ONNX Runtime's outputs differ from PyTorch's beyond the tolerance."""


class SessionError(DlradarError):
    """ONNX Runtime could not open the model, or not with the requested provider."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    exporter: str
    seconds: float
    failed_attempts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parity:
    max_abs_diff: float
    rtol: float
    atol: float
    ok: bool


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Swallow the exporters' chatter on stdout/stderr, C++ writes included (fd level), so that
    stdout stays data-only."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                with (
                    contextlib.redirect_stdout(io.StringIO()),
                    contextlib.redirect_stderr(io.StringIO()),
                    warnings.catch_warnings(),
                ):
                    warnings.simplefilter("ignore")
                    yield
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        for fd in saved:
            os.close(fd)


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """The most specific reason: exporters wrap the real cause in generic advice."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    text = " ".join(_ANSI.sub("", str(root)).split()) or type(root).__name__
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def input_names(count: int) -> list[str]:
    return ["input"] if count == 1 else [f"input_{i}" for i in range(count)]


def _export_dynamo(model: torch.nn.Module, args: tuple[torch.Tensor, ...], path: Path) -> None:
    batch = torch.export.Dim("batch")
    torch.onnx.export(
        model,
        args,
        str(path),
        dynamo=True,
        input_names=input_names(len(args)),
        output_names=[OUTPUT_NAME],
        dynamic_shapes=tuple({0: batch} for _ in args),
        verbose=False,
        external_data=False,
    )


def _export_torchscript(model: torch.nn.Module, args: tuple[torch.Tensor, ...], path: Path) -> None:
    names = input_names(len(args))
    axes: dict[str, dict[int, str]] = {name: {0: "batch"} for name in names}
    axes[OUTPUT_NAME] = {0: "batch"}
    torch.onnx.export(
        model,
        args,
        str(path),
        dynamo=False,
        input_names=names,
        output_names=[OUTPUT_NAME],
        dynamic_axes=axes,
        opset_version=17,
    )


def export_onnx(
    model: torch.nn.Module,
    example_inputs: Sequence[torch.Tensor],
    path: str | os.PathLike[str],
    *,
    exporters: Sequence[str] = EXPORTERS,
) -> ExportResult:
    """Write `model` to `path` with the first exporter that succeeds; raise ExportError if none.

    The exporters' own chatter (progress lines, deprecation warnings) is swallowed so that
    stdout stays data-only.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    args = tuple(example_inputs)
    failures: list[str] = []
    for name in exporters:
        if name not in EXPORTERS:
            raise ValueError(f"unknown exporter {name!r}")
        start = time.perf_counter()
        try:
            with _silenced():
                if name == "dynamo":
                    _export_dynamo(model, args, target)
                else:
                    _export_torchscript(model, args, target)
        except Exception as exc:  # any exporter failure is a reason to try the next one
            failures.append(f"{name}: {_one_line(exc)}")
            continue
        return ExportResult(target, name, time.perf_counter() - start, tuple(failures))
    raise ExportError("ONNX export failed; " + " | ".join(failures))


def providers_for(device: str) -> list[str]:
    if device.startswith("cuda"):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def create_session(path: str | os.PathLike[str], threads: ThreadSettings, device: str) -> Any:
    """An InferenceSession on `device` with both thread pools set.

    Raises SessionError when ONNX Runtime cannot load the file or silently fell back from the
    requested provider (get_providers() tells what really runs).
    """
    import onnxruntime as ort

    wanted = providers_for(device)
    try:
        session = ort.InferenceSession(
            str(path), sess_options=ort_session_options(threads), providers=wanted
        )
    except Exception as exc:  # ORT raises its own exception types (Fail, InvalidGraph, ...)
        raise SessionError(f"onnxruntime could not load the model: {_one_line(exc)}") from exc
    if wanted[0] not in session.get_providers():
        raise SessionError(f"{wanted[0]} not available (session runs {session.get_providers()})")
    return session


def fixed_batch(session: Any) -> int | None:
    """The batch size an exported graph is fixed to, or None when its batch is symbolic."""
    dim = session.get_inputs()[0].shape[0] if session.get_inputs()[0].shape else None
    return dim if isinstance(dim, int) else None


def check_parity(
    reference: torch.Tensor,
    onnx_output: np.ndarray,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> Parity:
    """Compare ONNX Runtime's output with PyTorch's (numpy.allclose semantics)."""
    expected = reference.detach().float().cpu().numpy()
    actual = np.asarray(onnx_output, dtype=np.float32)
    if expected.shape != actual.shape:
        raise ParityError(f"output shape {actual.shape} differs from PyTorch's {expected.shape}")
    if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        raise ParityError("onnxruntime produced non-finite outputs")
    diff = float(np.max(np.abs(expected - actual))) if expected.size else 0.0
    ok = bool(np.allclose(actual, expected, rtol=rtol, atol=atol))
    return Parity(diff, rtol, atol, ok)
