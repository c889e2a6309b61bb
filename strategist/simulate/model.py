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

**Heights** (``SimulationParameters(heights=HeightLaws())``, :data:`HEIGHT_PARAMETERS`; off by default). Every
shot that does not err also lands **high** (above net height where the receiver takes it) with
``P = high_share[shot][depth(L)]``, else **low**. The receiver then takes it at that (depth, height): the
reply is drawn from ``reply_weights[depth][height]`` (times the style factors), and the reply's error and
winner logits move by ``effect[height][reply]`` (e.g. a rush or a smash of a low shuttle errs most of the
time and rarely wins):

    P(error) = σ(err[s] + e_h[s] − skill_h),    P(winner) = σ(win[s] + w_h[s] + γ_depth·… − skill_o)

with (e_h, w_h) = ``effect[height taken][s]`` (0 for a serve). Without heights none of this applies and
the random stream is the one of earlier versions (the demo is unchanged).
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

#: Heights a shuttle is taken at (ShuttleSet ``landing_height`` 1 / 2; canonical ``landing_height``).
HEIGHTS = ("high", "low")

#: P(the shot is taken high) by the depth it lands at (front, middle, back): net play mostly tight (low),
#: sometimes loose; lifts high; smashes and rushes low.
HIGH_SHARE: dict[str, tuple[float, float, float]] = {
    "short service": (0.15, 0.15, 0.15),
    "long service": (0.95, 0.95, 0.95),
    "net shot": (0.25, 0.25, 0.25),
    "cross-court net shot": (0.30, 0.30, 0.30),
    "return net": (0.20, 0.35, 0.35),
    "lob": (0.85, 0.85, 0.95),
    "defensive return lob": (0.80, 0.80, 0.90),
    "clear": (0.90, 0.90, 0.95),
    "smash": (0.10, 0.10, 0.20),
    "wrist smash": (0.15, 0.15, 0.20),
    "drop": (0.20, 0.30, 0.30),
    "push": (0.40, 0.40, 0.30),
    "rush": (0.10, 0.10, 0.10),
    "drive": (0.50, 0.50, 0.40),
}

#: Reply menus by the depth and height the shuttle is taken at: a rush is a loose net shot's answer, a smash
#: a high shuttle's; both are sometimes tried from a low one (and fail).
HEIGHT_REPLY_WEIGHTS: dict[str, dict[str, dict[str, float]]] = {
    "front": {
        "high": {"net shot": 0.20, "cross-court net shot": 0.08, "lob": 0.17, "push": 0.15, "rush": 0.40},
        "low": {"net shot": 0.38, "cross-court net shot": 0.12, "lob": 0.40, "push": 0.06, "rush": 0.04},
    },
    "middle": {
        "high": {"return net": 0.10, "defensive return lob": 0.05, "drive": 0.25, "lob": 0.05, "push": 0.15,
                 "smash": 0.25, "wrist smash": 0.15},
        "low": {"return net": 0.32, "defensive return lob": 0.26, "drive": 0.22, "lob": 0.12, "push": 0.05,
                "smash": 0.02, "wrist smash": 0.01},
    },
    "back": {
        "high": {"clear": 0.22, "smash": 0.33, "wrist smash": 0.10, "drop": 0.28, "drive": 0.05,
                 "defensive return lob": 0.02},
        "low": {"clear": 0.40, "smash": 0.05, "wrist smash": 0.02, "drop": 0.28, "drive": 0.10,
                "defensive return lob": 0.15},
    },
}

#: The receiver's depth (front, middle, back) by the depth and height the hitter takes the shuttle at: they
#: read the threat (a rush of a loose net shot, a smash of a high one) and stand for it.
HEIGHT_POSITION_DEPTH: dict[str, dict[str, tuple[float, float, float]]] = {
    "front": {"high": (0.25, 0.60, 0.15), "low": (0.45, 0.40, 0.15)},
    "middle": {"high": (0.20, 0.60, 0.20), "low": (0.35, 0.45, 0.20)},
    "back": {"high": (0.25, 0.55, 0.20), "low": (0.35, 0.40, 0.25)},
}

#: (error, winner) logit shifts of a shot taken at each height; shots not named move by (0, 0).
HEIGHT_EFFECT: dict[str, dict[str, tuple[float, float]]] = {
    "high": {"rush": (-0.5, 1.0), "smash": (0.0, 0.6), "wrist smash": (0.0, 0.5), "push": (0.0, 0.6),
             "drive": (0.0, 0.3)},
    "low": {"rush": (3.5, -3.0), "smash": (2.5, -2.5), "wrist smash": (2.0, -2.0), "push": (0.8, -0.8),
            "drive": (0.4, -0.6), "clear": (0.6, 0.0), "drop": (0.5, -0.5)},
}


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
class HeightLaws:
    """The height mode's laws (module docstring): ``high_share[shot]`` = P(taken high) by landing depth,
    ``reply_weights[depth][height]`` the reply menus, ``effect[height][shot]`` = (error, winner) logit shifts,
    ``position_depth[depth][height]`` the receiver's depth while the hitter takes the shuttle there (a serve's
    receiver keeps the model's ``position_depth``)."""

    high_share: dict = field(default_factory=lambda: dict(HIGH_SHARE))
    reply_weights: dict = field(default_factory=lambda: {d: {h: dict(m) for h, m in v.items()}
                                                         for d, v in HEIGHT_REPLY_WEIGHTS.items()})
    effect: dict = field(default_factory=lambda: {h: dict(v) for h, v in HEIGHT_EFFECT.items()})
    position_depth: dict = field(default_factory=lambda: {d: dict(v) for d, v in HEIGHT_POSITION_DEPTH.items()})


@dataclass(frozen=True)
class SimulationParameters:
    """Every number of the rally model (see the module docstring for how they are used). ``heights``:
    :class:`HeightLaws` to give every landing a height that sets the next reply's menu and effect; None
    (default) for the model of earlier versions."""

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
    heights: HeightLaws | None = None

    def player(self, name: str) -> Player:
        for p in self.players:
            if p.name == name:
                return p
        raise KeyError(name)

    def to_json(self) -> str:
        data = asdict(self)
        if self.heights is None:        # the parameters of earlier versions, written as they were
            del data["heights"]
        return json.dumps(data, indent=2, ensure_ascii=False)


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


def height_effect(params: SimulationParameters, shot: str, taken: str | None) -> tuple[float, float]:
    """(error, winner) logit shifts of ``shot`` played from a shuttle taken at height ``taken`` (0 without
    heights, for a serve or where ``taken`` is None)."""
    if params.heights is None or taken is None:
        return 0.0, 0.0
    shift = params.heights.effect.get(taken, {}).get(shot, (0.0, 0.0))
    return float(shift[0]), float(shift[1])


def error_probability(params: SimulationParameters, shot: str, hitter: Player, taken: str | None = None) -> float:
    """P(the stroke is an error) = σ(err[shot] + e_taken[shot] − skill_hitter)."""
    return float(sigmoid(params.error_logit[shot] + height_effect(params, shot, taken)[0] - hitter.skill))


def winner_probability(params: SimulationParameters, shot: str, landing: int, position: int, hitter: Player,
                       receiver: Player, taken: str | None = None) -> float:
    """P(outright winner | no error) for a shot landing at area ``landing`` with the receiver at ``position``,
    played from a shuttle taken at height ``taken``."""
    (dl, sl), (dr, sr) = area_cell(landing), area_cell(position)
    logit = (params.winner_logit[shot] + height_effect(params, shot, taken)[1] + params.depth_mismatch * (dl != dr)
             + params.side_mismatch * (sl != sr) + hitter.skill - receiver.skill)
    return float(sigmoid(logit))


def reply_menu(params: SimulationParameters, depth: int, height: str | None = None) -> dict[str, float]:
    """The reply menu's weights from ``depth`` (and, with heights, the ``height`` the shuttle is taken at)."""
    if params.heights is None:
        return params.reply_weights[DEPTHS[depth]]
    if height not in HEIGHTS:
        raise ValueError(f"height {height!r}: the height mode needs one of {HEIGHTS}")
    return params.heights.reply_weights[DEPTHS[depth]][height]


def reply_distribution(params: SimulationParameters, depth: int, player: Player,
                       height: str | None = None) -> dict[str, float]:
    """P(reply shot) from ``depth`` (and ``height``) for ``player``: the menu's weights times the player's
    style factors."""
    weights = {s: w * getattr(player, SHOT_STYLE[s]) for s, w in reply_menu(params, depth, height).items()}
    total = sum(weights.values())
    return {s: w / total for s, w in weights.items()}


def high_probability(params: SimulationParameters, shot: str, depth: int) -> float:
    """P(``shot`` landing at ``depth`` is taken high) in the height mode."""
    return float(params.heights.high_share[shot][depth])


def position_distribution(params: SimulationParameters, depth: int, receiver: Player,
                          height: str | None = None) -> np.ndarray:
    """P(receiver's area) as a 3×3 (depth, side) array when the hitter plays from ``depth`` (taking the
    shuttle at ``height``: the height mode's law; None: the model's ``position_depth``)."""
    if params.heights is not None and height is not None:
        d = np.array(params.heights.position_depth[DEPTHS[depth]][height], dtype=float)
    else:
        d = np.array(params.position_depth[DEPTHS[depth]], dtype=float)
    d = d * np.array([receiver.forward, 1.0, 1.0 / receiver.forward])
    d /= d.sum()
    return np.outer(d, np.asarray(params.position_side, dtype=float))


#: The demo's players and laws with heights: the shots available and their effect depend on how high the
#: shuttle is taken.
HEIGHT_PARAMETERS = SimulationParameters(heights=HeightLaws())
