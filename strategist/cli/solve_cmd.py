"""``strategist solve``: minimax strategies, value and certificate of a payoff matrix in a CSV file."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import warnings
from typing import TYPE_CHECKING

from strategist.cli.data_source import WIDTH
from strategist.errors import InvalidGameError

if TYPE_CHECKING:
    from strategist.games import MatrixGame


#: Payoff matrices with more rows than this are not printed unless --full.
MAX_MATRIX_ROWS = 20
#: Actions of each mix shown unless --full.
TOP = 10
#: Labels are cut to this many characters in the summary tables.
LABEL_WIDTH = 40


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "solve", help="solve a zero-sum payoff matrix (CSV: first row and column are labels)",
        description="Solve a zero-sum (or win-probability) matrix game exactly. Without PAYOFF, solves the "
                    "shipped Evert-Navratilova passing-shot example.")
    p.add_argument("payoff", nargs="?", help="CSV file: first row = column labels, first column = row labels")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.add_argument("--opponent-mix", metavar="MIX",
                   help="predicted opponent mix for safe exploitation: 'label=p,label=p' or 'p,p,...'")
    p.add_argument("--margin", type=float, default=None,
                   help="how far below the game value the safe-exploitation guarantee may fall (payoff units; "
                        "default 0)")
    p.add_argument("--full", action="store_true",
                   help=f"print the whole payoff matrix and every action of each mix (by default a matrix wider "
                        f"than {WIDTH} columns or longer than {MAX_MATRIX_ROWS} rows is left out and each mix "
                        f"shows its {TOP} most likely actions)")
    p.set_defaults(handler=run)


def parse_mix(text: str, labels: tuple[str, ...]) -> dict[str, float]:
    """'a=0.3,b=0.7' or '0.3,0.7' (in column order) -> {label: probability}."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise InvalidGameError("--opponent-mix is empty; expected 'label=p,...' or 'p,p,...'")
    if all("=" in part for part in parts):
        mix = {}
        for part in parts:
            label, _, prob = part.rpartition("=")
            try:
                mix[label.strip()] = float(prob)
            except ValueError:
                raise InvalidGameError(f"--opponent-mix: {prob!r} for {label!r} is not a number") from None
        return mix
    if any("=" in part for part in parts):
        raise InvalidGameError("--opponent-mix mixes 'label=p' and bare numbers; use one form")
    try:
        probs = [float(part) for part in parts]
    except ValueError:
        raise InvalidGameError(f"--opponent-mix {text!r}: expected numbers separated by commas") from None
    if len(probs) != len(labels):
        raise InvalidGameError(f"--opponent-mix has {len(probs)} numbers; expected {len(labels)}, one per "
                               f"column action {list(labels)}")
    return dict(zip(labels, probs))


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in
                               enumerate(zip(r, widths))).rstrip() for r in rows)


def _cut(label: str, full: bool) -> str:
    return label if full or len(label) <= LABEL_WIDTH else label[:LABEL_WIDTH - 1] + "…"


def _mix_table(title: str, mix: dict[str, float], full: bool) -> str:
    """The mix as a table: every action with --full, else its TOP most likely actions and a count of the rest."""
    items = list(mix.items())
    shown = items if full or len(items) <= TOP else \
        sorted(items, key=lambda item: -item[1])[:TOP]
    table = _table([[_cut(title, full), "probability"]] + [[_cut(label, full), f"{p:.4f}"] for label, p in shown])
    omitted = len(items) - len(shown)
    if omitted:
        rest = sum(p for _, p in items) - sum(p for _, p in shown)
        table += (f"\n({omitted} more actions with total probability {rest:.4f} not shown; --full to show all)")
    return table


def _say(text: str, full: bool) -> None:
    """Print prose wrapped to WIDTH columns (unwrapped with --full)."""
    print(text if full else textwrap.fill(text, WIDTH, break_long_words=True, subsequent_indent="  "))


def _matrix(game: MatrixGame, full: bool) -> str | None:
    cells = [[""] + [_cut(c, full) for c in game.column_labels]]
    cells += [[_cut(r, full)] + [f"{v:.4g}" for v in row] for r, row in zip(game.row_labels, game.payoffs)]
    table = _table(cells)
    if full or (game.shape[0] <= MAX_MATRIX_ROWS and max(map(len, table.splitlines())) <= WIDTH):
        return table
    return None


def run(args: argparse.Namespace) -> int:
    from strategist.games import MatrixGame, best_response, safe_exploit, solve_zero_sum   # not for --help
    from strategist.games.matrix_game import CsvNote
    from strategist.resources import default_game_path

    path = args.payoff or default_game_path()
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", CsvNote)
        game = MatrixGame.from_csv(path)
    for note in notes:
        if issubclass(note.category, CsvNote):
            print(f"strategist: note: {note.message}", file=sys.stderr)
        else:  # pragma: no cover - any other warning goes where it would have gone
            warnings.showwarning(note.message, note.category, note.filename, note.lineno)
    solution = solve_zero_sum(game)
    exploit = None
    if args.opponent_mix is not None or args.margin is not None:
        if args.opponent_mix is None:
            raise InvalidGameError("--margin needs --opponent-mix (the predicted opponent mix to exploit)")
        mix = parse_mix(args.opponent_mix, game.column_labels)
        exploit = safe_exploit(game, mix, margin=args.margin or 0.0)
        response = best_response(game, mix)
    if args.json:
        out = solution.to_dict()
        out["game"] = {"file": str(path), "rows": list(game.row_labels), "columns": list(game.column_labels),
                       "payoffs": game.payoffs.tolist()}
        if exploit is not None:
            out["safe_exploitation"] = exploit.to_dict()
            out["safe_exploitation"]["best_response"] = list(response.actions)
        print(json.dumps(out, indent=2))
        return 0
    full = args.full
    _say(f"Game: {path} ({game.shape[0]} x {game.shape[1]}; entries are the row player's payoff)", full)
    print()
    table = _matrix(game, full)
    if table is None:
        _say(f"(the {game.shape[0]} x {game.shape[1]} payoff matrix is not shown; --full to show it)", full)
        print()
    else:
        print(table, "\n")
    print(_mix_table("Row player (you)", solution.row_mix, full), "\n")
    print(_mix_table("Column player (opponent)", solution.column_mix, full), "\n")
    print(f"Value: {solution.value:.6g}")
    _say(f"Certificate: the row strategy guarantees >= {solution.row_guarantee:.6g}; the column strategy "
         f"concedes <= {solution.column_guarantee:.6g}; duality gap {solution.duality_gap:.2g}", full)
    if exploit is not None:
        print()
        _say(f"Safe exploitation (margin {exploit.margin:g} below the value {exploit.value:.6g}):", full)
        print()
        print(_mix_table("Row player (you)", exploit.row_mix, full), "\n")
        actions = list(response.actions)
        named = ", ".join(actions if full or len(actions) <= 3 else actions[:3] + [f"{len(actions) - 3} more"])
        _say(f"Expected payoff against the prediction: {exploit.expected_payoff:.6g} "
             f"(equilibrium play: {exploit.equilibrium_payoff:.6g}; best response "
             f"{named}: {exploit.best_response_payoff:.6g})", full)
        _say(f"Guarantee against any opponent: {exploit.guarantee:.6g}", full)
        if exploit.fallback:
            _say(f"Note: the equilibrium strategy is shown, not an exploiting one: {exploit.fallback}", full)
    return 0
