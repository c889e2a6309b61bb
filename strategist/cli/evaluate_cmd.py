"""``strategist evaluate``: score a saved opponent model on the held-out matches of rally data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from strategist.cli.data_source import add_data_options, load_table


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score a saved opponent model on held-out matches",
        description="Log-loss, top-1 and top-3 accuracy and expected calibration error of the next shot, on the "
                    "matches of --data the model did not learn from, split by seen and unseen opponents; "
                    "writes a reliability plot.")
    p.add_argument("--model", required=True, metavar="DIR", help="directory written by `strategist train`")
    add_data_options(p)
    p.add_argument("--adapt", action="store_true", help="update the model from each match's completed rallies")
    p.add_argument("--plot", metavar="PNG", help="reliability plot (default: DIR/reliability.png)")
    p.add_argument("--no-plot", action="store_true", help="write no plot")
    p.add_argument("--json", action="store_true", help="print a JSON object (log_loss, top1, top3, ece, n, ...)")
    p.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from strategist.opponent import load_model
    from strategist.opponent.evaluate import evaluate, reliability_plot

    table, _, _ = load_table(args)
    model = load_model(args.model, sport=str(table["sport"].iloc[0]))
    result = evaluate(model, table, adapt=args.adapt)
    if not args.no_plot:
        result["plot"] = str(reliability_plot(result, args.plot or Path(args.model) / "reliability.png"))
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{model.kind} model on {result['matches']} held-out matches ({'with' if args.adapt else 'without'} "
          f"in-match updates)")
    print(f"{'':8} {'n':>7} {'log-loss':>9} {'top-1':>7} {'top-3':>7} {'ECE':>7}")
    for name, r in (("all", result), ("seen", result["seen"]), ("unseen", result["unseen"])):
        if r["n"]:
            print(f"{name:8} {r['n']:>7} {r['log_loss']:>9.4f} {r['top1']:>7.3f} {r['top3']:>7.3f} {r['ece']:>7.3f}")
        else:
            print(f"{name:8} {0:>7}")
    if result.get("plot"):
        print(f"reliability plot: {result['plot']}")
    return 0
