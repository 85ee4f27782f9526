"""The page in the visitor's language: English (the source, :mod:`~metademo.ui.text`), Spanish, French, German.

Two ways a text reaches the page, both from the same tables:

* **Static texts** (labels, headings, help, the Learn tab) are Gradio translation keys: ``i18n("heading_adapt")``
  gives a ``gr.I18n`` key that the browser translates by its own language (``navigator.language``, the
  language the browser is set to; Gradio's settings menu can change it). :data:`I18N` holds every language's
  table and is passed to ``demo.launch(i18n=...)`` by :func:`metademo.ui.app.launch_options`.
* **Texts made at request time** (status lines, messages, chart titles) are formatted in Python:
  ``t("opened_task", count=3, ...)`` in the language of the request being served, the best match of its
  ``Accept-Language`` header (which the browser sets from the same language setting) among
  :data:`LANGUAGES`, English otherwise.

English lives in :mod:`~metademo.ui.text` (:func:`english`); the other languages in :mod:`metademo.ui.locales`,
one module each, with the same keys and the same ``{placeholders}``. To add a language: copy
``locales/es.py`` to ``locales/<code>.py``, translate its values and add the code to :data:`LANGUAGES`;
``tests/test_i18n.py`` checks that every key and placeholder is there.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import re
from collections.abc import Iterator
from types import SimpleNamespace

import gradio as gr

from . import text

#: The page's languages, English first (the source and the fallback).
LANGUAGES = ("en", "es", "fr", "de")
#: Prefix of our keys among Gradio's own (whose top-level keys include "label", "image", "upload"...).
PREFIX = "metademo_"

_FORCED: contextvars.ContextVar[str | None] = contextvars.ContextVar("metademo_language", default=None)


def english() -> dict[str, str]:
    """Every text of the page in English, by key: the tables of :mod:`~metademo.ui.text`."""
    table = dict(text.STATIC)
    for group, entries in (("heading", text.HEADINGS), ("label", text.LABELS), ("info", text.INFO)):
        table.update({f"{group}_{key}": value for key, value in entries.items()})
    table.update(text.MESSAGES)
    return table


def _load() -> tuple[dict, dict]:
    tables, registry = {"en": english()}, {"en": {}}
    for code in LANGUAGES[1:]:
        module = importlib.import_module(f"metademo.ui.locales.{code}")
        tables[code], registry[code] = dict(module.STRINGS), dict(getattr(module, "ALGORITHMS", {}))
    return tables, registry


#: language -> key -> text (each a ``str.format`` template where it has ``{placeholders}``).
#: REGISTRY_TEXTS: language -> "field:name" -> the algorithm registry's description in that language
#: ("summary:maml", "family:metric"...); an algorithm without one there is described in English.
TABLES, REGISTRY_TEXTS = _load()


# --- which language ---------------------------------------------------------------------------------------

def best_language(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header ("es-ES,es;q=0.9,en;q=0.8" -> "es");
    English when none matches or the header is missing or malformed."""
    if not isinstance(accept_language, str):
        return "en"
    ranked = []
    for n, part in enumerate(accept_language[:1000].split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([^;\s]*)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        code = tag.strip().split("-")[0].split("_")[0].lower()
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, n, code))
    return min(ranked)[2] if ranked else "en"


def request_language(request=None) -> str:
    """The language of ``request`` (a ``gr.Request``), or of the request Gradio is serving now (a handler
    need not ask for it), or the one set by :func:`using`; English outside a request."""
    forced = _FORCED.get()
    if forced:
        return forced
    if request is None:
        from gradio.context import LocalContext  # set by Gradio around every event handler it runs

        request = LocalContext.request.get(None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return "en"
    try:
        return best_language(headers.get("accept-language"))
    except (AttributeError, TypeError):
        return "en"


@contextlib.contextmanager
def using(language: str) -> Iterator[None]:
    """Within the block, :func:`t` speaks ``language`` (for tests and scripts; the page needs none)."""
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}: choose one of {', '.join(LANGUAGES)}.")
    token = _FORCED.set(language)
    try:
        yield
    finally:
        _FORCED.reset(token)


# --- texts ------------------------------------------------------------------------------------------------

def t(key: str, language: str | None = None, /, **values) -> str:
    """The text ``key`` in ``language`` (default: the request's), its placeholders filled with ``values``.
    A key missing from a language falls back to English."""
    language = language or request_language()
    template = TABLES.get(language, {}).get(key) or TABLES["en"][key]
    return template.format(**values) if values else template


#: The shapes of the messages of the API's checks of numbers (:mod:`metademo.api.checks`), by text key.
_API_MESSAGES = {
    key: re.compile("^" + re.escape(text.MESSAGES[key]).replace(r"\{what\}", "(?P<what>.+)")
                    .replace(r"\{low\}", r"(?P<low>\S+)").replace(r"\{high\}", r"(?P<high>\S+)")
                    .replace(r"\{got\}", "(?P<got>.+)") + "$", re.S)
    for key in ("whole_number", "number_above", "number_at_least")
}


def api_message(message: str, language: str | None = None) -> str:
    """A message of the API's checks of numbers ("The number of classes must be a whole number from 2 to 10,
    got 11") in the language, the quantity named as the page names it; any other message as it is."""
    language = language or request_language()
    for key, pattern in _API_MESSAGES.items():
        match = pattern.match(message)
        if match:
            values = match.groupdict()
            what = next((k for k, v in text.MESSAGES.items() if k.startswith("what_") and v == values["what"]), None)
            values["what"] = t(what, language) if what else values["what"]
            return t(key, language, **values)
    return message


def algorithm_text(name: str, field: str, language: str | None = None) -> str:
    """A field of an algorithm's description (``summary``, ``head_description``, ``fitted_as``,
    ``pair_score_label``, ``centre_name``; ``family`` for its family's description) in the language."""
    info = text.INFO_OF.get(name)
    if field == "family":
        english_text = next(i.family_description for i in text.INFO_OF.values() if i.family == name)
    else:
        english_text = getattr(info, field)
    if not english_text:
        return english_text
    return REGISTRY_TEXTS.get(language or request_language(), {}).get(f"{field}:{name}", english_text)


def algorithm_note(name: str, language: str | None = None) -> str:
    """What the page says under the Algorithm menu of the algorithm ``name``."""
    language = language or request_language()
    info = text.INFO_OF[name]
    summary = algorithm_text(name, "summary", language)
    if info.pair_score_label:
        return t("note_pair", language, summary=summary, label=algorithm_text(name, "pair_score_label", language))
    if not info.adapts_by_steps:
        return t("note_metric", language, summary=summary)
    return t("note_steps", language, summary=summary, head=algorithm_text(name, "head_description", language))


def _learn(language: str) -> str:
    infos = text.INFO_OF

    def titles(head: str) -> str:
        names = [f"**{i.title}**" for i in infos.values() if i.adapts_by_steps and i.head == head]
        return ", ".join(names[:-1]) + t("and", language) + names[-1] if len(names) > 1 else "".join(names)

    parts = []
    for family in dict.fromkeys(i.family for i in infos.values()):  # in the registry's order
        members = [(n, i) for n, i in infos.items() if i.family == family]
        parts.append(t("learn_family", language, what=algorithm_text(family, "family", language)) + "\n\n" +
                     "\n".join(f"* **{i.title}** ({i.paper}). {algorithm_text(n, 'summary', language)}"
                                for n, i in members))
    return t("learn", language, algorithms="\n\n".join(parts), zero_head=titles("zero"),
             prototype_head=titles("prototype"))


#: Static texts filled in when the page is built (the registry's algorithms in each language).
FILLED = {"header": lambda language: t("header", language, count=len(text.INFO_OF)), "learn": _learn}


def static_text(key: str, language: str) -> str:
    """A static text as the browser shows it in ``language``."""
    return FILLED[key](language) if key in FILLED else t(key, language)


def i18n(key: str) -> gr.i18n.I18nData:
    """A static text for a component (label, info, Markdown value, button): translated in the browser."""
    if key not in STATIC_KEYS:
        raise KeyError(f"no static text {key!r} in metademo.ui.text")
    return gr.i18n.I18nData(PREFIX + key)


class _Numbered(gr.i18n.I18nData):
    """A numbered static text's key: ``.format(n)`` gives number ``n``'s (as ``str.format`` would)."""

    def format(self, n: int) -> gr.i18n.I18nData:  # noqa: A003 - mirrors str.format
        return numbered(self.key.removeprefix(PREFIX), n)


def numbered(key: str, number: int) -> gr.i18n.I18nData:
    """A static text with a number in it (``label_class_name`` for class 3): one key per number, see
    :data:`~metademo.ui.text.NUMBERED`."""
    if not 1 <= number <= text.NUMBERED[key]:
        raise KeyError(f"{key} has numbers 1 to {text.NUMBERED[key]}")
    return gr.i18n.I18nData(f"{PREFIX}{key}_{number}")


def browser_table(language: str) -> dict[str, str]:
    """Every static text in ``language``, by the browser's key. Gradio's browser side shows a translation as
    it is (svelte-i18n formats a message only when it is given values, which Gradio never gives), so an
    apostrophe or a brace needs no quoting."""
    out = {PREFIX + key: static_text(key, language) for key in STATIC_KEYS}
    for key, count in text.NUMBERED.items():
        for n in range(1, count + 1):
            out[f"{PREFIX}{key}_{n}"] = t(key, language, n=n)
    return out


def _namespace() -> SimpleNamespace:
    """The static texts as the layout uses them: ``ui.LABELS["adapt"]``, ``ui.HEADINGS["capture"]``,
    ``ui.CLASSIFIER_INTRO``... (the names of :mod:`~metademo.ui.text`), each a translation key."""
    groups = {}
    for group, entries in (("heading", text.HEADINGS), ("label", text.LABELS), ("info", text.INFO)):
        groups[group] = {k: _Numbered(f"{PREFIX}{group}_{k}") if f"{group}_{k}" in text.NUMBERED
                         else i18n(f"{group}_{k}") for k in entries}
    return SimpleNamespace(HEADINGS=groups["heading"], LABELS=groups["label"], INFO=groups["info"],
                           TABS={k: i18n(f"tab_{k}") for k in text.TABS},
                           **{key.upper(): i18n(key) for key in text.STATIC})


#: Every static text's key (the browser has each of them in every language).
STATIC_KEYS = [key for key in english() if key not in text.MESSAGES and key not in text.NUMBERED]
ui = _namespace()
#: ``demo.launch(i18n=I18N)``: every static text in every language.
I18N = gr.I18n(**{code: browser_table(code) for code in LANGUAGES})
