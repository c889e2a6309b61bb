"""Match prep on a habit the recommendation kept again (a change there is supported only while it is not made):
the recommended mix says so, instead of 'the data do not support a change'."""

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = "strategist/app/pages/"
PLAYER, OPPONENT = "Kento MOMOTA", "CHOU Tien Chen"


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", str(tmp_path))
    monkeypatch.setenv("STRATEGIST_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["data"] = "shuttleset"
    at.query_params["player"], at.query_params["opponent"] = PLAYER, OPPONENT
    at.run()
    at.switch_page(PAGES + "prep.py").run()
    return at


def _mix(at) -> str:
    assert not at.exception and not at.error, [e.value for e in list(at.exception) + list(at.error)]
    text = next(m.value for m in at.markdown if m.value.startswith("**Recommended mix**"))
    return re.sub(r"\\(.)", r"\1", text)


def test_a_habit_kept_again_says_why_and_a_plain_habit_keeps_its_words(app):
    from strategist.data.shipped import shuttleset_dir
    from strategist.data.load import load_rallies
    from strategist.rally.game import rally_game

    game = rally_game(load_rallies(shuttleset_dir()).table, PLAYER, OPPONENT)
    again = [game.labels[g] for g, side in game.recommendation.kept_again if side == "player"
             and game.labels[g].startswith("player: ")]
    plain = [s for s in game.states.loc[(game.states["who"] == "player") & (game.states["visits"] > 0)
                                         & (game.states["basis"] == "habit"), "state"] if s not in again]
    assert again and plain                      # the pair has both kinds (bench_kept_habits: 3 kept again)
    app.selectbox(key="prep_state").set_value(again[0]).run()
    said = _mix(app)
    assert "only while it is not made" in said and "the data do not support a change" not in said
    assert re.search(r"\(played 1 time against", said) and not re.search(r"\b1 times\b", said)   # lob, once
    app.selectbox(key="prep_state").set_value(plain[0]).run()
    said = _mix(app)
    assert "the data do not support a change" in said and "only while it is not made" not in said
