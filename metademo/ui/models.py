"""A small thread-safe cache of loaded meta-learners, by algorithm name.

The models are read-only once loaded (adapting one returns new tensors and never writes the
meta-parameters), so every visitor can share them; nothing about a visitor is kept here.
The models load on first use (torch with them), so that building the page stays fast.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


def _default_loader(name: str):
    from metademo import api

    return api.load_pretrained(name)


class ModelCache:
    """``get(name)`` loads a pretrained MetaClassifier once and then returns the same object."""

    def __init__(self, loader: Callable[[str], object] | None = None):
        self._loader = loader or _default_loader
        self._models: dict[str, object] = {}
        self._lock = threading.Lock()  # guards the dicts
        self._name_locks: dict[str, threading.Lock] = {}  # one load per name at a time

    def get(self, name: str):
        """The model ``name``; ValueError for an unknown name, FileNotFoundError for missing weights."""
        model = self._models.get(name)
        if model is not None:
            return model
        with self._lock:
            name_lock = self._name_locks.setdefault(name, threading.Lock())
        with name_lock:  # two visitors asking for the same new model load it once
            model = self._models.get(name)
            if model is None:
                model = self._loader(name)
                with self._lock:
                    self._models[name] = model
        return model

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def preload(self, names: Iterable[str]) -> threading.Thread:
        """Load ``names`` in a background thread (failures are logged, and retried on use)."""
        names = list(names)

        def run():
            for name in names:
                try:
                    self.get(name)
                except Exception as e:  # a missing model is reported again when it is used
                    log.warning("could not preload %s: %s", name, e)

        thread = threading.Thread(target=run, name="metademo-preload", daemon=True)
        thread.start()
        return thread


#: The models every session shares (read-only).
MODELS = ModelCache()


def get_model(name: str):
    return MODELS.get(name)


_sine_lock = threading.Lock()
_sine_models: tuple | None = None


def get_sine_models():
    """``(maml, baseline)`` sine models, loaded once (trained on the fly by ``metademo.sine`` if missing)."""
    global _sine_models
    if _sine_models is None:
        with _sine_lock:
            if _sine_models is None:
                from metademo import api

                _sine_models = api.load_sine_models()
    return _sine_models
