"""Helpers shared by the pages: the database path, guidance for empty stores, safe text.

Paper text (titles, authors, abstracts) is shown only through st.text, st.dataframe and
st.code, never st.markdown, so a title such as `<script>` or `[x](http://evil)` stays text; any
other stored text in a Markdown element (venues, CPU names, reasons) goes through md_text.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from dashboard import data

FAMILIES = (
    "mlp", "cnn", "rnn", "lstm", "gru", "transformer", "gnn", "gan", "vae", "diffusion", "ssm",
    "moe", "rl",
)  # fmt: skip

GUIDANCE_PAPERS = (
    "No papers in this database yet. Load some with `dlradar run` (fetches, tags, benchmarks),"
    " `dlradar fetch arxiv`, or offline with `dlradar import PATH` and `dlradar catalogue --load`;"
    " then `dlradar tag` to tag their families."
)
GUIDANCE_BENCH = (
    "No benchmark results yet. Run `dlradar bench peak` (the machine's measured peak), then"
    " `dlradar bench run --quick` and `dlradar bench eval`, or use the button on the"
    " Benchmarks page."
)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def md_text(value: Any) -> str:
    """Stored or foreign text for an element that renders Markdown (st.caption, st.markdown,
    st.info, st.warning): every Markdown character escaped, so a venue such as
    '**BOLD** [click](https://evil) ![p](https://evil/p.png)' shows as typed, with no link
    and no remote image."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def db_path() -> str:
    return data.current_db_path()


def safe_url(url: Any) -> str | None:
    """Only http(s) links reach a link column (no javascript: or data: URLs)."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def unavailable(exc: data.Unavailable) -> None:
    st.info(f"{exc}. This part of the page appears once it lands.", icon=":material/hourglass:")


def conditions(row: dict[str, Any]) -> str:
    """The conditions of a measured number, in one line."""
    parts = [
        f"{row.get('device')}",
        f"{row.get('backend')}",
        f"batch {row.get('batch_size')}",
        f"{row.get('threads')} intra-op / {row.get('inter_op_threads')} inter-op threads",
    ]
    if row.get("shapes"):
        parts.append(f"input {row['shapes']} ({row.get('size') or 'full'})")
    if row.get("latency_count"):
        parts.append(f"{row['latency_count']} iterations")
    if row.get("cpu"):
        parts.append(str(row["cpu"]))
    return " · ".join(parts)


def fmt_ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.3f} ms"
