"""`python -m dashboard.server run APP ...`: Streamlit's own command line, after importing what
the pages need (pandas, plotly, numpy, the readers' data layer).

Streamlit runs every page in this process, so modules imported here are ready for the first
visitor of a freshly started server, who otherwise waited for them (about a second of a first
page load on a 2-core machine; issue #18 asks for 2 s at most after the server has started).
"""

from __future__ import annotations

import sys


def preload() -> None:
    """Import the libraries and modules the pages import (what a first page load would)."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import plotly.express
    import plotly.graph_objects  # noqa: F401

    from dashboard import data, radar  # noqa: F401
    from tracker import overview, query, trends  # noqa: F401


def main() -> None:
    preload()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
