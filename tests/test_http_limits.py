"""PoliteClient's total deadline and size cap (#16) against hostile local servers.

A server that trickles one byte every 0.2 s never trips a read timeout (each read gets a byte in
time), so only a deadline for the whole request ends it; a server that sends more than any page
of any source must be cut off before it fills memory. Both fail with a FetchError naming the URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import subprocess
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.errors import FetchError
from tracker.http import PoliteClient, RetryPolicy, _Watch

Handler = Callable[[BaseHTTPRequestHandler], None]


# The trickles stop after about 4 s (and the server closes): past every deadline used here, and
# short, so that a client that ignores its deadline fails the test in seconds, not minutes.


def trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(20):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.2)


def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    # The headers themselves, a byte at a time: read inside requests, before any body.
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(20):
        handler.wfile.write(b"X")
        handler.wfile.flush()
        time.sleep(0.2)


def oversized(handler: BaseHTTPRequestHandler) -> None:
    body = b"y" * 3_000_000
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def oversized_unannounced(handler: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the size shows only while reading (HTTP/1.0, body ends at close).
    handler.send_response(200)
    handler.end_headers()
    for _ in range(300):
        handler.wfile.write(b"z" * 10_000)


def small(handler: BaseHTTPRequestHandler) -> None:
    body = "päper".encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Handler) -> str:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                # The client gives up mid-answer, as it should.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/page"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client(**kw: object) -> PoliteClient:
    return PoliteClient(
        min_interval=0.0,
        timeout=(2.0, 1.0),
        policy=RetryPolicy(retries=0, connect_retries=0),
        **kw,  # type: ignore[arg-type]
    )


def test_a_trickling_server_hits_the_total_deadline(serve: Callable[[Handler], str]) -> None:
    url = serve(trickle)
    started = time.monotonic()
    with client(deadline_s=1.5) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    elapsed = time.monotonic() - started
    assert elapsed < 4, f"took {elapsed:.1f} s"
    assert url in str(caught.value) and "1.5 s" in str(caught.value)


def test_trickled_headers_hit_the_total_deadline(serve: Callable[[Handler], str]) -> None:
    url = serve(trickle_headers)
    started = time.monotonic()
    with client(deadline_s=1.5) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    elapsed = time.monotonic() - started
    assert elapsed < 4, f"took {elapsed:.1f} s"
    assert url in str(caught.value) and "1.5 s deadline" in str(caught.value)


def test_an_oversized_body_is_cut_off(serve: Callable[[Handler], str]) -> None:
    url = serve(oversized)
    with client(max_bytes=1_000_000) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    message = str(caught.value)
    assert url in message and "1,000,000 bytes" in message


def test_an_unannounced_oversized_body_is_cut_off_while_reading(
    serve: Callable[[Handler], str],
) -> None:
    url = serve(oversized_unannounced)
    with client(max_bytes=1_000_000) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert url in str(caught.value) and "more than" in str(caught.value)


def test_an_ordinary_response_reads_whole(serve: Callable[[Handler], str]) -> None:
    url = serve(small)
    with client(deadline_s=5.0, max_bytes=1000) as http:
        response = http.get(url)
    assert response.content == "päper".encode() and response.text == "päper"


def trickle_unannounced(handler: BaseHTTPRequestHandler) -> None:
    # No Content-Length (HTTP/1.0: the body ends at close): a body cut at the deadline would look
    # like a whole, short answer.
    handler.send_response(200)
    handler.end_headers()
    for _ in range(8):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.5)


def test_a_body_cut_at_the_deadline_is_never_taken_for_an_answer(
    serve: Callable[[Handler], str],
) -> None:
    answers = iter([lambda h: h.send_error(503)])

    def first_503_then_trickle(handler: BaseHTTPRequestHandler) -> None:
        next(answers, trickle_unannounced)(handler)

    url = serve(first_503_then_trickle)
    policy = RetryPolicy(retries=1, connect_retries=0, backoff_base_s=0.01, jitter=0)
    with (
        PoliteClient(min_interval=0.0, timeout=(2.0, 1.0), policy=policy, deadline_s=1.25) as http,
        pytest.raises(FetchError) as caught,
    ):
        http.get(url)
    message = str(caught.value)
    assert message.startswith(
        f"GET {url} failed after 2 attempts: no whole answer within the 1.25 s"
    )
    assert message.endswith(" (attempts: HTTP 503, timeout)")


def test_trickled_headers_after_a_503_are_listed_as_a_timeout(
    serve: Callable[[Handler], str],
) -> None:
    answers = iter([lambda h: h.send_error(503)])

    def first_503_then_trickle(handler: BaseHTTPRequestHandler) -> None:
        next(answers, trickle_headers)(handler)

    url = serve(first_503_then_trickle)
    policy = RetryPolicy(retries=1, connect_retries=0, backoff_base_s=0.01, jitter=0)
    with (
        PoliteClient(min_interval=0.0, timeout=(2.0, 1.0), policy=policy, deadline_s=1.0) as http,
        pytest.raises(FetchError) as caught,
    ):
        http.get(url)
    assert str(caught.value) == (
        f"GET {url} failed after 2 attempts: no whole answer within the 1 s deadline"
        " (attempts: HTTP 503, timeout)"
    )


def test_every_deadline_timer_is_a_daemon_and_cancelled_when_the_request_ends(
    serve: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A timer left running would cut the next request on the same (kept-alive) connection, and a
    # non-daemon one would keep the process alive for up to the deadline (300 s by default).
    timers: list[threading.Timer] = []
    seen_during_request: list[bool] = []

    class RecordedTimer(threading.Timer):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            timers.append(self)

    def answer(handler: BaseHTTPRequestHandler) -> None:
        seen_during_request.extend(t.daemon and not t.finished.is_set() for t in timers)
        small(handler)

    monkeypatch.setattr(threading, "Timer", RecordedTimer)
    url = serve(answer)
    with client() as http:
        assert http.get(url).text == "päper"
        assert http.get(url).text == "päper"
    assert len(timers) == 2
    # Running during its own request; cancelled before the next one.
    assert seen_during_request == [True, False, True]
    assert all(t.daemon and t.finished.is_set() for t in timers)


def test_the_session_works_outside_a_polite_request(serve: Callable[[Handler], str]) -> None:
    # The watchdog's connection hook runs for every request of the session, also one made
    # directly on it from a thread that never ran PoliteClient.get.
    url = serve(small)
    results: list[bytes] = []
    with client() as http:
        http.get(url)
        results.append(http.session.get(url, timeout=5).content)
        worker = threading.Thread(target=lambda: results.append(http.session.get(url).content))
        worker.start()
        worker.join(10)
    assert results == ["päper".encode()] * 2


def test_an_expiring_watch_survives_a_socket_already_closed() -> None:
    class ClosedSocket:
        def shutdown(self, how: int) -> None:
            raise OSError("not connected")

    watch = _Watch()
    watch.connection = types.SimpleNamespace(sock=ClosedSocket())  # type: ignore[assignment]
    watch.expire()
    assert watch.expired


def test_tls_connections_are_watched_too(serve_tls: Callable[[Handler], str]) -> None:
    url = serve_tls(trickle_headers)
    http = client(deadline_s=1.0)
    http.session.verify = False
    started = time.monotonic()
    with http, pytest.raises(FetchError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unverified certificate, on purpose
        http.get(url)
    assert time.monotonic() - started < 4
    assert (
        str(caught.value)
        == f"GET {url} failed after 1 attempts: no whole answer within the 1 s deadline"
    )


@pytest.fixture
def serve_tls(
    serve: Callable[[Handler], str], tmp_path: Path
) -> Iterator[Callable[[Handler], str]]:
    openssl = shutil.which("openssl")
    if openssl is None:  # the project's rule for a missing tool: fail under CI=true
        message = "needs openssl to make a test certificate (apt-get install -y openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Handler) -> str:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}/page"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_watch_expiring_before_its_connection_is_known_only_marks_it() -> None:
    # The deadline can pass while connecting (connect timeout longer than the deadline): there
    # is no socket to shut down yet, and the timer thread must not fail.
    watch = _Watch()
    watch.expire()
    assert watch.expired


def silent(handler: BaseHTTPRequestHandler) -> None:
    # Not even a status line: the client waits in its read (whose timeout is longer here).
    time.sleep(3)


def test_a_server_silent_past_the_deadline_is_a_timeout(serve: Callable[[Handler], str]) -> None:
    answers = iter([lambda h: h.send_error(503)])

    def first_503_then_silence(handler: BaseHTTPRequestHandler) -> None:
        next(answers, silent)(handler)

    url = serve(first_503_then_silence)
    policy = RetryPolicy(retries=1, connect_retries=0, backoff_base_s=0.01, jitter=0)
    with (
        PoliteClient(min_interval=0.0, timeout=(2.0, 5.0), policy=policy, deadline_s=1.0) as http,
        pytest.raises(FetchError) as caught,
    ):
        http.get(url)
    # Cut at the deadline: had the client waited for the server, it would have seen the
    # connection closed without an answer ("connection failed").
    assert str(caught.value) == (
        f"GET {url} failed after 2 attempts: no whole answer within the 1 s deadline"
        " (attempts: HTTP 503, timeout)"
    )
