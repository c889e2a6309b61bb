"""Every basis the Advisor gives a recommendation has its own words on the live page, and a card whose mix is
the recommendation's says why with the basis's own reason."""

from __future__ import annotations

import pytest

from strategist.advice.bases import BASES, KEPT_HABIT, KEPT_RECOMMENDATION
from strategist.app.text import BASIS_WORDS, basis_words, same_as_recommended


def test_every_basis_the_advisor_gives_has_words_and_no_words_are_left_over():
    assert set(BASIS_WORDS) == set(BASES)


@pytest.mark.parametrize("basis", BASES)
def test_no_basis_is_shown_raw(basis):
    assert basis_words(basis) != basis


def test_the_words_tell_the_bases_apart():
    assert len({basis_words(b) for b in BASES}) == len(BASES)


def test_a_basis_without_words_is_shown_as_it_is():
    assert basis_words("something new") == "something new"


def test_a_card_equal_to_the_recommendation_gives_the_kept_bases_own_reason():
    assert same_as_recommended(KEPT_RECOMMENDATION) == ("the same as recommended: no exploitation within the "
                                                        "margin that the data support")
    assert same_as_recommended(KEPT_HABIT) == ("the same as recommended: against the prediction, no advised shot "
                                               "gains enough for the data to support a change")
    for basis in ("best response", "safe exploitation"):
        assert same_as_recommended(basis) == "the same as recommended: no shot beats it at the lower bound here"


def test_a_safe_exploitation_at_margin_0_says_that_the_margin_allows_none():
    assert same_as_recommended("safe exploitation", 0.0) == ("the same as recommended: a margin of 0 points "
                                                             "allows no exploitation")
    assert same_as_recommended("safe exploitation", 0.03).endswith("no shot beats it at the lower bound here")
    assert same_as_recommended("best response", 0.0).endswith("no shot beats it at the lower bound here")
