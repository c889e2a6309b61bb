"""``strategist data summary``: what a rally data file holds and what its load left out."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from strategist.cli.data_source import WIDTH, wrap_lines
from strategist.data.demo import demo_path

if TYPE_CHECKING:
    import pandas as pd

#: The layouts ``--layout`` accepts: the keys of :data:`strategist.data.detect.LAYOUTS` (a test keeps them
#: equal), named here so that ``--help`` does not import pandas.
LAYOUT_NAMES = ("canonical", "mcp", "shuttleset", "shuttleset-sets", "slam-pbp")


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="inspect rally data files",
                              description="Inspect rally data: counts, players, shots, rejected rallies.")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    s = sub.add_parser(
        "summary", help="players, matches, rallies, strokes, shot frequencies and the rejection report",
        description="Load rally data (layout detected from the columns) and summarise it. Without PATH, "
                    "summarises the shipped demo dataset.")
    s.add_argument("path", nargs="?", metavar="PATH", help="data file or folder (default: the shipped demo)")
    s.add_argument("--sport", help="check that the data are of this sport")
    s.add_argument("--layout", choices=LAYOUT_NAMES, help="skip layout detection")
    s.add_argument("--strict", action="store_true", help="stop at the first bad value instead of skipping its rally")
    s.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    s.set_defaults(handler=run_summary)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def _default_path() -> str:
    return str(demo_path())


def summarise(table: pd.DataFrame) -> dict:
    """Counts of a canonical table: strokes, rallies, matches, players, shot frequencies, per-player totals."""
    import pandas as pd

    rallies = table.drop_duplicates("rally_id")
    players = pd.concat([table["hitter"], table["opponent"]]).dropna()
    per_player = pd.DataFrame({
        "matches": pd.concat([table[["hitter", "match_id"]].set_axis(["player", "match_id"], axis=1),
                              table[["opponent", "match_id"]].set_axis(["player", "match_id"], axis=1)])
        .drop_duplicates().groupby("player")["match_id"].size(),
        "strokes": table.groupby("hitter").size(),
        "rallies_won": rallies.groupby("winner").size(),
    }).fillna(0).astype(int).sort_values(["matches", "strokes"], ascending=False)
    shots = table["shot"].value_counts(dropna=False)
    areas = table["landing_area"].value_counts(dropna=False)
    return {
        "strokes": int(len(table)), "rallies": int(len(rallies)), "matches": int(table["match_id"].nunique()),
        "players": int(players.nunique()),
        "rallies_without_winner": int(rallies["winner"].isna().sum()),
        "shots": {str(k): int(v) for k, v in shots.items()},
        "landing_areas": {("none" if pd.isna(k) else str(k)): int(v) for k, v in areas.items()},
        "player_table": {str(name): {k: int(v) for k, v in row.items()} for name, row in per_player.iterrows()},
    }


def run_summary(args: argparse.Namespace) -> int:
    from strategist.data.cache import cached_load

    path = args.path or _default_path()
    loaded = cached_load(path, sport=args.sport, layout=args.layout, strict=args.strict)
    summary = summarise(loaded.table)
    report = loaded.rejections
    if args.json:
        out = {"path": str(path), "sport": loaded.sport.name, "layout": loaded.layout,
               "strokes": summary["strokes"], "rallies": summary["rallies"], "matches": summary["matches"],
               "players": summary["players"], "rejected": report.rallies_rejected,
               "rejected_rows": report.rows_rejected, "rows_read": report.rows_read,
               "rallies_without_winner": summary["rallies_without_winner"],
               "player_names": sorted(summary["player_table"]), "per_player": summary["player_table"],
               "shots": summary["shots"], "landing_areas": summary["landing_areas"],
               "area_names": {code: loaded.sport.areas.get(code, code) for code in summary["landing_areas"]
                              if code in loaded.sport.areas},
               "rejections": report.to_dict()}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    from strategist.scout.text import rally_words

    many = rally_words(loaded.sport)[1]
    lines = [f"{path}  ({loaded.sport.name}, {loaded.layout} layout)",
             f"matches {summary['matches']}   players {summary['players']}   {many} {summary['rallies']} "
             f"({summary['rallies_without_winner']} without a recorded winner)   strokes {summary['strokes']}",
             ""]
    lines += _table([["player", "matches", "strokes", f"{many} won"]] +
                    [[name, str(r["matches"]), str(r["strokes"]), str(r["rallies_won"])]
                     for name, r in summary["player_table"].items()]).splitlines()
    lines.append("")
    total = max(summary["strokes"], 1)
    lines += _table([["shot", "strokes", "share"]] +
                    [[shot, str(n), f"{100 * n / total:.1f}%"] for shot, n in summary["shots"].items()]).splitlines()
    lines.append("")
    names = loaded.sport.areas
    lines += _table([["landing area", "strokes", "share"]] +
                    [[_area_name(code, names), str(n), f"{100 * n / total:.1f}%"]
                     for code, n in summary["landing_areas"].items()]).splitlines()
    lines.append("")
    # examples name files relative to the folder of PATH, which heads the summary
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    lines += report.text(many).replace(f"{folder}{os.sep}", "").splitlines()
    print("\n".join(_fit(line) for line in lines))
    return 0


def _area_name(code: str, names) -> str:
    """A court area by name, with its code: ``front, centre (7)``; ``not recorded`` for a blank."""
    if code == "none":
        return "not recorded"
    return f"{names[code]} ({code})" if code in names else code


def _fit(line: str, width: int = WIDTH) -> str:
    """``line`` wrapped to ``width`` columns, continuation lines indented under it."""
    if len(line) <= width:
        return line
    indent = " " * (len(line) - len(line.lstrip()))
    return "\n".join(wrap_lines(line, width, indent=indent + "    "))


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in
                               enumerate(zip(r, widths))).rstrip() for r in rows)
