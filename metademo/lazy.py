"""Modules imported when first used.

Importing torch takes about two seconds on two CPU cores, as long as everything else the web page
needs before it can answer. The page is built from the algorithms' descriptions alone (their names,
notes, colours and defaults), so the modules it imports write ``from metademo.lazy import F, torch``
where they would write ``import torch`` and ``import torch.nn.functional as F``: torch is then
imported by the first line that uses it, in the background loading that follows the page
(:func:`metademo.ui.warm_up`), or by a notebook user's first ``fit``.
``tests/test_app_server.py`` checks that building the page imports no torch.
"""

from __future__ import annotations

import importlib
import types


class LazyModule(types.ModuleType):
    """Stands for the module ``name``; its first attribute lookup imports it."""

    def __getattr__(self, attr: str):  # called only for names the stand-in does not hold (yet)
        module = importlib.import_module(self.__name__)
        if not self.__dict__.get("_loaded"):
            # From now on the stand-in holds the module's names, and looks them up as fast as the module.
            self.__dict__.update(module.__dict__, _loaded=True)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (imported on first use)>"


torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")
