"""PoliteClient's total deadline and size cap (#16) against hostile local servers.

A server that trickles one byte every 0.2 s never trips a read timeout (each read gets a byte in
time), so only a deadline for the whole request ends it; a server that sends more than any page
of any source must be cut off before it fills memory. Both fail with a FetchError naming the URL.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import FetchError
from tracker.http import PoliteClient, RetryPolicy

Handler = Callable[[BaseHTTPRequestHandler], None]


def trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.2)


def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    # The headers themselves, a byte at a time: read inside requests, before any body.
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(1000):
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
