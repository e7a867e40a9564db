"""Radar: per family, what is published (share, growth) next to what it costs to run here.

Every figure is read at one reference configuration chosen on the page (batch size, threads,
backend) and comes from the family's canonical model at full size (bench.reference), named
beside it; a small variant's figure is shown in its own, labelled column and never stands for
the family. The rows are dashboard.radar.radar_table's, the same that `dlradar radar` prints.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.radar import BACKENDS, ReferenceConfig, headline, quality_text, quick_figure
from dashboard.views.common import GUIDANCE_BENCH, GUIDANCE_PAPERS, db_path

path = db_path()
st.title("Radar")
st.caption(
    "Per architecture family: its share of the papers stored and its growth, next to the"
    " measured latency, memory and quality of its canonical reference model on this machine."
)

machines = [m["label"] for m in data.bench_machines(path)] if data.bench_runs(path) else []
machine = None
if len(machines) > 1:
    chosen = st.selectbox(
        "Machine", ["every machine (latest result)", *machines], key="radar_machine"
    )
    machine = None if chosen not in machines else chosen
rows = data.radar(path, machine)
measured = [r for row in rows for r in row["results"]]
if not any(row["papers"] for row in rows) and not measured:
    st.info(GUIDANCE_PAPERS)
    st.info(GUIDANCE_BENCH)
    st.stop()

configured = data.configured_threads()
batches = sorted({r["batch_size"] for r in measured} | {1})
threads = sorted({int(r["threads"]) for r in measured if r["threads"]} | {configured})
left, middle, right = st.columns(3)
batch = left.selectbox("Batch size", batches, index=batches.index(1), key="radar_batch")
thread_count = middle.selectbox(
    "Threads", threads, index=threads.index(configured), key="radar_threads"
)
backend = right.selectbox("Backend", BACKENDS, key="radar_backend")
reference = ReferenceConfig(batch_size=int(batch), threads=int(thread_count))


def _text(value: Any, fmt: str) -> str:
    """A cell: the formatted figure, or empty (never the text 'None')."""
    return "" if value is None else format(value, fmt)


table: list[dict[str, Any]] = []
chart: list[dict[str, Any]] = []
for row in rows:
    head = headline(row, reference, backend)
    result = head.result
    small = quick_figure(row, reference, backend)
    table.append(
        {
            "family": row["family"],
            "papers": row["papers"],
            "share": _text(row["share"], ".1%"),
            "growth": _text(row["growth"], "+.0%"),
            "canonical model": head.model or "",
            "p50 (ms)": _text(result and result["p50_ms"], ",.3f") or "not measured",
            "p90 (ms)": _text(result and result["p90_ms"], ",.3f"),
            "throughput (/s)": _text(result and result["throughput_per_s"], ",.1f"),
            "memory (MB)": _text(result and result["peak_memory_mb"], ",.1f"),
            "quality": quality_text(row) or "",
            "fastest measured (any model)": (
                f"{small['p50_ms']:,.3f} ms: {small['model']} ({small['size']})" if small else ""
            ),
            "models in the zoo": ", ".join(row["reference_models"]),
            "why not measured": head.why or "",
        }
    )
    if result is not None and row["papers"]:
        chart.append(
            {
                "family": row["family"],
                "share": row["share"],
                "p50_ms": result["p50_ms"],
                "papers": row["papers"],
                "model": head.model,
            }
        )

st.markdown(f"**Reference configuration: {reference.label()}, {backend}, full-size models**")
if chart:
    figure = px.scatter(
        pd.DataFrame(chart),
        x="share",
        y="p50_ms",
        size="papers",
        color="family",
        text="model",
        log_y=True,
        labels={"share": "share of papers", "p50_ms": f"p50 latency (ms), {reference.label()}"},
        title="What the field publishes against what its canonical model costs here",
    )
    widest = max(point["share"] for point in chart)
    figure.update_xaxes(tickformat=".1~%", range=[0, min(1.0, widest * 1.25 + 0.02)])
    figure.update_traces(textposition="top center")
    st.plotly_chart(figure, key="radar_scatter")
elif measured:
    st.info(
        f"No canonical model is measured at {reference.label()} on {backend}: choose another"
        " configuration above, or run `dlradar bench run --full`."
    )
else:
    st.info(GUIDANCE_BENCH)

st.dataframe(pd.DataFrame(table), hide_index=True)
st.caption(
    "Each figure is the latest successful result of exactly this configuration. 'fastest"
    " measured' is the quickest model of the family at the same batch and threads, including"
    " small variants (size 'small') that the quick profile runs: it does not stand for the family."
)
