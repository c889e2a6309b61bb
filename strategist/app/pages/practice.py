"""Practice: play decisions against the opponent as the data see them, rally by rally."""

import numpy as np
import streamlit as st

from strategist.advice.prep import observed_reply
from strategist.app import common

st.title("Practice")
with common.guard():
    result = common.loaded()
    player, opponent = common.choose_players(result)
    adv = common.current_advisor(player, opponent)
    try:
        from strategist.rally import practice as rally_practice  # noqa: F401
        landed = hasattr(rally_practice, "PracticeSession") or hasattr(rally_practice, "practice")
    except ImportError:
        landed = False
    if not landed:
        st.warning("Fallback: the rally-game practice mode (strategist.rally.practice) is not in this installation. "
                   "This practice plays one decision per rally in the matrix game of a decision state: you choose "
                   f"{player}'s shot, {opponent}'s reply is drawn from the prediction and the rally's winner from "
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
    st.subheader(f"Rally {len(st.session_state['practice_log']) + 1}: {state}")
    st.caption(f"{sg.points} decision points of {player} in this state · value {common.pct(sg.value)}")

    def play(shot):
        i = sg.rows.index(shot)
        q = observed_reply(sg)
        j = int(rng.choice(len(sg.columns), p=q / q.sum()))
        won = bool(rng.random() < sg.payoffs[i, j])
        expected = float(sg.payoffs[i] @ q)
        st.session_state["practice_log"].append({"state": state, "shot": shot, "reply": sg.columns[j],
                                                 "won": won, "expected": expected, "value": sg.value})
        st.session_state["practice_state"] = None

    cols = st.columns(4)
    for k, shot in enumerate(sg.rows):
        cols[k % 4].button(shot, key=f"practice:{shot}", on_click=play, args=(shot,), width="stretch")
    log = st.session_state["practice_log"]
    if log:
        last = log[-1]
        (st.success if last["won"] else st.error)(
            f"Last rally ({last['state']}): {last['shot']} against {last['reply']} — "
            f"{'won' if last['won'] else 'lost'}. Against {opponent}'s usual replies it wins "
            f"{last['expected']:.0%}; the state's value is {last['value']:.0%}.")
        won = sum(r["won"] for r in log)
        edge = sum(r["expected"] - r["value"] for r in log)
        c = st.columns(3)
        c[0].metric("Rallies won", f"{won} of {len(log)}")
        c[1].metric("Expected above the value", f"{100 * edge:+.1f} points")
        c[2].button("Start over", key="practice_reset",
                    on_click=lambda: st.session_state.update(practice_log=[], practice_state=None))
