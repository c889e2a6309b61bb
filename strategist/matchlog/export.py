"""A recorded match as the canonical rally table (:mod:`strategist.data.schema`) and as CSV.

* One row per readable stroke, with the score before its rally, the serve that put the rally in play
  (``serve_number``: the rows of a faulted first serve belong to serve 1, every row after the fault to
  serve 2) and every field the log records (``wing``, ``landing_area``, ``landing_height``,
  ``hitter_area``).
* A rally with a damaged row (:class:`~strategist.matchlog.state.DamagedRow`) is left out whole, as the
  canonical loader would skip it, with a :class:`~strategist.matchlog.errors.DamagedRowWarning` naming
  the rows; the rest of the match is exported.
* CSV: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  apostrophe (``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``), so that no spreadsheet runs it as a
  formula. Every cell holding the same text is changed alike, so the file still loads with
  ``strategist.load_rallies``; such a name then reads back with its apostrophe (``'=HYPERLINK(...)``).
"""

from __future__ import annotations

import warnings

import pandas as pd

from strategist.data.schema import COLUMNS, conform, empty_table
from strategist.matchlog import order
from strategist.matchlog.errors import DamagedRowWarning

#: How a cell may begin that a spreadsheet would read as a formula (or that hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def stored_points(score, tennis: bool) -> tuple:
    """Points as the canonical table stores them: tennis game points 0-3 and 4 for advantage (deuce 3-3);
    tiebreak and badminton points as counted."""
    a, b = score.points
    if not tennis or score.tiebreak or max(a, b) <= 3:
        return a, b
    if a == b:
        return 3, 3
    return (4, 3) if a > b else (3, 4)


def serve_numbers(sport, rally) -> list:
    """The serve each stroke of ``rally`` belongs to: stroke ``i`` of the ``s`` leading serves to serve
    ``i``, every stroke after them to serve ``s`` (1 when the rally has no leading serve)."""
    lead = max(order.leading_serves(sport, rally), 1)
    return [min(i + 1, lead) for i in range(len(rally.strokes))]


def _rows_of_rally(state, rally, number: int, before) -> list:
    """The canonical rows of ``rally``, the ``number``-th of its set, played at the score ``before``."""
    sport = state.rules
    tennis = state.sport == "tennis"
    players = (state.player, state.opponent)
    points = dict(zip(players, stored_points(before, tennis)))
    games = dict(zip(players, before.games))
    side = sport.court_side(before.count)
    rows = []
    for stroke, serve in zip(rally.strokes, serve_numbers(sport, rally)):
        rows.append({
            "sport": state.sport, "source": "canonical", "match_id": state.match_id, "set": rally.set_no,
            "game": before.game_no if tennis else None, "rally": number,
            "rally_id": f"{state.match_id}|{rally.set_no}|{number}", "stroke": stroke.number,
            "hitter": stroke.hitter, "opponent": stroke.opponent, "shot": stroke.shot,
            **{name: getattr(stroke, name) for name in order.OPTIONAL},
            "server": rally.server, "serve_number": serve, "court_side": side,
            "hitter_score": points[stroke.hitter], "opponent_score": points[stroke.opponent],
            "hitter_games": games[stroke.hitter] if tennis else None,
            "opponent_games": games[stroke.opponent] if tennis else None,
            "winner": rally.winner, "hitter_won": None if rally.winner is None else rally.winner == stroke.hitter,
        })
    return rows


def export_table(state) -> pd.DataFrame:
    """The match in ``state`` in the canonical layout, one row per stroke (see the module docstring).
    ``rally`` counts the rallies of each set from 1 (a rally left out for a damaged stroke row keeps its
    number; one whose own row is damaged is not in ``state`` and is not counted)."""
    scores = state.scores()
    rows, in_set, finished, left_out = [], {}, 0, []
    for rally in state.rallies:
        before = scores[min(finished, len(scores) - 1)]
        finished += rally.finished
        in_set[rally.set_no] = in_set.get(rally.set_no, 0) + 1
        if rally.damaged:
            left_out.append(rally.number)
            continue
        rows.extend(_rows_of_rally(state, rally, in_set[rally.set_no], before))
    if state.damaged:
        warnings.warn(f"match {state.match_id!r}: {len(state.damaged)} damaged row(s) left out with their rallies "
                      f"(rallies {left_out} and those of the damaged rally rows): "
                      + "; ".join(str(d) for d in state.damaged[:5]), DamagedRowWarning, stacklevel=3)
    if not rows:
        return empty_table()
    frame = pd.DataFrame(rows)
    frame["hitter_won"] = frame["hitter_won"].astype("boolean")
    return conform(frame, where=f"match {state.match_id}")


def neutralise(value):
    """``value`` with a leading apostrophe when it is a text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(table: pd.DataFrame, target=None) -> str | None:
    """``table`` as CSV with its text cells neutralised (see the module docstring): written to ``target``
    (a path or a file object), or returned as text."""
    safe = table.copy()
    for column, dtype in COLUMNS.items():
        if dtype == "string" and column in safe:
            safe[column] = safe[column].map(neutralise, na_action="ignore").astype("string")
    return safe.to_csv(target, index=False)
