"""The live console in a real browser: Debian's headless Chromium driven by Playwright
(its ``executable_path``; Playwright downloads no browser), issue 15.

A paced ``btc_futures`` run is served on a free localhost port in a thread; the page,
opened with the operator's token, must chart prices and show the book's levels, its
clock must advance, Pause must stop it (for a second), Step must advance it by one and
Resume must start it again. A screenshot is saved to the test's tmp folder and, when
``DEFISIM_SCREENSHOT_DIR`` is set, there too (the README's ``docs/img/console.png``).

CI installs Debian's ``chromium`` (``.ci/run``); without ``/usr/bin/chromium`` or the
``playwright`` package the test skips, saying which is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("plotly")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser start and a few seconds of a paced run each
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's chromium is not installed (/usr/bin/chromium): "
                              "apt-get install -y chromium"),
]


@pytest.fixture()
def served():
    from defisim.scenarios import get_scenario
    from defisim.server.console import create_live_app
    from defisim.server.live import LiveRun
    from defisim.server.remote import ServerThread

    cls = get_scenario("btc_futures")
    live = LiveRun(cls(cls.Params(steps=2000)), seed=7, pace_s=0.1)
    server = ServerThread(create_live_app(live), port=0).start()
    live.start()
    try:
        yield live, server.url
    finally:
        live.stop(finish=False)
        server.stop()


def _step(page) -> int:
    return int(page.text_content("#step"))


def test_console_in_headless_chromium(served, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    live, url = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
            page.goto(f"{url}/?token={live.host.operator_token}")
            # the token leaves the address bar; the controls show
            page.wait_for_selector("#pause", state="visible", timeout=15_000)
            assert "token" not in page.url
            # the chart has data and the book shows levels
            page.wait_for_function(
                "() => { const c = document.getElementById('chart');"
                " return c.data && c.data.some(t => t.x.length > 3); }", timeout=20_000)
            page.wait_for_function(
                "() => document.querySelectorAll('#book tbody tr').length > 1", timeout=20_000)
            names = page.evaluate("() => document.getElementById('chart').data.map(t => t.name)")
            assert "reference" in names and "BTCUSDT-FUT mark" in names
            # time advances
            first = _step(page)
            page.wait_for_function(f"() => +document.getElementById('step').textContent > {first}",
                                   timeout=10_000)
            assert page.text_content("#state") == "running"
            # pause: time stops
            page.click("#pause")
            page.wait_for_function("() => document.getElementById('state').textContent"
                                   " === 'paused'", timeout=5_000)
            time.sleep(0.3)  # the frame of a step under way arrives
            stopped = _step(page)
            time.sleep(1.0)  # ten paces
            assert _step(page) == stopped == live.run.step
            # step: exactly one more
            page.click("#step-btn")
            page.wait_for_function(f"() => +document.getElementById('step').textContent"
                                   f" === {stopped + 1}", timeout=5_000)
            time.sleep(0.3)
            assert live.run.step == stopped + 1
            # resume: time moves again
            page.click("#resume")
            page.wait_for_function(f"() => +document.getElementById('step').textContent"
                                   f" > {stopped + 2}", timeout=10_000)
            assert page.text_content("#state") == "running"
            assert outside == []  # nothing fetched from anywhere but the server
            # without the token (a new tab): the same page, read-only
            viewer = browser.new_page()
            viewer.goto(url + "/")
            viewer.wait_for_selector("#readonly", state="visible", timeout=10_000)
            assert viewer.is_hidden("#controls")
            viewer.close()
            shot = tmp_path / "console.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000
            target = os.environ.get("DEFISIM_SCREENSHOT_DIR")
            if target:
                Path(target).mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, Path(target) / "console.png")
        finally:
            browser.close()


def test_recorded_run_console_in_headless_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario
    from defisim.server import create_app
    from defisim.server.console import console_router
    from defisim.server.remote import ServerThread

    cls = get_scenario("btc_futures")
    res = run_scenario(cls(cls.Params(steps=50)), seed=2, out_dir=tmp_path / "run",
                       progress=False)
    assert res.ok, res.error
    app = create_app(tmp_path / "run")
    app.include_router(console_router(data=app.state.data))
    with ServerThread(app, port=0) as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.wait_for_function(
                "() => { const c = document.getElementById('chart');"
                " return c.data && c.data.some(t => t.x.length === 51); }", timeout=20_000)
            assert page.text_content("#state") == "recorded"
            assert page.is_hidden("#controls") and page.is_visible("#slider")
            assert _step(page) == 50
            page.fill("#slider", "20")  # the slider picks a step: its snapshot shows
            page.wait_for_function("() => document.getElementById('step').textContent === '20'",
                                   timeout=5_000)
            assert page.locator("#book tbody tr").count() == 1  # the recorded top of book
        finally:
            browser.close()
