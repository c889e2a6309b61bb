"""``RallyGame.openings`` on hand-built games: which serve states open a point (no stroke leads to them and no
later serve number is in their name), in the sport's order of court sides then by visits, weighted by visits
(evenly when none were seen), and the most visited serve state when no state qualifies."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from strategist.errors import EstimationError
from strategist.rally.game import RallyGame


class _Game:
    """The parts of a RallyGame that ``openings`` reads, around RallyGame's own methods."""
    index = RallyGame.index
    serve_state = RallyGame.serve_state
    openings = RallyGame.openings

    def __init__(self, rows, leads, sides=("deuce", "ad")):
        """``rows``: (label, phase, who, visits) per state; ``leads``: (from, to, probability) of strokes;
        ``sides``: the sport's court sides (None: a sport object without them)."""
        self.labels = tuple(r[0] for r in rows)
        self.states = pd.DataFrame(rows, columns=["state", "phase", "who", "visits"])
        size = len(rows)
        self.transitions = [np.zeros((2, 1, size)) for _ in rows]
        for src, dst, p in leads:
            self.transitions[src][0, 0, dst] = p
        sport = SimpleNamespace(court_sides=sides) if sides is not None else SimpleNamespace()
        self.structure = SimpleNamespace(sport=sport)


ROWS = [("player: serve (deuce, 1st serve)", "serve", "player", 30),     # 0
        ("player: serve (ad, 1st serve)", "serve", "player", 50),        # 1
        ("player: serve (deuce, 2nd serve)", "serve", "player", 10),     # 2: a later serve, though nothing leads to it
        ("player: serve (ad)", "serve", "player", 40),                   # 3: a stroke leads to it
        ("player: serve (deuce)", "serve", "player", 40),                # 4
        ("player: serve (centre)", "serve", "player", 5),                # 5: on no court side of the sport
        ("opponent: serve (deuce, 1st serve)", "serve", "opponent", 20),  # 6: a stroke leads to it
        ("opponent: serve (ad, 1st serve)", "serve", "opponent", 25),    # 7: a stroke leads to it
        ("player: rally after lob", "rally", "player", 100)]             # 8
LEADS = [(1, 3, 0.3), (8, 6, 0.2), (0, 7, 0.4), (2, 8, 0.5)]


def test_openings_are_first_serves_nothing_leads_to_by_court_side_then_visits():
    """Deuce first (state 4, 40 visits, before state 0, 30), then ad (state 1), then the state on no side."""
    states, weights = _Game(ROWS, LEADS).openings("player")
    assert states == [4, 0, 1, 5]
    np.testing.assert_allclose(weights, np.array([40, 30, 50, 5]) / 125)


def test_the_player_is_the_default_server():
    game = _Game(ROWS, LEADS)
    states, weights = game.openings()
    assert states == game.openings("player")[0]
    np.testing.assert_allclose(weights, game.openings("player")[1])


def test_a_sport_without_court_sides_orders_by_visits():
    for sides in (None, ()):
        states, _ = _Game(ROWS, LEADS, sides=sides).openings("player")
        assert states == [1, 4, 0, 5]


def test_when_every_serve_is_led_to_the_most_visited_serve_state_opens():
    states, weights = _Game(ROWS, LEADS).openings("opponent")
    assert states == [7] and list(weights) == [1.0]


def test_a_game_whose_serves_were_never_visited_weighs_them_evenly():
    rows = [(label, phase, who, 0) for label, phase, who, _ in ROWS]
    states, weights = _Game(rows, LEADS).openings("player")
    assert len(states) == 4
    np.testing.assert_allclose(weights, np.full(4, 0.25))


def test_one_visit_in_all_is_weighed_by_visits():
    rows = [("player: serve (deuce)", "serve", "player", 1), ("player: serve (ad)", "serve", "player", 0),
            ("player: rally after lob", "rally", "player", 3)]
    states, weights = _Game(rows, []).openings("player")
    assert states == [0, 1]
    np.testing.assert_allclose(weights, [1.0, 0.0])


def test_a_side_without_serves_is_an_error_naming_it():
    rows = [("player: rally after lob", "rally", "player", 3)]
    with pytest.raises(EstimationError, match="no serve state of the opponent"):
        _Game(rows, []).openings("opponent")
