"""Import Gradio without regenerating its type stubs.

Every time Gradio is imported, each of its ~80 component classes re-parses the Python source of its own
module, renders a Jinja template of its event methods and compares the result with the ``.pyi`` stub
file beside it (``gradio.component_meta.create_or_modify_pyi``), rewriting the stub if it differs. This is
how Gradio's developers keep their stubs current; an installed Gradio already ships them. On two CPU
cores it is 1.3 to 1.9 s of the 3.5 to 4.2 s that ``import gradio`` takes (measured), the largest single
part of the app's cold start.

:func:`skip_stub_regeneration` makes that step a no-op for the Gradio about to be imported. It must run
before the first ``import gradio``; if Gradio is already imported (a notebook, the test suite), it does
nothing. It changes nothing Gradio serves: the stubs are only read by type checkers and editors.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

_MODULE = "gradio.component_meta"


def _keep_stubs(*args, **kwargs) -> None:
    """Stands for ``create_or_modify_pyi``: the installed stubs stay as they are."""


class _SkipStubs(importlib.abc.MetaPathFinder):
    """Finds ``gradio.component_meta`` as usual and replaces its stub writer once it has run."""

    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)  # once: the finders after this one locate the real module
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            if hasattr(module, "create_or_modify_pyi"):  # a Gradio without it is left as it is
                module.create_or_modify_pyi = _keep_stubs

        spec.loader.exec_module = exec_module
        return spec


def skip_stub_regeneration() -> None:
    if _MODULE in sys.modules or any(isinstance(f, _SkipStubs) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _SkipStubs())
