"""The rally model of the simulator: players, shot transitions, receiver positions and stroke outcomes.

Court areas follow ShuttleSet's grid of one half court, indexed by (depth, side):

    depth \\ side   0   1   2
    0 front          1   7   2
    1 middle         5   8   6
    2 back           3   9   4

A stroke by hitter ``h`` of shot ``s`` lands at ``L`` while the receiver ``o`` stands at ``R``. Then

* the hitter errs with ``P(error) = σ(err[s] − skill_h)``;
* otherwise the shot is an outright winner with
  ``P(winner) = σ(win[s] + γ_depth·[depth(L) ≠ depth(R)] + γ_side·[side(L) ≠ side(R)] + skill_h − skill_o)``;
* otherwise the receiver replies. The reply is drawn from the menu of the depth the shuttle lands at
  (``reply_weights[depth(L)]``), each weight multiplied by the receiver's style factor for the shot's style
  (attack / net / defence), and lands at a depth set by the reply (``landing_depth``) and a random side.

The receiver's position when the hitter strikes is drawn from ``position_depth[depth the hitter plays
from]`` (tilted by the receiver's ``forward`` lean) and ``position_side``. Guessing the depth of the
next shot is the receiver's choice in the game; the hitter's is the shot, which sets that depth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

#: ShuttleSet area code of (depth, side).
AREA_GRID = ((1, 7, 2), (5, 8, 6), (3, 9, 4))
#: Out-of-court codes by depth: beyond one sideline, beyond the other.
OUT_AREAS = ((10, 16), (11, 15), (12, 14))
BEYOND_BACK_LINE = 13
DEPTHS = ("front", "middle", "back")

#: Shots the simulator plays: English label -> ShuttleSet's Chinese ``type`` label.
SHOT_LABELS: dict[str, str] = {
    "short service": "發短球",
    "long service": "發長球",
    "net shot": "放小球",
    "cross-court net shot": "勾球",
    "return net": "擋小球",
    "lob": "挑球",
    "defensive return lob": "防守回挑",
    "clear": "長球",
    "smash": "殺球",
    "wrist smash": "點扣",
    "drop": "切球",
    "push": "推球",
    "rush": "撲球",
    "drive": "平球",
}
SERVES = ("short service", "long service")
RALLY_SHOTS = tuple(s for s in SHOT_LABELS if s not in SERVES)

#: Style of every rally shot; a player's style factors multiply the reply weights of its shots.
SHOT_STYLE: dict[str, str] = {
    "net shot": "net", "cross-court net shot": "net", "return net": "net", "drop": "net",
    "lob": "defence", "defensive return lob": "defence", "clear": "defence",
    "smash": "attack", "wrist smash": "attack", "push": "attack", "rush": "attack", "drive": "attack",
}

#: Depth (0 front, 1 middle, 2 back) a shot lands at, as probabilities over the three depths.
LANDING_DEPTH: dict[str, tuple[float, float, float]] = {
    "short service": (1.0, 0.0, 0.0),
    "long service": (0.0, 0.0, 1.0),
    "net shot": (1.0, 0.0, 0.0),
    "cross-court net shot": (1.0, 0.0, 0.0),
    "return net": (0.9, 0.1, 0.0),
    "lob": (0.0, 0.1, 0.9),
    "defensive return lob": (0.0, 0.2, 0.8),
    "clear": (0.0, 0.05, 0.95),
    "smash": (0.05, 0.8, 0.15),
    "wrist smash": (0.15, 0.75, 0.1),
    "drop": (0.8, 0.2, 0.0),
    "push": (0.0, 0.6, 0.4),
    "rush": (0.3, 0.7, 0.0),
    "drive": (0.0, 0.7, 0.3),
}

#: Reply menu by the depth the incoming shot lands at (the depth the hitter plays from).
REPLY_WEIGHTS: dict[str, dict[str, float]] = {
    "front": {"net shot": 0.30, "cross-court net shot": 0.10, "lob": 0.35, "push": 0.12, "rush": 0.13},
    "middle": {"return net": 0.30, "defensive return lob": 0.20, "drive": 0.25, "lob": 0.10, "push": 0.15},
    "back": {"clear": 0.25, "smash": 0.30, "wrist smash": 0.10, "drop": 0.30, "drive": 0.05},
}

#: Logit of an error, before the hitter's skill.
ERROR_LOGIT: dict[str, float] = {
    "short service": -4.5, "long service": -4.2, "net shot": -3.0, "cross-court net shot": -2.6,
    "return net": -3.0, "lob": -4.0, "defensive return lob": -3.5, "clear": -3.8, "smash": -3.0,
    "wrist smash": -3.2, "drop": -3.2, "push": -3.6, "rush": -3.0, "drive": -3.2,
}

#: Logit of an outright winner when the receiver stands at the landing depth and side, before skills.
WINNER_LOGIT: dict[str, float] = {
    "short service": -7.0, "long service": -6.5, "net shot": -5.0, "cross-court net shot": -4.5,
    "return net": -5.2, "lob": -6.3, "defensive return lob": -6.3, "clear": -5.8, "smash": -3.6,
    "wrist smash": -4.0, "drop": -4.8, "push": -4.7, "rush": -3.4, "drive": -4.7,
}

#: Receiver's depth probabilities by the depth the hitter plays from.
POSITION_DEPTH: dict[str, tuple[float, float, float]] = {
    "front": (0.35, 0.45, 0.20),
    "middle": (0.25, 0.50, 0.25),
    "back": (0.20, 0.50, 0.30),
}
POSITION_SIDE = (0.3, 0.4, 0.3)
LANDING_SIDE = (0.38, 0.24, 0.38)


@dataclass(frozen=True)
class Player:
    """A simulated player.

    ``skill`` adds to the logit of the player's winners, subtracts from the logit of their errors and
    from the logit of the opponent's winners. ``attack``, ``net``, ``defence`` multiply the reply weights
    of shots of that style. ``long_serve`` is the probability of a long service. ``forward`` multiplies
    the weight of the front depth in the player's receiving position (and divides that of the back).
    """

    name: str
    skill: float = 0.0
    attack: float = 1.0
    net: float = 1.0
    defence: float = 1.0
    long_serve: float = 0.15
    forward: float = 1.0


DEFAULT_PLAYERS = (
    Player("Astrid NORDVIK", skill=0.30, attack=1.8, net=0.8, defence=0.8, long_serve=0.10, forward=1.2),
    Player("Bao Thanh LE", skill=0.20, attack=0.7, net=1.0, defence=1.6, long_serve=0.30, forward=0.8),
    Player("Carmen ORTIZ", skill=0.15, attack=1.0, net=1.8, defence=0.9, long_serve=0.05, forward=1.5),
    Player("Dev MALHOTRA", skill=0.10, attack=1.1, net=1.1, defence=1.1, long_serve=0.15, forward=1.0),
    Player("Elin SOLBERG", skill=0.0, attack=1.4, net=0.7, defence=1.2, long_serve=0.25, forward=0.9),
    Player("Farid HAMDAN", skill=-0.05, attack=0.9, net=1.4, defence=1.0, long_serve=0.10, forward=1.3),
    Player("Grace OKAFOR", skill=-0.15, attack=1.2, net=1.0, defence=0.8, long_serve=0.20, forward=1.1),
    Player("Hiro TAKEDA", skill=-0.25, attack=0.8, net=0.9, defence=1.5, long_serve=0.35, forward=0.7),
)


@dataclass(frozen=True)
class SimulationParameters:
    """Every number of the rally model (see the module docstring for how they are used)."""

    players: tuple[Player, ...] = DEFAULT_PLAYERS
    depth_mismatch: float = 2.6          # γ_depth: logit bonus of a winner when the receiver is at another depth
    side_mismatch: float = 0.8           # γ_side: bonus when the receiver is on another side
    max_strokes: int = 70                # a rally still going at this stroke ends with the hitter's net error
    points_to_win: int = 21              # rally scoring, win by two, capped
    point_cap: int = 30
    games_to_win: int = 2
    out_share: float = 0.6               # share of errors that land out (the rest hit the net or fall short)
    error_logit: dict = field(default_factory=lambda: dict(ERROR_LOGIT))
    winner_logit: dict = field(default_factory=lambda: dict(WINNER_LOGIT))
    landing_depth: dict = field(default_factory=lambda: dict(LANDING_DEPTH))
    reply_weights: dict = field(default_factory=lambda: {k: dict(v) for k, v in REPLY_WEIGHTS.items()})
    position_depth: dict = field(default_factory=lambda: dict(POSITION_DEPTH))
    position_side: tuple = POSITION_SIDE
    landing_side: tuple = LANDING_SIDE

    def player(self, name: str) -> Player:
        for p in self.players:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def area_code(depth: int, side: int) -> int:
    return AREA_GRID[depth][side]


def area_cell(code: int) -> tuple[int, int]:
    """(depth, side) of an in-court area code."""
    for d, row in enumerate(AREA_GRID):
        if code in row:
            return d, row.index(code)
    raise ValueError(f"area {code} is not an in-court area")


def error_probability(params: SimulationParameters, shot: str, hitter: Player) -> float:
    """P(the stroke is an error) = σ(err[shot] − skill_hitter)."""
    return float(sigmoid(params.error_logit[shot] - hitter.skill))


def winner_probability(params: SimulationParameters, shot: str, landing: int, position: int, hitter: Player,
                       receiver: Player) -> float:
    """P(outright winner | no error) for a shot landing at area ``landing`` with the receiver at ``position``."""
    (dl, sl), (dr, sr) = area_cell(landing), area_cell(position)
    logit = (params.winner_logit[shot] + params.depth_mismatch * (dl != dr) + params.side_mismatch * (sl != sr)
             + hitter.skill - receiver.skill)
    return float(sigmoid(logit))


def reply_distribution(params: SimulationParameters, depth: int, player: Player) -> dict[str, float]:
    """P(reply shot) from ``depth`` for ``player``: the menu's weights times the player's style factors."""
    weights = {s: w * getattr(player, SHOT_STYLE[s]) for s, w in params.reply_weights[DEPTHS[depth]].items()}
    total = sum(weights.values())
    return {s: w / total for s, w in weights.items()}


def position_distribution(params: SimulationParameters, depth: int, receiver: Player) -> np.ndarray:
    """P(receiver's area) as a 3×3 (depth, side) array when the hitter plays from ``depth``."""
    d = np.array(params.position_depth[DEPTHS[depth]], dtype=float)
    d = d * np.array([receiver.forward, 1.0, 1.0 / receiver.forward])
    d /= d.sum()
    return np.outer(d, np.asarray(params.position_side, dtype=float))
