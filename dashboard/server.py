"""`python -m dashboard.server run APP ...`: Streamlit's own command line, after importing what
the pages need (pandas, plotly, numpy, the readers' data layer), drawing one small chart of
each kind the pages draw and putting one Streamlit element.

Streamlit runs every page in this process, so what is done here is ready for the first visitor
of a freshly started server, who otherwise waited for it (about a second of a first page load
on a 2-core machine; issue #18 asks for 2 s at most after the server has started).
"""

from __future__ import annotations

import sys


def preload() -> None:
    """Import the libraries and modules the pages import (what a first page load would)."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import plotly.express
    import plotly.graph_objects  # noqa: F401

    from bench import choices, settings, zoo_listing  # noqa: F401
    from dashboard import data, radar  # noqa: F401
    from dashboard.views import common  # noqa: F401
    from tracker import landmarks, overview, query, trends  # noqa: F401


def warm_up_charts() -> None:
    """Draw a tiny chart of every kind the pages use: Plotly Express imports its dataframe
    layer (narwhals) and builds its templates on the first figure, not at import."""
    import pandas as pd
    import plotly.express as px

    frame = pd.DataFrame({"x": ["a", "b", "c"], "y": [1.0, 2.0, 3.0], "c": ["p", "q", "p"]})
    figures = [
        px.area(frame, x="x", y="y", color="c", groupnorm="percent"),
        px.bar(frame, x="x", y="y", color="c"),
        px.line(frame, x="x", y="y", color="c", markers=True),
        px.scatter(frame, x="y", y="y", color="c", log_x=True, log_y=True),
        px.box(frame, x="c", y="y"),
        px.imshow([[1, 2], [3, 4]], text_auto=True),
    ]
    for figure in figures:
        figure.to_json()


def warm_up_streamlit() -> None:
    """Put one element outside a page: the first element of a process checks whether it runs
    in a REPL by reading the source of every frame on the stack (inspect.stack()), which under
    a page's deep stack took 0.4 s of the first page load here, and a few milliseconds here."""
    import logging

    import streamlit as st
    from streamlit import config
    from streamlit import logger as streamlit_logger

    # Quiet for this one element ("missing ScriptRunContext" is true and expected here), then
    # as Streamlit's import set it (the level of logger.level); it does not set it again.
    level = config.get_option("logger.level")
    warn = config.get_option("global.showWarningOnDirectExecution")
    config.set_option("global.showWarningOnDirectExecution", False)
    streamlit_logger.set_log_level(logging.ERROR)
    try:
        st.empty()
    finally:
        streamlit_logger.set_log_level(level.upper())
        config.set_option("global.showWarningOnDirectExecution", warn)


def main() -> None:
    preload()
    warm_up_charts()
    warm_up_streamlit()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
