"""The app in a real browser: ``streamlit run app.py`` on a free loopback port, driven by Debian's Chromium.

A match day on ShuttleSet (uploaded as strokes + match lists) and on the Slam point-by-point data: Match prep,
a live match recorded with the keyboard, a second match, a reload, a change of data and back, the report —
with a screenshot of each step (``tests/artifacts/match-day/``; ``STRATEGIST_UPDATE_DOCS=1`` keeps them under
``docs/match-day/``). Match prep with scouting, and Practice and the Model page, for one real pair. Then what
a visitor must not be able to do: read a file through ``?data=``, lose or duplicate strokes from two tabs,
render Markdown through a player's name.
Needs ``/usr/bin/chromium`` and the ``playwright`` Python package; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("STRATEGIST_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "tests" / "artifacts" / "match-day"
DOCS = ROOT / "docs" / "match-day"       # refreshed from SHOTS with STRATEGIST_UPDATE_DOCS=1
SHARED = ROOT.parent / "shared" / "data"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("the playwright Python package is absent (pip install playwright)", allow_module_level=True)

expect.set_options(timeout=180_000)  # the first page of a data set builds its games on two shared cores
ALERT = "[data-testid='stAlertContainer']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    roots = base / "roots"
    roots.mkdir()
    port = _free_port()
    env = {**os.environ, "STRATEGIST_MATCHLOG": str(base / "matches.sqlite"),
           "STRATEGIST_DATA_ROOTS": os.pathsep.join([str(roots), str(SHARED)]),
           "STRATEGIST_UPLOAD_DIR": str(base / "uploads"),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = base / "streamlit.log"
    handle = open(out, "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
                             "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start: {out.read_text()[-2000:]}")
        time.sleep(0.5)
    yield {"url": url, "log": base / "matches.sqlite", "roots": roots, "base": base}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    handle.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(180_000)
        yield context
        context.close()


@pytest.fixture()
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


#: True once streamlit has finished running the page's script (no 'Running...' status widget).
RUN_OVER = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
#: The text of the page's main area (a JavaScript expression).
MAIN_TEXT = "document.querySelector('[data-testid=\"stMain\"]').innerText"


def _idle(page):
    """Wait until streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_timeout(400)
    page.wait_for_function(RUN_OVER, timeout=180_000)
    page.wait_for_timeout(400)


def _no_traceback(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]


def _shot(page, name: str, docs: Path = DOCS) -> None:
    """A screenshot of the step once its charts are drawn (kept under ``docs`` with STRATEGIST_UPDATE_DOCS=1)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
                           ".every(c => c.querySelector('canvas, svg'))", timeout=60_000)
    page.mouse.move(700, 5)                  # no hover marks (a heading's link icon, the sidebar's button)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")   # nor a focus ring
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    if os.environ.get("STRATEGIST_UPDATE_DOCS"):
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / f"{name}.png", docs / f"{name}.png")


def _nav(page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    _idle(page)


def _key(page, key: str) -> None:
    page.locator("h1").first.click()                     # focus on the page, not on a text box
    page.keyboard.press(key)
    _idle(page)


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def _match_in_view(page) -> str:
    return page.get_by_text("Match in view:").first.inner_text()


def _match_day(page, server, sport: str, load, shots_per_rally=2):
    """The steps common to both sports; ``load`` puts the data in use on the Data page."""
    page.goto(server["url"] + "/")
    expect(page.get_by_text("What was skipped, and why")).to_be_visible()
    _idle(page)
    load(page)
    _no_traceback(page)
    _shot(page, f"{sport}-1-data")
    data_address = page.url.split("data=")[1].split("&")[0]
    _nav(page, "Match prep")
    expect(page.locator("[data-testid='stMetric']").or_(page.get_by_text("No decision state")).first).to_be_visible()
    _idle(page)
    _no_traceback(page)
    _shot(page, f"{sport}-2-match-prep")
    _nav(page, "Live rally")
    expect(page.get_by_text("Start a match")).to_be_visible()
    _shot(page, f"{sport}-3-live-start")
    page.get_by_role("button", name="New match", exact=False).click()
    expect(page.get_by_text("Match in view:")).to_be_visible()
    _idle(page)
    first = _match_in_view(page)
    for _ in range(2):                                    # two rallies, with the keyboard only
        for _ in range(shots_per_rally):
            _key(page, "1")
        _key(page, "K")
    _no_traceback(page)
    played = "Points played" if sport == "tennis" else "Rallies played"        # the sport's word
    assert _metric(page, played) == "2"
    _shot(page, f"{sport}-4-two-rallies")
    page.get_by_text("Start another match, or continue a recorded one").click()
    page.get_by_role("button", name="New match", exact=False).click()
    _idle(page)
    second = _match_in_view(page)
    assert second != first and second.endswith("#2") and "match=" in page.url and "%232" in page.url
    assert _metric(page, played) == "0"
    _shot(page, f"{sport}-5-second-match")
    _key(page, "1")
    page.reload()
    expect(page.get_by_text("Match in view:")).to_be_visible()
    _idle(page)
    assert _match_in_view(page) == second and "(stroke 2)" in page.inner_text("body")
    _shot(page, f"{sport}-6-reloaded")
    if sport == "badminton":        # the README's picture: the player's decision in a recorded situation
        for group, value in ((0, "front"), (1, "low")):
            page.get_by_test_id("stButtonGroup").nth(group).get_by_text(value, exact=True).click()
            _idle(page)
        _key(page, "1")
        body = page.inner_text("body")
        assert "(stroke 3)" in body and "Averaged:" not in body, body[:2000]
        _shot(page, "app-live-rally", docs=ROOT / "docs")
    _nav(page, "Data")
    page.get_by_test_id("stRadioGroup").get_by_text("Built-in demo").click()
    _idle(page)
    expect(page.get_by_text("In use: built-in demo")).to_be_visible()
    _shot(page, f"{sport}-7-switched-to-demo")
    page.goto(server["url"] + f"/live?data={data_address}")
    expect(page.get_by_text("Match in view:")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    _shot(page, f"{sport}-8-back")
    _nav(page, "Post-match report")
    page.get_by_role("button", name="Write the report").click()
    expect(page.get_by_text("Download PDF")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    _shot(page, f"{sport}-9-report")


def test_a_match_day_on_shuttleset_uploaded_as_strokes_and_match_lists(server, page):
    from strategist.data.shipped import shuttleset_dir

    folder = shuttleset_dir()

    def load(page):
        page.get_by_test_id("stRadioGroup").get_by_text("Upload files").click()
        _idle(page)
        page.locator("input[type='file']").set_input_files(      # ShuttleSet's match list comes in two files
            [str(folder / "strokes.csv.gz"), str(folder / "matches_shuttleset.csv"),
             str(folder / "matches_shuttleset22.csv")])
        expect(page.get_by_text("In use: upload: strokes.csv.gz + matches_shuttleset.csv", exact=False)).to_be_visible()
        _idle(page)
        assert "player B [" not in page.inner_text("body")     # real names, from the match list

    _match_day(page, server, "badminton", load)


@pytest.mark.realdata
def test_a_match_day_on_the_slam_point_by_point_data(server, page):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")

    def load(page):
        page.get_by_test_id("stRadioGroup").get_by_text("A file or folder on this server").click()
        _idle(page)
        box = page.get_by_label("Path of a data file or folder", exact=False)
        box.fill(str(SHARED / "tennis_slam_pbp"))
        box.press("Enter")
        expect(page.get_by_text("In use: tennis_slam_pbp")).to_be_visible()
        _idle(page)

    _match_day(page, server, "tennis", load, shots_per_rally=2)


def test_match_prep_with_scouting_for_momota_against_chou(server, page):
    """Match prep on ShuttleSet for Kento MOMOTA v CHOU Tien Chen: the keys, the serving values, the scouting
    sections with their court maps drawn, the situation's heat-map; screenshots of the top and of the scouting
    (``docs/app-match-prep.png`` and ``docs/scout-match-prep.png`` with STRATEGIST_UPDATE_DOCS=1)."""
    query = urllib.parse.urlencode({"data": "shuttleset", "player": "Kento MOMOTA", "opponent": "CHOU Tien Chen"})
    page.goto(server["url"] + "/prep?" + query)
    expect(page.get_by_text("Scouting CHOU Tien Chen")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()
    for section in ("Keys to the match", "Serving and returning", "Weaknesses and strengths", "Court maps",
                    "Serve and return", "Pressure and momentum", "Rally length and tempo", "Trends",
                    "One situation, shot by shot"):
        expect(page.get_by_text(section, exact=True).first).to_be_attached()
    maps = page.locator("[data-testid='stImage'] img")
    expect(maps.first).to_be_visible()
    assert maps.count() == 2 and all(maps.nth(k).evaluate("i => i.naturalWidth > 500") for k in range(2))
    _shot(page, "app-match-prep", docs=ROOT / "docs")
    page.get_by_text("Scouting CHOU Tien Chen").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    _shot(page, "scout-match-prep", docs=ROOT / "docs")


def test_match_prep_names_a_habit_kept_again(server, page):
    """Momota's return of a short serve (low, front) is a habit the recommendation kept again: chosen in the
    browser, the recommended mix says a change there is supported only while it is not made (screenshot
    ``tests/artifacts/match-day/prep-kept-again.png``)."""
    query = urllib.parse.urlencode({"data": "shuttleset", "player": "Kento MOMOTA", "opponent": "CHOU Tien Chen"})
    page.goto(server["url"] + "/prep?" + query)
    expect(page.get_by_text("One situation, shot by shot")).to_be_attached()
    _idle(page)
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Situation").first
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type("Returning a short service taken low at the front")
    page.keyboard.press("Enter")
    _idle(page)
    _no_traceback(page)
    said = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Recommended mix").first
    expect(said).to_contain_text("only while it is not made")
    said.evaluate("e => e.scrollIntoView({block: 'center'})")
    _shot(page, "prep-kept-again", docs=SHOTS)


def test_paths_in_the_address_get_one_identical_refusal(server, page):
    outside = server["base"] / "outside.csv"
    outside.write_text("secret,columns\n1,2\n")
    fifo = server["roots"] / "pipe.csv"
    os.mkfifo(fifo)
    texts = []
    for address in ("/etc/passwd", str(outside), str(server["roots"]) + "/../outside.csv", str(fifo)):
        page.goto(server["url"] + "/?data=" + urllib.request.quote(address))
        expect(page.locator(ALERT).first).to_be_visible()
        _idle(page)
        texts.append(page.locator(ALERT).first.inner_text())
        body = page.inner_text("body")
        assert "root:" not in body and "secret" not in body
    assert len(set(texts)) == 1 and "cannot be opened" in texts[0], texts
    _shot(page, "refused-address")


def _refused(page) -> int:
    found = page.get_by_text("Clicks refused in this window because the match had moved on:")
    return int(found.first.inner_text().rsplit(":", 1)[1]) if found.count() else 0


def test_two_tabs_clicking_on_one_match_lose_and_duplicate_nothing(server, browser):
    """100 clicks on the first shot button, alternating between two tabs 0.25 s apart: every click is either
    stored or refused as stale in the tab that made it, none twice; the stored rally is one a match can have."""
    from strategist.matchlog import MatchLog
    from strategist.sports import get_sport

    tabs = [browser.new_page(), browser.new_page()]
    first, second = tabs
    first.goto(server["url"] + "/live")
    expect(first.get_by_text("Start a match").or_(first.get_by_text("Match in view:"))).to_be_visible()
    _idle(first)
    if first.get_by_text("Start another match").count():
        first.get_by_text("Start another match, or continue a recorded one").click()
    first.get_by_role("button", name="New match", exact=False).click()
    expect(first.get_by_text("Match in view:")).to_be_visible()
    _idle(first)
    match = _match_in_view(first).split("Match in view: ", 1)[1]
    second.goto(first.url)
    expect(second.get_by_text("Match in view:")).to_be_visible()
    _idle(second)
    assert _match_in_view(second).endswith(match)
    clicks = 100
    first_shot = re.compile(r"^(short service|net shot)")   # badminton's first serve, its first other shot
    last = time.perf_counter()
    before = [None, None]            # each tab's page as it was when the tab last clicked
    for k in range(clicks):
        tab = tabs[k % 2]
        time.sleep(max(0.0, 0.25 - (time.perf_counter() - last)))
        # the tab's own last click handled (its page drawn anew: a stroke more, or one more refusal) before its
        # next: two presses of one button that reach the server before it starts the first one's run are one
        # press to streamlit (its rerun requests merge), in any app; the race between the windows stays
        if before[k % 2] is not None:
            tab.wait_for_function(f"(old) => ({RUN_OVER})() && {MAIN_TEXT} !== old", arg=before[k % 2],
                                  timeout=180_000)
        before[k % 2] = tab.evaluate(f"() => {MAIN_TEXT}")
        tab.get_by_role("button", name=first_shot).first.click()
        last = time.perf_counter()
    for tab in tabs:
        _idle(tab)
    refused = sum(_refused(tab) for tab in tabs)
    strokes = MatchLog(server["log"]).state(match).rallies[-1].strokes
    sport = get_sport("badminton")
    numbers = [s.number for s in strokes]
    hitters = [s.hitter for s in strokes]
    assert numbers == list(range(1, len(strokes) + 1))                       # no gap, no stroke twice
    assert all(a != b for a, b in zip(hitters, hitters[1:]))                 # the hitters alternate
    assert strokes[0].shot in sport.serves and not any(s.shot in sport.serves for s in strokes[1:])
    lost = clicks - len(strokes) - refused
    assert lost == 0, (len(strokes), refused)
    for tab in tabs:
        tab.close()


def test_a_markdown_name_renders_as_text(server, page):
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    name = "[Eve](http://evil.example/x) ![x](http://127.0.0.1:9/i.png) <img src=x> **Bold**"
    table = load_rallies(demo_path()).table.copy()
    for column in ("hitter", "opponent", "server", "winner"):
        table[column] = table[column].astype("string").replace("Dev MALHOTRA", name)
    path = server["roots"] / "named.csv"
    table.to_csv(path, index=False)
    page.goto(server["url"] + "/prep?data=" + urllib.request.quote(str(path)) + "&player=" +
              urllib.request.quote(name))
    expect(page.get_by_text("Keys to the match")).to_be_visible()
    _idle(page)
    page.goto(server["url"] + "/live?data=" + urllib.request.quote(str(path)) + "&player=" + urllib.request.quote(name))
    expect(page.get_by_text("Start a match")).to_be_visible()
    _idle(page)
    page.get_by_role("button", name="New match", exact=False).click()
    expect(page.get_by_text("Match in view:")).to_be_visible()
    _idle(page)
    links = page.locator("a[href*='evil.example']")
    assert links.count() == 0, [links.nth(k).evaluate("e => e.parentElement.parentElement.outerHTML.slice(0, 400)")
                                for k in range(links.count())]
    assert page.locator("img[src*='127.0.0.1:9'], img[src='x']").count() == 0
    assert name in page.inner_text("body").replace("\u2060", "")       # shown as the text it is
    _shot(page, "markdown-name")


def test_practice_and_the_model_page_on_shuttleset(server, page):
    """Practice for Kento MOMOTA against CHOU Tien Chen, three rallies played with clicks: each rally's result,
    the session's figures and what worked; then the Opponent model page. Screenshots ``docs/app-practice.png``
    and ``docs/app-model.png`` with STRATEGIST_UPDATE_DOCS=1."""
    query = urllib.parse.urlencode({"data": "shuttleset", "player": "Kento MOMOTA", "opponent": "CHOU Tien Chen"})
    page.goto(server["url"] + "/practice?" + query)
    expect(page.get_by_text("Rally 1 · Kento MOMOTA to serve")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    assert "Rally 1 · Kento MOMOTA to serve" in page.inner_text("body")
    shots = page.locator("[class*='st-key-rp'] button")
    first_choice = shots.all_inner_texts()
    assert first_choice and all(label.split(" · ")[0] in ("short service", "long service") for label in first_choice)
    asked = set()
    for _ in range(200):                                  # the player's shots until three rallies are over
        if page.get_by_text("Rallies won").count() and "of 3" in _metric(page, "Rallies won"):
            break
        asked.add(page.get_by_text(" · Kento MOMOTA to ").first.inner_text().split(" · ", 1)[1])
        before = page.evaluate(f"() => {MAIN_TEXT}")
        shots.first.click()                               # each choice moves the heading on (shot, rally)
        page.wait_for_function(f"(old) => ({RUN_OVER})() && {MAIN_TEXT} !== old", arg=before, timeout=180_000)
        _idle(page)
    _no_traceback(page)
    # the serve asked as a serve, every other shot by what it answers
    assert "Kento MOMOTA to serve" in asked and len(asked) > 1, asked
    assert all(a == "Kento MOMOTA to serve" or re.fullmatch(r"Kento MOMOTA to play after .+ \(shot \d+\)", a)
               for a in asked), asked
    assert _metric(page, "Rallies won") in ("0 of 3", "1 of 3", "2 of 3", "3 of 3")
    for label in ("Your play wins from the serve", "Alone as recommended", "Choices off the recommended mix"):
        assert re.fullmatch(r"\d{1,3} %", _metric(page, label)), _metric(page, label)
    expect(page.get_by_text(re.compile(r"^Rally 3 (won|lost) after your choices"))).to_be_visible()
    expect(page.get_by_text("Rally 4 · Kento MOMOTA to serve")).to_be_visible()
    _shot(page, "app-practice", docs=ROOT / "docs")
    page.goto(server["url"] + "/model?" + query)
    expect(page.get_by_text("Opponent model", exact=True).first).to_be_visible()
    _idle(page)
    _no_traceback(page)
    _shot(page, "app-model", docs=ROOT / "docs")
