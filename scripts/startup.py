"""Start-up of the `dlradar` command: how long `dlradar papers --help` takes against a bare Python
that imports sqlite3 and click (issue #19's goal: at most 3x). Run on demand:

    .venv/bin/python scripts/startup.py [--runs 20]

Prints the median and best of each over the runs (each a fresh process).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "bare python (import sqlite3, click)": [sys.executable, "-c", "import sqlite3, click"],
    "dlradar papers --help": [sys.executable, "-m", "dlradar.cli", "papers", "--help"],
    "dlradar --help": [sys.executable, "-m", "dlradar.cli", "--help"],
}


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    medians: dict[str, float] = {}
    for name, command in COMMANDS.items():
        _time(command)  # warm the file cache
        times = [_time(command) for _ in range(runs)]
        medians[name] = statistics.median(times)
        print(f"{name:40s} median {medians[name] * 1000:7.1f} ms  best {min(times) * 1000:7.1f} ms")
    ratio = medians["dlradar papers --help"] / medians["bare python (import sqlite3, click)"]
    print(f"papers --help / bare: {ratio:.1f}x (goal: at most 3x)")


if __name__ == "__main__":
    main()
