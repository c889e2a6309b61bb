"""Match prep: the opponent's tendencies, the payoff heat-map, equilibrium and best responses, habits, keys."""

import altair as alt
import pandas as pd
import streamlit as st

from strategist.advice import prep
from strategist.app import common

st.title("Match prep")
with common.guard():
    result = common.loaded()
    player, opponent = common.choose_players(result)
    adv = common.current_advisor(player, opponent)
    st.caption(f"{player} against {opponent} · data: {common.data_label(common.data_key())} · opponent model: "
               f"{adv.model_label}")
    for note in adv.notes:
        st.info(note)

    # -- keys to the match ------------------------------------------------------------------------------------
    st.header("Keys to the match")
    keys = prep.keys_to_the_match(adv)
    if not keys:
        st.write("Too little data for keys to the match (no shot played 10 times in a state).")
    for k, key in enumerate(keys, 1):
        st.markdown(f"**{k}. {key['advice'].capitalize()}: {key['shot']} in {key['state']}.** {key['text']}.")

    # -- serve and return ------------------------------------------------------------------------------------
    game, why_not = common.rally_game(common.data_key(), player, opponent)
    values = prep.rally_values(adv, game) if game is not None else prep.rally_values_fallback(adv, why_not)
    st.header("Serving and returning")
    c = st.columns(2)
    if values["source"] == "rally game":
        c[0].metric(f"{player} serving: wins the rally (equilibrium)", common.pct(values["serve"]),
                    f"as both play now: {common.pct(values['serve_observed'])}", delta_color="off",
                    delta_arrow="off")
        c[1].metric(f"{opponent} serving: {player} wins (equilibrium)", common.pct(values["return"]),
                    f"as both play now: {common.pct(values['return_observed'])}", delta_color="off",
                    delta_arrow="off")
        st.caption(values["label"])
    else:
        if values["serve"] is not None:
            c[0].metric(f"{player} serving: value of the serve", common.pct(values["serve"]))
            c[0].caption(f"{values['serve_points']} decision points")
        if values["return"] is not None:
            c[1].metric(f"{player} returning ({values['return_state']})", common.pct(values["return"]))
            c[1].caption(f"{values['return_points']} decision points")
        st.warning("Fallback: " + values["label"] + ". These are the values of the serve and return decisions "
                   "alone, not of the whole rally.")

    # -- tendencies --------------------------------------------------------------------------------------------
    st.header(f"{opponent}'s tendencies")
    tend = prep.tendencies_by_stroke(adv)
    st.subheader("By stroke number")
    st.caption(f"Share of {opponent}'s shots at each stroke of the rally ({tend.attrs['scope']}); n = "
               "strokes behind each bar.")
    bars = tend.assign(label=tend["stroke"] + " (n=" + tend["n"].astype(str) + ")")
    chart = alt.Chart(bars).mark_bar().encode(
        y=alt.Y("label:N", title="stroke of the rally", sort=None, axis=alt.Axis(labelLimit=250)),
        x=alt.X("share:Q", title="share of the opponent's shots", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", title="shot group",
                        scale=alt.Scale(domain=["attack", "neutral", "defence", "other"],
                                        range=["#d62728", "#7f7f7f", "#1f77b4", "#bcbd22"])),
        tooltip=["stroke", "shot", "group", alt.Tooltip("share:Q", format=".0%"), "strokes", "n"],
        order=alt.Order("strokes:Q", sort="descending"),
    ).properties(height=220)
    st.altair_chart(chart, width="stretch")
    top = tend.groupby("stroke", sort=False).head(3).copy()
    top["share"] = top["share"].map(common.pct)
    st.dataframe(top[["stroke", "shot", "group", "share", "strokes", "n"]], hide_index=True, width="stretch")

    st.subheader(f"After each of {player}'s shots")
    rep = prep.replies_after(adv)
    st.caption(f"How {opponent} answers each shot of {player} ({rep.attrs['scope']}); n = the player's strokes "
               "that got a reply.")
    shown = rep.copy()
    for column in shown.columns:
        if column not in ("n", "commonest reply"):
            shown[column] = shown[column].map(common.pct)
    st.dataframe(shown, width="stretch")

    # -- the game of one state ---------------------------------------------------------------------------------
    st.header("Payoffs of one decision state")
    states = list(adv.games)
    state = st.selectbox("Decision state", states, key="prep_state",
                         format_func=lambda s: f"{s} ({adv.games[s].points} decision points)")
    sg = adv.games[state]
    est = sg.estimate
    cells = []
    for i, r in enumerate(est.row_labels):
        for j, col in enumerate(est.column_labels):
            cells.append({"shot": r, "reply": col, "win": est.mean[i, j], "low": est.lower[i, j],
                          "high": est.upper[i, j], "n": int(est.counts[i, j]),
                          "text": f"{est.mean[i, j]:.0%} [{est.lower[i, j]:.0%}–{est.upper[i, j]:.0%}] n={est.counts[i, j]}"})
    cells = pd.DataFrame(cells)
    base = alt.Chart(cells).encode(
        x=alt.X("reply:N", title=f"{opponent}'s reply", sort=list(est.column_labels),
                axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("shot:N", title=f"{player}'s shot", sort=list(est.row_labels), axis=alt.Axis(labelLimit=250)))
    heat = base.mark_rect().encode(
        color=alt.Color("win:Q", title="P(win)", scale=alt.Scale(scheme="redblue", domain=[0.3, 0.7])),
        tooltip=["shot", "reply", alt.Tooltip("win:Q", format=".1%"), alt.Tooltip("low:Q", format=".1%"),
                 alt.Tooltip("high:Q", format=".1%"), "n"])
    text = base.mark_text(fontSize=12).encode(text="text:N")
    st.altair_chart((heat + text).properties(height=32 * len(est.row_labels) + 40), width="stretch")
    st.caption(f"{player}'s probability of winning the rally for each shot against each reply, with its "
               f"{est.level:.0%} interval and the decision points of the pairing behind it; shrunk toward all "
               "players. " + ("" if sg.scope == "pairing" else
                              f"Too few decision points against {opponent}: {player}'s game against everyone."))
    c = st.columns(3)
    c[0].metric("Value of the state (equilibrium)", common.pct(sg.value))
    mix = sorted(zip(sg.rows, sg.row_strategy), key=lambda kv: -kv[1])
    c[1].markdown("**Equilibrium mix**  \n" + "  \n".join(
        f"{a}: {p:.0%} (played {dict(zip(sg.rows, sg.row_counts))[a]} times)" for a, p in mix if p >= 0.005))
    br = prep.best_responses(adv).set_index("state").loc[state]
    c[2].markdown(f"**Best response to {opponent}'s usual replies**  \n{br['best response']}: wins "
                  f"{br['wins']:.0%}, never less than {br['never less than']:.0%} (played {br['times played']} "
                  f"times; {br['replies seen']} replies of {opponent} seen)")
    with st.expander("How the estimate was made"):
        st.text("\n".join(est.report.lines()))

    # -- habits ----------------------------------------------------------------------------------------------
    st.header(f"How exploitable {player}'s habits are")
    hab = prep.habits(adv)
    st.caption("Exploitability: how much a best-responding opponent takes from the player's habitual mix below the "
               "state's value (win-probability points).")
    chart = alt.Chart(hab.assign(points=100 * hab["exploitability"])).mark_bar(color="#d62728").encode(
        y=alt.Y("state:N", sort=None, title=None, axis=alt.Axis(labelLimit=250)),
        x=alt.X("points:Q", title="exploitability (points)"),
        tooltip=["state", alt.Tooltip("points:Q", format=".1f"), "decision points", "habitual mix"]
    ).properties(height=30 * len(hab) + 30)
    st.altair_chart(chart, width="stretch")
    shown = hab.copy()
    for column in ("value", "habitual guarantee"):
        shown[column] = shown[column].map(common.pct)
    shown["exploitability"] = (100 * hab["exploitability"]).map(lambda v: f"{v:.1f} points")
    st.dataframe(shown, hide_index=True, width="stretch")

    st.header("Best responses in every state")
    brs = prep.best_responses(adv)
    for column in ("wins", "never less than", "habitual mix wins"):
        brs[column] = brs[column].map(common.pct)
    st.dataframe(brs, hide_index=True, width="stretch")
