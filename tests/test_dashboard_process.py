"""`dlradar dashboard` takes its Streamlit server with it when it stops: SIGTERM is passed on,
and a SIGKILLed parent's server gets SIGTERM from the kernel (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from dlradar.database import open_db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], psutil.Process]:
    db_path = tmp_path / "d.db"
    open_db(db_path).conn.close()
    port = _free_port()
    parent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dlradar.cli",
            "dashboard",
            "--db",
            str(db_path),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = psutil.Process(parent.pid).children()
        if children:
            return parent, children[0]
        time.sleep(0.1)
    parent.kill()
    pytest.fail("the dashboard started no server within 60 s")


def _gone(process: psutil.Process, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        return False
    return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_server_stops_with_the_command(tmp_path: Path, how: signal.Signals) -> None:
    parent, server = _start(tmp_path)
    time.sleep(1.0)  # past exec: the server runs streamlit now
    parent.send_signal(how)
    parent.wait(timeout=30)
    try:
        assert _gone(server, 20), (
            f"streamlit (pid {server.pid}) outlived its parent after {how.name}"
        )
    finally:
        if server.is_running():
            server.kill()


def test_the_warm_up_before_serving_leaves_streamlits_logging_as_it_was() -> None:
    # Streamlit sets its log level at import only: a warm-up that left it at "error" would
    # hide every warning the server logs afterwards.
    import logging

    from streamlit import config
    from streamlit.logger import get_logger

    from dashboard.server import warm_up_streamlit

    server_log = get_logger("streamlit.web.server")  # one of Streamlit's own, as it logs
    before = server_log.getEffectiveLevel()
    warn = config.get_option("global.showWarningOnDirectExecution")
    warm_up_streamlit()
    assert server_log.getEffectiveLevel() == before <= logging.WARNING
    assert config.get_option("global.showWarningOnDirectExecution") == warn
