"""The digest's renderers, output pinned byte for byte (#21: tests that fail when a contract breaks).

tests/fixtures/digest_render/ holds two built digests (a week with papers of every kind, hostile
text, trends and benchmark changes of every verdict; and an empty week) and what each renderer
makes of them. Any change to the Markdown, HTML, text, feed summary or JSON shows up here: a
deliberate one is accepted by regenerating the expected files with

    UPDATE_GOLDEN=1 pytest tests/test_digest_render.py

and reading the diff. The escaping itself is also asserted directly below, so a regenerated
file cannot quietly let markup through.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboard.digest.render import (
    _clip,
    _html_link,
    bench_line,
    extractive_tldr,
    h,
    h_note,
    md,
    one_line,
    render_feed_summary,
    render_html,
    render_json,
    render_markdown,
    render_text,
    safe_url,
    shorten_authors,
    split_sentences,
    trend_chart_svg,
    trend_wording,
)

GOLDEN = Path(__file__).parent / "fixtures" / "digest_render"
RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "md": render_markdown,
    "html": render_html,
    "txt": render_text,
    "summary.html": render_feed_summary,
    "json": render_json,
}


def _data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", ["full", "empty"])
@pytest.mark.parametrize("ext", list(RENDERERS))
def test_rendered_digest_matches_the_expected_file(name: str, ext: str) -> None:
    rendered = RENDERERS[ext](_data(name))
    expected = GOLDEN / f"{name}.expected.{ext}"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8")


def test_no_hostile_text_gets_through_in_the_expected_files() -> None:
    html = render_html(_data("full"))
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "javascript:" not in html.replace("[x](javascript:alert(1))", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render_markdown(_data("full"))
    assert "\\<script\\>alert(1)\\</script\\>" in markdown
    assert "\\[x\\](javascript:alert(1))" in markdown  # brackets escaped: no link
    assert "<" not in render_json(_data("full")).replace("\\u003c", "")


def test_render_json_keeps_the_text_exactly() -> None:
    data = _data("full")
    assert json.loads(render_json(data)) == data


def test_markdown_escaping() -> None:
    assert md("a\\b`c*d_e[f]g<h>i&j|k~l") == "a\\\\b\\`c\\*d\\_e\\[f\\]g\\<h\\>i\\&j\\|k\\~l"
    assert md(None) == ""
    assert md(" two\n lines ") == "two lines"


def test_html_links_are_escaped_and_styled_on_request() -> None:
    assert _html_link("a<b", "https://x.example/?a=1&b=2") == (
        '<a href="https://x.example/?a=1&amp;b=2">a&lt;b</a>'
    )
    assert _html_link("abs", "https://x.example/", "color:red") == (
        '<a href="https://x.example/" style="color:red">abs</a>'
    )
    assert _html_link("abs", "javascript:alert(1)") is None


def test_html_escaping() -> None:
    assert h('<a href="x">\'&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
    assert h(None) == ""
    assert h(3) == "3"
    assert h_note("run `dlradar <x>` and `a<b`") == (
        "run <code>dlradar &lt;x&gt;</code> and <code>a&lt;b</code>"
    )


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        (None, None),
        ("", None),
        ("javascript:alert(1)", None),
        (" JAVASCRIPT:alert(1)", None),
        ("data:text/html,x", None),
        ("//evil.example/x", None),
        ("http://[::1", None),  # unreadable
        (" https://a.example/x y?q=<1>&r=2#f ", "https://a.example/x%20y?q=%3C1%3E&r=2#f"),
        ("HTTP://a.example/(x)", "HTTP://a.example/%28x%29"),
    ],
)
def test_safe_url(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_one_line_and_authors() -> None:
    assert one_line(None) == ""
    assert one_line("a\n\tb  c") == "a b c"
    assert shorten_authors([]) == "unknown authors"
    assert shorten_authors(["", "  "]) == "unknown authors"
    assert shorten_authors([" A  B "]) == "A B"
    assert shorten_authors(["A", "B"]) == "A and B"
    assert shorten_authors(["A", "B", "C", "D", "E"]) == "A, B, C, D and E"
    assert shorten_authors(["A", "B", "C", "D", "E", "F"]) == "A, B, C and 3 others"


def test_sentences_and_tldr() -> None:
    assert split_sentences("") == []
    assert split_sentences("  ") == []
    assert split_sentences("One e.g. two. Three et al. four! Five? (Six) end.") == [
        "One e.g. two.",
        "Three et al. four!",
        "Five?",
        "(Six) end.",
    ]
    assert extractive_tldr("") == ""
    abstract = (
        "Graphs are everywhere. To this end, we propose \\textbf{GraphX}, a model. "
        "It is fast. Unrelated closing words."
    )
    assert extractive_tldr(abstract) == "We propose GraphX, a model. It is fast."
    # No contribution sentence: the first one (and the next while short).
    assert extractive_tldr("Background one. Background two.") == "Background one. Background two."
    # Structured abstracts lose their labels.
    assert extractive_tldr("Methods: we study graphs. Results: Good.") == "we study graphs. Good."
    long = "We propose " + "word " * 100 + "end."
    clipped = extractive_tldr(long, limit=60)
    assert clipped == "We propose word word word word word word word word word…"
    assert len(clipped) <= 60
    # The second sentence only when it fits.
    assert (
        extractive_tldr("We propose graphs. " + "Y" * 200 + ".", limit=100) == "We propose graphs."
    )


def test_abbreviations_join_the_sentence_they_end() -> None:
    assert split_sentences("A first one. Models, e.g. BERT, work. Next one.") == [
        "A first one.",
        "Models, e.g. BERT, work.",
        "Next one.",
    ]
    assert split_sentences("See Fig. 2 and Sec. 3. Done.") == ["See Fig. 2 and Sec. 3.", "Done."]


def test_clip_cuts_at_a_word_and_drops_trailing_punctuation() -> None:
    assert _clip("abc def", 7) == "abc def"  # exactly the limit: kept
    assert _clip("abc de fgh", 8) == "abc de…"
    assert _clip("Big MAX, then more", 10) == "Big MAX…"


def test_tldr_takes_the_next_sentence_only_while_short_and_fitting() -> None:
    # Chosen sentence of 10 characters: short only under limit // 2 (10 for 20 and for 21).
    assert extractive_tldr("We did it. Ok.", limit=20) == "We did it."
    assert extractive_tldr("We did it. Ok.", limit=21) == "We did it."
    assert extractive_tldr("We did it. Ok.", limit=22) == "We did it. Ok."
    # 26 characters, under half of 60: the next one is added.
    assert extractive_tldr("We propose graphs for all. Ok.", limit=60) == (
        "We propose graphs for all. Ok."
    )
    # 10 + 1 + 19 = 30 fits a limit of 30; one more character does not.
    assert (
        extractive_tldr("We did it. " + "N" * 18 + ".", limit=30) == "We did it. " + "N" * 18 + "."
    )
    assert extractive_tldr("We did it. " + "N" * 19 + ".", limit=30) == "We did it."
    # A contribution sentence that is only a lead-in is kept as it is.
    assert extractive_tldr("Background here. In this paper,") == "In this paper,"


def test_trend_wording() -> None:
    assert trend_wording({"average": 0, "count": 0, "change_pct": None}) == "none"
    assert trend_wording({"average": 0, "count": 2, "change_pct": None}) == (
        "new: none in the previous 4 weeks"
    )
    assert trend_wording({"average": 1, "count": 1, "change_pct": 4.9}) == "level"
    assert trend_wording({"average": 1, "count": 1, "change_pct": -4.9}) == "level"
    assert trend_wording({"average": 1, "count": 1, "change_pct": 5}) == "up 5 %"
    assert trend_wording({"average": 1, "count": 1, "change_pct": -5}) == "down 5 %"


def test_bench_line() -> None:
    base = {"model": "m", "backend": "b", "device": "d", "batch_size": 1, "threads": 2}
    config = "m b/d batch 1 threads 2"
    assert (
        bench_line({**base, "verdict": "new", "p50_now": 1.23456}) == f"{config}: new, p50 1.23 ms"
    )
    assert bench_line({**base, "verdict": "new"}) == f"{config}: new"
    assert bench_line({**base, "verdict": "failed", "error": "boom"}) == f"{config}: failed (boom)"
    assert bench_line({**base, "verdict": "failed"}) == (
        f"{config}: failed (see dlradar bench show)"
    )
    regression = {
        **base,
        "verdict": "regression",
        "p50_before": 1,
        "p50_now": 2,
        "change_pct": 100.04,
    }
    assert bench_line(regression) == f"REGRESSION: {config}: p50 1 -> 2 ms (+100 %), regression"
    same = {**base, "verdict": "unchanged", "p50_before": 1, "p50_now": 1, "change_pct": 0}
    assert bench_line(same) == f"{config}: p50 1 -> 1 ms (0 %), unchanged"
    slower = {**base, "verdict": "unchanged", "p50_before": 1, "p50_now": 1, "change_pct": 0.5}
    assert bench_line(slower) == f"{config}: p50 1 -> 1 ms (+0.5 %), unchanged"
    faster = {**base, "verdict": "improvement", "p50_before": 2, "p50_now": 1, "change_pct": -50}
    assert bench_line(faster) == f"{config}: p50 2 -> 1 ms (-50 %), improvement"


def test_trend_chart() -> None:
    assert trend_chart_svg([]) == ""
    # Every count and average zero: no division by zero, empty bars.
    svg = trend_chart_svg([{"family": "<x>", "count": 0, "average": 0.0}], width=300)
    assert 'width="300" height="54"' in svg and "&lt;x&gt;" in svg
    assert 'width="0.0" height="14"' in svg
