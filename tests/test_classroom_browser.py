"""The classroom features in a real Chromium against the real app: webcam photos from Chromium's fake
camera (a video made here, showing a drawn character), drawings added without clearing the pad by hand,
the live preview while drawing, the step slider, and a task downloaded, reopened after a reload and
giving the same predictions. Screenshots at 1280x720 and at phone width go to artifacts/screenshots/.
The tests share one page; each builds the classes it needs, except the download test, which saves and
reopens the task the tests before it made."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
SLOW = 90_000  # ms: the first model run may still be loading the models on a busy machine

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed "
                                 "(apt-get install chromium) so the browser tests cannot run")]


def write_y4m(path: Path, width: int = 320, height: int = 240, frames: int = 5) -> Path:
    """A tiny uncompressed video (YUV4MPEG2, 4:2:0) of a character drawn in dark ink on light paper."""
    img = Image.new("L", (width, height), 232)
    draw = ImageDraw.Draw(img)
    draw.line([(115, 55), (160, 185), (205, 55)], fill=30, width=12)
    draw.line([(132, 120), (188, 120)], fill=30, width=12)
    y = np.asarray(img, np.uint8).tobytes()
    uv = np.full((height // 2, width // 2), 128, np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + y + uv + uv)
    return path


@pytest.fixture(scope="module")
def browser(app_server, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    video = write_y4m(tmp_path_factory.mktemp("camera") / "glyph.y4m")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url, width=1280, height=720):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True,
                                  permissions=["camera"])
    page = context.new_page()
    page.page_errors = []
    page.on("pageerror", lambda e: page.page_errors.append(str(e)))
    page.goto(url, wait_until="domcontentloaded")
    expect()(page.locator("#device-info")).to_contain_text(re.compile(r"Models run on"), timeout=SLOW)
    return page


@pytest.fixture(scope="module")
def page(browser, app_server):
    page = open_page(browser, app_server.url)
    yield page
    page.context.close()


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def toasts(page, word="rror") -> list[str]:
    return [t for t in page.locator(".toast-body").all_inner_texts() if word in t]


def brush_ready(page) -> None:
    brush = page.locator("#sketchpad button[aria-label='Brush']").first
    expect()(brush).to_have_class(re.compile("highlight"), timeout=SLOW)  # the page picks the brush itself


def stroke(page, shape=((30, 40), (60, 80), (90, 40), (120, 0)), origin=(0.5, 0.3), pause_ms: int = 0,
           before_release=None) -> None:
    """Draw one stroke with the mouse on the pad's drawing area, from ``origin`` (fractions of the pad; the
    stroke starts 60 px left of it) through the offsets in ``shape``, waiting ``pause_ms`` after each move;
    ``before_release()``, if given, runs while the button is still down."""
    canvas = page.locator("#sketchpad canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * origin[0] - 60, box["y"] + box["height"] * origin[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for dx, dy in shape:
        page.mouse.move(x0 + dx, y0 + dy)
        if pause_ms:
            page.wait_for_timeout(pause_ms)
    if before_release:
        before_release()
    page.mouse.up()


def settled(page) -> None:
    """Wait until the pad has sent the drawing to the server (Gradio uploads it in the background)."""
    page.wait_for_timeout(1000)
    page.wait_for_function("() => !/processing|queue/.test(document.querySelector('#sketchpad').innerText)",
                           timeout=SLOW)


def choose(page, name: str, steps: int | None = None, lr: float | None = None) -> None:
    """Pick an algorithm, wait for its defaults to arrive (they would overwrite what is typed before), then
    set the inner steps and learning rate."""
    from metademo.algorithms import REGISTRY

    cls = REGISTRY[name]
    page.locator("#algorithm input").click()
    page.get_by_role("option", name=cls.title, exact=True).click()
    note = " ".join(cls.summary.replace("*", "").split()[:4])
    expect()(page.locator("#algorithm-note")).to_contain_text(note, timeout=SLOW)
    idle(page, "#lr")
    if steps is not None:
        page.locator("#steps input[type=number]").fill(str(steps))
        page.locator("#steps input[type=number]").press("Enter")
    if lr is not None:
        page.locator("#lr input").fill(str(lr))
        page.locator("#lr input").press("Enter")


def idle(page, selector) -> str:
    """The element's text once no event is working on it any more."""
    page.wait_for_timeout(300)
    busy = r"/processing|queue|\d\.\ds/"  # Gradio's status: "processing | 0.6/0.7s", then the seconds
    page.wait_for_function(f"() => !{busy}.test(document.querySelector('{selector}').innerText)", timeout=SLOW)
    return page.locator(selector).inner_text()


def three_classes(page) -> None:
    """Give every class that has no example yet the gallery's examples of a character, so that a test run
    alone (``-k``) has the three classes that the file's first test builds by webcam, pad and gallery."""
    for n in (1, 2, 3):
        gallery = page.locator(f"#class-{n}-gallery img")
        if gallery.count() == 0:
            page.click(f"#class-{n}-pick")
            expect()(gallery.first).to_be_visible(timeout=SLOW)


def test_webcam_photos_and_drawings_are_added_in_one_click(page):
    ex = expect()
    # the webcam: start it once, then each press of Photo adds the current frame
    page.locator("#webcam").get_by_text("Click to Access Webcam").click()
    ex(page.locator("#webcam video")).to_be_visible(timeout=SLOW)
    page.wait_for_function("() => document.querySelector('#webcam video').videoWidth > 0", timeout=SLOW)
    for n in (1, 2):
        page.click("#class-1-photo")
        ex(page.locator("#class-1-gallery img")).to_have_count(n, timeout=SLOW)
    page.screenshot(path=str(SHOTS / "10_webcam_photo.png"))

    # drawings: draw, press Drawing, and the pad is clean for the next one without touching its bin
    brush_ready(page)
    for n in (1, 2):
        stroke(page)
        settled(page)
        page.click("#class-2-draw")
        ex(page.locator("#class-2-gallery img")).to_have_count(n, timeout=SLOW)
        brush_ready(page)  # the pad was cleared (and restarted with the brush chosen)
    page.click("#class-2-draw")  # nothing drawn since the last add: the pad really is empty
    ex(page.locator(".toast-body").filter(has_text="drawing pad is empty")).to_have_count(1, timeout=SLOW)
    ex(page.locator("#class-2-gallery img")).to_have_count(2)
    page.click("#class-3-pick")
    ex(page.locator("#class-3-gallery img")).to_have_count(5, timeout=SLOW)
    assert not toasts(page), toasts(page)
    assert not page.page_errors, page.page_errors


def test_live_preview_updates_while_drawing(page):
    ex = expect()
    three_classes(page)
    choose(page, "protonet")
    page.locator("#class-1-name input, #class-1-name textarea").first.fill("camera")
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("prototypes for 3 classes", timeout=SLOW)
    live = page.locator("#live-preview")
    brush_ready(page)
    times = []
    for shape in (((30, 40), (60, 80), (90, 40), (120, 0)), ((0, 60), (120, 60)), ((60, 0), (60, 110))):
        before = live.inner_text()
        start = time.monotonic()
        stroke(page, shape)
        ex(live).not_to_have_text(before, timeout=SLOW)  # the bars changed with the stroke, no click needed
        times.append(time.monotonic() - start)
    # A slow stroke updates the bars before it ends: while drawing, the page sends a frame every 120 ms.
    before = live.inner_text()
    stroke(page, [(60 + 10 * d, -4 * d) for d in range(1, 13)], origin=(0.3, 0.6), pause_ms=50,
           before_release=lambda: ex(live).not_to_have_text(before, timeout=SLOW))  # the button is still down
    ex(live).to_contain_text("camera")
    ex(live).to_contain_text("%")
    page.locator("#live-preview").screenshot(path=str(SHOTS / "11_live_preview.png"))
    round_trips = page.evaluate("() => window.metademoPreviewTimes")
    print(f"live preview: stroke to new bars in the browser {[round(t, 2) for t in times]} s; "
          f"frame sent to bars shown (oldest, newest frame) {[(round(a), round(b)) for a, b in round_trips]} ms")
    assert round_trips  # the page's own copy of the pad drove the bars
    assert not toasts(page), toasts(page)


def test_the_step_slider_changes_the_shown_probabilities(page):
    ex = expect()
    three_classes(page)
    choose(page, "fomaml", steps=3, lr=0.5)
    page.click("#queries-pick")  # a new drawing of each gallery class: its answer is known
    ex(page.locator("#queries img").first).to_be_visible(timeout=SLOW)
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("3 steps of learning rate 0.5", timeout=SLOW)
    ex(page.locator("#embedding-plot")).to_contain_text("after 3 inner steps", timeout=SLOW)
    table = page.locator("#predictions-table")
    slider = page.locator("#step-slider input[type=range]")
    texts = {}
    for step in (0, 3, 0, 3):
        slider.fill(str(step))
        when = "before adapting" if step == 0 else "after 3 inner steps"
        ex(page.locator("#embedding-plot")).to_contain_text(when, timeout=SLOW)
        if step == 0:  # a zero head predicts every class equally before the first step: 1/3 each
            ex(table).to_contain_text("33.3%", timeout=SLOW)
        shown = idle(page, "#predictions-table")
        assert texts.setdefault(step, shown) == shown  # the same step shows the same answers again
        page.screenshot(path=str(SHOTS / f"12_step_{step}.png"), full_page=True)
    assert texts[0] != texts[3]  # the inner steps changed what the model thinks
    ex(page.locator("#adapt-plot")).to_contain_text("query accuracy")
    page.screenshot(path=str(SHOTS / "13_step_3.png"), full_page=True)
    assert not toasts(page), toasts(page)


def test_download_a_task_reload_open_it_and_get_the_same_predictions(page, app_server, tmp_path):
    ex = expect()
    before = idle(page, "#predictions-table")
    with page.expect_download(timeout=SLOW) as info:
        page.click("#download-task")  # one click saves the file
    task = tmp_path / "task.zip"
    info.value.save_as(task)
    assert task.stat().st_size > 1000

    page.reload(wait_until="domcontentloaded")
    ex(page.locator("#device-info")).to_contain_text(re.compile(r"Models run on"), timeout=SLOW)
    ex(page.locator("#class-1-gallery img")).to_have_count(0)
    page.locator("#open-task").locator("xpath=..").locator("input[type=file]").first.set_input_files(str(task))
    ex(page.locator("#task-status")).to_contain_text("Opened a task with 3 classes", timeout=SLOW)
    ex(page.locator("#class-1-gallery img")).to_have_count(2, timeout=SLOW)
    ex(page.locator("#class-3-gallery img")).to_have_count(5, timeout=SLOW)
    ex(page.locator("#queries img")).to_have_count(1, timeout=SLOW)
    ex(page.locator("#class-1-name input, #class-1-name textarea").first).to_have_value("camera")
    choose(page, "fomaml", steps=3, lr=0.5)
    page.click("#adapt")
    ex(page.locator("#adapt-status")).to_contain_text("3 steps of learning rate 0.5", timeout=SLOW)
    ex(page.locator("#embedding-plot")).to_contain_text("after 3 inner steps", timeout=SLOW)
    assert " ".join(idle(page, "#predictions-table").split()) == " ".join(before.split())

    with page.expect_download(timeout=SLOW) as info:
        page.click("#download-classifier")
    assert info.value.suggested_filename.endswith("classifier.safetensors")
    assert not toasts(page), toasts(page)
    assert not page.page_errors, page.page_errors


@pytest.mark.parametrize("width,height", [(1280, 720), (390, 844)])
def test_the_page_fits_a_laptop_and_a_phone(browser, app_server, width, height):
    page = open_page(browser, app_server.url, width, height)
    try:
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow} px wider than a {width} px screen"
        for selector in ("#sketchpad", "#webcam", "#live-preview", "#class-1-photo", "#adapt", "#step-slider",
                         "#download-task", "#open-task"):
            box = page.locator(selector).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, selector
        page.screenshot(path=str(SHOTS / f"14_page_{width}x{height}.png"))
        page.screenshot(path=str(SHOTS / f"14_page_{width}_full.png"), full_page=True)
    finally:
        page.context.close()
