"""What every tab's handlers share: error handling, validation of page values, limits, page-level handlers.

Every event handler of the app is a plain Python function of plain values (one module per tab:
:mod:`~metademo.ui.classifier`, :mod:`~metademo.ui.compare`, :mod:`~metademo.ui.sine_tab`,
:mod:`~metademo.ui.learn`); tests call them without a browser. Errors a person can fix raise
``gr.Error`` with a readable message; anything unexpected is logged and reported as a short apology,
never as a stack trace. Visitor data lives only in the values passed in and returned (``gr.State``),
never in module globals; the only shared things are the read-only models and gallery images.

The handlers call :mod:`metademo.api` (and the gallery in :mod:`metademo.data.gallery`); the limits
below are the API's, except the page's own (how many classes fit on the page).
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import os
import re
from collections import Counter

import gradio as gr
import numpy as np

from metademo.algorithms.inner_loop import MAX_STEPS  # noqa: F401 - re-exported for the tabs
from metademo.api import MAX_IMAGES, MAX_LR, Preprocessed, prepare  # noqa: F401 - re-exported for the tabs
from metademo.data.gallery import PROVIDER, parse_key

from .models import MODELS
from .text import ALGORITHM_NOTES, ALGORITHMS, accuracy_markdown, gallery_notice

log = logging.getLogger("metademo.ui")

MIN_CLASSES, MAX_CLASSES, DEFAULT_CLASSES = 2, 10, 3  # on the page (the API takes up to 20)
MAX_EXAMPLES = 50  # per class on the page
MAX_QUERIES = 30
GENERIC_ERROR = "Something went wrong on the server (it has been logged). Please try again."

# --- errors -----------------------------------------------------------------------------------------

def message_of(e: BaseException, drop: str = "") -> str:
    """The exception's message for a person, capitalised; without the prefix ``drop`` if it has it (the
    API's "image 0: " when the page hands it one image at a time)."""
    text = str(e).strip().strip("'\"").removeprefix(drop) or type(e).__name__
    return text[0].upper() + text[1:]


def user_error(message: str) -> gr.Error:
    """A gr.Error for a mistake the visitor can fix (shown in the page; no traceback in the log)."""
    return gr.Error(message, print_exception=False)


def prepare_naming(images: list, name) -> Preprocessed:
    """``images`` preprocessed in one batch (:func:`metademo.prepare`: photos two at a time); the first bad one
    raises :func:`user_error` with ``name(i, reason)``, its index and the reason, capitalised."""
    try:
        return prepare(images)
    except ValueError as e:
        match = re.match(r"image (\d+): ", str(e))
        if match is None:
            raise user_error(message_of(e)) from None
        raise user_error(name(int(match.group(1)), message_of(e, drop=match.group(0)))) from None


def friendly(fn):
    """Turn ValueError/FileNotFoundError into gr.Error and log anything else (plain functions and generators)."""

    def translate(e: Exception) -> gr.Error:
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, (ValueError, FileNotFoundError)):
            return user_error(message_of(e))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(GENERIC_ERROR, print_exception=False)

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

def whole(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or value is None:
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}") from None
    if not math.isfinite(f) or not f.is_integer() or not lo <= f <= hi:
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    return int(f)


def number(value, what: str, lo: float, hi: float, lo_open: bool = False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = math.nan
    if isinstance(value, bool) or not math.isfinite(f) or f > hi or f < lo or (lo_open and f <= lo):
        bound = f"above {lo}" if lo_open else f"at least {lo}"
        raise user_error(f"{what} must be a number {bound} and at most {hi}, got {value!r}")
    return f


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
    keys = [parse_key(c) for _, c in items(value)]
    return [name for name, _ in Counter(k[0] for k in keys if k).most_common()]


def file_name(path) -> str:
    return os.path.basename(str(path)) or "image"



# --- page-level handlers --------------------------------------------------------------------------

@friendly
def device_markdown() -> str:
    """Which device the models run on."""
    import torch

    import metademo

    device = metademo.default_device()
    text = f"Models run on **{device.type}**"
    if device.type == "cuda":
        text += f" ({torch.cuda.get_device_name(device)})"
    elif device.type == "cpu":
        text += f" ({torch.get_num_threads()} threads)"
    if metademo.adaptation_precision(device) == "bfloat16":
        text += ", inner steps in bfloat16"
    return text + f" · PyTorch {torch.__version__.split('+')[0]}"


@friendly
def gallery_status() -> str:
    """Where the gallery's drawings come from, in one line."""
    return gallery_notice(PROVIDER.kind, PROVIDER.status)


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
    note = ALGORITHM_NOTES[name]
    try:
        clf = MODELS.get(name)
        steps, lr, inner = clf.default_steps, clf.default_lr, clf.learner.has_inner_loop
    except FileNotFoundError as e:
        from metademo.algorithms import get_algorithm

        cls = get_algorithm(name)
        steps, lr, inner = cls.default_hparams.test_steps, cls.default_hparams.inner_lr, cls.has_inner_loop
        note += f"\n\n⚠️ {message_of(e)}"
    if not inner:
        return (gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note)
    return (gr.update(value=int(steps), interactive=True), gr.update(value=float(lr), interactive=True),
            note + f" Checkpoint defaults: {steps} steps, learning rate {lr:g}.")



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
HIDDEN_API = {"api_visibility": "undocumented"}
