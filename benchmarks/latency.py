"""Interactive latency: what a person waits for, through the Python API and through the running app.

    python benchmarks/latency.py [--runs 50] [--no-app]

For every algorithm: p50 and p95 of ``fit`` + ``predict_proba`` on 5-way 5-shot with 10 queries at the
default inner steps (real Omniglot evaluation images, or synthetic glyphs when Omniglot is absent);
then the same episode through the app's ``/classify`` endpoint (a real ``python app.py`` server) the
way the page calls it (one request uploads every image, one runs the job) and through gradio_client,
the app's cold start (process start until it answers HTTP) and its peak memory (VmHWM of the server
process). Goals on 2 CPU cores: gradient-based p50 <= 250 ms and ProtoNet <= 50 ms through the API,
<= 400 ms through the app, cold start < 10 s, peak memory < 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import metademo  # noqa: E402
from metademo.data.omniglot import load_omniglot, omniglot_available  # noqa: E402

GOALS_API = {"protonet": 50}
GOAL_GRADIENT_API, GOAL_APP, GOAL_COLD, GOAL_MEMORY_MB = 250, 400, 10.0, 1536


def episode_images(ways=5, shots=5, queries=10, seed=0):
    """PIL images of ``ways`` unseen characters: shots each for support, ``queries`` in all for queries."""
    rng = np.random.default_rng(seed)
    if omniglot_available(background=False):
        pool = load_omniglot(background=False, progress=False).images
        chars = rng.choice(len(pool), ways, replace=False)
        draws = [rng.choice(20, shots + 2, replace=False) for _ in chars]
        glyph = lambda c, d: Image.fromarray(255 - pool[c, d])  # noqa: E731 - black ink on white, like a scan
        source = "Omniglot images_evaluation"
    else:
        from metademo.data.synthetic import synthetic_gallery

        gal = synthetic_gallery(ways, shots + 2, seed=seed)
        chars, draws = range(ways), [range(shots + 2)] * ways
        glyph = lambda c, d: gal[c][d]  # noqa: E731
        source = "synthetic glyphs (Omniglot not found)"
    support, labels, query = [], [], []
    for i, c in enumerate(chars):
        support += [glyph(c, d) for d in draws[i][:shots]]
        labels += [f"class {i}"] * shots
        query += [glyph(c, d) for d in draws[i][shots:]]
    return support, labels, query[:queries], source


def percentiles(ms):
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def time_api(name, support, labels, query, runs):
    clf = metademo.load_pretrained(name)
    clf.fit(support, labels).predict_proba(query)  # warm-up
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        clf.fit(support, labels).predict_proba(query)
        ms.append(1000 * (time.perf_counter() - t))
    return percentiles(ms), clf


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app():
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 120:
                proc.kill()
                raise RuntimeError("the app did not start") from None
            time.sleep(0.05)
    return proc, url, time.perf_counter() - start


def peak_memory_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class HttpClient:
    """``/classify`` over Gradio's HTTP API the way the page does it: one request uploads all the images,
    a second starts the job, and its result arrives on an event stream. Like a page, it keeps one
    connection and one session (a new session costs the server about 0.1 s to set up)."""

    def __init__(self, url: str):
        import secrets

        import httpx

        self.url = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=120)
        self.session_hash = secrets.token_hex(8)

    def upload(self, paths: list[str]) -> list[dict]:
        files = [("files", (Path(p).name, Path(p).read_bytes(), "image/png")) for p in paths]
        r = self.http.post(f"{self.url}/upload", files=files)
        r.raise_for_status()
        return [{"path": path, "orig_name": Path(p).name, "meta": {"_type": "gradio.FileData"}}
                for p, path in zip(paths, r.json())]

    def call(self, api_name: str, *data):
        import json

        r = self.http.post(f"{self.url}/call/{api_name}", json={"data": list(data), "session_hash": self.session_hash})
        r.raise_for_status()
        event = None
        with self.http.stream("GET", f"{self.url}/call/{api_name}/{r.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = line.split(":", 1)[1].strip()
                    if event == "error":
                        raise RuntimeError(f"/{api_name} failed: {payload}")
                    return json.loads(payload)
        raise RuntimeError(f"/{api_name}: the event stream ended without a result")

    def classify(self, algorithm, support_paths, labels, query_paths, steps=None, lr=None) -> dict:
        files = self.upload(list(support_paths) + list(query_paths))
        n = len(support_paths)
        return self.call("classify", algorithm, files[:n], labels, files[n:], steps, lr)[0]


def write_pngs(images) -> list[str]:
    folder = Path(tempfile.mkdtemp())
    paths = []
    for i, img in enumerate(images):
        p = folder / f"{i}.png"
        img.save(p)
        paths.append(str(p))
    return paths


def time_app(url, support, labels, query, runs, algorithms):
    """Per algorithm, p50/p95 of one ``/classify`` round trip with its images: (the page's way, gradio_client)."""
    from gradio_client import Client, handle_file

    paths = write_pngs(support + query)
    s_paths, q_paths = paths[: len(support)], paths[len(support):]
    http = HttpClient(url)
    client = Client(url, verbose=False, ssl_verify=False)  # plain HTTP on localhost: no certificates to load
    out = {}
    for name in algorithms:
        result = http.classify(name, s_paths, labels, q_paths)  # warm-up: loads the model
        assert len(result["probabilities"]) == len(query), result
        page, programmatic = [], []
        for _ in range(runs):
            t = time.perf_counter()
            http.classify(name, s_paths, labels, q_paths)
            page.append(1000 * (time.perf_counter() - t))
        for _ in range(max(runs // 5, 3)):  # gradio_client uploads one file per request: slower, fewer runs
            t = time.perf_counter()
            client.predict(name, [handle_file(p) for p in s_paths], labels, [handle_file(p) for p in q_paths],
                           None, None, api_name="/classify")
            programmatic.append(1000 * (time.perf_counter() - t))
        out[name] = (percentiles(page), percentiles(programmatic))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--no-app", action="store_true", help="only the Python API")
    args = p.parse_args(argv)

    if omniglot_available(background=True):
        load_omniglot(background=True, progress=False)  # builds the cache if this is the first run
        start = time.perf_counter()
        load_omniglot(background=True, progress=False)
        load_omniglot(background=False, progress=False)
        print(f"warm load of all of Omniglot (32,460 images, from the cache): {time.perf_counter() - start:.2f} s "
              "(goal < 3 s)")
    support, labels, query, source = episode_images()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {metademo.default_device()}, Python {platform.python_version()}")
    print(f"episode: 5-way 5-shot, {len(query)} queries, {source}; {args.runs} runs each\n")
    print(f"{'algorithm':10} {'steps':>5} {'API p50 ms':>11} {'API p95 ms':>11} {'goal':>6}")
    api = {}
    for name in metademo.available_algorithms():
        (p50, p95), clf = time_api(name, support, labels, query, args.runs)
        goal = GOALS_API.get(name, GOAL_GRADIENT_API)
        api[name] = p50
        print(f"{name:10} {clf.default_steps:>5} {p50:>11.1f} {p95:>11.1f} {goal:>6} "
              f"{'ok' if p50 <= goal else 'MISSED'}")
    if args.no_app:
        return
    proc, url, cold = start_app()
    try:
        app = time_app(url, support, labels, query, args.runs, metademo.available_algorithms())
        memory = peak_memory_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    print("\nthe app's /classify, images included: as the page sends them (one upload request) and through "
          "gradio_client (one upload request per image)")
    print(f"{'algorithm':10} {'app p50 ms':>11} {'app p95 ms':>11} {'goal':>6}      {'gradio_client p50 ms':>21}")
    for name, ((p50, p95), (c50, _)) in app.items():
        print(f"{name:10} {p50:>11.1f} {p95:>11.1f} {GOAL_APP:>6} {'ok' if p50 <= GOAL_APP else 'MISSED':6} "
              f"{c50:>21.1f}")
    print(f"\ncold start: {cold:.2f} s (goal < {GOAL_COLD:.0f} s); peak memory of the app: {memory:.0f} MB "
          f"(goal < {GOAL_MEMORY_MB} MB)")


if __name__ == "__main__":
    main()
