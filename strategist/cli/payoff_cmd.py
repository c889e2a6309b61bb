"""``strategist payoff``: one decision of the rally game — its payoff matrix with intervals, and what is
recommended there.

The matrix is a stage of the one rally game every view reads (:func:`strategist.rally.game.rally_game`): in
the situation asked for, P(the hitter wins the rally) for each of the hitter's shots against where the
receiver stands at contact, each stroke's immediate end plus the value of the situation it leads to.
Heavy modules are imported when the command runs, so ``strategist --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json

from strategist.cli import flags
from strategist.cli.data_source import WIDTH, wrap_lines


def register(subparsers) -> None:
    from strategist.cli.data_source import add_data_options

    p = subparsers.add_parser(
        "payoff", help="one decision of the rally game: its payoff matrix with intervals, and the recommendation",
        description="Show one decision of the rally game estimated from the data: in a situation (the incoming "
                    "shot, how high and where it was taken), P(the hitter wins the rally) for each of the hitter's "
                    "shots against where the receiver stands, with a 90 % interval and the strokes behind every "
                    "cell, the recommended mix (solved at the lower bound; the player's habit where the data do "
                    "not support a change) and the values. Without --data, uses the shipped demo; for tennis the "
                    "default is the serve game (direction by court side and serve).")
    add_data_options(p)
    p.add_argument("--player", metavar="X", help="the player advised (default: all players' game)")
    p.add_argument("--opponent", metavar="Y", help="their opponent (default: everyone X met)")
    p.add_argument("--state", metavar="STATE",
                   help="the situation, e.g. 'rally after net shot (low, front)', 'serve' (see --list-states); "
                        "default: the player's most frequent one (tennis: every serve state)")
    p.add_argument("--list-states", action="store_true", help="list the situations with their counts and stop")
    p.add_argument("--min-action-count", type=flags.whole_number(0, 1_000_000), default=5,
                   help="a shot may be recommended where the player played it this often there (default 5)")
    p.add_argument("--min-share", type=flags.fraction, default=0.02,
                   help="a shot is a candidate where all players play it at least this share of the time there "
                        "(default 0.02)")
    p.add_argument("--min-count", type=flags.whole_number(0, 1_000_000), default=10,
                   help="... and at least this often (default 10)")
    p.add_argument("--level", type=flags.level, default=0.9,
                   help="level of the intervals and lower bounds (default 0.9)")
    p.add_argument("--full", action="store_true", help="print every shot, however many")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from strategist.cli.data_source import game_strokes, load_data
    from strategist.rally.game import rally_game

    loaded, path, is_demo = load_data(args)
    player, opponent = _names(loaded.table, args)
    game = rally_game(game_strokes(loaded), player, opponent, min_action_count=args.min_action_count,
                      min_share=args.min_share, min_count=args.min_count, level=args.level)
    if args.list_states:
        return _list_states(args, game, path)
    states = _chosen_states(args, game)
    stages = [stage_dict(game, s) for s in states]
    if args.json:
        doc = {"data": path, "demo": is_demo, "player": game.player, "opponent": game.opponent,
               "settings": game.to_dict()["settings"]}
        doc.update(stages[0] if len(stages) == 1 else {"states": stages})
        print(json.dumps(doc, indent=2))
        return 0
    print(render(game, stages, path, is_demo, full=args.full))
    return 0


def _names(table, args):
    from strategist.data.players import resolve_player, table_players

    people = table_players(table)
    player = resolve_player(args.player, people, "player (--player)") if args.player else None
    if args.opponent and not player:
        from strategist.errors import EstimationError

        raise EstimationError("--opponent needs --player (the player advised against them)")
    opponent = resolve_player(args.opponent, people, "opponent (--opponent)") if args.opponent else None
    return player, opponent


def _chosen_states(args, game) -> list[str]:
    """The state asked for (as the player's), or the default: the tennis serve game, else the player's most
    frequent situation."""
    from strategist.errors import EstimationError

    player_states = game.states[game.states["who"] == "player"]
    if args.state:
        wanted = args.state if args.state.startswith(("player: ", "opponent: ")) else f"player: {args.state}"
        if wanted not in game.labels:
            import difflib

            close = difflib.get_close_matches(args.state, list(player_states["decision_state"]), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else " (see --list-states)"
            raise EstimationError(f"--state {args.state!r}: no such situation in the data{hint}")
        return [wanted]
    phase = dict(game.structure.sport.decisions.default_payoff).get("phase")
    if phase == "serve":
        serves = player_states[player_states["phase"] == "serve"].sort_values("visits", ascending=False)
        return list(serves["state"])
    return [str(player_states.sort_values("visits", ascending=False)["state"].iat[0])]


def stage_dict(game, state) -> dict:
    """One decision of the game as numbers (what the JSON prints and the text renders)."""
    st = game.stage(state)
    g = game.index(state)
    row = game.states.iloc[g]
    flagged = [{"action": a, "count": n, "reason": why} for s, a, n, why in game.structure.flagged if s == st.state]
    return {
        "state": st.state, "situation": row["decision_state"], "hitter": row["who"], "visits": int(row["visits"]),
        "rows": list(st.rows), "columns": list(st.columns), "mean": st.mean.tolist(), "low": st.low.tolist(),
        "high": st.high.tolist(), "pessimistic": st.pessimistic.tolist(), "counts": st.counts.tolist(),
        "evidence": {k: float((st.evidence[..., i] * _weights(st)).sum())
                     for i, k in enumerate(("pairing", "player", "all players"))},
        "recommended": {"mix": dict(zip(st.rows, map(float, st.recommended))), "basis": st.basis,
                        "opponent": dict(zip(st.columns, map(float, st.opponent)))},
        "habit": dict(zip(st.rows, map(float, st.observed_row))),
        "advisable": dict(zip(st.rows, map(bool, st.advisable))) if row["who"] == "player" else None,
        "value": float(row["value"]), "value_interval": [float(row["value_low"]), float(row["value_high"])],
        "pessimistic_value": float(row["pessimistic_value"]), "observed_value": float(row["observed_value"]),
        "observed_interval": [float(row["observed_low"]), float(row["observed_high"])],
        "not_advised": flagged, "level": game.level,
    }


def _weights(st):
    import numpy as np

    return np.outer(st.observed_row, st.observed_column)


def _list_states(args, game, path) -> int:
    rows = game.states[game.states["who"] == "player"][["decision_state", "phase", "visits"]]
    rows = rows[rows["visits"] > 0] if game.player else rows
    if args.json:
        print(json.dumps({"data": path, "states": [{"state": s, "phase": p, "strokes": int(n)}
                                                   for s, p, n in rows.itertuples(index=False)]}, indent=2))
        return 0
    width = max(len(s) for s in rows["decision_state"]) if len(rows) else 10
    whose = f"{game.player}'s strokes" + (f" against {game.opponent}" if game.opponent else "") if game.player \
        else "all players' strokes"
    print(f"Situations in {path} ({whose})")
    for state, _, n in rows.itertuples(index=False):
        print(f"  {state.ljust(width)}  {n:>7}")
    return 0


# -- text output --------------------------------------------------------------------------------------------
def _wrap(text: str, indent: str = "  ") -> list[str]:
    return wrap_lines(text, WIDTH, indent)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


def render(game, stages: list[dict], path: str, is_demo: bool, full: bool = False) -> str:
    from strategist.cli.data_source import data_line

    who = (f"{game.player} against {game.opponent or 'everyone they met'}" if game.player
           else "any player against any other (all players' game)")
    lines = [data_line(path, is_demo), f"Game: {who}"]
    from strategist.scout.text import rally_words

    lines += _wrap(f"Cells: P(the hitter wins the {rally_words(game.structure.sport)[0]}) — the stroke's immediate "
                   "end plus the value of where it "
                   f"leads — point estimate [{game.level:.0%} interval] and the strokes of this pairing in the cell. "
                   "The recommendation is solved at the lower bounds; it keeps the habit where the data do not "
                   "support a change.", "")
    for d in stages:
        lines += [""] + _stage_lines(game, d, full)
    return "\n".join(lines)


def _stage_lines(game, d: dict, full: bool) -> list[str]:
    from strategist.scout.text import percent

    hitter = game.describe_who(d["hitter"])
    lines = _wrap(f"State: {d['situation']} — {hitter} hits ({d['visits']} strokes of this pairing there)")
    ev = d["evidence"]
    if game.player:
        lines += _wrap(f"Rests {percent(ev['pairing'])} on this pairing, {percent(ev['player'])} on the hitter against "
                       f"everyone, {percent(ev['all players'])} on all players"
                       + (": advice against everyone" if ev["pairing"] < 0.2 and game.opponent else ""))
    header = ["shot" if d["hitter"] == "player" else "your position"] + [f"{c}" for c in d["columns"]]
    rows = [header]
    order = range(len(d["rows"]))
    adv = d["advisable"] or {}
    shown = 0
    for i in order:
        if not full and shown >= 20:
            break
        name = d["rows"][i] + ("" if adv.get(d["rows"][i], True) else " *")
        rows.append([name] + [f"{d['mean'][i][j]:.2f} [{d['low'][i][j]:.2f}, {d['high'][i][j]:.2f}] "
                              f"{d['counts'][i][j]}" for j in range(len(d["columns"]))])
        shown += 1
    lines += _table(rows)
    if len(d["rows"]) > shown:
        lines.append(f"({len(d['rows']) - shown} more rows; --full shows them)")
    mix = d["recommended"]["mix"]
    counts = {r: sum(c) for r, c in zip(d["rows"], d["counts"])}
    text = ", ".join(f"{a} {percent(p)} (played {counts.get(a, 0)} times)" for a, p in
                     sorted(mix.items(), key=lambda kv: -kv[1]) if p >= 0.005)
    basis = {"habit": "the habit: the data do not support a change",
             "pessimistic equilibrium": "the equilibrium at the lower bounds"}.get(d["recommended"]["basis"],
                                                                                   d["recommended"]["basis"])
    lines += _wrap(f"Recommended ({basis}): {text}")
    lo, hi = d["value_interval"]
    olo, ohi = d["observed_interval"]
    lines += _wrap(f"Win probability from here: {percent(d['value'])} [{percent(lo)}, {percent(hi)}] playing as "
                   f"recommended (at least {percent(d['pessimistic_value'])} at the lower bounds, whatever the "
                   f"receiver's position); {percent(d['observed_value'])} [{percent(olo)}, {percent(ohi)}] as both "
                   "play now (for a match not yet played)")
    if d["not_advised"]:
        from strategist.rally.game import KEPT, KEPT_SHARE

        items = ", ".join(f"{f['action']} ({f['count']}: {f['reason']}"
                          f"{' — ' + KEPT if mix.get(f['action'], 0.0) >= KEPT_SHARE else ''})"
                          for f in d["not_advised"][:8])
        lines += _wrap(f"* not advised: {items}")
    return lines
