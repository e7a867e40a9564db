"""PoliteClient against the scripted local server: spacing, identity, retries, faults."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from fake_clock import FakeTime, SpacingRecorder, fake_client
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core import __version__
from core.errors import FetchError
from tracker.http import CONTACT_URL, PoliteClient, RetryPolicy, parse_retry_after


def test_user_agent_names_dlradar_version_and_contact(recorded_server: RecordedServer) -> None:
    recorded_server.route("/ping", Reply.text("pong"))
    with PoliteClient(min_interval=0) as client:
        assert client.get(recorded_server.url_for("/ping")).text == "pong"
    agent = recorded_server.requests[0].headers["User-Agent"]
    assert agent.startswith(f"dlradar/{__version__} ")
    assert CONTACT_URL in agent


@pytest.mark.parametrize(("request_seconds", "expected_sleeps"), [(0.0, 0.4), (0.1, 0.3)])
def test_minimum_interval_between_requests_is_honoured(
    recorded_server: RecordedServer, request_seconds: float, expected_sleeps: float
) -> None:
    # On a fake clock: request starts on one host are spaced by exactly the interval, whatever
    # the path, and the time a request took counts towards it.
    interval = 0.4
    recorded_server.route("/a", Reply.text("a"), repeat_last=True)
    recorded_server.route("/b", Reply.text("b"), repeat_last=True)
    fake = FakeTime()
    recorder = SpacingRecorder(fake, request_seconds=request_seconds)
    with recorder.attach(fake_client(fake, min_interval=interval)) as client:
        for path in ["/a", "/b", "/a", "/b"]:
            client.get(recorded_server.url_for(path))
    assert len(recorded_server.requests) == 4
    assert recorder.gaps() == pytest.approx([interval] * 3)
    assert fake.sleeps == pytest.approx([expected_sleeps] * 3)
    assert client.waits == fake.sleeps


def test_no_pause_when_the_interval_has_already_passed(recorded_server: RecordedServer) -> None:
    recorded_server.route("/a", Reply.text("a"), repeat_last=True)
    fake = FakeTime()
    recorder = SpacingRecorder(fake, request_seconds=5.0)  # slower than the 3 s interval
    client = recorder.attach(fake_client(fake))
    for _ in range(3):
        client.get(recorded_server.url_for("/a"))
    assert fake.sleeps == []
    assert recorder.gaps() == [5.0, 5.0]


def test_default_interval_is_three_seconds_even_after_a_shorter_backoff(
    recorded_server: RecordedServer,
) -> None:
    fake = FakeTime()
    recorded_server.route("/x", [Reply(status=503), Reply.text("ok")])
    client = fake_client(fake, policy=RetryPolicy(backoff_base_s=1.0))
    assert client.get(recorded_server.url_for("/x")).text == "ok"
    # 1 s backoff, then 2 s more so that the retry starts 3 s after the first request.
    assert fake.sleeps == [1.0, 2.0]
    assert client.min_interval == 3.0


def test_429_with_retry_after_seconds_waits_then_succeeds(recorded_server: RecordedServer) -> None:
    recorded_server.route(
        "/q", [Reply(status=429, headers={"Retry-After": "1"}), Reply.text("done")]
    )
    fake = FakeTime()
    recorder = SpacingRecorder(fake)
    with recorder.attach(fake_client(fake, min_interval=0.05)) as client:
        assert client.get(recorded_server.url_for("/q")).text == "done"
    assert fake.sleeps == [1.0]  # the server's Retry-After, which covers the interval too
    assert client.waits == [1.0]
    assert recorder.gaps() == [1.0]
    assert [r.path for r in recorded_server.requests] == ["/q", "/q"]


def test_retry_after_http_date_is_honoured(recorded_server: RecordedServer) -> None:
    fake = FakeTime()
    when = datetime.fromtimestamp(fake.wall + 120, tz=UTC)
    recorded_server.route(
        "/q",
        [Reply(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}), Reply()],
    )
    fake_client(fake).get(recorded_server.url_for("/q"))
    assert fake.sleeps == [120.0]


def test_retry_after_beyond_the_cap_fails_at_once(recorded_server: RecordedServer) -> None:
    fake = FakeTime()
    recorded_server.route("/q", Reply(status=429, headers={"Retry-After": "3600"}))
    client = fake_client(fake, policy=RetryPolicy(retry_after_cap_s=60))
    with pytest.raises(
        FetchError, match=r"HTTP 429 asks to retry after 3600 s .*more than the 60 s"
    ):
        client.get(recorded_server.url_for("/q"))
    assert len(recorded_server.requests) == 1
    assert fake.sleeps == []


def test_503_exhausted_raises_a_one_line_fetch_error(recorded_server: RecordedServer) -> None:
    fake = FakeTime()
    recorded_server.route("/api/query", Reply(status=503), repeat_last=True)
    client = fake_client(fake, min_interval=0, policy=RetryPolicy(retries=3, backoff_base_s=2))
    url = recorded_server.url_for("/api/query")
    with pytest.raises(FetchError) as caught:
        client.get(url, params={"search_query": "cat:cs.LG AND ti:x+y", "start": "0"})
    message = str(caught.value)
    assert "\n" not in message
    # The query is shown decoded, so that a reader sees what was asked.
    assert (
        f"GET {url}?search_query=cat:cs.LG AND ti:x+y&start=0 failed after 4 attempts: "
        "HTTP 503 Service Unavailable"
    ) in message
    assert message.endswith("HTTP 503 Service Unavailable")  # the same each time: said once
    assert len(recorded_server.requests) == 4
    assert fake.sleeps == [2.0, 4.0, 8.0]  # exponential backoff (jitter source fixed at 0)


def test_backoff_jitter_and_cap() -> None:
    policy = RetryPolicy(backoff_base_s=2, backoff_max_s=10, jitter=0.5)
    assert policy.backoff(1, 0.0) == 2.0
    assert policy.backoff(1, 1.0) == 3.0
    assert policy.backoff(5, 0.0) == 10.0


def test_connection_dropped_mid_body_then_success(recorded_server: RecordedServer) -> None:
    body = b"<feed>" + b"x" * 5000 + b"</feed>"
    recorded_server.route("/f", [Reply.truncated(body, keep=100), Reply(body=body)])
    fake = FakeTime()
    response = fake_client(fake, min_interval=0).get(recorded_server.url_for("/f"))
    assert response.content == body
    assert len(recorded_server.requests) == 2


def test_connection_closed_without_reply_then_success(recorded_server: RecordedServer) -> None:
    recorded_server.route("/f", [Reply.disconnect(), Reply.text("ok")])
    fake = FakeTime()
    assert fake_client(fake, min_interval=0).get(recorded_server.url_for("/f")).text == "ok"
    assert len(fake.sleeps) == 1


def test_timeout_is_retried_then_reported(recorded_server: RecordedServer) -> None:
    recorded_server.route("/slow", Reply(delay=0.6), repeat_last=True)
    fake = FakeTime()
    client = fake_client(fake, min_interval=0, timeout=0.2, policy=RetryPolicy(retries=1))
    with pytest.raises(FetchError, match=r"failed after 2 attempts: timed out \(\w+\)$"):
        client.get(recorded_server.url_for("/slow"))


def test_client_errors_are_not_retried(recorded_server: RecordedServer) -> None:
    fake = FakeTime()
    client = fake_client(fake)
    with pytest.raises(FetchError, match=r"GET .*/missing failed: HTTP 404 Not Found$"):
        client.get(recorded_server.url_for("/missing"))
    assert len(recorded_server.requests) == 1


def test_allowed_error_status_is_returned(recorded_server: RecordedServer) -> None:
    recorded_server.route("/api", Reply(status=400, body=b"<feed/>"))
    response = fake_client(FakeTime()).get(recorded_server.url_for("/api"), allow_statuses={400})
    assert response.status_code == 400


def test_parse_retry_after() -> None:
    assert parse_retry_after("7", 0.0) == 7.0
    assert parse_retry_after(None, 0.0) is None
    assert parse_retry_after("soon", 0.0) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0


def test_unreachable_host_fails_fast_with_a_clear_message() -> None:
    # A port nobody listens on: what an offline machine or a stopped service looks like.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeTime()
    url = f"http://127.0.0.1:{port}/api/query"
    with pytest.raises(FetchError) as caught:
        fake_client(fake).get(url)
    message = str(caught.value)
    # One short line: what failed, where, and why in a few words (urllib3's text was 300 chars).
    assert message == f"GET {url} failed after 2 attempts: 127.0.0.1:{port} refused the connection"
    assert fake.sleeps == [2.0, 1.0]  # one backoff, then the rest of the 3 s interval


def test_a_name_that_does_not_resolve_is_said_in_a_few_words() -> None:
    # What an offline machine sees for every service: the message was 300 characters of
    # urllib3's repr with the host named three times.
    fake = FakeTime()
    url = "http://dlradar-no-such-host.invalid/api/query"
    with pytest.raises(FetchError) as caught:
        fake_client(fake).get(url)
    assert str(caught.value) == (
        f"GET {url} failed after 2 attempts:"
        " cannot resolve dlradar-no-such-host.invalid (no network or DNS?)"
    )
