"""Radar: per family, what is published (share, growth) next to what it costs to run here."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.views.common import GUIDANCE_BENCH, GUIDANCE_PAPERS, db_path, unavailable

path = db_path()
st.title("Radar")
st.caption(
    "Per architecture family: its share of the papers stored and its growth, next to the"
    " measured latency, throughput and accuracy of its reference models on this machine."
)

shares = {r["family"]: r for r in data.family_shares(path)}
papers_of = {family: row["papers"] for family, row in shares.items()}
share_of = {family: row["share"] for family, row in shares.items()}
growth: dict[str, dict[str, Any]] = {}
try:
    growth = {r["family"]: r for r in data.family_growth(path, "month")}
except data.Unavailable as exc:
    unavailable(exc)

results = data.bench_results(path)
best = data.best_results(results)
evals = data.latest_eval(results)
zoo = data.zoo_models()
models_of: dict[str, list[str]] = {}
for model in zoo:
    models_of.setdefault(model["family"], []).append(model["model"])
for row in best:
    if row.get("family"):
        models_of.setdefault(row["family"], [])
        if row["model"] not in models_of[row["family"]]:
            models_of[row["family"]].append(row["model"])

if not shares and not best:
    st.info(GUIDANCE_PAPERS)
    st.info(GUIDANCE_BENCH)
    st.stop()

table = []
for family in sorted(set(shares) | set(models_of), key=lambda f: -papers_of.get(f, 0)):
    timed = [r for r in best if r.get("family") == family]
    torch_rows = [r for r in timed if r["backend"] == "torch"]
    ort_rows = [r for r in timed if r["backend"] == "onnxruntime"]
    accuracy = [evals[m]["accuracy"] for m in models_of.get(family, []) if m in evals]
    table.append(
        {
            "family": family,
            "papers": papers_of.get(family, 0),
            "share": share_of.get(family, 0.0),
            "growth": growth.get(family, {}).get("growth"),
            "reference models": ", ".join(models_of.get(family, [])) or "—",
            "fastest p50 torch (ms)": min((r["latency_p50"] for r in torch_rows), default=None),
            "fastest p50 onnxruntime (ms)": min((r["latency_p50"] for r in ort_rows), default=None),
            "best throughput (/s)": max((r["throughput_per_s"] or 0 for r in timed), default=None),
            "best accuracy": max(accuracy, default=None),
        }
    )
frame = pd.DataFrame(table)

measured = frame.dropna(subset=["fastest p50 torch (ms)"])
if not measured.empty and measured["papers"].sum() > 0:
    figure = px.scatter(
        measured,
        x="share",
        y="fastest p50 torch (ms)",
        size=measured["papers"].clip(lower=1),
        color="family",
        text="family",
        log_y=True,
        labels={"share": "share of papers", "fastest p50 torch (ms)": "fastest p50, batch 1 (ms)"},
        title="What the field publishes against what it costs here",
    )
    figure.update_xaxes(tickformat=".0%")
    figure.update_traces(textposition="top center")
    st.plotly_chart(figure, key="radar_scatter")
if not frame.empty and frame["papers"].sum() > 0:
    published = frame[frame["papers"] > 0].assign(
        measured=lambda f: (
            f["fastest p50 torch (ms)"].notna().map({True: "measured here", False: "not measured"})
        )
    )
    share_chart = px.bar(
        published, x="family", y="share", color="measured", title="Share of papers per family",
        hover_data=["papers", "growth", "reference models"],
        color_discrete_map={"measured here": "#1f77b4", "not measured": "#b0b0b0"},
    )  # fmt: skip
    share_chart.update_yaxes(tickformat=".0%")
    st.plotly_chart(share_chart, key="radar_share")
if not best:
    st.info(GUIDANCE_BENCH)

st.dataframe(
    frame,
    hide_index=True,
    column_config={
        "share": st.column_config.NumberColumn("share", format="percent"),
        "growth": st.column_config.NumberColumn("growth", format="percent"),
        "best accuracy": st.column_config.NumberColumn("best accuracy", format="%.3f"),
        "fastest p50 torch (ms)": st.column_config.NumberColumn(format="%.3f"),
        "fastest p50 onnxruntime (ms)": st.column_config.NumberColumn(format="%.3f"),
        "best throughput (/s)": st.column_config.NumberColumn(format="%.1f"),
    },
)
st.caption(
    "Latency: the newest successful result at the smallest batch measured (batch 1 by default)"
    " on the CPU, per model and backend; see the Benchmarks page for every condition."
)
