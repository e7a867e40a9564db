"""Hostile records (#16): one bad field never costs its page, hostile files never cost memory.

Each test feeds one measured poison (a list where text belongs, a year of 1e300, a version of
twenty digits, a license object, a YAML alias bomb, impossible dates, a 50 MB line, NUL bytes,
an unresolved XML entity) and checks that the record loses only that field, or is skipped with
a warning naming the file, the line or entry and the field, while its neighbours are stored.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from core.errors import FormatError
from tracker.importer import import_file
from tracker.ingest import run_pages
from tracker.query import get_paper
from tracker.record import PaperRecord, validate_record
from tracker.sources import pmlr
from tracker.sources.base import Page

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conferences"


def paper_line(n: int, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"2501.{n:05d}",
        "title": f"Poisoned neighbour number {n} of a long listing",
        "abstract": f"Abstract {n}.",
        "authors": [f"Author {n}"],
        "categories": ["cs.LG"],
    }
    obj.update(extra)
    return obj


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def stored(db: sqlite_utils.Database) -> int:
    return int(db["papers"].count)


# -- 1. one bad field: the record keeps the rest, its page and neighbours are stored --------


def test_list_venue_in_line_2501_of_5000_stores_every_paper(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    objs = [paper_line(n) for n in range(1, 5001)]
    objs[2500]["venue"] = ["a", "list"]
    path = write_jsonl(tmp_path / "bad.jsonl", objs)
    result = import_file(db, path)
    assert result.status == "ok", result.error
    assert stored(db) == 5000
    paper = get_paper(db, "2501.02501")  # the bad venue alone is dropped
    assert paper["venue"] is None and paper["title"].endswith("2501 of a long listing")
    [warning] = [w for w in result.warnings if "venue" in w]
    assert "bad.jsonl line 2501" in warning and "list" in warning
    again = import_file(db, path)  # a re-run neither stops there nor duplicates
    assert again.status == "ok" and stored(db) == 5000


@pytest.mark.parametrize(
    ("extra", "field", "check"),
    [
        ({"year": 1e300}, "year", lambda p: p["year"] is None),
        ({"year": "nineteen"}, "year", lambda p: p["year"] is None),
        ({"year": 9999}, "year", lambda p: p["year"] is None),
        ({"doi": ["10.1/x"]}, "doi", lambda p: p["doi"] is None),
        ({"comment": {"a": 1}}, "comment", lambda p: p["comment"] is None),
    ],
)
def test_jsonl_bad_optional_field_is_dropped_alone(
    db: sqlite_utils.Database, tmp_path: Path, extra: dict[str, Any], field: str, check: Any
) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [paper_line(1), paper_line(2, **extra)])
    result = import_file(db, path)
    assert result.status == "ok", result.error
    assert stored(db) == 2
    assert check(get_paper(db, "2501.00002"))
    assert any("one.jsonl line 2" in w and field in w for w in result.warnings), result.warnings


def test_jsonl_huge_arxiv_version_is_dropped(db: sqlite_utils.Database, tmp_path: Path) -> None:
    objs = [paper_line(1), paper_line(2, id="2501.00002v99999999999999999999"), paper_line(3)]
    objs.append(paper_line(4, id="2501.1v99999999999999999999"))
    result = import_file(db, write_jsonl(tmp_path / "v.jsonl", objs))
    assert result.status == "ok", result.error
    assert stored(db) == 4
    assert get_paper(db, "2501.00002")["arxiv_version"] is None
    assert any("v.jsonl line 2" in w and "arxiv_version" in w for w in result.warnings)


def test_snapshot_license_object_is_dropped(db: sqlite_utils.Database, tmp_path: Path) -> None:
    def snap(n: int, **extra: Any) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": f"2401.{n:05d}",
            "title": f"Snapshot paper {n} with a long enough title",
            "abstract": "x",
            "authors": "A One",
            "categories": "cs.LG",
            "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 00:00:00 GMT"}],
            "license": "http://creativecommons.org/licenses/by/4.0/",
        }
        obj.update(extra)
        return obj

    objs = [snap(1), snap(2, license={"url": "x"}), snap(3, versions=[{"version": "v" + "9" * 25}])]
    result = import_file(db, write_jsonl(tmp_path / "snap.json", objs), fmt="arxiv-snapshot")
    assert result.status == "ok", result.error
    assert stored(db) == 3
    licenses = dict(db.execute("SELECT arxiv_id, license FROM papers").fetchall())
    assert licenses["2401.00002"] is None and licenses["2401.00001"]
    assert any("snap.json line 2" in w and "license" in w for w in result.warnings)


ATOM = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
 xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/x</id>
  <opensearch:itemsPerPage>2</opensearch:itemsPerPage>
  <opensearch:totalResults>2</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
{entries}
</feed>
"""
ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{id}</id>
    <title>{title}</title>
    <summary>{summary}</summary>
    <published>{published}</published>
    <updated>{published}</updated>
    <author><name>A One</name></author>
    <arxiv:primary_category term="cs.LG"/>
  </entry>"""


def atom(*entries: dict[str, str], prolog: str = "") -> str:
    filled = []
    for n, entry in enumerate(entries, start=1):
        values = {
            "id": f"2501.{n:05d}v1",
            "title": f"Atom entry {n} with a title of some length",
            "summary": "An abstract.",
            "published": "2025-01-02T00:00:00Z",
        }
        values.update(entry)
        filled.append(ENTRY.format(**values))
    text = ATOM.format(entries="\n".join(filled))
    return text.replace("<?xml version='1.0' encoding='UTF-8'?>\n", prolog, 1) if prolog else text


def test_arxiv_api_huge_version_drops_the_version(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    path = tmp_path / "api.xml"
    path.write_text(atom({}, {"id": "2501.00002v99999999999999999999"}, {}), encoding="utf-8")
    result = import_file(db, path, fmt="arxiv-api")
    assert result.status == "ok", result.error
    assert stored(db) == 3
    assert get_paper(db, "2501.00002")["arxiv_version"] is None
    assert any("arxiv_version" in w and "2501.00002" in w for w in result.warnings)


def test_openreview_pdate_1e300_drops_the_date(db: sqlite_utils.Database, tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "openreview_neurips2023_offset0.json").read_text())
    data["notes"][0]["pdate"] = 1e300
    data["notes"][0]["odate"] = None
    data["notes"][0]["cdate"] = None
    path = tmp_path / "or.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = import_file(db, path, fmt="openreview")
    assert result.status == "ok", result.error
    assert stored(db) == len(data["notes"])
    assert any("pdate" in w or "published" in w for w in result.warnings), result.warnings


def test_pmlr_bibtex_huge_year_drops_the_year(db: sqlite_utils.Database, tmp_path: Path) -> None:
    text = (FIXTURES / "pmlr_v202_sample.bib").read_text(encoding="utf-8")
    text = text.replace("year =         {2023}", "year = {99999999999999999999999}", 1)
    text = text.replace("v202", "v999").replace("{202}", "{999}")  # no fixed ICML year
    path = tmp_path / "v.bib"
    path.write_text(text, encoding="utf-8")
    result = import_file(db, path, fmt="pmlr")
    assert result.status == "ok", result.error
    assert stored(db) >= 2
    assert any("year" in w for w in result.warnings), result.warnings


# -- 2. the YAML alias bomb -----------------------------------------------------------------

BOMB = (
    "---\nlayout: inproceedings\nid: bomb25a\nvolume: 267\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{','.join(['*' + chr(ord('a') + i)] * 9)}]\n"
        for i in range(8)
    )
    + "title: *i\n---\n"
)


def test_yaml_alias_bomb_is_refused_quickly(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "2025-10-06-bomb25a.md"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 700
    started = time.monotonic()
    with pytest.raises(FormatError, match="alias"):
        list(pmlr.read(path))
    result = import_file(db, path)
    assert result.status == "failed" and "alias" in (result.error or "")
    assert time.monotonic() - started < 5


# -- 9. dates, huge lines, control characters, XML entities ---------------------------------


@pytest.mark.parametrize("bad", ["0000-00-00", "2024-13-45", "9999-12-31", "1899-12-31"])
def test_impossible_dates_are_dropped(db: sqlite_utils.Database, tmp_path: Path, bad: str) -> None:
    objs = [paper_line(1, published="2024-02-03"), paper_line(2, published=bad)]
    result = import_file(db, write_jsonl(tmp_path / "d.jsonl", objs))
    assert result.status == "ok", result.error
    assert stored(db) == 2
    paper = get_paper(db, "2501.00002")
    assert paper["published"] is None
    assert paper["year"] is None or 1900 <= paper["year"] <= date.today().year + 1
    assert any("d.jsonl line 2" in w and "published" in w for w in result.warnings)
    assert get_paper(db, "2501.00001")["published"] == "2024-02-03"


def test_next_year_is_allowed() -> None:
    next_year = date.today().year + 1
    record = PaperRecord("jsonl", "x", "A title", year=next_year, published=f"{next_year}-01-01")
    checked, warnings = validate_record(record, "here")
    assert checked is not None and checked.year == next_year and not warnings


def test_a_50_mb_line_is_skipped_without_reading_it_whole(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(paper_line(1)) + "\n")
        out.write(json.dumps(paper_line(2, abstract="x" * 50_000_000)) + "\n")
        out.write(json.dumps(paper_line(3)) + "\n")
    from tracker.sources import jsonl

    tracemalloc.start()
    try:
        pages = list(jsonl.read(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"peak {peak / 1e6:.0f} MB"
    records = [r for p in pages for r in p.records]
    assert [r.source_id for r in records] == ["2501.00001", "2501.00003"]
    warnings = [w for p in pages for w in p.warnings]
    assert any("huge.jsonl line 2" in w and "longer than" in w for w in warnings), warnings
    result = import_file(db, path)
    assert result.status == "ok" and stored(db) == 2


def test_nul_and_control_characters_are_stripped(db: sqlite_utils.Database, tmp_path: Path) -> None:
    objs = [
        paper_line(1, title="Nul\u0000 in the\u0007 title of this paper", abstract="a\u0000b"),
        paper_line(2, authors=["Ann\u0000 Smith", "\u0000"]),
    ]
    result = import_file(db, write_jsonl(tmp_path / "nul.jsonl", objs))
    assert result.status == "ok", result.error
    first = get_paper(db, "2501.00001")
    assert first["title"] == "Nul in the title of this paper"
    assert first["abstract"] == "ab"
    assert get_paper(db, "2501.00002")["authors"] == ["Ann Smith"]
    for table, column in (("papers", "title"), ("papers", "abstract"), ("paper_authors", "name")):
        hits = db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE instr({column}, char(0)) > 0"
        ).fetchone()[0]
        assert hits == 0


def test_unresolved_entity_keeps_the_text_after_it(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    prolog = '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY foo "X">]>\n'
    text = atom({"summary": "Before &foo; after the entity."}, prolog=prolog)
    path = tmp_path / "entity.xml"
    path.write_text(text, encoding="utf-8")
    result = import_file(db, path, fmt="arxiv-api")
    assert result.status == "ok", result.error
    abstract = get_paper(db, "2501.00001")["abstract"]
    assert "after the entity." in abstract
    assert any("entity" in w for w in result.warnings), result.warnings


# -- limits of one record -------------------------------------------------------------------


def test_limits_of_one_record_are_warned_and_enforced() -> None:
    record = PaperRecord(
        "jsonl",
        "x",
        "T" * 100_000,
        abstract="a" * 1_000_000,
        authors=[f"Author {i}" for i in range(20_000)],
    )
    checked, warnings = validate_record(record, "f.jsonl line 7")
    assert checked is not None
    assert len(checked.title) <= 2000 and len(checked.abstract) <= 100_000
    assert len(checked.authors) <= 5000
    assert all(w.startswith("f.jsonl line 7") for w in warnings)
    assert {"title", "abstract", "authors"} <= {
        w.split("field ")[1].split(":")[0] for w in warnings
    }


def test_record_without_title_or_id_is_skipped_with_a_reason() -> None:
    checked, warnings = validate_record(PaperRecord("jsonl", "x", "\u0000 "), "f line 3")
    assert checked is None and "title" in warnings[0] and warnings[0].startswith("f line 3")
    bad_id: Any = ["not", "an", "id"]
    checked, warnings = validate_record(PaperRecord("jsonl", bad_id, "Title"), "f line 4")
    assert checked is None and "source_id" in warnings[0]


def test_run_pages_validates_pages_of_any_parser(db: sqlite_utils.Database) -> None:
    venue: Any = ["a", "list"]
    records = [
        PaperRecord("neurips", "n1", "A neurips paper with a long title", venue=venue),
        PaperRecord("neurips", "n2", "Another neurips paper with a long title", year=10**30),
    ]
    result = run_pages(db, "neurips", "test", [Page(records)])
    assert result.status == "ok", result.error
    assert stored(db) == 2
    assert any("n1" in w and "venue" in w for w in result.warnings)


def test_warnings_of_a_run_are_capped(db: sqlite_utils.Database, tmp_path: Path) -> None:
    objs = [paper_line(n, venue=["bad"]) for n in range(1, 2501)]
    result = import_file(db, write_jsonl(tmp_path / "many.jsonl", objs))
    assert result.status == "ok" and stored(db) == 2500
    assert len(result.warnings) == 1000 and result.more_warnings == 1500
    assert "2500 warning(s)" in result.summary()
    errors = json.loads(db.execute("SELECT errors FROM fetch_runs").fetchone()[0])
    assert errors[-1] == "... and 1,500 more warning(s)"


def test_a_doi_that_is_no_doi_is_dropped(db: sqlite_utils.Database, tmp_path: Path) -> None:
    # Found by the fuzz suite: two papers whose junk DOIs cleaned to the same text were merged.
    objs = [
        paper_line(1, doi="\u0000title"),
        paper_line(2, doi="title"),
        paper_line(3, doi="10.1/x"),
    ]
    result = import_file(db, write_jsonl(tmp_path / "doi.jsonl", objs))
    assert result.status == "ok" and stored(db) == 3
    assert get_paper(db, "2501.00003")["doi"] == "10.1/x"
    assert get_paper(db, "2501.00001")["doi"] is None
    assert any("doi.jsonl line 2: field doi" in w for w in result.warnings), result.warnings


@pytest.mark.parametrize("value", ["9" * 5000, "2020-99-99", "[" * 5000])
def test_yaml_values_python_cannot_build_are_a_format_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "2025-10-06-x25a.md"
    path.write_text(f"---\nlayout: inproceedings\nid: x25a\nyear: {value}\n---\n", "utf-8")
    with pytest.raises(FormatError, match="invalid YAML front matter"):
        list(pmlr.read(path))


@pytest.mark.parametrize("head", ['{"id": ' + "9" * 5000 + "}\n", '{"id": ' + "[" * 3000 + "\n"])
def test_json_that_python_cannot_build_is_a_format_error(tmp_path: Path, head: str) -> None:
    from tracker.importer import detect_format
    from tracker.sources import arxiv_api, openreview

    path = tmp_path / "odd.json"
    path.write_text(head, encoding="utf-8")
    with pytest.raises(FormatError):
        detect_format(path)  # the sniffers' json.loads, on the file's first line
    for module in (openreview, arxiv_api):
        with pytest.raises(FormatError):
            list(module.read(path))


def test_pmlr_issued_date_parts_out_of_range_drop_the_date(tmp_path: Path) -> None:
    # Found by the fuzz suite: date-parts [0, 0, 2**31] overflowed datetime.date.
    path = tmp_path / "2025-10-06-x25a.md"
    path.write_text(
        "---\nlayout: inproceedings\nid: x25a\nvolume: 267\ntitle: A paper\n"
        "issued:\n  date-parts: [0, 0, 2147483648]\n---\n",
        encoding="utf-8",
    )
    [page] = list(pmlr.read(path))
    assert page.records[0].published is None


@pytest.mark.parametrize(
    "extra", ["page: true", "firstpage: 3", "container-title: [a, b]", "openreview: {a: 1}"]
)
def test_pmlr_yaml_fields_of_another_type_are_ignored(tmp_path: Path, extra: str) -> None:
    # Found by the fuzz suite: `page: true` reached str.replace.
    path = tmp_path / "2025-10-06-x25a.md"
    path.write_text(
        f"---\nlayout: inproceedings\nid: x25a\nvolume: 267\ntitle: A paper\n{extra}\n---\n",
        encoding="utf-8",
    )
    [page] = list(pmlr.read(path))
    assert page.records[0].title == "A paper"
