"""The benchmarks the README quotes run as documented and print their figures (tiny settings; no timing asserted)."""
import subprocess
import sys

import pytest

from helpers.report import REPO


@pytest.mark.parametrize("args, expect", [
    (["benchmarks/denormals.py", "--epochs", "2", "--images", "1200"], ["flush denormals", "ratio of totals (off / on)"]),
    (["benchmarks/channels_last.py", "--steps", "2", "--repeats", "1", "--threads", "1"], ["channels"]),
    (["benchmarks/gan_step.py", "--steps", "2", "--repeats", "1", "--batches", "32", "64", "--threads", "1"], ["bf16", "ratio"]),
])
def test_benchmark_prints_its_table(args, expect):
    out = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert all(e in out.stdout for e in expect), out.stdout
