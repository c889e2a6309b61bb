"""Court zones of positions in metres: depth (front / mid / rear) by side (left / centre / right) of a half.

Positions are in a player's side frame (:mod:`strategist.data.court`): ``x`` metres to the player's right of
the centre line as they face the net, ``y`` metres from the net into their half. Depth: thirds of the half
court (badminton: 0 – 2.23 – 4.47 – 6.70 m); side: thirds of the singles width (badminton ±0.86 m). A player
standing beyond a line is in the zone nearest to them; a landing point beyond the singles lines is
``out long`` or ``out wide``, one short of the net (``y < 0``, it did not cross) ``net``.
"""

from __future__ import annotations

import numpy as np

from strategist.data.court import CourtModel

DEPTHS = ("front", "mid", "rear")
SIDES = ("left", "centre", "right")
ZONES = tuple(f"{d} {s}" for d in DEPTHS for s in SIDES)
LANDING_ZONES = ZONES + ("out long", "out wide", "net")


def _index(values: np.ndarray, edge: float) -> np.ndarray:
    """0, 1, 2 for values below ``edge``, up to ``2 * edge``, beyond (NaN -> -1)."""
    out = np.where(values < edge, 0, np.where(values < 2 * edge, 1, 2))
    return np.where(np.isnan(values), -1, out)


def position_zones(x, y, court: CourtModel) -> np.ndarray:
    """Zone label of each side-frame position (None where unknown)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    depth = _index(y, court.half_length / 3)
    side = _index(x + court.singles_width / 2, court.singles_width / 3)
    labels = np.array(ZONES + (None,), dtype=object)
    code = np.where((depth < 0) | (side < 0), len(ZONES), depth * 3 + side)
    return labels[code]


def landing_zones(x, y, court: CourtModel) -> np.ndarray:
    """Zone label of each side-frame landing point: a zone of the singles court, ``out long``,
    ``out wide`` or ``net`` (None where unknown)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    zones = position_zones(x, y, court)
    with np.errstate(invalid="ignore"):
        wide = np.abs(x) > court.singles_width / 2
        long = y > court.half_length
        short = y < 0
    zones = np.where(long & ~short, "out long", zones)
    zones = np.where(wide & ~long & ~short, "out wide", zones)
    zones = np.where(short, "net", zones)
    return np.where(np.isnan(x) | np.isnan(y), None, zones).astype(object)
