"""A class at once: many students use the page at the same moment, on one ``python app.py`` server.

    python benchmarks/classroom.py [--students 30] [--seconds 30] [--algorithm maml] [--url URL]
    python benchmarks/classroom.py --quick    # a smoke test: 2 students, 3 seconds of preview

Starts ``python app.py`` on a free port (unless ``--url`` is given; the clients then run at nice 10, so
that the server, on the same cores, comes first, as it would with the students' browsers on their own
machines), warms it up with one untimed visitor (the models load in the background after the page
answers), then starts ``--students`` visitors together.
Each is one page (one Gradio session) and calls the endpoints the page's buttons call, as the page sends
them, over Gradio's HTTP API (one request to upload files, one to start the job, its result on an event
stream):

1. builds 3 to 5 classes (seeded per student) of original Omniglot drawings: two uploaded as files
   (*Upload*: ``/add_uploads_N``) and one drawn on the pad (*Drawing*: ``/add_drawing_N``, the pad's
   ImageEditor value, its background, layer and composite PNGs uploaded);
2. presses *Adapt* (``/adapt``, the page's defaults: 3 inner steps at learning rate 0.4);
3. uploads two queries (``/add_uploads_queries``); the page then classifies them (``/classify_queries``);
4. draws for ``--seconds``: the live preview (``/live_preview``) gets the pad's 128x128 PNG data URL, as
   ``static/classifier.js`` sends it while the pen moves: one frame at a time (the event's
   ``trigger_mode="always_last"``: while a frame is answered, only the newest waits), at most one every
   120 ms, the drawing growing stroke by stroke.

Prints, per kind of request, the count and the p50/p95/max latency (from sending to the result, queueing
included), the failures, the requests turned away (queue full), and the server's resident memory (VmRSS)
before the class, sampled every 0.2 s during it (its peak), and at the end; also the machine's load average as
the class starts (other work on the same cores slows the server) and the CPU seconds the server used during
the class. Exits with 1 on any failure or request turned away. The timing goals (p95 *Adapt* at most 5 s,
p95 preview at most 1 s) are printed next to the figures, not enforced: the machine's load changes them.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.appclient import PageClient, app_at, cpu_seconds, memory_mb  # noqa: E402
from benchmarks.inputs import episode, sketch  # noqa: E402

MAX_CLASSES = 10  # the page's class cards (metademo.ui.common.MAX_CLASSES)
FRAME_SIZE, FRAME_EVERY = 128, 0.12  # static/classifier.js: SIZE and EVERY (ms / 1000)
CLIENT_NICE = 10  # the 30 clients take about a core of their own on this machine
GOALS = {"adapt": 5.0, "live_preview": 1.0}  # p95 seconds
KINDS = ("upload", "add_uploads", "add_drawing", "adapt", "add_uploads_queries", "classify_queries", "live_preview")


def pad_frames(glyph_path: str, n: int = 12) -> list[str]:
    """The pad's preview frames while the glyph is drawn: PNG data URLs, black on white, 128x128, the ink
    revealed from left to right in ``n`` growing steps (the last one is the whole drawing)."""
    ink = np.asarray(Image.open(glyph_path).convert("L").resize((FRAME_SIZE, FRAME_SIZE)), np.uint8) < 128
    cols = np.flatnonzero(ink.any(0))
    first, last = (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (0, FRAME_SIZE)
    frames = []
    for k in range(1, n + 1):
        shown = ink.copy()
        shown[:, first + (last - first) * k // n:] = False
        buf = io.BytesIO()
        Image.fromarray(np.where(shown, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "PNG")
        frames.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return frames


def pad_value(client: PageClient, glyph_path: str, seed: int, folder: Path) -> dict:
    """The Sketchpad's value as the page sends it: background, layer and composite, uploaded as PNGs."""
    value = sketch(glyph_path, seed=seed, as_dict=True)
    paths = []
    for key, arr in (("background", value["background"]), ("layer", value["layers"][0]),
                     ("composite", value["composite"])):
        p = folder / f"{key}_{seed}.png"
        Image.fromarray(arr, "RGBA").save(p)
        paths.append(str(p))
    background, layer, composite = client.upload(paths)
    return {"background": background, "layers": [layer], "composite": composite, "id": None}


class Recorder:
    """Latencies per kind of request, failures and requests turned away, from all the students."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.turned_away = 0
        self.load_before = float("nan")  # the machine's load average (1 minute) as the class starts
        self.server_cpu = float("nan")  # CPU seconds the server used during the class

    def timed(self, kind: str, fn, *args):
        start = time.perf_counter()
        try:
            out = fn(*args)
        except Exception as e:  # noqa: BLE001 - every failure is counted and reported
            text = f"{kind}: {e!r}"[:300]
            with self.lock:
                if any(w in text.lower() for w in ("queue is full", "too many", " 503", " 429")):
                    self.turned_away += 1
                else:
                    self.failures.append(text)
            e.recorded = True
            raise
        with self.lock:
            self.times[kind].append(time.perf_counter() - start)
        return out


def student(url: str, i: int, args, rec: Recorder, folder: Path, start: threading.Barrier | None = None):
    rng = np.random.default_rng(1000 + i + 1)
    n = int(rng.integers(3, 6))
    support, labels, queries = episode(ways=n, shots=3, per_class_queries=1, seed=1001 + i)
    client = PageClient(url)
    frames = pad_frames(queries[0])
    if start is not None:
        start.wait()
    try:
        names, galleries = [], []
        for c in range(n):
            files = rec.timed("upload", client.upload, support[3 * c:3 * c + 2])
            gallery = rec.timed("add_uploads", client.call, f"add_uploads_{c + 1}", files, [])[0]
            pad = pad_value(client, support[3 * c + 2], 100 * (i + 1) + c, folder)
            gallery = rec.timed("add_drawing", client.call, f"add_drawing_{c + 1}", pad, gallery)[0]
            if len(gallery) != 3:
                raise RuntimeError(f"class {c + 1} shows {len(gallery)} examples, not the 3 added")
            names.append(f"class {c + 1}")
            galleries.append(gallery)
        names += [""] * (MAX_CLASSES - n)
        galleries += [[]] * (MAX_CLASSES - n)
        rec.timed("adapt", client.call, "adapt", args.algorithm, 3, 0.4, n, *names, *galleries, [])
        files = rec.timed("upload", client.upload, queries[:2])
        shown = rec.timed("add_uploads_queries", client.call, "add_uploads_queries", files, [])[0]
        out = rec.timed("classify_queries", client.call, "classify_queries", shown)
        if len(out[3]["data"]) != 2:  # chart, slider, predictions chart, table, map
            raise RuntimeError(f"classify_queries: {len(out[3]['data'])} table rows for 2 queries")
        end, k = time.perf_counter() + args.seconds, 0
        while time.perf_counter() < end:
            sent = time.perf_counter()
            label = rec.timed("live_preview", client.call, "live_preview", frames[min(k, len(frames) - 1)])[0]
            if not (isinstance(label, dict) and label.get("confidences")):
                raise RuntimeError(f"live_preview: no class bars in {str(label)[:200]}")
            k = (k + 1) % (2 * len(frames))  # draw, then draw again
            time.sleep(max(0.0, FRAME_EVERY - (time.perf_counter() - sent)))
    except Exception as e:  # noqa: BLE001 - counted by the recorder, or here
        if not getattr(e, "recorded", False):
            with rec.lock:
                rec.failures.append(f"student {i}: {e!r}"[:300])


def run_class(url: str, students: int, seconds: float, algorithm: str = "maml", pid: int | None = None):
    """One untimed visitor (the models load in the background after the page answers), then ``students``
    at once. Returns (Recorder, wall seconds, (RSS before, peak, after) in MB or None without ``pid``)."""
    folder = Path(tempfile.mkdtemp(prefix="metademo-classroom-"))
    samples, stop = [], threading.Event()
    try:
        warm = Recorder()
        student(url, -1, argparse.Namespace(algorithm=algorithm, seconds=0.5), warm, folder)
        if warm.failures:
            raise RuntimeError(f"the warm-up visitor failed: {warm.failures[0]}")
        before = memory_mb(pid) if pid else float("nan")

        def sample():
            while not stop.wait(0.2):
                samples.append(memory_mb(pid))

        if pid:
            threading.Thread(target=sample, daemon=True).start()
        rec, barrier = Recorder(), threading.Barrier(students)
        args = argparse.Namespace(algorithm=algorithm, seconds=seconds)
        threads = [threading.Thread(target=student, args=(url, i, args, rec, folder, barrier))
                   for i in range(students)]
        rec.load_before = os.getloadavg()[0]
        cpu = cpu_seconds(pid) if pid else float("nan")
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        if pid:
            rec.server_cpu = cpu_seconds(pid) - cpu
    finally:
        stop.set()
        shutil.rmtree(folder, ignore_errors=True)
    if not pid:
        return rec, wall, None
    after = memory_mb(pid)
    return rec, wall, (before, max(samples + [before, after]), after)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=None, help="students at once (default 30, quick 2)")
    p.add_argument("--seconds", type=float, default=None, help="seconds of live preview each (default 30, quick 3)")
    p.add_argument("--algorithm", default="maml", help="the Algorithm menu's choice (default maml, the page's)")
    p.add_argument("--url", help="an app already running (default: start one; then its memory is not measured)")
    p.add_argument("--quick", action="store_true", help="a smoke test: 2 students, 3 seconds of preview")
    args = p.parse_args(argv)
    args.students = args.students or (2 if args.quick else 30)
    args.seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 30.0)

    with app_at(args.url, {"METADEMO_GALLERY_DOWNLOAD": "0"}) as (url, proc):
        if proc is not None:
            # In a class the students' browsers run on their own machines: here the server goes first.
            os.nice(CLIENT_NICE)
            print(f"the students' clients run at nice {CLIENT_NICE}, the server at nice 0")
        rec, wall, memory = run_class(url, args.students, args.seconds, args.algorithm, proc.pid if proc else None)
    print(f"{args.students} students at once ({args.algorithm}, 3 inner steps), each: 3 to 5 classes of 3 "
          f"Omniglot drawings (2 uploaded, 1 drawn), Adapt, 2 queries, then {args.seconds:g} s of live preview; "
          f"wall {wall:.1f} s")
    print(f"{'request':<20} {'count':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for kind in KINDS:
        t = rec.times.get(kind, [])
        if t:
            goal = f"   (goal p95 <= {GOALS[kind]:g} s)" if kind in GOALS else ""
            print(f"{kind:<20} {len(t):>6} {np.percentile(t, 50):>7.2f} {np.percentile(t, 95):>7.2f} "
                  f"{max(t):>7.2f}{goal}")
    print(f"failures {len(rec.failures)}, turned away {rec.turned_away}")
    for f in rec.failures[:5]:
        print("failure:", f)
    print(f"load average before the class {rec.load_before:.1f} (1 minute, {os.cpu_count()} cores)"
          + (f"; the server used {rec.server_cpu:.1f} CPU seconds during it" if memory else ""))
    if memory:
        before, peak, after = memory
        print(f"server memory (RSS): {before:.0f} MB before the class, peak {peak:.0f} MB during it "
              f"(+{peak - before:.0f} MB), {after:.0f} MB after")
    ok = not rec.failures and not rec.turned_away
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
