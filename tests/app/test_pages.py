"""Every page of the app through streamlit's AppTest: the demo loads, a live rally moves the advice, undo,
a reload shows the same match, a bad upload is one line on the page."""

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = "strategist/app/pages/"
TIMEOUT = 180


@pytest.fixture()
def matchlog(tmp_path, monkeypatch):
    path = tmp_path / "matches.sqlite"
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(path))
    return path


def _app():
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_data_page_loads_the_demo(matchlog):
    at = _app()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Strokes"] == "11,759" and metrics["Sport"] == "badminton"
    assert any("Nothing skipped" in s.value for s in at.success)


def test_match_prep_shows_keys_values_and_tendencies(matchlog):
    at = _app()
    at.switch_page(PAGES + "prep.py").run()
    _clean(at)
    headers = [h.value for h in at.header]
    assert "Keys to the match" in headers and "Payoffs of one decision state" in headers
    text = " ".join(m.value for m in at.markdown)
    assert "decision points" in text and "played" in text
    # the rally game's values when strategist.rally is installed, else labelled as the fallback they are
    from strategist.advice.prep import rally_game_function

    if rally_game_function() is None:
        assert any("Fallback" in w.value for w in at.warning)
    else:
        assert any("rally-game value" in c.value for c in at.caption)
        assert any("serving: wins the rally" in m.label for m in at.metric)


def _start_live(at):
    at.switch_page(PAGES + "live.py").run()
    _clean(at)
    at.button(key="new_match").click().run()
    _clean(at)
    return at


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


def test_rally_result_score_and_reload(matchlog):
    at = _start_live(_app())
    at.button(key="shot:short service").click().run()
    at.button(key="shot:net shot").click().run()
    at.button(key="won").click().run()
    _clean(at)
    metrics = [m.value for m in at.metric]
    assert metrics[:2] == ["1", "0"]
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


def test_practice_and_model_pages(matchlog):
    at = _app()
    at.switch_page(PAGES + "practice.py").run()
    _clean(at)
    from strategist.advice.prep import rally_game_function

    assert (rally_game_function() is None) == any("Fallback" in w.value for w in at.warning)
    for _ in range(60):  # choose the first shot offered until a rally is over
        at.button[0].click().run()
        _clean(at)
        if any(m.label == "Rallies won" for m in at.metric):
            break
    won = {m.label: m.value for m in at.metric}["Rallies won"]
    assert won.endswith("of 1")
    at.switch_page(PAGES + "model.py").run()
    _clean(at)
    assert any(m.label == "Device" for m in at.metric)
    from strategist.opponent.train import DEFAULT_OPTIMIZER

    assert at.selectbox(key="model_optimizer").value.lower() == DEFAULT_OPTIMIZER   # the benchmark's choice


def test_bad_path_is_one_line_on_the_page(matchlog, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    at = _app()
    at.radio(key="data_source").set_value("A file or folder on this machine").run()
    at.text_input(key="data_path").input(str(bad)).run()
    assert not at.exception
    assert len(at.error) == 1 and "unrecognised layout" in at.error[0].value
    # the data in use stay the demo
    assert {m.label: m.value for m in at.metric}["Strokes"] == "11,759"


def test_bad_and_oversized_uploads_are_refused(matchlog):
    from strategist.app import common

    at = _app()
    at.radio(key="data_source").set_value("Upload a file").run()
    uploader = at.file_uploader(key="upload")
    uploader.upload("junk.csv", b"\x00\x01binary junk").run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("junk.csv: ")
    with pytest.raises(common.PageError, match="more than the 50 MB"):
        common.save_upload("big.csv", b"x" * (common.MAX_UPLOAD_BYTES + 1))


def test_a_corrupted_match_log_is_one_line_and_left_alone(tmp_path, monkeypatch):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"garbage, not a database " * 50)
    before = path.read_bytes()
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(path))
    at = _app()
    at.switch_page(PAGES + "live.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "not a SQLite database" in at.error[0].value
    assert path.read_bytes() == before


def test_a_live_tennis_point_with_a_second_serve(matchlog, shared_data):
    """Tennis data: the second serve is the server's, the score is said 15-0, the export loads back as tennis."""
    at = _app()
    at.radio(key="data_source").set_value("A file or folder on this machine").run()
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


def test_the_data_in_use_survive_a_reload_through_the_address(matchlog, tmp_path):
    import shutil

    from strategist.data.demo import demo_path

    copy = tmp_path / "rallies"
    shutil.copytree(demo_path().parent, copy)
    at = _app()
    at.radio(key="data_source").set_value("A file or folder on this machine").run()
    at.text_input(key="data_path").input(str(copy)).run()
    _clean(at)
    assert at.query_params["data"] == str(copy)
    # a reload: a new session with the same address
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["data"] = str(copy)
    again.run()
    _clean(again)
    assert any("In use: rallies" in h.value for h in again.subheader)
    assert again.radio(key="data_source").value == "A file or folder on this machine"
    again.switch_page(PAGES + "prep.py").run()
    _clean(again)
    assert again.query_params["data"] == str(copy)
    # back to the demo: the address forgets the file
    again.switch_page("strategist/app/pages/data.py").run()
    again.radio(key="data_source").set_value("Built-in demo").run()
    assert "data" not in again.query_params
    # an address naming a file that is gone: the demo, and a warning that says so
    gone = AppTest.from_file(APP, default_timeout=TIMEOUT)
    gone.query_params["data"] = str(tmp_path / "deleted.csv")
    gone.run()
    assert not gone.exception
    assert any("no longer there" in w.value for w in gone.warning)
    assert any("built-in demo" in h.value for h in gone.subheader)


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
