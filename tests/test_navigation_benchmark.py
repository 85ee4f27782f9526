"""The navigation latency benchmark's quick mode runs (a smoke test, not a timing)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / "assets" / "nav_maml.safetensors").is_file(), reason="no navigation policies")
def test_navigation_latency_quick():
    out = subprocess.run([sys.executable, "benchmarks/navigation_latency.py", "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "navigation Adapt" in out.stdout and "median" in out.stdout
