"""Saved interests: reading them from the settings, ranking papers by them, the reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from core.config import load_settings
from core.db import transaction
from core.errors import ConfigError
from tracker.interests import Interests, papers_by_interests, rank_by_interests
from tracker.query import PaperFilter
from tracker.record import PaperRecord
from tracker.store import PaperStore


def add(
    db: sqlite_utils.Database,
    title: str,
    abstract: str,
    *,
    authors: tuple[str, ...] = ("Jane Doe",),
    published: str = "2025-03-01",
    venue: str = "arXiv",
    families: tuple[str, ...] = (),
) -> int:
    record = PaperRecord(
        source="jsonl", source_id=title, title=title, abstract=abstract, authors=list(authors),
        published=published, year=int(published[:4]), venue=venue, categories=["cs.LG"],
    )  # fmt: skip
    with transaction(db):
        PaperStore(db).add([record])
        paper_id = int(db.execute("SELECT max(id) FROM papers").fetchone()[0])
        for family in families:
            db.execute(
                "INSERT INTO paper_families VALUES (?, ?, 1.0, '[]', 'test')", [paper_id, family]
            )
    return paper_id


@pytest.fixture
def library(db: sqlite_utils.Database) -> dict[str, int]:
    return {
        "moe_title": add(db, "Scaling mixture of experts language models",
                         "Sparse layers route tokens.", families=("moe", "transformer")),
        "moe_abstract": add(db, "Efficient sparse models",
                            "We study a mixture of experts layer for speech.",
                            published="2025-04-01"),
        "words_apart": add(db, "Experts in a mixture", "Of experts, a mixture of opinions."),
        "gu": add(db, "Selective state spaces", "Linear-time sequence modelling.",
                  authors=("Albert Gu", "Tri Dao"), families=("ssm",)),
        "neurips_gu": add(db, "Structured state spaces", "Long sequences.",
                          authors=("Albert Gu",), venue="NeurIPS", families=("ssm",),
                          published="2022-01-01"),
        "unrelated": add(db, "Image segmentation with convolutions", "U-Net variants.",
                         families=("cnn",)),
    }  # fmt: skip


def test_interests_from_settings(tmp_path: Path) -> None:
    config = tmp_path / "dlradar.toml"
    config.write_text(
        '[interests]\nkeywords = ["mixture of experts", " "]\nfamilies = ["ssm"]\n'
        'authors = ["Albert Gu"]\n'
    )
    interests = Interests.from_settings(load_settings(config))
    assert interests == Interests(("mixture of experts",), ("ssm",), ("Albert Gu",))
    assert not interests.is_empty()
    assert Interests().is_empty()


def test_unknown_interest_families_are_a_config_error_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # They were dropped silently: the ranking just never matched them.
    config = tmp_path / "dlradar.toml"
    config.write_text('[interests]\nfamilies = ["ssm", "transformers"]\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert message.startswith(f"{config}: interests.families: unknown family 'transformers';")
    assert "the families are mlp, cnn," in message and "transformer" in message
    # Ids in another case are the taxonomy's (as --family takes them); blanks are dropped.
    config.write_text('[interests]\nfamilies = ["SSM", " Moe ", " "]\n')
    assert Interests.from_settings(load_settings(config)).families == ("ssm", "moe")
    monkeypatch.setenv("DLRADAR_INTERESTS_FAMILIES", "ssm,gans")
    with pytest.raises(ConfigError, match=r"^DLRADAR_INTERESTS_FAMILIES: .* unknown family 'gans'"):
        load_settings(config)


def test_ranking_and_reasons(db: sqlite_utils.Database, library: dict[str, int]) -> None:
    interests = Interests(
        keywords=("mixture of experts",), families=("ssm",), authors=("albert gu",)
    )
    ranked = rank_by_interests(db, interests)
    by_id = {r.paper["id"]: r for r in ranked}
    order = [r.paper["id"] for r in ranked]
    # Family 2 + author 2.5 + venue 0.5 beats family + author, beats a title match (3),
    # beats an abstract match (1); words apart are no phrase match; no match, no row.
    assert order == [
        library["neurips_gu"],
        library["gu"],
        library["moe_title"],
        library["moe_abstract"],
    ]
    assert by_id[library["neurips_gu"]].reason == "family ssm; author Albert Gu; at NeurIPS"
    assert by_id[library["gu"]].score == pytest.approx(4.5)
    assert by_id[library["moe_title"]].reason == 'matches "mixture of experts" in the title'
    assert by_id[library["moe_title"]].score == pytest.approx(3.0)
    assert by_id[library["moe_abstract"]].reason == 'matches "mixture of experts" in the abstract'
    assert "\n" not in "".join(r.reason for r in ranked)
    # Without the venue bonus the two Gu papers tie and the newer wins.
    plain = rank_by_interests(db, interests, venue_bonus=False)
    assert [r.paper["id"] for r in plain][:2] == [library["gu"], library["neurips_gu"]]


def test_an_author_interest_takes_percent_and_underscore_literally(
    db: sqlite_utils.Database,
) -> None:
    literal = add(db, "One", "Text.", authors=("j_smith",))
    add(db, "Two", "Text.", authors=("jasmith",))  # "j_smith" as a LIKE pattern matched it
    ranked = rank_by_interests(db, Interests(authors=("J_Smith",)))
    assert [(r.paper["id"], r.reason) for r in ranked] == [(literal, "author j_smith")]


def test_an_author_interest_ignores_accents(db: sqlite_utils.Database) -> None:
    accented = add(db, "One", "Text.", authors=("Dirk Wübben",))
    ranked = rank_by_interests(db, Interests(authors=("Wubben",)))
    assert [(r.paper["id"], r.reason) for r in ranked] == [(accented, "author Wubben")]


def test_filter_limit_and_empty_interests(
    db: sqlite_utils.Database, library: dict[str, int]
) -> None:
    interests = Interests(keywords=("mixture of experts",), families=("ssm",))
    recent = rank_by_interests(db, interests, filter=PaperFilter(since="2025-01-01"), limit=2)
    assert [r.paper["id"] for r in recent] == [library["moe_title"], library["gu"]]  # 3 > 2
    searched = rank_by_interests(db, interests, filter=PaperFilter(search="speech"))
    assert [r.paper["id"] for r in searched] == [library["moe_abstract"]]
    assert rank_by_interests(db, Interests()) == []
    # Two keywords, each scored where it matches; equal scores: the newer paper first.
    several = rank_by_interests(db, Interests(keywords=("sparse", "mixture of experts")))
    assert [(r.paper["id"], r.score, r.reason) for r in several] == [
        (library["moe_abstract"], 4.0,
         'matches "sparse" in the title, "mixture of experts" in the abstract'),
        (library["moe_title"], 4.0,
         'matches "mixture of experts" in the title, "sparse" in the abstract'),
    ]  # fmt: skip


def test_papers_by_interests_rows(
    db: sqlite_utils.Database, library: dict[str, int], tmp_path: Path
) -> None:
    config = tmp_path / "dlradar.toml"
    config.write_text('[interests]\nfamilies = ["cnn"]\n')
    rows = papers_by_interests(db, load_settings(config), PaperFilter(), 0)
    assert [(r["id"], r["interest_score"], r["reason"]) for r in rows] == [
        (library["unrelated"], 2.0, "family cnn")
    ]
    assert {"title", "authors", "families", "published"} <= set(rows[0])
    config.write_text("")
    with pytest.raises(ConfigError, match="no saved interests"):
        papers_by_interests(db, load_settings(config), PaperFilter(), 10)


def test_keyword_and_family_of_the_same_name_are_two_interests(
    db: sqlite_utils.Database,
) -> None:
    paper = add(db, "A CNN for crops", "Convolutions.", families=("cnn",))
    ranked = rank_by_interests(db, Interests(keywords=("cnn",), families=("cnn",)))
    assert [(r.paper["id"], r.score, r.reason) for r in ranked] == [
        (paper, 5.0, 'matches "cnn" in the title; family cnn')
    ]


@pytest.mark.parametrize("narrow", [0, 50_000])
def test_a_filter_gives_the_same_ranking_whether_or_not_the_index_applies_it(
    db: sqlite_utils.Database,
    library: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    narrow: int,
) -> None:
    from tracker import interests as module

    monkeypatch.setattr(module, "NARROW_FILTER", narrow)
    interests = Interests(keywords=("mixture of experts",), families=("ssm",))
    recent = rank_by_interests(db, interests, filter=PaperFilter(since="2025-01-01"), limit=2)
    assert [r.paper["id"] for r in recent] == [library["moe_title"], library["gu"]]
