"""dlradar's Streamlit dashboard: `streamlit run dashboard/app.py` (or `dlradar dashboard`).

The database is $DLRADAR_DB, else data/dlradar.db under the working directory. Each page is a
script in dashboard/views/; this entry point only sets up the navigation. (Not dashboard/pages/:
Streamlit treats a `pages` folder beside the main script as an old-style multipage app until
st.navigation has run once in the process, so the first visitor of a fresh server who opened
/papers directly would get that folder's scripts as the menu.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.views import PAGES  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="dlradar", page_icon=":material/radar:", layout="wide")
    pages = [
        st.Page(f"views/{name}.py", title=title, icon=icon, default=name == "overview")
        for name, title, icon in PAGES
    ]
    navigation = st.navigation(pages)
    navigation.run()


main()
