"""The order of play in a rally: a serve opens it, serves come only at its start, the hitters alternate, and
it has at most :data:`MAX_STROKES` strokes.

The server hits the rally's first stroke, a serve; in a sport with two serves (tennis) a faulted first serve
is followed by the same player's second serve; after the serve in play the players alternate. A rally whose
rows break this is impossible (a lost or doubled row, a mislabelled hitter or shot) and a loader rejects it:

- *rally does not open with a serve*: stroke 1 is a known shot that is not one of the sport's serves (a shot
  the source left unknown may be the serve);
- *serve after the rally's start*: a serve that is not one of the first ``serves_per_point`` strokes, or that
  does not follow the same player's serve;
- *same player hits twice in a row*: two consecutive strokes by one player, other than a serve and the
  second serve after it;
- *rally longer than 1,000 strokes*: the longest rallies on record have a few hundred strokes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.sports import Sport

#: Most strokes a rally may have; a longer one is rejected.
MAX_STROKES = 1000

OPENING = "rally does not open with a serve"
LATE_SERVE = "serve after the rally's start"
SAME_HITTER = "same player hits twice in a row"
TOO_LONG = f"rally longer than {MAX_STROKES:,} strokes"


def order_faults(rally, hitter, shot, sport: Sport) -> dict[str, np.ndarray]:
    """Per rule above, a mask of the rows that break it (the offending stroke, not the whole rally).

    The rows are one table's strokes in play order: ``rally`` codes each row's rally (a rally's rows
    contiguous, strokes in order), ``hitter`` who hit it, ``shot`` its shot label (NA or ``"unknown"`` for a
    shot the source did not name).
    """
    rally = np.asarray(rally)
    hitter = pd.factorize(pd.Series(hitter).reset_index(drop=True))[0]
    shot = pd.Series(shot).reset_index(drop=True)
    n = len(rally)
    if n == 0:
        return {reason: np.zeros(0, bool) for reason in (OPENING, LATE_SERVE, SAME_HITTER, TOO_LONG)}
    serve = shot.isin(sport.serves).to_numpy(dtype=bool)
    unknown = (shot.isna() | (shot == "unknown")).to_numpy(dtype=bool, na_value=True)
    starts = np.r_[True, rally[1:] != rally[:-1]]
    position = np.arange(n) - np.maximum.accumulate(np.where(starts, np.arange(n), 0)) + 1  # stroke in the rally
    same = np.r_[False, hitter[1:] == hitter[:-1]] & ~starts
    after_serve = np.r_[False, serve[:-1] | (unknown[:-1] & (position[:-1] == 1))] & ~starts
    second_serve = serve & after_serve & same & (position <= sport.serves_per_point)
    late = serve & ~starts & ~second_serve
    return {OPENING: starts & ~serve & ~unknown, LATE_SERVE: late, SAME_HITTER: same & ~second_serve & ~late,
            TOO_LONG: position == MAX_STROKES + 1}


def expected(reason: str, sport: Sport) -> str:
    """What the order of play expects, in words, for a rule's message."""
    serves = " or ".join(sorted(sport.serves))
    return {OPENING: f"a serve ({serves}) or an unknown shot as stroke 1",
            LATE_SERVE: (f"serves only as the first {sport.serves_per_point} strokes, by the server"
                         if sport.serves_per_point > 1 else "a serve only as stroke 1"),
            SAME_HITTER: ("the players alternating (the server's second serve after a fault aside)"
                          if sport.serves_per_point > 1 else "the players alternating"),
            TOO_LONG: f"at most {MAX_STROKES:,} strokes in a rally"}[reason]


def order_problems(rows: np.ndarray, rally, stroke, hitter, shot, sport: Sport) -> list[tuple[str, np.ndarray]]:
    """``[(rule, mask)]`` of the rules broken among ``rows`` (a mask over a table's rows, in any order): each
    mask marks the offending rows. ``rally``, ``stroke``, ``hitter`` and ``shot`` are per row of the table."""
    index = np.flatnonzero(rows)
    if not len(index):
        return []
    rally = pd.factorize(pd.Series(rally).reset_index(drop=True))[0][index]
    order = np.lexsort((np.asarray(stroke, dtype=np.int64)[index], rally))
    index = index[order]
    faults = order_faults(rally[order], pd.Series(hitter).reset_index(drop=True).take(index),
                          pd.Series(shot).reset_index(drop=True).take(index), sport)
    found = []
    for reason, mask in faults.items():
        if mask.any():
            full = np.zeros(len(rows), bool)
            full[index[mask]] = True
            found.append((reason, full))
    return found


#: The source field shown for each rule's offending row: the shot, the hitter or the stroke number.
FIELD = {OPENING: "shot", LATE_SERVE: "shot", SAME_HITTER: "hitter", TOO_LONG: "stroke"}


def check_order(checks, rows: np.ndarray, rally, stroke, hitter, shot, sport: Sport, *, fields: dict[str, str]) -> None:
    """Hand each broken rule among ``rows`` (a mask over ``checks.raw``) to
    :meth:`~strategist.data.checks.RallyChecks.fail`, as a check across a rally's rows; ``fields`` maps
    ``"shot"``, ``"hitter"`` and ``"stroke"`` to the source's columns."""
    for reason, mask in order_problems(rows, rally, stroke, hitter, shot, sport):
        checks.fail(mask, reason, fields[FIELD[reason]], expected(reason, sport), across=True)
