"""The report as a list of blocks — headings, paragraphs, tables, charts — that the HTML and the PDF both
render, so that the two carry the same sections and the same numbers. A heading is emitted only with something
under it: a section the data cannot fill says so under its heading."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from strategist.data.states import describe_situation
from strategist.scout.text import counted, p_is, pval, rally_words, year_span
from strategist.report import charts
from strategist.report.build import TITLES, title as section_title


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str
    kind: str = "p"          # "p", "note" (could not assess / caveat), "small", "definition", "item"


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


#: Whose data a situation's numbers rest on mostly.
MATRIX_NAMES = {"player": "the player against all", "pairing": "this pairing", None: "–"}
#: What each basis of the recommended mix (the situation's game, or situations averaged) means in the report.
EQUILIBRIUM_BASIS_WORDS = {"pessimistic equilibrium": "the pessimistic equilibrium (the data support a change)",
         "habit": "the player's habit (the data do not support a change)",
         "averaged": "averaged over the situations such a shot is usually taken in (the data of this match do "
                     "not record how high it was taken)"}
#: The per-situation table lists situations with at least this many decisions, at most this many of them.
MIN_DECISIONS, MAX_SITUATIONS = 3, 20


def given_up_means(sport) -> str:
    """What "given up" means, in the sport's words (rally or point)."""
    one, many = rally_words(sport)
    return (f"Given up is in percentage points (pp) of {one} win probability: 1 pp given up at a decision means "
            f"that the recommended mix, played there instead, was estimated to win the {one} 1 % more often "
            "(against the opponent as the model predicts, both then playing as they do); a negative value "
            "means the shot played was estimated better than the recommendation. Summed over a match the pp "
            f"are a sum of per-decision estimates, not a count of {many}.")


def pct(x, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def pp(x, digits: int = 1) -> str:
    """Percentage points of win probability: ``0.0123`` -> ``+1.2 pp`` (``0.0 pp`` when it rounds to zero)."""
    if x is None:
        return "–"
    text = f"{100 * x:+.{digits}f}"
    return f"{'0.' + '0' * digits if digits else '0'} pp" if float(text) == 0 else f"{text} pp"


def num(x, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def rate(r: dict | None, digits: int = 0) -> str:
    """A scouting rate ``{k, n, rate, low, high}``: ``47 % [42 %, 51 %] (n = 451)``."""
    if not r or r.get("rate") is None:
        return "– (n = 0)"
    return f"{pct(r['rate'], digits)} [{pct(r['low'], digits)}, {pct(r['high'], digits)}] (n = {r['n']:,})"


def situation(state: str | None) -> str:
    """A decision state as a coach reads it (:func:`strategist.data.states.describe_situation`)."""
    return "–" if state is None else describe_situation(str(state))


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
           Para(f"{m['title']} — {m['sport']}, {m['sets']} set(s), {m['rallies']} {rally_words(m['sport'])[1]}, "
                f"{m['strokes']} strokes. "
                f"Decisions reviewed: {m['player']} ({m['player_chosen']})."),
           Para(f"Estimates use {m['population']['matches']} other matches ({m['population']['strokes']:,} "
                f"strokes) of {m['data'] if m.get('data') else 'the data'}, never this match"
                + (" — except here: no other match was given (in-sample)." if m["population"]["in_sample"] else ".")
                + " The scouting section reads every match, this one included.", "small")]
    out += [Para(n, "note") for n in m.get("notes", [])]
    out += _models(m)
    out += (_summary(report) + _decisions(report) + _opponent(report) + _minimax(report) + _winprob(report)
            + _scouting(report))
    return out


def _models(m: dict) -> list:
    comps = m.get("components") or []
    if not comps:
        return []
    adv = comps[0].get("advisor") or {}
    if "error" in adv:
        head = f"The Advisor could not be built without this match ({adv['error']})."
    else:
        head = (f"One Advisor of {adv['player']} against {adv['opponent']}, built without this match in "
                f"{adv['build_seconds']:.1f} s, gives the recommendation and the win probabilities (its rally game, "
                f"{adv['states']} situations) and the opponent's predicted shots (its model: {adv['model']}).")
    out = [Para(head, "small")]
    out += [Para(f"{c['component']}: {c['fallback']}.", "note") for c in comps if c.get("fallback")]
    return out


def _summary(report) -> list:
    s, m = report.summary, report.meta
    out = [Heading(TITLES["summary"])] + _notes(s)
    sets = s.get("sets") or []
    if sets:
        won = Counter(x["set_winner"] for x in sets)
        scores = ", ".join(_set_text(x) for x in sets)
        unit = " in games" if sets[0].get("in") == "games" else ""
        out.append(Para(f"Score{unit} ({m['player']} first, the data's running score): {scores} — sets "
                        f"{won.get(m['player'], 0)}-{won.get(m['opponent'], 0)}"
                        + (" (a set without a winner did not end)" if None in won else "") + "."))
    rl = s["rally_length"]
    one, many = rally_words(m["sport"])
    missing = sum(x.get("missing", 0) for x in sets)
    out.append(Para(f"{many.capitalize()} in the table: {s['rallies']} ({s['rallies_with_winner']} with a recorded "
                    f"winner: "
                    f"{m['player']} won {s['player_points']}, {m['opponent']} {s['opponent_points']})"
                    + (f"; {missing} more are counted in the score but missing from the table" if missing else "")
                    + f". Rally length: mean {rl['mean']:.1f} strokes, median {rl['median']:.0f}, "
                    f"longest {rl['max']}."))
    if sets:
        out.append(Table(["set", "score", "set won by", f"{many} in the table", f"won by {m['player']}",
                          f"won by {m['opponent']}", "no winner", "not in the table"],
                         [[x["set"], _set_text(x), x["set_winner"] or "not finished",
                           x["rallies"], x["rallies_won"], x["rallies_lost"], x["unknown"], _missing(x, one, many)]
                          for x in sets],
                         f"Score per set: the data's running score; the counts are of the {many} in the table",
                         [0, 3, 4, 5, 6]))
    if s["by_last_shot"]:
        out.append(Table(["last shot", many, f"{m['player']}: winners", "errors", f"{m['opponent']}: winners",
                          "errors"],
                         [[x["shot"], x["rallies"], x["player_winners"], x["player_errors"], x["opponent_winners"],
                           x["opponent_errors"]] for x in s["by_last_shot"]],
                         "Points by their last shot: who hit it, and whether it won (winner) or lost (error)",
                         [1, 2, 3, 4, 5]))
    rows = [[f"ended in the {x['phase']}", x["rallies"], x["player_won"], x["opponent_won"]] for x in s["by_phase"]]
    rows += [[f"{x['band']} strokes", x["rallies"], x["player_won"], x["opponent_won"]] for x in s["by_length"]]
    rows += [[f"{x['server']} serving", x["rallies"],
              x["server_won"] if x["server"] == m["player"] else x["rallies"] - x["server_won"],
              x["rallies"] - x["server_won"] if x["server"] == m["player"] else x["server_won"]]
             for x in s["by_server"]]
    if rows:
        out.append(Table([many, "count", f"won by {m['player']}", f"won by {m['opponent']}"], rows,
                         "Points by phase (the phase of the last stroke), rally length and server", [1, 2, 3]))
    out.append(Chart("rally_lengths", lambda: charts.rally_lengths(report)))
    return out


def _set_text(x: dict) -> str:
    """A set's score, ``21-15`` (tennis: games, ``6-3``); a dash where the data do not record it."""
    if x.get("player_points") is None or x.get("opponent_points") is None:
        return "–"
    return f"{x['player_points']}-{x['opponent_points']}"


def _missing(x: dict, one: str = "rally", many: str = "rallies") -> str:
    if not x.get("missing"):
        return "none"
    named = x.get("missing_rallies") or []
    extra = x["missing"] - len(named)
    text = f"{x['missing']}" + (f": {many} {', '.join(map(str, named))}" if named else "")
    return text + (f" and {extra} after {one} {x['rallies'] + len(named)}" if named and extra > 0 else "")


def _bases(d: dict) -> str:
    counts = Counter(r.get("basis") for r in d.get("all", []) if r.get("assessed"))
    parts = [f"{EQUILIBRIUM_BASIS_WORDS.get(b, b)} in {n}" for b, n in counts.most_common() if b]
    return "; ".join(parts)


def _decisions(report) -> list:
    d, m = report.decisions, report.meta
    out = [Heading(TITLES["decisions"])] + _notes(d)
    out.append(Para("How it is computed: " + d["definition"] + ". Source of the recommendation: "
                    + d["recommendation_source"] + ".", "definition"))
    one = rally_words(m["sport"])[0]
    out.append(Para(given_up_means(m["sport"]), "definition"))
    if d["assessed"]:
        out.append(Para(f"{d['assessed']} of {d['decisions']} decisions of {m['player']} assessed; "
                        f"{pct(d['in_support_share'])} of them were shots the recommended mix plays. Given up: "
                        f"{pp(d['given_up_mean'], 2)} per decision on average, {pp(d['given_up_total'], 0)} summed "
                        f"over the match. The recommended mix was {_bases(d)} decisions."))
    shown = [e for e in d["per_state"] if e["decisions"] >= MIN_DECISIONS][:MAX_SITUATIONS]
    rows = [[situation(e["state"]), f"{e['assessed']} of {e['decisions']}", MATRIX_NAMES.get(e.get("matrix"), "–"),
             pct(e.get("observed_value")), pct(e.get("switch_value")), _mix(d, e), pct(_state_mean(d, e, "in_support")),
             pp(_state_mean(d, e, "given_up"))] for e in shown]
    if rows:
        rest = [e for e in d["per_state"] if e not in shown]
        out.append(Table(["situation", "decisions assessed", "evidence mostly", "P(win) as played",
                          "P(win) alone as recommended", "recommended mix (basis)", "played in the mix",
                          "mean given up"],
                         rows, "Decisions per situation: P(win) is the situation's value in the rally game: as "
                         f"played, both keep their habits; alone as recommended, {m['player']} plays the "
                         f"recommendation from here on and {m['opponent']} as usual"
                         + (f"; {len(rest)} more situations with {sum(e['decisions'] for e in rest)} decisions in the "
                            "JSON" if rest else ""), [1, 3, 4, 6, 7]))
    averaged = [e["state"] for e in d["per_state"] if _averaged(d, e["state"])]
    if averaged:
        some = "1 situation is" if len(averaged) == 1 else f"{len(averaged)} situations are"
        out.append(Para(f"{some} read as an average: the data of this match do not record how high or where the "
                        "incoming shot was taken, so the advice there averages over the situations such a shot is "
                        "usually taken in, weighted by how often (" + "; ".join(situation(s) for s in averaged[:6])
                        + ("; ..." if len(averaged) > 6 else "") + ").", "small"))
    for e in d["per_state"]:
        if e.get("note") and e["assessed"] and e["state"] not in averaged:
            out.append(Para(f"{situation(e['state'])}: {e['note']}", "note"))
    if d["costliest"]:
        out.append(Table(
            [f"set, {one}, stroke", "score", "situation", "before it", "played: P(win)", "recommended mix",
             "given up [90 %]", one],
            [[f"{c['set']}, {c['rally']}, {c['stroke']}", c["score"], situation(c["state"]), c["context"],
              f"{c['played']}: {pct(c['p_played'])}", f"{c['recommended']} ({c.get('basis', '')}): "
              f"{pct(c['p_recommended'])}", f"{pp(c['given_up'])} [{pp(c['lower'])}, {pp(c['upper'])}]",
              {True: "won", False: "lost", None: "?"}[c["rally_won"]]] for c in d["costliest"]],
            f"The {len(d['costliest'])} costliest decisions (win probability given up, with its 90 % interval; "
            f"score before the {one}"
            + (" in games, then points" if any(", " in str(c["score"]) for c in d["costliest"]) else "")
            + f", {m['player']} first)", [6]))
    out.append(Chart("mixes", lambda: charts.mixes(report),
                     f"Share of each shot {m['player']} played in this match (blue) against the recommended mix "
                     "(grey), in the situations with the most decisions; each panel names the mix's basis"))
    shown = [e for e in d.get("per_state", []) if e.get("rows")]
    if shown and len(charts.heatmap_state(shown)["columns"]) > 1:
        about = ("The most frequent situation with a game of its own in which the opponent's position varies: "
                 f"estimated P(win) of each shot (rows) against where {m['opponent']} stood at contact (columns)")
    else:
        about = ("The most frequent situation with a game of its own: estimated P(win) of each shot (the data do "
                 f"not record where {m['opponent']} stood, so one column)")
    out.append(Chart("heatmap", lambda: charts.heatmap(report), about + ", with the strokes of the pairing behind "
                     "each cell"))
    return out


def _state_mean(d: dict, e: dict, key: str):
    """The mean of ``key`` over a situation's assessed decisions: the section's figure where it has one, else
    the mean over its decisions (a situation the advice averaged over has none of its own)."""
    own = e.get(f"{key}_mean" if key == "given_up" else f"{key}_share")
    if own is not None:
        return own
    values = [float(r[key]) for r in d.get("all", []) if r.get("state") == e["state"] and r.get("assessed")]
    return sum(values) / len(values) if values else None


def _averaged(d: dict, state: str) -> bool:
    rows = [r for r in d.get("all", []) if r.get("state") == state and r.get("assessed")]
    return bool(rows) and all(r.get("basis") == "averaged" for r in rows)


def _mix(d: dict, e: dict) -> str:
    """The situation's recommended mix with its basis; where the advice averaged over situations, the mix of its
    decisions (the same wherever the rally so far was the same)."""
    if e.get("rows"):
        from strategist.report.decisions import mix_text

        return f"{mix_text(e['rows'], e['equilibrium'])} ({e.get('basis', '')})"
    mixes = Counter(r["recommended"] for r in d.get("all", []) if r.get("state") == e["state"] and r.get("assessed"))
    if not mixes:
        return "–"
    mix, n = mixes.most_common(1)[0]
    return f"{mix} (averaged" + (f"; {n} of {sum(mixes.values())} decisions" if len(mixes) > 1 else "") + ")"


def _predictability_gain(p: dict, opponent: str, many: str = "rallies") -> str:
    """Whether the model's probabilities fit the opponent's shots better than a typical player's frequencies, in
    words (the log-loss gain and its interval are in the JSON)."""
    if p["gain_lower"] is not None and p["gain_lower"] > 0:
        return (f"Its probabilities fit {opponent}'s shots better than a typical player's shot frequencies do, "
                f"beyond chance (95 % interval from resampling {many}).")
    if p["gain_upper"] is not None and p["gain_upper"] < 0:
        return (f"Its probabilities fit {opponent}'s shots worse than a typical player's shot frequencies in this "
                f"match, beyond chance (95 % interval from resampling {many}).")
    return (f"Its probabilities fit {opponent}'s shots no better than a typical player's shot frequencies, within "
            f"chance (95 % interval from resampling {many}).")


def _opponent(report) -> list:
    o, m = report.opponent, report.meta
    out = [Heading(TITLES["opponent"])] + _notes(o)
    out.append(Para(f"Model: {o['model']} ({o['opponent_strokes_in_population']:,} strokes of {m['opponent']} in "
                    "the data without this match).", "definition"))
    p = o.get("predictability")
    if p:
        out.append(Para(f"How predictable {m['opponent']} was: the opponent model guesses their next shot "
                        f"{pct(p['model_accuracy'])} of the time ({pct(p['baseline_accuracy'])} for a typical "
                        f"player: the commonest shot of all players), over the {o['strokes_scored']:,} strokes of "
                        f"{m['opponent']} in this match. "
                        + _predictability_gain(p, m['opponent'], rally_words(m['sport'])[1])))
    if o.get("patterns"):
        out.append(Table(["after your", "opponent replied", "times", "rate [95 %]", "population", "lift"],
                         [[x["after"], x["reply"], f"{x['count']} of {x['of']}",
                           f"{pct(x['rate'], 0)} [{pct(x['rate_lower'], 0)}, {pct(x['rate_upper'], 0)}]",
                           pct(x["population_rate"]), f"{x['lift']:.1f}×"] for x in o["patterns"]],
                         "Most exploitable patterns: replies far more frequent than the population's "
                         "(ranked by the lift at the lower end of the interval)", [2, 3, 4, 5]))
    ch = o.get("change") or {}
    if ch.get("segments"):
        groups = sorted({g for s in ch["segments"] for g in s.get("mix", {})})
        guessed = ["next shot guessed by the model", "by all players' commonest shot"]
        out.append(Table(["segment", "strokes"] + groups + guessed,
                         [[s["segment"], s["strokes"]] + [pct(s.get("mix", {}).get(g), 0) for g in groups]
                          + [pct(s.get("model_accuracy"), 0), pct(s.get("baseline_accuracy"), 0)]
                          for s in ch["segments"]],
                         f"How {m['opponent']} changed during the match (shot mix by {ch['grouping']} group, per "
                         f"{ch['by']})", list(range(1, len(groups) + 4))))
        t = ch.get("test")
        if t:
            verdict = "changed" if t["p_value"] < 0.05 else "no significant change"
            out.append(Para(f"Homogeneity of the mix across segments: Pearson χ² = {t['chi2']:.2f}, {t['df']} d.f., "
                            f"{p_is(t['p_value'])} ({verdict} at 5 %)."))
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
                         [[c["player"], situation(c["cell"]),
                           ", ".join(f"{ch} {w}/{n}" for ch, w, n in zip(c["choices"], c["won"], c["played"])),
                           num(c["chi2"]), c["df"], pval(c["p_value"]), num(c["min_expected"], 1)]
                          for c in x["cells"]], "Per cell", [3, 4, 5, 6]))
    if x["skipped"]:
        reasons = Counter(s["reason"] for s in x["skipped"])
        out.append(Para(f"Not tested: {len(x['skipped'])} cells ("
                        + "; ".join(f"{n} with {reason}" for reason, n in reasons.most_common()) + "), e.g. "
                        + "; ".join(f"{s['player']}, {situation(s['cell'])}"
                                    for s in sorted(x["skipped"], key=lambda s: -s["rallies"])[:4]) + ".", "small"))
    return out


def _winprob(report) -> list:
    w = report.win_probability
    out = [Heading(section_title("win_probability", report.meta["sport"]))] + _notes(w)
    points = [pt for r in w.get("rallies", []) for pt in r["points"]]
    game = sum(pt["source"] == "rally game" for pt in points)
    blank = sum(pt["source"] != "rally game" and not pt.get("rallies") for pt in points)
    coverage = (f" The rally game gives {game} of the {len(points)} values"
                + (f"; {blank} strokes are in situations neither the game nor the data without this match know "
                   "(drawn as gaps)" if blank else "") + ".") if points else ""
    if points and not charts.enough_values(points):
        coverage += (f" Too few values to draw the {rally_words(report.meta['sport'])[1]} "
                     f"(fewer than {charts.MIN_SHOWN:.0%} of the strokes have "
                     "one): no chart.")
    band = " with its 95 % band where the value is empirical" if game < len(points) else ""
    one, many = rally_words(report.meta["sport"])
    out.append(Para(f"Source: {w['source']}. After each stroke: P({report.meta['player']} wins the {one}){band}; "
                    f"dots mark who is to hit next (blue the player, red the opponent); the panels of single {many} "
                    "are zoomed on their own values." + coverage, "definition"))
    out.append(Chart("win_probability", lambda: charts.win_probability(report),
                     f"All {many}, then the {many} of the costliest decisions and the longest {many}"))
    return out


# ------------------------------------------------------------------------------------------------- scouting
def _scouting(report) -> list:
    sc, m = report.scouting, report.meta
    if not sc:
        return []
    out = [Heading(f"{TITLES['scouting']}: {m['opponent']}")]
    if sc.get("status") != "assessed":
        out.append(Para("Not available: " + ("; ".join(sc.get("notes", [])) or "the data cannot fill it") + ".",
                        "note"))
        return out
    meta = sc["scout"]["meta"]
    h2h = meta["head_to_head"]
    years = year_span(meta["opponent_years"])
    many = rally_words(m["sport"])[1]
    out.append(Para(f"Read on {sc['scope']}: {meta['opponent_rallies']:,} {many} of {m['opponent']} in "
                    f"{counted(meta['opponent_matches'], 'match', 'matches')}" + (f" ({years})" if years else "")
                    + (f"; head to head with {m['player']}: {counted(h2h['matches'], 'match', 'matches')}, "
                       f"{m['opponent']} won "
                       f"{rate(h2h['rallies_won_by_opponent'])} of the {many}" if h2h["matches"] else "")
                    + ". Rates carry Wilson 95 % intervals and their n; comparisons with the other players: Fisher's "
                    "exact test (rates), Pearson's χ² (mixes), whole-match permutations (trends), Benjamini–Hochberg "
                    f"q < {meta['method']['alpha']} within each part.", "definition"))
    out += [Para(n, "note") for n in sc.get("notes", [])]
    for name, part in sc["parts"].items():
        out.append(Heading(part["title"], 3))
        if part["status"] != "assessed":
            out.append(Para("Not available: " + ("; ".join(part["notes"]) or "the data cannot fill it") + ".",
                            "note"))
            continue
        if name != "weaknesses":                       # its notes say what its sentences say
            out += [Para(n, "small") for n in part["notes"]]
        out += SCOUT_BLOCKS[name](part, report)
    return out


def _weakness_blocks(part: dict, report) -> list:
    out = [Para(n, "small") for n in part["notes"] if not n.startswith("no significant")]
    for title, items in (("Weaknesses", part["weaknesses"]), ("Strengths", part["strengths"])):
        if items:
            out.append(Para(f"{title}:"))
            out += [Para(s, "item") for s in items]
        else:
            out.append(Para(f"{title}: none significant at q < {part['alpha']} among {part['tests']} comparisons "
                            f"(situations with at least {part['min_n']} strokes or "
                            f"{rally_words(report.meta['sport'])[1]})."))
    if part["leads"]:
        out.append(Table(["finding", "opponent", "other players", "p", "q"],
                         [[x["sentence"], rate(x["opponent"]), rate(x["others"]), pval(x["p"]), pval(x["q"])]
                          for x in part["leads"]],
                         "The comparisons with the smallest q (significant ones first)", [3, 4]))
    return out


def _court_map_blocks(part: dict, report) -> list:
    maps = part["maps"]
    return [Chart("court_maps", lambda: charts.court_maps(report),
                  f"{len(maps)} court maps, each seen from behind the hitter of its strokes, with its n: "
                  + "; ".join(x["title"] for x in maps))]


def _serve_blocks(part: dict, report) -> list:
    o = report.meta["opponent"]
    out = []
    rows = [[f"{o} serving", x["serve"], rate(x["won"])] for x in part["serve_outcomes"]]
    rows += [[f"{o} returning", x["serve"], rate(x["won"])] for x in part["return_outcomes"]]
    if rows:
        many = rally_words(report.meta["sport"])[1]
        out.append(Table(["", "serve", f"{many} won by {o}"], rows, f"Serve and return: {many} won by the serve", []))
    if part["serve_mix"]:
        cats = sorted({c for x in part["serve_mix"] for c in x["shares"]})
        out.append(Table(["serve mix by", "situation", "serves"] + cats,
                         [[x["by"].replace("by ", ""), x["group"], x["n"]] + [rate(x["shares"].get(c)) for c in cats]
                          for x in part["serve_mix"]],
                         f"{o}'s serve mix by court side and score", [2]))
        tests = [f"{by}: {t['method']}, {p_is(t['p'])}" for by, t in part["serve_mix_tests"].items() if t]
        if tests:
            out.append(Para("Does the mix change? " + "; ".join(tests) + ".", "small"))
    if part["first_three"]:
        out.append(Table(["serve", "return", f"{rally_words(report.meta['sport'])[1]} won by {o}",
                          "ended within three strokes",
                          "commonest third shot"],
                         [[x["serve"], x["return"], rate(x["won"]), rate(x["within_three"]),
                           f"{x['third']['shot']} {rate(x['third'])}" if x.get("third") else "–"]
                          for x in part["first_three"]],
                         f"The first three strokes after {o}'s serves (the rival's return, then {o}'s third shot)",
                         []))
    return out


def _pressure_blocks(part: dict, report) -> list:
    o = report.meta["opponent"]
    many = rally_words(report.meta["sport"])[1]
    out = [Table(["situation", f"{many} won by {o}", f"in their other {many}", "p", "q"],
                 [[x["named"], rate(x["in"]), rate(x["rest"]), pval(x["p"]),
                   pval(x["q"])] for x in part["rows"]],
                 f"Under pressure and after runs of {many}", [3, 4])] if part["rows"] else []
    out += [Para(x["sentence"], "item") for x in part["rows"] if x["significant"]]
    return out


def _length_blocks(part: dict, report) -> list:
    o = report.meta["opponent"]
    out = []
    if part["rows"]:
        out.append(Table(["rally length (strokes)", f"won by {o}", "won by the other players", "q"],
                         [[x["band"], rate(x["opponent"]), rate(x["others"]), pval(x.get("q"))] for x in part["rows"]],
                         "Win rate by rally length", [3]))
    mean = part.get("mean_length") or {}
    bits = []
    if mean.get("opponent"):
        bits.append(f"mean rally length {mean['opponent']['mean']:.1f} strokes (n = {mean['opponent']['n']:,}), "
                    f"other players {mean['others']['mean']:.1f} (n = {mean['others']['n']:,})")
    for name, t in (("win rate by length", part.get("test")), ("shot mix by stroke number", part.get("mix_test"))):
        if t:
            bits.append(f"{name}: {t['method']}, {p_is(t['p'])}")
    if bits:
        out.append(Para("; ".join(bits).capitalize() + ".", "small"))
    out += [Para(s, "item") for s in part["sentences"]]
    return out


def _trend_blocks(part: dict, report) -> list:
    out = []
    for name, g in part["groupings"].items():
        if not g["rows"]:
            continue
        if len(g["order"]) <= 3:
            out.append(Table(["tendency"] + list(g["order"]) + ["p", "q"],
                             [[r["tendency"]] + [rate(r["groups"].get(k)) for k in g["order"]]
                              + [pval(r["test"]["p"]), pval(r["q"])] for r in g["rows"]],
                             f"Tendencies by {name} ({part.get('test') or 'test for change'})",
                             [len(g["order"]) + 1, len(g["order"]) + 2]))
        else:   # many groups: one row per group, the tendencies across (rate and n)
            out.append(Table([name, "matches"] + [r["tendency"] for r in g["rows"]],
                             [[k, _matches(g, k)] + [_short(r["groups"].get(k)) for r in g["rows"]] for k in g["order"]]
                             + [[f"change across {name}s", ""] + [f"p {pval(r['test']['p'])}, q {pval(r['q'])}"
                                                                  for r in g["rows"]]],
                             f"Tendencies by {name}: rate (n) per {name}, and the test for a change", [1]))
    out += [Para(s, "item") for s in part["sentences"]]
    if not part["sentences"]:
        out.append(Para("No significant change over time.", "small"))
    return out


def _short(r: dict | None) -> str:
    return "–" if not r or r.get("rate") is None else f"{pct(r['rate'], 0)} ({r['n']:,})"


def _matches(g: dict, key: str) -> str:
    counts = {r["groups"][key].get("matches") for r in g["rows"] if key in r["groups"]}
    counts.discard(None)
    return str(max(counts)) if counts else "–"


SCOUT_BLOCKS = {"weaknesses": _weakness_blocks, "court_maps": _court_map_blocks, "serve_return": _serve_blocks,
                "pressure": _pressure_blocks, "rally_length": _length_blocks, "trends": _trend_blocks}
