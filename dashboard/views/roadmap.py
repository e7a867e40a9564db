"""Roadmap: the learning path, each stage with its landmark papers, recent papers of its
families, and its reference models with their results here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.radar import BACKENDS, Headline, RadarQuality, ReferenceConfig, headline
from dashboard.views.common import db_path
from tracker.landmarks import STAGES

STAGE_TITLES = {
    "basics": "Basics", "neural-networks": "Neural networks", "cnns": "CNNs",
    "rnns": "RNN, LSTM and GRU", "transformers": "Transformers", "generative": "Generative models",
    "graphs": "Graph networks", "reinforcement-learning": "Reinforcement learning",
    "training": "Building and training", "evaluation": "Evaluation",
    "frontiers": "Staying up to date",
}  # fmt: skip


def _figure(head: Headline | None) -> str:
    """The p50 as text, or why there is none (never an empty cell that says nothing)."""
    if head is None:
        return "not measured"
    if head.result is None:
        return head.why or "not measured"
    return f"{head.result['p50_ms']:.3f}"


def _quality(evaluation: RadarQuality) -> str:
    """The model's own task metric at the reference size (a small variant's is not its)."""
    if evaluation["quality"] is None or not evaluation["quality_metric"]:
        return "evaluated, no quality figure"
    return f"{evaluation['quality_metric']} {evaluation['quality']:.3f}"


path = db_path()
st.title("Roadmap")
st.caption(
    "From the basics to staying up to date: each stage's landmark papers (the curated"
    " catalogue), the newest stored papers of its families, and its reference models measured"
    " on this machine."
)

landmarks = data.catalogue()
stored = data.stored_landmarks(path)
# The Radar's figures: each at one reference configuration, named beside it (dashboard.radar).
radar_rows = {row["family"]: row for row in data.radar(path)}
reference = ReferenceConfig(threads=data.configured_threads())
zoo = data.zoo_models()
if not stored:
    st.info("The landmark catalogue is not in this database yet: `dlradar catalogue --load`.")

stages = list(STAGES) + sorted({lm["stage"] for lm in landmarks} - set(STAGES))
for number, stage in enumerate(stages, start=1):
    papers = [lm for lm in landmarks if lm["stage"] == stage]
    families = tuple(sorted({f for lm in papers for f in lm["families"]}))
    title = STAGE_TITLES.get(stage, stage.replace("-", " ").capitalize())
    with st.expander(f"{number}. {title} ({len(papers)} landmarks)", expanded=number == 1):
        if families:
            st.caption("Families: " + ", ".join(families))
        if papers:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "title": lm["title"],
                            "year": lm["year"],
                            "venue": lm["venue"],
                            "families": ", ".join(lm["families"]),
                            "note": lm["note"],
                            "stored": lm["key"] in stored,
                        }
                        for lm in sorted(papers, key=lambda p: p["year"])
                    ]
                ),
                hide_index=True,
                column_config={"year": st.column_config.NumberColumn(format="%d")},
            )
        recent = data.recent_papers(path, families, 5)
        if recent:
            st.markdown("**Recent papers**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "id": p["id"],
                            "title": p["title"],
                            "published": p["published"],
                            "families": p["families"],
                        }
                        for p in recent
                    ]
                ),
                hide_index=True,
            )
            st.page_link(
                "views/papers.py",
                label="All papers of these families",
                query_params={"family": ",".join(families)},
            )
        models = [m for m in zoo if m["family"] in families]
        if models:
            st.markdown(f"**Reference models** (measured at {reference.label()})")
            rows = []
            for model in models:
                row = radar_rows.get(model["family"])
                heads = {
                    backend: headline(row, reference, backend, model["model"]) if row else None
                    for backend in BACKENDS
                }
                evaluations = [
                    e
                    for e in (row["evaluations"] if row else [])
                    if e["model"] == model["model"] and e["size"] in (reference.size, None)
                ]
                rows.append(
                    {
                        "model": model["model"],
                        "family": model["family"],
                        "input": model["input"],
                        **{f"p50 {backend} (ms)": _figure(head) for backend, head in heads.items()},
                        "quality": _quality(evaluations[0]) if evaluations else "not evaluated",
                    }
                )
            st.dataframe(pd.DataFrame(rows), hide_index=True)
