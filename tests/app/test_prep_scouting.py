"""Scouting on Match prep: the six sections of :mod:`strategist.scout` for the pair in view, each with its n, the
sentences and figures the report holds, and "Not available" with the reason where the data cannot fill one."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PREP = "strategist/app/pages/prep.py"
SHARED = ROOT.parent / "shared" / "data"
SECTIONS = ["Weaknesses and strengths", "Court maps", "Serve and return", "Pressure and momentum",
            "Rally length and tempo", "Trends"]


def _plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", str(text))


def _prep(data: str | None = None, player: str | None = None, opponent: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    for name, value in (("data", data), ("player", player), ("opponent", opponent)):
        if value:
            at.query_params[name] = value
    at.run()
    at.switch_page(PREP).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _report(path, player: str, opponent: str) -> dict:
    """The scouting report computed apart from the page."""
    from strategist.data.load import load_rallies
    from strategist.scout import scout
    from strategist.scout.matchinfo import read_match_info

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scout(load_rallies(path).table, player, opponent, matches=read_match_info(path)).to_dict()


def _section_texts(at, title: str) -> list[str]:
    """What the page shows between the section's subheader and the next heading (markdown, captions, alerts)."""
    out, inside = [], False
    for element in _flatten(at.main):
        kind = getattr(element, "type", "")
        if kind in ("subheader", "header"):
            inside = _plain(element.value) == title
        elif inside and kind in ("markdown", "caption", "info", "warning"):
            out.append(_plain(element.value))
    return out


def _flatten(node):
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [leaf for child in children.values() for leaf in _flatten(child)]


def _shown_sections(at) -> list[str]:
    return [s.value for s in at.subheader if s.value in SECTIONS]


def test_scouting_on_the_demo_says_what_the_report_holds_and_what_it_cannot(env):
    at = _prep()
    player, opponent = at.selectbox(key="player_box").value, at.selectbox(key="opponent_box").value
    from strategist.data.demo import demo_path

    report = _report(demo_path(), player, opponent)
    assert f"Scouting {opponent}" in [_plain(h.value) for h in at.header]
    assert _shown_sections(at) == SECTIONS
    sections = report["sections"]
    weak = " ".join(_section_texts(at, "Weaknesses and strengths"))
    for sentence in report["summary"]["weaknesses"] + report["summary"]["strengths"]:
        assert sentence in weak
    if not report["summary"]["weaknesses"]:
        assert f"None significant among {sections['weaknesses']['tests']} comparisons" in weak
    # court maps: two images whose captions name every map with its n
    images = at.get("image")
    assert len(images) == 2
    captions = " ".join(_plain(c) for image in images for c in image.captions)
    for court_map in sections["court_maps"]["maps"]:
        assert court_map["title"] in captions and re.search(r"\(n = [\d,]+\)", court_map["title"])
    # one year, one tournament: trends cannot be filled, and the page says why
    assert sections["trends"]["status"] == "not available"
    trends = " ".join(_section_texts(at, "Trends"))
    assert trends.startswith("Not available: ") and all(n in trends for n in sections["trends"]["notes"])


@pytest.mark.slow
def test_scouting_momota_against_chou_on_shuttleset(env):
    """Kento MOMOTA v CHOU Tien Chen: the head-to-head figure against a direct count of the pair's rallies and
    its Wilson interval from scipy; every section filled; each pressure situation's rates as the report has them."""
    from scipy import stats

    from strategist.app.scouting import rate
    from strategist.data.load import load_rallies
    from strategist.data.shipped import shuttleset_dir

    player, opponent = "Kento MOMOTA", "CHOU Tien Chen"
    at = _prep("shuttleset", player, opponent)
    assert _shown_sections(at) == SECTIONS
    table = load_rallies(shuttleset_dir()).table
    pair = table[table["hitter"].isin([player, opponent]) & table["opponent"].isin([player, opponent])]
    winners = pair.groupby("rally_id")["winner"].first().dropna()
    k, n = int((winners == opponent).sum()), len(winners)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    expected = f"{k / n:.0%} ({ci.low:.0%}–{ci.high:.0%}, n = {n:,})".replace("%", " %")
    head = next(_plain(c.value) for c in at.caption if c.value.startswith(opponent))
    assert f"head to head with {player}: {pair['match_id'].nunique()} matches, {opponent} won {expected}" in head
    report = _report(shuttleset_dir(), player, opponent)
    weak = " ".join(_section_texts(at, "Weaknesses and strengths"))
    assert report["summary"]["weaknesses"] and all(s in weak for s in report["summary"]["weaknesses"])
    assert len(at.get("image")) == 2
    assert not any(t.startswith("Not available") for s in SECTIONS for t in _section_texts(at, s))
    pressure = next(d.value for d in at.dataframe if "in it" in d.value.columns)
    assert list(pressure["in it"]) == [rate(r["in"]) for r in report["sections"]["pressure"]["rows"]]
    years = next(d.value for d in at.dataframe if "2018" in d.value.columns)
    assert list(years["tendency"]) == [r["tendency"] for r in report["sections"]["trends"]["groupings"]["year"]["rows"]]


@pytest.mark.realdata
@pytest.mark.slow
def test_scouting_on_serve_only_tennis_data_says_not_available_with_the_reason(env):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    at = _prep(str(SHARED / "tennis_slam_pbp"))
    assert _shown_sections(at) == SECTIONS
    for section in ("Weaknesses and strengths", "Court maps", "Rally length and tempo"):
        texts = _section_texts(at, section)
        assert texts and texts[0].startswith("Not available: ")
        assert "serves only" in texts[0] or "no positions" in texts[0]
    assert not any(t.startswith("Not available") for t in _section_texts(at, "Serve and return"))
    assert not at.get("image")


def test_p_values_read_the_same_in_the_app_and_the_report():
    """One formatter: three decimals, and below 0.001 said as such (the app printed 'p = 0.00')."""
    from strategist.report import document
    from strategist.scout.text import p_is, pval

    assert document.p_is is p_is and document.pval is pval
    assert [p_is(x) for x in (0.2084, 0.0004, 0.001)] == ["p = 0.208", "p < 0.001", "p = 0.001"]
    assert pval(None) == "–"
