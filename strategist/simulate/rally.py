"""Simulate one rally stroke by stroke under the model of :mod:`strategist.simulate.model`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategist.simulate.model import (BEYOND_BACK_LINE, OUT_AREAS, Player, SimulationParameters, area_cell,
                                       area_code, error_probability, high_probability, position_distribution,
                                       reply_distribution, winner_probability)

#: Where the server stands (centre of the middle depth) and the depth the receiver reads a serve from.
SERVER_AREA = 8
SERVE_DEPTH = 1


@dataclass(frozen=True)
class Stroke:
    """One simulated stroke. ``landing`` is an area code (out-of-court codes for shots that land out; None
    for a shot into the net); ``end`` is set on the last stroke: ``"winner"``, ``"out"``, ``"net"`` or
    ``"not over"`` (did not cross the net); ``height`` (height mode only) is how high the shuttle is taken where
    it lands: ``"high"`` or ``"low"`` (None for an error or without heights)."""

    number: int
    hitter: str
    receiver: str
    shot: str
    hitter_area: int
    position: int
    landing: int | None
    end: str | None = None
    height: str | None = None

    @property
    def hitter_won(self) -> bool | None:
        return None if self.end is None else self.end == "winner"


def _choice(rng: np.random.Generator, options, probs) -> int:
    """An index drawn with weights ``probs``: ``rng.choice(len(options), p=probs / sum)`` without its checks
    (the same inverse-CDF draw from one uniform, so the same stream and the same demo)."""
    p = np.asarray(probs, dtype=float) / np.sum(probs)
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


def simulate_rally(params: SimulationParameters, server: Player, receiver: Player,
                   rng: np.random.Generator) -> list[Stroke]:
    """Strokes of one rally served by ``server``; the last stroke carries how the rally ended."""
    hitter, other = server, receiver
    shot = "long service" if rng.random() < server.long_serve else "short service"
    hitter_area, from_depth = SERVER_AREA, SERVE_DEPTH
    taken = None                                    # how high the hitter takes the shuttle (height mode)
    strokes: list[Stroke] = []
    for number in range(1, params.max_strokes + 1):
        grid = position_distribution(params, from_depth, other, taken).ravel()
        cell = _choice(rng, grid, grid)
        position = area_code(cell // 3, cell % 3)
        depth = _choice(rng, (0, 1, 2), params.landing_depth[shot])
        side = _choice(rng, (0, 1, 2), params.landing_side)
        landing = area_code(depth, side)
        end = height = None
        if rng.random() < error_probability(params, shot, hitter, taken):
            if rng.random() < params.out_share:
                end = "out"
                landing = BEYOND_BACK_LINE if depth == 2 and rng.random() < 0.5 else OUT_AREAS[depth][side == 2]
            else:
                end = "net" if rng.random() < 0.8 else "not over"
                landing = None
        else:
            if params.heights is not None:
                height = "high" if rng.random() < high_probability(params, shot, depth) else "low"
            if rng.random() < winner_probability(params, shot, landing, position, hitter, other, taken):
                end = "winner"
            elif number == params.max_strokes:
                end, landing, height = "net", None, None
        strokes.append(Stroke(number, hitter.name, other.name, shot, hitter_area, position, landing, end, height))
        if end is not None:
            return strokes
        replies = reply_distribution(params, depth, other, height)
        shot = list(replies)[_choice(rng, list(replies), list(replies.values()))]
        hitter, other = other, hitter
        hitter_area, from_depth, taken = landing, area_cell(landing)[0], height
    raise AssertionError("unreachable: the last stroke always ends the rally")  # pragma: no cover
