"""Live rally: record every stroke as it is played; the prediction and three recommendations follow each click.

The match lives in the match log (SQLite): the page reads it on every rerun, so a reload, a second window or a
restart shows the same match. The match in view is the one chosen (started, picked, or named by the address
``?match=``); address, score and strokes always belong to it. A match opens with the data it was recorded on.
Every shot and point button has a keyboard shortcut; a click carries the stroke number the page showed, and a
click made on an out-of-date page is refused by the match log and the page refreshed.
"""

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from strategist.advice.gifts import match_gifts
from strategist.app import common, datasets, paths, tables
from strategist.app.text import basis_words, md, pct, same_as_recommended, situation, to_play
from strategist.scout.text import rally_words
from strategist.errors import StrategistError
from strategist.matchlog import StaleWriteError

#: Keyboard shortcuts of the shot buttons in the order the sport lists its shots (C and R are Streamlit's own).
SHOT_KEYS = list("1234567890QWETYIOPASDFGHJ")
POINT_KEYS = {"won": "K", "lost": "L", "undo": "Z", "next": "N"}
HEIGHTS = ("high", "low")
STALE = "The match moved on in another window: the page now shows it as stored; your click was not recorded."


# -- writes: each one transaction of the match log, carrying the position the page showed -------------------------
def _record(log, match_id, shot, expect):
    """Record a stroke at the ``(rally, stroke)`` the page showed; the log refuses it when the match moved on."""
    try:
        log.add_stroke(match_id, shot, landing_area=_landing_area(log.state(match_id).rules) or None,
                       landing_height=st.session_state.get("live_height") or None, expect=expect)
        st.session_state.update(live_message=None, live_height=None, live_zone=None, live_area="")
    except StrategistError as exc:
        _refused(exc)


def _landing_area(sport) -> str:
    """The landing area chosen: the exact area when one is picked, else the centre of the zone clicked."""
    area = st.session_state.get("live_area") or ""
    zone = st.session_state.get("live_zone")
    if area or not zone:
        return area
    codes = [code for code, z in (sport.decisions.zones or {}).items() if z == zone]
    centre = [code for code in codes if "centre" in sport.areas.get(code, "")]
    return (centre or codes or [""])[0]


def _refused(exc) -> None:
    if isinstance(exc, StaleWriteError):
        st.session_state["live_message"] = STALE
        st.session_state["live_refused"] = st.session_state.get("live_refused", 0) + 1
    else:
        st.session_state["live_message"] = str(exc)


def _finish(log, match_id, winner, expect):
    try:
        log.finish_rally(match_id, winner, expect=expect)
        log.next_rally(match_id)
        st.session_state["live_message"] = None
    except StrategistError as exc:
        _refused(exc)


def _undo(log, match_id, expect):
    try:
        st.session_state["live_message"] = "Undone: " + log.undo(match_id, expect=expect)
    except StrategistError as exc:
        _refused(exc)


def _next(log, match_id):
    try:
        log.next_rally(match_id)
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


def _show(match_id: str) -> None:
    """Put ``match_id`` in view (the selectbox, the session and the address follow)."""
    st.session_state["live_match"] = match_id
    st.session_state["match_box"] = match_id
    st.query_params["match"] = match_id


def _new_match(log, sport, player, opponent, data, latest):
    """Start a match (refused when another window started one for the pair since this page was drawn)."""
    try:
        server = st.session_state.get("first_server") or player
        match_id = log.new_match(sport, player, opponent, server=server, data=data, expect_latest=latest)
        log.next_rally(match_id)
        _show(match_id)
        st.session_state["live_message"] = None
    except StrategistError as exc:
        st.session_state["live_message"] = str(exc)


# -- which match, on which data --------------------------------------------------------------------------------------
def _match_in_view(log, matches: pd.DataFrame, player: str, opponent: str) -> str | None:
    ids = set(matches["match_id"])
    for wanted in (st.session_state.get("live_match"), st.query_params.get("match")):
        if wanted in ids:
            return wanted
    return log.latest(player, opponent)


def _start_controls(log, sport, player, opponent, matches, in_view) -> None:
    st.radio("First server", [player, opponent], horizontal=True, key="first_server", format_func=md)
    st.button(f"New match: {md(player)} v {md(opponent)}", key="new_match", on_click=_new_match, type="primary",
              args=(log, sport.name, player, opponent, datasets.address_of(common.data_key()),
                    log.latest(player, opponent)))
    if not matches.empty:
        # this sport's matches first (the latest of this pair leading), then the others, each marked with its
        # sport: choosing one opens it with the data it was recorded on
        here = (matches["sport"] == sport.name).to_numpy(bool)
        ids = list(matches["match_id"][here]) + list(matches["match_id"][~here])
        elsewhere = dict(zip(matches["match_id"][~here], matches["sport"][~here]))
        if st.session_state.get("match_box") not in ids:
            latest = log.latest(player, opponent)
            st.session_state["match_box"] = in_view if in_view in ids else latest if latest in ids else ids[0]
        st.selectbox("Or continue a recorded match", ids, key="match_box",
                     format_func=lambda m: f"{m} ({elsewhere[m]})" if m in elsewhere else m,
                     on_change=lambda: _show(st.session_state["match_box"]))


def _data_of_match(stored: str | None) -> tuple | None:
    """The data key a match was recorded on (its address form; older logs kept a label), or None."""
    if not stored:
        return None
    inverse = {label: key for key, label in datasets.LABELS.items()}
    if stored in inverse:
        return inverse[stored]
    try:
        return datasets.key_of(stored)
    except paths.PathRefused:
        return None


def _data_name(stored: str) -> str:
    """How a match's data are named to a visitor: a built-in set by its label, a path by its last part."""
    key = datasets.BUILT_IN.get(stored)
    if key is not None:
        return datasets.LABELS[key]
    return stored if stored in datasets.LABELS.values() else Path(stored).name


def _open_with_its_data(state) -> bool:
    """Switch to the data the match was recorded on; False (with a plain message) when they cannot be opened."""
    key = _data_of_match(state.data)
    current = common.data_key()
    if key is not None and datasets.address_of(key) != datasets.address_of(current):
        common.set_data_key(key)
        st.session_state["live_note"] = (f"Opened with the data this match was recorded on: "
                                         f"{common.data_label(key)}.")
        _show(state.match_id)
        st.rerun()
    if key is None and state.data and state.data not in (datasets.address_of(current), common.data_label(current)):
        st.error(f"This match was recorded on other data ({md(_data_name(state.data))}), which this server cannot "
                 "open now. "
                 "Load those data on the Data page, then come back.")
        return False
    names = set(common.players(common.loaded()))
    missing = [p for p in (state.player, state.opponent) if p not in names]
    if missing:
        st.error(f"{' and '.join(md(p) for p in missing)} {'is' if len(missing) == 1 else 'are'} not in the data in "
                 f"use ({md(common.data_label(current))}): this match needs the data it was recorded on"
                 + (f" ({md(_data_name(state.data))})" if state.data else "") + ". Choose them on the Data page.")
        return False
    return True


# -- the page --------------------------------------------------------------------------------------------------------
def _scoreboard(state, sport) -> None:
    score = state.score()
    top = st.columns([1, 1, 1, 2])
    if sport.name == "tennis":
        where = "tiebreak points" if score["tiebreak"] else "points in this game"
        top[0].metric(md(state.player), score["player_call"], help=where)
        top[1].metric(md(state.opponent), score["opponent_call"], help=where)
        top[2].metric("Set · games", f"{score['set']} · {score['player_games']}–{score['opponent_games']}"
                      + (" (tiebreak)" if score["tiebreak"] else ""),
                      help=f"sets {score['player_sets']}–{score['opponent_sets']}")
    else:
        top[0].metric(md(state.player), score["player"], help="points in this set")
        top[1].metric(md(state.opponent), score["opponent"], help="points in this set")
        top[2].metric("Set · sets won", f"{score['set']} · {score['player_sets']}–{score['opponent_sets']}",
                      help=f"sets won: {md(state.player)} first")
    top[3].metric(f"{rally_words(sport)[1].capitalize()} played", score["rallies"])


def _advice(adv, state, sport):
    rally = state.current
    strokes = rally.strokes if rally is not None else ()
    st.sidebar.subheader("Exploitation")
    margin_pts = st.sidebar.slider("Margin: from safe (0) to exploitative (percentage points the safe "
                                   "exploitation may give up)", 0, 15, 3, key="margin")
    risk_won = st.sidebar.checkbox("Risk only what has been won", key="risk_won",
                                   help="Exploit beyond the equilibrium only as far as the points won above the "
                                        "game's value so far pay for it (Ganzfried & Sandholm's safe exploitation).")
    rallies = [(r.number, [(s.shot, s.hitter) for s in r.strokes], r.finished) for r in state.rallies]
    gifts = match_gifts(adv, rallies)
    if risk_won:
        st.sidebar.caption(f"Won above the value so far: {100 * gifts.total:+.1f} points over {gifts.decisions} "
                           f"decisions → margin allowed {100 * gifts.allowed:.1f} points.")
    history = pd.DataFrame({"shot": [s.shot for s in strokes], "hitter": [s.hitter for s in strokes],
                            "landing_area": [s.landing_area or None for s in strokes],
                            "landing_height": [s.landing_height or None for s in strokes]})
    server = rally.server if rally is not None else state.next_server()
    now = state.scores()[-1]
    return adv.advise(history, {"server": server, "next": state.next_hitter(),
                                "court_side": sport.court_side(now.count)},
                      margin=margin_pts / 100, gifts=gifts.total if risk_won else None)


TITLES = {"equilibrium": "Recommended", "best response": "Best response to the prediction",
          "safe exploitation": "Safe exploitation"}

#: The Advisor's notes the page says in its own words (the averaged situation, advice against everyone).
SHOWN_NOTES = ("the history does not say how high or where",)


def _situation(advice) -> None:
    """The situation in plain words, and what the advice rests on when it is not the pair's own."""
    where = situation(advice.state or "no situation")
    if advice.lead:
        st.subheader(f"{md(advice.opponent)} to hit; then {md(advice.player)}, most likely {md(where)}")
    else:
        st.subheader(f"{md(advice.player)} {md(to_play(where))}")
    if advice.averaged:
        st.info("Averaged: where and how high the last shot was taken were not recorded, so the advice averages "
                "over where such a shot is usually taken: " + md(", ".join(
                    f"{situation(s)} {pct(w)}" for s, w in advice.averaged if w >= 0.005)) + ". Click the zone and "
                "the height before the shot's button for advice on the very situation.")
    if advice.scope != "pairing" and advice.safe is not None:
        st.warning(f"Advice against everyone: only {pct(advice.evidence.get('pairing', 0.0))} of it rests on "
                   f"{md(advice.player)} against {md(advice.opponent)}; the rest on {md(advice.player)} against "
                   "other opponents and on all players.")


def _recommendations(advice) -> None:
    st.success(md(advice.sentence))
    if advice.safe is None:
        return
    for card, rec in zip(st.columns(3), advice.recommendations):
        title = TITLES[rec.name] + (f" (margin {100 * advice.margin:.0f} points)" if rec.name == "safe exploitation"
                                    else "")
        with card.container(border=True):
            if rec is not advice.equilibrium and rec.mix == advice.equilibrium.mix:
                st.markdown(f"**{title}**  \n{md(same_as_recommended(rec.basis, advice.margin))}")
                continue
            st.markdown(f"**{title}**  \n{md(basis_words(rec.basis))}")
            st.markdown("  \n".join(f"{md(a)}: {pct(p)} (played {rec.counts.get(a, 0)} times here)"
                                    for a, p in rec.shots(0.01)))
            st.markdown(f"wins **{pct(rec.estimate)}** against the prediction (at the lower bound "
                        f"{pct(rec.expected)}), never less than **{pct(rec.guarantee)}** at the lower bound "
                        "whatever they do")
    low, high = advice.value_interval or (None, None)
    st.caption(f"{md(situation(advice.state, capital=True))}: worth {pct(advice.value_estimate)} "
               f"({pct(low)}–{pct(high)}) to {md(advice.player)} with both playing as the rally game recommends, "
               f"{advice.decision_points} decision "
               f"points of {md(advice.player)} here (against anyone) · prediction: {md(advice.model)}, "
               f"{advice.prediction_n} strokes of {md(advice.opponent)}, trusted at {advice.confidence:.0%} (the rest: "
               f"{md(advice.opponent)}'s play in the rally game) · {1000 * advice.seconds:.1f} ms. 'Wins' is the "
               f"point estimate against {md(advice.opponent)} as predicted (where they stand and what they play "
               f"next); 'never less than' holds whatever they do.")


def _options_chart(frame: pd.DataFrame, one: str = "rally") -> alt.LayerChart:
    """Each candidate shot's win probability (point) with its interval (line), advised shots in blue."""
    base = alt.Chart(frame).encode(y=alt.Y("shot:N", sort=None, title=None, axis=alt.Axis(labelLimit=250)))
    scale = alt.Scale(domain=[0, 1], nice=False, clamp=True)
    colour = alt.Color("advice:N", title=None, scale=alt.Scale(domain=["advised", "not advised"],
                                                              range=["#1f77b4", "#bbbbbb"]))
    rule = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=f"wins the {one} (90 % interval)", scale=scale, axis=alt.Axis(format="%")),
        x2="high:Q", color=colour)
    point = base.mark_point(filled=True, size=80).encode(
        x=alt.X("win:Q", scale=scale), color=colour,
        tooltip=["shot", alt.Tooltip("win:Q", format=".0%"), alt.Tooltip("low:Q", format=".0%"),
                 alt.Tooltip("high:Q", format=".0%"), "played:Q", "why:N"])
    return (rule + point).properties(height=26 * len(frame) + 40)


def _options(advice, one: str = "rally") -> None:
    """Every candidate shot of the situation: its win probability with the interval, how often the player played
    it there, and why a shot is not advised."""
    options = advice.options
    if options is None or options.empty:
        return
    frame = pd.DataFrame({
        "shot": list(options.index), "win": options["win_probability"].to_numpy(float),
        "low": options["low"].to_numpy(float), "high": options["high"].to_numpy(float),
        "played": options["played"].astype(int).to_numpy(),
        "advice": ["advised" if a else "not advised" for a in options["advised"]],
        "why": [r or "" for r in options["reason"]]}).sort_values("win", ascending=False)
    st.markdown(f"**Every shot {md(advice.player)} can play here**: the chance to win the {one} with it against "
                f"{md(advice.opponent)} as predicted, both then playing as they do")
    tables.draw(_options_chart(frame, one))
    table = pd.DataFrame({
        "shot": frame["shot"], f"wins the {one}": frame["win"].map(pct),
        "90 % interval": [f"{pct(a)}–{pct(b)}" for a, b in zip(frame["low"], frame["high"])],
        "advised": [("yes" if a == "advised" else "no: " + (w or "not advised")) for a, w in
                    zip(frame["advice"], frame["why"])],
        f"played here by {advice.player}": frame["played"]})
    st.dataframe(table, hide_index=True, width="stretch")


def _rally_so_far(state, sport) -> None:
    rally = state.current
    strokes = rally.strokes if rally is not None else ()
    one = rally_words(sport)[0].capitalize()
    st.subheader(f"{one} {rally.number if rally else len(state.rallies) + 1} · {md(state.next_hitter())} to hit "
                 f"(stroke {len(strokes) + 1})")
    if not strokes:
        st.caption(f"No stroke yet: {md(rally.server if rally else state.next_server())} serves.")
        return
    lines = []
    for s in strokes:
        where = ", ".join(x for x in (common.area_name(sport, s.landing_area),
                                      f"taken {s.landing_height}" if s.landing_height else "") if x)
        lines.append(f"{s.number}. **{md(s.hitter)}**: {md(s.shot)}" + (f" → {md(where)}" if where else ""))
    st.markdown("  \n".join(lines))


def _zones(sport) -> list[str]:
    zones = []
    for value in (getattr(getattr(sport, "decisions", None), "zones", None) or {}).values():
        if value not in zones:
            zones.append(value)
    return zones


def _where_controls(sport) -> None:
    zones = _zones(sport)
    if zones:                              # sports whose decision states tell where and how high a shot was taken
        st.segmented_control("The next shot lands in the", zones, key="live_zone",
                             help="One click before the shot's button; kept as the centre of that zone unless an "
                                  "exact area is chosen below")
        st.segmented_control("and is taken", HEIGHTS, key="live_height",
                             help="Above (high) or below (low) the height of the net")
    areas = [""] + list(sport.areas)
    st.selectbox("Exact landing area (optional)", areas, key="live_area",
                 format_func=lambda a: "not recorded" if a == "" else sport.areas[a])


def _buttons(log, state, sport) -> None:
    rally = state.current
    strokes = rally.strokes if rally is not None else ()
    expect = state.position
    shots = [s for s in state.allowed_shots() if s != "unknown"]      # what the order of play lets come next
    per_row = 5
    for start in range(0, len(shots), per_row):
        for k, (col, shot) in enumerate(zip(st.columns(per_row), shots[start:start + per_row]), start):
            col.button(shot, key=f"shot:{shot}", on_click=_record, args=(log, state.match_id, shot, expect),
                       width="stretch", shortcut=SHOT_KEYS[k] if k < len(SHOT_KEYS) else None)
    c = st.columns(4)
    c[0].button("↶ Undo", key="undo", on_click=_undo, args=(log, state.match_id, expect), width="stretch",
                shortcut=POINT_KEYS["undo"])
    c[1].button(f"Point to {md(state.player)}", key="won", on_click=_finish, width="stretch", type="primary",
                args=(log, state.match_id, state.player, expect), disabled=not strokes, shortcut=POINT_KEYS["won"])
    c[2].button(f"Point to {md(state.opponent)}", key="lost", on_click=_finish, width="stretch",
                args=(log, state.match_id, state.opponent, expect), disabled=not strokes,
                shortcut=POINT_KEYS["lost"])
    one = rally_words(sport)[0]
    c[3].button(f"Next {one}", key="next", on_click=_next, args=(log, state.match_id), disabled=rally is not None,
                width="stretch", shortcut=POINT_KEYS["next"])
    st.caption("Keys: " + ", ".join(f"{SHOT_KEYS[k]} {s}" for k, s in enumerate(shots[:len(SHOT_KEYS)]))
               + f"; {POINT_KEYS['won']} / {POINT_KEYS['lost']} point to {md(state.player)} / {md(state.opponent)}; "
               f"{POINT_KEYS['undo']} undo; {POINT_KEYS['next']} next {one}.")


def _prediction(advice, sport) -> None:
    pred = advice.prediction[advice.prediction > 0]
    title = f"{advice.opponent}'s next shot (predicted)" if advice.lead else f"{advice.opponent}'s reply (predicted)"
    if not advice.lead:
        # a reply to the player's shot is never a serve: what the model gives serves there is the server's
        # own next serve (a second serve), which the advice does not read as the opponent's
        serves = pred.index.isin(sorted(sport.serves))
        replies, served = pred[~serves], float(pred[serves].sum())
        pred = replies / replies.sum() if replies.sum() >= 0.005 else replies.iloc[:0]
        if pred.empty:
            st.caption(f"{md(advice.opponent)}'s reply: the data record none after this shot, so there is "
                       "nothing to predict.")
        elif served >= 0.005:
            st.caption(f"Shares among {md(advice.opponent)}'s replies; the model's other {pct(served)} was the "
                       "server's own next serve, which is no reply.")
    pred = pred.sort_values(ascending=False).head(8)
    if not pred.empty:
        frame = pd.DataFrame({"shot": pred.index, "p": pred.to_numpy()})
        tables.draw(tables.probability_bars(frame, "shot", "p", "probability").properties(title=title))
    for note in advice.notes:
        if not note.startswith(SHOWN_NOTES) and "advice against everyone" not in note:
            st.caption(md(note))


def _messages() -> None:
    refused = st.session_state.get("live_refused", 0)
    if refused:
        st.caption(f"Clicks refused in this window because the match had moved on: {refused}")
    for name in ("live_note", "live_message"):
        message = st.session_state.pop(name, None) if name == "live_note" else st.session_state.get(name)
        if message:
            (st.info if name == "live_note" or message.startswith("Undone") else st.error)(md(message))
    st.session_state["live_message"] = None


def _match(log, match_id: str, sport) -> None:
    state = log.state(match_id)
    if state.sport != sport.name:
        key = _data_of_match(state.data)
        if key is None:
            st.error(f"This match is {md(state.sport)}; the data in use are {sport.name}. Choose {md(state.sport)} "
                     "data on the Data page"
                     + (f" (it was recorded on {md(_data_name(state.data))})." if state.data else "."))
            return
    if not _open_with_its_data(state):
        return
    adv = common.current_advisor(state.player, state.opponent)
    st.caption(f"Match in view: {md(match_id)}")
    _messages()
    _scoreboard(state, sport)
    advice = _advice(adv, state, sport)
    _situation(advice)
    _recommendations(advice)
    left, right = st.columns([3, 2])
    with left:
        _rally_so_far(state, sport)
    with right:
        _where_controls(sport)
    _buttons(log, state, sport)
    _options(advice, rally_words(sport)[0])
    _prediction(advice, sport)
    st.download_button("Export the match (CSV, canonical layout)", lambda: log.export_csv(match_id),
                       file_name=f"{match_id.replace(' ', '_').replace('#', 'n')}.csv", mime="text/csv", key="export")


def render() -> None:
    st.title("Live rally")
    with common.guard():
        result = common.loaded()
        sport = result.sport
        log = common.matchlog()
        player, opponent = common.choose_players(result)
        st.sidebar.caption(f"Match log: {md(log.path.name)}")
        matches = log.matches()
        in_view = _match_in_view(log, matches, player, opponent)
        if in_view is None:
            with st.container(border=True):
                st.subheader("Start a match")
                _start_controls(log, sport, player, opponent, matches, in_view)
            _messages()
            return
        _show(in_view)
        with st.expander("Start another match, or continue a recorded one"):
            _start_controls(log, sport, player, opponent, matches, in_view)
        _match(log, in_view, sport)


render()
