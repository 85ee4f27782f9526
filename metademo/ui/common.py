"""What every tab's handlers share: error handling, validation of page values, limits, page-level handlers.

Every event handler of the app is a plain Python function of plain values (one module per tab:
:mod:`~metademo.ui.classifier`, :mod:`~metademo.ui.compare`, :mod:`~metademo.ui.sine_tab`,
:mod:`~metademo.ui.learn`); tests call them without a browser. Errors a person can fix raise
``gr.Error`` with a readable message; anything unexpected is logged and reported as a short apology,
never as a stack trace. Visitor data lives only in the values passed in and returned (``gr.State``),
never in module globals; the only shared things are the read-only models and gallery images.

The handlers call :mod:`metademo.api` and nothing else of the package: the models, their descriptions
(:func:`metademo.api.algorithm_info`), the gallery, the checks of numbers and images. The limits below
are the API's, except the page's own (how many classes fit on the page).
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import os
import threading
from collections import Counter

import gradio as gr
import numpy as np

from metademo import api
from metademo.api import MAX_IMAGES, MAX_LR, MAX_STEPS, Preprocessed  # noqa: F401 - re-exported for the tabs

from .i18n import algorithm_note, api_message, t
from .models import MODELS
from .text import ALGORITHMS, accuracy_markdown, gallery_notice

log = logging.getLogger("metademo.ui")

MIN_CLASSES, MAX_CLASSES, DEFAULT_CLASSES = 2, 10, 3  # on the page (the API takes up to 20)
MAX_EXAMPLES = 50  # per class on the page
MAX_QUERIES = 30
GENERIC_ERROR = "Something went wrong on the server (it has been logged). Please try again."

# --- errors -----------------------------------------------------------------------------------------

def message_of(e: BaseException) -> str:
    """The exception's message for a person, capitalised."""
    text = str(e).strip().strip("'\"") or type(e).__name__
    return text[0].upper() + text[1:]


def user_error(message: str) -> gr.Error:
    """A gr.Error for a mistake the visitor can fix (shown in the page; no traceback in the log)."""
    return gr.Error(message, print_exception=False)


def reason_of(e: api.ImageError, image=None) -> str:
    """Why an image cannot be used, for a person: the API's reason, without the server's path to the file."""
    text = e.reason.strip()
    if isinstance(image, (str, os.PathLike)):
        text = text.replace(f"file {str(image)!r}", "it").replace(str(image), file_name(image))
    return text


def prepare_naming(images: list, name, prepared: dict | None = None) -> Preprocessed:
    """``images`` preprocessed, each once (an upload kept in ``prepared`` is not preprocessed again, see
    :func:`remember`): the first bad one raises :func:`user_error` with ``name(i, reason)``, its index and
    the reason (capitalised)."""
    parts = [recall(prepared, img) for img in images]
    todo = [i for i, part in enumerate(parts) if part is None]
    if todo:
        try:
            fresh = api.prepare([images[i] for i in todo])  # one batch (photos two at a time)
        except api.ImageError as e:
            i = todo[e.index]
            reason = reason_of(e, images[i])
            raise user_error(name(i, reason[:1].upper() + reason[1:])) from None
        for n, i in enumerate(todo):
            parts[i] = fresh[n]
    return Preprocessed.join(parts)


# --- uploads, preprocessed once -----------------------------------------------------------------------

MAX_REMEMBERED = 600  # uploads whose preprocessed image a session keeps (about 3 kB each)


def _stamp(path) -> tuple | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError, TypeError):
        return None
    return st.st_size, st.st_mtime_ns


def remember(prepared: dict | None, path, image: Preprocessed) -> dict:
    """The session's preprocessed uploads (a ``gr.State``: path -> (size and time of the file, image)) with
    one more, the oldest dropped beyond :data:`MAX_REMEMBERED`."""
    prepared = dict(prepared or {})
    prepared.pop(str(path), None)
    prepared[str(path)] = (_stamp(path), image)
    while len(prepared) > MAX_REMEMBERED:
        prepared.pop(next(iter(prepared)))
    return prepared


def recall(prepared: dict | None, image) -> Preprocessed | None:
    """The preprocessed image of an upload the session kept, if the file is unchanged."""
    if not prepared or not isinstance(image, (str, os.PathLike)):
        return None
    kept = prepared.get(str(image))
    return kept[1] if kept is not None and kept[0] is not None and kept[0] == _stamp(image) else None


def friendly(fn):
    """Turn ValueError/FileNotFoundError into gr.Error and log anything else (plain functions and generators)."""

    def translate(e: Exception) -> gr.Error:
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, (ValueError, FileNotFoundError)):
            return user_error(message_of(e))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(t("generic_error"), print_exception=False)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:
                raise translate(e) from None
        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise translate(e) from None
    return wrapper


# --- small validators -----------------------------------------------------------------------------

def checked(check, *args, **kwargs):
    """``check(*args, **kwargs)`` (one of the API's checks); its ValueError as a :func:`user_error`, word for word
    (in the visitor's language: :func:`~metademo.ui.i18n.api_message`)."""
    try:
        return check(*args, **kwargs)
    except ValueError as e:
        raise user_error(api_message(str(e))) from None


def whole(value, what: str, lo: int, hi: int) -> int:
    """A whole number from ``lo`` to ``hi`` (numbers written as text too), by the API's rule."""
    return checked(api.check_whole, value, what, lo, hi, text=True)


def number(value, what: str, lo: float, hi: float, lo_open: bool = False) -> float:
    """A number from ``lo`` (excluded with ``lo_open``) to ``hi`` (written as text too), by the API's rule."""
    return checked(api.check_number, value, what, lo, hi, lo_open=lo_open, text=True)


def steps_and_lr(steps, lr, steps_name: str = "steps", lr_name: str = "lr (the inner learning rate)"):
    """Inner steps and learning rate as a visitor or a program sends them ("" or None: the model's default),
    checked by the API's rules: ``(steps or None, lr or None)``."""
    steps = None if steps in ("", None) else checked(api.check_steps, steps, steps_name, text=True)
    lr = None if lr in ("", None) else checked(api.check_lr, lr, lr_name, text=True)
    return steps, lr


def algorithm_name(value) -> str:
    """A registry name from a name or a title, any case ("MAML", "maml", "Meta-SGD" ...)."""
    if isinstance(value, str):
        key = value.strip().lower()
        for title, name in ALGORITHMS:
            if key in (name, title.lower()):
                return name
    choices = ", ".join(f"{name!r}" for _, name in ALGORITHMS)
    raise user_error(f"Unknown algorithm {value!r}: choose one of {choices}.")


# --- gallery values -------------------------------------------------------------------------------------

def items(value) -> list[tuple[object, str | None]]:
    """A Gallery value (``[(image, caption), ...]``, images alone, or None) as a list of pairs."""
    out = []
    for item in value or []:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            img, caption = item
        elif isinstance(item, dict):  # the JSON form a client may send
            img = item.get("image") or item.get("path")
            if isinstance(img, dict):
                img = img.get("path") or img.get("url")
            caption = item.get("caption")
        else:
            img, caption = item, None
        out.append((img, caption))
    return out


def characters_of(value) -> list[str]:
    """Names of the gallery characters among the examples, most frequent first."""
    keys = [api.parse_key(c) for _, c in items(value)]
    return [name for name, _ in Counter(k[0] for k in keys if k).most_common()]


def file_name(path) -> str:
    return os.path.basename(str(path)) or "image"



# --- page-level handlers --------------------------------------------------------------------------

@friendly
def device_markdown() -> str:
    """Which device the models run on."""
    device = api.device_info()
    text = t("device", type=device.type)
    if device.name:
        text += f" ({device.name})"
    elif device.threads:
        text += t("device_threads", threads=device.threads)
    if device.precision == "bfloat16":
        text += t("device_bfloat16")
    return text + f" · PyTorch {device.torch_version}"


@friendly
def gallery_status() -> str:
    """Where the gallery's drawings come from, in one line."""
    return gallery_notice(api.GALLERY.kind, api.GALLERY.status, t)


@friendly
def accuracy_table() -> str:
    return accuracy_markdown()


@friendly
def page_info() -> tuple[str, str, str]:
    """On page load: the device line, where the gallery comes from, and the accuracy table."""
    return device_markdown(), gallery_status(), accuracy_table()


def show_classes(n_classes) -> list[dict]:
    """Show the first ``n_classes`` class blocks and hide the others."""
    n = whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    return [gr.update(visible=i < n) for i in range(MAX_CLASSES)]


@friendly
def algorithm_defaults(algorithm) -> tuple[dict, dict, str]:
    """Default inner steps and learning rate of the chosen algorithm's checkpoint, and a note on it."""
    name = algorithm_name(algorithm)
    note = algorithm_note(name)
    try:
        info = MODELS.get(name).info  # the checkpoint's own defaults
    except FileNotFoundError as e:
        info = api.algorithm_info(name)
        note += f"\n\n⚠️ {message_of(e)}"
    if not info.adapts_by_steps:
        return (gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note)
    steps, lr = info.default_steps, info.default_lr
    return (gr.update(value=int(steps), interactive=True), gr.update(value=float(lr), interactive=True),
            note + t("checkpoint_defaults", steps=steps, lr=lr))



def plain(x):
    """Numpy scalars and the like as JSON-safe Python values (non-finite numbers as None)."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x



#: ``demo.launch(state_session_capacity=MAX_SESSIONS)``: Gradio keeps every session it has seen (a visitor's page,
#: a program's client, each fresh API call) until this many newer ones have come; each costs the server about
#: 0.6 MB (its copy of the page's configuration, plus its gr.State values), so this bounds the memory they take
#: (``METADEMO_MAX_SESSIONS``, default 200, about 120 MB; Gradio's own default, 10,000, would allow 6 GB).
#: The least recently used session goes first; a visitor whose session went has to press Adapt again.
MAX_SESSIONS = int(os.environ.get("METADEMO_MAX_SESSIONS") or 200)
#: Seconds a visitor's adapted model (``gr.State``, about 0.5 MB) is kept after its last change
#: (``METADEMO_STATE_TTL``, default an hour); Gradio checks every second.
STATE_TTL = float(os.environ.get("METADEMO_STATE_TTL") or 3600)

#: Event options. Every model-running event shares two slots (two CPU cores); page plumbing is
#: callable by clients but left out of the API docs.
COMPUTE = {"concurrency_id": "compute", "concurrency_limit": 2}


class Computing:
    """The model jobs running now (*Adapt*, classifying the queries), so that the live preview gives way to them.

    A job runs inside ``with COMPUTING:``. Python runs one thread at a time, so every preview frame answered
    while an adaptation runs or waits its turn delays it: a frame first waits (:meth:`wait_idle`, at most
    :data:`PREVIEW_YIELD` seconds) until no model job runs.
    """

    def __init__(self):
        self._idle = threading.Condition()
        self.running = 0

    def __enter__(self):
        with self._idle:
            self.running += 1
        return self

    def __exit__(self, *exc):
        with self._idle:
            self.running -= 1
            if not self.running:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no model job runs, at most ``timeout`` seconds; True if none runs."""
        with self._idle:
            return self._idle.wait_for(lambda: not self.running, timeout)


COMPUTING = Computing()
#: Seconds a live-preview frame waits at most for the model jobs to end (``METADEMO_PREVIEW_YIELD``; 0: never).
PREVIEW_YIELD = float(os.environ.get("METADEMO_PREVIEW_YIELD") or 0.25)
HIDDEN_API = {"api_visibility": "undocumented"}
