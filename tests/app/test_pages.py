"""Every page of the app through streamlit's AppTest: the demo loads, a live rally moves the advice, undo,
a reload shows the same match, a bad upload is one line on the page."""

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = "strategist/app/pages/"
TIMEOUT = 180
SHARED = ROOT.parent / "shared" / "data"
PATH_SOURCE = "A file or folder on this server"


@pytest.fixture()
def matchlog(tmp_path, monkeypatch):
    """A fresh match log, and tmp_path (with ../shared/data when present) among the data roots."""
    path = tmp_path / "matches.sqlite"
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(path))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", os.pathsep.join([str(tmp_path), str(SHARED)]))
    monkeypatch.setenv("STRATEGIST_UPLOAD_DIR", str(tmp_path / "uploads"))
    return path


def _app():
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def _plain(text: str) -> str:
    """Markdown source as read: escapes dropped."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_data_page_loads_the_demo(matchlog):
    at = _app()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Strokes"] == "11,759" and metrics["Sport"] == "badminton"
    assert any("Nothing skipped" in s.value for s in at.success)


def _demo_game(player: str, opponent: str):
    """The pair's rally game estimated directly (the Advisor's defaults), for the pages to be checked against."""
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies
    from strategist.rally.game import rally_game

    return rally_game(load_rallies(demo_path()).table, player, opponent)


def _chart_data(chart):
    """The data an Altair chart on the page was sent (the first data set of its spec)."""
    import pyarrow as pa

    return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()


def test_match_prep_reads_the_pairs_rally_game(matchlog):
    """Serving values, the situation's heat-map and its recommended mix are the rally game's own numbers."""
    from strategist.app.text import pct, situation

    player, opponent = "Carmen ORTIZ", "Dev MALHOTRA"      # a pair whose values as played and as recommended differ
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["player"], at.query_params["opponent"] = player, opponent
    at.run()
    at.switch_page(PAGES + "prep.py").run()
    _clean(at)
    headers = [h.value for h in at.header]
    assert {"Keys to the match", "Serving and returning", "One situation, shot by shot"} <= set(headers)
    assert (at.selectbox(key="player_box").value, at.selectbox(key="opponent_box").value) == (player, opponent)
    game = _demo_game(player, opponent)
    metrics = {m.label: m for m in at.metric}
    serving = metrics[f"{player} serving: {player} wins the rally (as recommended)"]
    serve = game.serve_state("player")
    assert pct(game.value(serve)) != pct(game.observed_value(serve))
    assert serving.value == pct(game.value(serve))
    assert serving.proto.delta == f"as played: {pct(game.observed_value(serve))}"
    receiving = metrics[f"{opponent} serving: {player} wins the rally (as recommended)"]
    assert receiving.value == pct(game.value(game.serve_state("opponent")))
    # the situation shown first is the pair's commonest; its heat-map holds the stage's cells
    mine = game.states[(game.states["who"] == "player") & (game.states["visits"] > 0)]
    state = mine.sort_values("visits", ascending=False, kind="stable")["state"].iat[0]
    assert at.selectbox(key="prep_state").value == state
    stage = game.stage(state)
    heat = next(c for c in at.get("vega_lite_chart") if "where" in c.proto.spec and "win" in c.proto.spec)
    cells = _chart_data(heat).set_index(["shot", "where"])
    for i, shot in enumerate(stage.rows):
        for j, where in enumerate(stage.columns):
            assert cells.loc[(shot, where), "win"] == pytest.approx(stage.mean[i, j])
            assert cells.loc[(shot, where), "n"] == stage.counts[i, j]
    assert metrics["As recommended"].value == pct(stage.value)
    mix = next(m.value for m in at.markdown if m.value.startswith("**Recommended mix**"))
    for shot, p in zip(stage.rows, stage.recommended):
        if p >= 0.005:
            assert f"{shot}: {pct(p)}" in _plain(mix)
    assert ("the data do not support a change" in _plain(mix)) == stage.basis.startswith("habit")
    # another situation: the page follows
    other = mine["state"].iat[-1]
    at.selectbox(key="prep_state").set_value(other).run()
    _clean(at)
    assert {m.label: m.value for m in at.metric}["As recommended"] == pct(game.value(other))
    assert any(o.startswith(situation(other, capital=True) + " (") for o in at.selectbox(key="prep_state").options)


@pytest.mark.realdata
def test_match_prep_explains_two_numbers_only_where_they_differ(matchlog, shared_data):
    """'Why two numbers' stands under values as played and as recommended that differ (the demo pair), and
    not under equal ones (Djokovic v Nadal on the Slam files: every recommendation keeps the habit). The
    scouting tables speak of points in tennis and show no column the data cannot fill."""
    for data, player, opponent, shown in ((None, "Carmen ORTIZ", "Dev MALHOTRA", True),
                                          (str(shared_data / "tennis_slam_pbp"), "Novak Djokovic", "Rafael Nadal",
                                           False)):
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        if data:
            at.query_params["data"] = data
        at.query_params["player"], at.query_params["opponent"] = player, opponent
        at.run()
        at.switch_page(PAGES + "prep.py").run()
        _clean(at)
        metrics = [m for m in at.metric if "wins the" in m.label or m.label in ("As recommended", "As played")]
        assert [m.label for m in metrics if "serving:" in m.label] == [
            f"{server} serving: {player} wins the {'point' if data else 'rally'} (as recommended)"
            for server in (player, opponent)]
        differ = any(m.proto.delta and m.value != m.proto.delta.removeprefix("as played: ") for m in metrics)
        why = [c.value for c in at.caption if c.value.startswith("Why two numbers")]
        assert bool(why) == shown == differ, (player, why)
        # the player's own change, the opponent as usual: the rally game's switch values of the openings
        import strategist
        from strategist.advice.prep import rally_values
        from strategist.app.text import pct
        from strategist.data.demo import demo_path
        from strategist.rally.game import rally_game

        game = rally_game(strategist.load_rallies(data or demo_path()).table, player, opponent)
        v = rally_values(None, game)
        alone = [c.value for c in at.caption if " alone as recommended (" in c.value]
        assert alone[:2] == [f"{player} alone as recommended ({opponent} as usual): {pct(v[k + '_switch'])}"
                             for k in ("serve", "return")]
        # and under the one situation shown, that situation's own switch value (one where it is not both sides')
        rows = game.states.set_index("state")
        differ = [s for s in rows.index[(rows["who"] == "player") & (rows["visits"] > 0)]
                  if pct(rows.at[s, "switch_value"]) != pct(rows.at[s, "value"])]
        if differ:
            at.selectbox(key="prep_state").set_value(differ[0]).run()
        state = at.selectbox(key="prep_state").value
        alone = [c.value for c in at.caption if " alone as recommended (" in c.value]
        assert alone[2].endswith(f"; {player} alone as recommended ({opponent} as usual): "
                                 f"{pct(rows.at[state, 'switch_value'])}")
        assert bool(differ) == (data is None)        # on the Slam pair every habit stands: all three agree
        frames = [d.value for d in at.dataframe]
        pressure = next(f for f in frames if "in it" in f.columns)
        returning = next(f for f in frames if "serve faced" in f.columns)
        many = "points" if data else "rallies"
        assert f"other {many}" in pressure.columns
        assert all(("rallies" in x) == (many == "rallies") for x in pressure["situation"] if "in a row" in x)
        assert ("commonest returns" in returning.columns) == (many == "rallies")
        for frame in frames:           # q as the report writes it: 0.290, < 0.001, never a rounded 0
            if "q" in frame.columns:
                assert all(re.fullmatch(r"< 0\.001|[01]\.\d{3}|–", str(q)) for q in frame["q"]), frame["q"]


def test_match_prep_says_a_rare_shot_of_a_kept_habit_keeps_its_own_rate(matchlog):
    """Where the habit stands, a shot the player played too rarely to be advised keeps its share of the
    recommendation: the shots table says so, instead of 'not advised' beside a recommended share."""
    player, opponent = "Farid HAMDAN", "Dev MALHOTRA"
    state = "player: rally after smash (low, front)"
    stage = _demo_game(player, opponent).stage(state)
    kept = {r for i, r in enumerate(stage.rows) if not stage.advisable[i] and stage.candidate[i]
            and stage.recommended[i] >= 0.005}
    assert stage.basis.startswith("habit") and kept
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["player"], at.query_params["opponent"] = player, opponent
    at.run()
    at.switch_page(PAGES + "prep.py").run()
    at.selectbox(key="prep_state").set_value(state).run()
    _clean(at)
    table = next(d.value for d in at.dataframe if "advised" in d.value.columns).set_index("shot")
    for shot in table.index:
        said = table.loc[shot, "advised"]
        if shot in kept:
            assert said.startswith("kept at the habit's own rate, never raised"), (shot, said)
        else:
            assert "kept at" not in said, (shot, said)


def _start_live(at):
    at.switch_page(PAGES + "live.py").run()
    _clean(at)
    at.button(key="new_match").click().run()
    _clean(at)
    return at


@pytest.mark.realdata
def test_live_rally_on_serves_only_data_predicts_no_reply_it_cannot_see(matchlog, shared_data):
    """The Slam files record serves only: after the player's serve the model's mass is on the server's own second
    serve, which is no reply of the opponent; the page says there is nothing to predict instead of drawing
    'reply: serve 100 %', and counts points ('Point 1', 'Next point'). On the demo the reply chart stays, in
    shots the opponent can reply with."""
    from strategist.sports import get_sport

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["data"] = str(shared_data / "tennis_slam_pbp")
    at.query_params["player"], at.query_params["opponent"] = "Novak Djokovic", "Rafael Nadal"
    at.run()
    at = _start_live(at)
    assert any(h.value.startswith("Point 1 · Novak Djokovic to hit") for h in at.subheader)
    assert at.button(key="next").label == "Next point"
    assert not [c for c in at.get("vega_lite_chart") if "reply (predicted)" in c.proto.spec]
    assert any(c.value.startswith("Rafael Nadal's reply: the data record none after this shot") for c in at.caption)
    demo = _start_live(_app())
    reply = next(c for c in demo.get("vega_lite_chart") if "reply (predicted)" in c.proto.spec)
    shots = _chart_data(reply)
    assert len(shots) and not set(shots["shot"]) & set(get_sport("badminton").serves)
    total = float(shots["p"].sum())                  # shares among replies (the top eight of them)
    assert total <= 1 + 1e-9 and (len(shots) == 8 or abs(total - 1) < 1e-9)
    assert any(h.value.startswith("Rally 1 · ") for h in demo.subheader)


def _sentence(at):
    return at.success[0].value


def test_live_rally_changes_the_advice_and_undo_restores_it(matchlog):
    at = _start_live(_app())
    first = _sentence(at)
    assert "Serve" in first or "serve" in first
    at.button(key="shot:short service").click().run()
    _clean(at)
    after_serve = _sentence(at)
    assert after_serve != first
    at.button(key="shot:net shot").click().run()
    at.button(key="shot:lob").click().run()
    _clean(at)
    three = _sentence(at)
    assert three != after_serve
    text = " ".join(m.value for m in at.markdown)
    assert "3. **" in text and "lob" in text
    at.button(key="undo").click().run()
    _clean(at)
    assert any("taken back" in i.value for i in at.info)
    assert "3. **" not in " ".join(m.value for m in at.markdown)
    # the margin moves the safe exploitation's recommendation card
    at.slider(key="margin").set_value(15).run()
    _clean(at)
    assert "margin 15 points" in " ".join(m.value for m in at.markdown)


def _where(at, zone: str, height: str) -> None:
    """Click where the next shot lands and how high it is taken (segmented controls, one click each)."""
    for control, value in zip(at.get("button_group")[:2], (zone, height)):
        control.set_value([value] if control.proto.click_mode == 1 else value)


def _direct_advice(matchlog, at, strokes, margin: float = 0.0):
    """The advice of an Advisor built apart from the page (the page's data and default model) on the match in
    view, given the strokes so far as (shot, hitter, landing area, height), at ``margin``."""
    import pandas as pd

    from strategist.advice.advisor import Advisor
    from strategist.app.common import DEFAULT_MODEL
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies
    from strategist.matchlog import MatchLog
    from strategist.opponent import fit_model

    state = MatchLog(matchlog).state(at.query_params["match"])
    loaded = load_rallies(demo_path())
    adv = Advisor(loaded, state.player, state.opponent, model=fit_model(DEFAULT_MODEL, loaded.table))
    history = pd.DataFrame(strokes, columns=["shot", "hitter", "landing_area", "landing_height"])
    server = state.current.server
    side = loaded.sport.court_side(state.scores()[-1].count)
    return adv.advise(history, {"server": server, "next": state.next_hitter(), "court_side": side}, margin=margin)


def _options_shown(at):
    return next(d.value for d in at.dataframe if "wins the rally" in d.value.columns)


def test_the_advice_card_shows_every_candidate_shot_averaging_and_scope(matchlog):
    """The card's options are the Advisor's (win probability, interval, times played, why not advised); the
    'averaged' note shows exactly when the last shot's height and zone were not clicked; 'advice against everyone'
    exactly when the advice rests little on the pair."""
    from strategist.app.text import pct

    at = _start_live(_app())
    player = at.selectbox(key="player_box").value
    advice = _direct_advice(matchlog, at, [])
    assert any(w.value.startswith("Advice against everyone") for w in at.warning) == (advice.scope != "pairing")
    at.button(key="shot:short service").click().run()          # the serve; the opponent hits next
    _clean(at)
    advice = _direct_advice(matchlog, at, [("short service", player, None, None)])
    assert advice.averaged
    assert any(i.value.startswith("Averaged") for i in at.info)
    shown = _options_shown(at).set_index("shot")
    options = advice.options
    assert set(shown.index) == set(options.index)
    for shot, row in options.iterrows():
        assert shown.loc[shot, "wins the rally"] == pct(row["win_probability"])
        assert shown.loc[shot, "90 % interval"] == f"{pct(row['low'])}–{pct(row['high'])}"
        assert shown.loc[shot, f"played here by {player}"] == row["played"]
        assert shown.loc[shot, "advised"] == ("yes" if row["advised"] else f"no: {row['reason'] or 'not advised'}")
    assert list(shown["wins the rally"]) == [pct(p) for p in options["win_probability"].sort_values(ascending=False)]
    # the opponent's reply with where and how high it was taken: the situation is known, nothing averaged
    _where(at, "front", "low")
    at.button(key="shot:net shot").click().run()
    _clean(at)
    from strategist.matchlog import MatchLog

    reply = MatchLog(matchlog).state(at.query_params["match"]).current.strokes[1]
    advice = _direct_advice(matchlog, at, [("short service", player, None, None),
                                           ("net shot", reply.hitter, reply.landing_area, "low")])
    assert not advice.averaged and not any(i.value.startswith("Averaged") for i in at.info)
    assert _plain(at.success[0].value) == advice.sentence
    assert set(_options_shown(at)["shot"]) == set(advice.options.index)


def test_each_card_says_why_it_plays_what_it_plays(matchlog):
    """The three cards' second lines are the Advisor's bases in words, at the page's margin (3 points): its
    own basis where a card's mix differs from the recommendation, else 'the same as recommended' with the
    reason the basis gives (a kept habit, no exploitation the data support)."""
    from strategist.advice.bases import KEPT_HABIT, KEPT_RECOMMENDATION
    from strategist.app.text import basis_words, same_as_recommended

    at = _start_live(_app())
    player = at.selectbox(key="player_box").value
    seen = set()
    for strokes in ([], [("short service", player, None, None)]):
        if strokes:
            at.button(key="shot:short service").click().run()
            _clean(at)
        advice = _direct_advice(matchlog, at, strokes, margin=at.slider(key="margin").value / 100)
        shown = [_plain(m.value) for m in at.markdown if m.value.startswith("**")]
        for rec in advice.recommendations:
            same = rec is not advice.equilibrium and rec.mix == advice.equilibrium.mix
            words = same_as_recommended(rec.basis, advice.margin) if same else basis_words(rec.basis)
            assert any(m.endswith("\n" + words) or m.endswith("  \n" + words) for m in shown), (rec.basis, shown)
            seen.add(rec.basis)
    # the two steps reach both fallbacks (a kept habit, a kept recommendation) and cards of their own
    assert {KEPT_HABIT, KEPT_RECOMMENDATION, "best response", "safe exploitation"} <= seen
    at.slider(key="margin").set_value(0).run()             # a margin of 0: the safe exploitation gives up nothing
    _clean(at)
    safe = [_plain(m.value) for m in at.markdown if m.value.startswith("**Safe exploitation")]
    assert safe == ["**Safe exploitation (margin 0 points)**  \nthe same as recommended: a margin of 0 points "
                    "allows no exploitation"]


def test_rally_result_score_and_reload(matchlog):
    at = _start_live(_app())
    at.button(key="shot:short service").click().run()
    at.button(key="shot:net shot").click().run()
    at.button(key="won").click().run()
    _clean(at)
    metrics = [m.value for m in at.metric]
    assert metrics[:2] == ["1", "0"]
    assert {m.label: m.value for m in at.metric}["Set · sets won"] == "1 · 0–0"     # the set, not its points
    at.button(key="shot:long service").click().run()
    _clean(at)
    # a reload (a fresh session) shows the same match from the match log
    again = _app()
    again.switch_page(PAGES + "live.py").run()
    _clean(again)
    assert [m.value for m in again.metric][:2] == ["1", "0"]
    assert "1. **" in " ".join(m.value for m in again.markdown) and \
        "long service" in " ".join(m.value for m in again.markdown)
    assert again.checkbox(key="risk_won").value is False
    again.checkbox(key="risk_won").check().run()
    _clean(again)
    assert any("margin allowed" in c.value for c in again.caption)


def _practice_choices(at) -> list[str]:
    return [b.label.split(" · ")[0] for b in at.button if b.key and b.key.startswith("rp:")]


def test_practice_offers_serves_as_serves_and_plays_rallies_in_the_rally_game(matchlog):
    from strategist.sports import get_sport

    at = _app()
    at.switch_page(PAGES + "practice.py").run()
    _clean(at)
    serves = set(get_sport("badminton").serves)
    assert _practice_choices(at) and set(_practice_choices(at)) <= serves     # the player serves first
    assert at.subheader[0].value.startswith("Rally 1")
    for _ in range(60):  # choose the first shot offered until a rally is over
        choices = [b for b in at.button if b.key and b.key.startswith("rp:")]
        choices[0].click().run()
        _clean(at)
        if any(m.label == "Rallies won" for m in at.metric):
            break
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rallies won"].endswith("of 1")
    # beside the practised play, the recommendation against the same opponent: the serve's switch value
    import strategist
    from strategist.app.text import pct
    from strategist.data.demo import demo_path
    from strategist.rally.game import rally_game

    player, opponent = at.selectbox(key="player_box").value, at.selectbox(key="opponent_box").value
    game = rally_game(strategist.load_rallies(demo_path()).table, player, opponent)
    serve = game.states.set_index("state").loc["player: serve"]
    assert metrics["Alone as recommended"] == pct(serve["switch_value"])
    why = next(m.help for m in at.metric if m.label == "Alone as recommended")
    assert f"against the same {opponent}" in why and why.endswith(f"recommendation too: {pct(serve['value'])}")
    assert set(_practice_choices(at)) <= serves                            # the next rally starts with a serve
    at.switch_page(PAGES + "model.py").run()
    _clean(at)
    assert any(m.label == "Device" for m in at.metric)
    from strategist.opponent.train import DEFAULT_OPTIMIZER

    assert at.selectbox(key="model_optimizer").value.lower() == DEFAULT_OPTIMIZER   # the benchmark's choice
    from strategist.opponent import DEFAULT_MODEL

    assert DEFAULT_MODEL.startswith(at.selectbox(key="model_kind").value)     # the best model's kind first


@pytest.mark.realdata
def test_practice_on_tennis_counts_points(matchlog, shared_data):
    """On the Slam files a practice point is a point: 'Point 1', and after it 'Points won'."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["data"] = str(shared_data / "tennis_slam_pbp")
    at.query_params["player"], at.query_params["opponent"] = "Novak Djokovic", "Rafael Nadal"
    at.run()
    at.switch_page(PAGES + "practice.py").run()
    _clean(at)
    assert at.subheader[0].value.replace("\\", "").startswith("Point 1 · Novak Djokovic to serve (deuce, 1st serve)")
    assert "A point pays +1 won" in " ".join(c.value for c in at.caption)
    for _ in range(10):
        [b for b in at.button if b.key and b.key.startswith("rp:")][0].click().run()
        _clean(at)
        if any(m.label == "Points won" for m in at.metric):
            break
    labels = {m.label for m in at.metric}
    assert "Points won" in labels and "Rallies won" not in labels
    # the second point is served from the ad court, as in a match; the first point's choices read as shots
    assert at.subheader[0].value.replace("\\", "").startswith("Point 2 · Novak Djokovic to serve (ad, 1st serve)")
    said = " ".join(m.value for m in list(at.success) + list(at.error)).replace("\\", "")
    assert said.startswith("Point 1 ") and "(deuce, 1st serve)" in said and "serve serve" not in said


def test_practice_shows_each_shots_credit_signed_as_on_its_button(matchlog):
    """A credit per try lies in [-1, 1]: the tables show it signed (+0.80), as the buttons do, not as a percentage."""
    at = _app()
    at.switch_page(PAGES + "practice.py").run()
    for _ in range(120):                    # the first shot offered, until the tables have rows
        [b for b in at.button if b.key and b.key.startswith("rp:")][0].click().run()
        if any("credit per try" in f.value.columns for f in at.dataframe):
            break
    assert not at.exception                  # a lost rally is said in red: st.error is expected here
    credits = [v for f in at.dataframe if "credit per try" in f.value.columns for v in f.value["credit per try"]]
    assert credits and all(re.fullmatch(r"[+-]\d\.\d\d", str(v)) for v in credits)


def test_practice_offers_only_the_candidates_of_a_situation():
    """offered(): the shots all players play there at a meaningful rate; in a serve state the sport's serves only,
    even where the game's serve state holds another shot (a data set that mislabels a serve)."""
    from dataclasses import replace

    import numpy as np

    from strategist.app.practice_shots import offered

    game = _demo_game("Dev MALHOTRA", "Bao Thanh LE")
    rally = next(lab for lab in game.labels if lab.startswith("player: rally"))
    g = game.index(rally)
    rows = game.layout.row_labels[g]
    assert [rows[i] for i in offered(game, rally, rows)] == [r for r, c in zip(rows, game.structure.candidate[g]) if c]
    serve = game.serve_state("player")
    rows = game.layout.row_labels[game.index(serve)]
    assert [rows[i] for i in offered(game, serve, rows)] == list(rows)
    mislabelled = ("net shot",) + rows[1:]                              # a serve state holding a net shot
    assert [mislabelled[i] for i in offered(game, serve, mislabelled)] == list(rows[1:])
    # a shot all players rarely play in the situation is not offered; with no candidate at all, every shot is
    rows = game.layout.row_labels[g]
    for flags, expected in (([False] + [True] * (len(rows) - 1), list(range(1, len(rows)))),
                            ([False] * len(rows), list(range(len(rows))))):
        candidate = list(game.structure.candidate)
        candidate[g] = np.array(flags)
        changed = replace(game, structure=replace(game.structure, candidate=tuple(candidate)))
        assert offered(changed, rally, rows) == expected


def test_bad_path_is_one_line_on_the_page(matchlog, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    at = _app()
    at.radio(key="data_source").set_value(PATH_SOURCE).run()
    at.text_input(key="data_path").input(str(bad)).run()
    assert not at.exception
    assert len(at.error) == 1 and "unrecognised layout" in _plain(at.error[0].value)
    # the data in use stay the demo
    assert {m.label: m.value for m in at.metric}["Strokes"] == "11,759"


def test_bad_and_oversized_uploads_are_refused(matchlog):
    from strategist.app import common

    at = _app()
    from strategist.app import uploads

    at.radio(key="data_source").set_value("Upload files").run()
    at.file_uploader(key="upload").upload("junk.csv", b"\x00\x01binary junk").run()
    assert not at.exception
    assert len(at.error) == 1 and _plain(at.error[0].value).startswith("junk.csv: ")
    assert [p for p in (Path(os.environ["STRATEGIST_UPLOAD_DIR"])).iterdir()] == []   # the rejected upload is gone
    with pytest.raises(uploads.UploadError, match="more than the 50 MB"):
        uploads.save_uploads([("big.csv", b"x" * (common.MAX_UPLOAD_BYTES + 1))])


def test_a_corrupted_match_log_is_one_line_and_left_alone(tmp_path, monkeypatch):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"garbage, not a database " * 50)
    before = path.read_bytes()
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(path))
    at = _app()
    at.switch_page(PAGES + "live.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "not a SQLite database" in _plain(at.error[0].value)
    assert path.read_bytes() == before


def test_a_live_tennis_point_with_a_second_serve(matchlog, shared_data):
    """Tennis data: the second serve is the server's, the score is said 15-0, the export loads back as tennis."""
    at = _app()
    at.radio(key="data_source").set_value(PATH_SOURCE).run()
    at.text_input(key="data_path").input(str(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv")).run()
    _clean(at)
    at = _start_live(at)
    at.button(key="shot:serve").click().run()
    _clean(at)
    offered = {b.key for b in at.button}
    assert {"shot:serve", "shot:forehand"} <= offered          # a second serve or the return
    at.button(key="shot:serve").click().run()                 # the second serve
    at.button(key="shot:backhand").click().run()              # the return
    _clean(at)
    text = " ".join(m.value for m in at.markdown)
    server = text.split("1. **")[1].split("**")[0]
    assert text.split("2. **")[1].split("**")[0] == server and text.split("3. **")[1].split("**")[0] != server
    at.button(key="won").click().run()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert list(metrics.values())[:2] == ["15", "0"] and metrics["Set · games"] == "1 · 0–0"
    assert metrics["Points played"] == "1" and "Rallies played" not in metrics      # the sport's word
    at.switch_page(PAGES + "data.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert "Points" in metrics and "Rallies" not in metrics


def test_the_data_in_use_survive_a_reload_through_the_address(matchlog, tmp_path):
    import shutil

    from strategist.data.demo import demo_path

    copy = tmp_path / "rallies"
    shutil.copytree(demo_path().parent, copy)
    at = _app()
    at.radio(key="data_source").set_value(PATH_SOURCE).run()
    at.text_input(key="data_path").input(str(copy)).run()
    _clean(at)
    assert at.query_params["data"] == str(copy.resolve())
    # a reload: a new session with the same address
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["data"] = str(copy)
    again.run()
    _clean(again)
    assert any("In use: rallies" in h.value for h in again.subheader)
    assert again.radio(key="data_source").value == PATH_SOURCE
    again.switch_page(PAGES + "prep.py").run()
    _clean(again)
    assert again.query_params["data"] == str(copy.resolve())
    # back to the demo: the address forgets the file
    again.switch_page("strategist/app/pages/data.py").run()
    again.radio(key="data_source").set_value("Built-in demo").run()
    assert "data" not in again.query_params
    # an address naming a file that is gone: the demo, and a warning that says so
    gone = AppTest.from_file(APP, default_timeout=TIMEOUT)
    gone.query_params["data"] = str(tmp_path / "deleted.csv")
    gone.run()
    assert not gone.exception
    assert any("cannot be opened" in w.value for w in gone.warning)
    assert any("built-in demo" in _plain(h.value) for h in gone.subheader)


def test_the_chosen_players_survive_a_reload_through_the_address(matchlog):
    at = _app()
    at.switch_page(PAGES + "prep.py").run()
    names = at.selectbox(key="player_box").options
    chosen = names[3]
    at.selectbox(key="player_box").set_value(chosen).run()
    _clean(at)
    opponent = at.selectbox(key="opponent_box").value
    assert at.query_params["player"] == chosen and at.query_params["opponent"] == opponent
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name in ("player", "opponent"):
        again.query_params[name] = at.query_params[name]
    again.run()
    again.switch_page(PAGES + "prep.py").run()
    _clean(again)
    assert again.selectbox(key="player_box").value == chosen
    assert again.selectbox(key="opponent_box").value == opponent
    assert any(chosen in c.value for c in again.caption)


# -- the live page as a match-day tool -------------------------------------------------------------------------------
def _in_view(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Match in view: "))


def test_start_controls_show_when_no_match_runs_and_a_new_match_is_the_one_shown(matchlog):
    at = _app()
    at.switch_page(PAGES + "live.py").run()
    _clean(at)
    assert any(h.value == "Start a match" for h in at.subheader) and not at.expander   # not hidden in a panel
    at.button(key="new_match").click().run()
    first = at.query_params["match"]
    assert first.endswith("#1") and _in_view(at).endswith("\\#1")
    at.button(key="shot:short service").click().run()
    at.button(key="shot:net shot").click().run()
    at.button(key="won").click().run()
    assert [m.value for m in at.metric][:2] == ["1", "0"]
    at.button(key="new_match").click().run()                  # the second match: address, view and score follow
    _clean(at)
    assert at.query_params["match"].endswith("#2") and _in_view(at).endswith("\\#2")
    assert [m.value for m in at.metric][:2] == ["0", "0"] and at.selectbox(key="match_box").value.endswith("#2")
    at.selectbox(key="match_box").set_value(first).run()      # back to the first: its score
    _clean(at)
    assert at.query_params["match"] == first and [m.value for m in at.metric][:2] == ["1", "0"]


def test_every_shot_and_point_button_has_a_keyboard_shortcut(matchlog):
    at = _start_live(_app())
    at.button(key="shot:short service").click().run()
    keys = {b.key: b.proto.shortcut for b in at.button if b.key and (b.key.startswith("shot:") or
                                                                     b.key in ("won", "lost", "undo", "next"))}
    assert len(keys) >= 10 and all(keys.values()), keys
    assert len(set(keys.values())) == len(keys)                 # no two buttons share a key


def test_a_stale_click_is_refused_and_the_page_refreshed(matchlog):
    at = _start_live(_app())
    match = at.query_params["match"]
    other = AppTest.from_file(APP, default_timeout=TIMEOUT)   # a second window on the same match
    other.query_params["match"] = match
    other.run()
    other.switch_page(PAGES + "live.py").run()
    at.button(key="shot:short service").click().run()         # the first window serves
    other.button(key="shot:long service").click().run()       # the second still shows the serve: refused
    _clean(at)
    assert any("moved on in another window" in e.value for e in other.error)
    from strategist.matchlog import MatchLog

    strokes = MatchLog(matchlog).state(match).current.strokes
    assert [s.shot for s in strokes] == ["short service"]
    assert "1. **" in " ".join(m.value for m in other.markdown)   # the refreshed page shows the stored serve


def _record_on(at, source: str) -> str:
    at.radio(key="data_source").set_value(source).run()
    _clean(at)
    at = _start_live(at)
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("shot:"))).click().run()
    return at.query_params["match"]


def test_a_match_opens_with_the_data_it_was_recorded_on(matchlog):
    at = _app()
    match = _record_on(at, "ShuttleSet (94 real matches)")
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)    # a new session on the demo, with the match's address
    again.query_params["match"] = match
    again.run()
    again.switch_page(PAGES + "live.py").run()
    _clean(again)
    assert again.query_params["data"] == "shuttleset"
    assert any("recorded on: ShuttleSet" in _plain(i.value) for i in again.info)
    assert _in_view(again).replace("\\", "") == "Match in view: " + match


@pytest.mark.realdata
def test_the_recorded_matches_list_this_sports_first_and_name_the_others(matchlog, shared_data):
    """On tennis data a badminton match recorded later is listed after the tennis ones, with its sport; the box
    starts on the pair's latest match."""
    from strategist.matchlog import MatchLog

    log = MatchLog(matchlog)
    tennis = log.new_match("tennis", "Novak Djokovic", "Rafael Nadal", data=None)
    other = log.new_match("tennis", "Roger Federer", "Stanislas Wawrinka", data=None)
    badminton = log.new_match("badminton", "Viktor AXELSEN", "Anthony Sinisuka GINTING", data=None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["data"] = str(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv")
    at.query_params["player"], at.query_params["opponent"] = "Novak Djokovic", "Rafael Nadal"
    at.run()
    at.switch_page(PAGES + "live.py").run()
    _clean(at)
    box = at.selectbox(key="match_box")
    assert box.options == [other, tennis, f"{badminton} (badminton)"]
    assert box.value == tennis


def test_a_match_on_data_that_cannot_be_opened_says_which(matchlog):
    from strategist.matchlog import MatchLog

    log = MatchLog(matchlog)
    match = log.new_match("badminton", "Dev MALHOTRA", "Bao Thanh LE", data="/gone/strokes.csv")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["match"] = match
    at.run()
    at.switch_page(PAGES + "live.py").run()
    assert not at.exception and len(at.error) == 1
    assert "recorded on other data (strokes.csv)" in _plain(at.error[0].value)
    assert at.button(key="new_match")                          # and a new match can still be started


# -- data ----------------------------------------------------------------------------------------------------------
def test_strokes_and_match_list_uploaded_together_load_like_the_folder(matchlog, shuttleset_strokes):
    folder = shuttleset_strokes.parent
    at = _app()
    at.radio(key="data_source").set_value("Upload files").run()
    uploader = at.file_uploader(key="upload")
    files = [(name, (folder / name).read_bytes()) for name in ("strokes.csv.gz", "matches_shuttleset.csv",
                                                                "matches_shuttleset22.csv")]
    for name, data in files:
        uploader.upload(name, data)
    uploader.run()
    _clean(at)
    by_path = _app()
    by_path.radio(key="data_source").set_value("ShuttleSet (94 real matches)").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {m.label: m.value for m in by_path.metric}
    names = at.dataframe[-1].value.index
    assert not any(str(n).startswith("player ") for n in names) and "CHOU Tien Chen" in set(names)
    assert any("upload: strokes.csv.gz + matches_shuttleset.csv" in h.value.replace("\\", "") for h in at.subheader)
    skipped = at.dataframe[0].value                            # where the skipped rallies are: the visitor's names
    assert skipped["first example"].str.startswith("strokes.csv.gz, line ").all(), skipped["first example"]
    uploader = at.get("file_uploader")[0]                      # a fresh uploader: the session let go of the files
    assert uploader.key == "upload1" and not uploader.value
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)    # a reload: the address names the upload
    again.query_params["data"] = at.query_params["data"]
    again.run()
    _clean(again)
    assert {m.label: m.value for m in again.metric} == metrics


@pytest.mark.parametrize("address", ["/etc/passwd", "../../../../etc/passwd", "/proc/self/environ", "/dev/zero",
                                     "~/.bashrc", "/no/such/file.csv"])
def test_a_path_in_the_address_outside_the_roots_is_refused_without_a_word_of_it(matchlog, address):
    from strategist.app.paths import REFUSAL

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["data"] = address
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [REFUSAL + " The built-in demo is in use."]
    shown = " ".join(str(e.value) for e in list(at.markdown) + list(at.caption) + list(at.subheader) +
                     list(at.warning) + list(at.error))
    assert "root:" not in shown and "columns" not in shown
    assert {m.label: m.value for m in at.metric}["Strokes"] == "11,759"


MARKDOWN_NAME = "[Eve](http://evil.example/x) ![x](http://127.0.0.1:9/i.png) <img src=x> **Bold**"


@pytest.fixture()
def markdown_named_data(tmp_path):
    """The demo with one player renamed to a string of Markdown and HTML (canonical layout)."""
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    table = load_rallies(demo_path()).table.copy()
    for column in ("hitter", "opponent", "server", "winner"):
        table[column] = table[column].astype("string").replace("Dev MALHOTRA", MARKDOWN_NAME)
    table["match_id"] = table["match_id"].astype("string").str.replace("Dev MALHOTRA", MARKDOWN_NAME, regex=False)
    table["rally_id"] = table["rally_id"].astype("string").str.replace("Dev MALHOTRA", MARKDOWN_NAME, regex=False)
    path = tmp_path / "named.csv"
    table.to_csv(path, index=False)
    return path


def _markdown_texts(at) -> list[str]:
    elements = list(at.markdown) + list(at.caption) + list(at.success) + list(at.info) + list(at.error) + \
        list(at.warning) + list(at.subheader) + list(at.header)
    return [e.value for e in elements] + [m.label for m in at.metric] + [m.proto.help for m in at.metric] + \
        [b.label for b in at.button]


def test_a_markdown_name_is_escaped_everywhere_it_is_rendered(matchlog, markdown_named_data):
    from strategist.app.text import md

    at = _app()
    at.radio(key="data_source").set_value(PATH_SOURCE).run()
    at.text_input(key="data_path").input(str(markdown_named_data)).run()
    _clean(at)
    at.switch_page(PAGES + "prep.py").run()
    at.selectbox(key="player_box").set_value(MARKDOWN_NAME).run()
    _clean(at)
    seen = _markdown_texts(at)
    at = _start_live(at)
    at.button(key="shot:short service").click().run()
    seen += _markdown_texts(at)
    assert any(md(MARKDOWN_NAME) in text for text in seen)
    assert not [text for text in seen if MARKDOWN_NAME in text or "](http" in text or "<img" in text]


# -- what a visitor can upload or type (issue: safe on a club's server) ---------------------------------------------
def _upload(at, *files):
    at.radio(key="data_source").set_value("Upload files").run()
    uploader = at.file_uploader(key="upload")
    for name, data in files:
        uploader.upload(name, data)
    uploader.run()
    return at


def _uploads_left() -> list:
    return list(Path(os.environ["STRATEGIST_UPLOAD_DIR"]).iterdir())


def test_a_zip_of_a_folder_loads_like_the_folder(matchlog):
    import io
    import zipfile

    from strategist.data.demo import demo_dir

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        for name in ("strokes.csv.gz", "matches.csv", "README.md"):
            z.write(demo_dir() / name, f"demo/{name}")
    at = _upload(_app(), ("demo.zip", packed.getvalue()))
    _clean(at)
    demo = _app()
    assert {m.label: m.value for m in at.metric} == {m.label: m.value for m in demo.metric}
    assert list(at.dataframe[-1].value.index) == list(demo.dataframe[-1].value.index)   # the names, not "player A"


def test_a_decompression_bomb_upload_is_refused_in_bounded_memory_and_deleted(matchlog, monkeypatch):
    import gzip
    import io
    import tracemalloc

    monkeypatch.setenv("STRATEGIST_MAX_DECOMPRESSED_MB", "64")
    monkeypatch.setenv("STRATEGIST_MAX_ROWS", str(10 ** 9))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as handle:
        handle.write(b"match_id,set,rally,ball_round,player,type\n")
        row = b"m,1,1,1,A,net shot\n" * (1 << 16)
        for _ in range((600 << 20) // len(row)):                    # 600 MB once decompressed
            handle.write(row)
    bomb = out.getvalue()
    assert len(bomb) < 5 << 20
    at = _app()
    tracemalloc.start()
    _upload(at, ("bomb.csv.gz", bomb))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert not at.exception and len(at.error) == 1
    assert "more than 64 MB once decompressed" in _plain(at.error[0].value)
    assert peak < 500 << 20, f"{peak / 2**20:.0f} MB"
    assert _uploads_left() == []                                    # the rejected upload is deleted at once
    assert {m.label: m.value for m in at.metric}["Strokes"] == "11,759"


def test_numbers_beyond_64_bits_and_a_bom_only_file_are_one_line(matchlog):
    import gzip

    from strategist.data.demo import demo_dir

    lines = gzip.decompress((demo_dir() / "strokes.csv.gz").read_bytes()).decode().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("ball_round")] = str(2 ** 64)
    big = "\n".join([lines[0], ",".join(row)] + lines[2:400]).encode()
    names = (demo_dir() / "matches.csv").read_bytes()
    for files in ([("bom.csv", b"\xef\xbb\xbf")], [("strokes.csv", big), ("matches.csv", names)]):
        at = _upload(_app(), *files)
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.error) <= 1
        assert {m.label: m.value for m in at.metric}["Strokes"] != ""


def test_a_model_folder_holding_a_fifo_or_a_link_to_a_device_is_refused_at_once(matchlog, tmp_path):
    from strategist.app.paths import REFUSAL

    for name, make in (("fifo", lambda p: os.mkfifo(p)), ("zero", lambda p: p.symlink_to("/dev/zero"))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.json").write_text("{}")
        make(folder / "model.safetensors")
        at = _app()
        at.switch_page(PAGES + "model.py").run()
        at.text_input(key="model_folder").input(str(folder)).run()
        at.button(key="model_load").click().run()                  # would block on the FIFO, or read forever
        assert not at.exception
        assert [_plain(e.value) for e in at.error] == [REFUSAL]
    at.text_input(key="model_folder").input("/etc").run()
    at.button(key="model_load").click().run()
    assert [_plain(e.value) for e in at.error] == [REFUSAL]


def test_the_model_page_names_the_model_in_use_after_training(matchlog):
    from strategist.app.common import DEFAULT_MODEL

    at = _app()
    at.switch_page(PAGES + "model.py").run()
    _clean(at)
    assert any(f"{DEFAULT_MODEL} (the default)" in _plain(m.value) for m in at.markdown if m.value.startswith("In use"))
    at.selectbox(key="model_kind").set_value("frequency")          # inside the form: sent with its button
    next(b for b in at.button if b.label == "Train").click().run()
    _clean(at)
    in_use = [m.value for m in at.markdown if m.value.startswith("In use")]
    assert in_use and "frequency" in in_use[0] and "default" not in in_use[0], in_use


def test_where_the_shot_lands_and_how_high_are_recorded_with_one_click_each(matchlog):
    from strategist.matchlog import MatchLog
    from strategist.sports import get_sport

    at = _start_live(_app())
    _where(at, "back", "low")
    at.button(key="shot:long service").click().run()
    _clean(at)
    stroke = MatchLog(matchlog).state(at.query_params["match"]).current.strokes[0]
    badminton = get_sport("badminton")
    assert badminton.decisions.zones[stroke.landing_area] == "back" and stroke.landing_height == "low"
    assert "→ back" in _plain(" ".join(m.value for m in at.markdown)) and "taken low" in _plain(
        " ".join(m.value for m in at.markdown))
    assert [g.value for g in at.get("button_group")[:2]] in ([None, None], [[], []])   # cleared for the next shot
