"""A fake clock for PoliteClient: time moves only when the client sleeps.

Tests inject ``sleep``, ``clock`` and ``wall_clock`` from one ``FakeTime`` (or build a client with
``fake_client``) and assert on the pauses taken (``sleeps``) and on the fake time at which each
request started (``starts``, recorded through ``clock`` when a request is spaced), never on the
wall-clock gaps a loaded machine happens to measure.

(``tests/`` is on ``sys.path`` when pytest runs a test file there, hence ``from fake_clock``.)
"""

from __future__ import annotations

from typing import Any

from tracker.http import PoliteClient


class FakeTime:
    """Monotonic and wall clocks that only move when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = 1_800_000_000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return self.wall


def fake_client(fake: FakeTime, **kw: Any) -> PoliteClient:
    """A PoliteClient on ``fake``'s time, with no jitter (so backoffs are exact)."""
    kw.setdefault("rand", lambda: 0.0)
    return PoliteClient(sleep=fake.sleep, clock=fake.clock, wall_clock=fake.wall_clock, **kw)


class SpacingRecorder:
    """Records the fake time at which every request was sent, through the client's session.

    ``attach(client)`` wraps the session's ``send``; ``starts`` then holds the fake time of every
    request and ``gaps()`` the differences between consecutive ones. ``request_seconds`` makes
    each request take that long in fake time (a slow server), without any real waiting.
    """

    def __init__(self, fake: FakeTime, request_seconds: float = 0.0) -> None:
        self.fake = fake
        self.request_seconds = request_seconds  # how long each request takes, in fake time
        self.starts: list[float] = []

    def attach(self, client: PoliteClient) -> PoliteClient:
        send = client.session.send

        def recording_send(*args: Any, **kwargs: Any) -> Any:
            self.starts.append(self.fake.now)
            try:
                return send(*args, **kwargs)
            finally:
                self.fake.now += self.request_seconds
                self.fake.wall += self.request_seconds

        client.session.send = recording_send  # type: ignore[method-assign]
        return client

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.starts, self.starts[1:], strict=False)]
