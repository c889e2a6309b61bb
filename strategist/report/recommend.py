"""What the decision review compares each of the player's shots with: the Advisor's recommendation when the
advice package is installed, else the equilibrium of the state's payoff matrix (a stand-in the report
names). Both are fitted on the population — the data without this match.

A recommender gives, for one decision, the state's game (matrix A with Beta posteriors), the recommended mix
x over its rows and the opponent's answer y over its columns; the review then scores the played shot a by
xᵀA y − (A y)ₐ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.errors import StrategistError
from strategist.report.match import MatchData
from strategist.report.payoffs import StateGame, state_games

EQUILIBRIUM_SOURCE = ("stand-in for the Advisor (not installed): the equilibrium mix x* of the state's payoff "
                      "matrix estimated without this match, against the opponent's equilibrium answer y*")
EQUILIBRIUM_DEFINITION = ("given up = v - (A y*)[shot] with v = x*'A y*: x*, y* the equilibrium mixes of the "
                          "state's matrix A (0 for any shot the equilibrium plays)")
ADVISOR_SOURCE = ("the Advisor (strategist.advice), built on the data without this match: its equilibrium "
                  "recommendation against the opponent's predicted reply q (strategist.opponent's Markov model, "
                  "shrunk toward the equilibrium by the evidence), asked once per decision state and incoming shot")
ADVISOR_DEFINITION = ("given up = x'A q - (A q)[shot]: x the Advisor's recommended mix, q the predicted reply, A the "
                      "Advisor's matrix of the state (reply columns); negative when the shot played did better "
                      "against the predicted reply than the recommendation")


class EquilibriumRecommender:
    kind = "equilibrium"
    source = EQUILIBRIUM_SOURCE
    definition = EQUILIBRIUM_DEFINITION

    def __init__(self, md: MatchData):
        self.games = state_games(md, md.player)
        self.notes: list[str] = []

    def recommend(self, stroke: dict, history):
        """(game, x, y, reason): the state's game and mixes, or a reason it has none (``history()`` gives the
        rally's strokes before this one)."""
        game = self.games.get(str(stroke["state"]))
        if game is None or not game.ok:
            return None, None, None, "no payoff matrix for this state" + (
                f" ({game.note})" if game is not None and game.note else "")
        return game, game.row_mix, game.column_mix, None


class AdvisorRecommender:
    kind = "advisor"
    source = ADVISOR_SOURCE
    definition = ADVISOR_DEFINITION

    def __init__(self, md: MatchData, advisor_class):
        self.md = md
        self.advisor = advisor_class(md.population, md.player, md.opponent, model=md.opponent_model())
        self.games: dict[str, StateGame] = {}
        for state, sg in self.advisor.games.items():
            self.games[state] = StateGame(state, "shot", "reply", sg.estimate, np.asarray(sg.row_strategy, float),
                                          np.asarray(sg.column_strategy, float), float(sg.value),
                                          "pairing" if sg.scope == "pairing" else "player")
        self.notes = list(getattr(self.advisor, "notes", []))
        self._cache: dict = {}

    def recommend(self, stroke: dict, history):
        key = (str(stroke["state"]), str(stroke.get("incoming_shot")))
        if key not in self._cache:
            context = {"next": self.md.player, "server": stroke.get("server"), "match_id": stroke.get("match_id")}
            side = stroke.get("court_side")
            if side is not None and not pd.isna(side):
                context["court_side"] = str(side)
            try:
                advice = self.advisor.advise(history()[["shot", "hitter"]].astype(object), context)
            except StrategistError as exc:
                self._cache[key] = (None, None, None, f"the Advisor could not advise: {exc}")
                return self._cache[key]
            game = self.games.get(str(advice.state))
            if game is None or advice.equilibrium is None:
                self._cache[key] = (None, None, None, f"the Advisor has no game for '{advice.state}'")
            else:
                est = game.estimate
                x = np.array([advice.equilibrium.mix.get(r, 0.0) for r in est.row_labels], float)
                q = np.array([advice.reply.get(c, 0.0) for c in est.column_labels], float)
                self._cache[key] = (game, x / x.sum(), q / q.sum() if q.sum() > 0 else game.column_mix, None)
        return self._cache[key]


def recommender(md: MatchData, kind: str = "auto"):
    """The recommender of ``kind``: ``auto`` (the Advisor when installed, else the equilibrium), ``advisor`` or
    ``equilibrium``. ``auto`` falls back to the equilibrium, with a note, when the Advisor cannot be built."""
    from strategist.errors import ReportError

    if kind not in ("auto", "advisor", "equilibrium"):
        raise ReportError(f"recommendation {kind!r}: expected 'auto', 'advisor' or 'equilibrium'")
    if kind == "equilibrium":
        return EquilibriumRecommender(md)
    try:
        from strategist.advice.advisor import Advisor
    except ImportError:
        if kind == "advisor":
            raise ReportError("recommendation 'advisor': the advice package (strategist.advice) is not "
                              "installed") from None
        return EquilibriumRecommender(md)
    try:
        return AdvisorRecommender(md, Advisor)
    except StrategistError as exc:
        if kind == "advisor":
            raise ReportError(f"the Advisor cannot be built for this match: {exc}") from None
        fallback = EquilibriumRecommender(md)
        fallback.notes.append(f"the Advisor could not be built without this match ({exc}); the equilibrium "
                              "stands in")
        return fallback
