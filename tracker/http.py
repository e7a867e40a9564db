"""Polite HTTP for every live source: identify ourselves, space requests per host, retry gently.

arXiv's API terms of use (../shared/data/real/arxiv_docs/arxiv-docs__source_help_api_tou.md,
"Rate limits") ask legacy-API clients (the export API, OAI-PMH and the RSS feeds alike) to "make
no more than one request every three seconds, and limit requests to a single connection at a
time"; the API manual also asks for a 3 s delay between consecutive calls. PoliteClient enforces
that for every host it talks to: a minimum interval between request starts (3 s by default, a
constructor argument so tests can use a small one), one request in flight at a time, a
User-Agent naming dlradar and how to reach its maintainers, timeouts, and retries with
exponential backoff plus jitter on 429/500/502/503/504, timeouts and dropped connections,
honouring Retry-After (delta seconds or an HTTP date) up to a cap. When the retries run out it
raises FetchError with one line naming the URL, the last failure and every attempt.

Timeouts bound each wait for the network, not a request: a server sending a byte every 0.5 s
never trips a 60 s read timeout. So each body is streamed under a total deadline (a deadline
miss counts as a timeout, and is retried like one) and a size cap (no source serves pages of
100 MB; a bigger body is refused at once, not retried).

Sleep, monotonic clock, wall clock and the jitter source are injectable, so tests run fast.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import unquote, unquote_plus, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.response

from core import __version__
from core.errors import FetchError

log = logging.getLogger(__name__)

CONTACT_URL = "https://github.com/dlradar/dlradar"  # placeholder until the project has a home
USER_AGENT = f"dlradar/{__version__} (+{CONTACT_URL}; literature tracker)"
# arXiv: "no more than one request every three seconds" (api/tou.md, Rate limits).
ARXIV_MIN_INTERVAL_S = 3.0
# The longest a request may take, headers and body, and the biggest body read: an OAI-PMH page
# or a PMLR volume's BibTeX is a few MB; NeurIPS's biggest listings about 10.
DEADLINE_S = 300.0
MAX_BODY_BYTES = 100_000_000
_CHUNK_BYTES = 65_536
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures of the transport itself: refused or dropped connection, body cut off, timeout.
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; waits grow as base * 2**n, capped, plus jitter."""

    retries: int = 4  # extra attempts after the first
    backoff_base_s: float = 2.0
    backoff_max_s: float = 60.0
    jitter: float = 0.25  # up to this fraction added at random, so clients do not retry in step
    retry_after_cap_s: float = 300.0  # a server asking for longer than this is not waited for
    # Not reaching the host at all (no network, DNS failure, refused) is rarely fixed by waiting:
    # retry it this many times only, so an offline run fails within seconds.
    connect_retries: int = 1

    def backoff(self, failures: int, rand: float) -> float:
        """Seconds to wait after the ``failures``-th failure (1-based) without a Retry-After."""
        delay: float = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (failures - 1))
        return delay * (1.0 + self.jitter * rand)


@dataclass
class _Attempt:
    what: str  # "HTTP 503", "timeout", "connection dropped"
    detail: str


@dataclass
class _HostState:
    last_start: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Retry-After as seconds from now: '120' or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now_wall)


class PoliteClient:
    """A requests.Session wrapper that spaces, identifies and retries its requests (see module)."""

    def __init__(
        self,
        *,
        min_interval: float = ARXIV_MIN_INTERVAL_S,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        deadline_s: float = DEADLINE_S,
        max_bytes: int = MAX_BODY_BYTES,
        policy: RetryPolicy | None = None,
        user_agent: str = USER_AGENT,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.min_interval = min_interval
        self.timeout = timeout
        self.deadline_s = deadline_s
        self.max_bytes = max_bytes
        self.policy = policy or RetryPolicy()
        self.user_agent = user_agent
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        _watch_connections(self.session)
        self._sleep = sleep
        self._clock = clock
        self._wall = wall_clock
        self._rand = rand
        self._hosts: dict[str, _HostState] = {}
        self._hosts_lock = threading.Lock()
        self.waits: list[float] = []  # every pause taken (interval or backoff), for callers' logs

    # -- public -------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        allow_statuses: Collection[int] = (),
    ) -> requests.Response:
        """GET ``url`` politely and return the response, retrying transient failures.

        2xx/3xx responses are returned, and so are the statuses in ``allow_statuses`` (e.g. arXiv's
        400 whose body explains the error); any other status, or running out of retries, raises
        FetchError with a one-line message.
        """
        host = urlsplit(url).netloc
        attempts: list[_Attempt] = []
        full_url = url
        while True:
            response, failure, full_url = self._try_once(host, url, params, headers)
            if response is not None:
                status = response.status_code
                if status < 400 or status in allow_statuses:
                    return response
                if status not in RETRY_STATUSES:
                    raise FetchError(
                        f"GET {full_url} failed: HTTP {status} {response.reason}"
                        + _attempts_suffix(attempts)
                    )
                failure = _Attempt(f"HTTP {status}", f"HTTP {status} {response.reason}")
            assert failure is not None
            attempts.append(failure)
            connect_failures = sum(a.what == _CONNECT_FAILED for a in attempts)
            if (
                len(attempts) > self.policy.retries
                or connect_failures > self.policy.connect_retries
            ):
                raise FetchError(
                    f"GET {full_url} failed after {len(attempts)} attempts: {failure.detail}"
                    + _attempts_suffix(attempts)
                )
            wait = self._retry_wait(response, len(attempts), full_url, attempts)
            log.warning("%s from %s; retrying in %.1f s", failure.detail, full_url, wait)
            self._pause(wait)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------
    def _host(self, host: str) -> _HostState:
        with self._hosts_lock:
            return self._hosts.setdefault(host, _HostState())

    def _try_once(
        self,
        host: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[requests.Response | None, _Attempt | None, str]:
        state = self._host(host)
        # One request in flight per host ("a single connection at a time"), spaced by the interval.
        with state.lock:
            if state.last_start is not None:
                remaining = state.last_start + self.min_interval - self._clock()
                if remaining > 0:
                    self._pause(remaining)
            state.last_start = self._clock()
            request = requests.Request("GET", url, params=params, headers=dict(headers or {}))
            prepared = self.session.prepare_request(request)
            full_url = readable_url(prepared.url or url)
            started = time.monotonic()  # the real clock: deadlines are about real time
            watch = _Watch.start(self.deadline_s)
            try:
                # Streamed, and read whole here under the deadline and the cap, so a connection
                # cut mid-body fails here too.
                response = self.session.send(prepared, timeout=self.timeout, stream=True)
                self._read_body(response, full_url, started)
            except _TRANSPORT_ERRORS as exc:
                if watch.expired:  # the watchdog cut a request trickling its headers
                    return None, _Attempt("timeout", self._deadline_missed()), full_url
                return None, _describe_transport_error(exc, host), full_url
            except _DeadlineExceeded as exc:
                return None, _Attempt("timeout", str(exc)), full_url
            finally:
                watch.stop()
            if watch.expired:  # cut at the deadline, what was read may look like an answer
                return None, _Attempt("timeout", self._deadline_missed()), full_url
            return response, None, full_url

    def _deadline_missed(self) -> str:
        return f"no whole answer within the {self.deadline_s:g} s deadline"

    def _read_body(self, response: requests.Response, full_url: str, started: float) -> None:
        """Read the body into ``response.content``; FetchError beyond the size cap,
        _DeadlineExceeded past the total deadline (checked after every read, and each read
        returns as soon as some bytes arrive, within the read timeout)."""
        try:
            announced = _content_length(response)
            if announced > self.max_bytes:
                raise FetchError(
                    f"GET {full_url} refused: the body of {announced:,} bytes is larger than"
                    f" the {self.max_bytes:,} bytes this client reads"
                )
            chunks: list[bytes] = []
            size = 0
            while chunk := _read_some(response):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(
                        f"GET {full_url} refused: the body is more than the"
                        f" {self.max_bytes:,} bytes this client reads"
                    )
                if time.monotonic() - started > self.deadline_s:
                    raise _DeadlineExceeded(f"{self._deadline_missed()} ({size:,} bytes by then)")
                chunks.append(chunk)
            response._content = b"".join(chunks)
        finally:
            response.close()

    def _retry_wait(
        self,
        response: requests.Response | None,
        failures: int,
        full_url: str,
        attempts: list[_Attempt],
    ) -> float:
        backoff = self.policy.backoff(failures, self._rand())
        if response is None:
            return backoff
        header = response.headers.get("Retry-After")
        asked = parse_retry_after(header, self._wall())
        if asked is None:
            return backoff
        if asked > self.policy.retry_after_cap_s:
            # Retrying sooner than the server asked would be impolite; give up instead.
            raise FetchError(
                f"GET {full_url} failed: HTTP {response.status_code} asks to retry after "
                f"{asked:.0f} s (Retry-After: {header}), more than the "
                f"{self.policy.retry_after_cap_s:.0f} s this client waits"
                + _attempts_suffix(attempts)
            )
        return asked

    def _pause(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._sleep(seconds)


_CONNECT_FAILED = "could not connect"


# -- the deadline's watchdog ------------------------------------------------------------------
#
# The body is read in small reads that check the deadline (PoliteClient._read_body), but the
# status line and headers are read inside requests, where a server trickling them a byte at a
# time is bounded by nothing. So each request also runs a timer that, at the deadline, shuts
# down the socket of the connection its thread is reading from: the read fails at once.

_current = threading.local()  # .watch: the _Watch of this thread's request in flight


class _Watch:
    """One request's deadline timer and the connection it reads from."""

    def __init__(self) -> None:
        self.connection: urllib3.connection.HTTPConnection | None = None
        self.expired = False
        self.timer: threading.Timer | None = None

    @classmethod
    def start(cls, seconds: float) -> _Watch:
        watch = cls()
        watch.timer = threading.Timer(seconds, watch.expire)
        watch.timer.daemon = True
        watch.timer.start()
        _current.watch = watch
        return watch

    def expire(self) -> None:
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        _current.watch = None


def _note_connection(connection: urllib3.connection.HTTPConnection) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.connection = connection


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def getresponse(self) -> urllib3.response.BaseHTTPResponse:  # type: ignore[override]
        _note_connection(self)
        return super().getresponse()


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self) -> urllib3.response.BaseHTTPResponse:  # type: ignore[override]
        _note_connection(self)
        return super().getresponse()


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watch_connections(session: requests.Session) -> None:
    """Make the session's plain and TLS connections known to the deadline's watchdog."""
    for adapter in session.adapters.values():
        if isinstance(adapter, requests.adapters.HTTPAdapter):
            adapter.poolmanager.pool_classes_by_scheme = {
                "http": _WatchedHTTPPool,
                "https": _WatchedHTTPSPool,
            }


class _DeadlineExceeded(Exception):
    """A request ran past PoliteClient.deadline_s; retried like a timeout."""


def _content_length(response: requests.Response) -> int:
    """The announced body size; 0 when absent or unreadable (then the size shows as read)."""
    text = response.headers.get("Content-Length", "").strip()
    return int(text) if text.isdigit() else 0


def _read_some(response: requests.Response) -> bytes:
    """The next bytes of the body, as soon as any arrive (read1: one network read), decoded
    from gzip or deflate if the server compressed them; b"" at the end."""
    try:
        data: bytes = response.raw.read1(_CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    return data


def readable_url(url: str) -> str:
    """The URL with its query decoded, for messages: 'q=cat:cs.LG AND ...' not 'q=cat%3Acs.LG+AND'."""
    parts = urlsplit(url)
    if not parts.query:
        return unquote(url)
    base = url.split("?", 1)[0]
    return f"{unquote(base)}?{unquote_plus(parts.query)}"


def _describe_transport_error(exc: Exception, host: str = "") -> _Attempt:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, urllib3.exceptions.NewConnectionError
    ):
        return _Attempt(_CONNECT_FAILED, _connect_failure(reason or exc, host))
    if isinstance(exc, requests.exceptions.Timeout):
        return _Attempt("timeout", f"timed out ({type(exc).__name__})")
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return _Attempt("body cut off", f"connection dropped mid-body ({_first_line(exc)})")
    return _Attempt("connection failed", f"connection failed or dropped ({_first_line(exc)})")


_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^)\]]+)")


def _connect_failure(exc: BaseException, host: str) -> str:
    """Why no connection was made, in a few words (urllib3's text repeats the host and adds
    the connection object's repr: a 300-character line for "offline")."""
    text = str(exc)
    where = host.split(":")[0] or "the server"
    if isinstance(exc, urllib3.exceptions.NameResolutionError) or "resolve" in text.lower():
        return f"cannot resolve {where} (no network or DNS?)"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or "timed out" in text.lower():
        return f"could not connect to {host or where} (timed out)"
    if "refused" in text.lower():
        return f"{host or where} refused the connection"
    found = _ERRNO_TEXT.search(text)
    return f"could not connect to {host or where} ({found.group(1) if found else _first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _attempts_suffix(attempts: list[_Attempt]) -> str:
    # Only when they differ: "failed after 2 attempts: <the reason>" says the rest.
    if len({a.what for a in attempts}) < 2:
        return ""
    return f" (attempts: {', '.join(a.what for a in attempts)})"


def response_text(response: requests.Response) -> str:
    """The body as text: UTF-8 unless the server names another charset.

    requests guesses ISO-8859-1 for text/* and sniffs other types when the server names no
    charset; the services dlradar reads serve UTF-8, so only an explicit charset overrides it.
    """
    declared = "charset=" in response.headers.get("Content-Type", "").lower()
    encoding = response.encoding if declared and response.encoding else "utf-8"
    try:
        return response.content.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        return response.content.decode("utf-8", errors="replace")
