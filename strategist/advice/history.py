"""The rally so far as the Advisor reads it: strokes, the order of play, and the situation of the next stroke.

A history is a DataFrame with the canonical columns (``shot``, ``hitter``; optionally ``landing_area``,
``landing_height``, ``stroke``), or a list of ``(shot, hitter)`` / ``(shot, hitter, area, height)`` tuples or
of dicts with those keys. The order of play is checked: the rally opens with a serve, a serve is struck only
at the rally's start (a tennis server's second serve after a fault included), the hitters alternate after
the serves, and a rally is at most :data:`MAX_STROKES` long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.errors import EstimationError

#: The longest rally the Advisor accepts (ShuttleSet's longest has 70 strokes).
MAX_STROKES = 500


@dataclass(frozen=True)
class RallySoFar:
    """The strokes of a rally so far: shots, hitters, where each landed and how high (None: not given)."""

    shots: tuple
    hitters: tuple
    areas: tuple
    heights: tuple

    def __len__(self) -> int:
        return len(self.shots)

    def plus(self, shot: str, hitter: str, area: str | None = None) -> "RallySoFar":
        """The rally with one more stroke (its landing area where the action names it; height not known yet)."""
        return RallySoFar(self.shots + (shot,), self.hitters + (hitter,), self.areas + (area,), self.heights + (None,))


def _value(v):
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def read_history(history) -> RallySoFar:
    """A :class:`RallySoFar` from any accepted form of ``history`` (module docstring)."""
    if history is None:
        return RallySoFar((), (), (), ())
    if isinstance(history, pd.DataFrame):
        if len(history) == 0:
            return RallySoFar((), (), (), ())
        missing = [c for c in ("shot", "hitter") if c not in history.columns]
        if missing:
            raise EstimationError(f"history: columns {missing} are missing; expected shot and hitter (and "
                                  "optionally landing_area, landing_height)")
        if "stroke" in history.columns and len(history) > 1:
            order = pd.to_numeric(history["stroke"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if not (order[1:] >= order[:-1]).all():       # in stroke order already (as recorded): no sort
                history = history.iloc[np.argsort(order, kind="stable")]     # by number (text too), missing last
        n = len(history)

        def column(name):
            return [_value(v) for v in history[name].tolist()] if name in history.columns else [None] * n

        shots, hitters = column("shot"), column("hitter")
        areas, heights = column("landing_area"), column("landing_height")
    else:
        shots, hitters, areas, heights = [], [], [], []
        for k, item in enumerate(history):
            if isinstance(item, dict):
                if "shot" not in item or "hitter" not in item:
                    raise EstimationError(f"history stroke {k + 1}: expected keys 'shot' and 'hitter', got "
                                          f"{sorted(map(str, item))}")
                row = (item["shot"], item["hitter"], item.get("landing_area"), item.get("landing_height"))
            elif isinstance(item, (tuple, list)) and len(item) in (2, 4):
                row = tuple(item) if len(item) == 4 else (item[0], item[1], None, None)
            else:
                raise EstimationError(f"history stroke {k + 1}: expected (shot, hitter), (shot, hitter, area, "
                                      f"height) or a dict, got {item!r}")
            shots.append(_value(row[0]))
            hitters.append(_value(row[1]))
            areas.append(_value(row[2]))
            heights.append(_value(row[3]))
    for k, (shot, hitter) in enumerate(zip(shots, hitters)):
        if shot is None or hitter is None:
            raise EstimationError(f"history stroke {k + 1}: the shot and the hitter are needed, got shot={shot!r}, "
                                  f"hitter={hitter!r}")
    return RallySoFar(tuple(shots), tuple(hitters), tuple(areas), tuple(heights))


def check_order(rally: RallySoFar, sport, players: tuple[str, str]) -> None:
    """Raise :class:`EstimationError` naming the stroke where ``rally`` breaks the order of play (module
    docstring) or names someone other than ``players``."""
    if len(rally) > MAX_STROKES:
        raise EstimationError(f"history: {len(rally)} strokes; a rally has at most {MAX_STROKES}")
    serves = 0
    for k, (shot, hitter) in enumerate(zip(rally.shots, rally.hitters)):
        where = f"history stroke {k + 1} ({shot!r} by {hitter!r})"
        if shot not in sport.shots:
            raise EstimationError(f"{where}: not a {sport.name} shot; expected one of {list(sport.shots)}")
        if hitter not in players:
            raise EstimationError(f"{where}: the hitter is neither {players[0]} nor {players[1]}")
        is_serve = shot in sport.serves
        if k == 0 and not is_serve:
            raise EstimationError(f"{where}: a rally opens with a serve ({', '.join(sorted(sport.serves))})")
        if is_serve:
            if serves != k or serves >= sport.serves_per_point:
                raise EstimationError(f"{where}: a serve is struck only at the start of a rally "
                                      f"(at most {sport.serves_per_point} serve(s))")
            if k > 0 and hitter != rally.hitters[k - 1]:
                raise EstimationError(f"{where}: a second serve is struck by the server")
            serves += 1
        elif k > 0 and hitter == rally.hitters[k - 1]:
            raise EstimationError(f"{where}: the same player hit stroke {k}; after the serve the hitters alternate")
