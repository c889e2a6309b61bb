"""Match prep: keys to the match, serving and returning, the scouting report of the opponent, their tendencies,
one situation shot by shot, the player's habits against what the rally game recommends, the best responses.

Every number comes from the pair's Advisor (:mod:`strategist.advice.prep`, read off its one rally game) or from
the scouting report (:mod:`strategist.scout`), computed once per pair, and is shown with the strokes or rallies
it rests on. Values are said *as played* (both keep their habits) or *as recommended* (both play the rally
game's recommendation, the opponent included), with a line on why they differ.
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from strategist.advice import prep
from strategist.app import common, scouting, tables
from strategist.app.text import md, pct, plural, situation
from strategist.rally.game import KEPT, KEPT_SHARE
from strategist.scout.text import rally_words


def _why_two_values(player: str, opponent: str) -> str:
    """Why a value as recommended differs from the value as played: both sides change, the opponent too; the
    player's own change is the value with the opponent as usual, shown beside it."""
    return (f"Why two numbers: *as played*, both keep their habits; *as recommended*, both play the rally game's "
            f"recommendation from here on, {md(opponent)} too (each side leaves its habit only where the lower "
            f"bound of the estimates supports the change), so what {md(opponent)} gains by it can take the value "
            f"below the habits'. *{md(player)} alone as recommended* keeps {md(opponent)} as usual: what "
            f"{md(player)}'s own change is worth.")


def _keys(adv) -> None:
    keys = common.pair_table(adv, "keys", lambda: prep.keys_to_the_match(adv))
    st.header("Keys to the match")
    if not keys:
        st.caption(f"No shot of {md(adv.player)} changes the win probability beyond its interval in a situation "
                   "played often enough: the data support no key to the match.")
        return
    for k, key in enumerate(keys, 1):
        head = f"{key['advice'].capitalize()}: {key['shot']} {situation(key['state'])}"
        st.markdown(f"**{k}. {md(head)}.** {md(key['text'])}.")


def _serve_and_return(adv, player: str, opponent: str) -> None:
    values = common.pair_table(adv, "rally values", lambda: prep.rally_values(adv))
    st.header("Serving and returning")
    one = rally_words(adv.sport)[0]
    c = st.columns(2)
    for col, key, server, other in ((c[0], "serve", player, opponent), (c[1], "return", opponent, player)):
        opening = values[f"{key}_states"]
        n = sum(opening.values())
        where = situation(values[f"{key}_state"])
        col.metric(f"{md(server)} serving: {md(player)} wins the {one} (as recommended)", pct(values[key]),
                   f"as played: {pct(values[key + '_observed'])}", delta_color="off", delta_arrow="off",
                   help=md(f"{n} serves of {server} against {other} in the data"))
        apart = "; ".join(f"{situation(s).removeprefix('serve').strip(' ()')}: {v}" for s, v in opening.items())
        col.caption(f"{md(player)} alone as recommended ({md(opponent)} as usual): {pct(values[key + '_switch'])}")
        col.caption(md(f"{plural(n, 'serve')} of {server} against {other} in the data"
                       + ("" if where == "serve" else f" ({apart}; the value is their mean by visits)"
                          if len(opening) > 1 else f" ({where})")) + ".")
    if any(pct(values[k]) != pct(values[k + "_observed"]) for k in ("serve", "return")):
        st.caption(_why_two_values(player, opponent))          # only where the two numbers shown differ


def _tendencies(adv, player: str, opponent: str) -> None:
    tend = common.pair_table(adv, "tendencies", lambda: prep.tendencies_by_stroke(adv))
    rep = common.pair_table(adv, "replies", lambda: prep.replies_after(adv))
    if tend.empty and rep.empty:
        return
    st.header(f"{md(opponent)}'s tendencies")
    if not tend.empty:
        st.subheader("By stroke number")
        st.caption(f"Share of {md(opponent)}'s shots at each stroke of the {rally_words(adv.sport)[0]} "
                   f"({md(tend['scope'].iat[0])}); n = strokes behind each bar.")
        tables.draw(tables.share_bars(tend))
        tables.show(tend.groupby("stroke", sort=False).head(3).drop(columns="scope"))
    if not rep.empty:
        st.subheader(f"After each of {md(player)}'s shots")
        st.caption(f"How {md(opponent)} answers each shot of {md(player)} ({md(rep['scope'].iat[0])}), by the "
                   "reply's group; n = the player's strokes that got a reply.")
        tables.show(rep.drop(columns="scope"), index=True)


# -- one situation -------------------------------------------------------------------------------------------------
def _heatmap(stage, player: str, opponent: str) -> alt.LayerChart:
    """The stage: P(player wins the rally) per shot (rows) and place where the opponent stands (columns), with
    the interval and the pair's strokes of each cell."""
    cells = pd.DataFrame([{"shot": r, "where": c, "win": stage.mean[i, j], "low": stage.low[i, j],
                           "high": stage.high[i, j], "n": int(stage.counts[i, j]),
                           "text": f"{stage.mean[i, j]:.0%} [{stage.low[i, j]:.0%}–{stage.high[i, j]:.0%}] "
                                   f"n={int(stage.counts[i, j])}"}
                          for i, r in enumerate(stage.rows) for j, c in enumerate(stage.columns)])
    base = alt.Chart(cells).encode(
        x=alt.X("where:N", title=f"where {opponent} stands when the shot is hit", sort=list(stage.columns),
                axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("shot:N", title=f"{player}'s shot", sort=list(stage.rows), axis=alt.Axis(labelLimit=250)))
    heat = base.mark_rect().encode(
        color=alt.Color("win:Q", title=f"{player} wins", legend=alt.Legend(format="%"),
                        scale=alt.Scale(scheme="redblue", domain=[0.3, 0.7], clamp=True)),
        tooltip=["shot", "where", alt.Tooltip("win:Q", format=".1%"), alt.Tooltip("low:Q", format=".1%"),
                 alt.Tooltip("high:Q", format=".1%"), "n"])
    text = base.mark_text(fontSize=12).encode(text="text:N")
    return (heat + text).properties(height=32 * len(stage.rows) + 40)


def _why_not(stage, i: int, player: str, min_count: int) -> str:
    if stage.advisable[i]:
        return ""
    if not stage.candidate[i]:
        return "not advised: all players rarely play it here"
    if stage.recommended[i] >= KEPT_SHARE:
        return f"{KEPT}: {player} played it fewer than {min_count} times here"
    return f"not advised: {player} played it fewer than {min_count} times here"


def _shots_table(stage, player: str, opponent: str, min_count: int) -> pd.DataFrame:
    """Per shot of the situation: the recommendation's and the habit's share, what it wins where the opponent
    usually stands (with the interval) and the strokes of the pair behind it."""
    q = np.asarray(stage.observed_column, float)
    win, low, high = stage.mean @ q, stage.low @ q, stage.high @ q
    return pd.DataFrame({
        "shot": list(stage.rows),
        "advised": [_why_not(stage, i, player, min_count) or "yes" for i in range(len(stage.rows))],
        "recommended": np.asarray(stage.recommended, float),
        f"{player}'s habit": np.asarray(stage.observed_row, float),
        f"wins where {opponent} usually stands": win,
        "90 % interval": [f"{pct(a)}–{pct(b)}" for a, b in zip(low, high)],
        f"played against {opponent}": stage.counts.sum(axis=1).astype(int)})


def _stage_values(adv, state: str, stage) -> None:
    row = adv.game.states.iloc[adv.game.index(state)]
    c = st.columns(3)
    c[0].metric("As recommended", pct(stage.value),
                help=f"{pct(row['value_low'])}–{pct(row['value_high'])} (90 % interval); "
                     f"{int(row['visits'])} strokes of the pair")
    c[0].caption(f"{pct(row['value_low'])}–{pct(row['value_high'])}, 90 % interval; {md(adv.player)} alone as "
                 f"recommended ({md(adv.opponent)} as usual): {pct(row['switch_value'])}")
    c[1].metric("As played", pct(row["observed_value"]),
                help=f"{pct(row['observed_low'])}–{pct(row['observed_high'])} (90 % interval for a match not yet "
                     "played)")
    c[1].caption(f"{pct(row['observed_low'])}–{pct(row['observed_high'])}, 90 % interval")
    played = stage.counts.sum(axis=1).astype(int)
    mix = sorted(zip(stage.rows, stage.recommended, played), key=lambda t: -t[1])
    g = adv.game.index(state)
    if (g, "player") in adv.game.recommendation.kept_again:
        basis = ("the player's habit, kept: a change here wins more at the lower bound only while it is not made; "
                 "made, it changes what the rally is worth later, and there the change is no longer supported")
    elif stage.basis.startswith("habit"):
        basis = "the data do not support a change: this is the player's habit"
    else:
        basis = "the mix that wins most at the lower bound of every shot's estimate"
    c[2].markdown(f"**Recommended mix** ({md(basis)})  \n" + "  \n".join(
        f"{md(a)}: {pct(p)} (played {plural(n, 'time')} against {md(adv.opponent)})" for a, p, n in mix if p >= 0.005))


def _one_situation(adv, player: str, opponent: str) -> None:
    game = adv.game
    states = game.states[(game.states["who"] == "player") & (game.states["visits"] > 0)]
    states = states.sort_values("visits", ascending=False, kind="stable")
    st.header("One situation, shot by shot")
    if states.empty:
        st.info(f"{md(player)} meets no situation against {md(opponent)} in these data: they never played each "
                "other here. The values above are the rally game against everyone.")
        return
    labels = list(states["state"])
    visits = dict(zip(states["state"], states["visits"].astype(int)))
    if st.session_state.get("prep_state") not in labels:
        st.session_state.pop("prep_state", None)
    state = st.selectbox("Situation", labels, key="prep_state",
                         format_func=lambda s: f"{situation(s, capital=True)} ({visits[s]} strokes of the pair)")
    stage = common.pair_table(adv, ("stage", state), lambda: game.stage(state))
    st.caption(f"{md(player)}'s probability of winning the {rally_words(adv.sport)[0]} with each shot (rows) "
               "against each place "
               f"{md(opponent)} stands in (columns), both playing as recommended afterwards: the point estimate "
               f"with its 90 % interval and the strokes of the pair in the cell (n); shrunk toward {md(player)}'s "
               "play against everyone and toward all players where the pair's strokes are few.")
    tables.draw(_heatmap(stage, player, opponent))
    _stage_values(adv, state, stage)
    row = game.states.iloc[game.index(state)]
    if pct(stage.value) != pct(row["observed_value"]):
        st.caption(_why_two_values(player, opponent))
    tables.show(_shots_table(stage, player, opponent, adv.min_action_count))
    brs = common.pair_table(adv, "best responses", lambda: prep.best_responses(adv))
    mine = brs[brs["state"] == state.split(": ", 1)[1]] if not brs.empty else brs
    if not mine.empty:
        r = mine.iloc[0]
        st.markdown(f"**Best response to where {md(opponent)} usually stands:** {md(r['best shot'])} wins "
                    f"{pct(r['wins'])} ({pct(r['low'])}–{pct(r['high'])}), at least {pct(r['lower bound'])} at the "
                    f"lower bound, against {pct(r['habit wins'])} for the habit; played "
                    f"{plural(int(r['times played']), 'time')} in {r['decisions']} decisions there (against anyone).")


def _in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """A table of situations with each one said in words (:func:`strategist.app.text.situation`), not its label."""
    return frame.assign(situation=frame["state"].map(situation)).drop(columns="state")


def _habits(adv, player: str, opponent: str) -> None:
    hab = common.pair_table(adv, "habits", lambda: prep.habits(adv))
    if hab.empty:
        return
    st.header(f"{md(player)}'s habits and what the rally game recommends")
    st.caption(f"Per situation {md(player)} met {md(opponent)} in: the habit and what it wins as played, the "
               "recommendation and what it wins as recommended (its basis: the pessimistic equilibrium, or the habit "
               f"where the data do not support a change). 'Habit exploitable by': percentage points of "
               f"{rally_words(adv.sport)[1]} an "
               "opponent who knew the habit could take, at the lower bound.")
    worst = _in_words(hab[hab["habit exploitable by"] > 0].nlargest(12, "habit exploitable by"))
    if not worst.empty:
        tables.draw(tables.points_bars(worst, "situation", "habit exploitable by", rally_words(adv.sport)[1]))
    tables.show(_in_words(hab))
    brs = common.pair_table(adv, "best responses", lambda: prep.best_responses(adv))
    if not brs.empty:
        st.header("Best responses in every situation")
        st.caption(f"The advised shot that wins most where {md(opponent)} usually stands (point estimate, 90 % "
                   "interval and lower bound), against the habit's, with how often the player chose it there "
                   "(against anyone).")
        tables.show(_in_words(brs))


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
        scouting.show(common.data_key(), player, opponent)
        _tendencies(adv, player, opponent)
        _one_situation(adv, player, opponent)
        _habits(adv, player, opponent)


render()
