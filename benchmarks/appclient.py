"""A real ``python app.py`` server for the benchmarks, and the ways programs call it.

* :func:`start_app`: start the server on a free port, time until it answers HTTP (the cold start);
* :class:`PageClient`: ``/classify`` the way the page calls it (one request uploads every image, one starts
  the job, its result comes on an event stream), over one kept-alive connection;
* :func:`data_url`: an image file as the data URL that ``/classify_images`` and the MCP tool take.
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict | None = None, timeout: float = 120):
    """``python app.py`` on a free port: (process, url, seconds until the page answered)."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > timeout:
                proc.kill()
                raise RuntimeError("the app did not start") from None
            time.sleep(0.02)
    return proc, url, time.perf_counter() - start


@contextlib.contextmanager
def app_at(url: str | None = None, env: dict | None = None):
    """The app a benchmark measures: the one at ``url``, or ``python app.py`` started for the run (its start time
    printed) and stopped after it. Yields (url, process or None)."""
    if url:
        yield url, None
        return
    proc, url, cold = start_app(env)
    print(f"app started in {cold:.2f} s")
    try:
        yield url, proc
    finally:
        stop_app(proc)


def stop_app(proc) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory (``VmRSS``) or its peak (``VmHWM``) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def data_url(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode()


class PageClient:
    """``/classify`` over Gradio's HTTP API as the page calls it: one request uploads all the images, a
    second starts the job, its result arrives on an event stream. One kept-alive connection; one session,
    as a page has, unless ``fresh_sessions`` (then every call is a new visitor, the worst case for the
    server's memory)."""

    def __init__(self, url: str, fresh_sessions: bool = False):
        import httpx

        self.url = url.rstrip("/") + "/gradio_api"
        self.http = httpx.Client(timeout=120)
        self.fresh_sessions = fresh_sessions
        self.session_hash = secrets.token_hex(8)

    def upload(self, paths: list[str]) -> list[dict]:
        files = [("files", (Path(p).name, Path(p).read_bytes(), mimetypes.guess_type(p)[0] or "image/png"))
                 for p in paths]
        r = self.http.post(f"{self.url}/upload", files=files)
        r.raise_for_status()
        return [{"path": path, "orig_name": Path(p).name, "meta": {"_type": "gradio.FileData"}}
                for p, path in zip(paths, r.json())]

    def call(self, api_name: str, *data):
        session = secrets.token_hex(8) if self.fresh_sessions else self.session_hash
        r = self.http.post(f"{self.url}/call/{api_name}", json={"data": list(data), "session_hash": session})
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
