"""The layers are a contract, checked by import-linter (its contracts are in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports() -> str:
    return shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"


def test_import_contracts_are_kept():
    out = subprocess.run([lint_imports()], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_a_shortcut_import_breaks_the_contract(tmp_path):
    """The check can fail: a copy of the package in which the data layer imports the algorithms is refused."""
    shutil.copytree(ROOT / "metademo", tmp_path / "metademo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "metademo" / "data" / "sine.py"
    target.write_text(target.read_text() + "\nfrom ..algorithms import base  # noqa\n")
    out = subprocess.run([lint_imports()], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0 and "metademo.data.sine -> metademo.algorithms.base" in out.stdout


def test_every_module_reads_at_once():
    """No file of the package over 500 lines: a newcomer reads any of them top to bottom."""
    root = ROOT / "metademo"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, f"files over 500 lines: {long}"
