"""Serve the dashboard: `streamlit run dashboard/app.py` on the configured host and port.

Used by `dlradar dashboard` and by step 7 of `dlradar run`. The database path reaches the app
through the environment (DLRADAR_DB), resolved to an absolute path first so that the app opens
the same file whatever its working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.config import Settings
from core.db import ENV_DB, resolve_db_path
from core.errors import DlradarError

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that serves the app (headless: no browser is opened, no telemetry)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
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
        process = subprocess.Popen(command, env=env)
    except OSError as exc:
        raise DlradarError(f"cannot start streamlit: {exc}") from exc
    try:
        return process.wait()
    except KeyboardInterrupt:
        # Streamlit got the same SIGINT from the terminal; give it a moment to shut down.
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait()
        return 0
