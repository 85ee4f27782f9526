"""A real Chromium drives the real app: fill classes from the gallery, adapt, read the predictions, then the
comparison and sine tabs. Screenshots go to artifacts/screenshots/ (git-ignored) for a human to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SLOW = 90_000  # ms: the first model run may still be loading the models on a busy machine

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed "
                                 "(apt-get install chromium) so the browser tests cannot run")]


@pytest.fixture(scope="module")
def browser_page(app_server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(app_server.url, wait_until="domcontentloaded")
        page.page_errors = errors
        try:
            yield page
        finally:
            browser.close()


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def _error_toasts(page) -> list[str]:
    return [t for t in page.locator(".toast-body").all_inner_texts() if "rror" in t]


def test_classifier_gallery_adapt_and_predictions(browser_page):
    page, ex = browser_page, expect()
    ex(page.locator("#device-info")).to_contain_text(re.compile(r"Models run on (cpu|cuda|mps)"), timeout=SLOW)
    for i in (1, 2, 3):
        page.click(f"#class-{i}-pick")
        ex(page.locator(f"#class-{i}-gallery img")).to_have_count(5, timeout=SLOW)
    ex(page.locator("#gallery-source")).to_contain_text("Gallery:")
    page.locator("#class-1-name input, #class-1-name textarea").first.fill("first")

    # remove one example of class 3: select it, then "Remove selected"
    page.locator("#class-3-gallery button.thumbnail-item").nth(1).click()
    ex(page.locator("#class-3-gallery button.thumbnail-item.selected")).to_have_count(1)
    page.click("#class-3-remove")
    ex(page.locator("#class-3-gallery img")).to_have_count(4, timeout=SLOW)

    page.click("#queries-pick")
    ex(page.locator("#queries img")).to_have_count(3, timeout=SLOW)
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("adapted to 3 classes from 14 examples", timeout=SLOW)
    ex(page.locator("#adapt-plot .js-plotly-plot")).to_be_visible()
    ex(page.locator("#predictions-plot .js-plotly-plot")).to_be_visible(timeout=SLOW)
    table = page.locator("#predictions-table")
    ex(table).to_contain_text("first", timeout=SLOW)  # the right answer of the class-1 query, by its new name
    page.screenshot(path=str(SHOTS / "01_classifier.png"), full_page=True)
    assert not _error_toasts(page), _error_toasts(page)
    assert not page.page_errors, page.page_errors


def test_protonet_shows_its_embeddings(browser_page):
    page, ex = browser_page, expect()
    page.locator("#algorithm input").click()
    page.get_by_role("option", name="Prototypical Networks").click()
    ex(page.locator("#steps input[type=number]")).to_be_disabled(timeout=SLOW)  # no inner loop, no steps
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("prototypes for 3 classes", timeout=SLOW)
    ex(page.locator("#embedding-plot .js-plotly-plot")).to_contain_text("principal axis 1")
    page.locator("#embedding-plot").screenshot(path=str(SHOTS / "01b_protonet_embeddings.png"))
    assert not _error_toasts(page), _error_toasts(page)


def test_relation_networks_show_a_heat_map_of_relation_scores(browser_page):
    page, ex = browser_page, expect()
    page.locator("#algorithm input").click()
    page.get_by_role("option", name="Relation Networks").click()
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("class feature maps to compare with for 3 classes", timeout=SLOW)
    plot = page.locator("#adapt-plot .js-plotly-plot")
    ex(plot).to_contain_text("relation score", timeout=SLOW)
    ex(plot.locator("g.hm, .heatmaplayer image, image")).not_to_have_count(0)  # plotly draws the cells
    page.locator("#adapt-plot").screenshot(path=str(SHOTS / "01c_relation_scores.png"))
    assert not _error_toasts(page), _error_toasts(page)
    assert not page.page_errors, page.page_errors


def _settled(page) -> None:
    """Wait until the pad has sent the drawing to the server (Gradio uploads it in the background)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !/processing|queue/.test(document.querySelector('#sketchpad').innerText)",
                           timeout=SLOW)


def _stroke(page, dx0: float = 0) -> None:
    canvas = page.locator("#sketchpad canvas").first
    canvas.scroll_into_view_if_needed()  # mouse events only reach what is on screen
    box = canvas.bounding_box()
    assert box and box["width"] > 50
    x0, y0 = box["x"] + box["width"] * 0.3 + dx0, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    for dx, dy in ((30, 40), (60, 70), (90, 40), (120, 0)):  # a "V", in few events (each is slow when busy)
        page.mouse.move(x0 + dx, y0 + dy)
    page.mouse.up()
    page.wait_for_timeout(1000)  # the pad sends the drawing to the server in the background
    _settled(page)


def test_drawing_on_the_pad_adds_an_example(browser_page):
    page, ex = browser_page, expect()
    brush = page.locator("#sketchpad button[aria-label='Brush']").first
    ex(brush).to_have_class(re.compile("highlight"), timeout=SLOW)  # the app picks the brush for the visitor
    gallery = page.locator("#class-2-gallery img")
    before = gallery.count()
    _stroke(page)
    page.locator("#sketchpad").screenshot(path=str(SHOTS / "02_drawing_pad.png"))
    page.click("#class-2-draw")
    ex(gallery).to_have_count(before + 1, timeout=SLOW)
    ex(brush).to_have_class(re.compile("highlight"), timeout=SLOW)  # the pad cleared itself and restarted
    _stroke(page, 10)
    page.click("#class-2-draw")
    ex(gallery).to_have_count(before + 2, timeout=SLOW)
    assert not _error_toasts(page), _error_toasts(page)


def test_uploading_a_query(browser_page, tmp_path):
    from metademo.data.synthetic import synthetic_gallery

    page, ex = browser_page, expect()
    path = tmp_path / "my_query.png"
    synthetic_gallery(1, 1, seed=11)[0][0].save(path)
    before = page.locator("#queries img").count()
    page.locator("#queries-upload").locator("xpath=..").locator("input[type=file]").first.set_input_files(str(path))
    ex(page.locator("#queries img")).to_have_count(before + 1, timeout=SLOW)
    ex(page.locator("#predictions-table")).to_contain_text(str(before + 1), timeout=SLOW)  # classified at once


def test_compare_tab(browser_page):
    page, ex = browser_page, expect()
    page.get_by_role("tab", name="Compare algorithms").click()
    page.click("#run-compare")
    ex(page.locator("#compare-table")).to_contain_text("Prototypical Networks", timeout=SLOW)
    ex(page.locator("#episode-support img")).to_have_count(10, timeout=SLOW)  # 10-way 1-shot by default
    ex(page.locator("#compare-plot .js-plotly-plot")).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "03_compare.png"), full_page=True)
    assert not _error_toasts(page), _error_toasts(page)


def test_sine_tab(browser_page):
    page, ex = browser_page, expect()
    page.get_by_role("tab", name="Sine-wave regression (classroom)").click()
    page.click("#sine-adapt")
    ex(page.locator("#sine-status")).to_contain_text("Step 10 of 10", timeout=SLOW)
    ex(page.locator("#sine-plot .js-plotly-plot")).to_be_visible()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "04_sine.png"), full_page=True)
    assert not _error_toasts(page), _error_toasts(page)


def test_learn_tab_and_the_classify_form(browser_page, tmp_path):
    from metademo.data.synthetic import synthetic_gallery

    page, ex = browser_page, expect()
    page.get_by_role("tab", name="Learn").click()
    ex(page.get_by_text("Support set and query set")).to_be_visible(timeout=SLOW)
    ex(page.locator("#accuracy")).to_contain_text(re.compile("ccuracy"))
    page.screenshot(path=str(SHOTS / "05_learn.png"), full_page=True)

    paths = []
    for i, row in enumerate(synthetic_gallery(2, 3, seed=21)):
        for j, img in enumerate(row):
            img.save(tmp_path / f"c{i}_{j}.png")
            paths.append(str(tmp_path / f"c{i}_{j}.png"))
    page.get_by_text("Try /classify here").click()
    page.locator("#api-support input[type=file]").set_input_files([paths[0], paths[1], paths[3], paths[4]])
    page.locator("#api-queries input[type=file]").set_input_files([paths[2], paths[5]])
    page.locator("#api-labels-text textarea, #api-labels-text input").first.fill("ring, ring, zag, zag")
    ex(page.locator("#api-support")).to_contain_text("c1_1", timeout=SLOW)  # uploads finished
    ex(page.locator("#api-queries")).to_contain_text("c1_2", timeout=SLOW)
    page.click("#api-go")
    ex(page.locator("#api-result")).to_contain_text("probabilities", timeout=SLOW)
    ex(page.locator("#api-result")).to_contain_text("zag")
    page.locator("#api-result").screenshot(path=str(SHOTS / "06_classify_form.png"))
    assert not _error_toasts(page), _error_toasts(page)
    assert not page.page_errors, page.page_errors
