"""Practice: play the player's shots against the modelled opponent, rally by rally.

With the rally game installed (:mod:`strategist.rally.practice`), a session is the rally game's practice mode:
each of the player's choices is asked on the page; the session is replayed from its seed with the choices made
so far, so it is the same session on every rerun. Without it, a clearly labelled fallback plays one decision
per rally in the matrix game of a decision state.
"""

import importlib.util

import numpy as np
import pandas as pd
import streamlit as st

from strategist.advice.prep import observed_reply
from strategist.app import common, tables
from strategist.app.text import md, pct
from strategist.errors import StrategistError

def _rally_game_practice(game, player, opponent):
    from strategist.rally.practice import practise

    key = ("rally", common.data_key(), player, opponent)
    if st.session_state.get("rp_key") != key:
        st.session_state.update(rp_key=key, rp_choices=[])
    choices = st.session_state["rp_choices"]
    pending: dict = {}
    position = {"k": 0}

    def chooser(state, actions, values):
        if position["k"] < len(choices):
            position["k"] += 1
            return choices[position["k"] - 1]
        pending.update(state=state, actions=tuple(actions), values=values)
        return None

    try:
        report = practise(game, chooser, rallies=100_000, seed=0)
    except StrategistError as exc:
        if "before its first rally" not in str(exc):
            raise
        report = None
    st.caption("The rally game's practice mode: you choose every shot of the player; where the opponent hits, "
               "the player's position follows the equilibrium; the opponent plays as observed; outcomes are drawn "
               "from the estimated game. A rally pays +1 won / −1 lost, credited back over your choices: a shot's "
               "'per try' is what it has earned on average so far.")
    if pending:
        where = str(pending["state"]).removeprefix("player: ")
        st.subheader(f"Rally {1 if report is None else report.rallies + 1} · {md(player)} to play: {md(where)}")
        cols = st.columns(4)
        for k, action in enumerate(pending["actions"]):
            value, tries = pending["values"].get(action, (None, 0))
            label = action if not tries else \
                f"{action} · {value:+.2f} per try ({tries} {'try' if tries == 1 else 'tries'})"
            cols[k % 4].button(label, key=f"rp:{k}:{action}", width="stretch",
                               on_click=lambda i=k: st.session_state["rp_choices"].append(i))
    if report is not None:
        last = report.log[-1]
        (st.success if last["won"] else st.error)(
            f"Rally {last['rally']} {'won' if last['won'] else 'lost'} after your choices: "
            + md(", ".join(f"{a} in {s}" for s, a in last["choices"])))
        c = st.columns(4)
        c[0].metric("Rallies won", f"{report.wins} of {report.rallies}")
        c[1].metric("Your play wins from the serve", pct(report.practised_value),
                    help=f"against {opponent}'s observed play, over {report.rallies} rallies")
        c[2].metric("At equilibrium it would win", pct(report.equilibrium_value),
                    help="both players choosing their best mix; the gap to your play is what your choices cost or "
                         "gained")
        c[3].metric("Distance from the equilibrium", f"{report.mean_distance:.2f}",
                    help="how far your choices were from the equilibrium mix (0: the same; 1: nothing in common)")
        left, right = st.columns(2)
        for column, title, frame in ((left, "What worked", report.worked()), (right, "What did not", report.did_not())):
            if not frame.empty:
                column.markdown(f"**{title}**")
                with column:
                    tables.show(frame)
    st.button("Start over", key="practice_reset", on_click=lambda: st.session_state.update(rp_choices=[]))


def _matrix_practice(adv, player, opponent):
    st.warning("Fallback: the rally-game practice mode (strategist.rally.practice) is not in this installation. "
               "This practice plays one decision per rally in the matrix game of a decision state: you choose "
               f"{md(player)}'s shot, {md(opponent)}'s reply is drawn from their observed replies and the rally's "
               "winner from "
               "the estimated win probability.")
    key = (common.data_key(), player, opponent)
    if st.session_state.get("practice_key") != key:
        st.session_state.update(practice_key=key, practice_rng=np.random.default_rng(0), practice_log=[],
                                practice_state=None)
    rng = st.session_state["practice_rng"]
    states = list(adv.games)
    weights = np.array([adv.games[s].points for s in states], float)
    if st.session_state["practice_state"] is None:
        st.session_state["practice_state"] = states[int(rng.choice(len(states), p=weights / weights.sum()))]
    state = st.session_state["practice_state"]
    sg = adv.games[state]
    st.subheader(f"Rally {len(st.session_state['practice_log']) + 1}: {md(state)}")
    st.caption(f"{sg.points} decision points of {md(player)} in this state · worth {pct(sg.value)} at equilibrium")

    def play(shot):
        i = sg.rows.index(shot)
        q = observed_reply(sg)
        j = int(rng.choice(len(sg.columns), p=q / q.sum()))
        won = bool(rng.random() < sg.payoffs[i, j])
        st.session_state["practice_log"].append({"state": state, "shot": shot, "reply": sg.columns[j], "won": won,
                                                 "expected": float(sg.payoffs[i] @ q), "value": sg.value})
        st.session_state["practice_state"] = None

    cols = st.columns(4)
    for k, shot in enumerate(sg.rows):
        cols[k % 4].button(shot, key=f"practice:{shot}", on_click=play, args=(shot,), width="stretch")
    log = st.session_state["practice_log"]
    if log:
        last = log[-1]
        (st.success if last["won"] else st.error)(
            md(f"Last rally ({last['state']}): {last['shot']} against {last['reply']} — ") +
            f"{'won' if last['won'] else 'lost'}. Against {md(opponent)}'s usual replies it wins "
            f"{last['expected']:.0%}; the state's value is {last['value']:.0%}.")
        c = st.columns(3)
        c[0].metric("Rallies won", f"{sum(r['won'] for r in log)} of {len(log)}")
        above = 100 * sum(r["expected"] - r["value"] for r in log)
        c[1].metric("Expected above the state's worth", f"{above:+.1f} points",
                    help="percentage points of rallies your choices were expected to win above the equilibrium")
        c[2].button("Start over", key="practice_reset",
                    on_click=lambda: st.session_state.update(practice_log=[], practice_state=None))
        st.dataframe(pd.DataFrame(log), hide_index=True, width="stretch")


def render() -> None:
    st.title("Practice")
    with common.guard():
        result = common.loaded()
        player, opponent = common.choose_players(result)
        try:
            if importlib.util.find_spec("strategist.rally.practice") is None:
                raise ImportError("strategist.rally.practice")
            game, why_not = common.rally_game(common.data_key(), player, opponent)
        except ImportError:
            game, why_not = None, "not installed"
        if game is not None:
            _rally_game_practice(game, player, opponent)
            return
        adv = common.current_advisor(player, opponent)
        if not adv.games:
            st.info(f"Nothing to practise: no decision state of {md(player)} has enough rallies in these data "
                    f"({md(why_not or 'no rally game')}). Load shot-by-shot data.")
            return
        _matrix_practice(adv, player, opponent)


render()
