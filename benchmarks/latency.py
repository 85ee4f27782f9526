"""Interactive latency from what people really send: through the Python API and through the running app.

    python benchmarks/latency.py [--runs 30] [--sections preprocess,api,app,cold,preview] [--baseline-root DIR]
    python benchmarks/latency.py --quick    # a smoke test in under a minute: see the end of this docstring

One episode, 5-way 5-shot with 10 queries (5 unseen Omniglot characters, 7 drawings each), in four forms:

* ``png``: the original Omniglot files (105x105 1-bit PNGs), as a person uploads them;
* ``photo``: 3000x4000 JPEG photos of each drawing made large on paper (``benchmarks/inputs.py``: off-white
  uneven paper, lighting gradient, noise, quality 90; made once into ``.cache/inputs/``);
* ``sketch``: what the app's drawing pad sends, RGBA arrays with a transparent background;
* ``28x28``: the drawings already preprocessed to 28x28 (what this benchmark timed before).

Sections:

* ``preprocess``: milliseconds per image on one thread, the previous implementation (kept verbatim in
  ``tests/preprocess_reference.py``) against today's, in this process; the episode's 35 photos in one batch
  (``preprocess_batch``); how far the photos' 28x28 results move (JPEGs are now decoded at reduced size, by
  libjpeg) and what that does to the predictions;
* ``api``: ``fit`` + ``predict_proba`` p50/p95 for every algorithm at its checkpoint's default inner steps,
  with today's preprocessing and (for PNG files) with the previous one swapped in, at 3 inner steps, and,
  where the inner loops run in bfloat16 (:func:`metademo.adaptation_precision`), with them in float32;
* ``app``: a real ``python app.py``: ``/classify`` as the page calls it; through ``gradio_client`` with its
  default settings, by files (``/classify``) and by data URLs in one request (``/classify_images``); peak
  memory. ``--baseline-root`` also times another checkout's app (e.g. the previous version) the same way;
* ``cold``: ``python app.py`` until it answers HTTP, 3 starts.
* ``preview``: the live preview in Debian's Chromium (Playwright) against a real ``python app.py``: three
  gallery classes, adapted, then ``--runs`` strokes drawn with the mouse on the pad; from the end of each
  stroke (the page sends its 128x128 copy of the pad) to new bars beside it, as the page measures it.

Goals on 2 CPU cores (p50): preprocessing 0.3 ms per Omniglot PNG and 20 ms per 12-megapixel JPEG on one
core; from PNG files, ProtoNet 30 ms and every gradient-based algorithm 200 ms through the API; the app's
``/classify`` as the page calls it 300 ms; through ``gradio_client`` with default settings 1 s; cold start 5 s;
live preview about 150 ms from the end of a stroke to new bars.

``--quick`` is a smoke test: sections ``api,app,cold`` (unless ``--sections`` says otherwise), ProtoNet and
MAML only (unless ``--algorithms``), one timed call per measurement after the warm-up (``--runs`` sets
more), one cold start, and no phone photos (making them takes about 2 s each) unless the ``preprocess``
section is asked for. The ``preview`` section runs in quick mode only when asked for
(``tests/test_classroom_browser.py`` drives the live preview in Chromium too).
"""

from __future__ import annotations

import argparse
import os
import platform
import ssl
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import metademo  # noqa: E402
import metademo.api  # noqa: E402
from benchmarks import inputs  # noqa: E402
from benchmarks.appclient import PageClient, data_url, memory_mb, start_app, stop_app  # noqa: E402
from benchmarks.inputs import episode  # noqa: E402
from metademo.data import preprocess as current  # noqa: E402
from tests import preprocess_reference as reference  # noqa: E402

GOAL_PNG_MS, GOAL_JPEG_MS = 0.3, 20
GOAL_COMPARING, GOAL_GRADIENT, GOAL_PAGE, GOAL_CLIENT, GOAL_COLD, GOAL_PREVIEW = 30, 200, 300, 1000, 5.0, 150
CHROMIUM = "/usr/bin/chromium"


# --- the episode in its four forms -------------------------------------------------------------------------

def forms(support, queries, photos: bool = True):
    """{form: (support items, query items)}; without ``photos``, no ``"photo"`` form."""
    out = {"png": (support, queries)}
    if photos:
        out["photo"] = ([inputs.phone_photo(p, seed=i) for i, p in enumerate(support)],
                        [inputs.phone_photo(p, seed=100 + i) for i, p in enumerate(queries)])
    out["sketch"] = ([inputs.sketch(p, seed=i) for i, p in enumerate(support)],
                     [inputs.sketch(p, seed=100 + i) for i, p in enumerate(queries)])
    shrunk = lambda p: Image.fromarray(255 - (current.preprocess(p)[0].numpy() * 255).round().astype(np.uint8))  # noqa: E731
    out["28x28"] = ([shrunk(p) for p in support], [shrunk(p) for p in queries])
    return out


@dataclass(frozen=True)
class Rounds:
    """Timed calls per measurement, each after one warm-up call: ``many`` for the main rows, ``some`` and
    ``few`` for the costlier ones."""

    many: int
    some: int
    few: int

    @classmethod
    def of(cls, runs: int, quick: bool = False) -> Rounds:
        return cls(runs, runs, runs) if quick else cls(runs, max(5, runs // 3), max(3, runs // 6))


def timed(runs: int, fn, *args) -> list[float]:
    """Milliseconds of ``runs`` calls of ``fn(*args)``, after one warm-up call."""
    fn(*args)
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(*args)
        ms.append(1000 * (time.perf_counter() - t))
    return ms


def fit_predict(clf, support, labels, queries, steps=None):
    return clf.fit(support, labels, steps=steps).predict_proba(queries)


def p50(ms) -> float:
    return float(np.percentile(ms, 50))


def p95(ms) -> float:
    return float(np.percentile(ms, 95))


# --- sections ----------------------------------------------------------------------------------------------

def section_preprocess(support, queries, data, runs):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print("1. Preprocessing one image, one thread: ms per image (p50 over the episode's images, "
          f"{runs} rounds; photos and drawings fewer)")
    print(f"   {'input':42} {'before':>8} {'after':>8} {'ratio':>6} {'goal':>6}")
    rows = [("Omniglot PNG file, 105x105 1-bit", data["png"][0] + data["png"][1], GOAL_PNG_MS, runs),
            ("phone photo, 3000x4000 JPEG file", data["photo"][0][:10], GOAL_JPEG_MS, max(2, runs // 10)),
            ("drawing from the pad, RGBA 300x300 array", data["sketch"][0] + data["sketch"][1], None,
             max(2, runs // 10)),
            ("already 28x28 (PIL image)", data["28x28"][0] + data["28x28"][1], None, runs)]
    for name, items, goal, n in rows:
        per = {}
        for label, fn in (("before", reference.preprocess), ("after", current.preprocess)):
            ms = []
            for item in items:
                ms += timed(n, fn, item)
            per[label] = p50(ms)
        ok = "" if goal is None else ("ok" if per["after"] <= goal else "MISSED")
        print(f"   {name:42} {per['before']:>8.2f} {per['after']:>8.2f} {per['before'] / per['after']:>5.1f}x "
              f"{goal if goal is not None else '':>6} {ok}")
    photos = data["photo"][0] + data["photo"][1]
    ms = timed(max(2, runs // 10), current.preprocess_batch, photos)
    print(f"   {f'{len(photos)} phone photos in one batch (preprocess_batch)':42} {'':>8} {p50(ms):>8.1f}   "
          f"(ms for the batch, two threads where the cores allow)")
    torch.set_num_threads(threads)  # back to the default for the API section

    # What decoding photos at reduced size changes.
    photos = data["photo"][0] + data["photo"][1]
    new = torch.stack([current.preprocess(p) for p in photos])
    old = torch.stack([reference.preprocess(p) for p in photos])
    diff = (new - old).abs()
    print(f"\n   photos, today's 28x28 results against full-size decoding ({len(photos)} photos): largest pixel "
          f"difference {float(diff.amax(dim=(1, 2, 3)).max()):.2f} (median per photo "
          f"{float(diff.amax(dim=(1, 2, 3)).median()):.2f}), mean {float(diff.mean()):.4f} (0-1 scale)")
    n = len(data["photo"][0])
    for name in ("protonet", "maml"):
        clf = metademo.load_pretrained(name)
        labels = [f"class {i // 5}" for i in range(n)]
        pn = clf.fit(metademo.api.Preprocessed(new[:n]), labels).proba_of_tensor(new[n:])
        po = clf.fit(metademo.api.Preprocessed(old[:n]), labels).proba_of_tensor(old[n:])
        truth = np.repeat(np.arange(5), 2)
        print(f"   {name}: the same prediction for {int((pn.argmax(1) == po.argmax(1)).sum())} of {len(pn)} photo "
              f"queries; largest probability change {np.abs(pn - po).max():.4f}; accuracy "
              f"{(po.argmax(1) == truth).mean():.0%} before, {(pn.argmax(1) == truth).mean():.0%} after")


def section_api(labels, data, rounds: Rounds, names):
    print(f"\n2. Python API, fit + predict_proba from each input form: p50 / p95 ms ({rounds.many} runs; photos "
          f"{rounds.few})" + ("" if "photo" in data else "; no photos in this run"))
    print(f"   {'algorithm':10} {'steps':>5} {'png':>13} {'photo':>13} {'sketch':>13} {'28x28':>13} "
          f"{'png before':>13} {'png 3 steps':>13} {'png float32':>13} {'goal':>5}")
    baseline = metademo.api.preprocess_batch
    for name in names:
        try:
            clf = metademo.load_pretrained(name)
        except FileNotFoundError as e:
            print(f"   {name:10} skipped: {e}".split(". Train")[0])
            continue
        cells = []
        for form in ("png", "photo", "sketch", "28x28"):
            if form not in data:
                cells.append(None)
                continue
            s, q = data[form]
            cells.append(timed(rounds.few if form == "photo" else rounds.many, fit_predict, clf, s, labels, q))
        metademo.api.preprocess_batch = reference.preprocess_batch  # the previous preprocessing, same process
        try:
            s, q = data["png"]
            before = timed(rounds.some, fit_predict, clf, s, labels, q)
        finally:
            metademo.api.preprocess_batch = baseline
        goal = GOAL_GRADIENT if clf.info.adapts_by_steps else GOAL_COMPARING
        # The default inner steps are becoming 3 or more: the same at 3 steps.
        three = timed(rounds.some, fit_predict, clf, s, labels, q, 3) if clf.info.adapts_by_steps else None
        # Inner loops in float32 where they would run in bfloat16: what the faster arithmetic saves.
        float32 = None
        if clf.info.adapts_by_steps and metademo.adaptation_precision() != "float32":
            with mock.patch.dict(os.environ, METADEMO_PRECISION="float32"):
                float32 = timed(rounds.some, fit_predict, clf, s, labels, q)
        text = " ".join(f"{p50(ms):>6.0f} / {p95(ms):<4.0f}" if ms else f"{'-':^13}"
                        for ms in cells + [before, three, float32])
        print(f"   {name:10} {clf.default_steps if clf.info.adapts_by_steps else '-':>5} {text} {goal:>5} "
              f"{'ok' if p50(cells[0]) <= goal else 'MISSED'}")


def _png_files(items, folder: Path, prefix: str) -> list[str]:
    """Arrays (drawings from the pad) saved as the PNG files a program would send."""
    paths = []
    for i, a in enumerate(items):
        p = folder / f"{prefix}{i}.png"
        Image.fromarray(a).save(p)
        paths.append(str(p))
    return paths


def by_files(client, name, support, labels, queries):
    """``/classify`` through gradio_client: it uploads each file in a request of its own."""
    from gradio_client import handle_file

    return client.predict(name, [handle_file(p) for p in support], labels, [handle_file(p) for p in queries],
                          None, None, api_name="/classify")


def by_data_urls(client, name, support, labels, queries):
    """``/classify_images`` through gradio_client: the files read and encoded here, all in one request."""
    return client.predict([data_url(p) for p in support], labels, [data_url(p) for p in queries], name, None,
                          None, api_name="/classify_images")


def time_app(url, labels, data, rounds: Rounds, names, folder: Path, has_images_endpoint=True):
    """Round trips of each algorithm in ``names``; the drawings are saved as PNG files into ``folder``."""
    from gradio_client import Client

    files = {"png": data["png"],
             "sketch": (_png_files(data["sketch"][0], folder, "s"), _png_files(data["sketch"][1], folder, "q"))}
    if "photo" in data:
        files["photo"] = data["photo"]
    page = PageClient(url)
    client = Client(url, verbose=False)  # default settings, as a program would write it
    client_ctx = Client(url, verbose=False, ssl_verify=ssl.create_default_context())  # the README's set-up
    results = {}
    for name in names:
        s, q = files["png"]
        page.classify(name, s, labels, q)  # loads the model
        row = {"page png": timed(rounds.many, page.classify, name, s, labels, q)}
        row["client files"] = timed(rounds.few, by_files, client, name, s, labels, q)
        row["client files, one TLS context"] = timed(rounds.few, by_files, client_ctx, name, s, labels, q)
        if has_images_endpoint:
            row["client data URLs"] = timed(rounds.some, by_data_urls, client, name, s, labels, q)
        if name in ("protonet", "maml"):
            for form in ("photo", "sketch"):
                if form in files:
                    fs, fq = files[form]
                    row[f"page {form}"] = timed(rounds.few, page.classify, name, fs, labels, fq)
        results[name] = row
    return results


def section_app(labels, data, rounds: Rounds, baseline_root, names):
    names = [n for n in names if metademo.api.weights_path(n).is_file()]
    print(f"\n3. The app, round trips on localhost, images included: p50 / p95 ms ({rounds.many} runs as the page; "
          f"{rounds.few} to {rounds.some} through gradio_client)")
    servers = [("today", None)] + ([("baseline", baseline_root)] if baseline_root else [])
    for label, root in servers:
        env = {"METADEMO_GALLERY_DOWNLOAD": "0"}
        if root:
            import benchmarks.appclient as appclient

            saved, appclient.ROOT = appclient.ROOT, Path(root)
        try:
            proc, url, _ = start_app(env)
        finally:
            if root:
                appclient.ROOT = saved
        try:
            with tempfile.TemporaryDirectory(prefix="metademo-latency-") as folder:
                results = time_app(url, labels, data, rounds, names, Path(folder), has_images_endpoint=root is None)
            peak = memory_mb(proc.pid, "VmHWM")
        finally:
            stop_app(proc)
        print(f"   {label}{f' ({root})' if root else ''}: peak memory {peak:.0f} MB")
        for name, row in results.items():
            print(f"   {name:10} " + "  ".join(f"{k} {p50(v):.0f} / {p95(v):.0f}" for k, v in row.items()))
        print(f"   goals: page png {GOAL_PAGE}, gradio_client {GOAL_CLIENT}")


def section_cold(starts=3):
    times = []
    for _ in range(starts):
        proc, _, seconds = start_app({"METADEMO_GALLERY_DOWNLOAD": "0"})
        stop_app(proc)
        times.append(seconds)
    print(f"\n4. Cold start, python app.py until it answers HTTP: {', '.join(f'{t:.2f}' for t in times)} s "
          f"(median {np.median(times):.2f}; goal {GOAL_COLD:.0f} s)")


def section_preview(strokes: int, names=("protonet", "maml")):
    from playwright.sync_api import expect, sync_playwright

    from metademo.algorithms import REGISTRY

    slow = 120_000
    proc, url, _ = start_app({"METADEMO_GALLERY_DOWNLOAD": "0"})
    print(f"\n5. Live preview in Chromium, {strokes} strokes each, from the end of a stroke to new bars (ms):")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url, wait_until="domcontentloaded")
            expect(page.locator("#device-info")).to_contain_text("Models run on", timeout=slow)
            for i in (1, 2, 3):
                page.click(f"#class-{i}-pick")
                expect(page.locator(f"#class-{i}-gallery img")).to_have_count(5, timeout=slow)
            live, canvas = page.locator("#live-preview"), page.locator("#sketchpad canvas").first
            for name in names:
                page.locator("#algorithm input").click()
                page.get_by_role("option", name=REGISTRY[name].title, exact=True).click()
                page.wait_for_timeout(1000)  # the algorithm's defaults arrive
                status = page.locator("#adapt-status").inner_text()
                page.click("#adapt")
                expect(page.locator("#adapt-status")).not_to_have_text(status, timeout=slow)
                page.wait_for_function("() => !/processing|queue/.test(document.querySelector('#adapt-status')"
                                       ".innerText)", timeout=slow)
                page.evaluate("() => { window.metademoClearPad(); window.metademoPreviewTimes = []; }")
                page.wait_for_timeout(500)
                canvas.scroll_into_view_if_needed()
                box = canvas.bounding_box()
                for k in range(strokes):
                    x = box["x"] + box["width"] * (0.2 + 0.6 * (k % 5) / 4)
                    y = box["y"] + box["height"] * (0.25 + 0.1 * (k // 5 % 5))
                    before = live.inner_text()
                    page.mouse.move(x, y)
                    page.mouse.down()
                    for d in range(1, 6):
                        page.mouse.move(x + 8 * d, y + (12 if d % 2 else 0) * d / 2)
                    page.mouse.up()
                    try:
                        expect(live).not_to_have_text(before, timeout=10_000)
                    except AssertionError:
                        pass  # the stroke left the bars as they were: no round trip to count
                    page.wait_for_timeout(400)  # nothing queued behind the next stroke
                newest = [b for _, b in page.evaluate("() => window.metademoPreviewTimes")]
                if not newest:
                    raise RuntimeError(f"{name}: {strokes} strokes and no preview update")
                print(f"   {name:10} p50 {p50(newest):.0f}, p95 {p95(newest):.0f}, max {max(newest):.0f} "
                      f"over {len(newest)} updates (goal about {GOAL_PREVIEW})")
            browser.close()
    finally:
        stop_app(proc)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=None, help="timed calls per measurement (default 30, quick 1)")
    p.add_argument("--sections", default=None, help="default preprocess,api,app,cold (quick api,app,cold)")
    p.add_argument("--algorithms", default=None,
                   help="the algorithms of the api, app and preview sections (default all; quick protonet,maml; "
                        "preview protonet,maml)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: fewer sections, algorithms and calls, no phone photos (see above)")
    p.add_argument("--baseline-root", help="also time the app of this checkout (for example the previous version)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for the API (default 1, as the app runs each job; two jobs run at once)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = args.runs or (1 if args.quick else 30)
    sections = (args.sections or ("api,app,cold" if args.quick else "preprocess,api,app,cold")).split(",")
    unknown = set(sections) - {"preprocess", "api", "app", "cold", "preview"}
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    names = (args.algorithms or ("protonet,maml" if args.quick else ",".join(metademo.available_algorithms())))
    names = [n for n in names.split(",") if n]
    if set(names) - set(metademo.available_algorithms()):
        p.error(f"--algorithms: choose from {', '.join(metademo.available_algorithms())}")
    rounds = Rounds.of(runs, args.quick)

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {metademo.default_device()}, inner loops in {metademo.adaptation_precision()}, "
          f"Python {platform.python_version()}")
    support, labels, queries = episode()
    t = time.perf_counter()
    data = forms(support, queries, photos=not args.quick or "preprocess" in sections)
    print(f"episode: 5-way 5-shot, {len(queries)} queries, from {Path(support[0]).parents[2].name}; "
          f"inputs ready in {time.perf_counter() - t:.1f} s" + ("; quick: no phone photos" if "photo" not in data
                                                                 else "") + "\n")
    if "preprocess" in sections:
        section_preprocess(support, queries, data, runs)
    if "api" in sections:
        section_api(labels, data, rounds, names)
    if "app" in sections:
        section_app(labels, data, rounds, args.baseline_root, names)
    if "cold" in sections:
        section_cold(1 if args.quick else 3)
    if "preview" in sections:
        section_preview(runs, tuple(names) if args.algorithms else ("protonet", "maml"))


if __name__ == "__main__":
    main()
