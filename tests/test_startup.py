"""Start-up: `dlradar papers --help` imports no heavy library (it took 0.63 s, 12x a bare Python
importing click, when every command module was loaded up front). Guarded by the import list, not
by a timing; scripts/startup.py prints the figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlradar.commands import GROUPS, all_commands, command_names

HEAVY = (
    "bench", "numpy", "onnxruntime", "orjson", "pandas", "psutil", "requests", "scipy",
    "sqlite_utils", "streamlit", "tantivy", "torch", "transformers",
)  # fmt: skip


def _imported(*args: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from dlradar.cli import cli\n"
        f"try:\n    cli({list(args)!r}, prog_name='dlradar')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["papers", "--help"], ["paper", "--help"], ["runs", "--help"]])
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    modules = _imported(*args)
    loaded = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert loaded == [], f"dlradar {' '.join(args)} imported {loaded}"


def test_papers_help_loads_only_its_own_command_module() -> None:
    commands = {m for m in _imported("papers", "--help") if m.startswith("dlradar.commands.")}
    assert commands == {"dlradar.commands.papers"}


def test_every_group_names_exactly_its_modules_commands() -> None:
    for names, module in GROUPS:
        assert tuple(c.name for c in module().COMMANDS) == names
    assert [c.name for c in all_commands()] == command_names()
