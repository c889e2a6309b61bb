"""Practice: play the player's shots against the modelled opponent, rally by rally, in the pair's rally game.

A session is the rally game's practice mode (:mod:`strategist.rally.practice`) on the Advisor's game: each of
the player's choices is asked on the page; the session is replayed from its seed with the choices made so far,
so it is the same session on every rerun. The shots offered in a situation are those all players play there at a
meaningful rate (the game's candidates): a serve is offered only as a serve, never a shot of the rally.
"""

import numpy as np
import streamlit as st

from strategist.app import common, tables
from strategist.app.practice_shots import offered
from strategist.app.text import md, pct, plural, situation, to_play
from strategist.scout.text import rally_words
from strategist.errors import StrategistError


def _session(game, key):
    """Replay the session with the choices made so far: (report or None, the pending choice or {})."""
    from strategist.rally.practice import practise

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
    return report, pending


def _choices(game, player: str, report, pending: dict) -> None:
    where = situation(pending["state"])
    one = rally_words(game.structure.sport)[0].capitalize()
    # "to serve (ad, 1st serve)", "to play after a net shot taken low at the front (shot 3)": the player's
    # shots of this rally, so that each choice moves the heading on
    done = sum(len(r["choices"]) for r in report.log) if report is not None else 0
    shot = len(st.session_state["rp_choices"]) - done + 1
    task = to_play(where) + ("" if where.startswith("serve") else f" (shot {shot})")
    st.subheader(f"{one} {1 if report is None else report.rallies + 1} · {md(player)} {md(task)}")
    actions = pending["actions"]
    cols = st.columns(2)                                 # two a row: a label with its credit is read whole
    for k, i in enumerate(offered(game, pending["state"], actions)):
        value, tries = pending["values"].get(actions[i], (None, 0))
        label = actions[i] if not tries else f"{actions[i]} · {value:+.2f} per try ({plural(tries, 'try', 'tries')})"
        cols[k % 2].button(label, key=f"rp:{i}:{actions[i]}", width="stretch",
                           on_click=lambda i=i: st.session_state["rp_choices"].append(i))


def _results(report, opponent: str, words: tuple = ("rally", "rallies")) -> None:
    last = report.log[-1]
    one, many = words
    (st.success if last["won"] else st.error)(
        f"{one.capitalize()} {last['rally']} {'won' if last['won'] else 'lost'} after your choices: "
        + md("; ".join(_choice(a, s) for s, a in last["choices"])))
    c = st.columns(4)
    c[0].metric(f"{many.capitalize()} won", f"{report.wins} of {report.rallies}")
    c[1].metric("Your play wins from the serve", pct(report.practised_value),
                help=f"against {md(opponent)}'s observed play, your choices' frequencies in the situations you met "
                     f"(the recommendation elsewhere); {report.rallies} {many}")
    c[2].metric("Alone as recommended", pct(report.model_value),
                help=f"what the recommended mix wins from the serve in every situation against the same {md(opponent)} "
                     "(their observed play): the gap to your play is what your choices cost or gained. With "
                     f"{md(opponent)} playing their recommendation too: {pct(report.equilibrium_value)}")
    c[3].metric("Choices off the recommended mix", pct(report.mean_distance),
                help="the share of your choices that would have to change for them to follow the recommended mix "
                     "in each situation you met (0 %: they follow it; 100 %: nothing in common), weighted by how "
                     "often you met each situation")
    # one table under the other, across the page: a situation and its shot are read whole
    for title, frame, sign in (("What worked", report.worked(), "positive"),
                               ("What did not", report.did_not(), "negative")):
        st.markdown(f"**{title}**")
        if frame.empty:
            st.caption(f"No shot tried at least twice in one situation has a {sign} credit yet.")
            continue
        shown = frame.assign(situation=[situation(s) for s in frame["state"]]).drop(columns="state")
        # a credit is in [-1, 1] (+1 won, -1 lost), not a probability: shown signed, as on the buttons
        shown = shown.assign(value=[f"{v:+.2f}" for v in shown["value"]])
        tables.show(shown[["situation", "action", "tries", "value"]].rename(
            columns={"action": "shot", "value": "credit per try"}))


def _choice(shot: str, state: str) -> str:
    """A choice in words: ``backhand volley after a backhand``; a serve with its court and number only
    (``T serve (deuce, 1st serve)``, badminton's ``short service``), not ``T serve serve (...)``."""
    said = situation(state)
    return f"{shot} {said.removeprefix('serve').strip()}".strip() if said.startswith("serve") else f"{shot} {said}"


def render() -> None:
    st.title("Practice")
    with common.guard():
        result = common.loaded()
        player, opponent = common.choose_players(result)
        adv = common.current_advisor(player, opponent)
        game = adv.game
        if not np.any(game.states["who"].to_numpy() == "player"):
            st.info(f"Nothing to practise: the rally game has no situation of {md(player)}. Load shot-by-shot data.")
            return
        words = rally_words(game.structure.sport)
        one = words[0]
        st.caption("The rally game's practice mode: you choose every shot of the player; where the opponent hits, "
                   "the player's position follows the recommendation; the opponent plays as observed; outcomes are "
                   f"drawn from the estimated game. A {one} pays +1 won / −1 lost, credited back over your choices: "
                   "a shot's 'per try' is what it has earned on average so far.")
        report, pending = _session(game, ("rally", common.data_key(), player, opponent, common.model_key()))
        if pending:
            _choices(game, player, report, pending)
        if report is not None:
            _results(report, opponent, words)
        st.button("Start over", key="practice_reset", on_click=lambda: st.session_state.update(rp_choices=[]))


render()
