"""Every page of the app through streamlit's AppTest: the demo loads, a live rally moves the advice, undo,
a reload shows the same match, a bad upload is one line on the page."""

import os
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
        assert any("rally-game value" in _plain(c.value) for c in at.caption)
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
    return [e.value for e in elements] + [m.label for m in at.metric] + [b.label for b in at.button]


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
    at = _app()
    at.switch_page(PAGES + "model.py").run()
    _clean(at)
    assert any("frequency" in m.value for m in at.markdown if m.value.startswith("In use"))
    at.selectbox(key="model_kind").set_value("markov")             # inside the form: sent with its button
    next(b for b in at.button if b.label == "Train").click().run()
    _clean(at)
    in_use = [m.value for m in at.markdown if m.value.startswith("In use")]
    assert in_use and "markov" in in_use[0], in_use


def test_where_the_shot_lands_and_how_high_are_recorded_with_one_click_each(matchlog):
    from strategist.matchlog import MatchLog
    from strategist.sports import get_sport

    at = _start_live(_app())
    zone, height = at.get("button_group")[:2]
    zone.set_value(["back"] if zone.proto.click_mode == 1 else "back")
    height.set_value(["low"] if height.proto.click_mode == 1 else "low")
    at.button(key="shot:long service").click().run()
    _clean(at)
    stroke = MatchLog(matchlog).state(at.query_params["match"]).current.strokes[0]
    badminton = get_sport("badminton")
    assert badminton.decisions.zones[stroke.landing_area] == "back" and stroke.landing_height == "low"
    assert "→ back" in _plain(" ".join(m.value for m in at.markdown)) and "taken low" in _plain(
        " ".join(m.value for m in at.markdown))
    assert [g.value for g in at.get("button_group")[:2]] in ([None, None], [[], []])   # cleared for the next shot
