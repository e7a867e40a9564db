"""Digests: the weekly digests written to the digest directory, rendered, with downloads."""

from __future__ import annotations

import streamlit as st

from dashboard import data

st.title("Digests")
directory = data.digest_directory()
files = data.digest_files(str(directory))
if not files:
    st.info(
        f"No digest in {directory} yet. `dlradar digest` writes the week's digest there"
        " (and `dlradar run` does it weekly)."
    )
    st.stop()

names = [f["name"] for f in files]
chosen = st.selectbox("Week", names, key="digest_week")
digest = next(f for f in files if f["name"] == chosen)
cols = st.columns(4)
cols[0].download_button(
    "Download Markdown",
    digest["text"].encode("utf-8"),
    file_name=digest["name"],
    mime="text/markdown",
    key="digest_md",
)
for col, (name, content) in zip(cols[1:], digest["others"], strict=False):
    col.download_button(f"Download {name}", content, file_name=name, key=f"digest_{name}")
st.divider()
# The digest's Markdown is written by dashboard.digest.render, which escapes paper text; it is
# rendered without raw HTML (unsafe_allow_html stays off).
st.markdown(digest["text"])
