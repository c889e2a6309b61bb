"""The README that documents a simulated dataset: how it was made and every parameter of the model."""

from __future__ import annotations

import numpy as np

from strategist.simulate.match import Match
from strategist.simulate.model import DEPTHS, HEIGHTS, SHOT_LABELS, SHOT_STYLE, SimulationParameters, sigmoid


def dataset_readme(params: SimulationParameters, matches: list[Match], *, seed: int, command: str) -> str:
    """Markdown describing the files, the model, its parameters and the realised counts."""
    rallies = [r for m in matches for r in m.rallies]
    strokes = sum(len(r.strokes) for r in rallies)
    lengths = np.array([len(r.strokes) for r in rallies])
    server_wins = np.mean([r.winner == r.server for r in rallies])
    lines = [
        "# Demo data: simulated badminton singles in ShuttleSet's layout",
        "",
        "Made by strategist's own seeded rally simulator (`strategist.simulate`); no real match is in it.",
        "Regenerate it, byte for byte, with",
        "",
        "```",
        command,
        "```",
        "",
        "## Files",
        "",
        "| file | content |",
        "| --- | --- |",
        f"| `strokes.csv.gz` | {strokes:,} strokes of {len(rallies):,} rallies in {len(matches)} matches, one row per "
        "stroke, the columns of ShuttleSet's `strokes.csv.gz` (Chinese `type` labels; `player` A = match winner, "
        "B = loser; `roundscore_A/B` after the rally; `getpoint_player`, `win_reason`, `lose_reason` on the last "
        "stroke; `source` = `strategist_demo`) |",
        "| `matches.csv` | one row per match in the upstream `match.csv` columns; `video` is the match id, "
        "`winner`/`loser` name the players |",
        "| `parameters.json` | every parameter below, machine-readable |",
        "",
        f"Rally length: mean {lengths.mean():.1f}, median {np.median(lengths):.0f}, max {lengths.max()} strokes. "
        f"The server wins {server_wins:.1%} of rallies. Positions (`*_x`, `*_y`) are in court-model units "
        "(x 25–325, y 150–810, net at y = 480), not camera pixels; `flaw` is never set; areas use ShuttleSet's "
        "grid (front 1 7 2, middle 5 8 6, back 3 9 4; out of court 10–16).",
        "",
        "## The model",
        "",
        "Each stroke: the receiver stands at an area drawn from the position model; the shot lands at a depth "
        "drawn from the shot's landing-depth row and a side drawn from the landing-side probabilities. Then",
        "",
        "* error with P = σ(error logit[shot] − skill(hitter)); it lands out with probability "
        f"{params.out_share:g}, otherwise it hits the net (80 %) or falls short (20 %);",
        "* otherwise an outright winner with P = σ(winner logit[shot] + "
        f"{params.depth_mismatch:g}·[receiver at another depth] + {params.side_mismatch:g}·[receiver on another "
        "side] + skill(hitter) − skill(receiver));",
        "* otherwise the receiver replies with a shot from the menu of the depth the shuttle landed at, each "
        "weight multiplied by the receiver's style factor for the shot's style.",
        "",
        f"Rally scoring to {params.points_to_win} (win by two, capped at {params.point_cap}), best of "
        f"{2 * params.games_to_win - 1} games; the rally winner serves next, the game winner serves first in the "
        f"next game. A rally still going at stroke {params.max_strokes} ends with the hitter's net error. The "
        f"{len(matches)} matches pair the {len(params.players)} players below in a seeded order, every pair once "
        "before any pair meets again.",
        "",
        "### Players",
        "",
        "| player | skill | attack | net | defence | long serve | forward |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {p.name} | {p.skill:+.2f} | {p.attack:g} | {p.net:g} | {p.defence:g} | {p.long_serve:g} | "
              f"{p.forward:g} |" for p in params.players]
    lines += [
        "",
        "`skill` adds to the logit of the player's winners and subtracts from that of their errors and of their "
        "opponents' winners; `attack`/`net`/`defence` multiply the reply weights of shots of that style; "
        "`long serve` is the probability of a long service; `forward` multiplies the weight of the front depth "
        "of the player's receiving position and divides that of the back.",
        "",
        "### Shots",
        "",
        "| shot | type label | style | landing depth (front, middle, back) | error logit (P at skill 0) | "
        "winner logit (P at skill 0, receiver in place) |",
        "| --- | --- | --- | --- | ---: | ---: |",
    ]
    for shot, label in SHOT_LABELS.items():
        depth = ", ".join(f"{x:g}" for x in params.landing_depth[shot])
        e, w = params.error_logit[shot], params.winner_logit[shot]
        lines.append(f"| {shot} | {label} | {SHOT_STYLE.get(shot, 'serve')} | {depth} | {e:g} ({sigmoid(e):.3f}) "
                     f"| {w:g} ({sigmoid(w):.3f}) |")
    lines += ["", "### Reply menus (by the depth the incoming shot lands at)", "",
              "| depth | reply weights |", "| --- | --- |"]
    lines += [f"| {d} | " + ", ".join(f"{s} {w:g}" for s, w in params.reply_weights[d].items()) + " |"
              for d in DEPTHS]
    lines += ["", "### Receiver's position (depth by the depth the hitter plays from; side independent)", "",
              "| hitter plays from | front | middle | back |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {d} | " + " | ".join(f"{x:g}" for x in params.position_depth[d]) + " |" for d in DEPTHS]
    lines += ["", f"Receiver's side (one sideline, centre, other): {', '.join(f'{x:g}' for x in params.position_side)}."
              f" Landing side: {', '.join(f'{x:g}' for x in params.landing_side)}. A serve is struck from the "
              "centre of the middle depth (area 8).", ""]
    if params.heights is not None:
        lines += height_lines(params)
    return "\n".join(lines)


def height_lines(params: SimulationParameters) -> list[str]:
    """The height mode's laws as Markdown: P(high) by shot and landing depth, the menus and the receiver's
    depth by (depth, height) and the logit shifts of a shot taken high or low (these replace the reply menus
    and positions above)."""
    laws = params.heights
    lines = ["### Heights", "",
             "Every stroke that does not err lands high (the receiver takes it above net height) or low; the reply "
             "is drawn from the menu of the depth and height it is taken at (these menus replace the ones above), "
             "and its error and winner logits move by the shift of that height. `landing_height` is 1 (high) or "
             "2 (low) in `strokes.csv.gz`.", "",
             "| shot | P(high) landing front, middle, back | taken high: error, winner shift | "
             "taken low: error, winner shift |", "| --- | --- | --- | --- |"]
    for shot in SHOT_LABELS:
        hi, lo = (laws.effect.get(h, {}).get(shot, (0.0, 0.0)) for h in HEIGHTS)
        share = ", ".join(f"{x:g}" for x in laws.high_share[shot])
        lines.append(f"| {shot} | {share} | {hi[0]:+g}, {hi[1]:+g} | {lo[0]:+g}, {lo[1]:+g} |")
    lines += ["", "| depth, height taken | reply weights | receiver's depth (front, middle, back) |",
              "| --- | --- | --- |"]
    lines += [f"| {d}, {h} | " + ", ".join(f"{s} {w:g}" for s, w in laws.reply_weights[d][h].items())
              + " | " + ", ".join(f"{x:g}" for x in laws.position_depth[d][h]) + " |" for d in DEPTHS for h in HEIGHTS]
    return lines + ["", "The receiver's depth here replaces the table above, except for a serve's receiver.", ""]
