"""Community attention from the Hugging Face Papers API (https://huggingface.co/docs/hub/api).

``GET https://huggingface.co/api/daily_papers?date=YYYY-MM-DD`` answers the papers submitted to
the Daily Papers page that day: a JSON list of ``{"paper": {"id": ARXIV_ID, "upvotes": N,
"githubRepo": URL, "githubStars": N, ...}, "publishedAt": ..., "numComments": N, ...}``.
``GET https://huggingface.co/api/papers/ARXIV_ID`` answers one paper (``{"id", "upvotes",
"githubRepo", ...}``), HTTP 404 when Hugging Face has no page for it.

This is not a paper source: it reads attention for papers dlradar stored from arXiv
(tracker.attention keeps it). A week takes seven requests by date; ``--paper`` asks per paper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from core.errors import FormatError
from tracker.attention import Observation
from tracker.http import PoliteClient, response_text

BASE_URL = "https://huggingface.co/api"
# Hugging Face publishes no rate for this API; a request a second keeps a weekly run at seven
# requests in seven seconds and never bursts.
MIN_INTERVAL_S = 1.0
_ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")


def _count(value: Any) -> int | None:
    """A non-negative count as the API gives it, else None (a wrong type drops the field)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        return None
    return value


def _repo(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith("https://") else None


def observation(paper: dict[str, Any], *, comments: Any = None, featured_on: str | None = None
                ) -> Observation | None:  # fmt: skip
    """One paper object of the API as an Observation; None when its id or upvotes are unusable."""
    arxiv_id = paper.get("id")
    upvotes = _count(paper.get("upvotes"))
    if not isinstance(arxiv_id, str) or not _ARXIV_ID.match(arxiv_id) or upvotes is None:
        return None
    return Observation(
        arxiv_id=arxiv_id,
        upvotes=upvotes,
        comments=_count(comments),
        github_repo=_repo(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars")),
        featured_on=featured_on,
    )


def parse_daily(text: str, day: str, warnings: list[str]) -> list[Observation]:
    """A daily_papers response; entries without a usable id or upvote count become warnings."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"daily papers of {day}: not JSON ({exc.msg})") from exc
    if not isinstance(items, list):
        raise FormatError(f"daily papers of {day}: expected a JSON list")
    out = []
    for number, item in enumerate(items, start=1):
        paper = item.get("paper") if isinstance(item, dict) else None
        seen = (
            observation(paper, comments=item.get("numComments"), featured_on=day)
            if isinstance(paper, dict)
            else None
        )
        if seen is None:
            warnings.append(f"daily papers of {day}, entry {number}: no arXiv id or upvote count")
            continue
        out.append(seen)
    return out


def parse_paper(text: str, arxiv_id: str) -> Observation | None:
    try:
        paper = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"paper {arxiv_id}: not JSON ({exc.msg})") from exc
    return observation(paper) if isinstance(paper, dict) else None


def days(until: date, count: int) -> list[date]:
    """The `count` days ending with `until`, oldest first."""
    return [until - timedelta(days=n) for n in range(count - 1, -1, -1)]


def fetch_daily(
    dates: Iterable[date],
    warnings: list[str],
    *,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
) -> Iterator[Observation]:
    """The Daily Papers of each date (one request per date)."""
    http = client or PoliteClient(min_interval=MIN_INTERVAL_S)
    for day in dates:
        label = day.isoformat()
        response = http.get(f"{base_url.rstrip('/')}/daily_papers", params={"date": label})
        yield from parse_daily(response_text(response), label, warnings)


def fetch_papers(
    arxiv_ids: Iterable[str],
    warnings: list[str],
    *,
    client: PoliteClient | None = None,
    base_url: str = BASE_URL,
) -> Iterator[Observation]:
    """Each paper's page (one request per paper); a paper Hugging Face does not know is skipped."""
    http = client or PoliteClient(min_interval=MIN_INTERVAL_S)
    for arxiv_id in arxiv_ids:
        url = f"{base_url.rstrip('/')}/papers/{arxiv_id}"
        response = http.get(url, allow_statuses=(404,))
        if response.status_code == 404:
            continue
        seen = parse_paper(response_text(response), arxiv_id)
        if seen is None:
            warnings.append(f"paper {arxiv_id}: no upvote count in the answer")
            continue
        yield seen
