"""Soak: many visitors in a row, each in a fresh session; the server's memory must stay bounded.

    python benchmarks/soak.py [--clients 4] [--calls 500] [--warm-up 250] [--sessions 200]
    python benchmarks/soak.py --quick    # a smoke test: 2 clients x 12 calls, room for 4 sessions

A real ``python app.py``; ``--clients`` threads each make ``--calls`` ``/classify`` calls the way the page
does (one upload request with the 35 Omniglot PNG files of a 5-way 5-shot episode with 10 queries, then the
job), every call in a new session (a new visitor: the worst case, since Gradio keeps a session's state after
its last call), taking turns through every algorithm. Prints the errors, the server's resident memory
(VmRSS) after warm-up (the first ``--warm-up`` calls, past the app's session capacity, so that the session
store is full) and then every 10 % of the run, the growth after warm-up (goal < 100 MB) and the files the
uploads left in Gradio's cache folder. Then checks that a visitor's adapted model went with their session:
one session adapts at the start, and after the run its queries are answered "Press 'Adapt' first".
The server runs on a free port with ``--sessions`` as its session capacity (``METADEMO_MAX_SESSIONS``);
``--quick`` makes 24 calls, the first 16 of them the warm-up (each client has called every algorithm), with
room for 4 sessions, so that the first visitor's session is still pushed out. The upload folder is removed
at the end. Exits with 1 on any error, growth over the goal, or a model left behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.appclient import PageClient, memory_mb, start_app, stop_app  # noqa: E402
from benchmarks.inputs import episode  # noqa: E402
from metademo.ui.app import MAX_SESSIONS  # noqa: E402

GOAL_GROWTH_MB = 100


def adapt_args(support, labels, n_classes=5, algorithm="protonet"):
    """``/adapt`` as the page sends it: 10 class names and galleries (the unused ones empty)."""
    from metademo.ui.handlers import MAX_CLASSES

    names = sorted(set(labels))
    galleries = [[{"image": f, "caption": None} for f, lab in zip(support, labels) if lab == n] for n in names]
    names += [""] * (MAX_CLASSES - len(names))
    galleries += [[]] * (MAX_CLASSES - len(galleries))
    return (algorithm, 0, 0.4, n_classes, *names, *galleries, [])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=None, help="concurrent clients (default 4, quick 2)")
    p.add_argument("--calls", type=int, default=None, help="per client (default 500, quick 12)")
    p.add_argument("--warm-up", type=int, default=None,
                   help="calls (all clients together) before the baseline (default 250, quick 16)")
    p.add_argument("--sessions", type=int, default=None,
                   help=f"the app's session capacity (default {MAX_SESSIONS}, the app's; quick 4)")
    p.add_argument("--quick", action="store_true", help="a smoke test: 2 clients x 12 calls, room for 4 sessions")
    args = p.parse_args(argv)
    args.clients = args.clients or (2 if args.quick else 4)
    args.calls = args.calls or (12 if args.quick else 500)
    args.warm_up = args.warm_up or (16 if args.quick else 250)
    capacity = args.sessions or (4 if args.quick else MAX_SESSIONS)
    total = args.clients * args.calls
    support, labels, queries = episode()
    from metademo import available_algorithms
    from metademo.api import weights_path

    names = [n for n in available_algorithms() if weights_path(n).is_file()]
    temp = Path(tempfile.mkdtemp(prefix="metademo-soak-"))
    proc, url, _ = start_app({"METADEMO_GALLERY_DOWNLOAD": "0", "GRADIO_TEMP_DIR": str(temp),
                              "METADEMO_MAX_SESSIONS": str(capacity)})
    print(f"server up; {args.clients} clients x {args.calls} /classify calls, each in a new session, algorithms "
          f"{', '.join(names)}; session capacity {capacity}")
    try:
        # One visitor adapts first: their model must be gone once newer sessions have pushed theirs out.
        visitor = PageClient(url)
        files = visitor.upload(support)
        visitor.call("adapt", *adapt_args(files, labels))
        query = [{"image": files[0], "caption": None}]
        if not visitor.call("classify_queries", query)[3]["data"]:  # chart, step, predictions, table, map
            raise RuntimeError("the visitor's adapted model should answer right after adapting")

        done, errors, lock = [0], [], threading.Lock()
        samples: list[tuple[int, float, float]] = []
        start = time.perf_counter()
        baseline = {}

        def work(c):
            client = PageClient(url, fresh_sessions=True)
            for i in range(args.calls):
                name = names[(c + i) % len(names)]
                try:
                    out = client.classify(name, support, labels, queries)
                    if len(out["probabilities"]) != len(queries):
                        raise RuntimeError(f"bad answer {out}")
                except Exception as e:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(repr(e)[:200])
                with lock:
                    done[0] += 1
                    n = done[0]
                    if n == args.warm_up:
                        baseline["rss"], baseline["t"] = memory_mb(proc.pid), time.perf_counter()
                    if n % max(1, total // 10) == 0:
                        samples.append((n, time.perf_counter() - start, memory_mb(proc.pid)))

        threads = [threading.Thread(target=work, args=(c,)) for c in range(args.clients)]
        before = memory_mb(proc.pid)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        final = memory_mb(proc.pid)
        peak = memory_mb(proc.pid, "VmHWM")
        gone = visitor.call("classify_queries", query)
    finally:
        stop_app(proc)

    table = gone[3]["data"] if isinstance(gone, list) and len(gone) > 3 else None
    print(f"{done[0]} calls in {wall:.0f} s ({1000 * wall / done[0]:.0f} ms per call with {args.clients} clients), "
          f"{len(errors)} errors" + (f", first: {errors[0]}" if errors else ""))
    print(f"resident memory: {before:.0f} MB before the run, {baseline.get('rss', float('nan')):.0f} MB after "
          f"{args.warm_up} calls (warm-up), {final:.0f} MB at the end, peak {peak:.0f} MB")
    for n, t, rss in samples:
        print(f"   after {n:5d} calls ({t:4.0f} s): {rss:.0f} MB")
    growth = final - baseline.get("rss", before)
    rss_after = [rss for n, _, rss in samples if n >= args.warm_up]
    drift = np.polyfit([n for n, _, _ in samples if n >= args.warm_up], rss_after, 1)[0] * 1000 \
        if len(rss_after) >= 3 else float("nan")
    print(f"growth after warm-up: {growth:+.0f} MB (goal < {GOAL_GROWTH_MB}); trend {drift:+.1f} MB per 1000 calls")
    uploads = sum(1 for f in temp.rglob("*") if f.is_file())
    size = sum(f.stat().st_size for f in temp.rglob("*") if f.is_file()) / 2**20
    shutil.rmtree(temp, ignore_errors=True)
    print(f"files left in Gradio's cache folder: {uploads} ({size:.0f} MB; the app deletes them after 2 hours, "
          "see delete_cache in metademo/ui/app.py; this run's folder is removed now)")
    print("the first visitor's adapted model after the run: "
          + ("gone (their queries get 'Press Adapt first')" if table == [] else f"still there: {table}"))
    ok = not errors and growth < GOAL_GROWTH_MB and table == []
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
