"""The promotion decision: the alias moves only on a like-for-like comparison that the candidate wins."""

from __future__ import annotations

import dataclasses

import pytest
from promotion import Contender, decide, differences

DIGITS = tuple(str(digit) for digit in range(10))
RULE = "sha256 salt='digits' held_out=0.2"


def contender(version: str, **changes: object) -> Contender:
    return dataclasses.replace(Contender(version, (16, 16, 1), DIGITS, RULE), **changes)


def test_a_better_like_for_like_candidate_is_promoted():
    decision = decide(contender("2"), 0.95, contender("1"), 0.90)

    assert decision.promote and decision.compared and not decision.overridden
    assert "0.9500 vs 0.9000 of champion version 1 on the same held-out images" in decision.reason


@pytest.mark.parametrize("score", [0.90, 0.85])
def test_a_tie_or_a_worse_candidate_keeps_the_champion(score):
    decision = decide(contender("2"), score, contender("1"), 0.90)

    assert not decision.promote and decision.compared
    assert "the champion stays" in decision.reason


def test_without_a_champion_the_first_model_becomes_it():
    decision = decide(contender("1"), 0.5, None)

    assert decision.promote and not decision.compared
    assert decision.reason.startswith("no champion yet: version 1 becomes the champion")


def test_another_input_shape_is_not_compared_and_says_why():
    decision = decide(
        contender("2", input_shape=(32, 32, 1)), 0.99, contender("1"), None, override_name="--promote-anyway"
    )

    assert not decision.promote and not decision.compared
    assert "input shape 32x32x1 differs from the champion's 16x16x1" in decision.reason
    assert decision.reason.endswith("the champion stays (--promote-anyway promotes version 2 anyway)")


def test_the_override_promotes_what_cannot_be_compared_and_says_so():
    decision = decide(
        contender("2", input_shape=(32, 32, 1)), 0.5, contender("1"), override=True, override_name="--promote-anyway"
    )

    assert decision.promote and decision.overridden and not decision.compared
    assert decision.reason.startswith("promoted anyway (--promote-anyway): version 2 replaces champion version 1")


def test_the_override_promotes_a_candidate_that_loses():
    decision = decide(contender("2"), 0.5, contender("1"), 0.9, override=True)

    assert decision.promote and decision.overridden and decision.compared
    assert "does not win" in decision.reason


def test_class_lists_must_match_in_names_and_order():
    assert differences(contender("2", class_names=DIGITS[::-1]), contender("1")) == [
        "the same 10 classes in another order"
    ]
    [reason] = differences(contender("2", class_names=(*DIGITS, "x")), contender("1", class_names=(*DIGITS[:9], "y")))
    assert reason == "class list differs from the champion's: 2 new ('9', 'x'), 1 gone ('y')"
    assert differences(contender("2"), contender("1")) == []


def test_other_or_unknown_held_out_images_are_not_compared():
    [other] = differences(contender("2"), contender("1", held_out="sha256 salt='x' held_out=0.2"))
    assert "held-out images differ" in other
    [unknown] = differences(contender("2"), contender("1", held_out=""))
    assert "the champion's held-out images are unknown" in unknown


def test_every_difference_is_named():
    champion = contender("1", input_shape=(8, 8, 3), class_names=("a", "b"), held_out="")

    assert len(differences(contender("2"), champion)) == 3


def test_a_comparable_champion_must_have_been_scored():
    with pytest.raises(ValueError, match="not scored"):
        decide(contender("2"), 0.9, contender("1"), None)
