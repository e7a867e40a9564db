"""Roadmap: the learning path, each stage with its landmark papers, recent papers of its
families, and its reference models with their results here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.views.common import db_path
from tracker.landmarks import STAGES

STAGE_TITLES = {
    "basics": "Basics", "neural-networks": "Neural networks", "cnns": "CNNs",
    "rnns": "RNN, LSTM and GRU", "transformers": "Transformers", "generative": "Generative models",
    "graphs": "Graph networks", "reinforcement-learning": "Reinforcement learning",
    "training": "Building and training", "evaluation": "Evaluation",
    "frontiers": "Staying up to date",
}  # fmt: skip
path = db_path()
st.title("Roadmap")
st.caption(
    "From the basics to staying up to date: each stage's landmark papers (the curated"
    " catalogue), the newest stored papers of its families, and its reference models measured"
    " on this machine."
)

landmarks = data.catalogue()
stored = data.stored_landmarks(path)
results = data.bench_results(path)
best = data.best_results(results)
evals = data.latest_eval(results)
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
            st.markdown("**Reference models**")
            rows = []
            for model in models:
                timed = [r for r in best if r["model"] == model["model"]]
                by_backend = {r["backend"]: r for r in timed}
                torch_row = by_backend.get("torch")
                ort_row = by_backend.get("onnxruntime")
                rows.append(
                    {
                        "model": model["model"],
                        "family": model["family"],
                        "input": model["input"],
                        "p50 torch (ms)": torch_row["latency_p50"] if torch_row else None,
                        "p50 onnxruntime (ms)": ort_row["latency_p50"] if ort_row else None,
                        "batch": (torch_row or ort_row or {}).get("batch_size"),
                        "threads": (torch_row or ort_row or {}).get("threads"),
                        "accuracy": evals.get(model["model"], {}).get("accuracy"),
                    }
                )
            st.dataframe(
                pd.DataFrame(rows),
                hide_index=True,
                column_config={
                    "p50 torch (ms)": st.column_config.NumberColumn(format="%.3f"),
                    "p50 onnxruntime (ms)": st.column_config.NumberColumn(format="%.3f"),
                    "accuracy": st.column_config.NumberColumn(format="%.3f"),
                },
            )
