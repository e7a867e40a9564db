"""First load of each dashboard page in a real browser, each on a freshly started server.

For every page: start `streamlit run` (what `dlradar dashboard` runs) on a free port against the
database, wait for its health check, open the page in Debian's chromium (Playwright) and time
from navigation until the page's title is drawn and its script run is over. A fresh server per
page makes every figure a first, uncached load (Streamlit's data cache is per process), which is
what issue #18 asks to keep under 2 s. Then a second visit to the same page (cached).

    .venv/bin/python scripts/dashboard_browser.py --db /tmp/big1m.db     # built by dashboard_pages.py
    .venv/bin/python scripts/dashboard_browser.py --db data/dlradar.db --pages papers,trends
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.serve import streamlit_command  # noqa: E402
from dashboard.views import PAGES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, DLRADAR_DB=str(db))
    log = (workdir / f"streamlit-{port}.log").open("wb")
    process = subprocess.Popen(
        streamlit_command("127.0.0.1", port), cwd=workdir, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"streamlit did not start within 120 s (log in {workdir})")


def _visit(browser: Any, url: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, timeout=120_000)
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_selector(DONE, timeout=120_000)
    seconds = time.perf_counter() - start
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise SystemExit(f"{url}: {errors.first.inner_text()}")
    context.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the database to serve")
    parser.add_argument("--pages", default=",".join(name for name, _, _ in PAGES))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlradar-browser-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in args.pages.split(","):
            process, url = _start(args.db.resolve(), Path(tmp))
            try:
                target = url if name == "overview" else f"{url}/{name}"
                first = _visit(browser, target)
                again = _visit(browser, target)
            finally:
                process.terminate()
                process.wait(timeout=30)
            rows.append((name, first, again))
            print(f"{name:12s} first {first:6.2f} s   again {again:6.2f} s", flush=True)
        browser.close()
    worst = max(rows, key=lambda row: row[1])
    print(f"slowest first load: {worst[0]} {worst[1]:.2f} s (goal: at most 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
