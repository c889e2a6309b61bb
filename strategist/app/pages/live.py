"""Live rally: record every stroke as it is played; the prediction and three recommendations follow each click.

The match lives in the match log (SQLite): the page reads it on every rerun, so a reload, a second window
or a restart shows the same match. The match in view is kept in the address (``?match=...``).
"""

import altair as alt
import pandas as pd
import streamlit as st

from strategist.advice.gifts import match_gifts
from strategist.app import common
from strategist.errors import StrategistError

st.title("Live rally")


def _record(log, match_id, shot, area):
    try:
        log.add_stroke(match_id, shot, landing_area=area or None)
        st.session_state["live_message"] = None
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


def _finish(log, match_id, winner):
    try:
        log.finish_rally(match_id, winner)
        log.next_rally(match_id)
        st.session_state["live_message"] = None
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


def _undo(log, match_id):
    try:
        st.session_state["live_message"] = "Undone: " + log.undo(match_id)
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


def _next(log, match_id):
    try:
        log.next_rally(match_id)
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


def _new_match(log, sport, player, opponent, server, data):
    try:
        match_id = log.new_match(sport, player, opponent, server=server, data=data)
        log.next_rally(match_id)
        st.query_params["match"] = match_id
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


with common.guard():
    result = common.loaded()
    sport = result.sport
    log = common.matchlog()
    player, opponent = common.choose_players(result)
    st.sidebar.caption(f"Match log: {log.path}")

    matches = log.matches()
    wanted = st.query_params.get("match")
    if wanted not in set(matches["match_id"]):
        wanted = log.latest(player, opponent) or (None if matches.empty else str(matches["match_id"].iloc[0]))
    with st.expander("Matches" if wanted else "Start a match", expanded=wanted is None):
        c = st.columns([2, 1])
        server = c[0].radio("First server", [player, opponent], horizontal=True, key="first_server")
        c[1].button(f"New match: {player} v {opponent}", key="new_match", on_click=_new_match,
                    args=(log, sport.name, player, opponent, server, common.data_label(common.data_key())))
        if not matches.empty:
            ids = list(matches["match_id"])
            chosen = st.selectbox("Or continue a recorded match", ids, index=ids.index(wanted) if wanted in ids else 0,
                                  key="match_box")
            if chosen != wanted:
                wanted = chosen
    if wanted is None:
        st.info("No match recorded yet: start one above.")
        st.stop()
    st.query_params["match"] = wanted
    state = log.state(wanted)
    if state.sport != sport.name:
        st.error(f"This match is {state.sport}; the data in use are {sport.name}. Choose {state.sport} data.")
        st.stop()
    if (state.player, state.opponent) != (player, opponent):
        st.caption(f"Recorded match: {state.player} v {state.opponent} (the players of the match, not those chosen "
                   "in the sidebar).")
    adv = common.current_advisor(state.player, state.opponent)

    message = st.session_state.get("live_message")
    if message:
        (st.info if message.startswith("Undone") else st.error)(message)

    score = state.score()
    now = state.scores()[-1]                     # the score before the rally in play (or the next one)
    top = st.columns([1, 1, 1, 2])
    if sport.name == "tennis":
        where = "tiebreak points" if score["tiebreak"] else "points in this game"
        top[0].metric(state.player, score["player_call"], help=where)
        top[1].metric(state.opponent, score["opponent_call"], help=where)
        top[2].metric("Set · games", f"{score['set']} · {score['player_games']}–{score['opponent_games']}"
                      + (" (tiebreak)" if score["tiebreak"] else ""),
                      help=f"sets {score['player_sets']}–{score['opponent_sets']}")
    else:
        top[0].metric(state.player, score["player"], help="points in this set")
        top[1].metric(state.opponent, score["opponent"], help="points in this set")
        top[2].metric("Set", f"{score['set']} ({score['player_sets']}–{score['opponent_sets']})")
    top[3].metric("Rallies played", score["rallies"])

    rally = state.current
    strokes = rally.strokes if rally is not None else ()
    nxt = state.next_hitter()

    st.sidebar.subheader("Exploitation")
    margin_pts = st.sidebar.slider("Margin: from safe (0) to exploitative (win-probability points the safe "
                                   "exploitation may give up)", 0, 15, 3, key="margin")
    risk_won = st.sidebar.checkbox("Risk only what has been won", key="risk_won",
                                   help="Exploit beyond the equilibrium only as far as the points won above the "
                                        "game's value so far pay for it (Ganzfried & Sandholm's safe exploitation).")
    rallies = [(r.number, [(s.shot, s.hitter) for s in r.strokes], r.finished) for r in state.rallies]
    gifts = match_gifts(adv, rallies)
    if risk_won:
        st.sidebar.caption(f"Won above the value so far: {100 * gifts.total:+.1f} points over {gifts.decisions} "
                           f"decisions → margin allowed {100 * gifts.allowed:.1f} points.")
    history = pd.DataFrame({"shot": [s.shot for s in strokes], "hitter": [s.hitter for s in strokes]})
    server = rally.server if rally is not None else state.next_server()
    advice = adv.advise(history, {"server": server, "next": nxt, "court_side": sport.court_side(now.count)},
                        margin=margin_pts / 100, gifts=gifts.total if risk_won else None)

    st.success(advice.sentence)
    if advice.safe is not None:
        cards = st.columns(3)
        titles = {"equilibrium": "Safe (equilibrium)", "best response": "Best response to the prediction",
                  "safe exploitation": f"Safe exploitation (margin {100 * advice.margin:.0f} points)"}
        for card, rec in zip(cards, (advice.equilibrium, advice.best_response, advice.safe)):
            with card.container(border=True):
                st.markdown(f"**{titles[rec.name]}**")
                st.markdown("  \n".join(f"{a}: {p:.0%} (played {rec.counts.get(a, 0)}×)" for a, p in rec.shots(0.01)))
                st.markdown(f"wins **{common.pct(rec.expected)}** against the prediction, never less than "
                            f"**{common.pct(rec.guarantee)}**")
        st.caption(f"For {advice.player}'s next shot in '{advice.state}': {advice.decision_points} decision points "
                   f"({'against this opponent' if advice.scope == 'pairing' else 'against everyone'}) · value "
                   f"{common.pct(advice.value)} · prediction: {advice.model}, {advice.prediction_n} strokes of "
                   f"{advice.opponent} ({advice.prediction_source}), trusted at {advice.confidence:.0%} "
                   f"(the rest: the equilibrium's reply mix) · {1000 * advice.seconds:.1f} ms")

    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"Rally {rally.number if rally else len(state.rallies) + 1} · {nxt} to hit "
                     f"(stroke {len(strokes) + 1})")
        if strokes:
            st.markdown("  \n".join(
                f"{s.number}. **{s.hitter}**: {s.shot}"
                + (f" → {common.area_name(sport, s.landing_area)}" if s.landing_area else "") for s in strokes))
        else:
            st.caption(f"No stroke yet: {rally.server if rally else state.next_server()} serves.")
    with right:
        areas = [""] + list(sport.areas)
        area = st.selectbox("Landing area of the next shot (optional)", areas, key="live_area",
                            format_func=lambda a: "not recorded" if a == "" else f"{sport.areas[a]} ({a})")
    serves = [s for s in sport.shots if s in sport.serves]
    others = [s for s in sport.shots if s not in sport.serves and s != "unknown"]
    second_serve = bool(serves) and bool(strokes) and state.next_hitter(serves[0]) == server \
        and all(x.hitter == server and x.shot in sport.serves for x in strokes)
    # after a faulted first serve the server may serve again (tennis), or the receiver return it
    shots = serves if not strokes else (serves + others if second_serve else others)
    per_row = 5
    for start in range(0, len(shots), per_row):
        cols = st.columns(per_row)
        for col, shot in zip(cols, shots[start:start + per_row]):
            col.button(shot, key=f"shot:{shot}", on_click=_record, args=(log, wanted, shot, area), width="stretch")
    c = st.columns(4)
    c[0].button("↶ Undo", key="undo", on_click=_undo, args=(log, wanted), width="stretch")
    c[1].button(f"Point to {state.player}", key="won", on_click=_finish, args=(log, wanted, state.player),
                disabled=not strokes, width="stretch", type="primary")
    c[2].button(f"Point to {state.opponent}", key="lost", on_click=_finish, args=(log, wanted, state.opponent),
                disabled=not strokes, width="stretch")
    c[3].button("Next rally", key="next", on_click=_next, args=(log, wanted), disabled=rally is not None,
                width="stretch")

    pred = advice.prediction.sort_values(ascending=False).head(8)
    title = (f"{advice.opponent}'s next shot (predicted)" if advice.lead else
             f"{advice.opponent}'s reply (predicted)")
    frame = pd.DataFrame({"shot": pred.index, "p": pred.to_numpy()})
    chart = alt.Chart(frame).mark_bar(color="#1f77b4").encode(
        x=alt.X("p:Q", title="probability", axis=alt.Axis(format="%", tickCount=5)),
        y=alt.Y("shot:N", sort=None, title=None, axis=alt.Axis(labelLimit=250)),
        tooltip=["shot", alt.Tooltip("p:Q", format=".0%")]
    ).properties(title=title)
    st.altair_chart(chart, width="stretch", height=28 * len(frame) + 60)
    for note in advice.notes:
        st.caption(note)

    st.download_button("Export the match (CSV, canonical layout)", log.export_csv(wanted),
                       file_name=f"{wanted.replace(' ', '_').replace('#', 'n')}.csv", mime="text/csv",
                       key="export")
