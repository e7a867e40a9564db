"""`dlradar dashboard`: serve the Streamlit dashboard (a thin shell over dashboard.serve)."""

from __future__ import annotations

import click

from core.config import load_settings
from core.errors import DlradarError
from dlradar.database import require_database
from dlradar.options import config_option, db_option


@click.command("dashboard")
@click.option(
    "--host", default=None, help="Address to listen on (default: dashboard.host, 127.0.0.1)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: dashboard.port, 8501).")  # fmt: skip
@db_option
@config_option
def dashboard(
    host: str | None, port: int | None, db_path: str | None, config_path: str | None
) -> None:
    """Serve the dashboard in the browser until Ctrl-C.

    \b
    Examples:
      dlradar dashboard                      # http://127.0.0.1:8501
      dlradar dashboard --port 8502 --db data/other.db
      dlradar dashboard --host 0.0.0.0       # reachable from other machines
    """
    from dashboard.serve import serve

    settings = load_settings(config_path)
    require_database(db_path)
    code = serve(db_path, settings, host=host, port=port)
    if code not in (0, None):
        raise DlradarError(f"streamlit exited with code {code}")


COMMANDS: list[click.Command] = [dashboard]
