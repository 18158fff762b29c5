import subprocess
import sys

import pytest
import torch

from helpers import seed_everything
from helpers.dead_units import dead_units, relu_layers, revive_dead_units
from helpers.models import Autoencoder
from helpers.training import fit_autoencoder, reconstruction_mse


@pytest.fixture(scope="module")
def small(mnist_train):
    x, _ = mnist_train
    return x[:2048], x[2048:2560]


def _fit(x, v, **kw):
    seed_everything(0)
    model = Autoencoder(4)
    args = dict(epochs=2, lr=1e-3, batch_size=128, seed=0, device="cpu", progress=False)
    args.update(kw)
    return model, fit_autoencoder(model, x, v, **args)


def test_short_fit_lowers_loss(small):
    x, v = small
    seed_everything(0)
    model = Autoencoder(4)
    before = reconstruction_mse(model, v, device="cpu")
    model, hist = _fit(x, v, epochs=3, lr=3e-3)
    assert list(hist.columns[:3]) == ["epoch", "train_mse", "val_mse"]
    assert len(hist) == 3 and not hist["diverged"].any()
    assert hist["val_mse"].iloc[-1] < before
    assert hist["train_mse"].iloc[-1] < hist["train_mse"].iloc[0]


def test_same_seed_same_history(small):
    x, v = small
    _, h1 = _fit(x, v)
    _, h2 = _fit(x, v)
    assert h1.drop(columns="seconds").equals(h2.drop(columns="seconds"))


def test_divergence_is_caught(small):
    x, v = small
    _, hist = _fit(x, v, lr=1e4, epochs=4)
    assert hist["diverged"].iloc[-1] and len(hist) < 4  # stopped early, flagged
    assert hist["val_mse"].isna().iloc[-1]


def test_bce_loss_trains_and_logs_both_losses_and_is_scored_by_mse(small):
    x, v = small
    _, mse_hist = _fit(x, v, epochs=2, lr=3e-3)
    model, hist = _fit(x, v, epochs=2, lr=3e-3, loss="bce")
    assert list(hist.columns[:4]) == ["epoch", "train_mse", "train_loss", "val_mse"]
    assert (hist["train_loss"] > hist["train_mse"]).all()  # cross-entropy per pixel is larger than the squared error
    assert hist["train_mse"].iloc[-1] < hist["train_mse"].iloc[0]
    assert hist["val_mse"].iloc[-1] == pytest.approx(reconstruction_mse(model, v, device="cpu"))
    assert not hist["val_mse"].equals(mse_hist["val_mse"])  # a different objective: different weights
    with pytest.raises(ValueError, match="loss must be one of"):
        _fit(x, v, loss="l1")


def test_bce_divergence_is_caught_not_raised(small):
    x, v = small
    _, hist = _fit(x, v, lr=1e4, epochs=4, loss="bce")  # NaN outputs: BCE itself would raise on them
    assert hist["diverged"].iloc[-1] and len(hist) < 4 and "train_mse" in hist


def test_corrupt_applies_to_inputs_only(small):
    x, v = small
    seen = []

    def corrupt(batch):
        seen.append(batch.shape[0])
        return (batch + 0.3 * torch.randn_like(batch)).clamp(0, 1)

    _, hist = _fit(x, v, corrupt=corrupt, epochs=1)
    assert seen[0] == len(v)  # the fixed corrupted validation copy, made once
    assert sum(seen[1:]) == len(x)  # then every training batch, fresh each epoch


def test_checkpoint_resume_matches_uninterrupted(small, tmp_path):
    x, v = small
    _, full = _fit(x, v, epochs=3)
    ck = tmp_path / "ck.pt"
    _fit(x, v, epochs=2, checkpoint=ck)  # "interrupted" after 2 of 3 epochs
    # a 3-epoch run resumes from the 2-epoch checkpoint; the schedule is constant so state matches
    _, resumed = _fit(x, v, epochs=3, checkpoint=ck)
    cols = ["epoch", "train_mse", "val_mse"]
    assert resumed[cols].equals(full[cols])


def _kill(model):
    """Make encoder conv channel 2, encoder hidden unit 5 and decoder conv-transpose channel 1 dead."""
    with torch.no_grad():
        for layer, unit in ((model.encoder.net[0], 2), (model.encoder.net[7], 5)):
            layer.weight[unit] = 0.0
            layer.bias[unit] = -1.0
        t = model.decoder.net[5]
        t.weight[:, 1] = 0.0
        t.bias[1] = -1.0
    return model


def test_dead_units_found_and_revived(small):
    x, _ = small
    seed_everything(0)
    model = _kill(Autoencoder(4))
    assert [type(layer).__name__ for layer in relu_layers(model)] == [
        "Conv2d",
        "Conv2d",
        "Conv2d",
        "Linear",
        "Linear",
        "Linear",
        "ConvTranspose2d",
        "ConvTranspose2d",
    ]
    before = dead_units(model, x[:512])
    assert before.loc[0, "dead"] >= 1 and before.loc[3, "dead"] >= 1 and before.loc[6, "dead"] >= 1
    alive_w = model.encoder.net[0].weight[0].clone()
    untouched = model.decoder.net[9].weight.clone()  # the output layer: no ReLU after it
    n = revive_dead_units(model, x[:512])
    assert n == int(before["dead"].sum())
    after = dead_units(model, x[:512])
    assert after.loc[0, "dead"] == 0 and after.loc[6, "dead"] == 0
    assert torch.equal(model.encoder.net[0].weight[0], alive_w) and torch.equal(model.decoder.net[9].weight, untouched)
    assert model.encoder.net[0].weight[2].abs().sum() > 0  # fresh weights, not the zeros
    # one pass sees the layers as they were before it; a revived layer can change what comes after it, so a
    # unit downstream may need another pass (in training: the next epoch's)
    for _ in range(3):
        if revive_dead_units(model, x[:512]) == 0:
            break
    assert dead_units(model, x[:512])["dead"].sum() == 0


def test_fit_with_revive_logs_and_resumes(small, tmp_path):
    x, v = small
    seed_everything(0)
    model = _kill(Autoencoder(4))
    hist = fit_autoencoder(
        model, x, v, epochs=2, lr=1e-3, batch_size=128, seed=0, device="cpu", progress=False, revive=0.5
    )
    assert hist["revived"].tolist()[0] >= 3 and hist["revived"].tolist()[1] == 0  # only in the first half of the epochs
    # revive after every epoch: a run interrupted after 2 of 3 epochs and resumed ends like an uninterrupted one
    runs = {}
    for name, epochs_list in (("full", [3]), ("resumed", [2, 3])):
        ck = tmp_path / f"{name}.pt"
        for epochs in epochs_list:
            seed_everything(0)
            m = _kill(Autoencoder(4))
            runs[name] = fit_autoencoder(
                m,
                x,
                v,
                epochs=epochs,
                lr=1e-3,
                batch_size=128,
                seed=0,
                device="cpu",
                progress=False,
                revive=1.0,
                checkpoint=ck,
            )
    assert runs["resumed"]["val_mse"].tolist() == runs["full"]["val_mse"].tolist()
    assert runs["resumed"]["revived"].isna().tolist() == [True, True, False]  # epochs before the resume: unknown
    with pytest.raises(ValueError, match="revive"):
        fit_autoencoder(model, x, v, epochs=1, lr=1e-3, seed=0, device="cpu", progress=False, revive=1.5)


@pytest.mark.parametrize(
    "kw, name", [({"lr": 0}, "lr"), ({"lr": -1e-3}, "lr"), ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size")]
)
def test_bad_parameters(small, kw, name):
    x, v = small
    with pytest.raises(ValueError, match=name):
        _fit(x, v, **kw)


def test_bad_image_shape():
    with pytest.raises(ValueError, match="train_x"):
        fit_autoencoder(Autoencoder(2), torch.rand(10, 28, 28), epochs=1, lr=1e-3, seed=0, progress=False)


def test_load_or_compute_table_reuses_only_same_config(tmp_path):
    import pandas as pd

    from helpers.artifacts import load_or_compute_table

    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"epoch": [1, 2], "fid": [3.0, 2.0]})

    path = tmp_path / "t.csv"
    t1, loaded1 = load_or_compute_table(path, {"lr": 1e-3}, compute)
    t2, loaded2 = load_or_compute_table(path, {"lr": 1e-3}, compute)
    _, loaded3 = load_or_compute_table(path, {"lr": 2e-4}, compute)
    assert (loaded1, loaded2, loaded3) == (False, True, False) and len(calls) == 2
    assert list(t2.columns) == ["epoch", "fid"] and t2.fid.tolist() == [3.0, 2.0]


def test_parallel_map_keeps_order_and_limits_threads():
    import os

    from helpers.parallel import cpu_count, parallel_map

    probe = lambda item: (item * 2, torch.get_num_threads(), os.getpid())  # noqa: E731
    out = parallel_map(probe, [3, 1, 2], n_jobs=2)
    assert [o[0] for o in out] == [6, 2, 4]
    half = max(1, cpu_count() // 2)
    assert [o[1] for o in out] == [half, half, max(1, cpu_count())]  # the last item runs alone: every core
    assert os.getpid() not in {o[2] for o in out}  # ran in worker processes
    assert parallel_map(probe, [5], n_jobs=4)[0][::2] == (10, os.getpid())  # one item: in this process
    with pytest.raises(ValueError, match="n_jobs"):
        parallel_map(probe, [1], n_jobs=0)


def test_a_last_partial_round_of_tasks_shares_the_idle_cores():
    from helpers.parallel import task_thread_counts

    assert task_thread_counts(9, 2, 2) == [1] * 8 + [2]
    assert task_thread_counts(6, 2, 2) == [1] * 6  # full rounds: no idle worker
    assert task_thread_counts(7, 3, 12) == [4] * 6 + [12]
    assert task_thread_counts(8, 3, 12) == [4] * 6 + [6, 6]
    assert task_thread_counts(3, 4, 2) == [1, 1, 1]  # never below one thread


def test_truncated_checkpoint_is_set_aside_and_training_restarts(small, tmp_path):
    x, v = small
    _, full = _fit(x, v, epochs=2)
    ck = tmp_path / "ck.pt"
    _fit(x, v, epochs=1, checkpoint=ck)
    ck.write_bytes(ck.read_bytes()[: ck.stat().st_size // 2])  # a run killed mid-write by something else
    with pytest.warns(UserWarning, match=r"ck\.pt is not a readable training checkpoint.*restarts from scratch"):
        _, again = _fit(x, v, epochs=2, checkpoint=ck)
    cols = ["epoch", "train_mse", "val_mse"]
    assert again[cols].equals(full[cols])  # trained from scratch, as if no checkpoint had been there
    assert (tmp_path / "ck.pt.corrupt").is_file() and ck.is_file()  # kept for a look; a good checkpoint now


def test_load_or_train_retrains_a_corrupt_model_and_says_so(tmp_path):
    from helpers.artifacts import load_or_train

    calls = []

    def train():
        calls.append(1)
        return Autoencoder(2), __import__("pandas").DataFrame({"epoch": [1]})

    path = tmp_path / "ae.pt"
    load_or_train(path, {"a": 1}, train)
    path.write_bytes(b"")
    with pytest.warns(UserWarning, match=r"ae\.pt is not a readable saved model.*Training it again"):
        _, _, loaded = load_or_train(path, {"a": 1}, train)
    assert not loaded and len(calls) == 2
    assert load_or_train(path, {"a": 1}, train)[2]  # the retrained file loads


def test_checkpoint_of_an_older_loop_is_not_misread(small, tmp_path):
    x, v = small
    _, full = _fit(x, v, epochs=2)
    ck = tmp_path / "ck.pt"
    torch.save({"model": {}, "optimizer": {}, "history": [{"epoch": 1}]}, ck)  # the layout before helpers.loop
    with pytest.warns(UserWarning, match="older version of the training loop; training restarts from scratch"):
        _, again = _fit(x, v, epochs=2, checkpoint=ck)
    cols = ["epoch", "train_mse", "val_mse"]
    assert again[cols].equals(full[cols])
    assert torch.load(ck, weights_only=False)["format"] == 2  # rewritten in the current layout


def test_validate_last_scores_only_the_last_epoch_and_trains_the_same(small):
    x, v = small
    every_model, every = _fit(x, v, epochs=3, lr=3e-3)
    last_model, last = _fit(x, v, epochs=3, lr=3e-3, validate="last")
    assert last["val_mse"].iloc[:2].isna().all() and every["val_mse"].notna().all()
    assert last["val_mse"].iloc[-1] == every["val_mse"].iloc[-1]  # validating never touches training
    assert last["train_mse"].tolist() == every["train_mse"].tolist()
    for a, b in zip(every_model.state_dict().values(), last_model.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="validate must be 'every' or 'last'"):
        _fit(x, v, validate="first")


def test_amp_trains_in_bf16_autocast_and_off_is_the_plain_fit(small, monkeypatch):
    x, v = small
    plain_model, plain = _fit(x, v, epochs=2, lr=3e-3)
    off_model, off = _fit(x, v, epochs=2, lr=3e-3, amp=False)
    assert (
        off["train_mse"].tolist() == plain["train_mse"].tolist()
    )  # amp=False changes nothing (cached runs stay valid)
    dtypes = []
    real_forward = torch.nn.Conv2d.forward

    def spy(self, inp):
        out = real_forward(self, inp)
        dtypes.append(out.dtype)
        return out

    monkeypatch.setattr(torch.nn.Conv2d, "forward", spy)
    amp_model, amp = _fit(x, v, epochs=2, lr=3e-3, amp=True)
    assert torch.bfloat16 in dtypes  # the training forward passes ran in bf16
    assert (
        torch.isfinite(torch.tensor(amp["train_mse"].tolist())).all() and amp["val_mse"].iloc[-1] < v.var().item() * 2
    )
    assert all(p.dtype == torch.float32 for p in amp_model.parameters())  # weights stay fp32
    assert amp["train_mse"].tolist() != plain["train_mse"].tolist()


_FAULTS = """
import resource, sys, torch
from helpers.runtime import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else None
def step():  # a training step's pattern: buffers of a few MiB (10 MiB in all), filled, then freed
    buffers = [torch.empty(n << 18).fill_(1.0) for n in (1, 2, 3, 4)]
    return sum(float(b.sum()) for b in buffers)
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(applied, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_keep_freed_memory_stops_the_page_faults_of_a_repeated_large_allocation():
    def faults(mode):
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
        applied, per_step = out.stdout.split()
        return applied, float(per_step)

    (_, default), (applied, kept) = faults("default"), faults("keep")
    assert applied == "True"
    assert default > 1000 and kept < default / 10  # 10 MiB is 2560 pages: faulted in again by default, not when kept
