"""The advice judged as a coach judges it, on whole ShuttleSet matches held out from fitting.

    python benchmarks/bench_advice.py [--model markov2] [--matches N] [--coarse] [--folds K] [--out NAME]

Split: ShuttleSet's matches ranked by the SHA-1 of their id; the first 19 are held out (the rule of the data's
README). For every held-out match and each of its players seen in the 75 training matches, an Advisor is
built on the training matches alone, and before every stroke of that player it is asked for advice on the rally
so far (shots, hitters, where each landed and how high) with margin 0.05. ``--folds K`` holds every match out
once instead (the ranking cut into K blocks; the first of 5 is the README's split), for five times the
held-out decisions. Scored:

* **infeasible mass**: the share of the equilibrium's (and the safe exploitation's) probability on shots that
  all players together play less than 2 % of the time in the situation (incoming shot × height × zone;
  training counts), averaged over decisions;
* **far from habit**: the share of decisions whose recommendation puts >= 50 % on a shot the player plays
  < 10 % of the time in that situation (training counts; decisions where the player has fewer than 10
  training strokes in the situation are counted apart);
* **win probability of the shot played** (``advice.options.win_probability``), scored against the rally's
  outcome: Brier skill against the situation's base rate (all players' win rate of the hitter there,
  training) and the expected calibration error (10 equal-mass bins), beside the ECE a perfectly calibrated
  predictor would show on the same decisions (:func:`calibrated_ece`: 19 matches are few, and one player's
  form in one match moves a whole bin);
* **coverage**: per (held-out match, player, situation) cell with >= 30 decisions, whether the 90 %
  predictive interval of the value under both players' habits (the rally game's interval for a match not yet
  played — the estimate's uncertainty and the match-to-match variation — plus the binomial noise of the
  cell's n decisions) covers the actual win rate. Beside it, the same with the binomial noise of the cell's
  rallies: a player's decisions in one rally share its outcome, so the actual rate's variance is
  p(1 − p)·Σ mᵣ²/n² (mᵣ decisions in rally r), not p(1 − p)/n;
* speed: building an Advisor, and ``advise`` p50/p99.

``--coarse`` scores the earlier model as well (states: the incoming shot's tactical group, no height or zone)
for comparison. Writes ``benchmarks/results/<out>.md`` and ``.json`` (default ``advice``) and a reliability chart.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
MIN_SHARE, FAR_SHARE, FAR_MASS, MIN_CELL = 0.02, 0.10, 0.5, 30
RECOMMENDATIONS = ("equilibrium", "safe")


def ranked_matches(table: pd.DataFrame) -> list:
    """The table's match ids ranked by the SHA-1 of their id (the data README's order)."""
    return sorted(table["match_id"].unique(), key=lambda m: hashlib.sha1(str(m).encode("utf-8")).hexdigest())


def split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training, held-out) by the README's rule: the 20 % of matches whose SHA-1 ranks first are held out."""
    ids = ranked_matches(table)
    return _split_on(table, set(ids[:round(0.2 * len(ids))]))


def folds_of(table: pd.DataFrame, folds: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """``folds`` (training, held-out) splits in which every match is held out once: the SHA-1 ranking cut into
    consecutive blocks, so that the first of five blocks is the README's split. One fold is the README's split."""
    if folds <= 1:
        return [split(table)]
    blocks = np.array_split(np.array(ranked_matches(table), dtype=object), folds)
    return [_split_on(table, set(block)) for block in blocks]


def _split_on(table: pd.DataFrame, held: set) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = table["match_id"].isin(held).to_numpy(dtype=bool)
    return table[~mask].reset_index(drop=True), table[mask].reset_index(drop=True)


def situation_counts(train: pd.DataFrame, **rule) -> tuple[pd.Series, pd.Series]:
    """All players' and each player's stroke counts per (situation, shot) in the training matches."""
    from strategist.data.states import annotate_states

    ann = annotate_states(train, **rule)
    ann = ann[ann["shot"].notna() & (ann["shot"] != "unknown")]
    everyone = ann.groupby(["state", "shot"], observed=True).size()
    per_player = ann.groupby(["hitter", "state", "shot"], observed=True).size()
    return everyone, per_player


def measure_decisions(rows: list[dict], everyone: pd.Series, per_player: pd.Series) -> None:
    """Add to each decision record, against its own fold's training counts, the infeasible mass of each
    recommendation (``infeasible``) and whether it is far from the player's habit (``far``; absent where the
    player has fewer than 10 training strokes in the situation)."""
    pop_total = everyone.groupby(level=0).sum()
    player_total = per_player.groupby(level=[0, 1]).sum()
    for r in rows:
        state, player = r["state"], r["player"]
        if state not in pop_total.index:
            continue
        r["infeasible"] = {name: sum(p for shot, p in r[name].items()
                                     if everyone.get((state, shot), 0) / pop_total[state] < MIN_SHARE)
                           for name in RECOMMENDATIONS}
        n_player = player_total.get((player, state), 0)
        if n_player < 10:
            r["thin"] = True
            continue
        r["far"] = {}
        for name in RECOMMENDATIONS:
            hits = [shot for shot, p in r[name].items()
                    if p >= FAR_MASS and per_player.get((player, state, shot), 0) / n_player < FAR_SHARE]
            r["far"][name] = hits[0] if hits else None
            if hits:
                r.setdefault("far_example", {"recommendation": name, "player": player, "state": state,
                                             "shot": hits[0], "mass": float(r[name][hits[0]]),
                                             "played": int(per_player.get((player, state, hits[0]), 0)),
                                             "of": int(n_player)})


def score_decisions(rows: list[dict]) -> dict:
    """The scores of the module docstring from the decision records :func:`measure_decisions` annotated."""
    infeasible = {name: [r["infeasible"][name] for r in rows if "infeasible" in r] for name in RECOMMENDATIONS}
    far = {name: [r["far"][name] is not None for r in rows if "far" in r] for name in RECOMMENDATIONS}
    examples = [r["far_example"] for r in rows if "far_example" in r][:40]
    scored = [r for r in rows if r.get("p_played") is not None and r.get("won") is not None]
    p = np.array([r["p_played"] for r in scored])
    y = np.array([float(r["won"]) for r in scored])
    base = np.array([r["base_rate"] for r in scored])
    brier, brier_base = float(np.mean((p - y) ** 2)), float(np.mean((base - y) ** 2))
    null = calibrated_ece(p, [(r["match"], r["player"]) for r in scored],
                          [(r["match"], r["player"], r["rally"]) for r in scored], [r["match_sd"] for r in scored])
    return {
        "decisions": len(rows),
        "infeasible_mass": {k: float(np.mean(v)) for k, v in infeasible.items()},
        "far_from_habit": {k: float(np.mean(v)) for k, v in far.items()},
        "far_decisions": len(far["equilibrium"]), "thin_player_data": sum(bool(r.get("thin")) for r in rows),
        "far_examples": examples,
        "scored": len(scored), "brier": brier, "brier_base": brier_base,
        "brier_skill": 1.0 - brier / brier_base if brier_base > 0 else float("nan"),
        "ece": ece(p, y), "reliability": reliability(p, y), "ece_if_calibrated": null,
    }


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-mass bins: Σ (n_b / n) |mean p − mean y|."""
    if not len(p):
        return float("nan")
    order = np.argsort(p, kind="stable")
    return float(sum(len(b) / len(p) * abs(p[b].mean() - y[b].mean()) for b in np.array_split(order, bins) if len(b)))


def calibrated_ece(p: np.ndarray, players: list, rallies: list, match_sd: list, draws: int = 200,
                   seed: int = 0) -> dict:
    """The ECE a perfectly calibrated predictor would show on these decisions: outcomes drawn from ``p`` itself
    with the held-out data's dependence kept, each (match, player) shifted by a form effect u ~ N(0, τ²) (τ the
    game's ``match_sd``: the match-to-match spread no estimate from other matches can know) and the decisions of
    one rally (``rallies``: one key per rally) sharing one uniform draw, so one outcome. Median and 95th
    percentile over ``draws`` draws."""
    if not len(p):
        return {"median": float("nan"), "p95": float("nan"), "draws": 0}
    rng = np.random.default_rng(seed)
    group = pd.factorize(pd.Series(players, dtype=object).astype(str))[0]
    rally = pd.factorize(pd.Series(rallies, dtype=object).astype(str))[0]
    tau = pd.Series(np.asarray(match_sd, dtype=float)).groupby(group).mean().to_numpy()
    values = []
    for _ in range(draws):
        shifted = np.clip(p + rng.normal(0.0, 1.0, len(tau))[group] * tau[group], 0.0, 1.0)
        y = (rng.random(rally.max() + 1)[rally] < shifted).astype(float)
        values.append(ece(p, y))
    return {"median": float(np.median(values)), "p95": float(np.percentile(values, 95)), "draws": draws}


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    order = np.argsort(p, kind="stable")
    return [{"predicted": float(p[b].mean()), "actual": float(y[b].mean()), "n": int(len(b))}
            for b in np.array_split(order, bins) if len(b)]


def coverage(cells: list[dict], level: float = 0.9) -> dict:
    """Per (match, player, situation) cell with >= MIN_CELL held-out decisions: does the predictive interval
    cover the actual win rate?"""
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    frame = pd.DataFrame(cells)
    if frame.empty:
        return {"cells": 0, "covered": float("nan"), "rows": []}
    keys = ["match", "player", "state"]
    grouped = frame.groupby(keys).agg(n=("won", "size"), actual=("won", "mean"),
                                      predicted=("observed", "mean"), sd=("observed_sd", "mean"))
    per_rally = frame.groupby(keys + ["rally"]).size()
    grouped["squares"] = (per_rally ** 2).groupby(level=keys).sum()      # Σ mᵣ² over the cell's rallies
    grouped["rallies"] = per_rally.groupby(level=keys).size()
    grouped = grouped[grouped["n"] >= MIN_CELL].copy()
    p = grouped["predicted"].clip(1e-6, 1 - 1e-6)
    for name, noise in (("covered", p * (1 - p) / grouped["n"]),
                        ("covered_by_rallies", p * (1 - p) * grouped["squares"] / grouped["n"] ** 2)):
        half = z * np.sqrt(grouped["sd"] ** 2 + noise)
        grouped[name] = ((grouped["predicted"] - half <= grouped["actual"])
                         & (grouped["actual"] <= grouped["predicted"] + half))
    rows = grouped.reset_index().to_dict(orient="records")
    share = (lambda c: float(grouped[c].mean()) if len(grouped) else float("nan"))
    per_rally = float(grouped["n"].sum() / grouped["rallies"].sum()) if len(grouped) else float("nan")
    return {"cells": int(len(grouped)), "covered": share("covered"), "covered_by_rallies": share("covered_by_rallies"),
            "decisions_per_rally": per_rally, "rows": rows}


def advise_match(advisor, match: pd.DataFrame, player: str, rule: dict, base_rate: pd.Series,
                 times: list) -> tuple[list, list]:
    """Advice before every stroke of ``player`` in ``match``: one record per decision, one per scored cell."""
    from strategist.data.states import annotate_states

    ann = annotate_states(match, **rule)
    game = advisor.game
    rows, cells = [], []
    for _, rally in ann.groupby("rally_id", sort=False):
        rally = rally.sort_values("stroke")
        won = rally["winner"].iat[-1]
        won = None if pd.isna(won) else bool(won == player)
        hist = rally[["shot", "hitter", "landing_area", "landing_height", "stroke"]].astype(object)
        for k in range(len(rally)):
            if rally["hitter"].iat[k] != player or pd.isna(rally["shot"].iat[k]) or rally["shot"].iat[k] == "unknown":
                continue
            before = hist.iloc[:k]
            if before["shot"].isna().any() or (before["shot"] == "unknown").any():
                continue                       # a stroke whose history has an unrecorded shot cannot be asked
            started = time.perf_counter()
            try:
                advice = advisor.advise(before, {"next": player}, margin=0.05)
            except Exception as exc:  # noqa: BLE001 - a benchmark records what failed and goes on
                rows.append({"error": f"{type(exc).__name__}: {exc}"})
                continue
            times.append(time.perf_counter() - started)
            if advice.equilibrium is None:
                continue
            state = rally["state"].iat[k]
            shot = rally["shot"].iat[k]
            opts = advice.options
            p_played = float(opts.loc[shot, "win_probability"]) if shot in opts.index else None
            rows.append({"match": rally["match_id"].iat[0], "rally": rally["rally_id"].iat[0],
                         "match_sd": float(game.structure.match_sd),
                         "player": player, "state": state, "advised_state": advice.state, "shot": shot,
                         "equilibrium": advice.equilibrium.mix, "safe": advice.safe.mix, "won": won,
                         "p_played": p_played, "base_rate": float(base_rate.get(state, base_rate.mean())),
                         "averaged": bool(advice.averaged)})
            name = f"player: {state}"
            if won is not None and name in game.labels:
                g = game.index(name)
                sd = game.states["observed_sd"].iat[g]      # unclipped, unlike the interval
                cells.append({"match": rally["match_id"].iat[0], "rally": rally["rally_id"].iat[0],
                              "player": player, "state": state, "won": float(won),
                              "observed": float(game.states["observed_value"].iat[g]), "observed_sd": float(sd)})
    return rows, cells


def run(table: pd.DataFrame, model: str, matches: int | None, rule: dict, game_options: dict,
        folds: int = 1) -> dict:
    """Advise every held-out match of each fold (:func:`folds_of`) from an Advisor fitted on that fold's
    training matches, and score the decisions of all folds together."""
    rows, cells, times, builds, skipped = [], [], [], [], []
    for k, (train, held) in enumerate(folds_of(table, folds)):
        if folds > 1:
            print(f" fold {k + 1}/{folds}: {held['match_id'].nunique()} matches held out", flush=True)
        r, c, t, b, s = run_fold(train, held, model, matches, rule, game_options)
        rows, cells, times, builds, skipped = rows + r, cells + c, times + t, builds + b, skipped + s
    errors = [r["error"] for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    out = score_decisions(rows)
    out["folds"] = folds
    out["matches_held_out"] = len({r["match"] for r in rows})
    out["coverage"] = coverage(cells)
    out["errors"] = errors[:20]
    out["error_count"] = len(errors)
    out["skipped"] = skipped
    out["averaged_decisions"] = int(sum(r["averaged"] for r in rows))
    out["speed"] = {"advisors": len(builds), "build_median_s": float(np.median(builds)) if builds else None,
                    "build_max_s": float(np.max(builds)) if builds else None,
                    "advise_p50_ms": float(np.percentile(times, 50) * 1e3) if times else None,
                    "advise_p99_ms": float(np.percentile(times, 99) * 1e3) if times else None,
                    "calls": len(times)}
    out["pairs"] = len({(r["player"]) for r in rows})
    return out


def run_fold(train: pd.DataFrame, held: pd.DataFrame, model: str, matches: int | None, rule: dict,
             game_options: dict) -> tuple[list, list, list, list, list]:
    """One fold: decision records (measured against this fold's training counts), coverage cells, advise
    times, build times and the players skipped."""
    from strategist.advice.advisor import Advisor, prepare
    from strategist.data.states import annotate_states

    everyone, per_player = situation_counts(train, **rule)
    ann = annotate_states(train, **rule)
    base_rate = ann.groupby("state")["hitter_won"].mean()
    known = set(train["hitter"].astype(str))
    ids = list(dict.fromkeys(held["match_id"]))[: matches or None]
    rows, cells, times, builds, skipped = [], [], [], [], []
    fitted_model = None
    prepared = prepare(train, **game_options)
    for m, match_id in enumerate(ids):
        match = held[held["match_id"] == match_id]
        players = list(dict.fromkeys(match["hitter"].astype(str)))
        for player in players:
            opponent = next(p for p in players if p != player)
            if player not in known:
                skipped.append(f"{player} ({match_id}): not in the training matches")
                continue
            if fitted_model is None:
                from strategist.opponent import fit_model

                fitted_model = fit_model(model, train)
            started = time.perf_counter()
            advisor = Advisor(train, player, opponent, model=fitted_model, strokes=prepared, **game_options)
            builds.append(time.perf_counter() - started)
            r, c = advise_match(advisor, match, player, rule, base_rate, times)
            rows += r
            cells += c
        print(f"  match {m + 1}/{len(ids)}: {len(rows)} decisions so far", flush=True)
    measure_decisions([r for r in rows if "error" not in r], everyone, per_player)
    return rows, cells, times, builds, skipped


def write(results: dict, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    lines = ["# Advice on held-out ShuttleSet matches", "",
             f"`{results['command']}` — {results['machine']}, {results['date']}", "",
             "| model | decisions | infeasible mass: equilibrium | safe | far from habit: equilibrium | safe | "
             "Brier skill | ECE | coverage (cells) | build median / max (s) | advise p50 / p99 (ms) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, r in results["runs"].items():
        sp = r["speed"]
        lines.append(f"| {label} | {r['decisions']:,} | {r['infeasible_mass']['equilibrium']:.1%} | "
                     f"{r['infeasible_mass']['safe']:.1%} | {r['far_from_habit']['equilibrium']:.1%} | "
                     f"{r['far_from_habit']['safe']:.1%} | {r['brier_skill']:.3f} | {r['ece']:.3f} | "
                     f"{r['coverage']['covered']:.0%} ({r['coverage']['cells']}) | "
                     f"{sp['build_median_s']:.2f} / {sp['build_max_s']:.2f} | "
                     f"{sp['advise_p50_ms']:.1f} / {sp['advise_p99_ms']:.1f} |")
    lines += ["", "Targets: infeasible mass <= 1 %; far from habit <= 5 % of decisions; Brier skill > 0 and "
              "ECE <= 0.03; coverage 85–95 %; advise p99 <= 10 ms; building an Advisor <= 3 s.", ""]
    for label, r in results["runs"].items():
        lines += [f"## {label}", "",
                  f"- decisions scored for far-from-habit: {r['far_decisions']:,} (with fewer than 10 training strokes "
                  f"of the player in the situation, left apart: {r['thin_player_data']:,})",
                  f"- held-out matches with a decision scored: {r.get('matches_held_out', '?')} ({_split_name(r)}; "
                  "a match none of whose players the training matches hold has none)",
                  f"- win probability of the shot played: {r['scored']:,} decisions, Brier {r['brier']:.4f} against "
                  f"the base rate's {r['brier_base']:.4f}",
                  f"- ECE a perfectly calibrated predictor would show on these decisions (outcomes drawn from its "
                  f"own predictions, with each player's match form and the rallies' shared outcomes): median "
                  f"{r['ece_if_calibrated']['median']:.3f}, 95th percentile {r['ece_if_calibrated']['p95']:.3f} "
                  f"({r['ece_if_calibrated']['draws']} draws)",
                  f"- decisions whose history lacked a height or zone (advice averaged): {r['averaged_decisions']:,}",
                  f"- coverage of the {r['coverage']['cells']} cells with the binomial noise of their rallies instead "
                  f"of their decisions ({r['coverage'].get('decisions_per_rally', float('nan')):.2f} decisions per "
                  f"rally share an outcome): {r['coverage'].get('covered_by_rallies', float('nan')):.0%}",
                  f"- advise calls that raised: {r['error_count']}; players or pairs skipped: {len(r['skipped'])}", ""]
        lines += ["| predicted | actual | n |", "|---|---|---|"]
        lines += [f"| {b['predicted']:.3f} | {b['actual']:.3f} | {b['n']} |" for b in r["reliability"]]
        lines.append("")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    chart(results, name)


def _split_name(run: dict) -> str:
    return "the README split" if run.get("folds", 1) <= 1 else f"{run['folds']} folds, each match once"


def chart(results: dict, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, r in results["runs"].items():
        rel = r["reliability"]
        ax.plot([b["predicted"] for b in rel], [b["actual"] for b in rel], "o-", label=f"{label} (ECE {r['ece']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    lo = min(min(b["predicted"], b["actual"]) for r in results["runs"].values() for b in r["reliability"]) - 0.05
    hi = max(max(b["predicted"], b["actual"]) for r in results["runs"].values() for b in r["reliability"]) + 0.05
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("predicted win probability of the shot played")
    ax.set_ylabel("share of those rallies won")
    first = next(iter(results["runs"].values()))
    held = f"{first.get('matches_held_out', '?')} matches held out" + (
        f" in {first['folds']} folds" if first.get("folds", 1) > 1 else "")
    ax.set_title(f"ShuttleSet decisions, {held}; 10 equal-size bins", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}_reliability.png", dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    import strategist
    from strategist.data.shipped import shuttleset_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="markov2", help="opponent model kind (default markov2)")
    parser.add_argument("--matches", type=int, default=None, help="only the first N held-out matches")
    parser.add_argument("--coarse", action="store_true", help="also score the earlier coarse states")
    parser.add_argument("--folds", type=int, default=1,
                        help="hold every match out once in this many folds (default 1: the README's split)")
    parser.add_argument("--out", default=None, help="results name (default advice, advice_folds with --folds)")
    args = parser.parse_args(argv)
    args.out = args.out or ("advice_folds" if args.folds > 1 else "advice")
    path = SHARED if SHARED.is_file() else shuttleset_path()
    table = strategist.load_rallies(path).table
    runs = {}
    print("situations (incoming shot, height, zone)")
    runs["situations"] = run(table, args.model, args.matches, {"situation": True}, {}, args.folds)
    if args.coarse:
        print("coarse states (incoming group)")
        runs["coarse states"] = run(table, args.model, args.matches, {"rally": "group:tactic"},
                                    {"states": "group:tactic", "zones": False, "heights": False}, args.folds)
    given = sys.argv[1:] if argv is None else argv
    results = {"command": " ".join(["python benchmarks/bench_advice.py", *given]),
               "machine": f"{platform.machine()}, {platform.python_version()}", "date": time.strftime("%Y-%m-%d"),
               "data": str(path.name), "model": args.model, "runs": runs}
    write(results, args.out)
    print((RESULTS / f"{args.out}.md").read_text())


if __name__ == "__main__":
    main()
