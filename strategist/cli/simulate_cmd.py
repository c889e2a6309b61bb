"""``strategist simulate``: rallies played out under the estimated rally game between two policies."""

from __future__ import annotations

import argparse
import json

from strategist.cli import flags
from strategist.cli.data_source import data_line
from strategist.cli.rally_cmd import wrap, add_game_arguments, build_game, short_state, table_text, who_line

POLICY_HELP = ("equilibrium, observed, uniform, best-response, safe:MARGIN (e.g. safe:0.02), "
               "mix:LABEL=W,... (e.g. mix:smash=2,clear=1) or model (the opponent model's predictions, --model)")


#: Most rallies one command plays out (about 2 GB and 20 s at the most).
MAX_RALLIES = 10_000_000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate", help="play rallies out under the estimated rally game between two policies",
        description="Simulate rallies under the rally game estimated from the data (not the demo generator) "
                    "between a policy of the player and one of the opponent: win probability with its "
                    "interval, rally lengths and shot usage. Without --data, uses the shipped demo dataset; "
                    "without --player, the population game.")
    add_game_arguments(p)
    p.add_argument("--policy", default="equilibrium", help=f"the player's policy: {POLICY_HELP} "
                                                           "(default equilibrium)")
    p.add_argument("--opponent-policy", default="observed", help="the opponent's policy (default observed)")
    p.add_argument("--rallies", type=flags.whole_number(1, MAX_RALLIES), default=100_000,
                   help=f"rallies to play (default 100000, at most {MAX_RALLIES:,})")
    p.add_argument("--start", default="serve", metavar="serve|receive|STATE",
                   help="where rallies start: the player's serve, the opponent's serve, or a state")
    p.add_argument("--level", type=flags.level, default=0.95, help="level of the win-probability interval (0.95)")
    p.add_argument("--seed", type=flags.seed, default=0, help="random seed (default 0)")
    p.add_argument("--model", default="markov", metavar="KIND|DIR",
                   help="the opponent model a 'model' policy follows: frequency, markov or neural fitted on the "
                        "data, or a saved model's folder (default markov)")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    p.set_defaults(handler=run)


def _model_policies(args, game, table) -> dict:
    """{side: ModelPolicy} for the sides whose policy is 'model' (the model fitted or loaded once)."""
    from pathlib import Path

    from strategist.errors import EstimationError
    from strategist.rally.model_policy import model_policy

    sides = [side for side, spec in (("player", args.policy), ("opponent", args.opponent_policy))
             if spec.strip().lower() == "model"]
    if not sides:
        return {}
    from strategist.opponent import KINDS, fit_model, load_model

    if Path(args.model).is_dir():
        model = load_model(args.model)
    elif args.model in KINDS:
        model = fit_model(args.model, table, sport=game.structure.sport.name)
    else:
        raise EstimationError(f"--model {args.model!r}: expected one of {sorted(KINDS)} or a saved model's folder")
    return {side: model_policy(game, table, model, side) for side in sides}


def _model_lines(side: str, policy) -> list[str]:
    s = policy.summary()
    who = "P" if side == "player" else "O"
    return [f"{who} follows {s['policy']}: its predictions in {s['states_from_model']} states "
            f"({s['strokes']} strokes averaged), observed play in {s['states_observed']}",
            f"  (where {who} receives, or no stroke reaches); {s['outside_share']:.1%} of its predicted mass "
            "was off the states' actions"]


def run(args: argparse.Namespace) -> int:
    from strategist.rally.playout import play_out, start_state
    from strategist.rally.policies import check_policy

    game, path, is_demo, table = build_game(args, with_table=True)
    start = args.start
    if start not in ("serve", "receive") and ": " not in start and start[:2] in ("P ", "O "):
        start = ("player: " if start[0] == "P" else "opponent: ") + start[2:]
    with flags.said_of("--start"):
        start_state(game, start)
    for flag, spec, side in (("--policy", args.policy, "player"), ("--opponent-policy", args.opponent_policy,
                                                                   "opponent")):
        with flags.said_of(flag):
            check_policy(game, spec, side)
    models = _model_policies(args, game, table)
    result = play_out(game, models.get("player", args.policy), models.get("opponent", args.opponent_policy),
                      args.rallies, args.seed, start=start, level=args.level)
    if args.json:
        extra = {"model_policy": {side: m.summary() for side, m in models.items()}} if models else {}
        print(json.dumps({"data": path, "demo": is_demo, "player": game.player, "opponent": game.opponent,
                          **result.to_dict(), **extra}, indent=2))
        return 0
    length = result.length_summary()
    from strategist.scout.text import rally_words

    many = rally_words(game.structure.sport)[1]
    lines = [data_line(path, is_demo), who_line(game),
             f"Policies: P {result.player_policy}, O {result.opponent_policy}; start "
             + (" and ".join(short_state(s) for s in result.starts) + ", each by its share of the data's points"
                if len(result.starts) > 1
                else short_state(result.start)),
             f"{many.capitalize()}: {result.rallies} in {result.seconds:.2f} s"
             + (f" ({result.capped} stopped at the stroke cap)" if result.capped else ""),
             f"P wins {result.win_probability:.4f} [{result.level:.0%} interval {result.ci_low:.4f}, "
             f"{result.ci_high:.4f}]; exact value of the two policies {result.exact:.4f}",
             f"Rally length (strokes): mean {length['mean']:.2f}, median {length['median']:.0f}, "
             f"90th percentile {length['p90']:.0f}, longest {length['max']}", ""]
    if models:
        lines[2:2] = [line for side, m in models.items() for line in _model_lines(side, m)]
    for side in ("player", "opponent"):
        use = result.usage[(result.usage["side"] == side) & (result.usage["kind"] == "shot")
                           & (result.usage["count"] > 0)]
        name = "P" if side == "player" else "O"
        if use.empty:          # e.g. serves only recorded, and this side only receives: no table without rows
            lines += [f"{name} shot usage: {name} hit no shot in these {many}", ""]
            continue
        rows = [[f"{name} shot usage", "strokes", "share"]]
        rows += [[a, str(int(c)), f"{s:.3f}"] for a, c, s in zip(use["action"], use["count"], use["share"])]
        lines += [table_text(rows), ""]
    print("\n".join(wrap(line) for line in lines).rstrip())
    return 0
