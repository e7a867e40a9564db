"""Trends: family share over time, counts by venue and year, growth; links to the papers."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.views.common import GUIDANCE_PAPERS, db_path, unavailable

# Thirteen families need thirteen distinct colours; Plotly's default cycles after ten.
FAMILY_COLOURS = px.colors.qualitative.Dark24

path = db_path()
st.title("Trends")
if data.corpus_summary(path)["papers"] == 0:
    st.info(GUIDANCE_PAPERS)
    st.stop()

period = (
    st.segmented_control(
        "Period", ["month", "quarter", "year"], default="year", key="trends_period"
    )
    or "year"
)

st.subheader("Family share over time")
st.caption(
    "Each family's part of the period's family tags (a paper counts once per family; the hover"
    " gives its share of the period's papers)."
)
families: list[str] = [r["family"] for r in data.family_shares(path)]
try:
    counts = data.family_counts(path, period)
except data.Unavailable as exc:
    unavailable(exc)
else:
    frame = pd.DataFrame(counts)
    if not frame.empty:
        # Landmark papers reach back decades, one or two a year: periods that thin would make
        # the shares jump between 0 and 100 %, so they are hidden unless asked for.
        smallest = st.number_input(
            "Hide periods with fewer papers than", min_value=1, value=20, step=10,
            key="trends_min_total",
        )  # fmt: skip
        shown = frame[frame["total"] >= smallest]
        frame = shown if not shown.empty else frame
    if not frame.empty:
        frame = frame.sort_values(["period", "family"])
        # A paper may carry several families, so per-period shares add up to more than 100 %;
        # the stack shows each family's part of the period's family tags, the hover its share
        # of the period's papers.
        frame["period"] = frame["period"].astype(str)
        labels = {"count": "% of family tags", "period": period}
        hover = {"share": ":.1%", "count": True, "total": True}
        if frame["period"].nunique() >= 3:
            figure = px.area(
                frame, x="period", y="count", color="family", groupnorm="percent",
                hover_data=hover, labels=labels, color_discrete_sequence=FAMILY_COLOURS,
            )  # fmt: skip
        else:  # an area needs several periods; a stacked bar shows one or two
            figure = px.bar(
                frame, x="period", y="count", color="family", hover_data=hover, labels=labels,
                color_discrete_sequence=FAMILY_COLOURS,
            )  # fmt: skip
            figure.update_layout(barnorm="percent")
        figure.update_xaxes(type="category")
        event = st.plotly_chart(
            figure, on_select="rerun", selection_mode="points", key="trends_area"
        )
        points = getattr(getattr(event, "selection", None), "points", None) or []
        if points:
            curve = points[0].get("curve_number")
            if isinstance(curve, int) and curve < len(figure.data):
                st.switch_page("views/papers.py", query_params={"family": figure.data[curve].name})
    else:
        st.info("No tagged papers yet: run `dlradar tag`.")

st.markdown("**Papers of a family**")
if families:
    left, right = st.columns([2, 3])
    chosen = left.selectbox("Family", families, key="trends_family")
    right.page_link(
        "views/papers.py",
        label=f"Show the {chosen} papers",
        icon=":material/arrow_forward:",
        query_params={"family": chosen},
    )
    st.caption("Clicking a point of the chart above opens that family's papers too.")

st.subheader("Growth")
try:
    growth = data.family_growth(path, "month" if period == "month" else period)
except data.Unavailable as exc:
    unavailable(exc)
else:
    if growth:
        st.dataframe(
            pd.DataFrame(growth),
            hide_index=True,
            column_config={
                "growth": st.column_config.NumberColumn("growth", format="percent"),
                "share": st.column_config.NumberColumn("share", format="percent"),
                "trailing_avg": st.column_config.NumberColumn("trailing average", format="%.1f"),
            },
        )
    else:
        st.caption("Not enough periods for growth yet.")

st.subheader("Papers by venue and year")
venue_years = data.venue_year_counts(path)
if venue_years:
    frame = pd.DataFrame(venue_years)
    frame["year"] = frame["year"].astype(str)
    st.plotly_chart(
        px.bar(frame, x="year", y="papers", color="venue", barmode="stack"),
        key="trends_venues",
    )
    with st.expander("Table"):
        st.dataframe(
            frame.pivot_table(index="venue", columns="year", values="papers", fill_value=0),
        )
else:
    st.caption("No paper has a year yet.")
