"""The page's languages: every text in every language with the same placeholders, the browser's tables as
Gradio reads them, the request's language chosen from its Accept-Language header, and handlers speaking it."""

from __future__ import annotations

import re
import string
from types import SimpleNamespace

import pytest

from metademo.ui import i18n, text

OTHERS = [code for code in i18n.LANGUAGES if code != "en"]
SAME_IN = {"fr": ["k_points_trace"]}  # "K = {k} points" is French too


def placeholders(template: str) -> list[str]:
    """The ``str.format`` fields of a template, with their conversion and format spec ("{lr:g}")."""
    fields = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:
            fields.append(f"{name}!{conversion or ''}:{spec or ''}")
    return sorted(fields)


def test_the_four_languages_are_there():
    assert i18n.LANGUAGES == ("en", "es", "fr", "de")
    assert set(i18n.I18N.translations_dict) == set(i18n.LANGUAGES)


@pytest.mark.parametrize("code", OTHERS)
def test_every_key_is_translated_and_no_other(code):
    english, table = i18n.TABLES["en"], i18n.TABLES[code]
    assert sorted(set(english) - set(table)) == []  # missing
    assert sorted(set(table) - set(english)) == []  # stale: no longer in metademo.ui.text
    untranslated = [k for k in english if table[k] == english[k] and len(english[k]) > 12 and "```" not in english[k]]
    assert untranslated == SAME_IN.get(code, [])


@pytest.mark.parametrize("code", OTHERS)
def test_placeholders_match_english(code):
    english, table = i18n.TABLES["en"], i18n.TABLES[code]
    wrong = {k: (placeholders(english[k]), placeholders(table[k])) for k in english
             if placeholders(english[k]) != placeholders(table[k])}
    assert wrong == {}


@pytest.mark.parametrize("code", OTHERS)
def test_markdown_structure_matches_english(code):
    """Headings, bold, code and table rows survive translation: the same counts of each in every text."""
    english, table = i18n.TABLES["en"], i18n.TABLES[code]

    def shape(s: str) -> tuple:
        return (re.findall(r"^#+ ", s, re.M), s.count("**"), s.count("`"), s.count("|"), s.count("<br>"),
                s.count("<b>"), s.count("⚠️"), s.count("✓"), s.count("✗"))

    assert {k: shape(table[k]) for k in english if shape(table[k]) != shape(english[k])} == {}


@pytest.mark.parametrize("code", OTHERS)
def test_algorithm_descriptions_are_translated_for_every_registered_algorithm(code):
    texts = i18n.REGISTRY_TEXTS[code]
    for name, info in text.INFO_OF.items():
        assert f"summary:{name}" in texts and f"centre_name:{name}" in texts
        for field in ("head_description", "fitted_as", "pair_score_label"):
            assert (f"{field}:{name}" in texts) == bool(getattr(info, field)), (field, name)
        assert f"family:{info.family}" in texts
    known = {f"{f}:{n}" for n in text.INFO_OF for f in ("summary", "centre_name", "head_description", "fitted_as",
                                                            "pair_score_label")}
    known |= {f"family:{i.family}" for i in text.INFO_OF.values()}
    assert set(texts) <= known  # nothing for an algorithm or a field that is not there


def test_the_english_pages_texts_are_unchanged():
    """English comes from metademo.ui.text as it was: the Learn tab and the notes as the module builds them."""
    learn = i18n.static_text("learn", "en")
    assert learn.startswith(text.LEARN_TEMPLATE.split("{algorithms}")[0])
    assert "**Those that learn an initialisation that a few gradient steps adapt to each task:**" in learn
    assert "**Those that compare embeddings with a fixed metric:**" in learn
    assert ("**MAML**, **first-order MAML**, **Meta-SGD** and **Reptile** start every task from a head of **zeros**"
            in learn)
    assert "* **Relation Networks** (Sung et al. 2018" in learn and "{" not in learn
    assert i18n.static_text("header", "en") == text.HEADER
    assert {n: i18n.algorithm_note(n, "en") for n in text.INFO_OF} == text.ALGORITHM_NOTES


def test_the_browser_tables_hold_every_static_text_as_written():
    """Each language's table has every static key (each numbered one once per number), its text as the page
    shows it (the browser shows a translation as it is: an apostrophe needs no quoting)."""
    for code in i18n.LANGUAGES:
        table = i18n.I18N.translations_dict[code]
        assert set(table) == {i18n.PREFIX + k for k in i18n.STATIC_KEYS} | {
            f"{i18n.PREFIX}{k}_{n}" for k, c in text.NUMBERED.items() for n in range(1, c + 1)}
    es = i18n.I18N.translations_dict["es"]
    assert es["metademo_label_class_name_3"] == "Clase 3: nombre"
    assert i18n.I18N.translations_dict["fr"]["metademo_tab_classifier"] == "Classifieur avec peu d'exemples"
    assert "{" not in es["metademo_learn"] and "Prototypical Networks" in es["metademo_learn"]  # filled in


def test_static_keys_are_gradio_translation_keys():
    key = i18n.i18n("heading_adapt")
    assert str(key).startswith("__i18n__") and key.key == "metademo_heading_adapt"
    assert i18n.ui.LABELS["class_name"].format(4).key == "metademo_label_class_name_4"
    assert i18n.ui.LEARN.key == "metademo_learn"
    with pytest.raises(KeyError):
        i18n.i18n("no such text")


@pytest.mark.parametrize(("header", "expected"), [
    ("es-ES,es;q=0.9,en;q=0.8", "es"), ("fr-CA", "fr"), ("de", "de"), ("en-GB,de;q=0.9", "en"),
    ("it-IT,it;q=0.9,de;q=0.5,fr;q=0.7", "fr"), ("pt-BR", "en"), ("", "en"), (None, "en"), ("*", "en"),
    ("de;q=0,es;q=0.1", "es"), ("fr;q=abc,es", "es"), ("ES_es", "es"), (";;;,,,q=", "en"), ("x" * 5000, "en"),
])
def test_the_best_language_of_an_accept_language_header(header, expected):
    assert i18n.best_language(header) == expected


def test_t_speaks_the_language_of_the_request():
    request = SimpleNamespace(headers={"accept-language": "de-DE,de;q=0.9"})
    assert i18n.request_language(request) == "de"
    assert i18n.request_language(SimpleNamespace(headers={})) == "en"
    assert i18n.request_language() == "en"  # outside a request
    assert i18n.t("opened_task", count=3, names="a, b, c", examples=9, queries=0).startswith(
        "Opened a task with 3 classes")
    with i18n.using("es"):
        assert i18n.t("opened_task", count=3, names="a, b, c", examples=9, queries=0).startswith(
            "Se abrió una tarea con 3 clases")
        assert i18n.t("chance", percent=20) == "azar (20 %)"
    assert i18n.t("right", "fr") != text.RIGHT and i18n.t("right", "en") == text.RIGHT
    with pytest.raises(ValueError):
        with i18n.using("xx"):
            pass


def test_handlers_answer_in_the_request_language(pretrained_assets, glyph_files):
    """A handler's messages, status lines and chart titles come out in the language of the request (Gradio sets
    it around every handler it runs; here the same context variable is set by hand)."""
    from gradio.context import LocalContext

    from metademo.ui import session

    names = list(glyph_files)
    galleries = [[(p, None) for p in glyph_files[n][:2]] for n in names]
    token = LocalContext.request.set(SimpleNamespace(headers={"accept-language": "fr-FR,fr;q=0.9"}))
    try:
        chart, status, state, *_ = list(session.run_adaptation("maml", 1, None, names, galleries))[-1]
        table = session.step_view(state, 1)[1]
    finally:
        LocalContext.request.reset(token)
    assert "adapté à 3 classes" in status
    assert "classes" in chart.layout.title.text and "adaptation" in chart.layout.title.text
    assert chart.layout.xaxis.title.text == "pas interne"
    assert table["headers"][0] == "requête"


def test_the_api_checks_messages_in_the_page_language():
    """The API's messages for a number out of range, reworded in the language (in English word for word), the
    quantity named as the page names it; any other message untouched."""
    from metademo import api

    def message(check, *args) -> str:
        with pytest.raises(ValueError) as e:
            check(*args, text=True)
        return str(e.value)

    whole = message(api.check_whole, "11", "The number of classes", 2, 10)
    above = message(api.check_lr, 0, "The inner learning rate")
    at_least = message(api.check_number, -1, "Something else", 0, 5)
    for m in (whole, above, at_least):
        assert i18n.api_message(m, "en") == m
    assert i18n.api_message(whole, "es") == "Número de clases: se espera un número entero de 2 a 10; se recibió '11'"
    assert i18n.api_message(above, "de").startswith("Innere Lernrate: erwartet wird eine Zahl über 0 und höchstens ")
    assert i18n.api_message(at_least, "fr").startswith("Something else : un nombre d'au moins 0")
    assert i18n.api_message("image 2: the image looks blank", "fr") == "image 2: the image looks blank"
