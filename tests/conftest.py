"""Shared fixtures: the pretrained assets (real, or random-init stand-ins) and a real app server.

``pretrained_assets`` uses the repository's ``assets/`` when every file the app needs is there.
Otherwise it builds a temporary folder in which each missing checkpoint is replaced by a
random-initialised one of the right format (real files are linked in), and points
``METADEMO_ASSETS`` at it. Tests using it therefore check plumbing, shapes and messages, never how
accurate the shipped models are.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from metademo.algorithms import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
CLASSIFIERS = tuple(REGISTRY)
SINE_FILES = {"maml": "sine_maml.safetensors", "baseline": "sine_baseline.safetensors"}
NEEDED = [f"{n}.safetensors" for n in CLASSIFIERS] + list(SINE_FILES.values())
SERVER_START_TIMEOUT = 120  # seconds; generous because the test machine may be busy
SERVER_QUEUE_SIZE = 8  # room for 8 concurrent clients, small enough that a test can fill it cheaply


def _write_stand_in(folder: Path, file: str) -> None:
    if file in SINE_FILES.values():
        from metademo.sine import INNER_LR, NETWORK, SineModel, save_sine_model

        kind = "maml" if file == SINE_FILES["maml"] else "baseline"
        save_sine_model(folder / file, SineModel(f"sine_{kind}", NETWORK.init_params(0), INNER_LR, kind))
        return
    from metademo.algorithms import get_algorithm
    from metademo.checkpoints import Checkpoint, save_checkpoint

    name = file.removesuffix(".safetensors")
    learner = get_algorithm(name)()
    save_checkpoint(folder / file, Checkpoint(name, learner.hparams, learner.init_meta_params(0),
                                              {"note": "random-init stand-in for tests"}))


@pytest.fixture(scope="session")
def pretrained_assets(tmp_path_factory) -> Path:
    """A folder with every checkpoint the app loads; METADEMO_ASSETS points at it for the session."""
    real = ROOT / "assets"
    if all((real / f).is_file() for f in NEEDED):
        folder = real
    else:
        folder = tmp_path_factory.mktemp("assets")
        for f in NEEDED:
            if (real / f).is_file():
                (folder / f).symlink_to(real / f)
            else:
                _write_stand_in(folder, f)
    from metademo.ui import models

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("METADEMO_ASSETS", str(folder))
        mp.setattr(models, "_sine_models", None)
        models.MODELS.clear()
        yield folder
        models.MODELS.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(pretrained_assets, tmp_path_factory):
    """``python app.py`` on a free localhost port; yields .url, .startup_seconds, .log (a path), .queue_size."""
    yield from serve(pretrained_assets, tmp_path_factory.mktemp("server"))


def serve(assets: Path, tmp: Path, **env_vars: str):
    """Run ``python app.py`` (``env_vars`` added to its environment) until the generator is closed."""
    port = _free_port()
    env = {**os.environ, "METADEMO_ASSETS": str(assets), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "METADEMO_GALLERY_DOWNLOAD": "0",
           "GRADIO_TEMP_DIR": str(tmp / "gradio"), "PYTHONUNBUFFERED": "1",
           "METADEMO_MAX_QUEUE": str(SERVER_QUEUE_SIZE), **env_vars}
    log_path = tmp / "server.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() - start > SERVER_START_TIMEOUT:
                    pytest.fail(f"app.py did not answer within {SERVER_START_TIMEOUT} s:\n"
                                f"{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.2)
            startup = time.monotonic() - start
            yield SimpleNamespace(url=url, port=port, startup_seconds=startup, log=log_path, process=proc,
                                  queue_size=SERVER_QUEUE_SIZE)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def one_thread():
    """One torch thread for the test: tiny tensors gain nothing from threads, and on a busy machine the idle
    OpenMP threads spin."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def glyph_files(tmp_path_factory) -> dict[str, list[str]]:
    """Three characters with 4 drawings each: real Omniglot evaluation files when present, else synthetic."""
    from metademo.data.omniglot import data_root

    folder = data_root() / "omniglot-py" / "images_evaluation" / "Atlantean"
    if folder.is_dir():
        chars = sorted(p for p in folder.iterdir() if p.is_dir())[:3]
        return {f"char{i}": [str(p) for p in sorted(c.glob("*.png"))[:4]] for i, c in enumerate(chars)}
    from metademo.data.synthetic import synthetic_gallery

    d = tmp_path_factory.mktemp("glyphs")
    out = {}
    for i, row in enumerate(synthetic_gallery(3, 4, seed=5)):
        out[f"char{i}"] = []
        for j, img in enumerate(row):
            img.save(d / f"c{i}_{j}.png")
            out[f"char{i}"].append(str(d / f"c{i}_{j}.png"))
    return out
