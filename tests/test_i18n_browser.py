"""The page in the browser's language, in a real Chromium against the real app: a Spanish browser (its
``navigator.language`` and its Accept-Language header both es-ES) gets the classifier tab in Spanish, static texts
and the handlers' messages alike, with ``<html lang="es">`` and no serious axe-core violation; French and German
browsers get theirs, an English one English. Screenshots of the classifier tab in the four languages go to
artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import re

import pytest

from metademo.ui import i18n
from tests.test_classroom_browser import CHROMIUM, SHOTS, SLOW, browser, expect  # noqa: F401 - the fixture
from tests.test_lesson_browser import AXE, boxes, fill_classes, serious_violations_by_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]

LOCALES = {"en": "en-US", "es": "es-ES", "fr": "fr-FR", "de": "de-DE", "pt": "pt-BR"}


def tr(language: str, key: str, **values) -> str:
    """A text as the page shows it: without Markdown's marks."""
    return re.sub(r"[*#`]", "", i18n.t(key, language, **values)).strip()


def open_in(browser, url: str, language: str, width: int = 1280, height: int = 720):  # noqa: F811
    context = browser.new_context(locale=LOCALES[language], viewport={"width": width, "height": height},
                                  permissions=["camera"])
    page = context.new_page()
    page.page_errors = []
    page.on("pageerror", lambda e: page.page_errors.append(str(e)))
    page.goto(url, wait_until="domcontentloaded")
    # the device line is made by a handler on page load, in the request's language
    expect()(page.locator("#device-info")).to_contain_text(tr(i18n.best_language(LOCALES[language]), "device",
                                                              type=""), timeout=SLOW)
    return page


def check_static_texts(page, language: str) -> None:
    ex = expect()
    assert page.evaluate("document.documentElement.lang") == language  # for screen readers and axe-core
    ex(page.get_by_role("tab", name=tr(language, "tab_classifier"))).to_be_visible()
    ex(page.get_by_role("tab", name=tr(language, "tab_learn"))).to_be_visible()
    ex(page.locator("#workbench")).to_contain_text(tr(language, "heading_capture"))
    ex(page.locator("#workbench")).to_contain_text(tr(language, "heading_adapt"))
    ex(page.locator("#adapt")).to_have_text(tr(language, "label_adapt"))
    ex(page.locator("#class-2-pick")).to_have_text(tr(language, "label_gallery"))
    ex(page.locator("#class-2")).to_contain_text(tr(language, "label_class_name", n=2))
    ex(page.locator("#n-classes")).to_contain_text(tr(language, "info_num_classes"))
    ex(page.locator("#download-task")).to_have_text(tr(language, "label_download_task"))
    # the note under the Algorithm menu: a handler's text, with the registry's summary in the language
    ex(page.locator("#algorithm-note")).to_contain_text(tr(language, "checkpoint_defaults", steps=3, lr=0.4)[:12])
    if language != "en":  # nothing of ours left in English where a translation exists
        english = page.locator("#workbench").inner_text()
        for key in ("heading_capture", "heading_classes", "label_num_classes", "info_algorithm", "label_lr"):
            assert tr("en", key) not in english, key


def test_a_spanish_browser_gets_the_page_in_spanish(browser, app_server):  # noqa: F811
    page = open_in(browser, app_server.url, "es")
    try:
        check_static_texts(page, "es")
        page.screenshot(path=str(SHOTS / "i18n_es.png"))
        expect()(page.locator("#predictions-table")).to_contain_text("respuesta correcta")  # empty, set on load
        page.locator("#algorithm input").click()  # the menu's own choice, set on load in the page's language
        expect()(page.get_by_role("option", name=tr("es", "yours"))).to_be_visible(timeout=SLOW)
        page.keyboard.press("Escape")
        # a handler's status line, chart and table after Adapt, in Spanish
        fill_classes(page)
        page.locator("#adapt").click()
        status = page.locator("#adapt-status")
        expect()(status).to_contain_text(re.compile(r"se adaptó a 3 clases a partir de 15 ejemplos"), timeout=SLOW)
        expect()(status).to_contain_text("Exactitud en el soporte")
        expect()(page.locator("#adapt-plot")).to_contain_text("adaptándose a tus 3 clases", timeout=SLOW)
        expect()(page.locator("#adapt-plot")).to_contain_text("paso interno")
        table = page.locator("#predictions-table")
        expect()(table).to_contain_text("respuesta correcta", timeout=SLOW)
        expect()(table).to_contain_text(re.compile(r"✓ acierto|✗ error"))
        expect()(page.locator("#predictions-plot")).to_contain_text("Consulta 1:", timeout=SLOW)
        expect()(page.locator("#embedding-plot")).to_contain_text("mismos ejes en todos los pasos")
        page.screenshot(path=str(SHOTS / "i18n_es_adapted.png"), full_page=True)
        # a warning from a handler: the queries' Gallery with nothing to draw from
        page.locator("#queries-clear").click()
        page.locator("#class-1-clear").click()
        page.locator("#class-2-clear").click()
        page.locator("#class-3-clear").click()
        page.locator("#queries-pick").click()
        expect()(page.locator(".toast-body").last).to_contain_text(tr("es", "gallery_first")[:40], timeout=SLOW)
        assert page.page_errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["fr", "de", "en"])
def test_french_german_and_english_browsers_get_their_language(browser, app_server, language):  # noqa: F811
    page = open_in(browser, app_server.url, language)
    try:
        check_static_texts(page, language)
        page.screenshot(path=str(SHOTS / f"i18n_{language}.png"))
        page.get_by_role("tab", name=tr(language, "tab_sine")).click()  # another tab's menu, named on load
        expect()(page.get_by_role("radio", name=tr(language, "choice_trained"))).to_be_visible(timeout=SLOW)
        expect()(page.locator("#maml-choice")).to_contain_text(tr(language, "label_maml_model"))
        assert page.page_errors == []
    finally:
        page.context.close()


def test_axe_core_finds_no_serious_violation_on_the_spanish_page(browser, app_server):  # noqa: F811
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: run_tests.sh installs axe-core from npm")
    page = open_in(browser, app_server.url, "es")
    try:
        page.add_script_tag(path=str(AXE))
        tabs = page.get_by_role("tab").all_inner_texts()
        assert tr("es", "tab_compare") in tabs
        found = serious_violations_by_tab(page, tabs)
        assert not any(found.values()), found
    finally:
        page.context.close()


def test_a_language_the_page_does_not_speak_gets_english(browser, app_server):  # noqa: F811
    """A Brazilian Portuguese browser: Gradio's own controls in Portuguese, ours in English (the fallback), never
    a translation key."""
    page = open_in(browser, app_server.url, "pt")
    try:
        expect()(page.locator("#adapt")).to_have_text(tr("en", "label_adapt"))
        expect()(page.locator("#workbench")).to_contain_text(tr("en", "heading_capture"))
        assert i18n.PREFIX not in page.inner_text("body")
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["es", "fr", "de"])
def test_the_projector_layout_holds_in_each_language(browser, app_server, language):  # noqa: F811
    """Longer words must not push Adapt below one and a half screens at 1280x720, nor the class cards (five
    examples each) below 1.7 screens, as in English (tests/test_lesson_browser.py)."""
    page = open_in(browser, app_server.url, language)
    try:
        fill_classes(page, queries=False)
        page.wait_for_timeout(500)
        b = boxes(page, ("#sketchpad", "#class-3", "#adapt"))
        print(f"{language} 1280x720:", b)
        assert b["#sketchpad"]["y"] < 720
        assert b["#adapt"]["y"] + b["#adapt"]["h"] <= 1.5 * 720
        assert b["#class-3"]["y"] + b["#class-3"]["h"] <= 1.7 * 720
    finally:
        page.context.close()
