"""The dashboard reads the zoo's names from the listing cache: a page's first load imports no
torch once the zoo was listed (or loaded) before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CODE = (
    "import json, sys\n"
    "from bench.zoo_listing import zoo_meta\n"
    "models = zoo_meta()\n"
    "print(json.dumps({'torch': 'torch' in sys.modules, 'names': [m['name'] for m in models]}))\n"
)


def _run(cache_home: Path) -> dict[str, object]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_zoo_names_come_from_the_cache_without_torch(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first["torch"] is True  # nothing cached: the zoo is loaded, and its entry stored
    assert (tmp_path / "dlradar" / "zoo-figures.json").is_file()
    again = _run(tmp_path)
    assert again["torch"] is False
    assert again["names"] == first["names"] and "lenet5" in first["names"]
