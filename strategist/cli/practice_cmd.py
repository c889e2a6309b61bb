"""``strategist practice``: practise against a modelled opponent, rally by rally, under the estimated game."""

from __future__ import annotations

import argparse
import json
import sys

from strategist.cli import flags
from strategist.cli.data_source import data_line
from strategist.cli.rally_cmd import wrap, add_game_arguments, build_game, table_text, who_line


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "practice", help="practise rally by rally against a modelled opponent; shot values learnt from rewards",
        description="Play rallies against the opponent's model under the rally game estimated from the data. "
                    "Where you hit, choose a shot by its number (q stops); your positions follow --cover. "
                    "Each rally pays +1 (won) or -1 (lost), credited to your choices backwards with decay "
                    "(--decay); a shot's value is the mean of its credits. The session ends with what worked, "
                    "what did not, and how far your play was from the equilibrium. --auto POLICY plays your "
                    "side automatically. Without --data, uses the shipped demo dataset.")
    add_game_arguments(p)
    p.add_argument("--auto", metavar="POLICY", help="play the player's side with this policy (equilibrium, "
                                                     "observed, uniform, best-response, safe:M, mix:...)")
    p.add_argument("--opponent-policy", default="observed", help="the opponent's model (default observed)")
    p.add_argument("--cover", default="equilibrium", help="the player's positions (default equilibrium)")
    p.add_argument("--rallies", type=flags.whole_number(1, 100_000), default=10,
                   help="rallies in the session (default 10, at most 100,000)")
    p.add_argument("--start", default="alternate", choices=("serve", "receive", "alternate"),
                   help="who serves: the player, the opponent, or alternately (default)")
    p.add_argument("--decay", type=flags.fraction, default=0.8,
                   help="credit decay per earlier choice, from 0 to 1 (default 0.8)")
    p.add_argument("--seed", type=flags.seed, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the session report as JSON (with --auto)")
    p.set_defaults(handler=run)


def _interactive(out):
    from strategist.data.states import describe_situation

    def choose(state, actions, values):
        print(f"\nYour shot — {describe_situation(state)}", file=out)
        for k, a in enumerate(actions, start=1):
            v, n = values[a]
            seen = f"value {v:+.2f} from {n}" if n else "not tried"
            print(f"  {k:>2}. {a:<24} ({seen})", file=out)
        while True:
            print("Your shot (number, q to stop): ", end="", file=out, flush=True)
            line = sys.stdin.readline()
            if not line or line.strip().lower() in ("q", "quit"):
                return None
            text = line.strip()
            if text.isdigit() and 1 <= int(text) <= len(actions):
                return int(text) - 1
            print(f"  expected a number from 1 to {len(actions)}", file=out)
    return choose


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from strategist.data.states import describe_situation
    from strategist.errors import EstimationError
    from strategist.rally.practice import policy_chooser, practise

    if args.json and not args.auto:
        raise EstimationError("--json needs --auto (an interactive session talks on the terminal)")
    from strategist.rally.policies import check_policy

    game, path, is_demo = build_game(args)
    for flag, spec, side in (("--auto", args.auto, "player"), ("--opponent-policy", args.opponent_policy, "opponent"),
                             ("--cover", args.cover, "player")):
        if spec is not None:
            with flags.said_of(flag):
                check_policy(game, spec, side)
    rng = np.random.default_rng(args.seed + 1)
    talk = sys.stdout if not args.json else sys.stderr
    if args.auto:
        chooser = policy_chooser(game, args.auto, rng)
        on_rally = None
    else:
        print(data_line(path, is_demo), file=talk)
        print(who_line(game), file=talk)
        chooser = _interactive(talk)

        def on_rally(k, won, choices):
            print(f"Rally {k}: {'won' if won else 'lost'} after your {len(choices)} shots", file=talk)
    report = practise(game, chooser, args.rallies, seed=args.seed, opponent_policy=args.opponent_policy,
                      cover=args.cover, start=args.start, decay=args.decay, on_rally=on_rally)
    if args.json:
        print(json.dumps({"data": path, "demo": is_demo, "player": game.player, "opponent": game.opponent,
                          "auto": args.auto, **report.to_dict()}, indent=2))
        return 0
    lines = []
    if args.auto:
        lines += [data_line(path, is_demo), who_line(game),
                  f"Player's shots: {args.auto}; opponent: {args.opponent_policy}; positions: {args.cover}"]
    from strategist.scout.text import percent, rally_words

    lines += [f"Session: {report.rallies} {rally_words(game.structure.sport)[1]}, {report.wins} won "
              f"({report.wins / report.rallies:.0%})",
              f"Reward rule: +1 won / -1 lost, credited backwards with decay {report.decay:g}", ""]
    for title, frame in (("What worked", report.worked()), ("What did not", report.did_not())):
        rows = [[title, "situation", "tries", "value"]]
        rows += [[a, describe_situation(s), str(n), f"{v:+.2f}"] for s, a, n, v in
                 zip(frame["state"], frame["action"], frame["tries"], frame["value"])]
        lines += [table_text(rows, right_from=2) if len(rows) > 1 else f"{title}: no shot tried twice yet", ""]
    lines += [f"Off the recommended mix: {percent(report.mean_distance)} of your choices would have to change to "
              "follow it (total variation, weighted by the situations' visits)",
              f"From {game.player or 'the player'}'s serve: your practised play wins {report.practised_value:.3f} "
              "against this opponent "
              f"({report.practised_guarantee:.3f} against the best reply);",
              f"as recommended: {report.equilibrium_value:.3f} with both playing the recommendation, "
              f"{report.model_value:.3f} against this opponent"]
    print("\n".join(wrap(line) for line in lines))
    return 0
