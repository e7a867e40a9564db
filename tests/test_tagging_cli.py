"""`dlradar classify`: one text or a JSON-lines stream, exactly as design.md specifies."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from core.errors import DlradarError
from dlradar.commands.tagging import COMMANDS, classify_command
from tracker.tagging import classify

TEXTS = [
    {"title": "Graph Attention Networks", "abstract": ""},
    {"title": "Support-Vector Networks"},
    {"title": "Denoising Diffusion Probabilistic Models", "abstract": "We train a U-Net."},
    {"title": "Language Models are Few-Shot Learners", "abstract": "GPT-3 has 175B parameters."},
]


def test_commands_are_classify_and_tag() -> None:
    assert [c.name for c in COMMANDS] == ["classify", "tag"]


def test_classify_json_prints_the_design_object() -> None:
    result = CliRunner().invoke(
        classify_command, ["Language Models are Few-Shot Learners", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["families", "evidence", "confidence"]
    assert data["families"] == ["transformer"]
    assert data == classify("Language Models are Few-Shot Learners").to_dict()


def test_classify_takes_an_abstract_and_prints_a_table() -> None:
    result = CliRunner().invoke(
        classify_command, ["A New Tagger", "We propose a BiLSTM for tagging."]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["family", "confidence", "evidence"]
    assert [line.split()[0] for line in lines[2:]] == ["lstm", "rnn"]


def test_classify_jsonl_file_writes_one_object_per_line_in_order(tmp_path: Path) -> None:
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(t) + "\n" for t in TEXTS), encoding="utf-8")
    result = CliRunner().invoke(classify_command, ["--jsonl", str(source)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["families"] for o in out] == [
        ["gnn"],
        [],
        ["cnn", "diffusion"],
        ["transformer"],
    ]
    expected = [classify(t["title"], t.get("abstract", "")).to_dict() for t in TEXTS]
    assert out == expected


def test_classify_jsonl_reads_stdin() -> None:
    stdin = "".join(json.dumps(t) + "\n" for t in reversed(TEXTS))
    result = CliRunner().invoke(classify_command, ["--jsonl", "-"], input=stdin)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["families"] for line in result.output.splitlines()] == [
        ["transformer"],
        ["cnn", "diffusion"],
        [],
        ["gnn"],
    ]


def test_classify_jsonl_bad_line_fails_with_a_reason(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"title": "Graph Attention Networks"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(classify_command, ["--jsonl", str(source)])
    assert result.exit_code == 1
    assert isinstance(result.exception, DlradarError)
    assert "line 2" in str(result.exception)
    # The first line's result was written before the failure (streaming, in order).
    assert json.loads(result.stdout.splitlines()[0])["families"] == ["gnn"]


def test_classify_without_text_is_a_usage_error() -> None:
    assert CliRunner().invoke(classify_command, []).exit_code == 2
    both = CliRunner().invoke(classify_command, ["A title", "--jsonl", "-"], input="")
    assert both.exit_code == 2


def test_classify_jsonl_that_is_not_utf8_fails_with_a_reason(tmp_path: Path) -> None:
    source = tmp_path / "latin1.jsonl"
    source.write_bytes(b'{"title": "Graph Attention Networks"}\n{"title": "Caf\xe9 GANs"}\n')
    result = CliRunner().invoke(classify_command, ["--jsonl", str(source)])
    assert result.exit_code == 1
    assert isinstance(result.exception, DlradarError), result.exception
    assert "not UTF-8" in str(result.exception)


def test_classify_jsonl_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "bom.jsonl"
    source.write_bytes('\ufeff{"title": "Graph Attention Networks"}\n'.encode())
    result = CliRunner().invoke(classify_command, ["--jsonl", str(source)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["families"] == ["gnn"]
