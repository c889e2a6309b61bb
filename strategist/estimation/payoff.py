"""The payoff matrix of a rally decision, estimated from data with an interval for every cell.

Cell (i, j) is the hitter's probability of winning the rally after choosing ``i`` while the receiver chose
``j``. Each cell's wins ``w`` out of ``n`` decision points get a Beta prior centred on the row, column or
population rate (:mod:`strategist.estimation.shrinkage`); the matrix of posterior means is the game.

For one player (``hitter=X``), one pairing (``hitter=X, opponent=Y``) or one receiver, the population
matrix (all players, same context) is estimated first and the player's cells shrink toward it:
``p̂ᵢⱼ = (wᵢⱼ + s·Pᵢⱼ) / (nᵢⱼ + s)`` with ``P`` the population means and ``s`` chosen by empirical Bayes,
so a pairing with a few rallies stays close to the population and departs from it as its data grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.errors import EstimationError
from strategist.data.players import resolve_player, table_players
from strategist.data.states import state_label
from strategist.estimation.counts import (Context, DecisionPoints, cell_counts, decision_points, ordered_labels,
                                          split_kind, COLUMN_KINDS, ROW_KINDS)
from strategist.estimation.shrinkage import (STRENGTH_BOUNDS, TARGETS, PriorSpec, Shrinkage, fit_strength,
                                             parse_prior, shrink)

SPARSE_RULES = ("shrink", "prior")
UNITS = ("rally", "stroke")
#: Whose choices decide which actions enter a game (see :func:`estimate_payoff`).
ACTION_COUNTS = ("player", "pairing", "population")


@dataclass(frozen=True)
class EstimateSettings:
    """Everything that turns decision points into a matrix (kept so a bootstrap can redo it)."""

    rows: str = "shot"
    columns: str = "position"
    context: Context = field(default_factory=Context)
    target: str = "row"
    prior: PriorSpec = field(default_factory=PriorSpec)
    player_prior: PriorSpec = field(default_factory=PriorSpec)
    min_count: int = 5
    sparse: str = "shrink"
    min_action_count: int = 5
    action_counts: str = "player"
    include_unobserved: bool = False
    level: float = 0.95
    unit: str = "rally"
    hitter: str | None = None
    opponent: str | None = None
    state: str | None = None

    @property
    def player_specific(self) -> bool:
        return self.hitter is not None or self.opponent is not None


@dataclass(frozen=True)
class EstimateReport:
    """What the estimate rests on and what was done to sparse data."""

    points: int
    strokes: int
    unit: str
    rallies: int
    matches: int
    population_points: int | None
    dropped: dict
    dropped_rows: tuple
    dropped_columns: tuple
    min_count: int
    sparse: str
    sparse_cells: tuple
    target: str
    prior: str
    strength: float
    strength_at_bound: bool
    population_strength: float | None = None
    player_groups: int | None = None
    state: str = ""
    state_note: str | None = None
    states: tuple = ()
    min_action_count: int = 5
    action_counts: str = "player"
    unobserved_rows: tuple = ()
    unobserved_columns: tuple = ()
    included_unobserved: bool = False

    def action_lines(self) -> list[str]:
        """Which actions were left out (or kept, flagged) for lack of the player's own data."""
        out = []
        for side, items in (("hitter", self.unobserved_rows), ("receiver", self.unobserved_columns)):
            if not items:
                continue
            whose = {"player": f"by the {side}", "pairing": "in this pairing",
                     "population": "by all players"}[self.action_counts]
            listed = ", ".join(f"{label} ({n})" for label, n in items[:8])
            more = f" and {len(items) - 8} more" if len(items) > 8 else ""
            verb = ("kept and flagged (advice that uses them has too little data behind it)"
                    if self.included_unobserved else "left out")
            out.append(f"{side} actions chosen fewer than {self.min_action_count} times {whose} in this state "
                       f"(times in brackets), {verb}: {listed}{more}")
        return out

    def lines(self) -> list[str]:
        """The report as readable lines."""
        out = [f"state: {self.state}"]
        if self.state_note:
            out.append(self.state_note)
        merged = (f" from {self.strokes} strokes; a rally counts once per cell and hitter"
                  if self.unit == "rally" else " (strokes)")
        out.append(f"decision points: {self.points}{merged}; {self.rallies} rallies of {self.matches} "
                   f"match{'es' if self.matches != 1 else ''}"
                   + (f" (population: {self.population_points})" if self.population_points is not None else ""))
        everyone = " of all players" if self.population_points is not None else ""
        for reason, count in self.dropped.items():
            out.append(f"left out: {count} strokes{everyone} ({reason})")
        out += self.action_lines()
        toward = "the population matrix" if self.population_points is not None else f"the {self.target} rate"
        bound = " (at its bound: complete pooling)" if self.strength_at_bound and self.strength > 1 else (
            " (at its bound: no pooling)" if self.strength_at_bound else "")
        groups = (f", estimated across {self.player_groups} players or pairings"
                  if self.player_groups is not None and "empirical" in self.prior else "")
        out.append(f"shrinkage toward {toward}, {self.prior}{groups}: s = {self.strength:.3g} prior trials{bound}")
        if self.population_strength is not None:
            out.append(f"population matrix: shrinkage toward the {self.target} rate, s = {self.population_strength:.3g}")
        if self.sparse_cells:
            action = ("kept at their shrunken estimate" if self.sparse == "shrink"
                      else "set to their prior mean (their data ignored)")
            empty = sum(1 for _, _, n in self.sparse_cells if n == 0)
            out.append(f"{len(self.sparse_cells)} cells below the minimum count {self.min_count} ({empty} with no "
                       f"data: their interval is the prior's), {action}")
        else:
            out.append(f"every cell has at least {self.min_count} decision points")
        return out

    def to_dict(self) -> dict:
        return {
            "points": self.points, "strokes": self.strokes, "unit": self.unit, "rallies": self.rallies, "matches": self.matches,
            "population_points": self.population_points, "dropped": dict(self.dropped),
            "dropped_rows": list(self.dropped_rows), "dropped_columns": list(self.dropped_columns),
            "min_count": self.min_count, "sparse": self.sparse,
            "sparse_cells": [{"row": r, "column": c, "count": n} for r, c, n in self.sparse_cells],
            "target": self.target, "prior": self.prior, "strength": self.strength,
            "strength_at_bound": self.strength_at_bound, "population_strength": self.population_strength,
            "player_groups": self.player_groups, "state": self.state, "state_note": self.state_note,
            "states": [{"state": label, "decision_points": n} for label, n in self.states],
            "min_action_count": self.min_action_count, "action_counts": self.action_counts,
            "included_unobserved": self.included_unobserved,
            "unobserved_rows": [{"action": a, "count": n} for a, n in self.unobserved_rows],
            "unobserved_columns": [{"action": a, "count": n} for a, n in self.unobserved_columns],
        }


@dataclass(frozen=True)
class PayoffEstimate:
    """An estimated payoff matrix of one decision state: counts, posterior means and intervals per cell.

    ``alpha``/``beta`` are every cell's posterior Beta parameters; ``row_counts``/``column_counts`` how
    often each action was chosen (by whom ``settings.action_counts`` says); ``flagged_rows``/
    ``flagged_columns`` the actions kept without enough data (``include_unobserved``).

    ``points`` holds the decision points it was built from (``row_index``/``column_index`` into the labels,
    ``selected`` for the player-specific subset), so :func:`~strategist.estimation.bootstrap.bootstrap_payoff`
    can resample them.
    """

    row_labels: tuple
    column_labels: tuple
    counts: np.ndarray
    wins: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    center: np.ndarray
    strength: float
    level: float
    report: EstimateReport
    settings: EstimateSettings
    points: pd.DataFrame = field(repr=False)
    population: "PayoffEstimate | None" = field(default=None, repr=False)
    row_counts: tuple = ()
    column_counts: tuple = ()
    sport: str = ""
    alpha: np.ndarray | None = field(default=None, repr=False)
    beta: np.ndarray | None = field(default=None, repr=False)
    flagged_rows: tuple = ()
    flagged_columns: tuple = ()

    @property
    def state(self) -> str:
        """The decision state the matrix belongs to."""
        return self.report.state

    @property
    def no_data(self) -> np.ndarray:
        """Cells without a single decision point of the selection (their interval is the prior's)."""
        return self.counts == 0

    @property
    def game(self):
        """The matrix game of the posterior means (row player = the hitter)."""
        from strategist.games import MatrixGame

        return MatrixGame(self.mean, row_labels=list(self.row_labels), column_labels=list(self.column_labels))

    def solve(self):
        """Exact zero-sum solution of :attr:`game`."""
        from strategist.games import solve_zero_sum

        return solve_zero_sum(self.game)

    def frame(self, what: str = "mean") -> pd.DataFrame:
        """One of ``mean``, ``lower``, ``upper``, ``counts``, ``wins``, ``center`` as a labelled DataFrame,
        or ``"cells"``: every cell's text ``mean [lower, upper] n`` (``*`` marks a cell with no data)."""
        if what == "cells":
            text = [[f"{self.mean[i, j]:.2f} [{self.lower[i, j]:.2f}, {self.upper[i, j]:.2f}] "
                     f"{self.counts[i, j]}{'*' if self.counts[i, j] == 0 else ''}"
                     for j in range(len(self.column_labels))] for i in range(len(self.row_labels))]
            return pd.DataFrame(text, index=list(self.row_labels), columns=list(self.column_labels))
        return pd.DataFrame(getattr(self, what), index=list(self.row_labels), columns=list(self.column_labels))

    def to_dict(self) -> dict:
        labels = {"rows": list(self.row_labels), "columns": list(self.column_labels)}
        return {
            **labels, "sport": self.sport, "state": self.state,
            "counts": self.counts.astype(int).tolist(), "wins": self.wins.astype(int).tolist(),
            "mean": self.mean.tolist(), "lower": self.lower.tolist(), "upper": self.upper.tolist(),
            "no_data": self.no_data.tolist(), "level": self.level,
            "row_counts": dict(zip(self.row_labels, map(int, self.row_counts))),
            "column_counts": dict(zip(self.column_labels, map(int, self.column_counts))),
            "flagged_rows": list(self.flagged_rows), "flagged_columns": list(self.flagged_columns),
            "report": self.report.to_dict(),
            "settings": {"rows": self.settings.rows, "columns": self.settings.columns,
                         "context": self.settings.context.describe(), "hitter": self.settings.hitter,
                         "opponent": self.settings.opponent, "target": self.settings.target,
                         "min_action_count": self.settings.min_action_count,
                         "action_counts": self.settings.action_counts,
                         "include_unobserved": self.settings.include_unobserved},
        }


def _check_settings(settings: EstimateSettings) -> None:
    split_kind(settings.rows, ROW_KINDS, "rows")
    split_kind(settings.columns, COLUMN_KINDS, "columns")
    if isinstance(settings.target, str) and settings.target not in TARGETS:
        raise EstimationError(f"shrinkage target {settings.target!r} is not one of {TARGETS}")
    if settings.sparse not in SPARSE_RULES:
        raise EstimationError(f"sparse rule {settings.sparse!r} is not one of {SPARSE_RULES}")
    for name in ("min_count", "min_action_count"):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise EstimationError(f"{name} must be a whole number >= 0, got {value!r}")
    if not (isinstance(settings.level, (int, float)) and 0.0 < settings.level < 1.0):
        raise EstimationError(f"interval level must lie strictly between 0 and 1, got {settings.level!r}")
    if settings.unit not in UNITS:
        raise EstimationError(f"counting unit {settings.unit!r} is not one of {UNITS}")
    if settings.action_counts not in ACTION_COUNTS:
        raise EstimationError(f"action_counts {settings.action_counts!r} is not one of {ACTION_COUNTS}")
    if settings.player_prior.mean is not None:
        raise EstimationError("player_prior takes a strength or an empirical-Bayes method; its centre is the "
                              "population matrix")


def estimate_cells(settings: EstimateSettings, pop_wins, pop_counts, sel_wins=None, sel_counts=None, *,
                   player_strength=None, intervals: bool = True) -> tuple[Shrinkage, Shrinkage | None]:
    """Shrunken cells from counts (arrays may carry a leading batch axis).

    Without a selection: the cells shrink toward ``settings.target``. With one (player-specific): the
    population cells shrink toward the target, then the selection's cells toward the population means
    with strength ``player_strength`` (fitted on the selection alone when not given).
    Under the ``"prior"`` sparse rule, cells with fewer than ``min_count`` decision points lose their data.
    """
    def sparse(w, c):
        if settings.sparse == "prior":
            below = c < settings.min_count
            return np.where(below, 0.0, w), np.where(below, 0.0, c)
        return w, c

    if sel_wins is None:
        w, c = sparse(np.asarray(pop_wins, float), np.asarray(pop_counts, float))
        return shrink(w, c, target=settings.target, prior=settings.prior, level=settings.level,
                      intervals=intervals), None
    population = shrink(pop_wins, pop_counts, target=settings.target, prior=settings.prior, level=settings.level,
                        intervals=False)
    w, c = sparse(np.asarray(sel_wins, float), np.asarray(sel_counts, float))
    # a player's cell is never surer than the population cell it shrinks toward
    cap = population.posterior.alpha + population.posterior.beta
    if player_strength is None:
        final = shrink(w, c, target=population.mean, prior=settings.player_prior, level=settings.level,
                       intervals=intervals, cap=cap)
    else:
        final = shrink(w, c, target=population.mean, prior=float(player_strength), level=settings.level,
                       intervals=intervals, cap=cap)
    return final, population


def player_strength(settings: EstimateSettings, points: pd.DataFrame, population_mean: np.ndarray,
                    shape: tuple[int, int]) -> tuple[float, bool, int]:
    """Prior strength of player-specific cells around the population matrix, and whether it hit a bound.

    Empirical Bayes over every group of the same kind (every hitter, every receiver or every pairing):
    their cells are pooled into one beta-binomial likelihood with centres at the population means, so the
    strength measures how far players really depart from the population, not how noisy one player is.
    """
    if settings.player_prior.method == "given":
        return float(settings.player_prior.strength), False, 0
    keys = [k for k, v in (("hitter", settings.hitter), ("opponent", settings.opponent)) if v is not None]
    group = points.groupby(keys, sort=False).ngroup().to_numpy()
    groups = int(group.max()) + 1
    m, n = shape
    flat = (group * m + points["row_index"].to_numpy()) * n + points["column_index"].to_numpy()
    size = groups * m * n
    counts = np.bincount(flat, minlength=size).reshape(groups * m, n).astype(float)
    wins = np.bincount(flat, weights=points["won"].to_numpy(float), minlength=size).reshape(groups * m, n)
    center = np.tile(population_mean, (groups, 1))
    s = float(fit_strength(wins, counts, center, settings.player_prior.method))
    at_bound = s <= STRENGTH_BOUNDS[0] * 1.5 or s >= STRENGTH_BOUNDS[1] / 1.5
    return s, at_bound, groups


def _load(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, Path)):
        from strategist.data.load import load_rallies

        loaded = load_rallies(table)
        return loaded[0] if isinstance(loaded, tuple) else getattr(loaded, "table", loaded)
    raise EstimationError(f"expected a canonical rally table (DataFrame) or a path, got {type(table).__name__}")


def estimate_payoff(table, *, hitter: str | None = None, opponent: str | None = None, rows: str = "shot",
                    columns: str = "position", context=None, state: str | None = None, target: str = "row",
                    prior="marginal", player_prior="marginal", min_count: int = 5, sparse: str = "shrink",
                    min_action_count: int = 5, action_counts: str = "player", include_unobserved: bool = False,
                    level: float = 0.95, unit: str = "rally", sport=None) -> PayoffEstimate:
    """Estimate the payoff matrix of one rally decision state from a canonical rally table (or a data path).

    A matrix belongs to one decision state (:mod:`strategist.data.states`): ``state`` names it (e.g.
    ``"rally after attack"``, ``"return of short service"``, ``"serve (deuce, 2nd serve)"``); a context
    such as ``"previous=smash"`` pins it at the level it names (``rally after smash``). When the context
    still spans several states, the one with the most decision points of the selection is taken and the
    report says so (``report.state_note``, ``report.states``).

    Args:
        hitter, opponent: restrict to one hitter and/or one receiver; the cells then shrink toward the
            population matrix of the same state.
        rows: hitter's choice: ``"shot"``, ``"group"`` (``"group:track2"``...) or ``"area"`` (landing area).
        columns: receiver's choice: ``"position"`` (their court area at the stroke), ``"reply"`` (the
            opponent's next stroke) or ``"none"`` (one column, when the receiver's answer is not recorded).
        context: e.g. ``"previous=smash,stroke=3+"`` (see :func:`~strategist.estimation.counts.parse_context`).
        target: shrinkage target of the (population) cells: ``"row"``, ``"column"`` or ``"population"``.
        prior, player_prior: ``"marginal"``/``"moments"`` (empirical Bayes), a strength, or (mean, strength).
        min_count: cells with fewer decision points are listed in the report; ``sparse="prior"`` also
            replaces them by their prior mean (``"shrink"``, the default, keeps their shrunken estimate).
        min_action_count: an action enters the game only if it was chosen at least this often in the state
            (default 5: no recommendation rests on a handful of strokes), counted as ``action_counts`` says:
            ``"player"`` — the hitter's own choices (rows) and the receiver's own answers (columns);
            ``"pairing"`` — within the pairing only; ``"population"`` — all players.
        include_unobserved: keep the actions below ``min_action_count`` in the matrix, flagged
            (``flagged_rows``/``flagged_columns``), instead of leaving them out.
        level: credible level of the cell intervals.
        unit: ``"rally"`` (default) counts a rally once per cell and hitter — a player's strokes in one rally
            share its outcome, so they are not independent trials; ``"stroke"`` counts every stroke.
    """
    settings = EstimateSettings(rows=rows, columns=columns, context=context, target=target,
                                prior=parse_prior(prior), player_prior=parse_prior(player_prior),
                                min_count=min_count, sparse=sparse, min_action_count=min_action_count, level=level,
                                unit=unit, action_counts=action_counts, include_unobserved=bool(include_unobserved),
                                state=None if state is None else str(state))
    _check_settings(settings)
    table = _load(table)
    if hitter is not None or opponent is not None:
        players = table_players(table)
        hitter = None if hitter is None else resolve_player(hitter, players, "player")
        opponent = None if opponent is None else resolve_player(opponent, players, "opponent")
        if hitter is not None and hitter == opponent:
            raise EstimationError(f"player and opponent are both {hitter!r}")
    dp = decision_points(table, rows=rows, columns=columns, context=context, sport=sport)
    settings = EstimateSettings(**{**settings.__dict__, "context": dp.context, "hitter": hitter, "opponent": opponent})
    return estimate_from_points(dp, settings)


def _selection(points: pd.DataFrame, hitter, opponent) -> np.ndarray:
    mask = np.ones(len(points), dtype=bool)
    if hitter is not None:
        mask &= (points["hitter"] == hitter).to_numpy(dtype=bool)
    if opponent is not None:
        mask &= (points["opponent"] == opponent).to_numpy(dtype=bool)
    return mask


def select_state(dp: DecisionPoints, settings: EstimateSettings) -> tuple[pd.DataFrame, str, str | None, tuple]:
    """The decision points of one state: ``(points, state label, note, available states with counts)``.

    A named ``settings.state`` is taken as it is; a context with ``previous`` makes the incoming shot
    or group the user named the state's incoming; otherwise the sport's states. Several candidates:
    the one with the most decision points of the selection (all players when the selection has none).
    """
    points = dp.frame
    if dp.context.previous is not None:
        key = pd.Series([state_label(p, dp.context.previous) for p in points["phase"]], index=points.index,
                        dtype="string")
        codes, labels = pd.factorize(key)
        labels = [str(x) for x in labels]
    else:
        codes, labels = dp.state_codes()
    selected = dp.selection(settings.hitter, settings.opponent)
    counted = codes[selected] if selected.any() else codes
    counts = np.bincount(counted[counted >= 0], minlength=len(labels))
    available = tuple(sorted(((label, int(n)) for label, n in zip(labels, counts)), key=lambda kv: (-kv[1], kv[0])))
    if settings.state is not None:
        wanted = settings.state.strip().casefold()
        matches = [label for label, _ in available if label.casefold() == wanted]
        if not matches:
            listed = ", ".join(f"{label!r} ({n})" for label, n in available[:12])
            raise EstimationError(f"no decision points in state {settings.state!r} (context "
                                  f"'{dp.context.describe()}'); states here: {listed}")
        chosen, note = matches[0], None
    else:
        chosen = available[0][0]
        note = None
        if len(available) > 1:
            others = len(available) - 1
            note = (f"the context spans {len(available)} decision states; this matrix is the most frequent, "
                    f"'{chosen}' ({available[0][1]} decision points); {others} other state"
                    f"{'s' if others > 1 else ''} not shown: choose one with state=")
    keep = codes == labels.index(chosen)
    return points[keep], chosen, note, available


def _action_totals(points: pd.DataFrame, settings: EstimateSettings, column: str) -> pd.Series:
    """How often each action was chosen, by whom ``settings.action_counts`` says."""
    if settings.action_counts == "population":
        mask = np.ones(len(points), dtype=bool)
    elif settings.action_counts == "pairing":
        mask = _selection(points, settings.hitter, settings.opponent)
    elif column == "row":
        mask = _selection(points, settings.hitter, None if settings.hitter is not None else settings.opponent)
    else:
        mask = _selection(points, None if settings.opponent is not None else settings.hitter, settings.opponent)
    return points.loc[mask, column].value_counts()


def _candidate_actions(points: pd.DataFrame, settings: EstimateSettings, row_labels: list, col_labels: list,
                       col_kind: str, state: str):
    """Each side's actions with their counts (:func:`_action_totals`) and those played fewer than
    ``min_action_count`` times (unobserved); without ``include_unobserved`` these leave the matrix and the
    points. Returns (points, row labels, column labels, row totals, column totals, unobserved rows, columns)."""
    row_totals = _action_totals(points, settings, "row")
    col_totals = _action_totals(points, settings, "column")
    unobserved_rows = tuple((r, int(row_totals.get(r, 0))) for r in row_labels
                            if row_totals.get(r, 0) < settings.min_action_count)
    unobserved_cols = tuple((c, int(col_totals.get(c, 0))) for c in col_labels
                            if col_totals.get(c, 0) < settings.min_action_count and col_kind != "none")
    if not settings.include_unobserved:
        row_labels = [r for r in row_labels if r not in dict(unobserved_rows)]
        col_labels = [c for c in col_labels if c not in dict(unobserved_cols)]
        points = points[points["row"].isin(row_labels) & points["column"].isin(col_labels)]
        if not row_labels or not col_labels or points.empty:
            whose = {"player": "the player's own", "pairing": "this pairing's", "population": "all players'"}
            side = "hitter" if not row_labels else "receiver"
            raise EstimationError(f"no {side} action has {settings.min_action_count} of "
                                  f"{whose[settings.action_counts]} decision points in state '{state}'; lower "
                                  "min_action_count or pass include_unobserved=True (such actions are flagged)")
    return points, row_labels, col_labels, row_totals, col_totals, unobserved_rows, unobserved_cols


def estimate_from_points(dp: DecisionPoints, settings: EstimateSettings) -> PayoffEstimate:
    """:func:`estimate_payoff` on decision points already extracted."""
    points = dp.frame
    if points.empty:
        why = "; ".join(f"{n} strokes with {reason}" for reason, n in dp.dropped.items())
        raise EstimationError(f"no decision points in context '{dp.context.describe()}' ({why}); the data lack "
                              f"the {dp.row_kind} or {dp.column_kind} this matrix needs")
    points, state, state_note, states = select_state(dp, settings)
    settings = EstimateSettings(**{**settings.__dict__, "state": state})
    strokes = int(_selection(points, settings.hitter, settings.opponent).sum())
    if settings.unit == "rally":
        points = points.drop_duplicates(["rally_id", "hitter", "row", "column"])
    row_kind, row_detail = split_kind(settings.rows, ROW_KINDS, "rows")
    col_kind, col_detail = split_kind(settings.columns, COLUMN_KINDS, "columns")
    row_labels = ordered_labels(points["row"], row_kind, row_detail, dp.sport)
    col_labels = ordered_labels(points["column"], col_kind, col_detail, dp.sport)

    if settings.player_specific and not _selection(points, settings.hitter, settings.opponent).any():
        who = " against ".join(x for x in (settings.hitter, settings.opponent) if x is not None)
        if settings.hitter is None:
            who = f"receiver {settings.opponent}"
        raise EstimationError(f"no decision points for {who} in state '{state}'")
    points, row_labels, col_labels, row_totals, col_totals, unobserved_rows, unobserved_cols = _candidate_actions(
        points, settings, row_labels, col_labels, col_kind, state)
    points = points.assign(
        row_index=pd.Categorical(points["row"], categories=row_labels).codes.astype(np.int64),
        column_index=pd.Categorical(points["column"], categories=col_labels).codes.astype(np.int64),
    ).reset_index(drop=True)
    selected = _selection(points, settings.hitter, settings.opponent)
    points["selected"] = selected

    shape = (len(row_labels), len(col_labels))
    idx_r, idx_c, won = points["row_index"].to_numpy(), points["column_index"].to_numpy(), points["won"].to_numpy()
    pop_w, pop_n = cell_counts(idx_r, idx_c, won, shape)
    groups = None
    if settings.player_specific:
        sel_w, sel_n = cell_counts(idx_r[selected], idx_c[selected], won[selected], shape)
        full = shrink(pop_w, pop_n, target=settings.target, prior=settings.prior, level=settings.level)
        strength, at_bound, groups = player_strength(settings, points, full.mean, shape)
        final, population = estimate_cells(settings, pop_w, pop_n, sel_w, sel_n, player_strength=strength)
        final = Shrinkage(**{**final.__dict__, "method": settings.player_prior.method, "at_bound": at_bound})
    else:
        sel_w, sel_n = pop_w, pop_n
        final, population = estimate_cells(settings, pop_w, pop_n)

    extra = dict(state=state, state_note=state_note, states=states, unobserved_rows=unobserved_rows,
                 unobserved_cols=unobserved_cols,
                 row_counts=tuple(int(row_totals.get(r, 0)) for r in row_labels),
                 column_counts=tuple(int(col_totals.get(c, 0)) for c in col_labels))
    spec = settings.player_prior if settings.player_specific else settings.prior
    estimate_ = _assemble(row_labels, col_labels, sel_w, sel_n, final, settings, spec, points, selected, dp,
                          strokes, population=population, groups=groups, **extra)
    if population is None:
        return estimate_
    pop_settings = EstimateSettings(**{**settings.__dict__, "hitter": None, "opponent": None, "sparse": "shrink"})
    pop_estimate = _assemble(row_labels, col_labels, pop_w, pop_n, full, pop_settings, settings.prior,
                             points.assign(selected=True), np.ones(len(points), dtype=bool), dp,
                             int(len(points)), **extra)
    return PayoffEstimate(**{**estimate_.__dict__, "population": pop_estimate})


def _assemble(row_labels, col_labels, wins, counts, shrunk: Shrinkage, settings: EstimateSettings,
              spec: PriorSpec, points: pd.DataFrame, selected: np.ndarray, dp: DecisionPoints, strokes: int,
              population: Shrinkage | None = None, groups: int | None = None, *, state: str, state_note, states,
              unobserved_rows, unobserved_cols, row_counts, column_counts) -> PayoffEstimate:
    sub = points[selected]
    sparse_cells = tuple((row_labels[i], col_labels[j], int(counts[i, j]))
                         for i in range(len(row_labels)) for j in range(len(col_labels))
                         if counts[i, j] < settings.min_count)
    report = EstimateReport(
        points=int(len(sub)), strokes=int(strokes), unit=settings.unit,
        rallies=int(sub["rally_id"].nunique()), matches=int(sub["match_id"].nunique()),
        population_points=int(len(points)) if population is not None else None,
        dropped=dict(dp.dropped), dropped_rows=tuple(r for r, _ in unobserved_rows if r not in row_labels),
        dropped_columns=tuple(c for c, _ in unobserved_cols if c not in col_labels),
        min_count=settings.min_count, sparse=settings.sparse, sparse_cells=sparse_cells,
        target=settings.target, prior=spec.describe(), strength=float(shrunk.strength),
        strength_at_bound=bool(shrunk.at_bound),
        population_strength=None if population is None else float(population.strength),
        player_groups=groups, state=state, state_note=state_note, states=tuple(states),
        min_action_count=settings.min_action_count, action_counts=settings.action_counts,
        unobserved_rows=tuple(unobserved_rows), unobserved_columns=tuple(unobserved_cols),
        included_unobserved=settings.include_unobserved,
    )
    post = shrunk.posterior
    return PayoffEstimate(
        row_labels=tuple(row_labels), column_labels=tuple(col_labels), counts=np.rint(counts).astype(np.int64),
        wins=np.rint(wins).astype(np.int64), mean=post.mean, lower=post.lower, upper=post.upper,
        center=shrunk.center, strength=float(shrunk.strength), level=settings.level, report=report,
        settings=settings, points=points, row_counts=tuple(row_counts), column_counts=tuple(column_counts),
        alpha=post.alpha, beta=post.beta, sport=dp.sport.name,
        flagged_rows=tuple(r for r, _ in unobserved_rows if r in row_labels),
        flagged_columns=tuple(c for c, _ in unobserved_cols if c in col_labels),
    )
