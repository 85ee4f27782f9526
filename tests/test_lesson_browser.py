"""A lesson without friction, in a real Chromium against the real app: the projector layout (1280x720) and
the phone (390x844) measured, the live preview's heading visible and its bars cleared with the pad, error
badges gone after a success, the embedding map's axes fixed across the steps of one adaptation and a tie
counted wrong, downloads in one click, every action from the keyboard, and axe-core on every tab.
Screenshots go to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_classroom_browser import (  # noqa: F401 - the browser fixture (Chromium with a fake camera)
    CHROMIUM,
    SHOTS,
    SLOW,
    browser,
    brush_ready,
    choose,
    expect,
    idle,
    open_page,
    stroke,
    toasts,
)

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # installed by run_tests.sh

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]

MAIN = ("#sketchpad", "#webcam", "#class-1", "#class-3", "#n-classes", "#adapt", "#live-preview", "#adapt-plot",
        "#step-slider", "#queries-block", "#predictions-plot", "#predictions-table", "#embedding-plot",
        "#download-task", "#open-task", "#download-classifier", "#meta-train")


def boxes(page, selectors=MAIN) -> dict:
    """Bounding boxes in page coordinates (scrolling included), rounded."""
    return page.evaluate("""(sels) => Object.fromEntries(sels.map((s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return [s, {x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY),
                    w: Math.round(r.width), h: Math.round(r.height)}];
    }))""", list(selectors))


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def fill_classes(page, queries: bool = True) -> None:
    ex = expect()
    for i in (1, 2, 3):
        page.click(f"#class-{i}-pick")
        ex(page.locator(f"#class-{i}-gallery img")).to_have_count(5, timeout=SLOW)
    if queries:
        page.click("#queries-pick")
        ex(page.locator("#queries img")).to_have_count(3, timeout=SLOW)


def adapt(page, expected: str) -> None:
    page.click("#adapt")
    expect()(page.locator("#adapt-status")).to_contain_text(expected, timeout=SLOW)
    idle(page, "#adapt-plot")


@pytest.fixture(scope="module")
def page(browser, app_server):  # noqa: F811 - the fixture imported above
    page = open_page(browser, app_server.url)
    yield page
    page.context.close()


def test_the_projector_layout_at_1280x720(browser, app_server):  # noqa: F811
    page = open_page(browser, app_server.url, 1280, 720)
    try:
        fill_classes(page, queries=False)
        page.wait_for_timeout(500)
        b = boxes(page)
        print("1280x720:", json.dumps({k: b[k] for k in ("#sketchpad", "#class-1", "#class-3", "#adapt",
                                                         "#live-preview", "#adapt-plot")}))
        screen = 720
        assert b["#sketchpad"]["y"] < screen  # capture starts on the first screen
        assert b["#adapt"]["y"] + b["#adapt"]["h"] <= 1.5 * screen  # Adapt within one and a half screens
        assert b["#class-3"]["y"] + b["#class-3"]["h"] <= 1.7 * screen  # the cards, five examples each, too
        # classes beside Adapt, the preview and the curve; capture above the cards; all in reading order
        cards_right = b["#class-3"]["x"] + b["#class-3"]["w"]
        for results in ("#adapt", "#live-preview", "#adapt-plot"):
            assert b[results]["x"] >= cards_right, results
            assert b[results]["y"] < b["#class-3"]["y"] + b["#class-3"]["h"], results
        assert b["#sketchpad"]["y"] < b["#class-1"]["y"] and b["#webcam"]["x"] > b["#sketchpad"]["x"]
        assert b["#adapt"]["y"] < b["#live-preview"]["y"] < b["#adapt-plot"]["y"]
        assert b["#class-1"]["y"] == b["#class-3"]["y"]  # the cards side by side
        page.screenshot(path=str(SHOTS / "20_projector_1280x720.png"))
        page.screenshot(path=str(SHOTS / "20_projector_1280_full.png"), full_page=True)
    finally:
        page.context.close()


def test_the_phone_layout_is_one_column_with_nothing_covered_or_cut(browser, app_server):  # noqa: F811
    page = open_page(browser, app_server.url, 390, 844)
    ex = expect()
    try:
        fill_classes(page)
        choose(page, "fomaml", steps=3, lr=0.5)
        adapt(page, "3 steps of learning rate 0.5")
        ex(page.locator("#embedding-plot")).to_contain_text("after 3 inner steps", timeout=SLOW)
        page.wait_for_timeout(1000)
        assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
        b = boxes(page)
        print("390x844:", json.dumps(b))
        for s, box in b.items():  # one column: every part starts at the same left edge and fits the screen
            assert abs(box["x"] - b["#sketchpad"]["x"]) <= 2 and box["x"] + box["w"] <= 390, s
        order = [b[s]["y"] for s in ("#sketchpad", "#webcam", "#class-1", "#class-3", "#adapt", "#live-preview",
                                     "#adapt-plot", "#queries-block", "#predictions-plot", "#embedding-plot")]
        assert order == sorted(order)
        for plot in ("#adapt-plot", "#embedding-plot", "#predictions-plot"):
            page.locator(plot).scroll_into_view_if_needed()
            found = page.evaluate("""(plot) => {
                const root = document.querySelector(plot), svg = root.querySelector('.main-svg');
                const r = (e) => {
                    const b = e.getBoundingClientRect();
                    return {x: b.left, y: b.top, w: b.width, h: b.height};
                };
                const label = root.querySelector('[data-testid="block-label"]');
                const bar = root.querySelector('.modebar-container');
                return {svg: r(svg), label: label && r(label), title: [...root.querySelectorAll('.gtitle')].map(r),
                        legend: [...root.querySelectorAll('.legend')].map(r),
                        bar: bar && r(bar), barOpacity: bar && getComputedStyle(bar).opacity,
                        images: [...root.querySelectorAll('.main-svg image')].map(r),
                        texts: [...root.querySelectorAll('.main-svg text')].filter((t) => t.textContent.trim()).map(r)};
            }""", plot)
            for title in found["title"]:  # the title is whole, and no legend covers it
                assert title["x"] >= found["svg"]["x"] - 1, plot
                assert title["x"] + title["w"] <= found["svg"]["x"] + found["svg"]["w"] + 1, plot
                assert not any(overlap(title, legend) for legend in found["legend"]), plot
            if found["bar"] and found["label"]:  # Plotly's toolbar stays out of sight unless the chart is hovered
                assert float(found["barOpacity"]) == 0 or not overlap(found["bar"], found["label"]), plot
            for image in found["images"]:  # a query's picture covers no text (class names, titles)
                assert not any(overlap(image, t) for t in found["texts"]), plot
        table = page.evaluate("""() => {
            const root = document.querySelector('#predictions-table');
            const last = [...root.querySelectorAll('th')].pop();
            const right = last.getBoundingClientRect().right;
            let scrolls = false;  // some box between the last column and the table's block scrolls sideways to it
            for (let e = last.parentElement; e && e !== root.parentElement; e = e.parentElement) {
                const o = getComputedStyle(e).overflowX;
                if (e.scrollWidth > e.clientWidth + 1 && (o === 'auto' || o === 'scroll')) scrolls = true;
            }
            return {right, box: root.getBoundingClientRect().right, scrolls};
        }""")
        # the table's last column is on screen, or the table scrolls sideways to it
        assert table["right"] <= table["box"] + 1 or table["scrolls"], table
        page.screenshot(path=str(SHOTS / "21_phone_390x844.png"))
        page.screenshot(path=str(SHOTS / "21_phone_390_full.png"), full_page=True)
        assert not toasts(page), toasts(page)
    finally:
        page.context.close()


def test_every_action_works_from_the_keyboard(page):
    """Tab to a button and press Enter: the gallery buttons fill the classes, Adapt adapts."""
    ex = expect()
    page.locator("body").click(position={"x": 5, "y": 5})

    def tab_to(element_id: str) -> None:
        for _ in range(400):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
                return
        pytest.fail(f"#{element_id} cannot be reached with the Tab key")

    for i in (1, 2, 3):
        tab_to(f"class-{i}-pick")
        page.keyboard.press("Enter")
        ex(page.locator(f"#class-{i}-gallery img")).to_have_count(5, timeout=SLOW)
    tab_to("queries-pick")
    page.keyboard.press("Enter")
    ex(page.locator("#queries img")).to_have_count(3, timeout=SLOW)
    tab_to("adapt")
    page.keyboard.press("Enter")
    ex(page.locator("#adapt-status")).to_contain_text("adapted to 3 classes", timeout=SLOW)
    # right and wrong in words, not by colour alone
    ex(page.locator("#predictions-table")).to_contain_text("right", timeout=SLOW)
    assert not toasts(page), toasts(page)


def test_the_live_preview_heading_is_visible_and_the_bin_clears_the_bars(page):
    ex = expect()
    choose(page, "protonet")
    adapt(page, "prototypes for 3 classes")
    live = page.locator("#live-preview")
    live.scroll_into_view_if_needed()
    brush_ready(page)
    stroke(page)
    heading = live.locator(".output-class")
    ex(heading).to_be_visible(timeout=SLOW)
    ex(live).to_contain_text("%", timeout=SLOW)
    top, label = heading.bounding_box(), live.locator("[data-testid='block-label']").bounding_box()
    assert top["y"] >= label["y"] + label["height"] - 1, (top, label)  # the big heading is not under the label
    assert top["height"] > 20  # and big
    live.screenshot(path=str(SHOTS / "22_live_preview_heading.png"))
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()  # the pad's own bin
    ex(live.locator(".output-class")).to_have_count(0, timeout=SLOW)
    ex(live).not_to_contain_text("%")
    live.screenshot(path=str(SHOTS / "22_live_preview_cleared.png"))
    assert not toasts(page), toasts(page)


def test_the_map_keeps_its_axes_and_a_tie_is_counted_wrong(page):
    ex = expect()
    choose(page, "fomaml", steps=3, lr=0.5)
    adapt(page, "3 steps of learning rate 0.5")
    slider = page.locator("#step-slider input[type=range]")
    ranges = {}
    for step, when in ((0, "before adapting"), (1, "after 1 inner step"), (2, "after 2 inner steps"),
                       (3, "after 3 inner steps")):
        slider.fill(str(step))
        ex(page.locator("#embedding-plot")).to_contain_text(when, timeout=SLOW)
        idle(page, "#embedding-plot")
        ranges[step] = page.evaluate("""() => {
            const l = document.querySelector('#embedding-plot .js-plotly-plot')._fullLayout;
            return [l.xaxis.range, l.yaxis.range];
        }""")
        if step == 0:  # a zero head: 33/33/33 for every query, shown and counted as a tie, wrong
            table = idle(page, "#predictions-table")
            assert table.count("a tie") == 3 and table.count("✗ wrong") == 3 and "✓ right" not in table, table
            ex(page.locator("#predictions-plot")).to_contain_text("a tie")
            accuracy = page.evaluate("""() => {
                const gd = document.querySelector('#adapt-plot .js-plotly-plot');
                return gd.data.find((t) => t.name === 'query accuracy (%)').y[0];
            }""")
            assert accuracy == 0  # the query accuracy at step 0 counts the ties wrong
            page.locator("#embedding-plot").screenshot(path=str(SHOTS / "23_map_step_0.png"))
    page.locator("#embedding-plot").screenshot(path=str(SHOTS / "23_map_step_3.png"))
    print("map axes per step:", ranges)
    assert all(r == ranges[0] for r in ranges.values()), ranges  # the same axes at every step
    assert not toasts(page), toasts(page)


def test_downloads_take_one_click(page, tmp_path):
    for button, suffix in (("#download-task", ".zip"), ("#download-classifier", ".safetensors")):
        with page.expect_download(timeout=SLOW) as info:
            page.click(button)  # one click: the file is saved, no link to click
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == suffix and path.stat().st_size > 1000, path
    assert not toasts(page), toasts(page)


def test_error_badges_are_gone_after_a_success(page, tmp_path):
    ex = expect()

    def badges(selector: str) -> list[str]:
        return page.evaluate(f"""() => [...document.querySelectorAll('{selector} [data-testid=status-tracker]')]
            .filter((e) => e.offsetParent !== null && /Error/.test(e.innerText)).map((e) => e.innerText)""")

    with page.expect_download(timeout=SLOW) as info:
        page.click("#download-task")
    good = tmp_path / "task.zip"
    info.value.save_as(good)
    bad = tmp_path / "notes.zip"
    bad.write_text("hello")
    upload = page.locator("#open-task").locator("xpath=..").locator("input[type=file]").first
    upload.set_input_files(str(bad))
    ex(page.locator(".toast-body").filter(has_text="zip")).not_to_have_count(0, timeout=SLOW)
    page.wait_for_function("() => /Error/.test(document.querySelector('#task-status').innerText)", timeout=SLOW)
    page.screenshot(path=str(SHOTS / "24_open_task_error.png"))
    upload.set_input_files(str(good))
    ex(page.locator("#task-status")).to_contain_text("Opened a task with 3 classes", timeout=SLOW)
    page.wait_for_timeout(500)
    assert badges("#task-status") == [] and badges("#class-1") == []
    page.screenshot(path=str(SHOTS / "24_open_task_after_success.png"))

    page.locator("#lr input").fill("50")  # far beyond the largest inner learning rate: a plain error
    page.locator("#lr input").press("Enter")
    page.click("#adapt")
    page.wait_for_function("() => /Error/.test(document.querySelector('#adapt-plot').innerText)", timeout=SLOW)
    page.locator("#lr input").fill("0.5")
    page.locator("#lr input").press("Enter")
    adapt(page, "adapted to 3 classes")
    page.wait_for_timeout(500)
    assert badges("#adapt-plot") == [] and badges("#adapt-status") == []


def test_axe_core_finds_no_serious_violation_on_any_tab(page):
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: run_tests.sh installs axe-core from npm")
    page.add_script_tag(path=str(AXE))
    for close in page.locator(".toast-close").all():  # earlier tests' messages, not part of the page
        close.click()
    expect()(page.locator(".toast-body")).to_have_count(0, timeout=SLOW)
    tabs = page.get_by_role("tab").all_inner_texts()
    assert len(tabs) >= 4
    found = serious_violations_by_tab(page, tabs, shots="25_axe")
    page.get_by_role("tab").first.click()
    assert not any(found.values()), found


def serious_violations_by_tab(page, tabs, shots: str | None = None) -> dict[str, list[str]]:
    """axe-core's serious and critical violations (already loaded into ``page``) on each of the ``tabs``, opened
    in turn once their jobs have settled; with ``shots``, a screenshot of each tab as ``<shots>_<n>.png``."""
    found = {}
    for name in tabs:
        page.get_by_role("tab", name=name).click()
        page.wait_for_timeout(1500)
        page.wait_for_function("() => !document.querySelector('.pending, .generating')", timeout=SLOW)
        found[name] = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)""")
        if shots:
            page.screenshot(path=str(SHOTS / f"{shots}_{len(found)}.png"))
    return found
