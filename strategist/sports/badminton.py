"""Badminton singles: 18 ShuttleSet shot types, a 3x3 court half with 7 out-of-court zones, one serve.

Tactical groups (attack / neutral / defence) follow the shot's purpose: attack forces a lift or ends the
rally (smashes, rushes, pushes, drives, drops from the rear court), defence answers pressure (lobs, blocks
of a smash, defensive returns), neutral keeps the exchange even (serves, net play, clears, driven flights,
the passive drop); ``unknown`` belongs to no group (NA). ``track2`` is the 10-class merge of the CoachAI
Track-2 benchmark (``unknown`` again NA: Track 2 drops such rallies).
The server serves from the right service court when their own score is even, else from the left.
"""

from __future__ import annotations

from strategist.sports.definition import DecisionRule, Sport

# English label -> (ShuttleSet label, tactical group, Track-2 class)
_SHOTS: dict[str, tuple[str, str | None, str | None]] = {
    "short service": ("發短球", "neutral", "short service"),
    "long service": ("發長球", "neutral", "long service"),
    "net shot": ("放小球", "neutral", "net shot"),
    "cross-court net shot": ("勾球", "neutral", "net shot"),
    "return net": ("擋小球", "defence", "defensive shot"),
    "defensive return lob": ("防守回挑", "defence", "defensive shot"),
    "defensive return drive": ("防守回抽", "defence", "defensive shot"),
    "lob": ("挑球", "defence", "lob"),
    "clear": ("長球", "neutral", "clear"),
    "smash": ("殺球", "attack", "smash"),
    "wrist smash": ("點扣", "attack", "smash"),
    "drop": ("切球", "attack", "drop"),
    "passive drop": ("過度切球", "neutral", "drop"),
    "drive": ("平球", "attack", "drive"),
    "driven flight": ("小平球", "neutral", "drive"),
    "back-court drive": ("後場抽平球", "attack", "drive"),
    "push": ("推球", "attack", "push/rush"),
    "rush": ("撲球", "attack", "push/rush"),
    "unknown": ("未知球種", None, None),
}

# ShuttleSet lose_reason (recorded on the rally's last stroke) -> (ending, error kind of that stroke)
_LOSE_REASONS: dict[str, tuple[str, str | None]] = {
    "對手落地致勝": ("winner", None),            # the stroke landed in
    "落點判斷失誤": ("opponent misjudged", None),  # the opponent let an in-shuttle drop
    "對手落地判斷失誤": ("opponent misjudged", None),  # rare reversed wording of the same
    "出界": ("error", "out"),
    "掛網": ("error", "net"),
    "未過網": ("error", "not over net"),
    "犯規": ("error", "foul"),
}
# the English spellings of translations.csv, accepted as well
_LOSE_REASONS_EN = {
    "opponent's shot landed in (winner)": "對手落地致勝", "misjudged landing": "落點判斷失誤",
    "opponent misjudged landing": "對手落地判斷失誤", "out": "出界", "touched the net": "掛網",
    "did not cross the net": "未過網", "foul / fault": "犯規",
}

_AREAS = {
    "1": "front, one sideline", "7": "front, centre", "2": "front, other sideline",
    "5": "middle, one sideline", "8": "middle, centre", "6": "middle, other sideline",
    "3": "back, one sideline", "9": "back, centre", "4": "back, other sideline",
    "10": "out beside one sideline, front", "11": "out beside one sideline, middle",
    "12": "out beside one sideline, back", "13": "out beyond the back line",
    "14": "out beside the other sideline, back", "15": "out beside the other sideline, middle",
    "16": "out beside the other sideline, front",
}

_reason_end = {zh: end for zh, (end, _) in _LOSE_REASONS.items()}
_reason_error = {zh: err for zh, (_, err) in _LOSE_REASONS.items() if err is not None}
for _en, _zh in _LOSE_REASONS_EN.items():
    _reason_end[_en] = _reason_end[_zh]
    if _zh in _reason_error:
        _reason_error[_en] = _reason_error[_zh]

SPORT = Sport(
    name="badminton",
    shots=tuple(_SHOTS),
    serves=frozenset({"short service", "long service"}),
    groupings={
        "tactic": {shot: group for shot, (_, group, _) in _SHOTS.items()},
        "track2": {shot: t2 for shot, (_, _, t2) in _SHOTS.items()},
    },
    areas=_AREAS,
    court_sides=("right", "left"),
    serves_per_point=1,
    endings={"winner": "hitter", "opponent misjudged": "hitter", "error": "opponent"},
    errors=("out", "net", "not over net", "foul"),
    labels={
        "shuttleset": {
            "shot": {zh: en for en, (zh, _, _) in _SHOTS.items()},
            "end": _reason_end,
            "error": _reason_error,
        },
    },
    scoring="rally-point scoring: every rally scores a point; a game (set) to 21, best of three",
    # Serves from either court face the same choices; the return faces the serve's type; a rally stroke
    # faces the tactical group of the incoming shot.
    decisions=DecisionRule(
        serve=(), return_of="shot", rally="group:tactic",
        zones={"1": "front", "7": "front", "2": "front", "5": "middle", "8": "middle", "6": "middle",
               "3": "back", "9": "back", "4": "back"},
        default_payoff={"rows": "shot", "columns": "position", "rally_rows": "shot", "rally_columns": "position"},
    ),
)
