"""A bounded load test of the running app on localhost.

    python benchmarks/load.py [--clients 20] [--calls 10] [--algorithm maml] [--url URL]

Starts ``python app.py`` (unless ``--url`` is given), then ``--clients`` concurrent ``gradio_client``
clients each make ``--calls`` ``/classify`` calls on a 5-way 5-shot episode. Reports the number of
errors and the p50/p95 latency, and checks the meta-parameters did not change (their hash before
and after, through the ``/model_hash`` endpoint).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from latency import episode_images, start_app, write_pngs  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--algorithm", default="maml")
    p.add_argument("--url")
    args = p.parse_args(argv)

    from gradio_client import Client, handle_file

    support, labels, query, source = episode_images()
    files = write_pngs(support + query)
    proc = None
    if args.url:
        url = args.url
    else:
        proc, url, cold = start_app()
        print(f"app started in {cold:.2f} s")
    try:
        first = Client(url, verbose=False, ssl_verify=False)
        hash_before = first.predict(args.algorithm, api_name="/model_hash")
        latencies, errors, lock = [], [], threading.Lock()

        def client_loop(i):
            try:
                c = Client(url, verbose=False, ssl_verify=False)
            except Exception as e:  # noqa: BLE001 - every failure is counted, not raised
                with lock:
                    errors.extend([repr(e)] * args.calls)
                return
            for _ in range(args.calls):
                t = time.perf_counter()
                try:
                    out = c.predict(args.algorithm, [handle_file(f) for f in files[: len(support)]], labels,
                                    [handle_file(f) for f in files[len(support):]], None, None,
                                    api_name="/classify")
                    assert len(out["probabilities"]) == len(query)
                    with lock:
                        latencies.append(1000 * (time.perf_counter() - t))
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append(repr(e)[:200])

        start = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        hash_after = first.predict(args.algorithm, api_name="/model_hash")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    total = args.clients * args.calls
    print(f"{args.clients} clients x {args.calls} /classify calls ({args.algorithm}, 5-way 5-shot, {source})")
    print(f"completed {len(latencies)}/{total}, errors {len(errors)}, wall {wall:.1f} s, "
          f"throughput {len(latencies) / wall:.1f} calls/s")
    if latencies:
        print(f"latency p50 {np.percentile(latencies, 50):.0f} ms, p95 {np.percentile(latencies, 95):.0f} ms "
              "(including queueing behind the other clients)")
    print(f"meta-parameters unchanged: {hash_before == hash_after}")
    for e in sorted(set(errors))[:5]:
        print("error:", e)
    return 0 if not errors and hash_before == hash_after else 1


if __name__ == "__main__":
    sys.exit(main())
