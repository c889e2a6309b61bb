"""Tennis singles: serves to three targets, 18 rally-shot types of the Match Charting Project, two serves.

Serve areas are the target in the service box (wide / body / T); rally-shot areas are where the ball
crosses the opponent's baseline, relative to a right-handed receiver. Tactical groups: attack = shots
from the net or that end the point early (volleys, overheads, swinging volleys, drop shots), defence =
slices and lobs, neutral = groundstrokes, half-volleys, trick shots. The server serves from the deuce
court when an even number of points has been played in the game (tiebreaks included), else the ad court.
"""

from __future__ import annotations

from strategist.sports.definition import DecisionRule, Sport

# English label -> (MCP letter, stroke family, tactical group, wing)
_SHOTS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "serve": (None, "serve", "serve", None),
    "forehand": ("f", "groundstroke", "neutral", "forehand"),
    "backhand": ("b", "groundstroke", "neutral", "backhand"),
    "forehand slice": ("r", "slice", "defence", "forehand"),
    "backhand slice": ("s", "slice", "defence", "backhand"),
    "forehand volley": ("v", "volley", "attack", "forehand"),
    "backhand volley": ("z", "volley", "attack", "backhand"),
    "overhead": ("o", "overhead", "attack", "forehand"),
    "backhand overhead": ("p", "overhead", "attack", "backhand"),
    "forehand drop shot": ("u", "drop shot", "attack", "forehand"),
    "backhand drop shot": ("y", "drop shot", "attack", "backhand"),
    "forehand lob": ("l", "lob", "defence", "forehand"),
    "backhand lob": ("m", "lob", "defence", "backhand"),
    "forehand half-volley": ("h", "half-volley", "neutral", "forehand"),
    "backhand half-volley": ("i", "half-volley", "neutral", "backhand"),
    "forehand swinging volley": ("j", "swinging volley", "attack", "forehand"),
    "backhand swinging volley": ("k", "swinging volley", "attack", "backhand"),
    "trick shot": ("t", "trick shot", "neutral", None),
    "unknown": ("q", None, None, None),
}

_AREAS = {
    "wide": "serve: to the outside of the service box",
    "body": "serve: at the receiver",
    "T": "serve: down the centre line",
    "forehand side": "rally shot: crosses the baseline on a right-hander's forehand side",
    "middle": "rally shot: crosses the middle 40% of the baseline",
    "backhand side": "rally shot: crosses the baseline on a right-hander's backhand side",
}

SPORT = Sport(
    name="tennis",
    shots=tuple(_SHOTS),
    serves=frozenset({"serve"}),
    groupings={
        "stroke": {shot: family for shot, (_, family, _, _) in _SHOTS.items()},
        "tactic": {shot: group for shot, (_, _, group, _) in _SHOTS.items()},
        "wing": {shot: wing for shot, (_, _, _, wing) in _SHOTS.items()},
    },
    areas=_AREAS,
    court_sides=("deuce", "ad"),
    serves_per_point=2,
    endings={
        "ace": "hitter", "unreturnable": "hitter", "winner": "hitter",
        "forced error": "opponent", "unforced error": "opponent", "double fault": "opponent",
        "challenge stopped play": "hitter",     # the player who stopped play (the next hitter) loses
        "no ending recorded": "receiver",       # the charting spreadsheet's rule
        "server won (not seen)": "server", "receiver won (not seen)": "receiver",
        "penalty on server": "receiver", "penalty on receiver": "server",
    },
    errors=("net", "wide", "deep", "wide and deep", "foot fault", "shank", "unknown", "time violation"),
    labels={
        "mcp": {
            "shot": {letter: shot for shot, (letter, _, _, _) in _SHOTS.items() if letter},
            "serve_area": {"4": "wide", "5": "body", "6": "T"},
            "area": {"1": "forehand side", "2": "middle", "3": "backhand side"},
            "depth": {"7": "service box", "8": "short", "9": "deep"},
            "error": {"n": "net", "w": "wide", "d": "deep", "x": "wide and deep", "g": "foot fault",
                      "e": "unknown", "!": "shank"},
            "modifier": {"+": "approach", "-": "at net", "=": "at baseline", ";": "net cord",
                         "^": "stop volley"},
        },
        "slam_pbp": {
            "serve_area": {"1": "wide", "2": "body", "3": "T"},
        },
    },
    scoring="points 0/15/30/40 (stored as 0-3, advantage 4; tiebreak points as counted); games; sets",
    # The serve game: direction by court side and serve (first or second). The return faces the serve's
    # direction; a rally stroke faces the tactical group of the incoming shot.
    decisions=DecisionRule(
        serve=("court_side", "serve"), return_of="area", rally="group:tactic",
        default_payoff={"phase": "serve", "rows": "area", "columns": "none", "rally_rows": "shot",
                        "rally_columns": "reply"},
        situation=("shot", False, False), serve_action="area",
    ),
)
