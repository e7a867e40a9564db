"""Overview: what the database holds, how fresh it is, and what to run next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.views.common import GUIDANCE_BENCH, GUIDANCE_PAPERS, db_path, fmt_ms, md_text

path = db_path()
st.title("dlradar")
st.caption(f"Database: {md_text(path)}")

totals = data.paper_totals(path)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Papers", f"{totals['total']:,}")
c2.metric("Published in the last 7 days", f"{totals['published_this_week']:,}")
c3.metric("Stored in the last 7 days", f"{totals['stored_this_week']:,}")
c4.metric("Tagged with a family", f"{totals['tagged']:,}")

todo: list[str] = []
if totals["total"] == 0:
    todo.append(GUIDANCE_PAPERS)
elif totals["tagged"] == 0:
    todo.append("No paper has a family yet: run `dlradar tag` to tag them.")
if totals["curated"] == 0:
    todo.append("The landmark catalogue is not loaded: `dlradar catalogue --load`.")

st.subheader("Sources")
sources = data.sources(path)
if sources:
    st.dataframe(
        pd.DataFrame(sources),
        hide_index=True,
        column_config={
            "last_successful_fetch": st.column_config.TextColumn("last successful fetch"),
            "last_run": st.column_config.TextColumn("last run"),
        },
    )
    if totals["latest_published"]:
        st.caption(f"Newest publication date stored: {md_text(totals['latest_published'])}")
else:
    st.info("No source has been fetched or imported yet.")

st.subheader("Benchmarks")
runs = data.bench_runs(path)
timing_runs = [r for r in runs if r["kind"] != "eval"] or runs
peak = data.latest_peak(path)
left, right = st.columns(2)
with left:
    if runs:
        run = timing_runs[0]
        st.metric(
            f"Latest run #{run['id']} ({run['kind']}, {run['profile']})",
            run["status"],
            help="The newest stored benchmark or evaluation run.",
        )
        st.caption(
            f"started {run['started_at']}, finished {run.get('finished_at') or '—'}:"
            f" {run.get('message') or ''} ({run['results']} results, {run['failed']} failed)"
        )
        results = [r for r in data.bench_results(path, (run["id"],)) if r["status"] == "ok"]
        fastest = [r for r in results if r.get("latency_p50") is not None]
        if fastest:
            best = min(fastest, key=lambda r: r["latency_p50"])
            st.caption(
                f"Fastest: {best['model']} on {best['backend']}, p50 {fmt_ms(best['latency_p50'])}"
                f" at batch {best['batch_size']}, {best['threads']} thread(s)"
            )
        evals = [r for r in runs if r["kind"] == "eval"]
        if evals:
            st.caption(f"Latest evaluation: run #{evals[0]['id']} ({evals[0]['status']}).")
    else:
        st.metric("Latest run", "none")
        todo.append(GUIDANCE_BENCH)
with right:
    if peak:
        st.metric("Measured FP32 peak", f"{peak['gflops']:,.1f} GFLOP/s")
        st.caption(
            f"GEMM {peak['gflops_size']}² on {peak['gflops_threads']} thread(s)"
            f" ({peak.get('gflops_engine', 'torch')}); memory bandwidth"
            f" {peak['bandwidth_gbs']:,.1f} GB/s ({peak['bandwidth_kind']}), measured"
            f" {peak['measured_at']}"
        )
    else:
        st.metric("Measured FP32 peak", "not measured")
        todo.append("The machine's peak is not measured: `dlradar bench peak` (for rooflines).")

digests = data.digest_directory()
if not data.digest_files(str(digests)):
    todo.append(f"No weekly digest yet: `dlradar digest` writes one to `{digests}`.")

st.subheader("What to run next")
if todo:
    for item in todo:
        st.markdown(f"- {item}")
else:
    st.success("Everything has data. `dlradar run` refreshes it all (fetch, tag, benchmark).")
