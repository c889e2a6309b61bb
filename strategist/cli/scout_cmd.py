"""``strategist scout``: the scouting report of an opponent — weaknesses and strengths in plain sentences, court
maps, serve and return, pressure, rally length, trends.

Without ``--data``: the shipped demo when the opponent is one of its (simulated) players, else the shipped
ShuttleSet copy (94 real matches), since scouting a real opponent needs real matches. Heavy modules (pandas,
scipy, matplotlib) are imported when the command runs, not when the command line is built.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings

from strategist.cli import flags
from strategist.cli.data_source import WIDTH, add_data_options, wrap_lines

HELP = "scout an opponent: weaknesses in plain sentences, court maps, serve and return, pressure, trends"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scout", help=HELP,
        description="Scouting report of OPPONENT for PLAYER: where the opponent loses and wins rallies against "
                    "the other players of the data (Fisher's exact test, Benjamini-Hochberg correction), court "
                    "maps, serve and return, pressure (game and break points, after two lost rallies), rally "
                    "length and tempo, trends by year and tournament. Without --data: the shipped demo when "
                    "OPPONENT is one of its players, else the shipped ShuttleSet copy (94 real matches).")
    p.add_argument("--player", metavar="NAME", required=True,
                   help="whom the report prepares (may be absent from the data)")
    p.add_argument("--opponent", metavar="NAME", required=True, help="the player scouted")
    add_data_options(p, default="see above")
    p.add_argument("--json", action="store_true", help="print the whole report as one JSON object")
    p.add_argument("--maps", metavar="DIR", help="also write the court maps as PNGs into DIR")
    p.add_argument("--min-n", type=int, default=30, metavar="N",
                   help="fewest of the opponent's strokes (rallies) for a situation to be tested (default 30)")
    p.add_argument("--seed", type=flags.seed, default=0, help="seed of the permutation tests (default 0)")
    p.set_defaults(handler=run)


def _demo_players() -> set[str]:
    """Players named in the shipped demo's match list (read without pandas)."""
    from strategist.data.demo import demo_dir

    with open(demo_dir() / "matches.csv", newline="", encoding="utf-8") as handle:
        return {name for row in csv.DictReader(handle) for name in (row.get("winner"), row.get("loser")) if name}


def data_choice(args) -> tuple[str, str]:
    """``(path, label)`` of the data to scout in (see the module docstring)."""
    if args.data:
        return args.data, args.data
    if args.opponent in _demo_players():
        from strategist.data.demo import demo_path

        return str(demo_path()), "shipped demo (simulated matches)"
    from strategist.data.shipped import shuttleset_path

    return str(shuttleset_path()), "shipped ShuttleSet (94 real matches)"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from strategist.cli.data_source import data_sport
    from strategist.data.cache import cached_load
    from strategist.errors import DataFormatError
    from strategist.scout import scout
    from strategist.scout.matchinfo import read_match_info

    if args.min_n < 1:
        raise DataFormatError(f"--min-n {args.min_n}: expected a whole number >= 1")
    if args.maps and not Path(args.maps).is_dir():
        raise DataFormatError(f"--maps {args.maps!r}: expected an existing folder")
    path, label = data_choice(args)
    loaded = cached_load(path, sport=data_sport(args))
    with warnings.catch_warnings(record=True) as caught:  # the report's notes say the same; one line each
        warnings.simplefilter("always")
        report = scout(loaded.table, args.player, args.opponent, matches=read_match_info(path),
                       min_n=args.min_n, seed=args.seed)
    for warning in caught:
        print(f"strategist: note: {warning.message}", file=sys.stderr)
    report.meta["data"] = label
    written = []
    if args.maps:
        from strategist.scout.figures import save_maps

        written = save_maps(report, args.maps)
    if args.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        print(f"data: {label}")
        print("\n".join(wrapped for line in report.to_text().splitlines() for wrapped in _wrapped(line)))
        for file in written:
            print(f"map: {file}")
    return 0


def _wrapped(line: str) -> list[str]:
    """One line of the scouting text at the commands' width, its continuations two columns in from it."""
    if len(line) <= WIDTH:
        return [line]
    lead = line[:len(line) - len(line.lstrip())]
    return wrap_lines(line.strip(), WIDTH, indent=lead + "  ", first=lead)
