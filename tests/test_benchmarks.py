"""The benchmarks the README quotes run as documented and print their figures (tiny settings; no timing asserted)."""
import subprocess
import sys

import pytest

from helpers.report import REPO


@pytest.mark.parametrize("args, expect", [
    (["benchmarks/denormals.py", "--epochs", "2", "--images", "1200"], ["flush denormals", "ratio of totals (off / on)"]),
    (["benchmarks/scoring.py", "--images", "300", "--repeats", "1", "--threads", "1"],
     ["plain SmallCNN, batch 2048", "classifier_outputs (fused, channels-last)", "speed-up:", "largest feature difference"]),
    (["benchmarks/channels_last.py", "--steps", "2", "--repeats", "1", "--threads", "1"], ["channels"]),
    (["benchmarks/gan_step.py", "--steps", "2", "--repeats", "1", "--batches", "32", "64", "--threads", "1", "--bf16", "on"],
     ["|      bf16 |", "|      fp32 |", "ratio"]),
    (["benchmarks/gan_step.py", "--steps", "2", "--repeats", "1", "--batches", "32", "--threads", "1", "--bf16", "off"],
     ["|      fp32 |", "bf16 rows skipped (--bf16 off;"]),
    (["benchmarks/autoencoder_widths.py", "--widths", "8,16,32:64", "4,8,8:16", "--fold-epochs", "1", "--final-epochs", "1",
      "--images", "600", "--bf16", "off"], ["fold cost: 6 folds of 500 images", "(4, 8, 8) |     16 |   no |", "of 6",
                                             "final model: d = 10, 1 epochs", "test MSE", "bf16 rows skipped (--bf16 off;"]),
    (["benchmarks/autoencoder_widths.py", "--widths", "4,8,8:16", "--fold-epochs", "1", "--final-epochs", "1",
      "--images", "600", "--bf16", "on"], ["(4, 8, 8) |     16 |   no |", "(4, 8, 8) |     16 |  yes |", "test MSE"]),
    (["benchmarks/autoencoder_widths.py", "--widths", "4,8,8:16", "--fold-epochs", "1", "--final-epochs", "1",
      "--images", "600", "--bf16", "off", "--loss", "mse", "bce"], ["(4, 8, 8) |     16 |   no |  mse |",
                                                                     "(4, 8, 8) |     16 |   no |  bce |", "test MSE"]),
    (["benchmarks/warm_restarts.py", "--rungs", "1", "2", "--latent-dims", "4", "--images", "600"],
     ["fold 0 of 6 (500 / 100 images)", "val @  1 ep | val @  2 ep", "  4 | one-cycle |", "  4 |  restarts |"]),
    (["benchmarks/warm_restarts.py", "--rungs", "1", "2", "--latent-dims", "2", "4", "--lr", "0.001", "--ways", "one-cycle",
      "--images", "600"], ["lr 0.001,", "  2 | one-cycle |", "  4 | one-cycle |"]),
])
def test_benchmark_prints_its_table(args, expect):
    out = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert all(e in out.stdout for e in expect), out.stdout


def test_warm_restarts_benchmark_names_a_bad_fold():
    out = subprocess.run([sys.executable, "benchmarks/warm_restarts.py", "--fold", "6", "--images", "600"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "--fold must be one of 0 ... 5, got 6" in out.stderr


def test_gan_benchmark_times_bf16_by_default_only_where_it_is_native():
    from helpers.gan import bf16_is_fast

    out = subprocess.run([sys.executable, "benchmarks/gan_step.py", "--steps", "2", "--repeats", "1", "--batches", "32",
                          "--threads", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert ("|      bf16 |" in out.stdout) == bf16_is_fast("cpu")
    assert ("bf16 rows skipped (--bf16 auto: emulated here" in out.stdout) == (not bf16_is_fast("cpu"))
