"""The scouting report on Match prep: the opponent's largest weaknesses and strengths as sentences, court maps,
serve and return, pressure, rally length and trends (:mod:`strategist.scout`), each figure with the rallies or
strokes it rests on, and a plain "not available" with the reason where the data cannot fill a section.

Every rate is the report's: the share with its Wilson 95 % interval and its n; comparisons carry the
Benjamini–Hochberg q of their section. Names are escaped (:func:`strategist.app.text.md`).
"""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from strategist.app import common
from strategist.app.text import md, pct, plural
from strategist.scout import ScoutError
from strategist.scout.text import p_is, pval, rally_words, year_span

#: The court maps drawn in the first row (where the opponent hits, loses and is beaten); the rest, one per
#: shot type, in the second.
FIRST_MAPS = ("landing_all", "hit_from", "errors", "won_against")


def rate(r: dict | None) -> str:
    """A rate of the report as read: ``52 % (44–61 %, n = 102)``; ``not available (n = 0)`` without data."""
    if not r or r.get("rate") is None:
        return f"not available (n = {(r or {}).get('n', 0):,})"
    return f"{pct(r['rate'])} ({pct(r['low'])}–{pct(r['high'])}, n = {r['n']:,})"


def _unavailable(section: dict) -> bool:
    """Say why a section is empty; True when it is."""
    if section.get("status") == "assessed":
        for note in section.get("notes") or []:
            st.caption(md(note))
        return False
    st.info("Not available: " + md("; ".join(section.get("notes") or ["these data cannot fill it"])) + ".")
    return True


def _sentences(title: str, items: list, section: dict) -> None:
    st.markdown(f"**{title}**")
    if items:
        st.markdown("\n".join(f"{k}. {md(s)}" for k, s in enumerate(items, 1)))
    else:
        st.markdown(f"None significant among {section.get('tests', 0)} comparisons (q < "
                    f"{section.get('alpha', 0.05):g}, Benjamini–Hochberg).")


def _weaknesses(section: dict, many: str = "rallies") -> None:
    st.subheader("Weaknesses and strengths")
    if section.get("status") != "assessed":
        _unavailable(section)
        return
    st.caption("The three largest significant differences from the other players: where the opponent loses or "
               f"wins {many} more often than others do, with n the strokes or {many} behind each.")
    left, right = st.columns(2)
    with left:
        _sentences("Weaknesses", section.get("weaknesses") or [], section)
    with right:
        _sentences("Strengths", section.get("strengths") or [], section)


def _map_png(key: tuple, player: str, opponent: str, which: str, maps: list, sport: str) -> bytes:
    """The court maps as one PNG, drawn once per pair."""
    def make():
        import matplotlib.pyplot as plt

        from strategist.scout.figures import maps_figure

        fig = maps_figure(maps, sport, columns=4)
        out = io.BytesIO()
        fig.savefig(out, format="png")              # the layout is constrained: no second, tight draw
        plt.close(fig)
        return out.getvalue()

    return common.derived(key, ("scout maps", player, opponent, which), make)


def _maps(key: tuple, player: str, opponent: str, section: dict, sport: str) -> None:
    st.subheader("Court maps")
    if _unavailable(section):
        return
    maps = section.get("maps") or []
    first = [m for k in FIRST_MAPS for m in maps if m["key"] == k]
    rest = [m for m in maps if m["key"] not in FIRST_MAPS]
    frame = section.get("frame", "")
    st.caption(md(frame[:1].upper() + frame[1:]) + ". Each map names its n; the share of its points in each zone is "
               "printed in the zone.")
    for which, group in (("first", first), ("shots", rest)):
        if group:
            st.image(_map_png(key, player, opponent, which, group, sport), width="stretch",
                     caption=" · ".join(md(m["title"]) for m in group))


def _mix_table(mix: dict, by: str) -> pd.DataFrame:
    """A serve mix by a split (court side, score) as rows of shares with their n."""
    rows = []
    for group, data in (mix.get("groups") or {}).items():
        row = {by: group, "serves": data["n"]}
        row.update({c: pct((data["shares"].get(c) or {}).get("rate")) for c in mix.get("categories", [])})
        rows.append(row)
    return pd.DataFrame(rows)


def _serve(section: dict, opponent: str) -> None:
    st.subheader("Serve and return")
    if _unavailable(section):
        return
    name = md(opponent)
    outcomes = [{"serve": r["serve"], f"{opponent} wins": rate(r["won"])} for r in section.get("serve_outcomes", [])]
    returns = [{"serve faced": r["serve"], f"{opponent} wins": rate(r["won"]),
                "commonest returns": ", ".join(f"{x['shot']} {pct(x['share']['rate'])}" for x in r.get("returns", []))
                or "–"} for r in section.get("return_mix") or section.get("return_outcomes") or []]
    if returns and all(r["commonest returns"] == "–" for r in returns):     # returns not recorded (serves only)
        returns = [{k: v for k, v in r.items() if k != "commonest returns"} for r in returns]
    for title, frame, none in ((f"**{name} serving**: who wins, by serve", outcomes, "no serve with a recorded type"),
                               (f"**{name} returning**: who wins, by the serve faced", returns,
                                "no return of a serve with a recorded type")):
        st.markdown(title)
        if frame:
            st.dataframe(pd.DataFrame(frame), hide_index=True, width="stretch")
        else:
            st.caption(f"Not available: {none}.")
    for by, mix in (section.get("serve_mix") or {}).items():
        test = mix.get("test") or {}
        p = test.get("p")
        st.markdown(f"**{name}'s serve mix {md(by)}**" + (f" (χ² test of a difference: {p_is(p)})"
                                                          if p is not None else ""))
        st.dataframe(_mix_table(mix, by.removeprefix("by ")), hide_index=True, width="stretch")
    three = section.get("first_three") or []
    if three:
        st.markdown(f"**The first three strokes after {name}'s serve**")
        st.dataframe(pd.DataFrame([{
            "serve": r["serve"], "return": r["return"], f"{opponent} wins": rate(r["won"]),
            "over within three strokes": rate(r["within_three"]),
            f"{opponent}'s commonest third shot": "–" if not r.get("third") else
            f"{r['third']['shot']} ({pct(r['third']['rate'])} of {r['third']['n']:,})"} for r in three]),
            hide_index=True, width="stretch")


def _pressure(section: dict, many: str = "rallies") -> None:
    st.subheader("Pressure and momentum")
    if _unavailable(section):
        return
    rows = section.get("rows") or []
    if not rows:
        st.caption("Not available: no pressure situation in these data.")
        return
    st.markdown("\n".join(f"- {md(r['sentence'])} " + ("**Significant** " if r.get("significant") else "")
                          + f"(q = {r['q']:.2f})" for r in rows if r.get("q") is not None))
    st.dataframe(pd.DataFrame([{"situation": r["named"], "in it": rate(r["in"]),
                                f"other {many}": rate(r["rest"]),
                                "q": pval(r.get("q"))} for r in rows]),
                 hide_index=True, width="stretch")


def _length(section: dict, opponent: str, one: str = "rally") -> None:
    st.subheader("Rally length and tempo")
    if _unavailable(section):
        return
    by = section.get("by_length") or {}
    rows = by.get("rows") or []
    if rows:
        st.dataframe(pd.DataFrame([{f"strokes in the {one}": r["band"], f"{opponent} wins": rate(r["opponent"]),
                                    "other players win": rate(r["others"]),
                                    "q": pval(r.get("q"))} for r in rows]),
                     hide_index=True, width="stretch")
    test = by.get("test") or {}
    if test.get("p") is not None:
        st.caption(f"Does {md(opponent)}'s win rate depend on the rally's length? χ² test: {p_is(test['p'])}.")
    if section.get("sentences"):
        st.markdown("\n".join(f"- {md(s)}" for s in section["sentences"]))


def _trends(section: dict) -> None:
    st.subheader("Trends")
    if _unavailable(section):
        return
    if section.get("sentences"):
        st.markdown("\n".join(f"- {md(s)}" for s in section["sentences"]))
    else:
        st.markdown("No significant change (q < 0.05, a permutation test over whole matches).")
    for by, grouping in (section.get("groupings") or {}).items():
        order = grouping.get("order") or []
        rows = grouping.get("rows") or []
        if not rows:
            continue
        frame = pd.DataFrame([{"tendency": r["tendency"], **{str(g): rate(r["groups"].get(g)) for g in order},
                               "q": pval(r.get("q"))} for r in rows])
        st.markdown(f"**By {md(by)}**")
        st.dataframe(frame, hide_index=True, width="stretch")


def _headline(meta: dict) -> None:
    h2h = meta.get("head_to_head") or {}
    years = year_span(meta.get("opponent_years"))
    span = f", {years}" if years else ""
    many = rally_words(meta["sport"])[1]
    text = (f"{meta['opponent']}: {meta['opponent_rallies']:,} {many} in "
            f"{plural(meta['opponent_matches'], 'match', 'matches')}{span}, "
            "compared with the other players of the data")
    if h2h.get("matches"):
        text += (f"; head to head with {meta['player']}: {plural(h2h['matches'], 'match', 'matches')}, "
                 f"{meta['opponent']} won "
                 f"{rate(h2h.get('rallies_won_by_opponent'))} of the {many}")
    st.caption(md(text) + ". Rates with their 95 % interval and n; q: the Benjamini–Hochberg adjusted p of a "
                          "comparison.")
    for note in meta.get("notes") or []:
        st.caption(md(note))


def show(key: tuple, player: str, opponent: str) -> None:
    """The scouting sections of ``opponent`` for ``player`` on the data set ``key``."""
    st.header(f"Scouting {md(opponent)}")
    try:
        report = common.scouting(key, player, opponent)
    except ScoutError as exc:
        st.info("Not available: " + md(exc) + ".")
        return
    sections, meta = report["sections"], report["meta"]
    _headline(meta)
    _weaknesses(sections["weaknesses"], rally_words(meta["sport"])[1])
    _maps(key, player, opponent, sections["court_maps"], meta["sport"])
    _serve(sections["serve_return"], opponent)
    _pressure(sections["pressure"], rally_words(meta["sport"])[1])
    _length(sections["rally_length"], opponent, rally_words(meta["sport"])[0])
    _trends(sections["trends"])
