"""Match prep: keys to the match, serving and returning, the opponent's tendencies, the payoffs of a decision
state, how exploitable the player's habits are.

The tables come from :mod:`strategist.advice.prep` and are shown as they come (columns are not assumed beyond
the few a chart needs; a chart is left out when its columns are not there). Each is computed once per pair.
"""

import altair as alt
import pandas as pd
import streamlit as st

from strategist.advice import prep
from strategist.app import common, tables
from strategist.app.text import md, pct


def _keys(adv) -> None:
    keys = common.pair_table(adv, "keys", lambda: prep.keys_to_the_match(adv))
    if not keys:
        return
    st.header("Keys to the match")
    for k, key in enumerate(keys, 1):
        head = f"{key.get('advice', '').capitalize()}: {key.get('shot', '')} in {key.get('state', '')}"
        st.markdown(f"**{k}. {md(head)}.** {md(key.get('text', ''))}.")


def _serve_and_return(adv, player: str, opponent: str) -> None:
    game, why_not = common.rally_game(common.data_key(), player, opponent)
    values = common.pair_table(adv, "rally values", lambda: prep.rally_values(adv, game) if game is not None
                               else prep.rally_values_fallback(adv, why_not))
    if values.get("serve") is None and values.get("return") is None:
        return
    st.header("Serving and returning")
    c = st.columns(2)
    if values["source"] == "rally game":
        c[0].metric(f"{md(player)} serving: wins the rally (equilibrium)", pct(values["serve"]),
                    f"as both play now: {pct(values['serve_observed'])}", delta_color="off", delta_arrow="off")
        c[1].metric(f"{md(opponent)} serving: {md(player)} wins (equilibrium)", pct(values["return"]),
                    f"as both play now: {pct(values['return_observed'])}", delta_color="off", delta_arrow="off")
        st.caption(md(values["label"]) + ". Why two numbers: the equilibrium is what the player wins when both play "
                   "their best mix; 'as both play now' replays both players' observed habits, so the gap is what "
                   "changing habits could be worth.")
        return
    if values["serve"] is not None:
        c[0].metric(f"{md(player)} serving: wins the serve decision", pct(values["serve"]))
        c[0].caption(f"{values['serve_points']} decision points")
    if values["return"] is not None:
        c[1].metric(f"{md(player)} returning ({md(values['return_state'])})", pct(values["return"]))
        c[1].caption(f"{values['return_points']} decision points")
    st.warning("Fallback: " + md(values["label"]) + ". These are the values of the serve and return decisions "
               "alone, not of the whole rally.")


def _tendencies(adv, player: str, opponent: str) -> None:
    tend = common.pair_table(adv, "tendencies", lambda: prep.tendencies_by_stroke(adv))
    rep = common.pair_table(adv, "replies", lambda: prep.replies_after(adv))
    if tend.empty and rep.empty:
        return
    st.header(f"{md(opponent)}'s tendencies")
    if not tend.empty:
        st.subheader("By stroke number")
        st.caption(f"Share of {md(opponent)}'s shots at each stroke of the rally "
                   f"({md(tend.attrs.get('scope', ''))}); n = strokes behind each bar.")
        if {"stroke", "share", "n"} <= set(tend.columns):
            tables.draw(tables.share_bars(tend))
        top = tend.groupby("stroke", sort=False).head(3) if "stroke" in tend.columns else tend
        tables.show(top)
    if not rep.empty:
        st.subheader(f"After each of {md(player)}'s shots")
        st.caption(f"How {md(opponent)} answers each shot of {md(player)} ({md(rep.attrs.get('scope', ''))}); "
                   "n = the player's strokes that got a reply.")
        tables.show(rep, index=True)


def _state_heatmap(est, player: str, opponent: str) -> alt.LayerChart:
    cells = pd.DataFrame([{"shot": r, "reply": col, "win": est.mean[i, j], "low": est.lower[i, j],
                           "high": est.upper[i, j], "n": int(est.counts[i, j]),
                           "text": f"{est.mean[i, j]:.0%} [{est.lower[i, j]:.0%}–{est.upper[i, j]:.0%}] "
                                   f"n={int(est.counts[i, j])}"}
                          for i, r in enumerate(est.row_labels) for j, col in enumerate(est.column_labels)])
    base = alt.Chart(cells).encode(
        x=alt.X("reply:N", title=f"{opponent}'s reply", sort=list(est.column_labels),
                axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("shot:N", title=f"{player}'s shot", sort=list(est.row_labels), axis=alt.Axis(labelLimit=250)))
    heat = base.mark_rect().encode(
        color=alt.Color("win:Q", title="wins the rally", scale=alt.Scale(scheme="redblue", domain=[0.3, 0.7]),
                        legend=alt.Legend(format="%")),
        tooltip=["shot", "reply", alt.Tooltip("win:Q", format=".1%"), alt.Tooltip("low:Q", format=".1%"),
                 alt.Tooltip("high:Q", format=".1%"), "n"])
    text = base.mark_text(fontSize=12).encode(text="text:N")
    return (heat + text).properties(height=32 * len(est.row_labels) + 40)


def _one_state(adv, player: str, opponent: str) -> None:
    states = list(adv.games)
    if not states:
        st.info(f"No decision state has enough rallies of {md(player)} to estimate a game: these data hold "
                "too few strokes per rally (e.g. point-by-point data with serves and winners only). Load "
                "shot-by-shot data for payoffs and recommendations.")
        return
    st.header("Payoffs of one decision state")
    state = st.selectbox("Decision state", states, key="prep_state",
                         format_func=lambda s: f"{s} ({adv.games[s].points} decision points)")
    sg = adv.games[state]
    est = sg.estimate
    tables.draw(_state_heatmap(est, player, opponent))
    st.caption(f"{md(player)}'s probability of winning the rally for each shot against each reply, with its "
               f"{est.level:.0%} interval and the decision points behind it; shrunk toward all players. "
               + ("" if sg.scope == "pairing" else
                  f"Too few decision points against {md(opponent)}: {md(player)}'s game against everyone."))
    c = st.columns(3)
    c[0].metric("Wins the state at equilibrium", pct(sg.value), help=f"{sg.points} decision points")
    played = dict(zip(sg.rows, sg.row_counts))
    mix = sorted(zip(sg.rows, sg.row_strategy), key=lambda kv: -kv[1])
    c[1].markdown("**Equilibrium mix**  \n" + "  \n".join(
        f"{md(a)}: {p:.0%} (played {played[a]} times)" for a, p in mix if p >= 0.005))
    brs = common.pair_table(adv, "best responses", lambda: prep.best_responses(adv))
    if "state" in brs.columns and state in set(brs["state"]):
        row = brs.set_index("state").loc[state]
        c[2].markdown(f"**Best response to {md(opponent)}'s usual replies**  \n"
                      + "  \n".join(f"{md(k)}: {md(tables.cell(k, v))}" for k, v in row.items()))
    with st.expander("How the estimate was made"):
        st.text("\n".join(est.report.lines()))


def _habits(adv, player: str) -> None:
    if not adv.games:
        return
    hab = common.pair_table(adv, "habits", lambda: prep.habits(adv))
    if hab.empty:
        return
    st.header(f"How exploitable {md(player)}'s habits are")
    st.caption("Exploitability: how many percentage points of rallies a best-responding opponent takes from the "
               "player's habitual mix, below what the state is worth at equilibrium.")
    if {"state", "exploitability"} <= set(hab.columns) and (hab["exploitability"] > 0).any():
        tables.draw(tables.points_bars(hab, "state", "exploitability"))
    tables.show(hab)
    brs = common.pair_table(adv, "best responses", lambda: prep.best_responses(adv))
    if not brs.empty:
        st.header("Best responses in every state")
        tables.show(brs)


def render() -> None:
    st.title("Match prep")
    with common.guard():
        result = common.loaded()
        player, opponent = common.choose_players(result)
        adv = common.current_advisor(player, opponent)
        st.caption(f"{md(player)} against {md(opponent)} · data: {md(common.data_label(common.data_key()))} · "
                   f"opponent model: {md(adv.model_label)}")
        for note in adv.notes:
            st.info(md(note))
        _keys(adv)
        _serve_and_return(adv, player, opponent)
        _tendencies(adv, player, opponent)
        _one_state(adv, player, opponent)
        _habits(adv, player)


render()
