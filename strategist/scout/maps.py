"""Court maps: where the opponent's shots land, where they hit from, where their errors land, and where
the player (or, without enough head-to-head rallies, every rival) wins rallies against them.

The shot maps are of the opponent's four commonest shot types (ties by name). Every map is drawn in the
*figure frame*: the whole court seen from behind the hitter of the mapped strokes, their half at the
bottom (y < 0), metres, x to the viewer's right. A landing point in the receiver's side frame (x_r, y_r)
(:mod:`strategist.data.court`) sits at (-x_r, y_r); a hitter's position (x_h, y_h) at (x_h, -y_h). A map
holds a 2-D histogram (bins of 0.5 m in badminton, 1 m in tennis, over the court and a margin), its n, and
the share of its points in each zone of the half it is about, named from that half's player's side (their
left), each share with its Wilson 95 % interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from strategist.data.court import CourtModel
from strategist.scout import stats, text
from strategist.scout.coordinates import LANDING_ZONES, ZONES
from strategist.scout.rallies import RallyView

BIN_M = {"badminton": 0.5, "tennis": 1.0}
MARGIN_M = {"badminton": 1.0, "tennis": 3.0}
SHOT_MAPS = 4
MIN_HEAD_TO_HEAD = 20


def edges(court: CourtModel) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (x, y) of the figure frame: the court, a margin, bins of :data:`BIN_M`."""
    step, margin = BIN_M.get(court.sport, 0.5), MARGIN_M.get(court.sport, 1.0)
    half_x = np.ceil((court.width / 2 + margin) / step) * step
    half_y = np.ceil((court.length / 2 + margin) / step) * step
    return np.arange(-half_x, half_x + step / 2, step), np.arange(-half_y, half_y + step / 2, step)


def court_map(key: str, title: str, x_fig, y_fig, zones, court: CourtModel, *, hitter: str, half: str,
              zone_names=ZONES) -> dict:
    """One map: histogram of figure-frame points, n, and the zone shares (zones as labelled per point)."""
    x_fig, y_fig = np.asarray(x_fig, float), np.asarray(y_fig, float)
    ok = ~(np.isnan(x_fig) | np.isnan(y_fig))
    x_edges, y_edges = edges(court)
    counts, _, _ = np.histogram2d(y_fig[ok], x_fig[ok], bins=[y_edges, x_edges])
    n = int(ok.sum())
    zone_counts = pd.Series(np.asarray(zones, dtype=object)[ok]).value_counts()
    return {
        "key": key, "title": f"{title} (n = {n:,})", "n": n, "hitter": hitter, "half": half,
        "outside_grid": int(n - counts.sum()),
        "x_edges": x_edges.tolist(), "y_edges": y_edges.tolist(), "counts": counts.astype(int).tolist(),
        "zones": {z: stats.rate(int(zone_counts.get(z, 0)), n) for z in zone_names if n},
    }


def _landing_map(key, title, strokes: pd.DataFrame, court, hitter) -> dict:
    return court_map(key, title, -strokes["landing_x_m"].to_numpy(float), strokes["landing_y_m"].to_numpy(float),
                     strokes["landing_zone"].to_numpy(dtype=object), court, hitter=hitter, half="receiver",
                     zone_names=LANDING_ZONES)


def build(view: RallyView, opponent: str, player: str | None, *, name: str) -> dict:
    """The court-maps section."""
    if not view.has_positions:
        return {"status": "not available", "notes": [text.NO_POSITIONS], "maps": []}
    court, s = view.court, view.strokes
    mine = s[(s["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)]
    landed = mine[mine["landing_x_m"].notna().to_numpy()]
    maps = [_landing_map("landing_all", f"Where {name}'s shots land", landed, court, name)]
    counts = landed["shot"][landed["shot"] != "unknown"].value_counts()
    top = [shot for shot, c in sorted(counts[counts > 0].items(), key=lambda kv: (-kv[1], str(kv[0])))][:SHOT_MAPS]
    for shot in top:
        maps.append(_landing_map(f"landing_{shot.replace(' ', '_')}", f"Where {name}'s {text.plural(shot)} land",
                                 landed[(landed["shot"] == shot).to_numpy()], court, name))
    maps.append(court_map("hit_from", f"Where {name} hits from", mine["hitter_x_m"].to_numpy(float),
                          -mine["hitter_y_m"].to_numpy(float), mine["zone"].to_numpy(dtype=object), court,
                          hitter=name, half="hitter"))
    errors = mine[(mine["last"] & (mine["end"] == "error")).to_numpy(dtype=bool, na_value=False)]
    maps.append(_landing_map("errors", f"Where {name}'s errors land", errors, court, name))
    notes = []
    against = s[(s["receiver"] == opponent).to_numpy(dtype=bool, na_value=False) & s["won_here"].to_numpy()]
    h2h = against[(against["hitter"] == player).to_numpy(dtype=bool, na_value=False)] if player else against[:0]
    if len(h2h) >= MIN_HEAD_TO_HEAD:
        who, rows = player, h2h
    else:
        who, rows = "the rivals", against
        notes.append(f"{player or 'the player'} has {len(h2h)} rally-winning shots against {name} in the data "
                     f"(fewer than {MIN_HEAD_TO_HEAD}): the map of rallies won against them shows every rival's")
        warnings.warn(notes[-1], stacklevel=2)
    maps.append(_landing_map("won_against", f"Where {who} win{'s' if who == player else ''} rallies against {name}",
                             rows[rows["landing_x_m"].notna().to_numpy()], court, str(who)))
    return {"status": "assessed", "notes": notes, "maps": maps, "head_to_head": who == player,
            "frame": "each map: the whole court seen from behind the hitter of its strokes (their half at the "
                     "bottom), metres; zones named from the side of the half's player"}
