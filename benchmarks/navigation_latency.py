"""How long the navigation tab's *Adapt* takes: the shipped MAML and the baseline adapted to one goal, 3 inner
steps of 20 sampled episodes each (4 x 20 episodes of 100 steps per policy), as the page asks the API, plus the
drawing of the two fields and the chart. Torch runs on 2 threads (the machine the page is sized for).

    python benchmarks/navigation_latency.py [--runs 20]
    python benchmarks/navigation_latency.py --quick     # 2 runs, a smoke test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs

    import torch

    torch.set_num_threads(2)
    from metademo.ui.navigation_tab import nav_adapt

    nav_adapt((0.1, 0.1))  # loads the policies: not timed
    times = []
    for i in range(runs):
        goal = (0.4 * ((i % 5) - 2) / 2, 0.35)
        start = time.perf_counter()
        out = nav_adapt(goal, "pretrained MAML", 3, i)
        times.append(time.perf_counter() - start)
        assert "Goal" in out[-1]
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"navigation Adapt (MAML + baseline, 3 steps x 20 episodes, 2 torch threads), {runs} runs: "
          f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
