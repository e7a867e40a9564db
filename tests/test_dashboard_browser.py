"""The dashboard in a real browser: `streamlit run` on a free port, driven by Playwright with
Debian's chromium. Opens every page, filters through the URL, downloads the CSV, saves a
screenshot of each page, and fails on any Streamlit exception element."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import (
    HOSTILE_TITLES,
    build_empty,
    build_fleet,
    build_hostile,
    build_real,
    machine_labels,
    write_digest,
)

from dashboard.serve import streamlit_command
from dashboard.views import PAGES
from dlradar.database import open_db
from tracker.query import PaperFilter, find_papers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENS = Path("/tmp/dlradar-screens")


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("needs Playwright for Python (pip install playwright)")
    if not CHROMIUM.exists():
        _missing("needs chromium at /usr/bin/chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _serve(db: Path, workdir: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    env = dict(os.environ, DLRADAR_DB=str(db), DLRADAR_DIGEST_DIRECTORY=str(workdir / "digests"))
    command = streamlit_command("127.0.0.1", port)  # what `dlradar dashboard` runs
    log = (workdir / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "streamlit did not start:\n" + (workdir / "streamlit.log").read_text()[-2000:]
                )
            time.sleep(0.3)
        yield url, db
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("browser-real")
    write_digest(workdir / "digests")
    yield from _serve(build_real(workdir / "real.db"), workdir)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("browser-hostile")
    yield from _serve(build_hostile(workdir / "hostile.db", workdir), workdir)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("browser-empty")
    yield from _serve(build_empty(workdir / "empty.db"), workdir)


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("browser-fleet")
    yield from _serve(build_fleet(workdir / "fleet.db"), workdir)


def _settle(page: Any) -> None:
    """Wait until the script run is over and the page has drawn its title."""
    page.wait_for_selector("h1", timeout=60_000)
    # The app root carries the script state; wait for a finished run that stays finished (a
    # page may rerun once, e.g. after writing its filters to the URL).
    done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    for _ in range(2):
        page.wait_for_selector(done, timeout=120_000)
        page.wait_for_timeout(800)  # let charts and tables draw
    page.wait_for_selector(done, timeout=120_000)


def _open_tab(page: Any, name: str) -> None:
    """Click a tab of the Benchmarks page: only the open tab runs, so the click reruns the page
    and names the tab in the URL; wait for that run to be over."""
    page.get_by_role("tab", name=name).click()
    page.wait_for_function(
        "name => new URLSearchParams(location.search).get('tab') === name", arg=name
    )
    _settle(page)


def _open(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, timeout=60_000)
    _settle(page)
    return page


def _no_exception(page: Any) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def test_every_page_opens_without_an_exception(
    browser: Any, real_server: tuple[str, Path], tmp_path: Path
) -> None:
    url = real_server[0]
    SCREENS.mkdir(parents=True, exist_ok=True)
    for number, (name, title, _) in enumerate(PAGES, start=1):
        page = _open(browser, f"{url}/{'' if name == 'overview' else name}")
        _no_exception(page)
        assert title in page.inner_text("body") or name == "overview"
        shot = tmp_path / f"{number}-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        shutil.copy(shot, SCREENS / shot.name)
        page.context.close()


def test_url_filter_and_csv_download(
    browser: Any, real_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, db_path = real_server
    page = _open(browser, f"{url}/papers?family=cnn&year_from=2020")
    _no_exception(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download these papers (CSV)").click()
    target = tmp_path / "papers.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    db = open_db(db_path)
    expected = find_papers(db, PaperFilter(families=("cnn",), year_from=2020), limit=50)
    db.conn.close()
    assert [int(r["id"]) for r in rows] == [p["id"] for p in expected]
    assert all("cnn" in r["families"].split(", ") for r in rows)
    assert list(rows[0])[:3] == ["id", "title", "families"]  # the table's column order
    page.screenshot(path=str(SCREENS / "2b-papers-filtered.png"), full_page=True)
    page.context.close()


def test_hostile_titles_stay_text_in_the_browser(
    browser: Any, hostile_server: tuple[str, Path]
) -> None:
    url = hostile_server[0]
    page = _open(browser, f"{url}/papers")
    _no_exception(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # The dataframe draws on a canvas (its title column is checked by AppTest); the detail view
    # writes the title as text into the DOM:
    page.goto(f"{url}/papers?paper=1")
    _settle(page)
    _no_exception(page)
    body = page.locator("body").inner_text()
    assert HOSTILE_TITLES[0] in body
    # A fresh server opened on /papers shows the app's own menu (not a folder of scripts).
    menu = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Overview" in menu and "common" not in menu and "app" not in menu.split()
    assert page.locator('a[href="http://evil.example"]').count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []
    page.screenshot(path=str(SCREENS / "hostile-paper.png"), full_page=True)
    page.context.close()


def test_benchmark_tabs_and_trends_link(
    browser: Any, real_server: tuple[str, Path], tmp_path: Path
) -> None:
    url = real_server[0]
    page = _open(browser, f"{url}/benchmarks")
    for tab in ("Distributions", "Roofline", "ONNX Runtime vs PyTorch", "Accuracy", "Compare runs"):
        _open_tab(page, tab)
        _no_exception(page)
        name = tab.lower().replace(" ", "-")
        page.screenshot(path=str(tmp_path / f"bench-{name}.png"), full_page=True)
        shutil.copy(tmp_path / f"bench-{name}.png", SCREENS / f"4-bench-{name}.png")
    assert "regression" in page.inner_text("body")
    page.context.close()

    page = _open(browser, f"{url}/trends")
    page.get_by_role("link", name="Show the transformer papers").click()
    page.wait_for_url("**/papers?**family=transformer**", timeout=60_000)
    _settle(page)
    _no_exception(page)
    assert "transformer" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.context.close()


def test_an_empty_database_shows_guidance_in_the_browser(
    browser: Any, empty_server: tuple[str, Path]
) -> None:
    url = empty_server[0]
    for name, _, _ in PAGES:
        page = _open(browser, f"{url}/{'' if name == 'overview' else name}")
        _no_exception(page)
        body = page.inner_text("body")
        assert "Traceback" not in body
        if name in ("overview", "papers"):
            assert "dlradar run" in body
        if name == "overview":
            page.screenshot(path=str(SCREENS / "empty-overview.png"), full_page=True)
        page.context.close()


def test_benchmarks_show_two_machines_side_by_side(
    browser: Any, fleet_server: tuple[str, Path], tmp_path: Path
) -> None:
    page = _open(browser, f"{fleet_server[0]}/benchmarks")
    _open_tab(page, "Machines")
    _no_exception(page)
    body = page.inner_text("body")
    first, second = machine_labels()
    assert f"Side by side: {first} | {second}" in body
    # the chart's legend names both machines, one bar of each per configuration
    legends = page.locator(".legend").all_text_contents()
    assert any(first in legend and second in legend for legend in legends), legends
    shot = tmp_path / "bench-machines.png"
    page.screenshot(path=str(shot), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENS / "4-bench-machines.png")
    page.context.close()
