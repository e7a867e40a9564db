"""Every dashboard page under Streamlit's AppTest, against real, empty and hostile databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner
from dashboard_fixtures import (
    HOSTILE_AUTHOR,
    HOSTILE_TITLES,
    build_empty,
    build_fleet,
    build_hostile,
    build_real,
    machine_labels,
    write_digest,
)
from streamlit.testing.v1 import AppTest

from dashboard.serve import streamlit_command
from dashboard.views import PAGES
from dlradar.cli import cli as dlradar_main
from dlradar.database import open_db
from tracker.query import PaperFilter, count_papers

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGE_NAMES = [name for name, _, _ in PAGES]
TITLES = {name: title for name, title, _ in PAGES}


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dashboard")
    return {
        "real": build_real(root / "real.db"),
        "empty": build_empty(root / "empty.db"),
        "hostile": build_hostile(root / "hostile.db", root),
    }


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # Run from an empty directory (no dlradar.toml, no data/) and start every test uncached.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLRADAR_DIGEST_DIRECTORY", str(tmp_path / "digests"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(
    page: str, db: Path, monkeypatch: pytest.MonkeyPatch, query: dict[str, str] | None = None
) -> AppTest:
    monkeypatch.setenv("DLRADAR_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    if page == "overview":
        at.run()
    else:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title][:1] == [TITLES[page] if page != "overview" else "dlradar"]
    return at


def texts(at: AppTest) -> str:
    """Everything shown as text: st.text, captions, info boxes, markdown, dataframes."""
    parts = [e.value for e in (*at.text, *at.caption, *at.info, *at.markdown, *at.success)]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_renders_real_data(
    page: str, dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_digest(tmp_path / "digests")
    at = open_page(page, dbs["real"], monkeypatch)
    assert not at.error
    if page in ("overview", "papers", "roadmap"):
        assert at.dataframe, "expected a table"
    if page == "digests":
        assert "weekly digest" in texts(at)
        assert at.get("download_button")


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_guides_on_an_empty_database(
    page: str, dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(page, dbs["empty"], monkeypatch)
    shown = texts(at)
    if page in ("overview", "papers", "trends", "radar"):
        assert "dlradar run" in shown or "dlradar import" in shown
    if page in ("overview", "benchmarks"):
        assert "dlradar bench run --quick" in shown
    if page == "digests":
        assert "No digest" in shown


def test_overview_counts_match_the_database(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_db(dbs["real"])
    total = db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    db.conn.close()
    at = open_page("overview", dbs["real"], monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Papers"] == f"{total:,}"
    assert metrics["Measured FP32 peak"].endswith("GFLOP/s")
    sources = at.dataframe[0].value
    assert "catalogue" in set(sources["source"])


def test_papers_filter_comes_from_the_url_and_goes_back_to_it(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("papers", dbs["real"], monkeypatch, {"family": "cnn", "year_from": "2020"})
    assert at.multiselect(key="papers_family").value == ["cnn"]
    table = at.dataframe[0].value
    assert len(table) > 0
    assert all("cnn" in families.split(", ") for families in table["families"])
    db = open_db(dbs["real"])
    expected = count_papers(db, PaperFilter(families=("cnn",), year_from=2020))
    db.conn.close()
    assert f"{expected:,} papers match" in texts(at)

    at.multiselect(key="papers_family").set_value(["cnn", "gan"]).run()
    assert at.query_params["family"] in ("cnn,gan", ["cnn,gan"])
    at.text_input(key="papers_q").set_value("segmentation").run()
    assert not at.exception
    assert "segmentation" in str(at.query_params["q"])


def test_paper_detail_shows_families_evidence_and_similar_papers(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("papers", dbs["real"], monkeypatch, {"family": "lstm"})
    first = int(at.dataframe[0].value["id"].iloc[0])
    at.selectbox(key="papers_detail").set_value(first).run()
    assert not at.exception
    assert str(at.query_params["paper"]).strip("[]'") == str(first)
    evidence = at.dataframe[1].value
    assert "lstm" in set(evidence["family"])
    assert all(isinstance(words, str) for words in evidence["evidence"])


def test_hostile_text_stays_literal(dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page("papers", dbs["hostile"], monkeypatch)
    table = at.dataframe[0].value
    assert set(HOSTILE_TITLES) <= set(table["title"])
    assert None in set(table["pdf_url"]) or table["pdf_url"].isna().any()  # javascript: dropped
    for element in at.markdown:
        assert "<script>" not in element.value and "evil" not in element.value
    hostile_id = int(table[table["title"] == HOSTILE_TITLES[0]]["id"].iloc[0])
    at.selectbox(key="papers_detail").set_value(hostile_id).run()
    assert not at.exception
    shown = [t.value for t in at.text]
    assert HOSTILE_TITLES[0] in shown
    # The venue goes into a caption, which renders Markdown: it arrives escaped, as text.
    captions = " ".join(c.value for c in at.caption)
    assert "\\*\\*BOLD\\*\\*" in captions and "\\!\\[p\\]" in captions
    assert "](https://evil" not in captions
    assert any(HOSTILE_AUTHOR in value for value in shown)
    for page in ("overview", "trends", "radar", "roadmap"):
        assert not open_page(page, dbs["hostile"], monkeypatch).exception


def test_trends_links_a_family_to_the_papers_page(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("trends", dbs["real"], monkeypatch)
    at.selectbox(key="trends_family").set_value("cnn").run()
    links = [link.proto for link in at.get("page_link")]
    assert [(link.page, link.query_string) for link in links] == [("papers", "family=cnn")]
    assert len(at.get("plotly_chart")) == 2  # family shares, venues by year
    at.segmented_control(key="trends_period").set_value("month").run()
    assert not at.exception


def test_benchmarks_show_conditions_comparison_and_the_run_button(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("benchmarks", dbs["real"], monkeypatch)
    assert at.button(key="bench_run_quick").label == "Run quick benchmark"
    timings = at.dataframe[0].value
    for column in ("device", "threads", "batch_size", "latency_count", "shapes"):
        assert timings[column].notna().all(), column
    shown = texts(at)
    assert "fixture: exporter failed" in shown  # failed configurations are listed with reasons
    # Only the open tab runs: the latency chart, none of the other tabs' charts.
    assert len(at.get("plotly_chart")) == 1
    assert "regression" not in shown
    charts = 0
    for tab in [t.label for t in at.tabs][1:]:
        opened = open_page("benchmarks", dbs["real"], monkeypatch, {"tab": tab})
        assert opened.session_state["tab"] == tab
        charts += len(opened.get("plotly_chart"))
        if tab == "Compare runs":  # the fixture's second run is 1.5x slower on lstm
            assert "regression" in texts(opened)
    assert charts >= 4


def test_radar_puts_share_next_to_measurements(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("radar", dbs["real"], monkeypatch)
    table = at.dataframe[0].value.set_index("family")
    assert table.loc["cnn", "papers"] > 0
    # cnn's canonical model (resnet50) was not measured: said so, not filled by LeNet-5...
    assert table.loc["cnn", "canonical model"] == "resnet50"
    assert table.loc["cnn", "p50 (ms)"] == "not measured"
    assert "--model resnet50" in table.loc["cnn", "why not measured"]
    assert "lenet5 (full)" in table.loc["cnn", "fastest measured (any model)"]
    # ...while lstm's is, at batch 1 and 1 thread: the latest run's median, as stored.
    assert table.loc["lstm", "canonical model"] == "lstm"
    assert float(table.loc["lstm", "p50 (ms)"]) > 0
    assert table.loc["lstm", "quality"].endswith("accuracy (lstm, small)")
    assert "None" not in table.to_string()
    assert every_family_listed(table.index)


def test_machines_side_by_side_and_the_radar_of_one_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = build_fleet(tmp_path / "fleet.db")
    alpha, beta = machine_labels()
    at = open_page("benchmarks", db, monkeypatch, {"tab": "Machines"})
    side = next(df.value for df in at.dataframe if f"{alpha}" in df.value.columns)
    assert beta in side.columns and len(side) == 4  # lenet5 and lstm, both backends
    assert (side[beta] < side[alpha]).all()  # the fixture's beta is the faster machine
    at = open_page("radar", db, monkeypatch)

    def lstm_p50(app: AppTest) -> float:
        return float(app.dataframe[0].value.set_index("family").loc["lstm", "p50 (ms)"])

    everywhere = lstm_p50(at)
    at.selectbox(key="radar_machine").select(alpha).run()
    assert not at.exception
    assert lstm_p50(at) > everywhere  # alpha's own, slower figure instead of beta's latest


def every_family_listed(families: object) -> bool:
    from core.families import families as taxonomy

    return set(taxonomy()) <= set(families)  # type: ignore[call-overload]


def test_dashboard_command_help_and_serve_command() -> None:
    result = CliRunner().invoke(dlradar_main, ["dashboard", "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output and "Examples" in result.output
    command = streamlit_command("127.0.0.1", 8501)
    assert command[command.index("--server.port") + 1] == "8501"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    # Streamlit's own command line, behind the module that imports what pages need first.
    assert command[1:4] == ["-m", "dashboard.server", "run"] and command[4].endswith("app.py")


def test_quick_benchmark_button_runs_the_bench_library_with_live_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real runner on its tiniest configuration: one small model, PyTorch only.
    from bench import runner
    from bench.timing import TimingConfig

    tiny = runner.RunConfig(
        models=("mlp",),
        backends=("torch",),
        size="small",
        profile="quick",
        timing=TimingConfig(warmup=1, min_iterations=3, min_time_s=0.01, max_time_s=0.5),
    )
    monkeypatch.setattr(runner, "profile_config", lambda profile, **_: tiny)
    db_path = build_empty(tmp_path / "bench.db")
    at = open_page("benchmarks", db_path, monkeypatch)
    at.button(key="bench_run_quick").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(t.value for t in at.text)
    assert "mlp torch cpu batch=1" in shown, shown
    assert at.status[0].label.startswith("benchmark run ")  # the run's summary
    db = open_db(db_path)
    rows = db.execute("SELECT model, backend, status FROM bench_results").fetchall()
    db.conn.close()
    assert rows == [("mlp", "torch", "ok")]


def test_papers_ranked_by_saved_interests(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "dlradar.toml").write_text('[interests]\nkeywords = ["segmentation"]\n')
    at = open_page("papers", dbs["real"], monkeypatch, {"interests": "1"})
    table = at.dataframe[0].value
    assert len(table) > 0
    assert "not available" not in texts(at)
    assert all('"segmentation"' in reason for reason in table["reason"])


def test_roadmap_shows_the_radar_figures_at_the_reference_configuration(
    dbs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # It showed the newest row per model and backend, whatever its batch or threads.
    from dashboard.radar import ReferenceConfig, headline, radar_table

    at = open_page("roadmap", dbs["real"], monkeypatch)
    assert "**Reference models** (measured at batch 1, 1 thread, cpu)" in [
        m.value for m in at.markdown
    ]
    tables = [t.value for t in at.dataframe if "p50 torch (ms)" in t.value.columns]
    assert tables
    rows = {row["model"]: row for table in tables for row in table.to_dict("records")}
    db = open_db(dbs["real"])
    radar = {row["family"]: row for row in radar_table(db, [("lenet5", "cnn")])}
    for backend in ("torch", "onnxruntime"):
        head = headline(radar["cnn"], ReferenceConfig(), backend, "lenet5")
        assert head.result is not None
        assert rows["lenet5"][f"p50 {backend} (ms)"] == f"{head.result['p50_ms']:.3f}"
    for row in rows.values():  # every cell says something: a figure or why there is none
        assert all(isinstance(v, str) and v and v != "None" for v in row.values()), row
