"""First load of each dashboard page in a real browser, each on a freshly started server.

For every page: start `streamlit run` (what `dlradar dashboard` runs) on a free port against the
database, wait for its health check, open the page in Debian's chromium (Playwright) and time
from navigation until the page's title is drawn and its script run is over. A fresh server per
page makes every figure a first, uncached load (Streamlit's data cache is per process), which is
what issue #18 asks to keep under 2 s. Then a second visit to the same page (cached).

Each visit is a new browser context, like a browser that never saw the dashboard: it downloads
and compiles Streamlit's frontend (and Plotly's 4.7 MB chunk for a page with a chart) every
time. `--browser-cache` keeps one context for all visits on one port (a returning visitor's
browser: static files cached, every server still fresh). `--floor` times minimal apps served
the same way, which draw only a title, a tiny Plotly chart and a tiny table, without any data:
what Streamlit and Plotly cost on this machine before a page does any work of its own.

    .venv/bin/python scripts/dashboard_browser.py --db /tmp/big1m.db     # built by dashboard_pages.py
    .venv/bin/python scripts/dashboard_browser.py --db data/dlradar.db --pages papers,trends
    .venv/bin/python scripts/dashboard_browser.py --db /tmp/big1m.db --browser-cache --floor
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.serve import APP, streamlit_command  # noqa: E402
from dashboard.views import PAGES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
VIEWPORT: Any = {"width": 1400, "height": 1800}  # playwright's ViewportSize


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Minimal apps for --floor: the kinds of element dlradar's pages draw, with no data behind them.
FLOOR_APPS = {
    "title only": "",
    "title + chart": "st.plotly_chart(px.bar(x=['a', 'b'], y=[1, 2]))\n",
    "title + table": "st.dataframe(pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}))\n",
    "title + chart + table": (
        "st.plotly_chart(px.bar(x=['a', 'b'], y=[1, 2]))\n"
        "st.dataframe(pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']}))\n"
    ),
}


def _floor_app(workdir: Path, name: str) -> Path:
    app = workdir / f"floor_{list(FLOOR_APPS).index(name)}.py"
    app.write_text(
        "import pandas as pd\nimport plotly.express as px\nimport streamlit as st\n\n"
        f"st.title({name!r})\n{FLOOR_APPS[name]}",
        encoding="utf-8",
    )
    return app


def _start(
    db: Path, workdir: Path, app: Path = APP, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = port or _free_port()
    env = dict(os.environ, DLRADAR_DB=str(db))
    log = (workdir / f"streamlit-{port}.log").open("wb")
    process = subprocess.Popen(
        streamlit_command("127.0.0.1", port, app), cwd=workdir, env=env, stdout=log,
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


def _visit(browser: Any, url: str, context: Any = None) -> float:
    """Seconds from navigation to the page drawn and its script run over; a new context
    (an empty browser cache) unless one is given."""
    own = context is None
    if own:
        context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, timeout=120_000)
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_selector(DONE, timeout=120_000)
    seconds = time.perf_counter() - start
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise SystemExit(f"{url}: {errors.first.inner_text()}")
    if own:
        context.close()
    else:
        page.close()
    return seconds


@contextlib.contextmanager
def _served(db: Path, workdir: Path, app: Path, port: int | None) -> Iterator[str]:
    """The URL of a freshly started server of `app`, stopped afterwards."""
    process, url = _start(db, workdir, app, port)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _time_served(
    browser: Any, db: Path, workdir: Path, app: Path, path: str, cached: Any, port: int | None
) -> tuple[float, float]:
    """First and second visit of `path` on a freshly started server of `app`."""
    with _served(db, workdir, app, port) as url:
        target = f"{url}/{path}" if path else url
        return _visit(browser, target, cached), _visit(browser, target, cached)


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )  # fmt: skip
    parser.add_argument("--db", type=Path, required=True, help="the database to serve")
    parser.add_argument("--pages", default=",".join(name for name, _, _ in PAGES))
    parser.add_argument(
        "--browser-cache", action="store_true",
        help="one browser context (static files cached) and one port for every server",
    )  # fmt: skip
    parser.add_argument(
        "--floor", action="store_true",
        help="also time minimal apps (a title, a tiny chart, a tiny table) served the same way",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    mode = "browser cache kept" if args.browser_cache else "new browser context per visit"
    print(f"first load on a freshly started server ({mode}), then a second visit", flush=True)
    with tempfile.TemporaryDirectory(prefix="dlradar-browser-") as tmp, sync_playwright() as pw:
        workdir = Path(tmp)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        port = _free_port() if args.browser_cache else None
        cached = browser.new_context(viewport=VIEWPORT) if args.browser_cache else None
        db = args.db.resolve()
        if cached is not None:  # fill the cache: every page once, on a server of its own
            with _served(db, workdir, APP, port) as url:
                for name in args.pages.split(","):
                    _visit(browser, url if name == "overview" else f"{url}/{name}", cached)
        if args.floor:
            for name in FLOOR_APPS:
                app = _floor_app(workdir, name)
                first, again = _time_served(browser, db, workdir, app, "", cached, port)
                print(f"floor: {name:22s} first {first:6.2f} s   again {again:6.2f} s", flush=True)
        for name in args.pages.split(","):
            path = "" if name == "overview" else name
            first, again = _time_served(browser, db, workdir, APP, path, cached, port)
            rows.append((name, first, again))
            print(f"{name:12s} first {first:6.2f} s   again {again:6.2f} s", flush=True)
        browser.close()
    worst = max(rows, key=lambda row: row[1])
    print(f"slowest first load: {worst[0]} {worst[1]:.2f} s (goal: at most 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
