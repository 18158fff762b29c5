"""FixMatch: its augmentations, the confidence threshold, that unlabelled images lend no label, resume, a real run."""

import numpy as np
import pytest
import torch

from helpers.classification import errors
from helpers.classification import semisupervised as ss
from helpers.classification.classify import classifier_from_autoencoder
from helpers.corruption import Cutout
from helpers.models import Autoencoder


def test_strong_augmentation_changes_images_keeps_range_shape_and_is_seeded():
    x = torch.rand(16, 1, 28, 28)
    for aug in (ss.strong_augment(), ss.strong_augment(elastic=34.0)):
        torch.manual_seed(0)
        a = aug(x)
        torch.manual_seed(0)
        b = aug(x)
        assert a.shape == x.shape and torch.equal(a, b)
        assert a.min() >= 0 and a.max() <= 1 and not torch.allclose(a, x)
    assert "ElasticDistortion" in repr(ss.strong_augment(elastic=34.0))
    assert "ElasticDistortion" not in repr(ss.strong_augment())


def test_cutout_erases_one_square_per_image():
    x = torch.ones(8, 1, 28, 28)
    out = Cutout(5)(x)
    erased = (out == 0).flatten(1).sum(1)
    assert ((erased > 0) & (erased <= 25)).all()  # clipped at the border, never more than the square
    with pytest.raises(ValueError, match="size"):
        Cutout(0)


def test_threshold_masks_low_confidence_pseudo_labels():
    logits = torch.tensor([[5.0, 0.0, 0.0], [0.2, 0.1, 0.0], [0.0, 0.0, 9.0]])
    labels, mask = ss.pseudo_labels(logits, 0.95)
    assert labels.tolist() == [0, 0, 2] and mask.tolist() == [1.0, 0.0, 1.0]
    # distribution alignment divides by the running mean prediction before the threshold
    prior = torch.tensor([0.98, 0.01, 0.01])
    assert ss.pseudo_labels(logits, 0.5, prior)[0].tolist()[1] == 1


def _tiny(seed=0):
    torch.manual_seed(seed)
    return classifier_from_autoencoder(Autoencoder(4, (4, 8, 8), 16), hidden=16)


def _fit(x, y, **kw):
    torch.manual_seed(0)
    kw = {"steps": 6, "steps_per_round": 3, "labelled_batch": 8, "unlabelled_ratio": 2, "device": "cpu", **kw}
    return ss.fit_fixmatch(_tiny(), x[:20], y[:20], x[20:], **kw)


def test_unlabelled_images_lend_no_label():
    x, y = torch.rand(80, 1, 28, 28), torch.arange(80) % 10
    idx = np.arange(20)
    cfg = {"steps": 6}
    model, _ = _fit(x, y)
    # the same run with the unlabelled images' labels scrambled trains the same weights: they are never read
    y_scrambled = y.clone()
    y_scrambled[20:] = torch.randint(0, 10, (60,))
    model2, _ = _fit(x, y_scrambled)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), model2.state_dict().values()))
    assert ss.semisupervised_config(None, len(idx), 0, "scratch", cfg)["labels"] == 20


def test_weight_decay_shrinks_the_weights_and_zero_is_plain_adam():
    x, y = torch.rand(80, 1, 28, 28), torch.arange(80) % 10
    norm = lambda m: sum(p.norm() ** 2 for p in m.parameters()).sqrt()  # noqa: E731
    plain, _ = _fit(x, y, align=False)
    zero, _ = _fit(x, y, align=False, weight_decay=0.0)
    decayed, _ = _fit(x, y, align=False, weight_decay=50.0)
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), zero.state_dict().values()))
    assert norm(decayed) < 0.99 * norm(plain)


def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    x, y = torch.rand(80, 1, 28, 28), torch.arange(80) % 10
    whole, hist = _fit(x, y, x_eval=x[:10], y_eval=y[:10])
    calls = {"n": 0}
    real = ss.accuracy_and_loss

    def dies_in_round_two(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(ss, "accuracy_and_loss", dies_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        _fit(x, y, x_eval=x[:10], y_eval=y[:10], checkpoint=tmp_path / "ck.pt")
    monkeypatch.setattr(ss, "accuracy_and_loss", real)
    resumed, hist2 = _fit(x, y, x_eval=x[:10], y_eval=y[:10], checkpoint=tmp_path / "ck.pt")
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))
    assert hist["loss"].tolist() == hist2["loss"].tolist() and hist2["step"].tolist() == [3, 6]


def test_class_thresholds_lower_the_bar_for_the_classes_learned_least():
    status = torch.tensor([0] * 50 + [1] * 25 + [-1] * 10)
    thr = ss.class_thresholds(status, 0.9, 3)
    assert torch.allclose(thr, torch.tensor([0.9, 0.9 * 0.5 / 1.5, 0.0]))  # beta 1, 0.5, 0: tau * beta / (2 - beta)
    warm = ss.class_thresholds(torch.tensor([0] * 5 + [-1] * 95), 0.9, 2)  # warm-up: most images without a label
    assert torch.allclose(warm, torch.tensor([0.9 * (5 / 95) / (2 - 5 / 95), 0.0]))
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # confident class 0; unsure class 1 (p = 0.58)
    labels, mask = ss.pseudo_labels(logits, thr)
    assert labels.tolist() == [0, 1] and mask.tolist() == [1.0, 1.0]  # class 1's lower threshold lets 0.58 through
    assert ss.pseudo_labels(logits, 0.9)[1].tolist() == [1.0, 0.0]


def test_flexmatch_run_resumes_exactly_and_differs_from_fixmatch(tmp_path, monkeypatch):
    x, y = torch.rand(80, 1, 28, 28), torch.arange(80) % 10
    whole, _ = _fit(x, y, flex=True)
    plain, _ = _fit(x, y)
    assert not all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), plain.state_dict().values()))
    real, calls = ss.accuracy_and_loss, {"n": 0}

    def dies_in_round_two(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(ss, "accuracy_and_loss", dies_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        _fit(x, y, flex=True, x_eval=x[:10], y_eval=y[:10], checkpoint=tmp_path / "ck.pt")
    monkeypatch.setattr(ss, "accuracy_and_loss", real)
    resumed, _ = _fit(x, y, flex=True, x_eval=x[:10], y_eval=y[:10], checkpoint=tmp_path / "ck.pt")
    again, _ = _fit(x, y, flex=True, x_eval=x[:10], y_eval=y[:10])
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), resumed.state_dict().values()))


def test_bad_settings_are_named():
    x, y = torch.rand(40, 1, 28, 28), torch.arange(40) % 10
    with pytest.raises(ValueError, match="threshold"):
        _fit(x, y, threshold=1.5)
    with pytest.raises(ValueError, match="multiple of steps_per_round"):
        _fit(x, y, steps=7)


@pytest.mark.slow
def test_tiny_real_mnist_run_improves_over_its_labelled_only_start(mnist_train, mnist_test):
    """A network trained on 50 labels alone, then on those and 6,000 unlabelled images: test accuracy rises."""
    from helpers.data import balanced_subset
    from helpers.training import accuracy_and_loss, fit_classifier

    x, y = mnist_train
    xt, yt = mnist_test[0][:2000], mnist_test[1][:2000]
    idx = balanced_subset(y.numpy()[:6000], 50, seed=0)
    rest = np.setdiff1d(np.arange(6000), idx)
    torch.manual_seed(0)
    model = classifier_from_autoencoder(None, hidden=64, latent_dim=10)
    fit_classifier(model, x[idx], y[idx], epochs=60, lr=3e-3, batch_size=50, seed=0, device="cpu", progress=False)
    start = accuracy_and_loss(model, xt, yt, device="cpu")[1]
    kw = {"steps": 400, "steps_per_round": 200, "labelled_batch": 32, "unlabelled_ratio": 4, "threshold": 0.9}
    trained, hist = ss.fit_fixmatch(model, x[idx], y[idx], x[rest], encoder_lr_factor=1.0, device="cpu", **kw)
    after = accuracy_and_loss(trained, xt, yt, device="cpu")[1]
    assert after > start + 0.02, (start, after)
    assert hist["mask_rate"].iloc[-1] > hist["mask_rate"].iloc[0]  # more unlabelled images teach as it learns


def test_anchors_table_adds_our_100_label_row_only_when_measured():
    import pandas as pd

    semi = pd.DataFrame({"labels": [100, 100, 1000], "init": ["pretrained"] * 3, "test_acc": [0.97, 0.99, 0.995]})
    table = ss.anchors_table(semi)
    assert len(table) == len(ss.ANCHORS) + 1 and table.iloc[-1]["test accuracy"] == pytest.approx(0.98)
    assert len(ss.anchors_table(semi[semi["labels"] == 1000])) == len(ss.ANCHORS)


class _Fixed(torch.nn.Module):
    """A 'classifier' whose logits are fixed per image (the image's first pixel holds its predicted class)."""

    def forward(self, x):
        return torch.nn.functional.one_hot(x[:, 0, 0, 0].long(), 3).float()


def test_top_confusions_counts_the_most_frequent_errors_and_their_share_of_the_class():
    y = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    pred = torch.tensor([0, 2, 2, 1, 1, 1, 0, 2])  # 0 -> 2 twice, 0 -> 1 once, 2 -> 0 once
    x = pred.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    table = errors.top_confusions({"m": _Fixed()}, x, y, k=2, device="cpu")
    assert table[["true", "predicted", "count"]].values.tolist()[0] == [0, 2, 2]
    assert table["share"].iloc[0] == pytest.approx(0.5) and len(table) == 2
    with pytest.raises(ValueError, match="k"):
        errors.top_confusions({"m": _Fixed()}, x, y, k=0)


def test_labelled_and_misread_shows_each_subsets_labelled_class_and_the_misread_test_images():
    g = torch.Generator().manual_seed(0)
    y_train = torch.arange(10).repeat(20)
    x_train = torch.rand(len(y_train), 1, 28, 28, generator=g)
    y_test = torch.tensor([0, 0, 1, 1, 2])
    pred = torch.tensor([0, 2, 1, 1, 2])  # one test 0 read as 2
    x_test = pred.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    rows = errors.labelled_and_misread(x_train, y_train, 30, (0, 1), _Fixed(), x_test, y_test, 0, 2, n=5, device="cpu")
    assert list(rows) == ["subset 0: labelled 0s", "subset 1: labelled 0s", "test 0s read as 2"]
    assert [len(v) for v in rows.values()] == [3, 3, 1]
    assert torch.equal(rows["test 0s read as 2"], x_test[1:2])
    assert not torch.equal(rows["subset 0: labelled 0s"], rows["subset 1: labelled 0s"])  # different subsets
