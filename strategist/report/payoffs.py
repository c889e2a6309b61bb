"""The payoff matrix of every decision state the player met in the match, estimated once per state.

Each matrix is estimated from the population (the data without this match) for the player as hitter,
shrunk toward all players (:func:`strategist.estimate_payoff`); where the player has no decision points of
their own in a state outside this match, the all-players matrix is used and the note says so. Serve states
use the sport's serve choices (tennis: direction, one column), other states its rally choices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from strategist.errors import EstimationError
from strategist.estimation.counts import decision_points
from strategist.estimation.payoff import EstimateSettings, PayoffEstimate, estimate_from_points
from strategist.report.match import MatchData

#: What a state faces when the shot before was not recorded.
UNKNOWN_INCOMING = ("unknown", "unknown serve", "unknown direction")


@dataclass(frozen=True)
class StateGame:
    """One state's estimate and its zero-sum solution (``None`` with a reason when none could be made)."""

    state: str
    rows: str
    columns: str
    estimate: PayoffEstimate | None
    row_mix: np.ndarray | None = None
    column_mix: np.ndarray | None = None
    value: float | None = None
    whose: str = "player"          # "player": the player's matrix; "population": all players'
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.estimate is not None


def choices_of(md: MatchData, phase: str) -> tuple[str, str]:
    """(rows, columns) of a state's matrix: the sport's defaults for serves, its rally defaults otherwise."""
    defaults = dict(md.sport.decisions.default_payoff)
    if phase == "serve":
        return defaults.get("rows", "shot"), defaults.get("columns", "position")
    return defaults.get("rally_rows", "shot"), defaults.get("rally_columns", "position")


def state_games(md: MatchData, hitter: str) -> dict[str, StateGame]:
    """Estimate and solve the matrix of every state ``hitter`` decided in during the match."""
    mine = md.strokes[md.strokes["hitter"] == hitter]
    # a state that answers an unrecorded shot has no meaning of its own: no matrix
    mine = mine[~mine["incoming"].astype(str).isin(UNKNOWN_INCOMING).to_numpy(dtype=bool)]
    states = mine.groupby("state", sort=False)["phase"].first()
    cache: dict = {}
    out = {}
    for state, phase in states.items():
        rows, columns = choices_of(md, str(phase))
        key = (rows, columns)
        if key not in cache:
            try:
                cache[key] = decision_points(md.population, rows=rows, columns=columns, sport=md.sport)
            except EstimationError as exc:
                cache[key] = exc
        dp = cache[key]
        if isinstance(dp, EstimationError):
            out[str(state)] = StateGame(str(state), rows, columns, None, note=str(dp))
            continue
        # one state's decision points only: the estimate never looks at the others
        one = dataclasses.replace(dp, frame=dp.frame[(dp.frame["state"] == state).to_numpy(dtype=bool)])
        out[str(state)] = _estimate(one, str(state), rows, columns, hitter)
    return out


def _estimate(dp, state: str, rows: str, columns: str, hitter: str) -> StateGame:
    base = EstimateSettings(rows=rows, columns=columns, context=dp.context, state=state)
    whose, note = "player", ""
    try:
        est = estimate_from_points(dp, EstimateSettings(**{**base.__dict__, "hitter": hitter}))
    except EstimationError as exc:
        try:
            est = estimate_from_points(dp, base)
        except EstimationError as exc2:
            return StateGame(state, rows, columns, None, note=str(exc2))
        whose, note = "population", f"all players' matrix: {exc}"
    sol = est.solve()
    return StateGame(state, rows, columns, est, np.asarray(sol.row_strategy, float),
                     np.asarray(sol.column_strategy, float), float(sol.value), whose, note)
