"""The app in a real browser: ``streamlit run app.py`` on a free localhost port, driven by headless Chromium.

Match prep, then a live rally: shot buttons change the advice, a reload shows the rally still there (it lives
in the match log). Screenshots go to ``tests/artifacts/``. Needs Debian's ``chromium`` (/usr/bin/chromium)
and the ``playwright`` Python package; no browser is ever downloaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("STRATEGIST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs"

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("the playwright Python package is absent (pip install playwright)", allow_module_level=True)


expect.set_options(timeout=120_000)  # the first page builds the games on two shared cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("browser") / "matches.sqlite"
    env = {**os.environ, "STRATEGIST_MATCHLOG": str(log), "PYTHONPATH": str(ROOT) + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    out = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    handle = open(out, "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
                             "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=handle,
                            stderr=subprocess.STDOUT)
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
    yield {"url": url, "log": log, "output": out}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    handle.close()


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(120_000)
        yield page
        context.close()
        browser.close()


def _idle(page):
    """Wait until streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(300)


def _no_traceback(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]


def test_match_prep(server, page):
    page.goto(server["url"] + "/prep")
    expect(page.get_by_text("Keys to the match")).to_be_visible()
    expect(page.get_by_text("Serving and returning")).to_be_visible()
    expect(page.get_by_text("Payoffs of one decision state")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    body = page.inner_text("body")
    assert "decision points" in body and "Equilibrium mix" in body
    page.wait_for_function("() => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 3")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "match-prep.png"), full_page=False)
    page.get_by_text("Payoffs of one decision state").scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "match-prep-heatmap.png"), full_page=False)


def _sentence(page) -> str:
    return page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()


def _click(page, label):
    before = _sentence(page)
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_function("(b) => { const e = document.querySelector(\"[data-testid='stAlertContentSuccess']\");"
                           " return e && e.innerText !== b; }", arg=before, timeout=60_000)
    _idle(page)


def test_live_rally_and_reload(server, page):
    page.goto(server["url"] + "/live")
    page.get_by_role("button", name="New match", exact=False).click()
    expect(page.locator("[data-testid='stAlertContentSuccess']")).to_be_visible()
    _idle(page)
    first = _sentence(page)
    _click(page, "short service")
    _click(page, "net shot")
    _click(page, "lob")
    _no_traceback(page)
    after = _sentence(page)
    assert after != first
    body = page.inner_text("body")
    assert "Dev MALHOTRA: lob" in body and "Bao Thanh LE: net shot" in body
    page.set_viewport_size({"width": 1400, "height": 1250})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "live-rally.png"))
    # the rally lives in the match log: a reload shows it again
    page.reload()
    expect(page.locator("[data-testid='stAlertContentSuccess']")).to_be_visible()
    _idle(page)
    body = page.inner_text("body")
    assert "net shot" in body and "lob" in body and "stroke 4" in body
    assert _sentence(page) == after
    page.screenshot(path=str(ARTIFACTS / "live-rally-reloaded.png"), full_page=False)
    DOCS.mkdir(exist_ok=True)
    if os.environ.get("STRATEGIST_UPDATE_DOCS"):
        shutil.copy(ARTIFACTS / "match-prep.png", DOCS / "app-match-prep.png")
        shutil.copy(ARTIFACTS / "live-rally-reloaded.png", DOCS / "app-live-rally.png")


def test_post_match_report(server, page):
    page.goto(server["url"] + "/report")
    expect(page.get_by_role("button", name="Write the report")).to_be_visible()
    _idle(page)
    page.get_by_role("button", name="Write the report").click()
    expect(page.get_by_text("Costliest decisions")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    body = page.inner_text("body")
    for text in ("Points won", "Given up per decision", "Minimax check", "Download PDF"):
        assert text in body, text
    page.screenshot(path=str(ARTIFACTS / "post-match.png"), full_page=False)
    page.get_by_text("The whole report (as in the HTML file)").click()
    frame = page.frame_locator("iframe").first
    expect(frame.get_by_text("Decision review").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "post-match-report.png"), full_page=False)


def test_bad_upload_in_the_browser(server, page, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    page.goto(server["url"] + "/")
    expect(page.get_by_text("What was skipped, and why")).to_be_visible()
    _idle(page)
    page.get_by_text("Upload a file").click()
    _idle(page)
    page.locator("input[type='file']").set_input_files(str(bad))
    expect(page.locator("[data-testid='stAlertContentError']")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    assert "unrecognised layout" in page.locator("[data-testid='stAlertContentError']").inner_text()
    page.screenshot(path=str(ARTIFACTS / "bad-upload.png"), full_page=False)


def test_the_data_in_use_survive_a_reload(server, page, tmp_path):
    from strategist.data.demo import demo_path

    copy = tmp_path / "my-rallies"
    shutil.copytree(Path(demo_path()).parent, copy)     # strokes with their match list (the players' names)
    page.goto(server["url"] + "/")
    expect(page.get_by_text("What was skipped, and why")).to_be_visible()
    _idle(page)
    page.get_by_text("A file or folder on this machine").click()
    _idle(page)
    box = page.get_by_label("Path of a data file or folder")
    box.fill(str(copy))
    box.press("Enter")
    expect(page.get_by_text("In use: my-rallies")).to_be_visible()
    _idle(page)
    assert "data=" in page.url
    page.reload()                                         # a new session: the address still names the file
    expect(page.get_by_text("In use: my-rallies")).to_be_visible()
    _idle(page)
    _no_traceback(page)
    page.get_by_role("link", name="Match prep").click()  # another page keeps it too
    expect(page.get_by_text("data: my-rallies", exact=False)).to_be_visible()
    _idle(page)
    page.reload()
    expect(page.get_by_text("data: my-rallies", exact=False)).to_be_visible()
    _idle(page)
    _no_traceback(page)
    page.screenshot(path=str(ARTIFACTS / "data-after-reload.png"), full_page=False)
