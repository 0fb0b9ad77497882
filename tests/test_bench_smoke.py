"""`python -m inferctl.bench --quick` runs every scenario and prints every row.

Times depend on the machine, so nothing here checks a time or a goal; the full
benchmark and its results are in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROWS = ("pick-start", "help", "pick-scale", "verify", "verify-memory", "apply",
        "apply-sorted", "genesis", "epoch-form", "epoch-form-scale", "fsync")


def run_quick_bench(tmp_path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("INFERCTL_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "inferctl.bench", "--quick", "--keep",
         str(tmp_path / "bench")],
        capture_output=True, text=True, env=env, timeout=900,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_bench_prints_every_row(tmp_path):
    done = run_quick_bench(tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    starts = [line.split("  ")[0] for line in done.stdout.splitlines()]
    for name in ROWS:
        assert name in starts, done.stdout
    assert "scenario" in starts
