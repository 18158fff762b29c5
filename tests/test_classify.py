import numpy as np
import pytest
import torch

from helpers import seed_everything
from helpers.classification.classify import classifier_from_autoencoder, freeze_encoder, param_groups
from helpers.classification.label_efficiency import label_efficiency
from helpers.data import balanced_subset
from helpers.models import Autoencoder, EncoderClassifier, count_parameters, load_model, save_model
from helpers.training import accuracy_and_loss, fit_classifier


def test_head_construction_and_pretrained_weights():
    ae = Autoencoder(6)
    clf = classifier_from_autoencoder(ae, hidden=32)
    assert clf(torch.rand(4, 1, 28, 28)).shape == (4, 10)
    for a, b in zip(ae.encoder.state_dict().values(), clf.encoder.state_dict().values()):
        assert torch.equal(a, b)
    linears = [m for m in clf.head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6, 32), (32, 10)]
    assert isinstance(EncoderClassifier(10, hidden=0).head, torch.nn.Identity)


def test_frozen_vs_finetuned_parameter_counts():
    clf = classifier_from_autoencoder(Autoencoder(10), hidden=64)
    total = count_parameters(clf)
    head = 10 * 64 + 64 + 64 * 10 + 10
    freeze_encoder(clf)
    assert count_parameters(clf) == head
    assert count_parameters(clf, trainable_only=False) == total
    assert len(param_groups(clf, 1e-3)) == 1
    freeze_encoder(clf, False)
    assert count_parameters(clf) == total
    groups = param_groups(clf, 1e-3, 0.1)
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]


def test_frozen_encoder_is_not_updated(mnist_train):
    x, y = mnist_train
    seed_everything(0)
    clf = freeze_encoder(classifier_from_autoencoder(Autoencoder(10)))
    before = [p.clone() for p in clf.encoder.parameters()]
    head_before = [p.clone() for p in clf.head.parameters()]
    fit_classifier(clf, x[:512], y[:512], epochs=1, lr=1e-2, batch_size=128, seed=0, device="cpu", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, clf.encoder.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(head_before, clf.head.parameters()))


def test_fit_classifier_learns(mnist_train, mnist_test):
    x, y = mnist_train
    seed_everything(0)
    clf = EncoderClassifier(10, hidden=0)
    hist = fit_classifier(
        clf, x[:3000], y[:3000], x[3000:3500], y[3000:3500], epochs=3, lr=3e-3, seed=0, device="cpu", progress=False
    )
    assert {"train_loss", "train_acc", "val_loss", "val_acc"} <= set(hist.columns)
    assert hist["val_acc"].iloc[-1] > 0.7


def test_balanced_label_subsets(mnist_train):
    _, y = mnist_train
    for n in (100, 1000):
        idx = balanced_subset(y.numpy(), n, seed=3)
        assert len(idx) == n and len(set(idx.tolist())) == n
        assert np.bincount(y.numpy()[idx], minlength=10).tolist() == [n // 10] * 10


def test_label_efficiency_rows(mnist_train, mnist_test):
    x, y = mnist_train
    xt, yt = mnist_test
    df = label_efficiency(
        Autoencoder(4),
        x[:2000],
        y[:2000],
        xt[:200],
        yt[:200],
        sizes=(100, 2000),
        seeds=(0, 1),
        seeds_large=(0,),
        large_from=1000,
        min_steps=3,
        epochs=1,
        device="cpu",
    )
    assert len(df) == (2 + 1) * 2
    assert set(df["init"]) == {"pretrained", "scratch"}
    assert df.loc[df.labels == 100, "seed"].nunique() == 2


def test_saved_classifier_contract(tmp_path):
    clf = classifier_from_autoencoder(Autoencoder(10))
    save_model(clf, tmp_path / "clf.pt")
    loaded = load_model(tmp_path / "clf.pt")
    assert not loaded.training
    x = torch.rand(7, 1, 28, 28)
    out = loaded(x)
    assert out.shape == (7, 10)
    assert torch.allclose(out, clf.eval()(x))


def test_classifier_length_mismatch():
    with pytest.raises(ValueError, match="length"):
        fit_classifier(
            EncoderClassifier(10, hidden=0),
            torch.rand(5, 1, 28, 28),
            torch.zeros(4, dtype=torch.long),
            epochs=1,
            lr=1e-3,
        )


def test_keep_best_restores_best_epoch(mnist_train):
    x, y = mnist_train
    seed_everything(0)
    clf = EncoderClassifier(10, hidden=0)
    hist = fit_classifier(
        clf, x[:1000], y[:1000], x[1000:1300], y[1000:1300], epochs=4, lr=3e-3, seed=0, device="cpu", progress=False
    )
    assert hist["best"].sum() == 1
    best_acc = hist.loc[hist["best"], "val_acc"].item()
    assert best_acc == hist["val_acc"].max()
    assert accuracy_and_loss(clf, x[1000:1300], y[1000:1300])[1] == pytest.approx(best_acc)


def test_label_efficiency_in_parallel_matches_serial(mnist_train, mnist_test):
    x, y = mnist_train
    xt, yt = mnist_test
    torch.manual_seed(0)
    ae = Autoencoder(4)
    kw = dict(sizes=(100,), seeds=(0, 1), min_steps=3, epochs=1, device="cpu")
    serial = label_efficiency(ae, x[:1000], y[:1000], xt[:200], yt[:200], n_jobs=1, **kw)
    parallel = label_efficiency(ae, x[:1000], y[:1000], xt[:200], yt[:200], n_jobs=2, **kw)
    assert serial[["labels", "init", "seed", "epochs"]].equals(parallel[["labels", "init", "seed", "epochs"]])
    assert (serial["test_acc"] - parallel["test_acc"]).abs().max() <= 0.02  # same runs; thread counts may differ


def test_load_or_train_classifier_caches_per_method_seed_and_autoencoder(tmp_path, mnist_train):
    from helpers.classification.classify import load_or_train_classifier, make_classifier

    x, y = mnist_train
    x_tr, y_tr, x_va, y_va = x[:256], y[:256], x[256:320], y[256:320]
    torch.manual_seed(0)
    ae = Autoencoder(6)
    kw = dict(epochs=1, lr=3e-3, batch_size=64, hidden=16, seed=0, device="cpu", progress=False)
    path = tmp_path / "clf.pt"
    m, hist, n, loaded = load_or_train_classifier(path, "frozen_head", ae, x_tr, y_tr, x_va, y_va, **kw)
    assert not loaded and n == 6 * 16 + 16 + 16 * 10 + 10 and len(hist) == 1
    for a, b in zip(ae.encoder.state_dict().values(), m.encoder.state_dict().values()):
        assert torch.equal(a, b)  # frozen: the pretrained encoder is untouched
    _, _, _, loaded = load_or_train_classifier(path, "frozen_head", ae, x_tr, y_tr, x_va, y_va, **kw)
    assert loaded
    with torch.no_grad():
        ae.encoder.net[0].bias[0] += 1e-3  # a retrained autoencoder: the cached classifier is stale
    _, _, _, loaded = load_or_train_classifier(path, "frozen_head", ae, x_tr, y_tr, x_va, y_va, **kw)
    assert not loaded
    # the seed sets the head's initial weights; the methods differ in what they train
    a, b = make_classifier("finetuned", ae, 16, 0), make_classifier("finetuned", ae, 16, 1)
    assert not torch.equal(a.head[1].weight, b.head[1].weight)
    assert torch.equal(a.head[1].weight, make_classifier("finetuned", ae, 16, 0).head[1].weight)
    assert count_parameters(make_classifier("latent10_scratch", ae, 16, 0)) == count_parameters(
        EncoderClassifier(10, hidden=0)
    )
    with pytest.raises(ValueError, match="method"):
        make_classifier("nope", ae, 16, 0)


def test_classifiers_follow_the_autoencoders_widths(tmp_path):
    from helpers.classification.classify import encoder_widths, make_classifier

    ae = Autoencoder(10, channels=(4, 8, 12), hidden=20)
    assert encoder_widths(ae) == {"channels": [4, 8, 12], "encoder_hidden": 20} and encoder_widths(None) == {}
    clf = classifier_from_autoencoder(ae, hidden=16)
    for a, b in zip(ae.encoder.state_dict().values(), clf.encoder.state_dict().values()):
        assert torch.equal(a, b)
    scratch = make_classifier("latent10_scratch", ae, 16, 0)  # the same encoder, from random weights
    assert [p.shape for p in scratch.encoder.parameters()] == [p.shape for p in ae.encoder.parameters()]
    plain = classifier_from_autoencoder(
        None, hidden=16, latent_dim=10, widths=encoder_widths(ae)
    )  # label efficiency's baseline
    assert [p.shape for p in plain.encoder.parameters()] == [p.shape for p in ae.encoder.parameters()]
    save_model(clf, tmp_path / "c.pt")
    again = load_model(tmp_path / "c.pt")
    assert again.config["channels"] == [4, 8, 12] and again.config["encoder_hidden"] == 20
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(again(x), clf.eval()(x))
