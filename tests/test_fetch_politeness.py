"""The politeness actually used: `dlradar fetch` spaces arXiv requests by the configured delay.

The client's own default (3 s) is pinned in test_http.py; these tests pin the configuration's
default and check that the code path of `dlradar fetch arxiv` builds its client from it, on a
fake clock (the gaps are exact, no wall-clock timing).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_clock import FakeTime, SpacingRecorder
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.config import DEFAULTS, load_settings
from dlradar.cli import cli
from tracker import fetching
from tracker.http import PoliteClient


def test_the_default_arxiv_delay_is_three_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no dlradar.toml here
    for name in [n for n in os.environ if n.startswith("DLRADAR_")]:
        monkeypatch.delenv(name)
    assert DEFAULTS["arxiv"]["delay_seconds"] == 3.0
    settings = load_settings()
    assert settings.get("arxiv", "delay_seconds") == 3.0
    assert settings.origins["arxiv"]["delay_seconds"] == "default"
    assert fetching.polite_client(settings).min_interval == 3.0


@pytest.mark.parametrize(("configured", "expected"), [(None, 3.0), (7, 7.0)])
def test_fetch_arxiv_spaces_its_requests_by_the_configured_delay(
    runner: CliRunner,
    tmp_path: Path,
    real: Path,
    recorded_server: RecordedServer,
    monkeypatch: pytest.MonkeyPatch,
    configured: int | None,
    expected: float,
) -> None:
    for name in [n for n in os.environ if n.startswith("DLRADAR_")]:
        monkeypatch.delenv(name)
    api = real / "arxiv_api"
    page0 = api / "arxivpy_fixture__q_testing_s0_m10_bc5a6c384fe9.body.xml"
    page1 = api / "arxivpy_fixture__q_testing_s10_m10_34e56e15aaac.body.xml"
    recorded_server.route("/api/query", Reply.file(page0), query={"start": "0"})
    recorded_server.route("/api/query", Reply.file(page1), query={"start": "10"})
    config = "[arxiv]\npage_size = 10\n"
    if configured is not None:
        config += f"delay_seconds = {configured}\n"
    (tmp_path / "dlradar.toml").write_text(config, encoding="utf-8")

    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    built: list[PoliteClient] = []

    def client_on_fake_time(**kw: Any) -> PoliteClient:
        # The fetch code chooses every argument; only time is faked.
        client = PoliteClient(sleep=fake.sleep, clock=fake.clock, wall_clock=fake.wall_clock, **kw)
        built.append(client)
        return recorder.attach(client)

    monkeypatch.setattr(fetching, "PoliteClient", client_on_fake_time)
    live = fetching.fetch_source

    def at_the_recorded_server(*args: Any, options: dict[str, Any], **kw: Any) -> Any:
        assert "client" not in options  # the client is built by fetch_source from the settings
        options["base_url"] = recorded_server.url_for("/api/query")
        return live(*args, options=options, **kw)

    monkeypatch.setattr(fetching, "fetch_source", at_the_recorded_server)
    args = ["fetch", "arxiv", "--start", "2025-01-01", "--end", "2025-01-08"]
    result = runner.invoke(cli, [*args, "--max-results", "20", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert [r.query["start"] for r in recorded_server.requests] == ["0", "10"]
    assert len(built) == 1 and built[0].min_interval == expected
    assert recorder.gaps() == [expected]  # page 1 started exactly the delay after page 0
    assert fake.sleeps == [expected]
