import pytest
import torch

from helpers.corruption import Compose, GaussianNoise, RandomRotation, corrupt_fixed
from helpers.denoise import load_or_train_denoiser, load_progress, progress_path
from helpers.models import Autoencoder, load_model

TINY = dict(
    latent_dim=4, channels=(2, 4, 4), hidden=8, epochs=2, lr=5e-3, batch_size=32, seed=0, device="cpu", progress=False
)


def test_denoiser_cached_per_corruption_and_contract(tmp_path, mnist_test):
    x = mnist_test[0][:128]
    x_tr, x_va = x[:96], x[96:]
    noise = Compose(GaussianNoise(0.3))
    path = tmp_path / "denoiser.pt"
    snap = x_va[:5]
    model, hist, loaded = load_or_train_denoiser(path, noise, x_tr, x_va, snapshot_batch=snap, **TINY)
    assert not loaded and len(hist) == 2 and {"train_mse", "val_mse"} <= set(hist.columns)
    snaps = load_progress(path)
    assert sorted(snaps) == [1, 2] and snaps[2].shape == snap.shape and snaps[2].dtype == torch.float32
    assert progress_path(path).suffix == ".npz" and torch.allclose(
        snaps[2], model.eval()(snap), atol=1e-6
    )  # the last epoch's outputs
    assert load_progress(tmp_path / "never_trained.pt") == {}

    # same settings: loaded, not retrained; the saved file meets the contract
    again, hist2, loaded2 = load_or_train_denoiser(path, noise, x_tr, x_va, **TINY)
    assert loaded2 and hist2["val_mse"].tolist() == hist["val_mse"].tolist()
    saved = load_model(path)
    assert isinstance(saved, Autoencoder) and not saved.training
    noisy = corrupt_fixed(noise, x_va, seed=1)
    out = saved(noisy)
    assert out.shape == noisy.shape and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out, model.eval()(noisy))

    # another corruption is another model: retrained, and it overwrites the stale file
    other = Compose(GaussianNoise(0.3), RandomRotation(30))
    _, _, loaded3 = load_or_train_denoiser(path, other, x_tr, x_va, **TINY)
    assert not loaded3
    _, _, loaded4 = load_or_train_denoiser(path, noise, x_tr, x_va, **TINY)
    assert not loaded4


def test_denoisers_side_by_side_take_their_own_keywords(tmp_path, mnist_test):
    import pytest

    from helpers.denoise import load_or_train_denoisers

    x = mnist_test[0][:96]
    x_tr, x_va = x[:64], x[64:]
    noise = Compose(GaussianNoise(0.3))
    snap = x_va[:3]
    jobs = {
        "with snapshots": (tmp_path / "a.pt", noise, {"snapshot_batch": snap}),
        "plain": (tmp_path / "b.pt", Compose(GaussianNoise(0.1))),
    }
    fits = load_or_train_denoisers(jobs, x_tr, x_va, n_jobs=2, **TINY)
    assert list(fits) == list(jobs) and all(not loaded for _, _, loaded in fits.values())
    assert sorted(load_progress(tmp_path / "a.pt")) == [1, 2]  # only the job that asked keeps snapshots
    assert not progress_path(tmp_path / "b.pt").exists()
    # each is the model load_or_train_denoiser trains with the same settings: loaded from the same file
    _, hist, loaded = load_or_train_denoiser(tmp_path / "b.pt", Compose(GaussianNoise(0.1)), x_tr, x_va, **TINY)
    assert loaded and hist["val_mse"].tolist() == fits["plain"][1]["val_mse"].tolist()
    with pytest.raises(ValueError, match="job 'bad' must be"):
        load_or_train_denoisers({"bad": (tmp_path / "c.pt",)}, x_tr, x_va, **TINY)


def test_progress_snapshots_survive_a_kill_and_resume(tmp_path, mnist_test, monkeypatch):
    import pytest

    import helpers.denoise as denoise

    x = mnist_test[0][:128]
    x_tr, x_va, snap = x[:96], x[96:], x[96:101]
    noise = Compose(GaussianNoise(0.3))
    load_or_train_denoiser(tmp_path / "whole" / "d.pt", noise, x_tr, x_va, snapshot_batch=snap, **TINY)
    whole = load_progress(tmp_path / "whole" / "d.pt")

    real_predict, calls = denoise.predict, []

    def killed_in_epoch_2(*args, **kwargs):  # the run dies at the end of epoch 2, after epoch 1's checkpoint
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_predict(*args, **kwargs)

    monkeypatch.setattr(denoise, "predict", killed_in_epoch_2)
    path = tmp_path / "killed" / "d.pt"
    with pytest.raises(KeyboardInterrupt):
        load_or_train_denoiser(path, noise, x_tr, x_va, snapshot_batch=snap, **TINY)
    assert not path.exists() and not progress_path(path).exists()
    monkeypatch.setattr(denoise, "predict", real_predict)
    _, hist, loaded = load_or_train_denoiser(path, noise, x_tr, x_va, snapshot_batch=snap, **TINY)
    resumed = load_progress(path)
    assert not loaded and sorted(resumed) == [1, 2]  # epoch 1 came from before the kill
    assert all(torch.allclose(resumed[e], whole[e], atol=1e-6) for e in (1, 2))


def test_a_warm_started_denoiser_starts_from_init_and_keys_on_its_weights(tmp_path, mnist_test):
    x = mnist_test[0][:128]
    x_tr, x_va = x[:96], x[96:]
    noise = Compose(GaussianNoise(0.3))
    start, start_hist, _ = load_or_train_denoiser(tmp_path / "start.pt", noise, x_tr, x_va, **TINY)
    kw = {**TINY, "epochs": 1, "lr": 1e-12}  # a learning rate too small to move: the start's weights come through
    warm, hist, loaded = load_or_train_denoiser(tmp_path / "warm.pt", noise, x_tr, x_va, init=start, **kw)
    assert not loaded and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(warm.parameters(), start.parameters()))
    assert abs(hist["val_mse"].iloc[-1] - start_hist["val_mse"].iloc[-1]) < 1e-6  # it scores as its start did
    # the same start loads; another start is another model
    assert load_or_train_denoiser(tmp_path / "warm.pt", noise, x_tr, x_va, init=start, **kw)[2]
    other = Autoencoder(TINY["latent_dim"], TINY["channels"], TINY["hidden"])
    assert not load_or_train_denoiser(tmp_path / "warm.pt", noise, x_tr, x_va, init=other, **kw)[2]
    with pytest.raises(ValueError, match="widths"):
        load_or_train_denoiser(tmp_path / "bad.pt", noise, x_tr, x_va, init=Autoencoder(3, (2, 4, 4), 8), **kw)


def test_per_sigma_denoisers_warm_start_for_their_own_epochs_or_train_from_scratch(tmp_path, mnist_test):
    from helpers.denoise import load_or_train_per_sigma

    x = mnist_test[0][:128]
    x_tr, x_va = x[:96], x[96:]
    start = load_or_train_denoiser(tmp_path / "start.pt", Compose(GaussianNoise(0.3)), x_tr, x_va, **TINY)[0]
    warm = load_or_train_per_sigma(tmp_path / "warm", (0.1, 0.3), x_tr, x_va, start=start, warm_epochs=1, **TINY)
    assert list(warm) == ["σ = 0.1", "σ = 0.3"] and [len(h) for _, h, _ in warm.values()] == [1, 1]
    assert (tmp_path / "warm" / "denoiser_sigma0.3.pt").is_file()
    cold = load_or_train_per_sigma(tmp_path / "cold", (0.1,), x_tr, x_va, warm_epochs=1, **TINY)
    assert len(cold["σ = 0.1"][1]) == TINY["epochs"]  # no start: the full epochs from random weights
