"""The post-match page writes the report of a chosen match and offers it as HTML, PDF and JSON."""

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_post_match_page_writes_the_report_of_the_chosen_match(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page("strategist/app/pages/report.py").run()
    assert not at.exception and not at.error
    match = at.selectbox(key="report_match")
    assert len(match.options) == 20
    match.select(match.options[1]).run()
    at.button(key="report_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.subheader[0].value == match.options[1].replace("_", " ")
    text = " ".join(m.value for m in at.markdown)
    # a section's heading only where the report has something to say under it
    from strategist.report import build_report
    from strategist.report.build import title

    # headline numbers: the score against a count of the match's rally winners
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    table = load_rallies(demo_path()).table
    strokes = table[table["match_id"] == match.options[1]]
    player = at.selectbox(key="report_player").value
    last = strokes.sort_values(["set", "rally", "stroke"]).groupby("rally_id").tail(1)
    won = last["winner"].dropna()
    points = f"{int((won == player).sum())} – {int((won != player).sum())}"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Points won"] == points
    # set scores: the demo's rallies are all there, so each set's score is its count of rally winners
    sets = ", ".join(f"{int((g['winner'] == player).sum())}–{int((g['winner'] != player).sum())}"
                     for _, g in last.dropna(subset=["winner"]).groupby("set"))
    shown = [c.value.replace("\\", "") for c in at.caption if c.value.replace("\\", "").startswith("Sets (")]
    assert shown and shown[0].startswith(f"Sets ({player} – ")
    assert f": {sets}, as the data's running score" in shown[0]
    assert "not in the data" not in shown[0]
    other = next(n for n in at.selectbox(key="report_player").options if n != player)
    assert {"Given up per decision", f"Guessing {other}'s next shot", "Mixes like the equilibrium?"} <= set(metrics)
    assert metrics["Given up per decision"].endswith(" points")
    assert metrics[f"Guessing {other}'s next shot"].endswith("%")
    numbers = build_report(table, match_id=match.options[1], player=player).to_dict()
    for section in ("summary", "decisions", "opponent", "minimax", "win_probability"):
        has_notes = bool([n for n in (numbers.get(section) or {}).get("notes") or [] if str(n).strip()])
        assert (f"**{title(section, numbers['meta']['sport'])}**" in text) == has_notes, section
    costliest = at.dataframe[0].value
    assert len(costliest) >= 1 and {"played", "recommended", "given up"} <= set(costliest.columns)
    frame = at.get("iframe")[0].proto         # the whole report, inline
    assert "Decision review" in frame.srcdoc and "<svg" in frame.srcdoc


def test_set_scores_name_the_rallies_the_data_lack(tmp_path, monkeypatch):
    """A rally removed from the data: the set's score is still the running score's, and the page names it."""
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", str(tmp_path))
    table = load_rallies(demo_path()).table
    match = str(table["match_id"].iat[0])
    one = table[table["match_id"] == match]
    last = one.sort_values(["set", "rally", "stroke"]).groupby("rally_id").tail(1)
    rallies_in_set_1 = int((last["set"] == 1).sum())
    cut = table[~((table["match_id"] == match) & (table["set"] == 1) & (table["rally"] == 5))]
    path = tmp_path / "cut.csv"
    cut.to_csv(path, index=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["data"] = str(path)
    at.run()
    at.switch_page("strategist/app/pages/report.py").run()
    at.selectbox(key="report_match").select(match).run()
    at.button(key="report_go").click().run()
    assert not at.exception and not at.error, [e.value for e in list(at.exception) + list(at.error)]
    shown = next(c.value.replace("\\", "") for c in at.caption if c.value.replace("\\", "").startswith("Sets ("))
    assert "1 of the rallies it counts are not in the data (set 1: rallies 5)" in shown
    first = shown.split(": ", 1)[1].split(",")[0]
    assert sum(map(int, first.split("–"))) == rallies_in_set_1        # the removed rally counted in the score
    points = {m.label: m.value for m in at.metric}["Points won"]
    assert sum(map(int, points.split(" – "))) == int(last["winner"].notna().sum())   # the match's, not the kept


def test_report_page_reads_the_match_lists_beside_the_data(tmp_path, monkeypatch):
    """The report's scouting trends on ShuttleSet know each match's tournament and year from the match lists
    shipped beside the strokes, as Match prep's scouting does (without them a match's year is guessed from
    its id and tournaments are unknown)."""
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["data"] = "shuttleset"
    at.run()
    at.switch_page("strategist/app/pages/report.py").run()
    match = at.selectbox(key="report_match")
    final = next(m for m in match.options if m == "Kento_MOMOTA_CHOU_Tien_Chen_Fuzhou_Open_2019_Finals")
    match.select(final).run()
    at.selectbox(key="report_player").select("Kento MOMOTA").run()
    at.button(key="report_go").click().run()
    assert not at.exception and not at.error, [e.value for e in list(at.exception) + list(at.error)]
    html = at.get("iframe")[0].proto.srcdoc
    assert "Trends" in html
    assert "not in a match list beside the data" not in html
    assert "come from 0 tournaments" not in html


@pytest.mark.realdata
def test_a_tennis_report_speaks_of_points(tmp_path, monkeypatch):
    """On tennis data the page's headline and its explanations count points, not rallies."""
    shared = ROOT.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("../shared/data is absent")
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", str(shared))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["data"] = str(shared / "tennis_mcp" / "sample-points-5matches-2015.csv")
    at.run()
    at.switch_page("strategist/app/pages/report.py").run()
    match = at.selectbox(key="report_match")
    match.select("20151121-M-Tour_Finals-SF-Novak_Djokovic-Rafael_Nadal").run()
    at.button(key="report_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    helps = [m.proto.help for m in at.metric if m.label in ("Points won", "Given up per decision")]
    captions = [c.value for c in at.caption if "Given up:" in c.value]
    assert len(helps) == 2 and captions
    said = " ".join(helps + captions)
    assert "the chance to win the point" in said and "points kept in the data" in said
    assert "rallies" not in said and "of a rally" not in said
    # the headline counts the points won and says the sets in games, as the match ended (ATP: 6-3, 6-3)
    player = at.selectbox(key="report_player").value
    metrics = {m.label: m.value for m in at.metric}
    from strategist.data.load import load_rallies

    table = load_rallies(shared / "tennis_mcp" / "sample-points-5matches-2015.csv").table
    last = table[table["match_id"] == match.value].groupby("rally_id").tail(1)
    won = last["winner"].dropna()
    assert metrics["Points won"] == f"{int((won == player).sum())} – {int((won != player).sum())}"
    sets = [c.value.replace("\\", "") for c in at.caption if c.value.replace("\\", "").startswith("Sets in games")]
    games = "6–3, 6–3" if player == "Novak Djokovic" else "3–6, 3–6"
    assert sets and f": {games}, as the data's running score" in sets[0]


def test_the_players_who_play_another_match_are_offered_first():
    """Whose decisions to review: a player without another match in the data has no Advisor to review them
    against; the others come first (by strokes in the match), the rest are named as such."""
    import pandas as pd

    from strategist.app.pages.report import _reviewable

    table = pd.DataFrame({"match_id": ["m1"] * 5 + ["m2"] * 2,
                          "hitter": ["Ann", "Ann", "Ann", "Bea", "Bea", "Bea", "Cid"]})
    assert _reviewable(table, "m1") == (["Bea", "Ann"], {"Ann"})
    assert _reviewable(table, "m2") == (["Bea", "Cid"], {"Cid"})
    table.loc[5, "hitter"] = "Cid"                        # nobody of m1 plays elsewhere: strokes decide
    assert _reviewable(table, "m1") == (["Ann", "Bea"], {"Ann", "Bea"})


@pytest.mark.realdata
def test_a_tennis_match_of_a_one_match_player_reviews_the_other_by_default(tmp_path, monkeypatch, shared_data):
    """The Slam files' first match, Niland v Djokovic: Niland plays no other match, so Djokovic's decisions are
    the ones reviewed unless Niland is chosen, whose option says there is no review."""
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", str(shared_data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["data"] = str(shared_data / "tennis_slam_pbp")
    at.run()
    at.switch_page("strategist/app/pages/report.py").run()
    assert at.selectbox(key="report_match").value == "2011-usopen-1101"
    box = at.selectbox(key="report_player")
    assert box.value == "Novak Djokovic"
    assert box.options == ["Novak Djokovic", "Conor Niland (no other match in the data: no decision review)"]
    at.button(key="report_go").click().run()
    assert not at.exception and "Given up per decision" in {m.label for m in at.metric}
