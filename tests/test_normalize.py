"""Normalisation: arXiv ids, titles, authors, dates, dedup keys."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.normalize import (
    canonical_categories,
    canonical_category,
    clean_author,
    clean_text,
    clean_title,
    iso_date,
    normalize_doi,
    split_arxiv_id,
    split_authors,
    title_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://arxiv.org/abs/2202.12139v3", ("2202.12139", 3)),
        ("https://arxiv.org/pdf/1706.03762v7.pdf", ("1706.03762", 7)),
        ("oai:arXiv.org:2508.13167v1", ("2508.13167", 1)),
        ("arXiv:1512.03385", ("1512.03385", None)),
        ("0704.0001", ("0704.0001", None)),
        ("astro-ph/0601001v2", ("astro-ph/0601001", 2)),
        ("http://arxiv.org/abs/math.AP/0601001v1", ("math.AP/0601001", 1)),
        ("not an id", (None, None)),
        ("", (None, None)),
    ],
)
def test_split_arxiv_id(raw: str, expected: tuple[str | None, int | None]) -> None:
    assert split_arxiv_id(raw) == expected


def test_clean_title_removes_tex_and_whitespace() -> None:
    assert (
        clean_title("Parameters vs {FLOP}s: Scaling\n  Laws") == "Parameters vs FLOPs: Scaling Laws"
    )
    assert (
        clean_title(r"\emph{Deep} Learning with $\ell_1$ \& more")
        == "Deep Learning with ell_1 & more"
    )
    assert clean_title(r"Schr\"{o}dinger bridges") == "Schrödinger bridges"


def test_clean_text_collapses_arxiv_line_breaks() -> None:
    assert (
        clean_text("  Large multimodal\nfoundation   models\n")
        == "Large multimodal foundation models"
    )


def test_authors() -> None:
    assert clean_author("Abnar, Samira") == "Samira Abnar"
    assert clean_author("Jos\\'e  Garc\\'{i}a") == "José García"
    assert split_authors("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]


def test_iso_dates() -> None:
    assert iso_date("2025-08-20T00:00:00-04:00") == "2025-08-20"
    assert iso_date("Mon, 2 Apr 2007 19:18:42 GMT") == "2007-04-02"
    assert iso_date(dt.datetime(2024, 1, 2, 3, 4)) == "2024-01-02"
    assert iso_date("2019") == "2019-01-01"
    assert iso_date("soon") is None
    assert iso_date(None) is None


def test_doi() -> None:
    assert normalize_doi("https://doi.org/10.1007/S11005-017-1013-4") == "10.1007/s11005-017-1013-4"
    assert normalize_doi("") is None


def test_title_key_ignores_case_punctuation_tex_and_accents() -> None:
    a = title_key("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"])
    b = title_key("attention is all you need.", ["Vaswani, Ashish"])
    assert a == b == "attention is all you need|vaswani"
    assert title_key("Über {GAN}s", ["Ángel Ñúñez"]) == "uber gans|nunez"


def test_clean_title_fast_path_collapses_whitespace_like_split_and_join() -> None:
    import random

    from tracker.normalize import clean_title

    blanks = [" ", "\n", "\t", "\r", "\x0b", "\x1c", "\u00a0", "\u2003"]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(["a", "b", *blanks]) for _ in range(rng.randint(1, 8)))
        assert clean_title(text) == " ".join(text.split()), repr(text)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("cs.lg", "cs.LG"),
        ("CS.LG", "cs.LG"),
        (" Stat.ml ", "stat.ML"),
        ("math.oc", "math.OC"),
        ("Q-BIO.nc", "q-bio.NC"),
        ("astro-ph.co", "astro-ph.CO"),
        ("cond-mat.Stat-Mech", "cond-mat.stat-mech"),
        ("PHYSICS.COMP-PH", "physics.comp-ph"),
        ("physics.Optics", "physics.optics"),
        ("HEP-TH", "hep-th"),
        ("cs.LG", "cs.LG"),
        ("Machine Learning (cs.LG)", "Machine Learning (cs.LG)"),  # no category: as given
    ],
)
def test_canonical_category_is_arxivs_spelling(typed: str, canonical: str) -> None:
    assert canonical_category(typed) == canonical


def test_canonical_categories_drop_repeats_in_order() -> None:
    assert canonical_categories(["cs.lg", "CS.CV", "cs.LG"]) == ["cs.LG", "cs.CV"]
