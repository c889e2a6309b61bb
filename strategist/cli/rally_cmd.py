"""``strategist rally``: the whole rally as a stochastic game estimated from data, solved and compared with
the players' observed play, state by state."""

from __future__ import annotations

import argparse
import json

from strategist.cli import flags
from strategist.cli.data_source import WIDTH, add_data_options, data_line, game_strokes, load_data, wrap_lines


def add_game_arguments(p) -> None:
    """Options every rally-game command shares: data, players, granularity, shrinkage."""
    add_data_options(p)
    p.add_argument("--player", metavar="X", help="the player (row side); without it, the population game")
    p.add_argument("--opponent", metavar="Y", help="the opponent (default: everyone the player met)")
    p.add_argument("--actions", default="shot", metavar="shot|group",
                   help="the hitter's choice: shot type or shot group (group:GROUPING) (default shot)")
    p.add_argument("--columns", default="auto", choices=("auto", "zone", "position", "none"),
                   help="the receiver's choice: depth zone of their position, court area, or none (default "
                        "auto: the zone where the data record positions)")
    p.add_argument("--states", default=None, metavar="RULE",
                   help="rally states by the incoming 'shot' or 'group:GROUPING' (default: the situation — the "
                        "incoming shot, how high and where it was taken)")
    p.add_argument("--no-zones", action="store_true", help="states do not say where the incoming shot was taken")
    p.add_argument("--no-heights", action="store_true", help="states do not say how high it was taken")
    p.add_argument("--min-action-count", type=flags.whole_number(0, 1_000_000), default=5,
                   help="a shot may be recommended where its hitter played it this often there; rarer ones stay "
                        "in observed play (default 5)")
    p.add_argument("--prior", default="marginal",
                   help="shrinkage strength: 'marginal' (empirical Bayes) or a number of prior trials")


def build_game(args, *, bootstrap: int = 0, level: float = 0.9, seed: int = 0, interval: str = "normal",
               with_table: bool = False):
    """``(game, path, is_demo)`` of the command's data and options (and the table, ``with_table``)."""
    from strategist.data.states import check_rally_rule
    from strategist.estimation.shrinkage import parse_prior
    from strategist.rally.game import rally_game
    from strategist.rally.model import RallySettings, check_settings

    loaded, path, is_demo = load_data(args)
    table = loaded.table
    with flags.said_of("--actions"):
        check_settings(RallySettings(actions=args.actions), loaded.sport)
    if args.states is not None:
        with flags.said_of("--states"):
            check_rally_rule(args.states, loaded.sport)
    with flags.said_of("--prior"):
        parse_prior(_prior(args.prior))
    player, opponent = _players(table, args)
    shaping = {"actions": args.actions, "columns": args.columns, "states": args.states,
               "zones": False if args.no_zones else None, "heights": False if args.no_heights else None}
    game = rally_game(game_strokes(loaded, **shaping), player, opponent, **shaping,
                      min_action_count=args.min_action_count, prior=_prior(args.prior), bootstrap=bootstrap,
                      level=level, seed=seed, interval=interval)
    return (game, path, is_demo, table) if with_table else (game, path, is_demo)


def _players(table, args):
    """The players named by ``--player`` and ``--opponent``, as the data spell them."""
    from strategist.errors import EstimationError
    from strategist.data.players import resolve_player, table_players

    people = table_players(table)
    if args.opponent and not args.player:
        raise EstimationError("--opponent needs --player (the population game has neither)")
    player = resolve_player(args.player, people, "player (--player)") if args.player else None
    opponent = resolve_player(args.opponent, people, "opponent (--opponent)") if args.opponent else None
    return player, opponent


def _prior(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def short_state(label: str) -> str:
    """``player: rally after attack to back`` -> ``P rally after attack to back``."""
    who, _, rest = label.partition(": ")
    return ("P " if who == "player" else "O ") + rest


def who_line(game) -> str:
    if game.player is None:
        return "Game: the population (P = any player, O = any opponent; all strokes)"
    return f"Game: P = {game.player}, O = {game.describe_who('opponent')}"


def table_text(rows: list[list[str]], right_from: int = 1) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if k < right_from else c.rjust(w) for k, (c, w) in
                               enumerate(zip(r, widths))).rstrip() for r in rows)


def _num(x: float, signed: bool = False) -> str:
    """``0.639`` -> ``.639``; ``-0.012`` -> ``-.012`` (signed: ``+.035``)."""
    text = f"{x:+.3f}" if signed else f"{x:.3f}"
    return text.replace("0.", ".", 1)


def _cell(value, lo=None, hi=None, signed: bool = False) -> str:
    text = _num(value, signed)
    if lo is None or lo != lo:
        return text
    return f"{text} [{_num(lo, signed)},{_num(hi, signed)}]"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "rally", help="the whole rally as a stochastic game: win probability from every state, equilibrium vs "
                      "observed play",
        description="Estimate the rally between two players as a zero-sum stochastic game (states: who hits and "
                    "the situation: the incoming shot, how high and where it was taken; actions: candidate shots "
                    "against where the receiver stands), solve it at the lower bounds for the recommendation, and "
                    "evaluate the players' habits exactly. Values are P(the player wins the rally). Without "
                    "--data, uses the shipped demo dataset.")
    add_game_arguments(p)
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="match-bootstrap replicates for the intervals (default 0: the posterior's)")
    p.add_argument("--level", type=flags.level, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--interval", default="normal", choices=("normal", "percentile"),
                   help="bootstrap interval: normal with the small-cluster correction (default) or percentile")
    p.add_argument("--seed", type=flags.seed, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--state", metavar="LABEL", action="append",
                   help="also show the equilibrium and observed mixes of this state (repeatable; 'serve' and "
                        "'return' show the serve and return states)")
    p.add_argument("--full", action="store_true", help="every state, however many")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from strategist.errors import EstimationError

    if args.bootstrap < 0:
        raise EstimationError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    game, path, is_demo = build_game(args, bootstrap=args.bootstrap, level=args.level, seed=args.seed,
                                     interval=args.interval)
    shown = _states_to_show(game, args.state or [])
    if args.json:
        out = {"data": path, "demo": is_demo, **game.to_dict()}
        print(json.dumps(out, indent=2, default=_json_default))
        return 0
    print(render(game, path, is_demo, shown, full=args.full))
    return 0


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def _states_to_show(game, wanted) -> list[str]:
    out = []
    for w in wanted:
        if w in ("serve", "return"):
            out += [s for s, ph in zip(game.states["state"], game.states["phase"]) if ph == w]
        else:
            out.append(game.labels[game.index(w if ": " in w else _expand(w))])
    return out


def _expand(label: str) -> str:
    if label[:2] in ("P ", "O "):
        return ("player: " if label[0] == "P" else "opponent: ") + label[2:]
    return label


#: The receiver's choice as the header names it (``RallySettings.columns`` as the game resolved it).
RECEIVER = {"zone": "against the depth zone the receiver stands in (front, middle, back)",
            "position": "against the court area the receiver stands in",
            "none": "alone (the data do not record where the receiver stands)"}


def render(game, path: str, is_demo: bool, shown=(), full: bool = False) -> str:
    st = game.structure
    boot = game.bootstrap
    situation = "situations (incoming shot, how high and where it was taken)" if st.settings.states is None \
        else f"states by {st.settings.states}"
    from strategist.scout.text import rally_words

    one, many = rally_words(st.sport)
    lines = [data_line(path, is_demo), who_line(game),
             f"States: who hits and the {situation}; actions: the hitter's "
             f"{'shot group' if st.settings.actions.startswith('group') else 'shot'} "
             f"{RECEIVER[st.settings.columns]}; "
             f"{st.strokes_used:,} strokes, {st.rallies:,} {many}, "
             f"{st.game_matches} {'match' if st.game_matches == 1 else 'matches'}",
             f"Values: P(P wins the {one}) from each state — with both hitting as recommended (point estimate), at "
             "the lower bound where P hits (what P's recommended shots guarantee wherever O stands), and as both "
             "play now; gain: what P wins by hitting as recommended while O keeps their habits."]
    if boot:
        unit = "matches" if boot.scheme == "match" else f"{many} (one match only: {many} resampled)"
        lines.append(f"Intervals: {boot.level:.0%}, {args_interval(game)} from a bootstrap of {unit}, "
                     f"{boot.replicates} replicates")
    else:
        lines.append(f"Intervals: {game.level:.0%}, from the posterior of every cell (as played: for a match not "
                     "yet played)")
    lines.append("")
    frame = game.states.reset_index(drop=True)
    order = frame.sort_values("visits", ascending=False, kind="stable")
    if not full:
        order = order[order["visits"] > 0].head(30)
    rows = [["state", "n", "recommended", "at least", "as played", "gain"]]
    for r in order.to_dict(orient="records"):
        rows.append([short_state(r["state"]), str(r["visits"]), _num(r["value"]),
                     _num(r["pessimistic_value"]) if r["who"] == "player" else "",
                     _cell(r["observed_value"], r.get("observed_low"), r.get("observed_high")),
                     _num(r["gain"], signed=True)])
    lines.append(table_text(rows))
    hidden = len(frame) - len(order)
    if hidden:
        lines.append(f"({hidden} states not shown: {'no stroke of this game there' if not full else ''}"
                     f"{'; --full shows them' if not full else ''})")
    lines.append("")
    from strategist.advice.prep import rally_values

    v = rally_values(None, game)       # over the states a point opens in (tennis: both courts), by visits
    lines.append(f"P serving wins {v['serve_observed']:.3f} as played, {v['serve']:.3f} as "
                 f"recommended; receiving {v['return_observed']:.3f} and {v['return']:.3f}"
                 + (" (first serves from both courts, by visits)" if len(v["serve_states"]) > 1 else ""))
    lines.append(f"P alone as recommended (O keeping their habits): serving wins {v['serve_switch']:.3f}, receiving "
                 f"{v['return_switch']:.3f}; as recommended, O plays their recommendation too")
    habit = int((frame["basis"] == "habit").sum())
    lines.append(f"Recommendations keep the habit in {habit} of {len(frame)} states (the lower bound does not "
                 "support a change there)")
    again = game.recommendation.kept_again
    if again:
        lines.append(f"{len(again)} kept habits (of either side, hitting or receiving) were freed by a judgement "
                     "at the settled values and kept again: a change there is supported only while it is not made "
                     "(JSON: recommendation.kept_again)")
    for reason, count in st.dropped.items():
        lines.append(f"left out: {count:,} strokes ({reason})")
    if st.flagged:
        listed = ", ".join(f"{a} in {short_state(s)} ({n}: {why})" for s, a, n, why in st.flagged[:5])
        lines.append(f"never recommended: {listed}" + (f" and {len(st.flagged) - 5} more" if len(st.flagged) > 5
                                                       else ""))
    if boot is not None and boot.failed:
        lines.append(f"{boot.failed} bootstrap replicates could not be solved and were left out")
    lines.append(f"Solved: {len(game.labels)} states; the recommendation in {game.recommendation.iterations} rounds")
    for label in shown:
        lines += ["", _mixes(game, label)]
    return "\n".join(wrap(line) for line in lines)


def wrap(line: str) -> str:
    """A line of text wrapped at the width (tables, whose columns are joined by two spaces, are left whole)."""
    if len(line) <= WIDTH or "  " in line.strip():
        return line
    return "\n".join(wrap_lines(line, WIDTH))


def args_interval(game) -> str:
    return "normal (small-cluster corrected)" if game.interval == "normal" else "percentile"


def _mixes(game, label: str) -> str:
    eq, ob = game.equilibrium(label), game.observed(label)
    out = [f"{short_state(label)}: {eq['value']:.3f} as recommended ({eq['basis']}), {ob['value']:.3f} as played"]
    for side in ("player", "opponent"):
        rows = [[("P" if side == "player" else "O") + " action", "recommended", "as played"]]
        for action, p in eq[side].items():
            rows.append([action, f"{p:.3f}", f"{ob[side][action]:.3f}"])
        out.append(table_text(rows))
    return "\n".join(out)
