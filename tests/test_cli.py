"""The console command: documentation of every command, formats, exit codes, config."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dlradar.cli import cli
from dlradar.database import open_db

DESIGN_PAPER_FIELDS = {
    "id", "arxiv_id", "doi", "title", "authors", "abstract", "venue", "year", "published",
    "categories", "url", "pdf_url", "sources", "families",
}  # fmt: skip


def _walk(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    # Through list_commands/get_command: the top group loads its subcommands lazily.
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, f"`dlradar {prefix}{name}` is listed but cannot be loaded"
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _walk(command, f"{prefix}{name} ")
    return found


def test_every_command_is_documented_with_an_example(runner: CliRunner) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    commands = _walk(cli)
    assert len(commands) > 20  # the walk reached every command and the groups' subcommands
    for name, command in commands:
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert command.help, f"`dlradar {name}` has no help text"
        if not isinstance(command, click.Group) or not command.commands:
            assert "Example" in result.output, f"`dlradar {name} --help` shows no example"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"`dlradar {name} {param.opts[0]}` has no help"
        if " " not in name:
            assert f"dlradar {name}" in readme, f"README does not document `dlradar {name}`"


def test_every_command_takes_db(runner: CliRunner, tmp_path: Path) -> None:
    """design.md: `--db PATH` on every command, so a new command without it fails here."""
    leaves = [(n, c) for n, c in _walk(cli) if not isinstance(c, click.Group)]
    assert len(leaves) > 20  # the walk reached the subcommands of the groups
    missing = [
        name
        for name, command in leaves
        if not any(isinstance(p, click.Option) and "--db" in p.opts for p in command.params)
    ]
    assert missing == [], f"commands without --db: {missing}"
    db = ["--db", str(tmp_path / "x.db")]
    result = runner.invoke(cli, ["classify", "Graph Attention Networks", "--format", "json", *db])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["families"] == ["gnn"]


def test_papers_jsonl_has_the_contract_fields(
    runner: CliRunner, real: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "x.db")
    files = [str(p) for p in sorted((real / "arxiv_daily_jsonl").glob("*.jsonl"))]
    result = runner.invoke(cli, ["import", *files, "--db", db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["papers", "--db", db, "--format", "jsonl", "--limit", "3"])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 3
    for paper in lines:
        assert paper.keys() >= DESIGN_PAPER_FIELDS
        assert isinstance(paper["authors"], list) and isinstance(paper["categories"], list)
        assert paper["sources"] == ["jsonl"]
    result = runner.invoke(cli, ["papers", "--db", db, "--limit", "0", "--format", "csv"])
    assert len(result.output.splitlines()) > 1118  # header + rows (abstract-free columns)
    # json: the same papers as jsonl, in the same order, with the same fields.
    result = runner.invoke(cli, ["papers", "--db", db, "--format", "json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == lines
    # table: a header of the listing's columns, a rule, then one line per paper, in order.
    result = runner.invoke(
        cli, ["papers", "--db", db, "--format", "table", "--limit", "3"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    header, rule, *body = result.output.splitlines()
    assert header.split() == ["id", "published", "venue", "families", "title", "authors"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert len(body) == 3
    for line, paper in zip(body, lines, strict=True):
        assert line.split()[:2] == [str(paper["id"]), paper["published"]]
        assert paper["title"][:30] in line
        assert paper["authors"][0] in line


def test_failures_exit_1_with_one_line_and_usage_errors_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = str(tmp_path / "x.db")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a paper file")
    result = runner.invoke(cli, ["import", str(bad), "--db", db])
    assert result.exit_code == 1
    assert "bad.txt: not a format dlradar reads" in result.output
    result = runner.invoke(cli, ["paper", "9999.99999", "--db", db])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no paper '9999.99999' in the database"
    assert runner.invoke(cli, ["papers", "--year", "twenty"]).exit_code == 2
    assert runner.invoke(cli, ["papers", "--format", "xml"]).exit_code == 2


def test_db_resolution_env_and_default(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(cli, ["config", "show", "--format", "json"])
    rows = {r["setting"]: r for r in json.loads(result.output)}
    assert rows["database"]["value"] == str(tmp_path / "data" / "dlradar.db")
    monkeypatch.setenv("DLRADAR_DB", str(tmp_path / "env.db"))
    rows = {
        r["setting"]: r
        for r in json.loads(runner.invoke(cli, ["config", "show", "--format", "json"]).output)
    }
    assert rows["database"] == {
        "setting": "database",
        "value": str(tmp_path / "env.db"),
        "origin": "env DLRADAR_DB",
    }


def test_config_precedence(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dlradar.toml").write_text(
        '[arxiv]\ndays = 3\ncategories = ["cs.LG"]\n[smtp]\nport = 25\n'
    )
    monkeypatch.setenv("DLRADAR_SMTP_PORT", "2525")
    monkeypatch.setenv("DLRADAR_SMTP_PASSWORD", "hunter2")
    result = runner.invoke(cli, ["config", "show", "--format", "json"])
    rows = {r["setting"]: r for r in json.loads(result.output)}
    assert rows["arxiv.days"]["value"] == 3 and rows["arxiv.days"]["origin"].startswith("file")
    assert rows["arxiv.page_size"]["origin"] == "default"
    assert rows["smtp.port"] == {
        "setting": "smtp.port",
        "value": 2525,
        "origin": "env DLRADAR_SMTP_PORT",
    }
    assert rows["smtp.password"]["value"] == "(set)"
    assert "hunter2" not in result.output
    (tmp_path / "dlradar.toml").write_text("[smtp]\npassword = 'x'\n")
    result = runner.invoke(cli, ["config", "show"])
    assert result.exit_code == 1
    assert "secret: set DLRADAR_SMTP_PASSWORD instead" in result.output


def test_offline_run_loads_the_catalogue(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["run", "--offline", "--no-bench", "--no-dashboard"])
    assert result.exit_code == 0, result.output
    assert "[2/7] landmark catalogue" in result.output
    assert (tmp_path / "data" / "dlradar.db").exists()
    result = runner.invoke(
        cli, ["papers", "--curated", "--family", "cnn", "--format", "json", "--limit", "0"]
    )
    titles = {p["title"] for p in json.loads(result.output)}
    assert "Deep Residual Learning for Image Recognition" in titles
    assert "Semi-Supervised Classification with Graph Convolutional Networks" not in titles


def test_the_run_benchmarks_with_the_configured_threads(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `bench run` read [bench] threads; the main job's quick benchmark ignored them.
    import bench.runner

    asked: list[object] = []
    monkeypatch.setattr(
        bench.runner, "run_quick_profile", lambda db, say, threads: asked.append(threads) or "ok"
    )
    (tmp_path / "dlradar.toml").write_text("[bench]\nthreads = [2]\n")
    result = runner.invoke(cli, ["run", "--offline", "--no-dashboard"])
    assert result.exit_code == 0, result.output
    assert asked == [(2,)]


def test_papers_ranked_by_saved_interests(runner: CliRunner, real: Path, tmp_path: Path) -> None:
    (tmp_path / "dlradar.toml").write_text('[interests]\nkeywords = ["mixture of experts"]\n')
    db = str(tmp_path / "x.db")
    files = [str(p) for p in sorted((real / "arxiv_daily_jsonl").glob("*.jsonl"))]
    assert runner.invoke(cli, ["import", *files, "--db", db]).exit_code == 0
    result = runner.invoke(
        cli, ["papers", "--interests", "--db", db, "--format", "json", "--limit", "5"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows, "some of the real 2025 papers are about mixture of experts"
    assert all('"mixture of experts"' in row["reason"] for row in rows)
    scores = [row["interest_score"] for row in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_database_path_that_cannot_hold_a_database_is_a_one_line_error(
    runner: CliRunner,
) -> None:
    # SQLite opens /dev/null, then fails on the first write (the schema): no traceback.
    result = runner.invoke(cli, ["papers", "--db", "/dev/null"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: cannot open database /dev/null: ")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", [["papers"], ["trends"], ["trends", "--growth"], ["bench", "models"]]
)
def test_an_unknown_family_is_a_usage_error_not_an_empty_result(
    runner: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    db = ["--db", str(tmp_path / "x.db")] if command[0] != "bench" else []
    result = runner.invoke(cli, [*command, "--family", "transformers", *db])
    assert result.exit_code == 2, result.output
    assert "unknown family 'transformers'" in result.output
    assert "transformer" in result.output.rsplit("the families are", 1)[1]


def test_an_unknown_family_in_the_config_is_a_one_line_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "dlradar.toml").write_text('[interests]\nfamilies = ["transformers"]\n')
    open_db(tmp_path / "x.db").conn.close()
    result = runner.invoke(cli, ["papers", "--interests", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1
    assert "interests.families: unknown family 'transformers'; the families are" in result.output


def test_family_ids_are_not_case_sensitive(runner: CliRunner, tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "x.db")]
    assert runner.invoke(cli, ["catalogue", "--load", *db]).exit_code == 0
    result = runner.invoke(cli, ["papers", "--curated", "--family", "CNN", "--format", "json", *db])
    assert result.exit_code == 0, result.output
    titles = {p["title"] for p in json.loads(result.output)}
    assert "Deep Residual Learning for Image Recognition" in titles


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["arxiv", "--days", "-3"], "--days"),
        (["arxiv", "--days", "0"], "--days"),
        (["arxiv", "--max-results", "0"], "--max-results"),
        (["arxiv", "--start", "2025-02-01", "--end", "2025-01-01"], "is after --end"),
        (["arxiv", "--start", "2025-01-01", "--days", "3"], "give one"),
        (["arxiv-oai", "--from", "2025-02-01", "--until", "2025-01-01"], "is after --until"),
        (["neurips", "--year", "2023", "--limit", "0"], "--limit"),
    ],
)
def test_fetch_refuses_an_empty_or_reversed_window_before_any_request(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    from tracker import fetching

    def no_request(*_: object, **__: object) -> None:
        raise AssertionError("fetched although the options were invalid")

    monkeypatch.setattr(fetching, "fetch_source", no_request)
    result = runner.invoke(cli, ["fetch", *args, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    "args",
    [["--year", "2024-2020"], ["--since", "2025-02-01", "--until", "2025-01-01"]],
)
def test_papers_reversed_ranges_are_usage_errors(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    # They selected nothing, which looked like an empty database.
    result = runner.invoke(cli, ["papers", *args, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2, result.output
    assert "reversed" in result.output or "is after --until" in result.output


def test_fetch_icml_takes_a_pmlr_volume_as_the_year_error_advises(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "ICML 2026 has no known PMLR volume ...; pass the volume number instead" needs a way to.
    from tracker import fetching

    asked: list[dict[str, object]] = []

    def record(
        db: object, name: str, settings: object, *, options: dict[str, object], **_: object
    ) -> None:
        scope = fetching.LIVE_SOURCES[name].scope(options)
        asked.append({"name": name, "scope": scope, **options})
        raise click.ClickException("stop")

    monkeypatch.setattr(fetching, "fetch_source", record)
    db = ["--db", str(tmp_path / "x.db")]
    runner.invoke(cli, ["fetch", "icml", "--volume", "267", *db])
    assert asked == [{"name": "icml", "scope": "PMLR v267", "volume": 267}]
    for args in ([], ["--year", "2025", "--volume", "267"]):
        result = runner.invoke(cli, ["fetch", "icml", *args, *db])
        assert result.exit_code == 2 and "either --year or --volume" in result.output


@pytest.mark.parametrize("command", ["papers", "runs"])
def test_a_negative_limit_is_a_usage_error_not_all_rows(
    runner: CliRunner, tmp_path: Path, command: str
) -> None:
    result = runner.invoke(cli, [command, "--limit", "-5", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2, result.output
    assert "--limit" in result.output
