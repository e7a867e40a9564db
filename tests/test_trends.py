"""Trends: counts, shares and growth on small hand-built databases with known answers, the
cube kept correct through changes, and `dlradar trends`."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from core.db import transaction
from core.errors import DlradarError
from dlradar.commands.discovery import trends_command
from tracker.normalize import canonical_category
from tracker.record import PaperRecord
from tracker.store import PaperStore
from tracker.trends import family_counts, family_growth, refresh, totals


def add_paper(
    db: sqlite_utils.Database,
    title: str,
    *,
    published: str | None,
    year: int | None = None,
    venue: str = "arXiv",
    categories: tuple[str, ...] = (),
    families: tuple[str, ...] = (),
) -> int:
    record = PaperRecord(
        source="jsonl",
        source_id=title,
        title=title,
        abstract=f"About {title}.",
        authors=[f"Author of {title}"],
        venue=venue,
        year=year or (int(published[:4]) if published else None),
        published=published,
        categories=list(categories),
    )
    with transaction(db):
        PaperStore(db).add([record])
        paper_id = int(db.execute("SELECT max(id) FROM papers").fetchone()[0])
        set_families(db, paper_id, families)
    return paper_id


def set_families(db: sqlite_utils.Database, paper_id: int, families: tuple[str, ...]) -> None:
    with transaction(db):
        db.execute("DELETE FROM paper_families WHERE paper_id = ?", [paper_id])
        for family in families:
            db.execute(
                "INSERT INTO paper_families VALUES (?, ?, 0.9, '[]', 'test')", [paper_id, family]
            )


@pytest.fixture
def small(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Six papers whose counts are worked out by hand in the tests below."""
    add_paper(db, "A", published="2024-01-15", categories=("cs.LG", "cs.CV"),
              families=("transformer", "cnn"))  # fmt: skip
    add_paper(db, "B", published="2024-02-10", venue="NeurIPS", categories=("cs.LG",),
              families=("transformer",))  # fmt: skip
    add_paper(db, "C", published="2024-04-01", categories=("cs.CV",), families=("cnn",))
    add_paper(db, "D", published="2024-05-20", categories=("cs.CL",))
    add_paper(db, "E", published="2025-01-05", venue="ICML", categories=("cs.LG",),
              families=("ssm",))  # fmt: skip
    add_paper(db, "F", published=None, year=2024, venue="NeurIPS", families=("gnn",))
    return db


def table(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[int, int]]:
    return {(r["period"], r["group"], r["family"]): (r["count"], r["total"]) for r in rows}


def test_year_counts_each_family_once_per_paper_and_dateless_papers_by_year(
    small: sqlite_utils.Database,
) -> None:
    rows = family_counts(small, period="year")
    assert table(rows) == {
        ("2024", None, "cnn"): (2, 5),
        ("2024", None, "gnn"): (1, 5),
        ("2024", None, "transformer"): (2, 5),
        ("2025", None, "ssm"): (1, 1),
    }
    share = {(r["period"], r["family"]): r["share"] for r in rows}
    assert share[("2024", "transformer")] == pytest.approx(0.4)
    # Paper A counts for two families: the shares (1.0) exceed the tagged fraction (4 of 5).
    assert sum(r["share"] for r in rows if r["period"] == "2024") == pytest.approx(1.0)


def test_month_and_quarter_leave_out_papers_without_a_date(small: sqlite_utils.Database) -> None:
    assert table(family_counts(small, period="month")) == {
        ("2024-01", None, "cnn"): (1, 1),
        ("2024-01", None, "transformer"): (1, 1),
        ("2024-02", None, "transformer"): (1, 1),
        ("2024-04", None, "cnn"): (1, 1),
        ("2025-01", None, "ssm"): (1, 1),
    }
    assert table(family_counts(small, period="quarter")) == {
        ("2024-Q1", None, "cnn"): (1, 2),
        ("2024-Q1", None, "transformer"): (2, 2),
        ("2024-Q2", None, "cnn"): (1, 2),
        ("2025-Q1", None, "ssm"): (1, 1),
    }
    month_totals = {r["period"]: r["total"] for r in totals(small, period="month")}
    assert month_totals == {"2024-01": 1, "2024-02": 1, "2024-04": 1, "2024-05": 1, "2025-01": 1}


def test_by_venue_and_by_category(small: sqlite_utils.Database) -> None:
    assert table(family_counts(small, period="year", by="venue")) == {
        ("2024", "NeurIPS", "gnn"): (1, 2),
        ("2024", "NeurIPS", "transformer"): (1, 2),
        ("2024", "arXiv", "cnn"): (2, 3),
        ("2024", "arXiv", "transformer"): (1, 3),
        ("2025", "ICML", "ssm"): (1, 1),
    }
    assert table(family_counts(small, period="year", by="category")) == {
        ("2024", "cs.CV", "cnn"): (2, 2),
        ("2024", "cs.CV", "transformer"): (1, 2),
        ("2024", "cs.LG", "cnn"): (1, 2),
        ("2024", "cs.LG", "transformer"): (2, 2),
        ("2025", "cs.LG", "ssm"): (1, 1),
    }
    # Categories in any case count as arXiv spells them (they are stored so).
    for typed in (["CS.lg"], ["cs.lg", "cs.CV"]):
        canonical = [canonical_category(c) for c in typed]
        assert family_counts(small, categories=typed) == family_counts(small, categories=canonical)
        assert family_counts(small, categories=typed)
    totals_by_category = {
        (r["period"], r["group"]): r["total"] for r in totals(small, period="year", by="category")
    }
    assert totals_by_category == {
        ("2024", "cs.CL"): 1, ("2024", "cs.CV"): 2, ("2024", "cs.LG"): 2, ("2025", "cs.LG"): 1,
    }  # fmt: skip


def test_filters(small: sqlite_utils.Database) -> None:
    # Two categories: paper A (in both) still counts once.
    assert table(family_counts(small, period="year", categories=("cs.LG", "cs.CV"))) == {
        ("2024", None, "cnn"): (2, 3),
        ("2024", None, "transformer"): (2, 3),
        ("2025", None, "ssm"): (1, 1),
    }
    assert table(family_counts(small, period="year", venues=("neurips",))) == {
        ("2024", None, "gnn"): (1, 2),
        ("2024", None, "transformer"): (1, 2),
    }
    # A family asked for gets a row in every period, zero where it has no paper.
    assert table(family_counts(small, period="year", families=("ssm",))) == {
        ("2024", None, "ssm"): (0, 5),
        ("2025", None, "ssm"): (1, 1),
    }


def test_date_range_cuts_inside_months(small: sqlite_utils.Database) -> None:
    rows = family_counts(small, period="month", since="2024-01-20", until="2024-04-30")
    assert table(rows) == {
        ("2024-02", None, "transformer"): (1, 1),
        ("2024-04", None, "cnn"): (1, 1),
    }
    # Paper F (2024, no date) is left out: only part of 2024 is asked for.
    assert table(family_counts(small, period="year", since="2024-01-20", until="2024-04-30")) == {
        ("2024", None, "cnn"): (1, 2),
        ("2024", None, "transformer"): (1, 2),
    }
    # The whole of 2024: F is in.
    whole = family_counts(small, period="year", since="2024", until="2024")
    assert {r["total"] for r in whole} == {5}
    with pytest.raises(DlradarError, match="invalid date"):
        family_counts(small, since="2024-02-30")


def test_cube_follows_imports_tagging_and_edits(small: sqlite_utils.Database) -> None:
    db = small
    assert table(family_counts(db, period="year"))[("2024", None, "transformer")] == (2, 5)
    g = add_paper(db, "G", published="2024-03-03", families=("transformer",))
    assert table(family_counts(db, period="year"))[("2024", None, "transformer")] == (3, 6)
    set_families(db, g, ("diffusion",))
    counts = table(family_counts(db, period="year"))
    assert counts[("2024", None, "transformer")] == (2, 6)
    assert counts[("2024", None, "diffusion")] == (1, 6)
    with transaction(db):  # a later source moves the paper to 2025
        db.execute("UPDATE papers SET published = '2025-01-09', year = 2025 WHERE id = ?", [g])
    counts = table(family_counts(db, period="year"))
    assert counts[("2025", None, "diffusion")] == (1, 2)
    assert ("2024", None, "diffusion") not in counts
    with transaction(db):
        db.execute("DELETE FROM papers WHERE id = ?", [g])
    assert ("2025", None, "diffusion") not in table(family_counts(db, period="year"))
    assert refresh(db) == 0  # nothing left to recompute
    # The next paper reuses the deleted (highest) id: it is still counted.
    h = add_paper(db, "H", published="2025-02-02", families=("gan",))
    assert h == g
    assert table(family_counts(db, period="year"))[("2025", None, "gan")] == (1, 2)
    # A paper below the watermark that gains its first categories (no delete before).
    with transaction(db):
        db.execute("INSERT INTO paper_categories VALUES (?, 0, 'cs.RO')", [h])
    by_category = table(family_counts(db, period="year", by="category"))
    assert by_category[("2025", "cs.RO", "gan")] == (1, 1)


def brute_force(
    papers: list[dict[str, Any]], period: str, by: str | None
) -> dict[tuple[Any, ...], tuple[int, int]]:
    totals_: dict[tuple[Any, ...], int] = defaultdict(int)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for p in papers:
        if p["published"]:
            y, m = p["published"][:4], int(p["published"][5:7])
            label = {"year": y, "month": p["published"][:7], "quarter": f"{y}-Q{(m + 2) // 3}"}
        elif period == "year":
            label = {"year": str(p["year"])}
        else:
            continue
        groups = {None: [None], "venue": [p["venue"]], "category": p["categories"]}[by]
        for grp in groups:
            totals_[(label[period], grp)] += 1
            for family in p["families"]:
                counts[(label[period], grp, family)] += 1
    return {k: (n, totals_[k[:2]]) for k, n in counts.items()}


def test_cube_agrees_with_brute_force_on_random_papers(db: sqlite_utils.Database) -> None:
    rng = random.Random(7)
    papers = []
    for i in range(150):
        published = (
            None
            if rng.random() < 0.1
            else f"{rng.choice([2023, 2024])}-{rng.randint(1, 12):02d}-11"
        )
        paper: dict[str, Any] = {
            "published": published,
            "year": rng.choice([2023, 2024]) if published is None else int(published[:4]),
            "venue": rng.choice(["arXiv", "NeurIPS", "ICML"]),
            "categories": tuple(
                rng.sample(["cs.LG", "cs.CV", "cs.CL", "stat.ML"], rng.randint(0, 2))
            ),
            "families": tuple(rng.sample(["transformer", "cnn", "gnn", "rl"], rng.randint(0, 2))),
        }
        papers.append(paper)
        if i >= 75 and i % 10 == 5:
            assert refresh(db) != 0  # the first builds the cube, the later update few buckets
        add_paper(db, f"paper {i}", published=published, year=paper["year"],
                  venue=paper["venue"], categories=paper["categories"],
                  families=paper["families"])  # fmt: skip
    for period in ("month", "quarter", "year"):
        for by in (None, "venue", "category"):
            expected = brute_force(papers, period, by)
            assert table(family_counts(db, period=period, by=by)) == expected, (period, by)


def test_growth_against_trailing_average(db: sqlite_utils.Database) -> None:
    # transformer per month: Jan 1, Feb 2, Mar 3, Apr 2, May 6; cnn only in May.
    for month, n in ((1, 1), (2, 2), (3, 3), (4, 2), (5, 6)):
        for k in range(n):
            add_paper(db, f"t {month} {k}", published=f"2025-{month:02d}-1{k}",
                      families=("transformer",))  # fmt: skip
    add_paper(db, "c", published="2025-05-02", families=("cnn",))
    add_paper(db, "june", published="2025-06-03", families=("transformer",))
    rows = {
        r["family"]: r for r in family_growth(db, period="month", trailing=4, until="2025-06-15")
    }
    assert rows["transformer"]["period"] == "2025-05"  # June is not complete on the 15th
    assert rows["transformer"]["count"] == 6
    assert rows["transformer"]["trailing_avg"] == pytest.approx(2.0)
    assert rows["transformer"]["growth"] == pytest.approx(2.0)
    assert rows["transformer"]["share"] == pytest.approx(6 / 7)
    assert rows["cnn"]["trailing_avg"] == 0
    assert rows["cnn"]["growth"] is None  # no history to grow from
    # Only two months of data before March: the average covers those, not four.
    march = {r["family"]: r for r in family_growth(db, period="month", until="2025-03-31")}
    assert march["transformer"]["trailing_periods"] == 2
    assert march["transformer"]["trailing_avg"] == pytest.approx(1.5)
    quarterly = {r["family"]: r for r in family_growth(db, period="quarter", until="2025-06-30")}
    assert quarterly["transformer"]["period"] == "2025-Q2"
    assert quarterly["transformer"]["count"] == 9
    assert quarterly["transformer"]["growth"] == pytest.approx(9 / 6 - 1)


def test_cli_formats_and_errors(small: sqlite_utils.Database, db_path: Any) -> None:
    runner = CliRunner()
    result = runner.invoke(
        trends_command, ["--db", str(db_path), "--period", "year", "--by", "venue", "--format",
                         "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {"period": "2025", "group": "ICML", "venue": "ICML", "family": "ssm", "count": 1,
            "total": 1, "share": 1.0} in rows  # fmt: skip
    result = runner.invoke(
        trends_command, ["--db", str(db_path), "--family", "ssm", "--format", "csv"]
    )
    assert result.output.splitlines() == [
        "period,family,count,total,share", "2024,ssm,0,5,0", "2025,ssm,1,1,1",
    ]  # fmt: skip
    result = runner.invoke(
        trends_command, ["--db", str(db_path), "--growth", "--until", "2025-01-31", "--format",
                         "jsonl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    growth = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["family"], r["period"], r["count"], r["growth"]) for r in growth] == [
        ("ssm", "2025-01", 1, None)
    ]
    table_out = runner.invoke(trends_command, ["--db", str(db_path), "--period", "quarter"])
    assert "2024-Q1" in table_out.output and "transformer" in table_out.output
    bad = runner.invoke(trends_command, ["--db", str(db_path), "--growth", "--by", "venue"])
    assert bad.exit_code == 2
    bad_date = runner.invoke(trends_command, ["--db", str(db_path), "--since", "2024-13"])
    assert bad_date.exit_code == 2 and "no month 13" in bad_date.output
    # A reversed range selected nothing with exit 0, like a database without those papers.
    reversed_range = runner.invoke(
        trends_command, ["--db", str(db_path), "--since", "2026", "--until", "2020"]
    )
    assert reversed_range.exit_code == 2, reversed_range.output
    assert "--since 2026 is after --until 2020" in reversed_range.output
    one_month = ["--since", "2025-01", "--until", "2025-01", "--period", "month", "--format", "csv"]
    result = runner.invoke(trends_command, ["--db", str(db_path), *one_month])
    assert result.exit_code == 0 and "2025-01,ssm,1" in result.output, result.output
    assert "Examples" in runner.invoke(trends_command, ["--help"]).output


def test_reads_the_papers_while_another_writer_holds_the_lock(
    small: sqlite_utils.Database, db_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlradar.database import open_db
    from tracker import trends

    family_counts(small)  # the cube is current
    add_paper(small, "G", published="2024-03-03", families=("transformer",))  # dirty again
    monkeypatch.setattr(trends, "LOCK_WAIT_MS", 50)
    other = open_db(db_path)
    other.conn.execute("BEGIN IMMEDIATE")
    try:
        counts = table(family_counts(small, period="year"))
    finally:
        other.conn.execute("ROLLBACK")
        other.conn.close()
    assert counts[("2024", None, "transformer")] == (3, 6)
    assert trends._stale(small)  # the cube was not refreshed: the papers were read
    assert small.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_full_rebuild_and_bucket_refresh_agree(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker import trends

    rng = random.Random(3)
    for i in range(60):
        dated = rng.random() > 0.2
        add_paper(db, f"p{i}", published=f"2024-{rng.randint(1, 12):02d}-03" if dated else None,
                  year=rng.choice([2023, None]) if not dated else None,
                  venue=rng.choice(["arXiv", "ICML"]),
                  categories=tuple(rng.sample(["cs.LG", "cs.CV", "cs.CL"], rng.randint(0, 3))),
                  families=tuple(rng.sample(["cnn", "rl", "gan"], rng.randint(0, 3))))  # fmt: skip
    cube = "SELECT * FROM trend_cells ORDER BY 1, 2, 3, 4"
    assert refresh(db) == -1  # numpy over every paper
    full = db.execute(cube).fetchall()
    assert full
    monkeypatch.setattr(trends, "INCREMENTAL_LIMIT", 10_000)
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO trend_dirty SELECT DISTINCT bucket FROM trend_cells")
    assert refresh(db) > 0  # SQL, bucket by bucket
    assert db.execute(cube).fetchall() == full


def test_growth_treats_months_without_papers_as_gaps(db: sqlite_utils.Database) -> None:
    # Fetched: January (2 papers), February (4), April (9); March and May were never fetched.
    for month, n in ((1, 2), (2, 4), (4, 9)):
        for k in range(n):
            add_paper(db, f"g {month} {k}", published=f"2025-{month:02d}-0{k + 1}",
                      families=("gnn",))  # fmt: skip
    rows = family_growth(db, period="month", trailing=3, until="2025-05-31")
    assert [(r["family"], r["period"], r["count"]) for r in rows] == [("gnn", "2025-04", 9)]
    assert rows[0]["trailing_periods"] == 2  # January and February; March is a gap
    assert rows[0]["trailing_avg"] == pytest.approx(3.0)
    assert rows[0]["growth"] == pytest.approx(2.0)


def test_several_categories_count_each_paper_once_from_the_cube(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker import trends

    rng = random.Random(11)
    papers = []
    for i in range(120):
        published = (
            None
            if rng.random() < 0.1
            else f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        )
        paper: dict[str, Any] = {
            "published": published,
            "year": 2024,
            "venue": rng.choice(["arXiv", "NeurIPS"]),
            "categories": tuple(rng.sample(["cs.LG", "cs.CV", "cs.CL"], rng.randint(0, 3))),
            "families": tuple(rng.sample(["transformer", "cnn", "rl"], rng.randint(0, 2))),
        }
        papers.append(paper)
        add_paper(db, f"paper {i}", published=published, year=2024, venue=paper["venue"],
                  categories=paper["categories"], families=paper["families"])  # fmt: skip
    asked = ("cs.LG", "cs.CV")
    chosen = [p for p in papers if set(p["categories"]) & set(asked)]
    assert any(set(asked) <= set(p["categories"]) for p in chosen)  # the case at stake
    for period in ("month", "year"):
        for by in (None, "venue"):
            got = table(family_counts(db, period=period, by=by, categories=asked))
            assert got == brute_force(chosen, period, by), (period, by)
    # Ranges that cut months, families and venues: the cube with its surplus agrees with a
    # count over the papers themselves.
    cases: list[dict[str, Any]] = [
        {"since": "2024-03-10", "until": "2024-09-20"},
        {"families": ("cnn",), "venues": ("NeurIPS",)},
        {"since": "2024-02-01", "families": ("rl", "transformer"), "by": "venue"},
    ]
    for case in cases:
        for period in ("month", "quarter", "year"):
            from_cube = family_counts(db, period=period, categories=asked, **case)
            with monkeypatch.context() as patched:
                patched.setattr(trends, "refresh_if_free", lambda _db: False)
                direct = family_counts(db, period=period, categories=asked, **case)
            assert from_cube == direct, (case, period)
