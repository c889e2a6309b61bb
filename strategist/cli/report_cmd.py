"""``strategist report``: the post-match report of one match — HTML (self-contained), optionally PDF, and JSON.

Heavy modules (pandas, matplotlib, reportlab) are imported when the command runs, not when the command line
is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from strategist.cli import flags
from strategist.cli.data_source import add_data_options

HELP = "write a post-match analysis report (HTML, PDF, JSON) of one match"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help=HELP,
        description="Write the post-match report of one match: summary with the set scores, decision review "
                    "against the Advisor's recommended mix (win probability given up per decision), opponent "
                    "profile, minimax check, win probability through each rally, and a scouting section on the "
                    "opponent. Estimates use the other matches of the data, never the match itself; scouting "
                    "reads every match, this one included. Without --data, uses the shipped demo dataset; "
                    "without --match, its first match.")
    add_data_options(p)
    p.add_argument("--match", metavar="ID", help="match id (default: the first match of the data)")
    p.add_argument("--player", metavar="X", help="whose decisions to review (default: the match's first server)")
    p.add_argument("--out", metavar="FILE", default="report.html", help="HTML file to write (default report.html)")
    p.add_argument("--pdf", action="store_true", help="also write the PDF beside it (same name, .pdf)")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="JSON file of the numbers (default: beside the HTML, same name, .json)")
    p.add_argument("--list-matches", action="store_true", help="list the match ids of the data and stop")
    p.add_argument("--recommendation", default="auto", choices=("auto", "advisor"),
                   help="what each decision is compared with: the Advisor's recommended mix (both choices; kept for "
                        "scripts that name it)")
    p.add_argument("--seed", type=flags.seed, default=0, help="seed of the interval draws (default 0)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from strategist.cli.data_source import data_sport
    from strategist.data.cache import cached_load
    from strategist.errors import ReportError

    if args.data:
        path, label = args.data, args.data
    else:
        from strategist.data.demo import demo_path

        path, label = str(demo_path()), "shipped demo"
    loaded = cached_load(path, sport=data_sport(args))
    table = loaded.table
    if args.list_matches:
        from strategist.report.match import match_order

        for match_id in match_order(table):
            print(match_id)
        return 0
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"--out {args.out!r}: expected an .html file")
    if not out.parent.is_dir():
        raise ReportError(f"--out {args.out!r}: folder {str(out.parent)!r} does not exist")
    from strategist.report import build_report, write_html, write_json, write_pdf
    from strategist.report.match import resolve_match, resolve_match_player
    from strategist.scout.matchinfo import read_match_info

    with flags.said_of("--match"):
        match_id = resolve_match(table, args.match)
    if args.player is not None:
        with flags.said_of("--player"):
            resolve_match_player(table[table["match_id"].astype(str) == match_id], args.player)
    report = build_report(table, match_id, args.player, data_label=label, seed=args.seed,
                          recommendation=args.recommendation, matches=read_match_info(path))
    written = [write_html(report, out)]
    written.append(write_json(report, Path(args.json) if args.json else out.with_suffix(".json")))
    if args.pdf:
        written.append(write_pdf(report, out.with_suffix(".pdf")))
    m = report.meta
    print(f"report of {m['match_id']} for {m['player']} (against {m['opponent']}): "
          + ", ".join(str(p) for p in written))
    from strategist.report.build import SECTIONS

    for name in SECTIONS:
        section = report.section(name)
        if section.get("status") != "assessed":
            print(f"  {name}: not assessed — {'; '.join(section.get('notes', [])) or 'no data'}")
    return 0
