"""A bounded load test of the running app on localhost.

    python benchmarks/load.py [--clients 20] [--calls 10] [--algorithm maml] [--url URL]
    python benchmarks/load.py --quick    # a smoke test: 2 clients x 2 calls

Starts ``python app.py`` on a free port (unless ``--url`` is given), then ``--clients`` concurrent
``gradio_client`` clients each make ``--calls`` ``/classify`` calls on a 5-way 5-shot episode with 10
queries. Reports the number of errors and the p50/p95 latency, and checks the meta-parameters did not
change (their hash before and after, through the ``/model_hash`` endpoint). Exits with 1 on any error or
a changed hash.
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

from benchmarks.appclient import app_at  # noqa: E402
from benchmarks.inputs import episode  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=None, help="concurrent clients (default 20, quick 2)")
    p.add_argument("--calls", type=int, default=None, help="calls per client (default 10, quick 2)")
    p.add_argument("--algorithm", default="maml")
    p.add_argument("--url", help="an app already running (default: start one on a free port)")
    p.add_argument("--quick", action="store_true", help="a smoke test: 2 clients x 2 calls")
    args = p.parse_args(argv)
    clients = args.clients or (2 if args.quick else 20)
    calls = args.calls or (2 if args.quick else 10)

    from gradio_client import Client, handle_file

    support, labels, query = episode()
    files = support + query
    source = "Omniglot PNG files" if "images_evaluation" in Path(support[0]).parts else "synthetic glyphs"
    with app_at(args.url, {"METADEMO_GALLERY_DOWNLOAD": "0"}) as (url, _):
        first = Client(url, verbose=False, ssl_verify=False)
        hash_before = first.predict(args.algorithm, api_name="/model_hash")
        latencies, errors, lock = [], [], threading.Lock()

        def client_loop(i):
            try:
                c = Client(url, verbose=False, ssl_verify=False)
            except Exception as e:  # noqa: BLE001 - every failure is counted, not raised
                with lock:
                    errors.extend([repr(e)] * calls)
                return
            for _ in range(calls):
                t = time.perf_counter()
                try:
                    out = c.predict(args.algorithm, [handle_file(f) for f in files[: len(support)]], labels,
                                    [handle_file(f) for f in files[len(support):]], None, None,
                                    api_name="/classify")
                    if len(out["probabilities"]) != len(query):
                        raise RuntimeError(f"{len(out['probabilities'])} rows of probabilities for {len(query)} "
                                           "queries")
                    with lock:
                        latencies.append(1000 * (time.perf_counter() - t))
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append(repr(e)[:200])

        start = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        hash_after = first.predict(args.algorithm, api_name="/model_hash")
    total = clients * calls
    print(f"{clients} clients x {calls} /classify calls ({args.algorithm}, 5-way 5-shot, {len(query)} queries, "
          f"{source})")
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
