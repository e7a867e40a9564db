"""The environment recorded with every run: hardware, library versions, threads, load, commit."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

LIBRARIES = ("torch", "torchvision", "onnxruntime", "onnx", "onnxscript", "transformers", "numpy")
REPO_ROOT = Path(__file__).resolve().parents[1]

# Fields whose difference makes two runs' timings incomparable (compare warns on them).
COMPARABLE_KEYS = ("cpu_model", "logical_cores", "physical_cores", "gpu", "python", "versions")


def cpu_model() -> str:
    """The CPU's marketing name (from /proc/cpuinfo on Linux, else platform)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def gpu_info() -> dict[str, Any] | None:
    """Name, memory, CUDA and driver versions of the first CUDA device, or None without one."""
    import torch  # lazily: `dlradar` commands that never time a model start faster

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    driver = None
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        driver = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            .stdout.strip()
            .splitlines()[0]
        )
    return {
        "name": props.name,
        "memory_gb": round(props.total_memory / 2**30, 2),
        "count": torch.cuda.device_count(),
        "cuda": torch.version.cuda,
        "driver": driver,
    }


def git_commit(repo: Path = REPO_ROOT) -> str | None:
    """HEAD of the repository holding bench/, or None (no git, no commits, not a checkout)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None


def ort_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def capture_environment() -> dict[str, Any]:
    """Everything needed to judge whether two runs' timings can be compared."""
    from bench.threads import torch_settings

    threads = torch_settings()
    memory = psutil.virtual_memory()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cores": psutil.cpu_count(logical=True),
        "memory_gb": round(memory.total / 2**30, 2),
        "memory_available_gb": round(memory.available / 2**30, 2),
        "gpu": gpu_info(),
        "python": platform.python_version(),
        "versions": library_versions(),
        "ort_providers": ort_providers(),
        "torch_threads": {"intra": threads.intra, "inter": threads.inter},
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_num_threads": os.environ.get("MKL_NUM_THREADS"),
        "load_average": load,
        "git_commit": git_commit(),
    }


def environment_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Human-readable differences between two environments on the fields that affect timing."""
    differences: list[str] = []
    for key in COMPARABLE_KEYS:
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict) and key == "versions":
            for name in sorted(set(left) | set(right)):
                if left.get(name) != right.get(name):
                    differences.append(f"{name} {left.get(name)} -> {right.get(name)}")
        elif left != right:
            differences.append(f"{key}: {left} -> {right}")
    return differences


def machine_of(environment: dict[str, Any], node_id: str | None = None) -> dict[str, Any]:
    """Where a run was measured, from its environment: `bench show` prints it with every result.

    `node_id` is the Ray node id when the run was one node's part of a `bench fleet` (two Ray
    nodes may share a hostname, as on a test cluster on one computer)."""
    gpu = environment.get("gpu")
    return {
        "hostname": environment.get("hostname"),
        "node_id": node_id,
        "cpu_model": environment.get("cpu_model"),
        "physical_cores": environment.get("physical_cores"),
        "logical_cores": environment.get("logical_cores"),
        "memory_gb": environment.get("memory_gb"),
        "accelerators": [gpu] if isinstance(gpu, dict) else [],
        "os": environment.get("os"),
        "python": environment.get("python"),
        "versions": dict(environment.get("versions") or {}),
    }


def machine_label(machine: dict[str, Any] | None) -> str:
    """A machine's short name: its hostname, with the start of its Ray node id in a fleet."""
    if not machine:
        return "unknown machine"
    name = str(machine.get("hostname") or "unknown host")
    node = machine.get("node_id")
    return f"{name} · node {str(node)[:8]}" if node else name


def machine_matches(machine: dict[str, Any] | None, wanted: str) -> bool:
    """Whether `wanted` names this machine: its label, hostname, or (the start of) its node id."""
    if not machine:
        return False
    wanted = wanted.strip()
    node = str(machine.get("node_id") or "")
    return wanted in (machine_label(machine), machine.get("hostname")) or (
        bool(node) and len(wanted) >= 4 and node.startswith(wanted)
    )
