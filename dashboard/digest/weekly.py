"""The weekly digest: a week of papers and benchmark results as files, a feed entry and an email.

`write_digest` builds the week's report (top papers ranked by the saved interests and the venue,
family trends against the 4 previous weeks, benchmark changes since the previous digest on the
same hardware), writes `<directory>/YYYY-Www.md/.json/.html`, records it in the `digests` table
and rebuilds `feed.atom`. The same week again changes nothing unless `force`; a paper featured
in one digest is never featured in another (digest_featured.paper_id is unique).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from bench import store
from core.config import Settings
from core.db import transaction
from core.errors import DlradarError
from dashboard.digest import feeds, mail, render
from dashboard.digest.files import writable_directory, write_file
from tracker.attention import Attention, attention_of
from tracker.interests import Interests, rank_by_interests
from tracker.query import Paper, PaperFilter, find_papers
from tracker.trends import family_counts, family_growth

TREND_WEEKS = 4
BENCH_LINES_PER_HARDWARE = 30
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_NOT_PEER_REVIEWED = {"", "arxiv", "corr"}


# --- weeks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsoWeek:
    """An ISO week: Monday to Sunday, labelled YYYY-Www."""

    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shifted(self, weeks: int) -> IsoWeek:
        year, week, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(year, week)


def parse_week(text: str) -> IsoWeek:
    """`2025-W34` -> IsoWeek; DlradarError naming the value when it is not a real ISO week."""
    match = _WEEK.match(text.strip())
    if match:
        year, week = int(match[1]), int(match[2])
        try:
            # A week's Sunday and the weeks before it (trends) must be dates too.
            date.fromisocalendar(year, week, 7) + timedelta(weeks=1)
            date.fromisocalendar(year, week, 1) - timedelta(weeks=TREND_WEEKS + 1)
        except (ValueError, OverflowError):
            pass
        else:
            return IsoWeek(year, week)
    raise DlradarError(f"week {text!r}: expected an ISO week such as 2025-W34")


def last_complete_week(now: datetime) -> IsoWeek:
    """The ISO week before the one `now` falls in (a week is complete once its Sunday is over)."""
    year, week, _ = (now.astimezone(UTC).date() - timedelta(days=7)).isocalendar()
    return IsoWeek(year, week)


# --- the result ------------------------------------------------------------------------------


@dataclass
class DigestResult:
    """What `write_digest` did, with a one-line summary as its str()."""

    week: str
    status: str  # written | rewritten | unchanged
    files: list[Path] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    sent_to: list[str] = field(default_factory=list)
    note: str = ""

    def __str__(self) -> str:
        if self.status == "unchanged":
            text = f"{self.week}: already written, nothing changed (--force rewrites it)"
        else:
            names = ", ".join(p.name for p in self.files)
            where = self.files[0].parent if self.files else Path(".")
            text = (
                f"{self.week}: {self.status} {names} in {where}"
                f" ({self.counts.get('papers', 0)} papers, {self.counts.get('featured', 0)}"
                f" featured, {self.counts.get('bench_changes', 0)} benchmark changes)"
            )
        if self.sent_to:
            text += f"; emailed to {', '.join(self.sent_to)}"
        return text + (f"; {self.note}" if self.note else "")


# --- ranking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    paper: Paper
    score: float
    reason: str
    signals: tuple[str, ...] = ()  # what raised it: interests, venue, sources, upvotes, code, ...


@dataclass(frozen=True)
class Signals:
    """What a reader trusts besides the saved interests, for the week's papers."""

    attention: dict[int, Attention]  # community attention (`dlradar fetch hf-papers`)
    growth: dict[str, float]  # family -> growth of its latest month against the months before


# A family is "growing" for the digest when its latest month beats the trailing average by this.
GROWING = 0.25


def week_signals(db: sqlite_utils.Database, papers: list[Paper], week: IsoWeek) -> Signals:
    growth = {
        str(row["family"]): float(row["growth"])
        for row in family_growth(db, period="month", until=week.sunday)
        if row["growth"] is not None
    }
    return Signals(attention_of(db, [p["id"] for p in papers]), growth)


def _interest_lists(settings: Settings) -> dict[str, list[str]]:
    return {
        key: list(settings.get("interests", key)) for key in ("keywords", "families", "authors")
    }


def _attention_score(paper: Paper, signals: Signals) -> tuple[float, list[str], list[str]]:
    """Score, reasons and signal names from the community: upvotes and linked code."""
    seen = signals.attention.get(paper["id"])
    if seen is None:
        return 0.0, [], []
    score, reasons, names = 0.0, [], []
    if seen["upvotes"]:
        # log: 200 upvotes is not a hundred times 2; capped so attention never buries a venue.
        score += min(3.0, math.log2(1 + seen["upvotes"]) / 2)
        plural = "s" if seen["upvotes"] != 1 else ""
        reasons.append(f"{seen['upvotes']} upvote{plural} on Hugging Face Daily Papers")
        names.append("upvotes")
    if seen["github_repo"]:
        score += 0.5
        reasons.append("code at " + seen["github_repo"].removeprefix("https://"))
        names.append("code")
    return score, reasons, names


def _family_words(paper: Paper, signals: Signals) -> str | None:
    """Its family in a reader's words: the phrase that decided it, and the family's growth."""
    evidence = paper.get("family_evidence") or {}
    if not evidence:
        return None
    family, best = max(evidence.items(), key=lambda item: (item[1]["confidence"], item[0]))
    words = family
    if best["evidence"]:
        words += f' (it says "{best["evidence"][0]}")'
    growth = signals.growth.get(family)
    if growth is not None and growth >= GROWING:
        words += f"; {family} papers up {growth:.0%} last month against the months before"
    return words


def _fallback_pick(paper: Paper, signals: Signals) -> Pick:
    """Score a paper no saved interest matched: venue, sources, community attention, family
    confidence; its reason names each signal that counted, then its family in plain words."""
    score, reasons, names = 0.0, [], []
    venue = (paper["venue"] or "").strip()
    if venue.lower() not in _NOT_PEER_REVIEWED:
        score += 1.5
        reasons.append(f"published at {venue}")
        names.append("venue")
    if len(paper["sources"]) > 1:
        score += 0.5
        reasons.append(f"found in {len(paper['sources'])} sources")
        names.append("sources")
    attention, said, signal_names = _attention_score(paper, signals)
    score += attention
    reasons += said
    names += signal_names
    # Among equals, the clearest deep-learning papers first: the tagger's best confidence (not
    # the sum, which would favour papers that merely list several architectures).
    evidence = paper.get("family_evidence") or {}
    confidence = max((float(e.get("confidence") or 0) for e in evidence.values()), default=0.0)
    if confidence:
        score += confidence
        names.append("family confidence")
    family = _family_words(paper, signals)
    reasons.append(family if family else "recent, untagged")
    return Pick(paper, round(score, 3), "; ".join(reasons), tuple(names))


def rank_week(
    db: sqlite_utils.Database,
    settings: Settings,
    week_filter: PaperFilter,
    papers: list[Paper],
    limit: int,
    exclude: set[int],
    signals: Signals | None = None,
) -> tuple[list[Pick], str]:
    """The week's top `limit` papers not in `exclude`, and a sentence saying how they were ranked.

    Papers matching the saved interests come first, as tracker.interests ranks them (its score
    includes a venue bonus); the remaining places go to the other papers by venue, number of
    sources, community attention (Hugging Face upvotes and linked code) and the tagger's
    confidence.
    """
    signals = signals or Signals({}, {})
    interests = Interests.from_settings(settings)
    picks: list[Pick] = []
    if not interests.is_empty():
        ranked = rank_by_interests(db, interests, filter=week_filter, limit=limit + len(exclude))
        for r in ranked:
            if r.paper["id"] in exclude:
                continue
            _, said, names = _attention_score(r.paper, signals)
            reason = "; ".join([r.reason, *said])
            picks.append(Pick(r.paper, float(r.score), reason, ("interests", *names)))
        picks = picks[:limit]
    taken = exclude | {p.paper["id"] for p in picks}
    rest = [_fallback_pick(p, signals) for p in papers if p["id"] not in taken]
    rest.sort(key=lambda pick: (-pick.score, pick.paper["id"]))  # id: the source's own order
    picks += rest[: max(limit - len(picks), 0)]
    saved = _interest_lists(settings)
    listed = "; ".join(f"{k} {', '.join(v)}" for k, v in saved.items() if v)
    method = (
        f"Papers matching the saved interests ({listed}) first, ranked by tracker.interests"
        " (keyword in the title over the abstract, families, authors, plus a venue bonus); the"
        " other places by "
        if listed
        else "No saved interests, so ranked by "
    )
    with_attention = sum(1 for p in papers if p["id"] in signals.attention)
    community = (
        f"community attention (Hugging Face upvotes and linked code, known for {with_attention}"
        " of the week's papers)"
        if with_attention
        else "community attention (none stored for this week: `dlradar fetch hf-papers`)"
    )
    method += (
        f"venue (peer-reviewed before arXiv-only), number of sources, {community} and the"
        " tagger's family confidence. Papers featured in an earlier digest are left out."
    )
    return picks, method


# --- trends ----------------------------------------------------------------------------------


def _family_counts(db: sqlite_utils.Database, week: IsoWeek) -> dict[str, int]:
    """Papers per family published in `week` (a paper counts once per family)."""
    since, until = week.monday.isoformat(), week.sunday.isoformat()
    counts: Counter[str] = Counter()
    for row in family_counts(db, period="year", since=since, until=until):
        counts[str(row["family"])] += int(row["count"])
    return dict(counts)


def trends_section(db: sqlite_utils.Database, week: IsoWeek) -> dict[str, Any]:
    """Each family's count this week against its average over the TREND_WEEKS weeks before."""
    this = _family_counts(db, week)
    earlier = [week.shifted(-i) for i in range(TREND_WEEKS, 0, -1)]
    history = [_family_counts(db, w) for w in earlier]
    rows: list[dict[str, Any]] = []
    for family in sorted(set(this).union(*history)):
        count = this.get(family, 0)
        average = round(sum(h.get(family, 0) for h in history) / TREND_WEEKS, 2)
        change = round(100.0 * (count - average) / average, 1) if average else None
        rows.append({"family": family, "count": count, "average": average, "change_pct": change})
    rows.sort(key=lambda r: (-r["count"], -r["average"], r["family"]))
    span = f"{earlier[0].label} to {earlier[-1].label}"
    if not any(history):
        note = (
            f"No tagged papers are stored for the {TREND_WEEKS} weeks before ({span}), so every"
            " average is 0: fetch earlier weeks for a real baseline."
        )
    else:
        note = f"Papers per family this week against the average of {span}."
    if not rows:
        note = f"No tagged papers this week nor in the {TREND_WEEKS} weeks before ({span})."
    return {"weeks": [w.label for w in earlier], "families": rows, "note": note}


# --- benchmarks ------------------------------------------------------------------------------


def _hardware(environment: dict[str, Any]) -> str:
    gpu = environment.get("gpu") or {}
    label = (
        f"{environment.get('cpu_model') or 'unknown CPU'}"
        f" ({environment.get('logical_cores') or '?'} logical cores"
    )
    return label + (f", {gpu.get('name')})" if gpu.get("name") else ")")


def benchmark_section(
    db: sqlite_utils.Database, after_id: int, previous: str | None
) -> dict[str, Any]:
    """Timing results stored after result id `after_id`, each against the latest earlier result
    of its configuration on the same hardware; regressions as bench.compare judges them.
    (Evaluation runs, `bench eval`, are left to `dlradar bench show`.)"""
    empty: dict[str, Any] = {"hardware": [], "until_id": after_id, "changes": 0, "regressions": 0}
    if not store.is_set_up(db):
        return {**empty, "note": "The benchmark store is not set up in this database."}
    total, last_id = store.result_count(db)
    if not total:
        return {
            **empty,
            "note": "No benchmark results are stored yet: `dlradar bench run --quick` measures"
            " the model zoo on this machine.",
        }
    since = f"the previous digest ({previous})" if previous else "the start (no earlier digest)"
    new = store.timing_results(db, after_id=after_id)
    if not new:
        return {
            **empty,
            "until_id": last_id,
            "note": f"No new benchmark results since {since}; {total} stored in all.",
        }
    # bench.compare imports torch (via bench.environment): only when there is something to judge.
    from bench.compare import KEY_FIELDS, compare_rows

    def by_hardware(
        rows: list[tuple[dict[str, Any], store.ResultRow]],
    ) -> dict[str, list[store.ResultRow]]:
        groups: dict[str, list[store.ResultRow]] = {}
        for environment, row in rows:
            groups.setdefault(_hardware(environment), []).append(row)
        return groups

    baseline = by_hardware(store.timing_results(db, up_to_id=after_id))
    groups, verdicts = [], Counter[str]()
    for hardware, rows in by_hardware(new).items():
        latest = {tuple(r.get(k) for k in KEY_FIELDS): r for r in rows}
        changes: list[dict[str, Any]] = []
        for c in compare_rows(baseline.get(hardware, []), rows):
            if c.verdict == "removed":
                continue
            now_row = latest[tuple(getattr(c, k) for k in KEY_FIELDS)]
            # A failure now is news whatever came before; a success after a failure has no
            # timing to compare with, so it is new.
            verdict = "failed" if now_row["status"] != "ok" else c.verdict
            verdict = "new" if verdict == "failed" and now_row["status"] == "ok" else verdict
            verdicts[verdict] += 1
            if verdict == "unchanged":
                continue
            changes.append(
                {
                    "model": c.model,
                    "backend": c.backend,
                    "device": c.device,
                    "dtype": c.dtype,
                    "batch_size": c.batch_size,
                    "threads": c.threads,
                    "verdict": verdict,
                    "p50_before": c.p50_a,
                    "p50_now": c.p50_b,
                    "change_pct": c.change_pct,
                    "noise_ms": c.noise_ms,
                    "error": now_row["error"],
                }
            )
        order = {"regression": 0, "failed": 1, "improvement": 2, "new": 3}
        changes.sort(key=lambda c: (order.get(c["verdict"], 9), c["model"], c["backend"]))
        groups.append(
            {
                "hardware": hardware,
                "changes": changes[:BENCH_LINES_PER_HARDWARE],
                "more": max(len(changes) - BENCH_LINES_PER_HARDWARE, 0),
            }
        )
    listed = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    changed = sum(n for v, n in verdicts.items() if v != "unchanged")
    note = (
        f"{len(new)} results stored since {since}, each compared with the latest earlier result"
        f" of its configuration on the same hardware (a regression is over 7 % slower and beyond"
        f" the measured noise): {listed}."
    )
    return {
        "hardware": groups,
        "until_id": last_id,
        "changes": changed,
        "regressions": verdicts["regression"],
        "note": note,
    }


# --- building --------------------------------------------------------------------------------


def _smtp_summary(settings: Settings) -> str:
    host = settings.get("smtp", "host")
    if not host:
        return "not configured ([smtp] host is empty; --send needs it)"
    recipients = ", ".join(settings.get("smtp", "recipients")) or "no recipients"
    tls = "STARTTLS" if settings.get("smtp", "starttls") else "no STARTTLS"
    return f"to {recipients} via {host}:{settings.get('smtp', 'port')} ({tls})"


def _previous_digest(db: sqlite_utils.Database, week: IsoWeek) -> dict[str, Any] | None:
    rows = list(
        db.query("SELECT * FROM digests WHERE week < ? ORDER BY week DESC LIMIT 1", [week.label])
    )
    return rows[0] if rows else None


def build_digest(
    db: sqlite_utils.Database, settings: Settings, week: IsoWeek, now: datetime
) -> dict[str, Any]:
    """The week's digest as a plain dict (what the JSON file holds and every renderer reads)."""
    since, until = week.monday.isoformat(), week.sunday.isoformat()
    week_filter = PaperFilter(since=since, until=until + "T23:59:59")
    papers = find_papers(db, week_filter, limit=0)
    featured_before = {
        int(r[0])
        for r in db.execute(
            "SELECT paper_id FROM digest_featured WHERE week != ?", [week.label]
        ).fetchall()
    }
    week_ids = {p["id"] for p in papers}
    exclude = featured_before & week_ids
    limit = int(settings.get("digest", "top_papers"))
    signals = week_signals(db, papers, week)
    picks, method = rank_week(db, settings, week_filter, papers, limit, exclude, signals)
    previous = _previous_digest(db, week)
    bench = benchmark_section(
        db, int(previous["bench_until"]) if previous else 0, previous["week"] if previous else None
    )
    sources: Counter[str] = Counter(s for p in papers for s in p["sources"])
    counts = {
        "papers": len(papers),
        "tagged": sum(1 for p in papers if p["families"]),
        "untagged": sum(1 for p in papers if not p["families"]),
        "featured": len(picks),
        "already_featured": len(exclude),
        "by_source": dict(sorted(sources.items())),
        "by_venue": dict(sorted(Counter(p["venue"] or "unknown" for p in papers).items())),
        "bench_changes": bench["changes"],
        "bench_regressions": bench["regressions"],
    }
    return {
        "week": week.label,
        "since": since,
        "until": until,
        "generated": now.astimezone(UTC).replace(microsecond=0).isoformat(),
        "counts": counts,
        "ranking": {"description": method},
        "empty": not papers,
        # Both notes are null when they do not apply, so a reader of the JSON can trust them.
        "nothing_new": None if papers else _nothing_new(week),
        "papers_note": _papers_note(len(papers), len(picks), len(exclude), limit),
        "papers": [_paper_entry(rank, pick) for rank, pick in enumerate(picks, 1)],
        "trends": trends_section(db, week),
        "benchmarks": bench,
        "config": {
            "config_file": str(settings.path) if settings.path else None,
            "top_papers": limit,
            "directory": str(settings.get("digest", "directory")),
            "feeds_directory": str(settings.get("digest", "feeds_directory")),
            "interests": _interest_lists(settings),
            "smtp": _smtp_summary(settings),
        },
    }


def _nothing_new(week: IsoWeek) -> str:
    since, until = week.monday.isoformat(), week.sunday.isoformat()
    return (
        f"No papers published from {since} to {until} are stored. arXiv announces nothing at"
        " weekends and on holidays; if you expected papers, run `dlradar fetch arxiv` (or"
        f" `dlradar run`), then `dlradar digest --week {week.label} --force`."
    )


def _papers_note(papers: int, featured: int, already_featured: int, limit: int) -> str | None:
    """Why the digest features no paper; None when it features some."""
    if featured:
        return None
    if not papers:
        return "No papers this week."
    if limit <= 0:
        return "No papers featured ([digest] top_papers is 0)."
    # With places left, rank_week leaves a stored paper out only when it was featured before.
    return f"All {already_featured} papers of this week were featured in earlier digests."


def _paper_entry(rank: int, pick: Pick) -> dict[str, Any]:
    paper = pick.paper
    return {
        "rank": rank,
        "id": paper["id"],
        "arxiv_id": paper["arxiv_id"],
        "title": render.one_line(paper["title"]),
        "authors": paper["authors"],
        "authors_short": render.shorten_authors(paper["authors"]),
        "venue": paper["venue"],
        "published": paper["published"],
        "families": paper["families"],
        "score": pick.score,
        "reason": pick.reason,
        "signals": list(pick.signals),
        "tldr": render.extractive_tldr(paper["abstract"] or ""),
        "url": paper["url"],
        "pdf_url": paper["pdf_url"],
    }


# --- writing ---------------------------------------------------------------------------------


def _files(directory: Path, week: str) -> dict[str, Path]:
    return {ext: directory / f"{week}.{ext}" for ext in ("md", "json", "html")}


def _record(db: sqlite_utils.Database, data: dict[str, Any], files: list[Path]) -> None:
    week = data["week"]
    previous = _previous_digest(db, parse_week(week))
    with transaction(db):
        db.execute("DELETE FROM digest_featured WHERE week = ?", [week])
        db.execute(
            "INSERT INTO digests (week, created, since, until, counts, files, bench_after,"
            " bench_until, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(week) DO UPDATE SET created = excluded.created, counts = excluded.counts,"
            " files = excluded.files, bench_after = excluded.bench_after,"
            " bench_until = excluded.bench_until, summary = excluded.summary",
            [
                week,
                data["generated"],
                data["since"],
                data["until"],
                json.dumps(data["counts"]),
                json.dumps([str(p) for p in files]),
                int(previous["bench_until"]) if previous else 0,
                int(data["benchmarks"]["until_id"]),
                render.render_feed_summary(data),
            ],
        )
        db.conn.executemany(
            "INSERT INTO digest_featured (paper_id, week, rank) VALUES (?, ?, ?)",
            [(p["id"], week, p["rank"]) for p in data["papers"]],
        )


def _send(settings: Settings, data: dict[str, Any], files: list[Path]) -> list[str]:
    counts = data["counts"]
    subject = (
        f"dlradar digest {data['week']}: {counts['papers']} papers, {counts['featured']} featured"
    )
    config = mail.MailSettings.from_settings(settings)
    try:
        mail.send(config, subject, render.render_text(data), render.render_html(data))
    except DlradarError as exc:
        where = files[0].parent if files else "the digest directory"
        raise mail.MailError(f"{exc}; the digest files are written in {where}") from exc
    return list(config.recipients)


def write_digest(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    week: str | None = None,
    force: bool = False,
    send: bool = False,
    now: datetime | None = None,
) -> DigestResult:
    """Write (or, with `force`, rewrite) the digest of `week` (default: the last complete one).

    With `send`, email it; an existing week is emailed only if it was never sent (or `force`).
    A failed send raises mail.MailError after the files and the record are written.
    """
    now = now or datetime.now(UTC)
    last = last_complete_week(now)
    iso = parse_week(week) if week else last
    if iso.monday > last.monday:
        # A digest of a week still going on would be incomplete, and its record would keep the
        # scheduled run from writing the whole week ("already written").
        raise DlradarError(
            f"week {iso.label} is not over yet (it ends on Sunday {iso.sunday.isoformat()});"
            f" the last complete week is {last.label}"
        )
    directory = writable_directory(Path(settings.get("digest", "directory")), "[digest] directory")
    paths = _files(directory, iso.label)
    existing = list(db.query("SELECT * FROM digests WHERE week = ?", [iso.label]))
    if existing and not force:
        result = DigestResult(
            iso.label, "unchanged", list(paths.values()), json.loads(existing[0]["counts"])
        )
        if send and not existing[0]["sent"]:
            if not paths["json"].is_file():
                raise DlradarError(
                    f"{paths['json']} is missing: rewrite the digest with --force to send it"
                )
            data = json.loads(paths["json"].read_text(encoding="utf-8"))
            result.sent_to = _send(settings, data, result.files)
            _mark_sent(db, iso.label, now)
        elif send:
            result.note = f"already emailed at {existing[0]['sent']} (--force sends it again)"
        return result
    data = build_digest(db, settings, iso, now)
    write_file(paths["md"], render.render_markdown(data))
    write_file(paths["json"], render.render_json(data))
    write_file(paths["html"], render.render_html(data))
    files = list(paths.values())
    _record(db, data, files)
    feed = feeds.write_digest_feed(db, directory)
    result = DigestResult(
        iso.label, "rewritten" if existing else "written", [*files, feed], data["counts"]
    )
    if send:
        result.sent_to = _send(settings, data, files)
        _mark_sent(db, iso.label, now)
    return result


def _mark_sent(db: sqlite_utils.Database, week: str, now: datetime) -> None:
    with transaction(db):
        db.execute(
            "UPDATE digests SET sent = ? WHERE week = ?",
            [now.astimezone(UTC).replace(microsecond=0).isoformat(), week],
        )
