"""PoliteClient's smaller promises, pinned one by one (#21: tests that fail when a contract breaks).

What a caller reads (the failure message and its list of attempts, the retry log line, the body
as text), which statuses are errors, the boundaries of the interval, the size cap, the deadline
and Retry-After, and the wording of each transport failure. Time is faked (tests/fake_clock.py).
"""

from __future__ import annotations

import gzip
import logging
import types
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests
import urllib3
from fake_clock import FakeTime, SpacingRecorder, fake_client
from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

from core.errors import FetchError
from tracker import http
from tracker.http import (
    USER_AGENT,
    PoliteClient,
    RetryPolicy,
    _connect_failure,
    _content_length,
    _describe_transport_error,
    _first_line,
    parse_retry_after,
    readable_url,
    response_text,
)

# -- what a caller is told ----------------------------------------------------------------------


def test_the_client_keeps_its_user_agent() -> None:
    client = PoliteClient(min_interval=0)
    assert client.user_agent == USER_AGENT
    assert client.session.headers["User-Agent"] == USER_AGENT


def test_a_failure_of_two_kinds_lists_its_attempts(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", [Reply(status=503), Reply.disconnect()])
    client = fake_client(FakeTime(), min_interval=0, policy=RetryPolicy(retries=1))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    message = str(caught.value)
    assert message.startswith(f"GET {recorded_server.url_for('/x')} failed after 2 attempts: ")
    assert message.endswith(" (attempts: HTTP 503, connection failed)")


def test_three_attempts_of_two_kinds_name_each_attempt(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", [Reply(status=502), Reply(status=502), Reply(status=503)])
    client = fake_client(FakeTime(), min_interval=0, policy=RetryPolicy(retries=2))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    assert str(caught.value).endswith(
        "failed after 3 attempts: HTTP 503 Service Unavailable"
        " (attempts: HTTP 502, HTTP 502, HTTP 503)"
    )


def test_a_client_error_after_a_retry_lists_the_attempts(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", [Reply(status=503), Reply.disconnect(), Reply(status=404)])
    client = fake_client(FakeTime(), min_interval=0, policy=RetryPolicy(retries=3))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    assert str(caught.value) == (
        f"GET {recorded_server.url_for('/x')} failed: HTTP 404 Not Found"
        " (attempts: HTTP 503, connection failed)"
    )


def test_each_retry_is_logged_with_reason_url_and_wait(
    recorded_server: RecordedServer, caplog: pytest.LogCaptureFixture
) -> None:
    recorded_server.route("/x", [Reply(status=503), Reply.text("ok")])
    url = recorded_server.url_for("/x")
    with caplog.at_level(logging.WARNING, logger="tracker.http"):
        fake_client(FakeTime(), min_interval=0).get(url)
    assert [r.getMessage() for r in caplog.records] == [
        f"HTTP 503 Service Unavailable from {url}; retrying in 2.0 s"
    ]


@pytest.mark.parametrize("status", [400, 401, 403, 410])
def test_a_4xx_status_is_an_error_unless_allowed(
    recorded_server: RecordedServer, status: int
) -> None:
    recorded_server.route("/x", Reply(status=status), repeat_last=True)
    client = fake_client(FakeTime(), min_interval=0)
    with pytest.raises(FetchError, match=rf"failed: HTTP {status} "):
        client.get(recorded_server.url_for("/x"))
    assert len(recorded_server.requests) == 1  # not retried
    assert client.get(recorded_server.url_for("/x"), allow_statuses={status}).status_code == status


def test_a_redirect_status_is_returned(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", Reply(status=304))
    assert fake_client(FakeTime()).get(recorded_server.url_for("/x")).status_code == 304


def test_headers_of_a_request_are_sent(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", Reply.text("ok"))
    fake_client(FakeTime()).get(recorded_server.url_for("/x"), headers={"Accept": "text/x-test"})
    assert recorded_server.requests[0].headers["Accept"] == "text/x-test"
    assert recorded_server.requests[0].method == "GET"


# -- spacing ------------------------------------------------------------------------------------


def test_no_pause_when_exactly_the_interval_has_passed(recorded_server: RecordedServer) -> None:
    recorded_server.route("/a", Reply.text("a"), repeat_last=True)
    fake = FakeTime()
    recorder = SpacingRecorder(fake, request_seconds=3.0)  # exactly the interval
    client = recorder.attach(fake_client(fake))
    for _ in range(3):
        client.get(recorded_server.url_for("/a"))
    assert fake.sleeps == []
    assert client.waits == []


def test_hosts_are_spaced_independently(recorded_server: RecordedServer) -> None:
    # The interval is per host: another host's request does not wait for this one's.
    recorded_server.route("/a", Reply.text("a"), repeat_last=True)
    other = recorded_server.url.replace("127.0.0.1", "localhost")
    fake = FakeTime()
    client = fake_client(fake)
    client.get(recorded_server.url_for("/a"))
    client.get(other + "/a")
    assert fake.sleeps == []
    client.get(recorded_server.url_for("/a"))
    assert fake.sleeps == [3.0]


# -- Retry-After ----------------------------------------------------------------------------------


def test_retry_after_equal_to_the_cap_is_waited_for(recorded_server: RecordedServer) -> None:
    recorded_server.route("/q", [Reply(status=429, headers={"Retry-After": "60"}), Reply()])
    fake = FakeTime()
    fake_client(fake, policy=RetryPolicy(retry_after_cap_s=60)).get(recorded_server.url_for("/q"))
    assert fake.sleeps == [60.0]


def test_retry_after_beyond_the_cap_names_the_url(recorded_server: RecordedServer) -> None:
    recorded_server.route("/q", Reply(status=503, headers={"Retry-After": "120"}))
    client = fake_client(FakeTime(), policy=RetryPolicy(retry_after_cap_s=60))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/q"), params={"a": "b c"})
    assert str(caught.value) == (
        f"GET {recorded_server.url_for('/q')}?a=b c failed: HTTP 503 asks to retry after 120 s"
        " (Retry-After: 120), more than the 60 s this client waits"
    )


def test_a_retry_after_date_in_the_past_means_now() -> None:
    past = format_datetime(datetime.fromtimestamp(1_000_000, tz=UTC), usegmt=True)
    assert parse_retry_after(past, 2_000_000.0) == 0.0
    assert parse_retry_after(" 5 ", 0.0) == 5.0


# -- the size cap and the deadline ----------------------------------------------------------------


def test_a_body_of_exactly_the_cap_is_read(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", Reply(body=b"x" * 1000))
    client = fake_client(FakeTime(), max_bytes=1000)
    assert client.get(recorded_server.url_for("/x")).content == b"x" * 1000


def test_an_announced_oversized_body_is_refused_by_its_announcement(
    recorded_server: RecordedServer,
) -> None:
    recorded_server.route("/x", Reply(body=b"x" * 1001))
    client = fake_client(FakeTime(), max_bytes=1000)
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    assert str(caught.value) == (
        f"GET {recorded_server.url_for('/x')} refused: the body of 1,001 bytes is larger than"
        " the 1,000 bytes this client reads"
    )
    assert len(recorded_server.requests) == 1  # not retried


def _fake_monotonic(monkeypatch: pytest.MonkeyPatch, fake: FakeTime) -> None:
    # The deadline is measured on tracker.http's `time.monotonic`; here it is the fake clock's,
    # which a slow request (SpacingRecorder's request_seconds) moves forward.
    fake_time = types.SimpleNamespace(monotonic=fake.clock)
    monkeypatch.setattr(http, "time", fake_time)


def test_a_body_read_exactly_at_the_deadline_is_in_time(
    recorded_server: RecordedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_server.route("/x", Reply.text("whole"))
    fake = FakeTime()
    _fake_monotonic(monkeypatch, fake)
    recorder = SpacingRecorder(fake, request_seconds=300.0)
    client = recorder.attach(fake_client(fake, deadline_s=300.0))
    assert client.get(recorded_server.url_for("/x")).text == "whole"


def test_a_body_past_the_deadline_is_a_timeout_and_retried(
    recorded_server: RecordedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_server.route("/x", [Reply(status=503), Reply.text("late")])
    fake = FakeTime()
    _fake_monotonic(monkeypatch, fake)
    recorder = SpacingRecorder(fake, request_seconds=301.0)
    client = recorder.attach(
        fake_client(fake, min_interval=0, deadline_s=300.0, policy=RetryPolicy(retries=1))
    )
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    assert str(caught.value) == (
        f"GET {recorded_server.url_for('/x')} failed after 2 attempts: no whole answer within"
        " the 300 s deadline (4 bytes by then) (attempts: HTTP 503, timeout)"
    )


# -- bodies -------------------------------------------------------------------------------------


def test_a_gzip_body_is_decoded(recorded_server: RecordedServer) -> None:
    text = "<feed>päper</feed>" * 50
    recorded_server.route(
        "/x", Reply(body=gzip.compress(text.encode()), headers={"Content-Encoding": "gzip"})
    )
    response = fake_client(FakeTime()).get(recorded_server.url_for("/x"))
    assert response.content == text.encode()


def test_a_body_that_fails_to_decode_says_why(recorded_server: RecordedServer) -> None:
    recorded_server.route(
        "/x", Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}), repeat_last=True
    )
    client = fake_client(FakeTime(), policy=RetryPolicy(retries=0))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    message = str(caught.value)
    assert "failed after 1 attempts: connection dropped mid-body (" in message
    assert "decode" in message


def test_a_body_cut_off_says_how_much_came(recorded_server: RecordedServer) -> None:
    recorded_server.route("/x", Reply.truncated(b"x" * 500, keep=100))
    client = fake_client(FakeTime(), policy=RetryPolicy(retries=0))
    with pytest.raises(FetchError) as caught:
        client.get(recorded_server.url_for("/x"))
    message = str(caught.value)
    assert "connection dropped mid-body (" in message
    assert "100 bytes read" in message


def _response(body: bytes, content_type: str | None) -> requests.Response:
    response = requests.Response()
    response._content = body
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [
        # No charset: UTF-8, although requests would guess ISO-8859-1 for text/*.
        ("päper".encode(), "text/plain", "päper"),
        ("päper".encode(), None, "päper"),
        ("päper".encode(), "application/xml", "päper"),
        # A named charset is used.
        ("päper".encode("latin-1"), "text/plain; charset=ISO-8859-1", "päper"),
        ("päper".encode("latin-1"), "text/plain; CHARSET=latin-1", "päper"),
        # Bytes the charset cannot read are replaced, not raised.
        (b"p\xe4per", "text/plain", "p\ufffdper"),
        ("é".encode(), "text/plain; charset=ascii", "\ufffd\ufffd"),
        # A charset Python does not know: UTF-8, still with replacement.
        ("päper".encode(), "text/plain; charset=x-no-such", "päper"),
        (b"p\xe4per", "text/plain; charset=x-no-such", "p\ufffdper"),
    ],
)
def test_response_text(body: bytes, content_type: str | None, text: str) -> None:
    assert response_text(_response(body, content_type)) == text


def test_content_length() -> None:
    assert _content_length(_response(b"", None)) == 0
    response = _response(b"", None)
    response.headers["Content-Length"] = " 12 "
    assert _content_length(response) == 12
    response.headers["Content-Length"] = "many"
    assert _content_length(response) == 0


def test_readable_url_decodes_only_the_query_and_keeps_later_question_marks() -> None:
    assert readable_url("http://h/p%20q?a=b%3Fc?d+e") == "http://h/p q?a=b?c?d e"
    assert readable_url("http://h/p%2Bq") == "http://h/p+q"


# -- the wording of transport failures -------------------------------------------------------------


def _wrapped(reason: BaseException) -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/x", reason)  # type: ignore[arg-type]
    )


def test_transport_failures_are_described_in_a_few_words() -> None:
    timeout = _describe_transport_error(requests.exceptions.ReadTimeout("read timed out"), "h:1")
    assert (timeout.what, timeout.detail) == ("timeout", "timed out (ReadTimeout)")
    cut = _describe_transport_error(requests.exceptions.ChunkedEncodingError("cut\nmore"), "h:1")
    assert (cut.what, cut.detail) == ("body cut off", "connection dropped mid-body (cut)")
    undecoded = _describe_transport_error(requests.exceptions.ContentDecodingError("bad"), "h:1")
    assert (undecoded.what, undecoded.detail) == (
        "body cut off",
        "connection dropped mid-body (bad)",
    )
    dropped = _describe_transport_error(requests.exceptions.ConnectionError("reset"), "h:1")
    assert (dropped.what, dropped.detail) == (
        "connection failed",
        "connection failed or dropped (reset)",
    )
    bare = _describe_transport_error(requests.exceptions.ConnectionError(), "h:1")
    assert (bare.what, bare.detail) == (
        "connection failed",
        "connection failed or dropped (ConnectionError)",
    )


def test_connect_failures_are_described_in_a_few_words() -> None:
    connect = _describe_transport_error(requests.exceptions.ConnectTimeout("slow"), "h:1")
    assert (connect.what, connect.detail) == (
        "could not connect",
        "could not connect to h:1 (timed out)",
    )
    # Without a host (the default): "the server".
    assert _describe_transport_error(requests.exceptions.ConnectTimeout("slow")).detail == (
        "could not connect to the server (timed out)"
    )
    refused = _wrapped(
        urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")
    )  # type: ignore[arg-type]
    described = _describe_transport_error(refused, "h:1")
    assert (described.what, described.detail) == ("could not connect", "h:1 refused the connection")


@pytest.mark.parametrize(
    ("text", "host", "detail"),
    [
        (
            "Failed to resolve 'x' ([Errno -2] Name or service not known)",
            "x:8080",
            "cannot resolve x (no network or DNS?)",
        ),
        ("Failed to resolve 'x'", "", "cannot resolve the server (no network or DNS?)"),
        (
            "Connection to x timed out. (connect timeout=10)",
            "x:1",
            "could not connect to x:1 (timed out)",
        ),
        ("Connection to x timed out.", "", "could not connect to the server (timed out)"),
        ("[Errno 111] Connection refused", "x:1", "x:1 refused the connection"),
        ("[Errno 111] Connection refused", "", "the server refused the connection"),
        (
            "<conn>: [Errno 113] No route to host",
            "x:1",
            "could not connect to x:1 (No route to host)",
        ),
        (
            "[Errno 101] Network is unreachable",
            "",
            "could not connect to the server (Network is unreachable)",
        ),
        ("something else\nand more", "x:1", "could not connect to x:1 (something else)"),
    ],
)
def test_connect_failure_wording(text: str, host: str, detail: str) -> None:
    assert _connect_failure(OSError(text), host) == detail


def test_first_line() -> None:
    assert _first_line(ValueError("one\ntwo")) == "one"
    assert _first_line(ValueError("  ")) == "ValueError"
    assert _first_line(ValueError("x" * 300)) == "x" * 200
