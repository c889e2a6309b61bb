"""``strategist payoff``: the payoff matrix of a rally decision estimated from data, and its solution."""

from __future__ import annotations

import argparse
import json
import sys

from strategist.estimation.bootstrap import SCHEMES, bootstrap_payoff
from strategist.estimation.payoff import SPARSE_RULES, estimate_payoff
from strategist.estimation.shrinkage import TARGETS

ROW_HELP = {"shot": "the hitter's shot type", "group": "the hitter's shot group", "area": "where the shot lands"}
COLUMN_HELP = {"position": "the receiver's court area when the shot is struck", "reply": "the receiver's reply"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "payoff", help="estimate a rally decision's payoff matrix from data, with intervals, and solve it",
        description="Estimate P(hitter wins the rally) for each hitter's choice against each receiver's choice, "
                    "with a credible interval for every cell (Beta-binomial shrinkage), and solve the zero-sum "
                    "game. Without --data, uses the shipped demo dataset.")
    p.add_argument("--data", metavar="PATH", help="rally data file (default: the shipped demo)")
    p.add_argument("--sport", help="sport of the data when it cannot be detected")
    p.add_argument("--player", metavar="X", help="only strokes hit by X (shrunk toward all players)")
    p.add_argument("--opponent", metavar="Y", help="only strokes received by Y (shrunk toward all players)")
    p.add_argument("--context", metavar="SPEC", action="append",
                   help="which strokes: 'previous=SHOT_OR_GROUP', 'stroke=N', 'stroke=A-B', 'stroke=N+' "
                        "(repeat or separate with commas)")
    p.add_argument("--rows", default="shot", metavar="shot|group|area",
                   help="hitter's choice: shot type, shot group (group:GROUPING for another grouping) or landing "
                        "area (default shot)")
    p.add_argument("--columns", default="position", metavar="position|reply",
                   help="receiver's choice: court position when the shot is struck, or reply group "
                        "(reply:shot, reply:GROUPING) (default position)")
    p.add_argument("--target", default="row", choices=TARGETS, help="shrink cells toward this rate (default row)")
    p.add_argument("--prior", default="marginal",
                   help="prior strength: 'marginal' or 'moments' (empirical Bayes) or a number of prior trials "
                        "(default marginal)")
    p.add_argument("--min-count", type=int, default=5, help="report cells with fewer decision points (default 5)")
    p.add_argument("--sparse", default="shrink", choices=SPARSE_RULES,
                   help="what to do with cells below --min-count: keep the shrunken estimate or use the prior "
                        "mean (default shrink)")
    p.add_argument("--min-action-count", type=int, default=0,
                   help="leave out actions with fewer decision points (default 0: keep all)")
    p.add_argument("--level", type=float, default=0.95, help="credible level of the intervals (default 0.95)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap replicates for intervals of the value and mixes (default 0: none)")
    p.add_argument("--cluster", default="match", choices=SCHEMES, help="bootstrap resampling (default match)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.set_defaults(handler=run)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in
                               enumerate(zip(r, widths))).rstrip() for r in rows)


def _data_path(args):
    if args.data:
        return args.data, False
    from strategist.data.demo import demo_path

    return str(demo_path()), True


def _load(path: str, sport):
    from strategist.data.load import load_rallies

    loaded = load_rallies(path, sport=sport) if sport else load_rallies(path)
    if isinstance(loaded, tuple):
        return loaded[0]
    return getattr(loaded, "table", loaded)


def run(args: argparse.Namespace) -> int:
    path, is_demo = _data_path(args)
    table = _load(path, args.sport)
    context = ",".join(args.context) if args.context else None
    estimate = estimate_payoff(table, hitter=args.player, opponent=args.opponent, rows=args.rows,
                               columns=args.columns, context=context, target=args.target, prior=args.prior,
                               min_count=args.min_count, sparse=args.sparse, min_action_count=args.min_action_count,
                               level=args.level, sport=args.sport)
    solution = estimate.solve()
    boot = None
    if args.bootstrap:
        boot = bootstrap_payoff(estimate, args.bootstrap, seed=args.seed, cluster=args.cluster,
                                progress=(not args.json) and sys.stderr.isatty() or args.bootstrap >= 2000)
    if args.json:
        out = {"data": path, "demo": is_demo, "estimate": estimate.to_dict(), "solution": solution.to_dict(),
               "bootstrap": None if boot is None else boot.to_dict()}
        print(json.dumps(out, indent=2))
        return 0
    print(_render(estimate, solution, boot, path, is_demo))
    return 0


def _render(estimate, solution, boot, path: str, is_demo: bool) -> str:
    s = estimate.settings
    row_kind, col_kind = s.rows.split(":")[0], s.columns.split(":")[0]
    who = []
    if s.hitter:
        who.append(f"hitter {s.hitter}")
    if s.opponent:
        who.append(f"receiver {s.opponent}")
    lines = [
        f"Data: {path}" + (" (simulated demo)" if is_demo else ""),
        f"Decision: {', '.join(who) if who else 'all players'}; context: {s.context.describe()}",
        f"Rows: {ROW_HELP[row_kind]} ({s.rows}); columns: {COLUMN_HELP[col_kind]} ({s.columns})",
        f"Cells: P(hitter wins the rally) posterior mean [{estimate.level:.0%} interval] n=decision points",
        "",
    ]
    cells = [[""] + list(estimate.column_labels)]
    for i, label in enumerate(estimate.row_labels):
        cells.append([label] + [f"{estimate.mean[i, j]:.2f} [{estimate.lower[i, j]:.2f}, {estimate.upper[i, j]:.2f}]"
                                f" n={estimate.counts[i, j]}" for j in range(len(estimate.column_labels))])
    lines += [_table(cells), ""]
    lines += estimate.report.lines()
    lines.append("")
    lines.append(_mix("Hitter's minimax mix", estimate.row_labels, solution.row_strategy,
                      None if boot is None else boot.row_interval))
    lines.append("")
    lines.append(_mix("Receiver's minimax mix", estimate.column_labels, solution.column_strategy,
                      None if boot is None else boot.column_interval))
    lines.append("")
    value = f"Value (hitter's rally-win probability at equilibrium): {solution.value:.4f}"
    if boot is not None:
        value += (f"  [{boot.level:.0%} bootstrap interval {boot.value_interval[0]:.4f}, {boot.value_interval[1]:.4f};"
                  f" {boot.replicates} replicates, {boot.scheme} resampling of {boot.clusters} matches]")
    lines.append(value)
    if boot is not None and boot.note:
        lines.append(f"Note: {boot.note}")
    lines.append(f"Certificate: duality gap {solution.duality_gap:.2g}")
    return "\n".join(lines)


def _mix(title: str, labels, strategy, interval) -> str:
    header = [title, "probability"] + (["bootstrap interval"] if interval is not None else [])
    rows = [header]
    for k, label in enumerate(labels):
        if strategy[k] < 5e-7 and (interval is None or interval[k][1] < 5e-7):
            continue
        row = [label, f"{strategy[k]:.3f}"]
        if interval is not None:
            row.append(f"[{interval[k][0]:.3f}, {interval[k][1]:.3f}]")
        rows.append(row)
    omitted = len(labels) - (len(rows) - 1)
    text = _table(rows)
    return text + (f"\n({omitted} actions never played at equilibrium omitted)" if omitted else "")
