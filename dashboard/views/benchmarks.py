"""Benchmarks: latency, throughput, distributions, roofline, ORT vs PyTorch, evaluation,
run comparison, and a button that runs the quick profile with live progress."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from dashboard.views.common import GUIDANCE_BENCH, conditions, db_path, fmt_ms, md_text

CONDITION_COLUMNS = [
    "run_id", "model", "family", "backend", "device", "dtype", "batch_size", "threads",
    "inter_op_threads", "shapes", "size", "latency_count",
]  # fmt: skip
path = db_path()
st.title("Benchmarks")


def roofline_figure(roof: pd.DataFrame, peak: dict[str, Any] | None) -> go.Figure:
    """The textbook roofline: log-log, FLOPs per byte against GFLOP/s, the measured compute and
    memory roofs, one point per result, axes bounded by the data and the roofs' ridge."""
    intensity = roof["arithmetic_intensity"].astype(float)
    achieved = roof["achieved_gflops"].astype(float)
    x_low, x_high = intensity.min() / 2, intensity.max() * 2
    y_low, y_high = achieved.min() / 2, achieved.max() * 2
    figure = go.Figure()
    if peak and peak.get("gflops") and peak.get("bandwidth_gbs"):
        compute, bandwidth = float(peak["gflops"]), float(peak["bandwidth_gbs"])
        ridge = compute / bandwidth
        x_low, x_high = min(x_low, ridge / 2), max(x_high, ridge * 2)
        y_high = max(y_high, compute * 1.5)
        xs = np.geomspace(x_low, x_high, 200)
        figure.add_trace(
            go.Scatter(
                x=xs, y=np.minimum(compute, bandwidth * xs), mode="lines",
                name=f"roof: {compute:.0f} GFLOP/s, {bandwidth:.1f} GB/s",
                line={"color": "black", "dash": "dash"},
            )
        )  # fmt: skip
        y_low = min(y_low, bandwidth * x_low)
    for (model, backend), group in roof.groupby(["model", "backend"]):
        figure.add_trace(
            go.Scatter(
                x=group["arithmetic_intensity"], y=group["achieved_gflops"], mode="markers",
                name=f"{model} · {backend}", marker={"size": 10},
                customdata=group[["batch_size", "threads", "fraction_of_peak"]],
                hovertemplate="%{x:.2f} FLOPs/byte, %{y:.2f} GFLOP/s<br>batch %{customdata[0]},"
                " %{customdata[1]} threads<extra></extra>",
            )
        )  # fmt: skip
    figure.update_xaxes(
        type="log", range=[np.log10(x_low), np.log10(x_high)],
        title="arithmetic intensity (FLOPs per byte moved)",
    )  # fmt: skip
    figure.update_yaxes(
        type="log", range=[np.log10(y_low), np.log10(y_high)], title="achieved GFLOP/s"
    )
    figure.update_layout(title="Roofline")
    return figure


MACHINE_KEYS = ["model", "backend", "device", "batch_size", "threads", "size"]


def machines_side_by_side(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The latest successful timing of every configuration on every machine, one column of
    p50 latency (ms) per machine, configurations measured on two machines or more first."""
    timed = pd.DataFrame(
        [
            r
            for r in rows
            if r["status"] == "ok" and r.get("latency_p50") is not None and r["run_kind"] == "run"
        ]
    )
    if timed.empty:
        return timed
    timed["size"] = timed["size"].fillna("full")
    latest = timed.sort_values("result_id").groupby([*MACHINE_KEYS, "machine"]).tail(1)
    table = latest.pivot_table(
        index=MACHINE_KEYS, columns="machine", values="latency_p50", aggfunc="last"
    )
    table["machines"] = table.notna().sum(axis=1)
    return table.sort_values("machines", ascending=False).reset_index()


def show_machines() -> None:
    """The same configurations across machines, side by side (`bench fleet`, `bench import`)."""
    machines = data.bench_machines(path)
    table = machines_side_by_side(data.bench_results(path))
    names = [m["label"] for m in machines if m["label"] in table.columns]
    if len(names) < 2:
        st.info(
            "One machine so far. `dlradar bench fleet --address HEAD:6379` measures every node"
            " of a Ray cluster; `dlradar bench export` on another machine and `dlradar bench"
            " import` here bring its results beside these."
        )
    if table.empty:
        return
    if len(names) >= 2:
        st.markdown(md_text(f"Side by side: {' | '.join(names)}"))
    shared = st.toggle(
        "Only configurations measured on two machines or more",
        value=len(names) >= 2,
        key="bench_machines_shared",
    )
    if shared:
        table = table[table["machines"] >= 2]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(f"{name} p50 (ms)", format="%.3f") for name in names
        },
        key="bench_machines_table",
    )
    if len(names) >= 2 and not table.empty:
        long = table.melt(
            id_vars=MACHINE_KEYS, value_vars=names, var_name="machine", value_name="p50_ms"
        ).dropna(subset=["p50_ms"])
        long["config"] = (
            long["model"] + " · " + long["backend"] + " · b" + long["batch_size"].astype(str)
            + " · " + long["threads"].astype(str) + "t"
        )  # fmt: skip
        figure = px.bar(
            long, x="config", y="p50_ms", color="machine", barmode="group", log_y=True,
            labels={"p50_ms": "p50 latency (ms)", "config": ""},
        )  # fmt: skip
        st.plotly_chart(figure, key="bench_machines_chart")
    details = pd.DataFrame(
        [
            {
                "machine": m["label"], "node id": m.get("node_id"), "cpu": m.get("cpu_model"),
                "cores": m.get("logical_cores"), "memory (GB)": m.get("memory_gb"),
                "accelerators": ", ".join(str(a.get("name")) for a in m.get("accelerators") or [])
                or None,
                "torch": (m.get("versions") or {}).get("torch"), "runs": m.get("runs"),
            }
            for m in machines
        ]
    )  # fmt: skip
    st.dataframe(details, hide_index=True, key="bench_machines_details")
    st.caption(
        "Each figure is the latest successful timing of its configuration on that machine."
        " Machines are named by hostname, and by Ray node id for runs of `dlradar bench fleet`."
    )


def run_quick_benchmark() -> None:
    """Run the quick profile through bench.runner, streaming its progress lines."""
    from bench.runner import run_quick_profile
    from dashboard.data import connect

    with st.status("Running the quick benchmark profile…", expanded=True) as status:

        def show(line: str) -> None:
            status.text(line)

        try:
            with connect(path) as db:
                summary = run_quick_profile(db, say=show)
        except Exception as exc:  # shown, not raised: the page stays usable
            status.update(label=f"Benchmark failed: {type(exc).__name__}", state="error")
            st.text(str(exc))
            return
        status.update(label=summary, state="complete", expanded=False)
    data.clear_caches()


with st.expander("Run the quick benchmark here", icon=":material/play_arrow:"):
    st.caption(
        "A few small models on both backends at batch 1 (under a minute). The same as"
        " `dlradar bench run --quick`; the results are stored with the others."
    )
    if st.button("Run quick benchmark", key="bench_run_quick"):
        run_quick_benchmark()

runs = data.bench_runs(path)
if not runs:
    st.info(GUIDANCE_BENCH)
    st.stop()

peak = data.latest_peak(path)
timing_runs = [r for r in runs if r["kind"] != "eval"]
eval_runs = [r for r in runs if r["kind"] == "eval"]


def run_label(run_id: int) -> str:
    run = next(r for r in runs if r["id"] == run_id)
    return f"#{run_id} {run['kind']} {run['profile']} {run['started_at']} ({run['status']})"


# The newest run with a successful timing: a failed or unavailable attempt (no CUDA here) is
# listed, but never the default view.
measured_runs = [r for r in timing_runs if r.get("ok")]
chosen_runs = st.multiselect(
    "Runs",
    [r["id"] for r in timing_runs],
    default=[measured_runs[0]["id"]] if measured_runs else [],
    format_func=run_label,
    key="bench_runs",
)
rows = data.with_shapes(data.bench_results(path, tuple(chosen_runs))) if chosen_runs else []
ok = [r for r in rows if r["status"] == "ok" and r.get("latency_p50") is not None]
failed = [r for r in rows if r["status"] != "ok"]
frame = pd.DataFrame(ok)

# Only the open tab runs and is drawn (eight tabs of charts cost a first load seconds); the
# open tab is in the URL (?tab=Roofline), so a tab can be linked to.
tabs = st.tabs(
    [
        "Latency & throughput", "Batch size", "Distributions", "Roofline",
        "ONNX Runtime vs PyTorch", "Accuracy", "Compare runs", "Machines",
    ],
    key="tab", bind="query-params",
)  # fmt: skip

with tabs[0]:
    if tabs[0].open:
        if frame.empty:
            st.info("The chosen runs have no successful timings.")
        else:
            # Every condition that changes a figure is in the label: bars of 1 and 2 threads (or of
            # two runs) are never drawn on top of each other.
            frame["config"] = (
                frame["model"]
                + " · b"
                + frame["batch_size"].astype(str)
                + " · "
                + frame["threads"].astype(str)
                + "t"
                + (" · #" + frame["run_id"].astype(str) if frame["run_id"].nunique() > 1 else "")
            )
            figure = px.bar(
                frame,
                x="config",
                y="latency_p50",
                color="backend",
                barmode="group",
                error_y=frame["latency_p90"] - frame["latency_p50"],
                labels={"latency_p50": "p50 latency (ms), bar to p90", "config": ""},
                hover_data=["threads", "device", "latency_count", "run_id"],
            )
            figure.update_yaxes(type="log")
            st.plotly_chart(figure, key="bench_latency")
            st.dataframe(
                frame[
                    [
                        *CONDITION_COLUMNS,
                        "latency_p50",
                        "latency_p90",
                        "latency_p99",
                        "latency_iqr",
                        "throughput_per_s",
                        "peak_memory_mb",
                        "process_peak_memory_mb",
                        "parity_max_abs_diff",
                        "noisy",
                        "machine",
                        "cpu",
                    ]
                ],
                hide_index=True,
                column_config={
                    "latency_count": st.column_config.NumberColumn("iterations"),
                    "throughput_per_s": st.column_config.NumberColumn("items/s", format="%.1f"),
                    "peak_memory_mb": st.column_config.NumberColumn(
                        "own memory (MB)", format="%.1f"
                    ),
                    "process_peak_memory_mb": st.column_config.NumberColumn(
                        "process peak (MB)", format="%.0f"
                    ),
                    "parity_max_abs_diff": st.column_config.NumberColumn(
                        "ONNX parity (max abs diff)", format="%.2e"
                    ),
                },
            )
        if failed:
            st.markdown("**Failed configurations**")
            st.dataframe(
                pd.DataFrame(failed)[[*CONDITION_COLUMNS[:6], "stage", "error"]], hide_index=True
            )

with tabs[1]:
    if tabs[1].open:
        if frame.empty or frame["batch_size"].nunique() < 2:
            st.info(
                "Batch-size curves need results at two or more batch sizes (`--batch-size 1,8`)."
            )
        else:
            frame["series"] = frame["model"] + " · " + frame["backend"]
            left, right = st.columns(2)
            left.plotly_chart(
                px.line(frame.sort_values("batch_size"), x="batch_size", y="latency_p50",
                        color="series", markers=True, log_y=True,
                        labels={"latency_p50": "p50 latency (ms)"}),
                key="bench_batch_latency",
            )  # fmt: skip
            right.plotly_chart(
                px.line(frame.sort_values("batch_size"), x="batch_size", y="throughput_per_s",
                        color="series", markers=True, log_y=True,
                        labels={"throughput_per_s": "items per second"}),
                key="bench_batch_throughput",
            )  # fmt: skip

with tabs[2]:
    if tabs[2].open:
        if not ok:
            st.info("No timings with raw samples in the chosen runs.")
        else:
            labels = {
                r["result_id"]: f"{r['model']} · {r['backend']} · batch {r['batch_size']}"
                for r in ok
            }
            picked = st.multiselect(
                "Configurations", list(labels), default=list(labels)[:4],
                format_func=lambda i: labels[i], key="bench_dist",
            )  # fmt: skip
            samples = pd.DataFrame(data.bench_samples(path, tuple(picked)))
            if samples.empty:
                st.caption("No raw samples stored for these configurations.")
            else:
                samples["configuration"] = samples["result_id"].map(labels)
                st.plotly_chart(
                    px.box(samples, x="configuration", y="ms", points="outliers", log_y=True,
                           labels={"ms": "latency per iteration (ms)", "configuration": ""}),
                    key="bench_box",
                )  # fmt: skip
                st.plotly_chart(
                    px.line(samples, x="iteration", y="ms", color="configuration", log_y=True,
                            labels={"ms": "latency (ms)"}),
                    key="bench_iterations",
                )  # fmt: skip
                for rid in picked:
                    row = next(r for r in ok if r["result_id"] == rid)
                    st.caption(md_text(f"{labels[rid]}: {conditions(row)}"))

with tabs[3]:
    if tabs[3].open:
        roof = (
            frame[frame["achieved_gflops"].notna() & frame["arithmetic_intensity"].notna()]
            if not frame.empty and "arithmetic_intensity" in frame
            else pd.DataFrame()
        )
        if peak is None:
            st.info("No measured peak: run `dlradar bench peak` to draw this machine's roofs.")
        if roof.empty:
            st.caption(
                "No result has both FLOPs and bytes moved (results stored before this version, or"
                " models whose FLOPs the counter cannot see)."
            )
        else:
            st.plotly_chart(roofline_figure(roof, peak), key="bench_roofline")
            st.caption(
                "Arithmetic intensity = FLOPs per call / bytes it must move at least (weights once,"
                " inputs and output), so points sit at or right of their true place. Roofs: the"
                " measured FP32 GEMM peak and the measured memory bandwidth (`dlradar bench peak`)."
            )
            st.dataframe(
                roof[
                    [
                        *CONDITION_COLUMNS[:8],
                        "flops",
                        "bytes_moved",
                        "arithmetic_intensity",
                        "achieved_gflops",
                        "fraction_of_peak",
                    ]
                ],
                hide_index=True,
                column_config={
                    "fraction_of_peak": st.column_config.NumberColumn("of peak", format="percent"),
                    "arithmetic_intensity": st.column_config.NumberColumn(
                        "FLOPs/byte", format="%.2f"
                    ),
                },
            )

with tabs[4]:
    if tabs[4].open:
        keys = ["model", "device", "batch_size", "threads"]
        if frame.empty or frame["backend"].nunique() < 2:
            st.info("Needs the same configurations measured on both backends.")
        else:
            pivot = frame.pivot_table(
                index=keys, columns="backend", values="latency_p50", aggfunc="min"
            )
            if {"torch", "onnxruntime"} <= set(pivot.columns):
                pivot = pivot.reset_index()
                pivot["speed-up (torch / onnxruntime)"] = pivot["torch"] / pivot["onnxruntime"]
                st.dataframe(pivot, hide_index=True)
                st.plotly_chart(
                    px.bar(pivot, x="model", y="speed-up (torch / onnxruntime)",
                           color=pivot["batch_size"].astype(str),
                           labels={"color": "batch"}, barmode="group"),
                    key="bench_speedup",
                )  # fmt: skip
                st.caption(
                    "Above 1: ONNX Runtime is faster. p50 latencies (ms) of the same conditions."
                )
            else:
                st.info("Needs both torch and onnxruntime results.")

with tabs[5]:
    if tabs[5].open:
        eval_rows = [
            r for r in data.bench_results(path, tuple(r["id"] for r in eval_runs)) if r.get("eval")
        ] if eval_runs else []  # fmt: skip
        if not eval_rows:
            st.info(
                "No evaluation yet: `dlradar bench eval` trains and evaluates the models briefly."
            )
        else:
            metrics = pd.DataFrame(
                [
                    {
                        "run_id": r["run_id"], "model": r["model"], "family": r["family"],
                        "dataset": r["eval"].get("dataset"),
                        "metric": r["eval"].get("quality_metric") or "accuracy",
                        "quality": r["eval"].get("quality", r["eval"].get("accuracy")),
                        "pass_level": r["eval"].get("pass_level"),
                        "passed": r["eval"].get("passed"),
                        "accuracy": r["eval"].get("accuracy"),
                        "precision_macro": r["eval"].get("precision_macro"),
                        "recall_macro": r["eval"].get("recall_macro"),
                        "f1_macro": r["eval"].get("f1_macro"),
                        "onnx_accuracy": r["eval"].get("onnx_accuracy"),
                        "fit": r["eval"].get("fit"),
                        "epochs": len(r["eval"].get("curves") or []),
                        "optimizer": (r["eval"].get("config") or {}).get("optimizer"),
                    }
                    for r in eval_rows
                ]
            )  # fmt: skip
            st.dataframe(metrics, hide_index=True)
            st.plotly_chart(
                px.bar(metrics, x="model", y=["accuracy", "f1_macro"], barmode="group",
                       labels={"value": "held-out score"}),
                key="bench_accuracy",
            )  # fmt: skip
            by_id = {r["result_id"]: r for r in eval_rows}
            picked_eval = st.selectbox(
                "Model", list(by_id), key="bench_eval_model",
                format_func=lambda i: f"{by_id[i]['model']} (run {by_id[i]['run_id']})",
            )  # fmt: skip
            result: dict[str, Any] = by_id[picked_eval]["eval"]
            left, right = st.columns(2)
            matrix = result.get("confusion_matrix") or []
            if matrix:
                left.plotly_chart(
                    px.imshow(matrix, text_auto=True, color_continuous_scale="Blues",
                              labels={"x": "predicted", "y": "true", "color": "samples"},
                              title="Confusion matrix (held-out split)"),
                    key="bench_confusion",
                )  # fmt: skip
            curves = pd.DataFrame(result.get("curves") or [])
            if not curves.empty:
                long = curves.melt(
                    id_vars="epoch",
                    value_vars=["train_loss", "val_loss", "train_accuracy", "val_accuracy"],
                )
                right.plotly_chart(
                    px.line(long, x="epoch", y="value", color="variable", markers=True,
                            title=f"Learning curves (fit: {result.get('fit')})"),
                    key="bench_curves",
                )  # fmt: skip
            if result.get("fit_reason"):
                st.caption(md_text(result["fit_reason"]))

with tabs[6]:
    if tabs[6].open:
        ids = [r["id"] for r in timing_runs]
        if len(ids) < 2:
            st.info("Comparing needs two benchmark runs.")
        else:
            left, right = st.columns(2)
            run_a = left.selectbox(
                "Baseline run", ids, index=1, format_func=run_label, key="bench_a"
            )
            run_b = right.selectbox(
                "Compared run", ids, index=0, format_func=run_label, key="bench_b"
            )
            comparison = data.compare_runs(path, int(run_a), int(run_b))
            for warning in comparison["warnings"]:
                st.warning(f"Environments differ: {md_text(warning)}")
            changes = pd.DataFrame(comparison["changes"])
            only_diff = st.toggle("Only what differs", value=True, key="bench_only_diff")
            if only_diff and not changes.empty:
                changes = changes[changes["verdict"] != "unchanged"]
            if changes.empty:
                st.success("No configuration changed beyond 7 % and the measured noise.")
            else:
                colours = {
                    "regression": "background-color: #f8d0d0",
                    "improvement": "background-color: #d4f0d4",
                }
                st.dataframe(
                    changes.style.apply(
                        lambda row: [colours.get(row["verdict"], "")] * len(row), axis=1
                    ).format(precision=3, na_rep="—"),
                    hide_index=True,
                )
                regressions = int((changes["verdict"] == "regression").sum())
                st.caption(
                    f"{regressions} regression(s): slower by more than 7 % and more than the"
                    " larger IQR of the two runs."
                )

with tabs[7]:
    if tabs[7].open:
        show_machines()

if peak is not None:
    st.caption(
        f"Peak {peak['gflops']:.1f} GFLOP/s measured {peak['measured_at']}."
        f" Fastest shown: {fmt_ms(frame['latency_p50'].min()) if not frame.empty else '—'}."
    )
