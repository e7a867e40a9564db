"""A scripted local HTTP server for testing live fetch code offline.

Live source code (arXiv API, feeds, OAI-PMH, NeurIPS, OpenReview...) takes a ``base_url``; tests
point it at this server on 127.0.0.1 and script what each path answers, including the faults a real
service produces (429 with Retry-After, 503, a slow reply, a connection dropped mid-body).

Use it through the pytest fixture ``recorded_server`` (import the function under its own name,
``recorded_server_fixture``, so that linters do not see the test argument as a redefinition)::

    from recorded_server import RecordedServer, Reply, recorded_server_fixture  # noqa: F401

    def test_something(recorded_server: RecordedServer) -> None:
        recorded_server.route(
            "/api/query",
            [Reply(status=429, headers={"Retry-After": "1"}), Reply.file(PATH, "text/xml")],
            query={"start": "0"},            # optional: only requests whose query has these values
        )
        fetch(base_url=recorded_server.url + "/api/query")
        assert [r.query["start"] for r in recorded_server.requests] == ["0", "0"]
        assert recorded_server.requests[0].headers["User-Agent"].startswith("dlradar/")

(``tests/`` is on ``sys.path`` when pytest runs a test file there, hence ``from recorded_server``.)

Routing: ``route(path, replies, query=None, repeat_last=False)``. A request is matched against the
routes in registration order; a route matches when the path is equal (query string excluded) and
every ``query`` item equals the request's value for that parameter (other parameters are ignored).
Each route serves its replies in order, one per request. When a route has served them all it
keeps serving the last one if ``repeat_last`` is true, otherwise it no longer matches and the next
matching route (if any) answers. A request that nothing answers gets a 404 whose body says so, and
is listed in ``unmatched`` as well as ``requests``.

Replies (``Reply``): ``status``, ``headers``, ``body`` (bytes), ``delay`` (seconds to wait before
answering: provoke client timeouts), and two faults: ``Reply.disconnect()`` closes the connection
without answering; ``Reply.truncated(body, keep=N)`` announces the full Content-Length, sends the
first N bytes and closes the connection (requests raises ChunkedEncodingError / ConnectionError).
Helpers: ``Reply.text(text, content_type, status, headers)`` serves a string as UTF-8;
``Reply.file(path, content_type)`` serves a file's bytes; ``Reply.recorded_json(path)`` replays a
recorded ``{url, status_code, body}`` JSON wrapper (as in ../shared/data/real/arxiv_api) with the
bytes arXiv served.

Request log: ``requests`` is a list of ``LoggedRequest(method, path, query, headers, body, time)``,
``query`` a dict of the first value of each parameter (``raw_query`` keeps the string), ``time``
a ``time.monotonic()`` taken when the request line was read, so tests can check the spacing
between requests (``intervals()``) and the headers the client sent. ``requests_to(path)`` filters
the log, ``pending()`` lists scripted replies never served, ``url_for(path)`` builds a URL. The
server speaks HTTP/1.1 with keep-alive, like the real services, so a requests.Session reuses its
connection.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted response (or fault) for one request."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    # Faults: close the connection without any answer, or after this many body bytes.
    disconnect_before_reply: bool = False
    keep_bytes: int | None = None

    @classmethod
    def text(
        cls,
        body: str,
        content_type: str = "text/plain; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """A reply with a text body encoded as UTF-8."""
        all_headers = {"Content-Type": content_type, **dict(headers or {})}
        return cls(status=status, body=body.encode("utf-8"), headers=all_headers)

    @classmethod
    def file(
        cls, path: Path | str, content_type: str = "application/xml", status: int = 200
    ) -> Reply:
        """A reply whose body is a file's bytes, served unchanged."""
        return cls(
            status=status, body=Path(path).read_bytes(), headers={"Content-Type": content_type}
        )

    @classmethod
    def recorded_json(cls, path: Path | str, content_type: str = "application/atom+xml") -> Reply:
        """Replay a recorded ``{"url", "status_code", "body"}`` wrapper (arxiv.py's fixtures)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        # The recorder stored the response bytes decoded as latin-1 (requests' default for a
        # text type without charset), so latin-1 gives the served bytes back exactly.
        text: str = data["body"]
        try:
            body = text.encode("latin-1")
        except UnicodeEncodeError:
            body = text.encode("utf-8")
        return cls(
            status=int(data["status_code"]), body=body, headers={"Content-Type": content_type}
        )

    @classmethod
    def disconnect(cls, delay: float = 0.0) -> Reply:
        """Close the connection without sending anything (requests: ConnectionError)."""
        return cls(disconnect_before_reply=True, delay=delay)

    @classmethod
    def truncated(cls, body: bytes, keep: int, content_type: str = "application/xml") -> Reply:
        """Announce ``len(body)`` bytes, send only the first ``keep``, then drop the connection."""
        return cls(body=body, keep_bytes=keep, headers={"Content-Type": content_type})


@dataclass(frozen=True)
class LoggedRequest:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    time: float  # time.monotonic() when the request was read


@dataclass
class _Route:
    path: str
    query: dict[str, str]
    replies: list[Reply]
    repeat_last: bool
    served: int = 0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        if path != self.path or any(query.get(k) != v for k, v in self.query.items()):
            return False
        return self.served < len(self.replies) or (self.repeat_last and bool(self.replies))

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class RecordedServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) serving scripted replies; see module doc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[_Route] = []
        self.requests: list[LoggedRequest] = []
        self.unmatched: list[LoggedRequest] = []
        self._httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        # A short poll interval makes shutdown (each test's teardown) take milliseconds, not 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- scripting -------------------------------------------------------------------------
    def route(
        self,
        path: str,
        replies: Reply | Sequence[Reply],
        *,
        query: Mapping[str, str] | None = None,
        repeat_last: bool = False,
    ) -> None:
        """Serve ``replies`` in order to requests for ``path`` (and ``query`` items, if given)."""
        listed = [replies] if isinstance(replies, Reply) else list(replies)
        with self._lock:
            self._routes.append(_Route(path, dict(query or {}), listed, repeat_last))

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path

    # -- inspection ------------------------------------------------------------------------
    def requests_to(self, path: str) -> list[LoggedRequest]:
        """The logged requests for one path, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def intervals(self, path: str | None = None) -> list[float]:
        """Seconds between consecutive requests (to ``path`` if given), in arrival order."""
        with self._lock:
            times = [r.time for r in self.requests if path is None or r.path == path]
        return [b - a for a, b in itertools.pairwise(times)]

    def pending(self) -> list[str]:
        """Routes that still have unserved replies: a test can assert its script was used up."""
        with self._lock:
            return [
                f"{r.path} {r.query or ''}: {len(r.replies) - r.served} left"
                for r in self._routes
                if r.served < len(r.replies)
            ]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> RecordedServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RecordedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- used by the handler ---------------------------------------------------------------
    def _dispatch(self, request: LoggedRequest) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            for candidate in self._routes:
                if candidate.matches(request.path, request.query):
                    return candidate.next_reply()
            self.unmatched.append(request)
            return None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (timeout) or a scripted drop makes writes fail: expected here.
        pass


def _make_handler(server: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real services

        def log_message(self, format: str, *args: object) -> None:  # silence stderr
            pass

        def _handle(self) -> None:
            received = time.monotonic()
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            logged = LoggedRequest(
                method=self.command,
                path=split.path,
                query=query,
                raw_query=split.query,
                headers=dict(self.headers.items()),
                body=body,
                time=received,
            )
            reply = server._dispatch(logged)
            if reply is None:
                reply = Reply(
                    status=404,
                    body=f"recorded_server: no scripted reply for {self.path}".encode(),
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                )
            if reply.delay:
                time.sleep(reply.delay)
            if reply.disconnect_before_reply:
                self._drop()
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.keep_bytes is not None:
                self.wfile.write(reply.body[: reply.keep_bytes])
                self.wfile.flush()
                self._drop()
                return
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        do_GET = _handle
        do_POST = _handle
        do_HEAD = _handle

    return Handler


@pytest.fixture(name="recorded_server")
def recorded_server_fixture() -> Iterator[RecordedServer]:
    """A started RecordedServer, closed after the test; its ``url`` has no trailing slash."""
    with RecordedServer() as server:
        yield server
