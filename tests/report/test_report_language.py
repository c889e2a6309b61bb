"""The written report (HTML and PDF) walked for the words a coach should never read (``tests/jargon.py``), on
each sport's data: the demo, ShuttleSet, and the two tennis sets when ``../shared/data`` is there."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import strategist
from strategist.data.demo import demo_path
from strategist.report import build_report, write_html, write_pdf
from strategist.scout.matchinfo import read_match_info
from tests.jargon import JARGON, jargon_lines, rally_talk

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BLOCKS = {"p", "h1", "h2", "h3", "h4", "td", "th", "li", "caption", "figcaption", "title", "div", "span", "a"}


class _Visible(HTMLParser):
    """The text a reader sees, one entry per block element (scripts and styles left out)."""

    def __init__(self):
        super().__init__()
        self.parts, self._now, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag in BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1
        elif tag in BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self._hidden:
            self._now.append(data)

    def close(self):
        super().close()
        self._flush()

    def _flush(self):
        text = " ".join("".join(self._now).split())
        if text:
            self.parts.append(text)
        self._now = []


def visible_html(path: Path) -> list[str]:
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.parts


def _data(name: str):
    """(table, match list, match id) of one data set."""
    if name == "demo":
        return strategist.load_rallies(demo_path()).table, read_match_info(demo_path()), None
    if name == "shuttleset":
        from strategist.data.shipped import shuttleset_path

        path = shuttleset_path()
        return strategist.load_rallies(path).table, read_match_info(path), \
            "Kento_MOMOTA_CHOU_Tien_Chen_Denmark_Open_2018_Finals"
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    if name == "mcp":
        path = SHARED / "tennis_mcp" / "sample-points-5matches-2015.csv"
        return strategist.load_rallies(path).table, None, "20151121-M-Tour_Finals-SF-Novak_Djokovic-Rafael_Nadal"
    path = SHARED / "tennis_slam_pbp"
    return strategist.load_rallies(path).table, read_match_info(path), None


@pytest.mark.parametrize("data", [
    pytest.param("demo", id="badminton-demo"),
    pytest.param("shuttleset", id="badminton-shuttleset", marks=pytest.mark.slow),
    pytest.param("mcp", id="tennis-mcp", marks=[pytest.mark.realdata, pytest.mark.slow]),
    pytest.param("slam", id="tennis-slam", marks=[pytest.mark.realdata, pytest.mark.slow])])
def test_the_written_report_speaks_plainly(data, tmp_path):
    table, matches, match_id = _data(data)
    report = build_report(table, match_id, matches=matches)
    html = visible_html(write_html(report, tmp_path / "r.html"))
    assert len(html) > 50 and any("Decision review" in t for t in html)
    assert jargon_lines(html) == []
    if data in ("mcp", "slam"):
        assert rally_talk(html) == []
        assert "Win probability through each point" in html
        costliest = [t for t in html if t.startswith("The 10 costliest decisions")]
        assert all("score before the point in games, then points" in t for t in costliest)
        if data == "mcp":
            assert costliest
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = write_pdf(report, tmp_path / "r.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # a PDF wraps lines where its layout needs: the line-structure check ('assessed' alone) is the HTML's
    words = {k: v for k, v in JARGON.items() if k != "assessed with nothing under it"}
    assert jargon_lines([line.strip() for line in text.splitlines() if line.strip()], words) == []


def test_the_walk_reads_what_a_reader_sees(tmp_path):
    """The HTML reader keeps the text of each block and drops scripts and styles; the walk then names jargon."""
    page = tmp_path / "p.html"
    page.write_text("<html><style>p {color: red}</style><h2>Summary — assessed</h2><p>gain 0.4 nats per "
                    "<b>stroke</b></p><script>var nats = 1;</script><td>area 7</td></html>", encoding="utf-8")
    seen = visible_html(page)
    assert seen == ["Summary — assessed", "gain 0.4 nats per stroke", "area 7"]
    assert [line.split(":")[0] for line in jargon_lines(seen)] == ["assessed with nothing under it", "nats",
                                                                   "raw area code"]
