"""``strategist payoff``: the payoff matrix of one rally decision state estimated from data, and its solution.

Heavy modules (pandas, scipy, the estimation layer) are imported when the command runs, not when the
command line is built, so ``strategist --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import textwrap

WIDTH = 100
ROW_HELP = {"shot": "the hitter's shot type", "group": "the hitter's shot group", "area": "where the shot lands"}
COLUMN_HELP = {"position": "the receiver's court area when the shot is struck", "reply": "the receiver's reply",
               "none": "one column: the receiver's answer is not recorded"}
TARGETS = ("row", "column", "population")
SPARSE_RULES = ("shrink", "prior")
SCHEMES = ("match", "match+rally", "rally")
ACTION_COUNTS = ("player", "pairing", "population")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "payoff", help="estimate a rally decision's payoff matrix from data, with intervals, and solve it",
        description="Estimate P(hitter wins the rally) for each hitter's choice against each receiver's choice in "
                    "one decision state (phase and what the stroke faces), with a credible interval for every "
                    "cell (Beta-binomial shrinkage), and solve the zero-sum game. Only actions the player chose "
                    "in that state enter the game. Without --data, uses the shipped demo dataset; for tennis the "
                    "default is the serve game (direction by court side and serve).")
    p.add_argument("--data", metavar="PATH", help="rally data file (default: the shipped demo)")
    p.add_argument("--sport", help="sport of the data when it cannot be detected")
    p.add_argument("--player", metavar="X", help="only strokes hit by X (shrunk toward all players)")
    p.add_argument("--opponent", metavar="Y", help="only strokes received by Y (shrunk toward all players)")
    p.add_argument("--state", metavar="STATE",
                   help="decision state, e.g. 'rally after attack', 'return of short service', 'serve (ad, 2nd "
                        "serve)' (see --list-states); default: the context's most frequent state")
    p.add_argument("--list-states", action="store_true", help="list the decision states with their counts and stop")
    p.add_argument("--context", metavar="SPEC", action="append",
                   help="which strokes: 'previous=SHOT_OR_GROUP', 'phase=serve|return|rally', 'stroke=N', "
                        "'stroke=A-B', 'stroke=N+', 'side=SIDE', 'serve=1|2' (repeat or separate with commas)")
    p.add_argument("--rows", default=None, metavar="shot|group|area",
                   help="hitter's choice: shot type, shot group (group:GROUPING for another grouping) or landing "
                        "area (default: the sport's, badminton shot)")
    p.add_argument("--columns", default=None, metavar="position|reply|none",
                   help="receiver's choice: court position when the shot is struck, reply (reply:shot, "
                        "reply:GROUPING), or none (default: the sport's, badminton position)")
    p.add_argument("--target", default="row", choices=TARGETS, help="shrink cells toward this rate (default row)")
    p.add_argument("--prior", default="marginal",
                   help="prior strength: 'marginal' or 'moments' (empirical Bayes) or a number of prior trials "
                        "(default marginal)")
    p.add_argument("--min-count", type=int, default=5, help="report cells with fewer decision points (default 5)")
    p.add_argument("--sparse", default="shrink", choices=SPARSE_RULES,
                   help="what to do with cells below --min-count: keep the shrunken estimate or use the prior "
                        "mean (default shrink)")
    p.add_argument("--min-action-count", type=int, default=5,
                   help="an action enters the game only if chosen at least this often in the state, counted as "
                        "--action-counts says (default 5)")
    p.add_argument("--action-counts", default="player", choices=ACTION_COUNTS,
                   help="whose choices --min-action-count counts: the player's own (rows: the hitter's shots; "
                        "columns: the receiver's answers), the pairing's, or all players' (default player)")
    p.add_argument("--include-unobserved", action="store_true",
                   help="keep actions below --min-action-count in the matrix, flagged")
    p.add_argument("--level", type=float, default=0.95, help="credible level of the intervals (default 0.95)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap replicates for intervals of the value and mixes (default 0: none)")
    p.add_argument("--cluster", default="match", choices=SCHEMES, help="bootstrap resampling (default match)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--full", action="store_true", help="print every cell and action, however many")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.set_defaults(handler=run)


def _requests(args, table) -> list[dict]:
    """The estimates to make: one state, or (the tennis default) every serve state of the serve game."""
    from strategist.estimation.counts import parse_context, table_sport

    sport = table_sport(table, args.sport)
    defaults = dict(sport.decisions.default_payoff)
    context = ",".join(args.context) if args.context else None
    ctx = parse_context(context)
    pinned = args.state is not None or ctx.phase is not None or ctx.previous is not None
    serve_game = defaults.get("phase") == "serve" and not pinned and context is None
    if serve_game:
        rows, columns = args.rows or defaults["rows"], args.columns or defaults["columns"]
    elif ctx.phase == "serve" or (args.state or "").lower().startswith("serve"):
        rows, columns = args.rows or defaults.get("rows", "shot"), args.columns or defaults.get("columns", "position")
    else:
        rows = args.rows or defaults.get("rally_rows", "shot")
        columns = args.columns or defaults.get("rally_columns", "position")
    base = dict(rows=rows, columns=columns, context=context)
    if not serve_game:
        return [dict(base, state=args.state)]
    from strategist.data.states import annotate_states

    states = annotate_states(table, sport)
    serves = states.loc[states["phase"] == "serve", "state"].value_counts()
    order = sorted(serves.index, key=lambda s: (("2nd" in s), ("ad" in s.split(",")[0]), s))
    return [dict(base, context="phase=serve", state=s) for s in order]


def run(args: argparse.Namespace) -> int:
    from strategist.estimation.bootstrap import bootstrap_payoff
    from strategist.estimation.payoff import estimate_payoff

    from strategist.cli.data_source import load_table

    table, path, is_demo = load_table(args)
    from strategist.data.states import annotate_states

    table = annotate_states(table, args.sport)  # once: every estimate below reuses it
    if args.list_states:
        return _list_states(args, table, path)
    estimates = []
    for request in _requests(args, table):
        estimates.append(estimate_payoff(
            table, hitter=args.player, opponent=args.opponent, target=args.target, prior=args.prior,
            min_count=args.min_count, sparse=args.sparse, min_action_count=args.min_action_count,
            action_counts=args.action_counts, include_unobserved=args.include_unobserved, level=args.level,
            sport=args.sport, **request))
    results = []
    for estimate in estimates:
        solution = estimate.solve()
        boot = None
        if args.bootstrap:
            progress = None
            if args.bootstrap >= 200:
                from strategist.cli.progress import progress_printer

                progress = progress_printer("bootstrap", "replicates")
            boot = bootstrap_payoff(estimate, args.bootstrap, seed=args.seed, cluster=args.cluster,
                                    progress=progress or False)
        results.append((estimate, solution, boot))
    if args.json:
        docs = [_json(estimate, solution, boot) for estimate, solution, boot in results]
        out = {"data": path, "demo": is_demo, **docs[0]}
        if len(docs) > 1:
            out = {"data": path, "demo": is_demo, "states": docs}
        print(json.dumps(out, indent=2))
        return 0
    print(_render_all(results, path, is_demo, full=args.full))
    return 0


def _list_states(args, table, path) -> int:
    from strategist.data.states import annotate_states

    states = annotate_states(table, args.sport)
    if args.player:
        from strategist.estimation.payoff import resolve_player

        players = set(states["hitter"].dropna()) | set(states["opponent"].dropna())
        states = states[states["hitter"] == resolve_player(args.player, players, "player")]
    counts = states.groupby(["phase", "state"], sort=False).size().rename("strokes").reset_index()
    order = {"serve": 0, "return": 1, "rally": 2}
    counts = counts.assign(_o=counts["phase"].map(order)).sort_values(["_o", "strokes"], ascending=[True, False])
    if args.json:
        print(json.dumps({"data": path, "states": [{"state": s, "phase": p, "strokes": int(n)} for p, s, n in
                                                   counts[["phase", "state", "strokes"]].itertuples(index=False)]},
                         indent=2))
        return 0
    width = max(len(s) for s in counts["state"])
    print(f"Decision states in {path}" + (f" (strokes hit by {args.player})" if args.player else ""))
    for state, n in counts[["state", "strokes"]].itertuples(index=False):
        print(f"  {state.ljust(width)}  {n:>7}")
    return 0


# -- text output --------------------------------------------------------------------------------------------
def _names(labels, kind: str, sport) -> list[str]:
    """Display names: court areas by name (``7`` -> ``front, centre``), other labels as they are."""
    if kind in ("position", "area"):
        return [sport.areas.get(str(label), str(label)) if str(label).isdigit() else str(label) for label in labels]
    return [str(label) for label in labels]


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent or "  ", break_on_hyphens=False) or [""]


def _table(rows: list[list[str]], align_left: int = 1) -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if k < align_left else cell.rjust(w) for k, (cell, w) in
                      enumerate(zip(r, widths))).rstrip() for r in rows]


def _matrix_blocks(estimate, row_names, col_names, full: bool, max_rows: int = 20) -> list[str]:
    """The cells as ``mean [lower, upper] n`` in column blocks that fit the width; ``*`` marks no data."""
    flagged_r, flagged_c = set(estimate.flagged_rows), set(estimate.flagged_columns)
    rows = [f"{name}{' !' if label in flagged_r else ''}" for name, label in zip(row_names, estimate.row_labels)]
    cols = [f"{name}{' !' if label in flagged_c else ''}" for name, label in zip(col_names, estimate.column_labels)]
    m, n = estimate.mean.shape
    cell = [[f"{estimate.mean[i, j]:.2f} [{estimate.lower[i, j]:.2f}, {estimate.upper[i, j]:.2f}] "
             f"{estimate.counts[i, j]}{'*' if estimate.counts[i, j] == 0 else ''}" for j in range(n)]
            for i in range(m)]
    shown_rows = list(range(m))
    omitted = 0
    if not full and m > max_rows:
        order = sorted(range(m), key=lambda i: -estimate.counts[i].sum())[:max_rows]
        shown_rows = sorted(order)
        omitted = m - max_rows
    label_width = max(len(rows[i]) for i in shown_rows)
    out = []
    start = 0
    while start < n:
        width, stop = label_width, start
        while stop < n:
            col_width = max(len(cols[stop]), *(len(cell[i][stop]) for i in shown_rows)) + 2
            if stop > start and width + col_width > WIDTH:
                break
            width += col_width
            stop += 1
        block = [[""] + cols[start:stop]] + [[rows[i]] + cell[i][start:stop] for i in shown_rows]
        out += _table(block) + [""]
        start = stop
    if omitted:
        out.insert(len(out) - 1, f"({omitted} rarer actions not shown; --full shows them)")
    return out


def _mix_lines(title, labels, names, strategy, counts, flagged, interval, full: bool, minimum: int) -> list[str]:
    header = [title, "probability", "n"] + (["bootstrap interval"] if interval is not None else [])
    rows = [header]
    shown = 0
    for k, label in enumerate(labels):
        if strategy[k] < 5e-7 and (interval is None or interval[k][1] < 5e-7) and not full:
            continue
        mark = f" ! chosen < {minimum} times" if label in flagged else ""
        row = [f"{names[k]}{mark}", f"{strategy[k]:.3f}", str(counts[k]) if counts else "-"]
        if interval is not None:
            row.append(f"[{interval[k][0]:.3f}, {interval[k][1]:.3f}]")
        rows.append(row)
        shown += 1
    omitted = len(labels) - shown
    lines = _table(rows)
    if omitted:
        lines.append(f"({omitted} actions never played at equilibrium omitted)")
    return lines


def data_weight(estimate, solution) -> float | None:
    """Share of the recommended cells' evidence that is the selection's own data: Σ xᵢ yⱼ nᵢⱼ / (nᵢⱼ + sᵢⱼ)."""
    if estimate.alpha is None or not estimate.settings.player_specific:
        return None
    import numpy as np

    trials = estimate.alpha + estimate.beta
    own = np.divide(estimate.counts, trials, out=np.zeros_like(trials), where=trials > 0)
    return float(solution.row_strategy @ own @ solution.column_strategy)


def _render_all(results, path: str, is_demo: bool, full: bool) -> str:
    first = results[0][0]
    s = first.settings
    who = []
    if s.hitter:
        who.append(f"hitter {s.hitter}")
    if s.opponent:
        who.append(f"receiver {s.opponent}")
    row_kind, col_kind = s.rows.split(":")[0], s.columns.split(":")[0]
    lines = [f"Data: {path}" + (" (simulated demo)" if is_demo else "")]
    lines += _wrap(f"Decision: {', '.join(who) if who else 'all players'}; context: {s.context.describe()}")
    lines += _wrap(f"Rows: {ROW_HELP[row_kind]} ({s.rows}); columns: {COLUMN_HELP[col_kind]} ({s.columns})")
    if len(results) > 1:
        lines += _wrap(f"The serve game: {len(results)} decision states (court side and serve); the receiver's "
                       "answer is not recorded, so each state's matrix has one column and its recommendation is "
                       "the direction with the highest estimated win rate. At a minimax equilibrium every "
                       "direction served wins equally often: the chi-squared line tests that (Walker & Wooders).")
    lines.append(f"Cells: P(hitter wins the rally) mean [{first.level:.0%} interval] n (decision points); "
                 "* no data")
    for estimate, solution, boot in results:
        lines += [""] + _render_state(estimate, solution, boot, full=full, compact=len(results) > 1)
    return "\n".join(lines)


def _render_state(estimate, solution, boot, *, full: bool, compact: bool) -> list[str]:
    from strategist.sports import get_sport

    s = estimate.settings
    sport = get_sport(estimate.sport)
    row_kind, col_kind = s.rows.split(":")[0], s.columns.split(":")[0]
    row_names = _names(estimate.row_labels, row_kind, sport)
    col_names = _names(estimate.column_labels, col_kind, sport)
    lines = [f"== State: {estimate.state} =="]
    if estimate.report.state_note:
        lines += _wrap(estimate.report.state_note)
    if col_kind == "none":
        rows = [["direction" if row_kind == "area" else row_kind, "P(win) [interval]", "n", "recommended"]]
        for i, label in enumerate(estimate.row_labels):
            flag = " !" if label in estimate.flagged_rows else ""
            rows.append([row_names[i] + flag, f"{estimate.mean[i, 0]:.3f} [{estimate.lower[i, 0]:.3f}, "
                         f"{estimate.upper[i, 0]:.3f}]", str(estimate.counts[i, 0]),
                         f"{solution.row_strategy[i]:.3f}"])
        lines += _table(rows)
        if len(estimate.row_labels) >= 2 and estimate.counts[:, 0].min() > 0:
            from scipy import stats

            from strategist.estimation.serve import pearson_chi2

            won, n = estimate.wins[:, 0], estimate.counts[:, 0]
            if 0 < won.sum() < n.sum():
                chi2, df = pearson_chi2(won, n)
                what = "directions" if estimate.state.startswith("serve") and row_kind == "area" else f"{row_kind}s"
                lines.append(f"equal win rates across {what}: chi-squared {chi2:.2f} on {df} d.f., "
                             f"p = {stats.chi2.sf(chi2, df):.3g}")
    else:
        lines += _matrix_blocks(estimate, row_names, col_names, full)
    for text in estimate.report.lines()[1 + bool(estimate.report.state_note):]:
        lines += _wrap(text)
    if col_kind != "none":
        lines.append("")
        lines += _mix_lines("Hitter's minimax mix", estimate.row_labels, row_names, solution.row_strategy,
                            estimate.row_counts, set(estimate.flagged_rows),
                            None if boot is None else boot.row_interval, full, s.min_action_count)
        lines.append("")
        lines += _mix_lines("Receiver's minimax mix", estimate.column_labels, col_names, solution.column_strategy,
                            estimate.column_counts, set(estimate.flagged_columns),
                            None if boot is None else boot.column_interval, full, s.min_action_count)
        lines.append("")
    value = f"Value (hitter's rally-win probability at equilibrium): {solution.value:.4f}"
    lines += _wrap(value)
    if boot is not None:
        lines += _wrap(f"  [{boot.level:.0%} bootstrap interval {boot.value_interval[0]:.4f}, "
                       f"{boot.value_interval[1]:.4f}; {boot.replicates} replicates, {boot.scheme} resampling of "
                       f"{boot.clusters} matches]")
        if boot.note:
            lines += _wrap(f"Note: {boot.note}")
    weight = data_weight(estimate, solution)
    if weight is not None:
        who = " against ".join(x for x in (s.hitter, s.opponent) if x)
        lines += _wrap(f"Evidence: {who}'s own data carry {weight:.0%} of the weight of the cells the equilibrium "
                       "plays; the rest is the population's" + (" (thin: treat as a population recommendation)"
                                                               if weight < 0.25 else ""))
    flagged = [label for label, p in zip(estimate.row_labels, solution.row_strategy)
               if p > 5e-7 and label in estimate.flagged_rows]
    if flagged:
        lines += _wrap(f"Warning: the recommended mix uses {', '.join(flagged)}, chosen fewer than "
                       f"{estimate.settings.min_action_count} times here: too little data behind that advice.")
    if not compact:
        lines.append(f"Certificate: duality gap {solution.duality_gap:.2g}")
    return lines


def _json(estimate, solution, boot) -> dict:
    from strategist.sports import get_sport

    doc = {"estimate": estimate.to_dict(), "solution": solution.to_dict(),
           "bootstrap": None if boot is None else boot.to_dict()}
    sport = get_sport(estimate.sport)
    s = estimate.settings
    doc["estimate"]["row_names"] = dict(zip(estimate.row_labels, _names(estimate.row_labels, s.rows.split(":")[0],
                                                                        sport)))
    doc["estimate"]["column_names"] = dict(zip(estimate.column_labels,
                                               _names(estimate.column_labels, s.columns.split(":")[0], sport)))
    doc["recommendation"] = [
        {"action": label, "probability": float(p), "count": int(n), "flagged": label in estimate.flagged_rows}
        for label, p, n in zip(estimate.row_labels, solution.row_strategy, estimate.row_counts) if p > 5e-7]
    doc["evidence_weight"] = data_weight(estimate, solution)
    return doc
