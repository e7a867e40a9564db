"""The tagger's arithmetic on a small made-up taxonomy (#21: tests that fail when a contract breaks).

tests/test_tagging.py checks verdicts on real titles with the shipped taxonomy, whose numbers
leave room: a factor a little off still tags the same papers. Here every number is chosen so
that each rule moves a confidence visibly, and the confidences are asserted exactly:

    strength of a mention = weight * (title 0.9 | abstract 0.8) * (background 0.5) * cue factors
    confidence            = 1 - prod(1 - strength) over the family's mentions (one per sentence,
                            one phrase counted at most twice), tagged at 0.5 (0.3 for a title alone)
"""

from __future__ import annotations

import pytest

from tracker.tagging.classify import Classification, Tagger, classify
from tracker.tagging.matcher import Matcher, _forms, _tokenise
from tracker.tagging.rules import parse_taxonomy

TAXONOMY = parse_taxonomy(
    {
        "scoring": {
            "threshold": 0.5,
            "title_only_threshold": 0.3,
            "title_factor": 0.9,
            "abstract_factor": 0.8,
            "background_factor": 0.5,
            "repeat_limit": 2,
        },
        "families": {
            "alpha": {
                "terms": [
                    {"names": ["alpha net"], "weight": 0.6, "also": {"beta": 0.3}},
                    {"names": ["ALF"], "weight": 0.7, "case_sensitive": True},
                    {"names": ["alpha hint"], "weight": 0.9, "title_only": True},
                    {"names": ["big alpha net"], "weight": 0.7},
                    {"names": ["alpha net block"], "weight": 0.65},
                ],
                "negatives": [{"names": ["graph alpha net"]}],
            },
            "beta": {"terms": [{"names": ["beta layer"], "weight": 0.55}]},
            "child": {"parents": ["alpha"], "terms": [{"names": ["child block"], "weight": 0.8}]},
            "gamma": {
                "terms": [
                    {"names": ["gamma attention"], "weight": 0.7, "unless": ["beta", "flag:nog"]}
                ]
            },
            "policy": {"terms": [{"names": ["policy"], "weight": 0.7}]},
        },
        "flags": {"nog": {"phrases": ["no gamma"]}},
        "context": {
            "own": {"factor": 1.0, "own": True, "cues": ["we"]},
            "passing": {"factor": 0.5, "carry": True, "cues": ["unlike"]},
            "critique": {"factor": 0.25, "in_title": False, "cues": ["fails"]},
            "strong": {"factor": 2.0, "cues": ["notably"]},
        },
    }
)


class _Tagger:
    """A fresh Tagger (and Matcher) for every text: building one is part of what is tested."""

    def classify(self, title: str, abstract: str = "") -> Classification:
        return Tagger(TAXONOMY).classify(title, abstract)


TAGGER = _Tagger()


def tag(title: str, abstract: str = "") -> dict[str, float]:
    return TAGGER.classify(title, abstract).confidence


def test_a_title_alone_uses_the_title_factor_and_its_own_threshold() -> None:
    result = TAGGER.classify("Alpha net")
    # alpha 0.6 * 0.9 = 0.54; beta 0.3 * 0.9 = 0.27 is under the title-only threshold of 0.3.
    assert result == Classification(["alpha"], {"alpha": ["alpha net"]}, {"alpha": 0.54})


def test_one_abstract_mention_is_under_the_threshold_and_two_are_over() -> None:
    assert tag("", "We build an alpha net.") == {}  # 0.6 * 0.8 = 0.48 < 0.5
    # Two sentences: 1 - 0.52 ** 2 = 0.7296.
    assert tag("", "We build an alpha net. The alpha net works.") == {"alpha": 0.73}


def test_a_phrase_counts_at_most_repeat_limit_times() -> None:
    text = "We build an alpha net. The alpha net works. The alpha net wins."
    assert tag("", text) == {"alpha": 0.73}
    # Another phrase of the family still adds up: 1 - 0.52 ** 2 * (1 - 0.56).
    assert tag("", text + " The big alpha net too.") == {"alpha": 0.881}


def test_one_sentence_is_one_mention_per_family() -> None:
    # "alpha net" and "ALF" in one sentence: the stronger (0.7 * 0.8 = 0.56) only, with both
    # phrases as evidence.
    result = TAGGER.classify("", "We build an alpha net (ALF), an ALF indeed.")
    assert result.confidence == {"alpha": 0.56}
    assert result.evidence == {"alpha": ["alpha net", "ALF"]}


def test_the_longest_phrase_of_a_family_wins_where_phrases_overlap() -> None:
    result = TAGGER.classify("", "We build a big alpha net.")
    assert result.confidence == {"alpha": 0.56}  # "big alpha net": 0.7 * 0.8, not 0.6
    assert result.evidence == {"alpha": ["big alpha net"]}


def test_background_before_the_first_own_sentence_counts_less() -> None:
    # Title 0.54 and a background mention 0.6 * 0.8 * 0.5 = 0.24: 1 - 0.46 * 0.76 = 0.6504.
    assert tag("Alpha net", "The alpha net is known. We build it.") == {"alpha": 0.65}
    # Without any own sentence nothing is background: 1 - 0.46 * 0.52 = 0.7608.
    assert tag("Alpha net", "The alpha net is known. It is built.") == {"alpha": 0.761}


def test_a_passing_cue_weakens_its_clause_and_carries_to_the_next() -> None:
    # Title 0.54; the abstract's mention 0.6 * 0.8 * 0.5 = 0.24 in a clause after "unlike".
    assert tag("Alpha net", "Unlike others, an alpha net wins.") == {"alpha": 0.65}
    assert tag("Alpha net", "Unlike an alpha net, it wins.") == {"alpha": 0.65}
    # Not past the sentence: 0.48 again.
    assert tag("Alpha net", "Unlike others. An alpha net wins.") == {"alpha": 0.761}


def test_an_own_clause_stops_a_carried_cue() -> None:
    # "we" in the clause of the mention: the carried "unlike" no longer applies, 0.48.
    assert tag("Alpha net", "Unlike others, we build an alpha net.") == {"alpha": 0.761}


def test_a_cue_not_for_titles_is_ignored_in_a_title() -> None:
    # "fails" (0.25) does not weaken a title: 0.54 with a title alone.
    assert tag("Alpha net fails") == {"alpha": 0.54}
    # In the abstract it does: title 0.54 and 0.6 * 0.8 * 0.25 = 0.12.
    assert tag("Alpha net", "The alpha net fails.") == {"alpha": 0.595}
    # And it does not carry to the next clause: 0.48 there.
    assert tag("Alpha net", "It fails, an alpha net.") == {"alpha": 0.761}


def test_a_title_only_phrase_counts_only_for_a_title_alone() -> None:
    assert tag("Alpha hint") == {"alpha": 0.81}
    assert tag("Alpha hint", "Nothing here.") == {}
    assert tag("Alpha hint and beta layer", "Nothing here.") == {}  # beta 0.495 < 0.5
    assert TAGGER.classify("Alpha hint, alpha hint").confidence == {"alpha": 0.81}


def test_a_negative_phrase_cancels_the_term_it_overlaps_for_its_family_only() -> None:
    # "graph alpha net" cancels alpha's "alpha net", not beta's vote from the same words.
    assert tag("Graph alpha net") == {}  # beta 0.27 < 0.3
    # beta: 0.55 * 0.8 = 0.44 and, from "graph alpha net", 0.3 * 0.8 = 0.24: 1 - 0.56 * 0.76.
    assert tag("", "A beta layer. A graph alpha net.") == {"beta": 0.574}
    assert tag("Graph alpha net, ALF") == {"alpha": 0.63}  # ALF, in its own clause


def test_case_sensitive_phrases_match_only_as_written() -> None:
    assert tag("ALF") == {"alpha": 0.63}
    assert tag("Alf") == {}
    assert tag("ALFs") == {"alpha": 0.63}  # plural of a case-sensitive name


def test_a_child_family_tags_its_parents_with_its_confidence_and_evidence() -> None:
    result = TAGGER.classify("Child block")
    assert result.families == ["alpha", "child"]
    assert result.confidence == {"alpha": 0.72, "child": 0.72}
    assert result.evidence == {"alpha": ["child block"], "child": ["child block"]}
    # A parent keeps the higher of its own confidence and the child's, and both evidences.
    both = TAGGER.classify("Alpha net child block")
    assert both.confidence == {"alpha": 0.72, "child": 0.72}
    assert both.evidence["alpha"] == ["alpha net", "child block"]


def test_unless_cancels_a_term_when_the_family_or_flag_is_present() -> None:
    assert tag("Gamma attention") == {"gamma": 0.63}
    assert tag("Gamma attention beta layer") == {"beta": 0.495}  # beta present: no gamma
    assert tag("Gamma attention, no gamma") == {}  # the flag
    # beta under the threshold is not present: gamma counts.
    assert tag("", "We use gamma attention. Gamma attention again. A beta layer here.") == {
        "gamma": 0.806
    }
    # beta tagged (1 - 0.56 ** 2): gamma's mentions no longer count.
    assert tag("", "We use gamma attention. A beta layer. A beta layer again.") == {"beta": 0.686}


def test_empty_texts() -> None:
    assert TAGGER.classify("", "") == Classification([])
    assert TAGGER.classify("Nothing at all", "Still nothing.") == Classification([])


def test_plural_forms() -> None:
    assert _forms("policy") == ["policy", "policys", "policyes", "policies"]
    assert _forms("POLICY") == ["POLICY", "POLICYs", "POLICYes", "POLICIES"]
    assert _forms("day") == ["day", "days", "dayes"]  # a vowel before the y
    assert _forms("spy") == ["spy", "spys", "spyes"]  # too short for -ies
    assert _forms("x") == ["x"]
    assert _forms("42") == ["42"]
    assert tag("Policies") == {"policy": 0.63}


def test_tokens() -> None:
    assert _tokenise("GPT-4o, ResNet50: e.g. x") == (
        ["gpt", "4", "o", ",", "resnet", "50", ":", "e", "g", ".", "x"],
        None,
    )
    assert _tokenise("Café, ÉTÉ") == (["caf", ",", "t"], ["Caf", ",", "T"])


@pytest.mark.parametrize(
    ("abstract", "sentences"),
    [
        ("We build an alpha net. We build an alpha net.", [0, 1]),
        ("We build an alpha net, e.g. an alpha net.", [0, 0]),
        ("An alpha net (Smith et al. 2020) and an alpha net.", [0, 0]),
        ("See Fig. 3 for an alpha net. An alpha net.", [0, 1]),
        ("An alpha net in 2. An alpha net.", [0, 1]),
        ("An alpha net v. 2 and an alpha net.", [0, 0]),
        ("An alpha net! An alpha net? An alpha net.", [0, 1, 2]),
        # A full stop right after the first word ends a sentence too.
        ("Done. An alpha net. An alpha net.", [1, 2]),
        # Two letters are a word, not an initial.
        ("An alpha net as we do. An alpha net.", [0, 1]),
    ],
)
def test_sentences_end_at_marks_but_not_after_abbreviations(
    abstract: str, sentences: list[int]
) -> None:
    clauses = Matcher(TAXONOMY).clauses("", abstract)
    assert [c.sentence for c in clauses if c.terms] == sentences


def test_clauses_end_at_commas_and_dashes() -> None:
    matcher = Matcher(TAXONOMY)
    clauses = matcher.clauses("Alpha net - ALF", "Unlike X, an alpha net; ALF")
    assert [(c.sentence, c.in_title, len(c.terms)) for c in clauses] == [
        (-1, True, 1),
        (-1, True, 1),
        (0, False, 0),
        (0, False, 1),
        (0, False, 1),
    ]
    assert [len(c.cues) for c in clauses] == [0, 0, 1, 0, 0]


def test_a_phrase_without_a_word_is_refused() -> None:
    bad = parse_taxonomy({"families": {"x": {"terms": [{"names": ["--"], "weight": 0.5}]}}})
    with pytest.raises(ValueError, match=r"taxonomy phrase '--' has no word"):
        Matcher(bad)


def test_strength_is_capped_below_certainty() -> None:
    # 0.6 * 0.9 * 2 = 1.08 and 0.7 * 0.9 * 2 = 1.26: each mention counts 0.99 at most.
    assert tag("Notably alpha net") == {"alpha": 0.99, "beta": 0.54}
    assert tag("Notably big alpha net") == {"alpha": 0.99, "beta": 0.54}


def test_of_two_phrases_starting_together_the_longer_counts() -> None:
    result = TAGGER.classify("Alpha net block")
    assert result.confidence == {"alpha": 0.585}  # 0.65 * 0.9, not also "alpha net"
    assert result.evidence == {"alpha": ["alpha net block"]}


def test_a_skipped_phrase_does_not_hide_the_rest_of_its_clause() -> None:
    # "alpha hint" (title only) is skipped with an abstract; "beta layer" after it still counts.
    assert tag("", "We use alpha hint and beta layer. A beta layer again.") == {"beta": 0.686}
    # "alpha net" inside "big alpha net" is skipped for alpha, but still votes for beta:
    # 0.3 * 0.8 = 0.24 and 0.44: 1 - 0.76 * 0.56.
    assert tag("", "A big alpha net. A beta layer.") == {"alpha": 0.56, "beta": 0.574}


@pytest.mark.parametrize(
    ("title", "confidence"),
    [
        ("Graph alpha net and an alpha net", {"alpha": 0.54}),  # the second does not overlap
        ("Alpha net graph alpha net", {"alpha": 0.54}),  # the negative starts where it ends
        ("Graph alpha net alpha net", {"alpha": 0.54}),  # the negative ends where it starts
    ],
)
def test_a_negative_cancels_only_what_it_overlaps(title: str, confidence: dict[str, float]) -> None:
    assert tag(title) == confidence


def test_the_first_own_sentence_ends_the_background() -> None:
    # Own in sentence 0: nothing is background, even with a later own sentence.
    assert tag("", "We build an alpha net. An alpha net here. We say so.") == {"alpha": 0.73}
    # Own first in sentence 1: sentence 0 is background (0.24), sentence 2 is not (0.48).
    assert tag("", "The alpha net is known. We build it. An alpha net here. We say so.") == {
        "alpha": 0.605
    }


def test_merged_mentions_of_a_sentence_keep_every_phrase() -> None:
    result = TAGGER.classify("", "An alpha net, an ALF.")
    assert result.confidence == {"alpha": 0.56}
    assert result.evidence == {"alpha": ["alpha net", "ALF"]}


def test_the_repeat_limit_drops_the_weakest_mentions() -> None:
    # Title 0.54, background 0.24, own 0.48: the two strongest count, 1 - 0.46 * 0.52.
    result = TAGGER.classify("Alpha net", "The alpha net is known. We build an alpha net.")
    assert result.confidence == {"alpha": 0.761}
    # Past the limit for one phrase, weaker mentions of other phrases still count:
    # 0.48, 0.48 (a third one dropped) and a background ALF 0.28: 1 - 0.52 ** 2 * 0.72.
    text = "An ALF is known. We build an alpha net. The alpha net works. The alpha net wins."
    assert tag("", text) == {"alpha": 0.805}


def test_a_confidence_equal_to_the_threshold_is_tagged() -> None:
    exact = Tagger(
        parse_taxonomy(
            {
                "scoring": {"threshold": 0.5, "title_only_threshold": 0.5, "title_factor": 1.0},
                "families": {
                    "half": {"terms": [{"names": ["half"], "weight": 0.5}]},
                    "cond": {"terms": [{"names": ["cond"], "weight": 0.9, "unless": ["half"]}]},
                },
            }
        )
    )
    assert exact.classify("Half").confidence == {"half": 0.5}
    # ... and so counts as present for `unless`.
    assert exact.classify("Half cond").confidence == {"half": 0.5}


def test_to_json_keeps_non_ascii_evidence() -> None:
    result = Classification(["x"], {"x": ["naïve net"]}, {"x": 0.5})
    assert result.to_json() == (
        '{"families": ["x"], "evidence": {"x": ["naïve net"]}, "confidence": {"x": 0.5}}'
    )


def test_classify_without_an_abstract_is_a_title_alone() -> None:
    # "ImageNet classification" counts for cnn in a title classified alone only.
    assert "cnn" in classify("ImageNet classification with deep networks").families


def test_the_matcher_keeps_its_taxonomy() -> None:
    assert Matcher(TAXONOMY).taxonomy is TAXONOMY


def test_more_plural_forms() -> None:
    assert _forms("AI") == ["AI", "AIs", "AIes"]
    assert _forms("copy") == ["copy", "copys", "copyes", "copies"]
    assert _forms("study") == ["study", "studys", "studyes", "studies"]
    assert _forms("BOXY") == ["BOXY", "BOXYs", "BOXYes", "BOXIES"]
    assert _forms("PLAY") == ["PLAY", "PLAYs", "PLAYes"]
    assert _forms("play") == ["play", "plays", "playes"]
    assert _forms("Marx") == ["Marx", "Marxs", "Marxes"]
    assert _forms("MARX") == ["MARX", "MARXs", "MARXes"]  # no -IES but after a Y


def test_a_tagger_without_an_abstract_classifies_a_title_alone() -> None:
    # The title-only phrase and the title-only threshold apply.
    assert Tagger(TAXONOMY).classify("Alpha hint").confidence == {"alpha": 0.81}
