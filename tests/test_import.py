"""`dlradar import` on real and generated files: detection, counts, idempotence, bad input."""

from __future__ import annotations

import gzip
import json
import os
import pickle
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from core.errors import FormatError
from dlradar.cli import cli
from tracker.importer import detect_format, import_file
from tracker.query import PaperFilter, count_papers, get_paper
from tracker.record import PaperRecord
from tracker.synthetic import write_snapshot


def test_real_daily_listings_import_once(db: sqlite_utils.Database, real: Path) -> None:
    files = sorted((real / "arxiv_daily_jsonl").glob("*.jsonl"))
    assert len(files) == 2
    results = [import_file(db, f) for f in files]
    assert [r.counts.seen for r in results] == [679, 569]
    assert db["papers"].count == 1118  # each file repeats lines; the two days overlap in none
    again = [import_file(db, f) for f in files]
    assert sum(r.counts.new for r in again) == 0
    assert db["papers"].count == 1118
    paper = get_paper(db, "2505.18291")
    assert (
        paper["title"] == "InstructPart: Task-Oriented Part Segmentation with Instruction Reasoning"
    )
    assert paper["authors"][:2] == ["Zifu Wan", "Yaqi Xie"]
    assert paper["categories"] == ["cs.CV", "cs.RO"]
    assert paper["published"] == "2025-05-27"  # the listing date from the file name
    assert "\n" not in paper["abstract"]
    assert count_papers(db, PaperFilter(search="segmentation")) > 10


def test_snapshot_format(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "snapshot.json", 250)
    assert detect_format(path) == "arxiv-snapshot"
    result = import_file(db, path)
    assert (result.counts.seen, result.counts.new, result.status) == (250, 250, "ok")
    row = db.execute(
        "SELECT arxiv_version, published, updated, year FROM papers LIMIT 1"
    ).fetchone()
    assert row[0] >= 1 and row[1] and row[2] and row[3]
    assert import_file(db, path).counts.new == 0


def test_bad_lines_are_warnings_and_good_lines_are_kept(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    good = {"id": "2501.00001", "title": "A paper", "summary": "Text.", "authors": ["A B"]}
    path = tmp_path / "papers.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + "{not json}\n" + json.dumps([1, 2]) + "\n"
        + json.dumps({**good, "id": "2501.00002", "title": "Another"}) + "\n"
        + '{"id": "2501.00003", "title": "cut o'
    )  # fmt: skip
    result = import_file(db, path)
    assert result.counts.new == 2
    assert result.status == "ok"
    assert len(result.warnings) == 3
    assert "line 2: invalid JSON" in result.warnings[0]
    assert "line 5" in result.warnings[2] and "truncated" in result.warnings[2]


def test_generic_categories_are_stored_in_arxivs_spelling(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    line = {
        "id": "2501.00001",
        "title": "A paper",
        "summary": "Text.",
        "categories": "CS.lg stat.ml cs.LG",
    }
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(line) + "\n")
    import_file(db, path)
    assert get_paper(db, "2501.00001")["categories"] == ["cs.LG", "stat.ML"]
    assert count_papers(db, PaperFilter(categories=("CS.LG",))) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json\n", "1 line(s); line 1: invalid JSON ("),
        ('\n{"id": "2501.00001"}\n[1, 2]\n', "2 line(s); line 2: not a JSON-lines paper object"),
    ],
)
def test_a_file_without_one_readable_paper_fails_naming_the_first_problem(
    db: sqlite_utils.Database, tmp_path: Path, text: str, problem: str
) -> None:
    # It used to end as "empty" with exit 0, as if the listing had no papers that day.
    path = tmp_path / "f.jsonl"
    path.write_text(text)
    result = import_file(db, path, fmt="jsonl")
    assert result.status == "failed"
    assert (result.error or "").startswith(f"f.jsonl: no readable paper in {problem}")
    assert "\n" not in (result.error or "")
    assert db.execute("SELECT status FROM fetch_runs").fetchall() == [("failed",)]


def test_importing_an_unreadable_file_exits_1_with_the_reason(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text("not json\n")
    args = ["import", str(path), "--format", "jsonl", "--db", str(tmp_path / "x.db")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "FAILED: f.jsonl: no readable paper in 1 line(s); line 1: invalid JSON" in result.output


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    try:
        detect_format(path)
    except FormatError as exc:
        assert "notes.txt: not a format dlradar reads" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected FormatError")


def test_empty_file_is_not_an_error(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    result = import_file(db, path, fmt="jsonl")
    assert result.status == "empty"
    assert "holds no papers" in result.summary()
    path.write_text("\n  \n")  # blank lines hold no paper either, and nothing unreadable
    result = import_file(db, path, fmt="jsonl")
    assert (result.status, result.error) == ("empty", None)
    assert "holds no papers" in result.summary()


def test_a_record_crosses_from_the_reader_process_whole() -> None:
    record = PaperRecord(
        source="arxiv-snapshot",
        source_id="2501.00001",
        title="A title",
        abstract="An abstract.",
        authors=["Ada Lovelace"],
        arxiv_id="2501.00001",
        arxiv_version=2,
        year=2025,
        categories=["cs.LG"],
        curated=True,
        families=["cnn"],
    )
    assert pickle.loads(pickle.dumps(record)) == record


def test_snapshot_author_names_from_authors_parsed() -> None:
    from tracker.sources.arxiv_snapshot import convert

    def names(parsed: list[list[str]]) -> list[str]:
        record = convert({"id": "2101.00001v2", "title": "A title", "authors_parsed": parsed})
        assert record is not None
        return record.authors

    assert names([["Smith", "John", ""], ["Doe", "Jane", "Jr"]]) == ["John Smith", "Jane Doe Jr"]
    # Short and empty entries, padding, and TeX accents (which the whole list then goes through).
    assert names([["Last"], [], ["", "", ""], [" Pad ", "Me", ""]]) == ["Last", "Me Pad"]
    assert names([['M\\"uller', "J.", ""], ["Tab\tName", "A", ""]]) == [
        "J. Müller",
        "A Tab Name",
    ]
    assert names([["Ng", "Andrew", "", "extra"]]) == ["Andrew Ng"]


def test_a_compressed_file_says_so_even_with_a_forced_format(tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl.gz"
    good = {"id": "2501.00001", "title": "A paper", "summary": "Text.", "authors": ["A B"]}
    path.write_bytes(gzip.compress((json.dumps(good) + "\n").encode()))
    with pytest.raises(FormatError, match=r"papers.jsonl.gz: a gzip-compressed file; decompress"):
        detect_format(path)
    db = sqlite_utils.Database(memory=True)
    with pytest.raises(FormatError, match="gzip-compressed"):
        import_file(db, path, fmt="jsonl")


def test_an_empty_file_is_named_empty_not_an_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "today.jsonl"
    path.write_text("\n")
    with pytest.raises(FormatError, match=r"today\.jsonl: the file is empty"):
        detect_format(path)


def test_a_device_or_fifo_is_not_called_missing(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    db = sqlite_utils.Database(memory=True)
    with pytest.raises(FormatError, match=r"pipe: not a regular file"):
        import_file(db, fifo)
