"""core.output: every listing format, output pinned exactly (#21: tests that fail when a contract
breaks). The hostile-text cases (escape sequences, formulas) are in test_hostile_output.py."""

from __future__ import annotations

import pytest

from core.output import csv_text, render, terminal_text

ROWS = [
    {
        "id": 1,
        "title": "Attention — é",
        "score": 0.123456,
        "tags": ["a", "b"],
        "meta": {"z": 1, "a": "é"},
    },
    {"id": 2, "title": None, "score": 2.0, "tags": [], "meta": {}},
]


def test_json_is_indented_utf8_with_a_final_newline() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert (
        render([{"t": "é", "x": Odd()}], "json")
        == '[\n  {\n    "t": "é",\n    "x": "odd"\n  }\n]\n'
    )
    assert render([], "json") == "[]\n"


def test_jsonl_is_one_utf8_object_per_line() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert render([{"t": "é"}, {"x": Odd()}], "jsonl") == '{"t": "é"}\n{"x": "odd"}\n'
    assert render([], "jsonl") == ""


def test_csv_cells() -> None:
    assert render(ROWS, "csv") == (
        "id,title,score,tags,meta\n"
        '1,Attention — é,0.1235,"a, b","{""a"": ""é"", ""z"": 1}"\n'
        "2,,2,,{}\n"
    )
    assert render(ROWS, "csv", columns=["title", "id"]) == "title,id\nAttention — é,1\n,2\n"
    assert render([], "csv") == "\n"
    assert render([], "csv", columns=["a", "b"]) == "a,b\n"


def test_table_columns_are_aligned_and_trailing_space_trimmed() -> None:
    rows = [{"id": 1, "name": "ab"}, {"id": 22, "name": None}]
    assert render(rows, "table", max_width=80) == "id  name\n--  ----\n1   ab\n22\n"
    assert render(rows, "table", columns=["name"], max_width=80) == "name\n----\nab\n\n"
    assert render([], "table", max_width=80) == "(no rows)\n"
    # The header's padding is trimmed too.
    assert render([{"a": 1, "b": "long"}], "table", max_width=80) == "a  b\n-  ----\n1  long\n"


def test_a_wide_table_shrinks_its_widest_column_to_the_terminal() -> None:
    rows = [{"a": "x" * 30, "b": "y" * 12, "c": "z"}]
    # 30 + 12 + 1 + 2 * 2 separators = 47 > 40: "a" loses 7 characters, ending in an ellipsis.
    assert render(rows, "table", max_width=40) == (
        "a                        b             c\n"
        "-----------------------  ------------  -\n" + "x" * 22 + "…  yyyyyyyyyyyy  z\n"
    )
    # Narrower still: the table keeps 10 characters per column (30 here), however narrow.
    assert render(rows, "table", max_width=20) == render(rows, "table", max_width=34)
    assert render(rows, "table", max_width=20).splitlines()[2] == "x" * 16 + "…  yyyyyyyyyyyy  z"
    # Columns of 11 shrink to 10 each: 30 characters, the least a table of three keeps.
    eleven = [{"a": "x" * 11, "b": "y" * 11, "c": "z" * 11}]
    assert render(eleven, "table", max_width=20).splitlines()[2] == (
        "x" * 9 + "…  " + "y" * 9 + "…  " + "z" * 9 + "…"
    )


def test_a_table_fits_exactly() -> None:
    rows = [{"a": "x" * 20, "b": "y"}]
    # 20 + 1 + 2 = 23: fits 23 columns as it is, and loses one character in 22.
    assert render(rows, "table", max_width=23).splitlines()[2] == "x" * 20 + "  y"
    assert render(rows, "table", max_width=22).splitlines()[2] == "x" * 18 + "…  y"


def test_the_table_width_defaults_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setenv("LINES", "10")
    rows = [{"a": "x" * 40}]
    assert render(rows, "table").splitlines()[2] == "x" * 29 + "…"


def test_unknown_format() -> None:
    with pytest.raises(ValueError) as caught:
        render([], "xml")
    assert str(caught.value) == "unknown format 'xml'; choose one of table, json, jsonl, csv"
    with pytest.raises(ValueError):
        render([], "JSON")


def test_terminal_text_spaces_line_breaks_and_drops_controls() -> None:
    assert terminal_text("a\tb\nc\rd") == "a b c d"
    assert terminal_text("a\x07b\x1b[2Jc\u202ed") == "abcd"
    assert csv_text("\rrm") == " rm"  # a line break is a space first: no formula
    assert csv_text("=1+2") == "'=1+2"
    assert csv_text("-1.5") == "-1.5"


def test_without_a_terminal_a_table_is_120_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def no_terminal(*args: object) -> os.terminal_size:
        raise OSError("not a terminal")

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    rows = [{"a": "x" * 200}]
    assert render(rows, "table").splitlines()[2] == "x" * 119 + "…"
