"""Courts in metres, and each match's mapping of recorded positions onto them.

A :class:`CourtModel` holds a court's lines in metres in the *court frame*: origin at the centre of the net,
``x`` across the court (positive to the right as seen from behind the near baseline), ``y`` along it
(positive into the far half), so the outer corners are ``(+-width/2, +-length/2)``.

ShuttleSet records positions in camera pixels, with one 3x3 homography per match
(``homography_*.csv``) onto its own court units: the outer (doubles) corners at x 25-325 (27.4-327.6 in
later matches), y 150-810, the net at y 480, the far half at small y. :class:`CourtMapping` composes that
homography with the axis-aligned affine map taking the images of the match's recorded corners to the
court model's corners: pixels -> metres in the court frame. Where a file's two near-baseline corners
carry each other's y value (29 ShuttleSet22 matches: the stored matrix maps the near corners as if the
two y values were exchanged, up to 10 cm apart), the matrix is used as stored and the bottom of the
court-unit rectangle is the mean of the two images (14 of those matches are more than 5 cm off as recorded).

Positions in the canonical table are given in the *side frame* of the player whose half they lie in:
``x`` metres to that player's right of the centre line as they face the net, ``y`` metres from the net into
their half (negative: on the other side of the net). A player at the far end (court ``y > 0``) has
``x_side = -x``, ``y_side = y``; at the near end ``x_side = x``, ``y_side = -y``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.data.readcsv import read_strings
from strategist.errors import DataFormatError


@dataclass(frozen=True)
class CourtModel:
    """A court's size and lines in metres, in the court frame (see the module docstring).

    Attributes:
        sport: the sport's name.
        length, width: outer lines (the doubles court), baseline to baseline and sideline to sideline.
        singles_width: between the singles sidelines.
        lines: every painted line as a segment ``(x0, y0, x1, y1)``.
        net_posts_x: the net's ends (the posts stand at the doubles sidelines in badminton, outside them in
            tennis).
    """

    sport: str
    length: float
    width: float
    singles_width: float
    lines: tuple[tuple[float, float, float, float], ...]
    net_posts_x: float

    @property
    def half_length(self) -> float:
        return self.length / 2

    def corners(self) -> np.ndarray:
        """The outer corners, 4 x 2: far left, far right, near left, near right."""
        w, h = self.width / 2, self.length / 2
        return np.array([[-w, h], [w, h], [-w, -h], [w, -h]])

    def in_singles(self, x_side, y_side) -> np.ndarray:
        """Whether side-frame points lie inside that half of the singles court (lines count as in)."""
        x_side, y_side = np.asarray(x_side, float), np.asarray(y_side, float)
        return (np.abs(x_side) <= self.singles_width / 2) & (y_side >= 0) & (y_side <= self.half_length)


def _badminton() -> CourtModel:
    """BWF court: 13.40 x 6.10 m, singles 5.18 m wide, short service line 1.98 m from the net, doubles long
    service line 0.76 m inside the back line, centre line from the short service line to the back line."""
    L, W, S = 13.40, 6.10, 5.18
    h, w, s = L / 2, W / 2, S / 2
    lines = [(-w, -h, w, -h), (-w, h, w, h),                          # back lines
             (-w, -h, -w, h), (w, -h, w, h), (-s, -h, -s, h), (s, -h, s, h),   # doubles and singles sidelines
             (-w, 1.98, w, 1.98), (-w, -1.98, w, -1.98),               # short service lines
             (-w, h - 0.76, w, h - 0.76), (-w, -h + 0.76, w, -h + 0.76),  # doubles long service lines
             (0, 1.98, 0, h), (0, -1.98, 0, -h)]                      # centre lines
    return CourtModel("badminton", L, W, S, tuple(lines), net_posts_x=w)


def _tennis() -> CourtModel:
    """ITF court: 23.77 x 10.97 m, singles 8.23 m wide, service lines 6.40 m from the net, centre service
    line between them, centre marks on the baselines."""
    L, W, S = 23.77, 10.97, 8.23
    h, w, s = L / 2, W / 2, S / 2
    lines = [(-w, -h, w, -h), (-w, h, w, h), (-w, -h, -w, h), (w, -h, w, h), (-s, -h, -s, h), (s, -h, s, h),
             (-s, 6.40, s, 6.40), (-s, -6.40, s, -6.40), (0, -6.40, 0, 6.40),
             (0, h, 0, h - 0.10), (0, -h, 0, -h + 0.10)]
    return CourtModel("tennis", L, W, S, tuple(lines), net_posts_x=w + 0.914)


COURTS: dict[str, CourtModel] = {"badminton": _badminton(), "tennis": _tennis()}


def court_model(sport) -> CourtModel:
    """The :class:`CourtModel` of ``sport`` (a name or a :class:`~strategist.sports.Sport`): badminton's or
    tennis's, and for a sport of a user's file that of the built-in sport it extends."""
    from strategist.errors import ConfigurationError
    from strategist.sports import get_sport

    name = str(getattr(sport, "name", sport))
    if name in COURTS:
        return COURTS[name]
    try:
        base = get_sport(sport).extends
    except ConfigurationError:
        base = None
    if base in COURTS:
        return COURTS[base]
    raise DataFormatError(f"no court model for sport {name!r}; known: {sorted(COURTS)}")


# -- ShuttleSet's court units ------------------------------------------------------------------------------
#: The court-unit rectangle of ShuttleSet's first release (and of the shipped demo's positions).
SHUTTLESET_UNITS = {"left": 25.0, "right": 325.0, "far": 150.0, "near": 810.0}
#: Sources whose positions are already in ShuttleSet's court units (the simulator writes them so).
COURT_UNIT_SOURCES = frozenset({"strategist_demo"})
_CORNERS = ("upleft", "upright", "downleft", "downright")


@dataclass(frozen=True)
class CourtMapping:
    """One match's mapping of recorded positions onto the court frame in metres.

    ``matrix`` (3 x 3) takes homogeneous source coordinates (pixels, or court units) to metres:
    ``(X, Y, 1) ~ matrix @ (u, v, 1)``.
    """

    match_id: str
    matrix: np.ndarray

    def to_court(self, u, v) -> tuple[np.ndarray, np.ndarray]:
        """Court-frame metres ``(x, y)`` of source points ``(u, v)`` (NaN stays NaN)."""
        u, v = np.asarray(u, float), np.asarray(v, float)
        m = self.matrix
        w = m[2, 0] * u + m[2, 1] * v + m[2, 2]
        return (m[0, 0] * u + m[0, 1] * v + m[0, 2]) / w, (m[1, 0] * u + m[1, 1] * v + m[1, 2]) / w

    @classmethod
    def from_units(cls, match_id: str, left: float, right: float, far: float, near: float,
                   court: CourtModel, homography: np.ndarray | None = None) -> "CourtMapping":
        """Source -> court units (``homography``; identity when None) -> metres, the unit rectangle
        ``[left, right] x [far, near]`` taken onto the court's outer lines (far = court ``y > 0``)."""
        sx = court.width / (right - left)
        sy = court.length / (near - far)
        affine = np.array([[sx, 0.0, -sx * (left + right) / 2],
                           [0.0, -sy, sy * (far + near) / 2],
                           [0.0, 0.0, 1.0]])
        h = np.eye(3) if homography is None else np.asarray(homography, float)
        return cls(match_id, affine @ h)

    @classmethod
    def from_homography(cls, match_id: str, homography: np.ndarray, corners_px: np.ndarray,
                        court: CourtModel) -> "CourtMapping":
        """From ShuttleSet's pixels -> court-units ``homography`` and the four recorded corner pixels
        (rows: up-left, up-right, down-left, down-right): the unit rectangle spans the images of the two
        far (up) corners across and from their y to the mean y of the near corners' images."""
        h = np.asarray(homography, float)
        pts = np.c_[np.asarray(corners_px, float), np.ones(4)] @ h.T
        units = pts[:, :2] / pts[:, 2:]
        left, right = sorted(units[:2, 0])
        return cls.from_units(match_id, left, right, float(units[:2, 1].mean()), float(units[2:, 1].mean()),
                              court, h)


def court_units_mapping(match_id: str, court: CourtModel | None = None) -> CourtMapping:
    """The mapping of positions recorded in ShuttleSet's court units (:data:`SHUTTLESET_UNITS`)."""
    return CourtMapping.from_units(match_id, **SHUTTLESET_UNITS, court=court or COURTS["badminton"])


def _parse_matrix(text: str) -> np.ndarray:
    value = np.asarray(ast.literal_eval(text), dtype=float)
    if value.shape != (3, 3) or not np.isfinite(value).all() or abs(np.linalg.det(value)) < 1e-12:
        raise ValueError("not an invertible 3 x 3 matrix of numbers")
    return value


def read_homographies(folder: Path) -> tuple[dict[str, CourtMapping], list[str]]:
    """Per-match mappings from the ``homography*.csv`` files in ``folder`` (ShuttleSet's layout: ``video``,
    ``homography_matrix``, ``upleft_x`` ... ``downright_y``). Returns ``(mappings, problems)``: a row that
    cannot be used (bad matrix or corner) is left out and described in ``problems``; the first file that
    names a match wins."""
    mappings: dict[str, CourtMapping] = {}
    problems: list[str] = []
    court = COURTS["badminton"]
    needed = ["video", "homography_matrix"] + [f"{c}_{a}" for c in _CORNERS for a in "xy"]
    for path in sorted(Path(folder).glob("homography*.csv")):
        try:
            frame, _ = read_strings(path)
        except DataFormatError as exc:
            problems.append(str(exc))
            continue
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            problems.append(f"{path}: missing column(s) {missing}; positions of its matches stay in pixels")
            continue
        for i, row in enumerate(frame[needed].itertuples(index=False)):
            video = row[0].strip()
            if not video or video in mappings:
                continue
            try:
                matrix = _parse_matrix(row[1])
                corners = np.array([[float(row[2 + 2 * k]), float(row[3 + 2 * k])] for k in range(4)])
                mapping = CourtMapping.from_homography(video, matrix, corners, court)
                if not np.isfinite(mapping.matrix).all():
                    raise ValueError("the corners map to a degenerate court")
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
                problems.append(f"{path}: line {i + 2}: match {video!r}: {exc}; its positions are not mapped")
                continue
            mappings[video] = mapping
    return mappings, problems


# -- the canonical side-frame columns ---------------------------------------------------------------------
#: Canonical columns filled by :func:`side_positions` (metres, each in the side frame of the half it lies in).
METRE_COLUMNS = ("hitter_x_m", "hitter_y_m", "opponent_x_m", "opponent_y_m", "landing_x_m", "landing_y_m")


def player_ends(rally: np.ndarray, hitter_is_a: np.ndarray, hitter_y: np.ndarray,
                opponent_y: np.ndarray) -> np.ndarray:
    """Per stroke: +1 when player A is at the far end (court ``y > 0``) in that stroke's rally, -1 near,
    0 unknown. Players keep their ends through a rally, so the end is the sign of the majority of A's
    recorded positions in the rally (as hitter and as opponent)."""
    a_y = np.where(hitter_is_a, hitter_y, opponent_y)
    b_y = np.where(hitter_is_a, opponent_y, hitter_y)
    votes = np.nan_to_num(np.sign(a_y)) - np.nan_to_num(np.sign(b_y))
    per_rally = pd.Series(votes).groupby(np.asarray(rally)).transform("sum").to_numpy()
    return np.sign(per_rally).astype(int)


def side_positions(mappings: dict[str, CourtMapping], match_id: np.ndarray, rally: np.ndarray,
                   hitter_is_a: np.ndarray, points: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """The canonical side-frame columns (:data:`METRE_COLUMNS`) of a stroke table.

    ``points``: ``"hitter"``, ``"opponent"``, ``"landing"`` -> source ``(u, v)`` arrays. Each match's rows
    go through its mapping (rows of a match without one stay NaN); the hitter's and the landing point's
    frames follow the ends from :func:`player_ends` (the landing point is framed by the receiver's half).
    """
    codes, ids = pd.factorize(np.asarray(match_id, dtype=object))
    unmapped = np.full((3, 3), np.nan)
    matrices = np.stack([mappings[m].matrix if m in mappings else unmapped for m in ids] + [unmapped])
    m = matrices[codes]  # one matrix per row (NaN where the match has no mapping)
    court = {}
    for key, (u, v) in points.items():
        u, v = np.asarray(u, float), np.asarray(v, float)
        w = m[:, 2, 0] * u + m[:, 2, 1] * v + m[:, 2, 2]
        court[key] = ((m[:, 0, 0] * u + m[:, 0, 1] * v + m[:, 0, 2]) / w,
                      (m[:, 1, 0] * u + m[:, 1, 1] * v + m[:, 1, 2]) / w)
    a_end = player_ends(rally, hitter_is_a, court["hitter"][1], court["opponent"][1])
    hitter_end = np.where(hitter_is_a, a_end, -a_end).astype(float)
    hitter_end[hitter_end == 0] = np.nan
    out = {}
    for key, end in (("hitter", hitter_end), ("opponent", -hitter_end), ("landing", -hitter_end)):
        x, y = court[key]
        out[f"{key}_x_m"], out[f"{key}_y_m"] = -end * x, end * y
    return out
