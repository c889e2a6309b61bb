"""Gifts of a match, summed by hand: each of the player's decisions in a finished rally adds Q_s[a] · q_s − v_s,
decisions outside the game are counted as skipped, the allowed margin is max(0, total)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from strategist.advice import gifts as gifts_module
from strategist.advice.gifts import Gifts, decision_gift, match_gifts


class Stage:
    def __init__(self, rows, mean, observed):
        self.rows, self.mean, self.observed_column = rows, np.asarray(mean), observed


class Game:
    """Two situations of the player: after a serve, and after a lob; 'after a clear' is not in the game."""

    def __init__(self):
        self.labels = ["player: after serve", "opponent: x", "player: after lob"]
        self.stages = {0: Stage(["lob", "drop"], [[0.6, 0.2], [0.4, 0.5]], [0.75, 0.25]),
                       2: Stage(["smash", "clear"], [[0.9, 0.3], [0.5, 0.5]], [0.5, 0.5])}
        self.values = {0: 0.45, 2: 0.55}

    def index(self, name):
        return self.labels.index(name)

    def stage(self, g):
        return self.stages[g]

    def value(self, g):
        return self.values[g]


@pytest.fixture
def advisor(monkeypatch):
    seen = []

    def state_before(sport, shots, hitters, player, *, areas, heights, rally, zones, with_heights):
        seen.append({"sport": sport, "shots": tuple(shots), "hitters": tuple(hitters), "player": player,
                     "areas": tuple(areas), "heights": tuple(heights), "rally": rally, "zones": zones,
                     "with_heights": with_heights})
        return f"after {shots[-1]}" if shots else "start"

    monkeypatch.setattr(gifts_module, "state_before", state_before)
    return SimpleNamespace(sport="badminton", player="Ann", rally_rule="rule", zones="zones", heights=True,
                           game=Game(), seen=seen)


# after serve, lob: 0.6 * 0.75 + 0.2 * 0.25 - 0.45 = 0.05; drop: 0.4 * 0.75 + 0.5 * 0.25 - 0.45 = -0.025
# after lob, smash: 0.9 * 0.5 + 0.3 * 0.5 - 0.55 = 0.05; clear: 0.5 - 0.55 = -0.05
STROKES = [{"shot": "serve", "hitter": "Bea", "landing_area": "1", "landing_height": "low"},
           {"shot": "lob", "hitter": "Ann", "landing_area": "9", "landing_height": "high"},
           {"shot": "lob", "hitter": "Bea"},
           {"shot": "smash", "hitter": "Ann"}]


def test_a_decision_gift_by_hand_and_the_situation_it_is_read_in(advisor):
    from strategist.advice.history import read_history

    rally = read_history(STROKES)
    assert decision_gift(advisor, rally, 1) == pytest.approx(0.05)
    assert advisor.seen[-1] == {"sport": "badminton", "shots": ("serve",), "hitters": ("Bea",), "player": "Ann",
                                "areas": ("1",), "heights": ("low",), "rally": "rule", "zones": "zones",
                                "with_heights": True}
    assert decision_gift(advisor, rally, 3) == pytest.approx(0.05)
    assert advisor.seen[-1]["shots"] == ("serve", "lob", "lob") and advisor.seen[-1]["areas"] == ("1", "9", None)
    drop = read_history([STROKES[0], {"shot": "drop", "hitter": "Ann"}])
    assert decision_gift(advisor, drop, 1) == pytest.approx(-0.025)
    assert decision_gift(advisor, read_history([STROKES[0], {"shot": "smash", "hitter": "Ann"}]), 1) is None
    assert decision_gift(advisor, read_history([{"shot": "clear", "hitter": "Bea"},
                                                {"shot": "lob", "hitter": "Ann"}]), 1) is None
    # an opponent's situation of the same words is not the player's
    advisor.game.labels[0] = "opponent: after serve"
    assert decision_gift(advisor, rally, 1) is None


def test_match_gifts_sum_the_finished_rallies_only(advisor):
    clear_rally = [STROKES[0], {"shot": "clear", "hitter": "Ann"}, {"shot": "clear", "hitter": "Bea"},
                   {"shot": "lob", "hitter": "Ann"}]           # after serve: clear not a row; after clear: no game
    rallies = [(1, STROKES, True), (2, [STROKES[0], {"shot": "drop", "hitter": "Ann"}], True),
               (3, STROKES, False), (4, clear_rally, True), (7, [], True)]
    result = match_gifts(advisor, rallies)
    assert result.total == pytest.approx(0.1 - 0.025)
    assert result.decisions == 3 and result.skipped == 2
    assert [n for n, _ in result.per_rally] == [1, 2, 4, 7]
    assert [g for _, g in result.per_rally] == pytest.approx([0.1, -0.025, 0.0, 0.0])
    assert result.allowed == pytest.approx(0.075)
    assert match_gifts(advisor, []) == Gifts(0.0, 0, 0, ())


def test_the_allowed_margin_is_never_negative():
    assert Gifts(-0.2, 3, 0, ()).allowed == 0.0
    assert Gifts(0.0, 0, 0, ()).allowed == 0.0
    assert Gifts(0.125, 2, 1, ()).allowed == 0.125


def test_a_gift_is_summed_in_float64_from_float32_stage_arrays(advisor):
    from strategist.advice.history import read_history

    mean32 = np.array([[0.1, 0.7], [0.3, 0.3]], np.float32)
    q32 = np.array([0.3, 0.7], np.float32)
    advisor.game.stages[0] = Stage(["lob", "drop"], mean32, q32)
    advisor.game.values[0] = 0.0
    expected = float(mean32[0, 0]) * float(q32[0]) + float(mean32[0, 1]) * float(q32[1])  # each exact in float64
    gift = decision_gift(advisor, read_history(STROKES), 1)
    assert abs(gift - expected) < 1e-15
