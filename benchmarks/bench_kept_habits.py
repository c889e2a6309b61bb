"""How many habits the recommendation keeps although a departure is supported at its settled values.

Within a pass of the recommendation's rounds (``strategist.rally.game._recommend``) a habit is kept for good once
a round finds its departure unsupported, and the first pass judges against the habits' continuation; the passes
after it judge every habit again at the values the pass before settled on, until the kept habits repeat. A habit
freed by such a judgement and kept again by a later round stays kept (``kept_again``). This script judges every
habit once more at the settled values (one more ``_pessimistic_round`` with only the situations the data leave
open fixed) and counts, per game, the kept habits whose departure that round supports (of them, those kept
again), with their visits, and the departures it does not support; for the largest such player state it gives
what the habit and the departure guarantee there. It also gives the
serve's three values the app shows: as played, the player alone as recommended (``switch_value``) and both as
recommended.

    python benchmarks/bench_kept_habits.py       # writes results/kept_habits.md and .json
"""

from __future__ import annotations

import json
import platform
import sys
import warnings
from datetime import date
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
GAMES = [("demo", None, None), ("demo", "Astrid NORDVIK", "Hiro TAKEDA"),
         ("shuttleset", None, None), ("shuttleset", "Kento MOMOTA", "CHOU Tien Chen"),
         ("shuttleset", "Viktor AXELSEN", "Anthony Sinisuka GINTING")]


def judged_again(game) -> dict:
    """The kept habits (rows: the player's, columns: the opponent's) a round at the settled values would free."""
    from strategist.rally import game as rg

    st = game.structure
    player = (st.states["who"] == "player").to_numpy()
    trusted = [np.asarray(t, dtype=bool) for t in st.trusted]
    xo, yo = rg.candidate_habits(st, game.observed_row, game.observed_column)
    xo, yo = [np.asarray(x, float) for x in xo], [np.asarray(y, float) for y in yo]
    fixed = rg.open_situations(st) | np.array([not t.any() for t in trusted])
    sd = rg.per_cell(game.layout, np.sqrt(rg.cell_variance(st, game.estimate, game.solution.values)))
    rec = game.recommendation
    q = [r + t @ rec.realized for r, t in zip(game.rewards, game.transitions)]
    _, _, rows, cols, xs, _, _ = rg._pessimistic_round(q, sd, rg.two_sided_z(game.level), player, trusted,
                                                       (xo, yo), player & fixed, ~player & fixed)
    free_rows = np.asarray(rec.row_habit) & ~rows
    free_cols = np.asarray(rec.column_habit) & ~cols
    visits = st.states["visits"].to_numpy()
    out = {"rounds": int(rec.iterations), "kept_rows": int(np.sum(rec.row_habit)), "kept_columns": int(np.sum(rec.column_habit)),
           "rows_freed": int(free_rows.sum()), "columns_freed": int(free_cols.sum()),
           "visits_freed": int(visits[free_rows | free_cols].sum()),
           "kept_again": len(rec.kept_again),
           "departures_unsupported": int((~np.asarray(rec.row_habit) & rows).sum()
                                         + (~np.asarray(rec.column_habit) & cols).sum())}
    mine = np.flatnonzero(free_rows & player)
    if len(mine):
        g = int(mine[np.argmax(visits[mine])])
        out["largest"] = {"state": game.labels[g], "visits": int(visits[g]),
                          "habit": dict(zip(st.rows[g], np.round(xo[g], 3).tolist())),
                          "habit_guarantee": float((xo[g] @ q[g]).min()),
                          "departure": dict(zip(st.rows[g], np.round(xs[g], 3).tolist())),
                          "departure_guarantee": float((xs[g] @ q[g]).min())}
    return out


def main() -> None:
    import strategist
    from strategist.data.demo import demo_path
    from strategist.data.shipped import shuttleset_path
    from strategist.rally import game as rg
    from strategist.rally.game import rally_game

    paths = {"demo": demo_path(), "shuttleset": shuttleset_path()}
    tables = {}
    rows = []
    for data, player, opponent in GAMES:
        table = tables.setdefault(data, strategist.load_rallies(paths[data]).table)
        passes = []
        settle = rg._settle
        rg._settle = lambda *args: passes.append(1) or settle(*args)       # count the passes of the rounds
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                game = rally_game(table, player, opponent)
        finally:
            rg._settle = settle
        serve = game.states.set_index("state").loc["player: serve"]
        row = {"data": data, "player": player, "opponent": opponent, "passes": len(passes), **judged_again(game),
               "serve": {"observed": float(serve["observed_value"]), "alone": float(serve["switch_value"]),
                         "both": float(serve["value"]), "basis": str(serve["basis"])}}
        rows.append(row)
        print(f"{data} {player or 'all players'} v {opponent or 'all players'}: {row['rows_freed']} + "
              f"{row['columns_freed']} kept habits supported ({row['visits_freed']} visits)", flush=True)
    lines = ["# Kept habits whose departure is supported at the settled values", "",
             f"`python benchmarks/bench_kept_habits.py` — {platform.machine()}, {sys.version.split()[0]}, "
             f"{date.today()}", "",
             "| data | game | passes / rounds | habits kept (player / opponent) | kept but supported (player / opponent) "
             "| of them kept again | their visits | departures not supported "
             "| serve: as played / alone as recommended / both (basis) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        s = r["serve"]
        lines.append(f"| {r['data']} | {r['player'] or 'all players'} v {r['opponent'] or 'all players'} | "
                     f"{r['passes']} / {r['rounds']} | {r['kept_rows']} / {r['kept_columns']} | {r['rows_freed']} / {r['columns_freed']} | "
                     f"{r['kept_again']} | {r['visits_freed']:,} | {r['departures_unsupported']} | "
                     f"{s['observed']:.3f} / {s['alone']:.3f} / {s['both']:.3f} "
                     f"({s['basis']}) |")
    lines.append("")
    for r in rows:
        if "largest" in r:
            x = r["largest"]
            lines.append(f"- {r['player'] or 'all players'} v {r['opponent'] or 'all players'}: largest, "
                         f"`{x['state']}` ({x['visits']:,} visits): the habit guarantees {x['habit_guarantee']:.3f}, "
                         f"the departure {x['departure_guarantee']:.3f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kept_habits.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "kept_habits.json").write_text(json.dumps({"date": str(date.today()), "games": rows}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
