"""Serve the dashboard: `streamlit run dashboard/app.py` on the configured host and port.

Used by `dlradar dashboard` and by step 7 of `dlradar run`. The database path reaches the app
through the environment (DLRADAR_DB), resolved to an absolute path first so that the app opens
the same file whatever its working directory.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.config import Settings
from core.db import ENV_DB, resolve_db_path
from core.errors import DlradarError

APP = Path(__file__).resolve().parent / "app.py"
PR_SET_PDEATHSIG = 1  # prctl option, from <linux/prctl.h>
STOP_GRACE_SECONDS = 10


def streamlit_command(host: str, port: int, app: Path = APP) -> list[str]:
    """The command line that serves the app (headless: no browser is opened, no telemetry, no
    file watching): Streamlit's own, started by dashboard.server, which imports what the pages
    need first."""
    return [
        sys.executable, "-m", "dashboard.server", "run", str(app),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        # A served dashboard does not reload on source edits; watching costs a walk of every
        # loaded module after each script run (about a second of a first page load here).
        "--server.fileWatcherType", "none",
    ]  # fmt: skip


def serve(
    db: str | os.PathLike[str] | None,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
) -> int:
    """Run the dashboard until Ctrl-C; returns streamlit's exit code (0 after Ctrl-C)."""
    host = host or str(settings.get("dashboard", "host"))
    port = int(port or settings.get("dashboard", "port"))
    env = dict(os.environ)
    env[ENV_DB] = str(resolve_db_path(db))
    command = streamlit_command(host, port)
    print(f"dlradar dashboard: http://{host}:{port} (database {env[ENV_DB]}); Ctrl-C stops it",
          file=sys.stderr)  # fmt: skip
    try:
        process = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)
    except OSError as exc:
        raise DlradarError(f"cannot start streamlit: {exc}") from exc
    # A service manager stops us with SIGTERM: pass it on, so no server is left behind (it
    # would keep the port, serving with PPID 1). The handler only forwards: waiting inside it
    # would deadlock on the Popen lock the interrupted wait() holds.
    stopping: list[int] = []

    def forward(signum: int, frame: object) -> None:
        stopping.append(signum)
        process.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        code = _wait_for(process, stopping)
    except KeyboardInterrupt:
        # Streamlit got the same SIGINT from the terminal; give it a moment to shut down.
        _wait_for(process, [signal.SIGINT])
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 128 + stopping[0] if stopping else code


def _wait_for(process: subprocess.Popen[bytes], stopping: list[int]) -> int:
    """The server's exit code; once a stop was asked for, it has STOP_GRACE_SECONDS to go."""
    asked_at: float | None = None
    while True:
        try:
            return process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if stopping and asked_at is None:
            asked_at = time.monotonic()
        if asked_at is not None and time.monotonic() - asked_at > STOP_GRACE_SECONDS:
            process.kill()


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the parent dies, even by SIGKILL (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: the SIGTERM handler above still covers a polite stop
        return
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
