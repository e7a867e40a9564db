"""Property-based fuzzing of every file parser (#16), on mutated real files and random records.

Each parser (JSON lines, arXiv snapshot, arXiv API Atom, arXiv listing feed, OAI-PMH, NeurIPS,
PMLR BibTeX and YAML, OpenReview) is fed its real file of ../shared/data/real (a fixture where
../shared holds none) cut short, with bytes flipped, hostile snippets inserted or one field
replaced by a hostile value, and random records with hostile fields. Whatever it gets:

* no traceback: only the project's named errors (DlradarError) or a run's warnings;
* every valid record is stored: all the records the parser read and the record check accepted
  (for random records: every record with a usable id and title);
* nothing is stored twice: re-importing the file adds no paper;
* nothing hostile is stored: no control characters, years and dates in range, bounded versions.

Budget: the default Hypothesis profile "ci" runs a few examples per parser, the same ones on
every run (about a minute for the module, also under CI); the profile "long" runs thousands of
random ones, on demand:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest -q tests/test_fuzz_parsers.py

(`HYPOTHESIS_MAX_EXAMPLES=300` sets how many examples per test the long profile runs.)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from core.errors import DlradarError
from dlradar.database import open_db
from tracker.importer import import_file
from tracker.record import MAX_ARXIV_VERSION, MIN_YEAR, validate_record
from tracker.sources import load_format
from tracker.synthetic import write_snapshot

settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI fails only for a change of code
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent
REAL = ROOT.parents[0].parent / "shared" / "data" / "real"
FIXTURES = ROOT / "fixtures" / "conferences"


def _snapshot_sample() -> bytes:
    # ../shared holds no snapshot: a small synthetic one in its exact layout.
    with tempfile.TemporaryDirectory() as tmp:
        return write_snapshot(Path(tmp) / "s.json", 12).read_bytes()


def _head_lines(path: Path, count: int) -> bytes:
    with path.open("rb") as handle:
        return b"".join(line for _, line in zip(range(count), handle, strict=False))


# (format, file name, how to load the sample): real files where ../shared has one.
SAMPLES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "jsonl": (
        "listing_2025-05-27.jsonl",
        lambda: _head_lines(
            REAL / "arxiv_daily_jsonl" / "dw-dengwei_daily-arXiv-ai-enhanced_2025-05-27.jsonl", 25
        ),
    ),
    "arxiv-snapshot": ("snapshot.json", _snapshot_sample),
    "arxiv-api": (
        "api.xml",
        lambda: (
            REAL / "arxiv_api" / "arxivpy_fixture__q_testing_s0_m10_bc5a6c384fe9.body.xml"
        ).read_bytes(),
    ),
    "arxiv-feed": (
        "feed.xml",
        lambda: (
            REAL
            / "arxiv_listing_feed"
            / "zotero-arxiv-daily_e856935__rss.arxiv.org_atom_cs.AI_2025-08-20_TRUNCATED.xml"
        ).read_bytes(),
    ),
    "arxiv-oai": (
        "oai.xml",
        lambda: (REAL / "arxiv_oai_pmh" / "hepcrawl__arxiv-single.xml").read_bytes(),
    ),
    "neurips": ("listing.html", lambda: (FIXTURES / "neurips_2023_listing.html").read_bytes()),
    "pmlr": (
        "2025-10-06-abnar25a.md",
        lambda: (
            REAL / "icml_pmlr" / "mlresearch_v267___posts_2025-10-06-abnar25a.md"
        ).read_bytes(),
    ),
    "pmlr-bib": ("v202.bib", lambda: (FIXTURES / "pmlr_v202_sample.bib").read_bytes()),
    "openreview": (
        "openreview.json",
        lambda: (FIXTURES / "openreview_neurips2023_offset0.json").read_bytes(),
    ),
}
_loaded: dict[str, bytes] = {}


def sample(kind: str) -> bytes:
    if kind not in _loaded:
        try:
            _loaded[kind] = SAMPLES[kind][1]()
        except FileNotFoundError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"needs {exc.filename} (the shared folder beside the repository)")
            pytest.skip(f"needs {exc.filename} (check out the shared folder beside the repository)")
    return _loaded[kind]


def fmt_of(kind: str) -> str:
    return "pmlr" if kind == "pmlr-bib" else kind


# -- hostile values -------------------------------------------------------------------------

HOSTILE_SNIPPETS = [
    b"\x00",
    b"\x07\x1b[31m",
    b"&foo;",
    b"&#0;",
    b"]]>",
    b"<x>",
    b"</entry>",
    b'"',
    b"{",
    b"}",
    b"\\",
    b"\xff\xfe",
    b"\xc3",
    b"99999999999999999999999",
    b"v99999999999999999999",
    b"1e300",
    b"-1",
    b"0000-00-00",
    b"2024-13-45",
    b"9999-12-31",
    b"2020-99-99",
    b"9" * 5000,
    b"[" * 2000,
    b"*a",
    b"&a [1]",
    b"@inproceedings{",
    b"\n",
    b"\r\n",
    b"x" * 5000,
]

hostile_text = st.one_of(
    st.sampled_from(["", " ", "\u0000", "\x00title", "0000-00-00", "2024-13-45", "9999-12-31"]),
    st.sampled_from(["1e300", "v99999999999999999999", "javascript:alert(1)", "&foo;"]),
    st.text(max_size=40),
    st.text(min_size=3000, max_size=3000, alphabet="ab\u0000 "),
)
hostile_value: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([1e300, -1e300, 0.5, 2024.0]),
    hostile_text,
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` cut short, with bytes flipped, a span deleted or hostile snippets inserted."""
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["truncate", "flip", "delete", "insert"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        else:
            data = data[:at] + draw(st.sampled_from(HOSTILE_SNIPPETS)) + data[at:]
    return data


# -- the oracle -----------------------------------------------------------------------------


def expected_ids(fmt: str, path: Path) -> set[tuple[str, str]] | None:
    """(source, source id) of every record the parser reads and the check accepts; None when
    the parser fails with a named error (then a run may store a prefix: partial)."""
    module = load_format(fmt)
    found: set[tuple[str, str]] = set()
    try:
        for page in module.read(path):
            for record in page.records:
                checked, _ = (record, []) if page.checked else validate_record(record, "oracle")
                if checked is not None:
                    found.add((checked.source, checked.source_id))
    except DlradarError:
        return None
    return found


def check_import(fmt: str, path: Path) -> set[str]:
    """Import `path` twice into a fresh database and check the properties of the module
    docstring; the arXiv ids stored."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "fuzz.db")
        try:
            try:
                first = import_file(db, path, fmt=fmt)
            except DlradarError as exc:  # a named error, one line
                assert str(exc) and "Traceback" not in str(exc)
                return set()
            assert first.status in {"ok", "empty", "partial", "failed"}, first
            for text in [*first.warnings, first.error or ""]:
                assert "Traceback" not in text
            papers = db["papers"].count
            stored = set(db.execute("SELECT source, source_id FROM paper_sources").fetchall())
            expected = expected_ids(fmt, path)
            if expected is not None and first.status in {"ok", "empty"}:
                assert stored == expected, (first.summary(), expected - stored, stored - expected)
            assert papers <= len(stored)
            check_nothing_hostile(db)
            again = import_file(db, path, fmt=fmt)
            assert again.counts.new == 0 and db["papers"].count == papers, again.summary()
            return {str(r[0]) for r in db.execute("SELECT arxiv_id FROM papers") if r[0]}
        finally:
            db.conn.close()


def check_nothing_hostile(db: Any) -> None:
    top = date.today().year + 1
    for table, column in (
        ("papers", "title"),
        ("papers", "abstract"),
        ("papers", "venue"),
        ("papers", "comment"),
        ("paper_authors", "name"),
        ("paper_categories", "category"),
    ):
        for (value,) in db.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):
            assert isinstance(value, str), (table, column, value)
            assert not any(ord(c) < 32 and c not in "\t\n\r" for c in value), (column, value)
    for year, published, updated, version in db.execute(
        "SELECT year, published, updated, arxiv_version FROM papers"
    ):
        assert year is None or MIN_YEAR <= year <= top
        for day in (published, updated):
            assert day is None or MIN_YEAR <= date.fromisoformat(day).year <= top
        assert version is None or 1 <= version <= MAX_ARXIV_VERSION


def write(tmp: str, kind: str, data: bytes) -> Path:
    path = Path(tmp) / SAMPLES[kind][0]
    path.write_bytes(data)
    return path


# -- mutated real files ---------------------------------------------------------------------

KINDS = list(SAMPLES)


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_imports_whole(kind: str) -> None:
    """The unmutated samples: the oracle's baseline (each stores papers)."""
    with tempfile.TemporaryDirectory() as tmp:
        assert check_import(fmt_of(kind), write(tmp, kind, sample(kind))) or kind in {
            "pmlr",
            "openreview",
            "neurips",
            "pmlr-bib",
        }


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_mutated_bytes(kind: str, data: st.DataObject) -> None:
    mutated = data.draw(byte_mutation(sample(kind)))
    with tempfile.TemporaryDirectory() as tmp:
        check_import(fmt_of(kind), write(tmp, kind, mutated))


def _mutate_json(obj: Any, draw: st.DrawFn) -> Any:
    """One field somewhere in `obj` (nested dicts and lists) replaced by a hostile value."""
    target = obj
    for _ in range(4):
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict | list) and draw(st.booleans()):
                target = target[key]
                continue
            target[key] = draw(hostile_value)
            return obj
        if isinstance(target, list) and target:
            index = draw(st.integers(0, len(target) - 1))
            if isinstance(target[index], dict | list) and draw(st.booleans()):
                target = target[index]
                continue
            target[index] = draw(hostile_value)
            return obj
        break
    return obj


def _mutate_xml(data: bytes, draw: st.DrawFn) -> bytes:
    """The text of one element replaced by hostile text (control characters aside, which
    an XML serialiser refuses: the byte mutations cover those)."""
    root = etree.fromstring(data, parser=etree.XMLParser(recover=True))  # the feed is cut off
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    element = draw(st.sampled_from(elements))
    text = draw(hostile_text)
    text = "".join(c for c in text if c in "\t\n\r" or (ord(c) >= 32 and c not in "\ufffe\uffff"))
    text = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)
    element.text = text
    serialised: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return serialised


@pytest.mark.parametrize("kind", ["jsonl", "arxiv-snapshot", "openreview"])
@given(data=st.data())
def test_hostile_field_in_json(kind: str, data: st.DataObject) -> None:
    lines = sample(kind).decode("utf-8").splitlines()
    if kind == "openreview":
        mutated = json.dumps(_mutate_json(json.loads("\n".join(lines)), data.draw))
    else:
        index = data.draw(st.integers(0, len(lines) - 1))
        lines[index] = json.dumps(_mutate_json(json.loads(lines[index]), data.draw))
        mutated = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        check_import(kind, write(tmp, kind, mutated.encode("utf-8")))


@pytest.mark.parametrize("kind", ["arxiv-api", "arxiv-feed", "arxiv-oai"])
@given(data=st.data())
def test_hostile_field_in_xml(kind: str, data: st.DataObject) -> None:
    mutated = _mutate_xml(sample(kind), data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        check_import(kind, write(tmp, kind, mutated))


@given(data=st.data())
def test_hostile_field_in_neurips_html(data: st.DataObject) -> None:
    """The text or the link of one element of the NeurIPS listing made hostile (a link's year
    of 20 digits, a title of NULs...)."""
    root = lxml.html.fromstring(sample("neurips"))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    element = data.draw(st.sampled_from(elements))
    value = data.draw(hostile_text)
    value = "".join(c for c in value if c in "\t\n\r" or ord(c) >= 32)
    value = "".join(c for c in value if not 0xD800 <= ord(c) <= 0xDFFF)
    if element.get("href") is not None and data.draw(st.booleans()):
        year = data.draw(st.sampled_from(["0", "99999999999999999999", "2023", value]))
        element.set("href", f"/paper_files/paper/{year}/hash/{value}-Abstract-Conference.html")
    else:
        element.text = value
    mutated: bytes = lxml.html.tostring(root, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        check_import("neurips", write(tmp, "neurips", mutated))


_BIB_FIELD = re.compile(r"^(\s*\w+\s*=\s*)\{(.*)\}(,?)\s*$")


@given(data=st.data())
def test_hostile_field_in_bibtex(data: st.DataObject) -> None:
    """One one-line field of the volume BibTeX (title, year, volume, url, ...) made hostile;
    braces and backslashes are kept out of the value so that the entry stays BibTeX."""
    lines = sample("pmlr-bib").decode("utf-8").split("\n")
    candidates = [i for i, line in enumerate(lines) if _BIB_FIELD.match(line)]
    index = data.draw(st.sampled_from(candidates))
    value = "".join(c for c in data.draw(hostile_text) if c not in "{}\\")
    match = _BIB_FIELD.match(lines[index])
    assert match is not None
    lines[index] = f"{match.group(1)}{{{value}}}{match.group(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        check_import("pmlr", write(tmp, "pmlr-bib", "\n".join(lines).encode("utf-8")))


@given(data=st.data())
def test_hostile_field_in_pmlr_yaml(data: st.DataObject) -> None:
    """One key of the real PMLR paper record's front matter set to a hostile value."""
    text = sample("pmlr").decode("utf-8")
    front = yaml.safe_load(text.split("---")[1])
    key = data.draw(st.sampled_from(sorted(front)))
    front[key] = (
        _mutate_json(front[key], data.draw)
        if data.draw(st.booleans())
        else (data.draw(hostile_value))
    )
    mutated = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n"
    with tempfile.TemporaryDirectory() as tmp:
        check_import("pmlr", write(tmp, "pmlr", mutated.encode("utf-8")))


# -- random records -------------------------------------------------------------------------

JSONL_FIELDS = ["abstract", "authors", "categories", "published", "updated", "year", "venue",
                "doi", "comment", "url", "pdf_url"]  # fmt: skip
SNAPSHOT_FIELDS = ["abstract", "authors", "authors_parsed", "categories", "versions", "doi",
                   "comments", "journal-ref", "license", "update_date"]  # fmt: skip


@st.composite
def random_records(draw: st.DrawFn, fields: list[str]) -> tuple[list[dict[str, Any]], set[str]]:
    """Records numbered 1..n with hostile optional fields; some with an unusable id or title.
    Returns the records and the arXiv ids of those that must be stored."""
    records: list[dict[str, Any]] = []
    valid: set[str] = set()
    for n in range(1, draw(st.integers(1, 12)) + 1):
        arxiv_id = f"2501.{n:05d}"
        version = draw(st.sampled_from(["", "v2", "v99999999999999999999"]))
        suffix = draw(st.text(max_size=20))
        obj: dict[str, Any] = {"id": arxiv_id + version, "title": f"Fuzzed paper {n} {suffix}"}
        for name in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
            obj[name] = draw(hostile_value)
        broken = draw(st.sampled_from(["", "", "", "title", "id"]))
        if broken:
            obj[broken] = draw(st.one_of(st.none(), st.lists(st.text(max_size=3)), st.booleans()))
        else:
            valid.add(arxiv_id)
        records.append(obj)
    return records, valid


@pytest.mark.parametrize(
    ("fmt", "name", "fields"),
    [("jsonl", "random.jsonl", JSONL_FIELDS), ("arxiv-snapshot", "snap.json", SNAPSHOT_FIELDS)],
)
@given(data=st.data())
def test_random_records(fmt: str, name: str, fields: list[str], data: st.DataObject) -> None:
    records, valid = data.draw(random_records(fields))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        stored = check_import(fmt, path)
    assert stored == valid
