"""The report as a list of blocks — headings, paragraphs, tables, charts — that the HTML and the PDF both
render, so that the two carry the same sections and the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from strategist.report import charts
from strategist.report.build import TITLES


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str
    kind: str = "p"          # "p", "note" (could not assess / caveat), "small", "definition"


@dataclass
class Table:
    columns: list
    rows: list
    caption: str = ""
    numeric: list = field(default_factory=list)   # indices of right-aligned columns


@dataclass
class Chart:
    name: str
    make: object             # () -> matplotlib figure or None
    caption: str = ""


#: Whose data a state's matrix rests on.
MATRIX_NAMES = {"player": "player's", "pairing": "this pairing's", "population": "all players'", None: "none"}


def pct(x, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def num(x, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def pval(p) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _notes(section: dict) -> list:
    out = []
    if section.get("status") == "not assessed":
        out.append(Para("Could not assess this section.", "note"))
    out += [Para(n, "note") for n in section.get("notes", [])]
    return out


def blocks(report) -> list:
    """Every block of the report, in order."""
    m = report.meta
    out = [Heading(f"Match report: {m['player']} against {m['opponent']}", 1),
           Para(f"{m['title']} — {m['sport']}, {m['sets']} set(s), {m['rallies']} rallies, {m['strokes']} strokes. "
                f"Decisions reviewed: {m['player']} ({m['player_chosen']})."),
           Para(f"Estimates use {m['population']['matches']} other matches ({m['population']['strokes']:,} "
                f"strokes) of the data{(' ' + m['data']) if m.get('data') else ''}, never this match"
                + (" — except here: no other match was given (in-sample)." if m["population"]["in_sample"] else "."),
                "small")]
    out += [Para(n, "note") for n in m.get("notes", [])]
    stand_ins = [c for c in m["components"] if c["stand_in"]]
    if stand_ins:
        out.append(Para("Stand-ins used (a package not installed): " + "; ".join(
            f"{c['component']}: {c['used']}" for c in stand_ins) + ".", "note"))
    used = [c for c in m["components"] if not c["stand_in"]]
    if used:
        out.append(Para("Models used: " + "; ".join(f"{c['component']}: {c['used']}" for c in used) + ".", "small"))
    out += _summary(report) + _decisions(report) + _opponent(report) + _minimax(report) + _winprob(report)
    return out


def _summary(report) -> list:
    s, m = report.summary, report.meta
    out = [Heading(TITLES["summary"])] + _notes(s)
    rl = s["rally_length"]
    out.append(Para(f"Points: {m['player']} {s['player_points']}, {m['opponent']} {s['opponent_points']} "
                    f"({s['rallies_with_winner']} of {s['rallies']} rallies with a recorded winner). Rally length: "
                    f"mean {rl['mean']:.1f} strokes, median {rl['median']:.0f}, longest {rl['max']}."))
    out.append(Table(["set", "rallies", m["player"], m["opponent"], "no winner", "set won by"],
                     [[x["set"], x["rallies"], x["player_points"], x["opponent_points"], x["unknown"],
                       x["set_winner"] or "–"] for x in s["sets"]], "Score per set (points)", [0, 1, 2, 3, 4]))
    if s["by_last_shot"]:
        out.append(Table(["last shot", "rallies", f"{m['player']}: winners", "errors", f"{m['opponent']}: winners",
                          "errors"],
                         [[x["shot"], x["rallies"], x["player_winners"], x["player_errors"], x["opponent_winners"],
                           x["opponent_errors"]] for x in s["by_last_shot"]],
                         "Points by the rally's last shot: who hit it, and whether it won (winner) or lost (error)",
                         [1, 2, 3, 4, 5]))
    rows = [[f"ended in the {x['phase']}", x["rallies"], x["player_won"], x["opponent_won"]] for x in s["by_phase"]]
    rows += [[f"{x['band']} strokes", x["rallies"], x["player_won"], x["opponent_won"]] for x in s["by_length"]]
    rows += [[f"{x['server']} serving", x["rallies"],
              x["server_won"] if x["server"] == m["player"] else x["rallies"] - x["server_won"],
              x["rallies"] - x["server_won"] if x["server"] == m["player"] else x["server_won"]]
             for x in s["by_server"]]
    if rows:
        out.append(Table(["rallies", "count", f"won by {m['player']}", f"won by {m['opponent']}"], rows,
                         "Points by rally phase (the phase of the last stroke), rally length and server", [1, 2, 3]))
    out.append(Chart("rally_lengths", lambda: charts.rally_lengths(report)))
    return out


def _decisions(report) -> list:
    d, m = report.decisions, report.meta
    out = [Heading(TITLES["decisions"])] + _notes(d)
    out.append(Para("How it is computed: " + d["definition"] + ". Source of the recommendation: "
                    + d["recommendation_source"] + ".", "definition"))
    if d["assessed"]:
        out.append(Para(f"{d['assessed']} of {d['decisions']} decisions of {m['player']} assessed; "
                        f"{pct(d['in_support_share'], 0)} were shots the equilibrium plays. Win probability given up: "
                        f"{pct(d['given_up_mean'])} per decision on average, {d['given_up_total']:.2f} summed over "
                        "the match (a sum of per-decision losses, not a count of rallies)."))
    rows = []
    for e in d["per_state"]:
        rows.append([e["state"], e["decisions"], e["assessed"],
                     MATRIX_NAMES.get(e.get("matrix"), str(e.get("matrix"))),
                     num(e.get("value"), 3), pct(e.get("in_support_share"), 0), pct(e.get("given_up_mean"))])
    out.append(Table(["decision state", "decisions", "assessed", "matrix", "value v", "in equilibrium support",
                      "mean given up"], rows, "Decisions per state", [1, 2, 4, 5, 6]))
    for e in d["per_state"]:
        if e.get("note") and e.get("matrix") != "player":
            out.append(Para(f"{e['state']}: {e['note']}", "note"))
    if d["costliest"]:
        out.append(Table(
            ["set, rally, stroke", "score", "state", "before it", "played", "recommended", "P(win) played",
             "given up [95 %]", "rally"],
            [[f"{c['set']}, {c['rally']}, {c['stroke']}", c["score"], c["state"], c["context"], c["played"],
              c["recommended"], num(c["p_played"], 3),
              f"{pct(c['given_up'])} [{pct(c['lower'])}, {pct(c['upper'])}]",
              {True: "won", False: "lost", None: "?"}[c["rally_won"]]] for c in d["costliest"]],
            f"The {len(d['costliest'])} costliest decisions (win probability given up, with its interval; score "
            f"before the rally, {m['player']} first)", [6]))
    out.append(Chart("mixes", lambda: charts.mixes(report),
                     "Share of each shot in this match (blue) against the equilibrium mix (grey), per state"))
    out.append(Chart("heatmap", lambda: charts.heatmap(report),
                     "Payoff matrix of the most frequent state: estimated P(win) and rallies behind each cell"))
    return out


def _opponent(report) -> list:
    o, m = report.opponent, report.meta
    out = [Heading(TITLES["opponent"])] + _notes(o)
    out.append(Para(f"Model: {o['model']}. Fitted without this match "
                    f"({o['opponent_strokes_in_population']:,} strokes of {m['opponent']} in it).", "definition"))
    p = o.get("predictability")
    if p:
        out.append(Table(["model", "log-loss (nats/stroke)", "top-1 accuracy"],
                         [["uniform over the shots", num(p["uniform_log_loss"], 3), "–"],
                          ["population shot frequencies (baseline)", num(p["baseline_log_loss"], 3),
                           pct(p["baseline_accuracy"])],
                          [f"Markov-1 of {m['opponent']}", num(p["model_log_loss"], 3), pct(p["model_accuracy"])]],
                         f"How predictable {m['opponent']} was: {o['strokes_scored']} strokes scored", [1, 2]))
        out.append(Para(f"Gain over the baseline: {p['gain']:.3f} nats per stroke [95 %: {num(p['gain_lower'], 3)}, "
                        f"{num(p['gain_upper'], 3)}] (rallies resampled). Higher gain = more predictable."))
    if o.get("patterns"):
        out.append(Table(["after your", "opponent replied", "times", "rate [95 %]", "population", "lift"],
                         [[x["after"], x["reply"], f"{x['count']} of {x['of']}",
                           f"{pct(x['rate'], 0)} [{pct(x['rate_lower'], 0)}, {pct(x['rate_upper'], 0)}]",
                           pct(x["population_rate"], 0), f"{x['lift']:.1f}×"] for x in o["patterns"]],
                         "Most exploitable patterns: replies far more frequent than the population's "
                         "(ranked by the lift at the lower end of the interval)", [2, 3, 4, 5]))
    ch = o.get("change") or {}
    if ch.get("segments"):
        groups = sorted({g for s in ch["segments"] for g in s.get("mix", {})})
        out.append(Table(["segment", "strokes"] + groups + ["log-loss baseline", "log-loss model"],
                         [[s["segment"], s["strokes"]] + [pct(s.get("mix", {}).get(g), 0) for g in groups]
                          + [num(s.get("baseline_log_loss"), 3), num(s.get("model_log_loss"), 3)]
                          for s in ch["segments"]],
                         f"How {m['opponent']} changed during the match (shot mix by {ch['grouping']} group, per "
                         f"{ch['by']})", list(range(1, len(groups) + 4))))
        t = ch.get("test")
        if t:
            verdict = "changed" if t["p_value"] < 0.05 else "no significant change"
            out.append(Para(f"Homogeneity of the mix across segments: Pearson χ² = {t['chi2']:.2f}, {t['df']} d.f., "
                            f"p = {pval(t['p_value'])} ({verdict} at 5 %)."))
        out += [Para(n, "note") for n in ch.get("notes", [])]
        out.append(Chart("opponent_change", lambda: charts.opponent_change(report)))
    return out


def _minimax(report) -> list:
    x = report.minimax
    out = [Heading(TITLES["minimax"])] + _notes(x)
    out.append(Para(f"Walker & Wooders (2001): at a minimax equilibrium every choice a player uses wins equally "
                    f"often. Choices: {x['by']}; choices made fewer than {x['min_count']} times in a cell are left "
                    "out. Pearson χ² per cell, summed per player.", "definition"))
    out.append(Table(["player", "cells tested", "χ²", "d.f.", "p-value", f"rejects minimax at {x['alpha']:.0%}"],
                     [[p["player"], p["cells"], num(p["chi2"]), p["df"], pval(p["p_value"]),
                       {True: "yes", False: "no", None: "–"}[p["rejected"]]] for p in x["players"]],
                     "Per player", [1, 2, 3, 4]))
    if x["cells"]:
        out.append(Table(["player", "cell", "choices: won/played", "χ²", "d.f.", "p-value", "min expected"],
                         [[c["player"], c["cell"],
                           ", ".join(f"{ch} {w}/{n}" for ch, w, n in zip(c["choices"], c["won"], c["played"])),
                           num(c["chi2"]), c["df"], pval(c["p_value"]), num(c["min_expected"], 1)]
                          for c in x["cells"]], "Per cell", [3, 4, 5, 6]))
    if x["skipped"]:
        out.append(Para("Not tested: " + "; ".join(f"{s['player']}, {s['cell']} ({s['reason']})"
                                                    for s in x["skipped"]) + ".", "small"))
    return out


def _winprob(report) -> list:
    w = report.win_probability
    out = [Heading(TITLES["win_probability"])] + _notes(w)
    band = " with its 95 % band" if w.get("values") != "rally game" else ""
    out.append(Para(f"Source: {w['source']}. After each stroke: P({report.meta['player']} wins the rally){band}; "
                    "dots mark who is to hit next (blue the player, red the opponent); the panels of single rallies are "
                    "zoomed on their own values.", "definition"))
    out.append(Chart("win_probability", lambda: charts.win_probability(report),
                     "All rallies, then the rallies of the costliest decisions and the longest rallies"))
    return out
