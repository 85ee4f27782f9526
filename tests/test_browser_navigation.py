"""A real Chromium on the real app's navigation tab: click a goal in the square, and the policies' paths and
their return per step change across the inner steps. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SLOW = 90_000

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]

RETURNS = "(() => { const p = document.querySelector('#nav-returns .js-plotly-plot'); " \
          "return p ? p.data.map(t => t.y) : null; })()"
FIELD_SRC = "document.querySelector('#nav-field img') && document.querySelector('#nav-field img').src"


def test_click_a_goal_and_watch_the_policies_adapt(app_server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(app_server.url, wait_until="domcontentloaded")
            ex = sync_api.expect
            page.get_by_role("tab", name="2-D navigation (reinforcement)").click()
            img = page.locator("#nav-field img")
            ex(img).to_be_visible(timeout=SLOW)
            before = page.evaluate(FIELD_SRC)
            box = img.bounding_box()
            # a click 5/8 of the way right and 3/8 down: the goal (0.25, 0.25) of [-1, 1]^2 (give or take a pixel)
            page.mouse.click(box["x"] + 0.625 * box["width"], box["y"] + 0.375 * box["height"])
            ex(page.locator("#nav-status")).to_contain_text(re.compile(r"Goal \(\+0\.2[456], \+0\.2[456]\)"),
                                                            timeout=SLOW)
            ex(page.locator("#nav-returns .js-plotly-plot")).to_be_visible(timeout=SLOW)
            curves = page.evaluate(RETURNS)
            assert curves is not None and len(curves) == 2
            for ys in curves:  # before adapting, then 3 steps; each step's return differs from the last
                assert len(ys) == 4 and len(set(round(y, 6) for y in ys)) == 4
            page.wait_for_function(f"{FIELD_SRC} !== {before!r}", timeout=SLOW)
            page.screenshot(path=str(SHOTS / "06_navigation.png"), full_page=True)
            assert not [t for t in page.locator(".toast-body").all_inner_texts() if "rror" in t]
            assert not errors, errors
        finally:
            browser.close()
