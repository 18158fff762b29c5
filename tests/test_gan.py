import numpy as np
import pytest
import torch

from helpers import seed_everything
from helpers.gan import (
    RejectionBudgetError,
    classifier_outputs,
    d_step,
    frechet_distance,
    g_step,
    inception_score,
    langevin_grid,
    latent_langevin,
    make_optimizers,
    rejection_grid,
    rejection_sample,
    sample,
    to_gan_range,
    train_gan,
)
from helpers.models import Discriminator, Generator, SmallCNN, load_model, save_model


def _nets():
    seed_everything(0)
    return Generator(16, hidden=(32, 64)), Discriminator(hidden=(64, 32))


def _snap(m):
    return [p.detach().clone() for p in m.parameters()]


def _changed(before, m):
    return [not torch.equal(a, b) for a, b in zip(before, m.parameters())]


def test_steps_finite_and_each_net_updated_only_by_its_optimizer(mnist_train):
    G, D = _nets()
    opt_g, opt_d = make_optimizers(G, D)
    assert {id(p) for g in opt_g.param_groups for p in g["params"]} == {id(p) for p in G.parameters()}
    assert {id(p) for g in opt_d.param_groups for p in g["params"]} == {id(p) for p in D.parameters()}
    real = to_gan_range(mnist_train[0][:64])
    g0, d0 = _snap(G), _snap(D)
    d_loss, d_real, d_fake = d_step(G, D, opt_d, real, 0.9)
    assert torch.isfinite(d_loss) and 0 < d_real < 1 and 0 < d_fake < 1
    assert all(_changed(d0, D)) and not any(_changed(g0, G))
    g1, d1 = _snap(G), _snap(D)
    g_loss, _ = g_step(G, D, opt_g, 64, "cpu")
    assert torch.isfinite(g_loss)
    assert all(_changed(g1, G)) and not any(_changed(d1, D))
    assert all(p.grad is None for p in D.parameters())


def test_resume_from_checkpoint(mnist_train, tmp_path):
    x = to_gan_range(mnist_train[0][:256])
    noise = torch.randn(4, 16)
    G, D = _nets()
    full = train_gan(G, D, x, epochs=3, batch_size=64, seed=0, device="cpu", fixed_noise=noise, progress=False)
    ck = tmp_path / "gan.pt"
    G2, D2 = _nets()
    train_gan(
        G2,
        D2,
        x,
        epochs=2,
        batch_size=64,
        seed=0,
        device="cpu",
        checkpoint=ck,
        checkpoint_every=1,
        fixed_noise=noise,
        progress=False,
    )  # interrupted after epoch 2
    G3, D3 = _nets()
    resumed = train_gan(
        G3,
        D3,
        x,
        epochs=3,
        batch_size=64,
        seed=0,
        device="cpu",
        checkpoint=ck,
        checkpoint_every=1,
        fixed_noise=noise,
        progress=False,
    )
    assert len(resumed["iters"]) == len(full["iters"]) and sorted(resumed["snapshots"]) == [1, 2, 3]
    for a, b in zip(G.state_dict().values(), G3.state_dict().values()):
        assert torch.allclose(a, b)
    np.testing.assert_allclose(resumed["iters"]["g_loss"], full["iters"]["g_loss"], rtol=1e-5)


def test_ema_generator_is_scored_kept_and_resumed(mnist_train, tmp_path):
    x = to_gan_range(mnist_train[0][:256])
    seen = []

    def evaluate(g):
        seen.append(g)
        return {"fid": -float(len(seen))}  # improves at every call: the last epoch is the best

    G, D = _nets()
    full = train_gan(
        G,
        D,
        x,
        epochs=2,
        batch_size=64,
        ema_decay=0.9,
        seed=0,
        device="cpu",
        evaluate=evaluate,
        eval_every=1,
        progress=False,
    )
    assert seen[0] is not G and seen[1] is G  # the averaged generator first, then the raw one
    assert {"fid", "fid_raw"} <= set(full["epochs"].columns)
    assert any(not torch.equal(full["ema_state"][k], v) for k, v in full["last_state"].items())
    assert full["best_epoch"] == 2 and all(torch.equal(full["ema_state"][k], v) for k, v in full["best_state"].items())
    ck = tmp_path / "gan.pt"
    G2, D2 = _nets()
    train_gan(
        G2,
        D2,
        x,
        epochs=1,
        batch_size=64,
        ema_decay=0.9,
        seed=0,
        device="cpu",
        checkpoint=ck,
        checkpoint_every=1,
        progress=False,
    )
    G3, D3 = _nets()
    resumed = train_gan(
        G3,
        D3,
        x,
        epochs=2,
        batch_size=64,
        ema_decay=0.9,
        seed=0,
        device="cpu",
        checkpoint=ck,
        checkpoint_every=1,
        progress=False,
    )
    for k, v in full["ema_state"].items():
        assert torch.allclose(v, resumed["ema_state"][k], atol=1e-6)
    with pytest.raises(ValueError, match="ema_decay"):
        train_gan(G, D, x, epochs=1, ema_decay=1.5, progress=False)


def test_fid_identical_near_zero_and_shift_larger():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(2000, 8))
    assert abs(frechet_distance(f, f)) < 1e-6
    assert frechet_distance(f, f + 0.5) == pytest.approx(8 * 0.25, rel=1e-3)
    assert frechet_distance(f, f + 1.0) > frechet_distance(f, f + 0.5)


def test_inception_score_bounds():
    constant = np.tile(np.eye(10)[3], (100, 1))
    assert inception_score(constant) == pytest.approx(1.0)
    spread = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(spread) == pytest.approx(10.0, rel=1e-6)
    uniform = np.full((100, 10), 0.1)
    assert inception_score(uniform) == pytest.approx(1.0)


def test_saved_generator_contract(tmp_path):
    G, _ = _nets()
    save_model(G, tmp_path / "g.pt")
    g = load_model(tmp_path / "g.pt")
    assert not g.training and g.noise_dim == 16
    out = g(torch.randn(5, g.noise_dim))
    assert out.shape == (5, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    assert torch.equal(sample(g, 3, seed=1, device="cpu"), sample(g, 3, seed=1, device="cpu"))


def test_linear_lr_decay_follows_the_full_schedule(mnist_train, tmp_path):
    x = to_gan_range(mnist_train[0][:128])
    G, D = _nets()
    log = train_gan(G, D, x, epochs=3, lr=1e-3, decay_epochs=4, batch_size=64, device="cpu", progress=False)
    np.testing.assert_allclose(log["epochs"]["lr"], [1e-3, 7.5e-4, 5e-4])  # cut at 3 of 4 epochs
    const = train_gan(*_nets(), x, epochs=2, lr=1e-3, batch_size=64, device="cpu", progress=False)
    np.testing.assert_allclose(const["epochs"]["lr"], [1e-3, 1e-3])
    with pytest.raises(ValueError, match="decay_epochs"):
        train_gan(*_nets(), x, epochs=3, decay_epochs=2, device="cpu", progress=False)


def test_top_k_generator_step_learns_from_the_samples_d_rates_most_real():
    G, D = _nets()
    opt_g, _ = make_optimizers(G, D)
    G.eval(), D.eval()  # no dropout: the same z gives the same logits below
    torch.manual_seed(1)
    z = torch.randn(32, G.noise_dim)
    logits = D(G(z)).flatten().detach()
    expect = torch.nn.functional.binary_cross_entropy_with_logits(logits.topk(8).values, torch.ones(8))
    torch.manual_seed(1)
    loss, _ = g_step(G, D, opt_g, 32, "cpu", keep=8)
    assert torch.isclose(loss, expect, rtol=1e-5)
    assert not torch.isclose(expect, torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones(32)))


def test_top_k_share_decays_to_its_floor(mnist_train):
    x = to_gan_range(mnist_train[0][:128])
    log = train_gan(*_nets(), x, epochs=3, top_k=(0.5, 0.3), batch_size=64, device="cpu", progress=False)
    np.testing.assert_allclose(log["epochs"]["top_k_share"], [1.0, 0.5, 0.3])
    with pytest.raises(ValueError, match="top_k"):
        train_gan(*_nets(), x, epochs=1, top_k=(0.5,), device="cpu", progress=False)


class _SignGenerator(torch.nn.Module):
    """Images all +0.5 or all -0.5, by the sign of the noise's first coordinate."""

    noise_dim = 4

    def forward(self, z):
        return torch.sign(z[:, :1]).view(-1, 1, 1, 1).expand(-1, 1, 28, 28) * 0.5


class _MeanCritic(torch.nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return self.scale * x.flatten(1).mean(1)


def test_rejection_sampling_keeps_what_d_rates_real():
    G = _SignGenerator()
    # a discriminator that cannot tell the samples apart keeps (nearly) all of them
    out, rate = rejection_sample(G, _MeanCritic(0.0), 500, seed=0, burn_in=100, device="cpu")
    assert out.shape == (500, 1, 28, 28) and rate > 0.99
    # one that rates the bright half e^8 times more real keeps almost only those, about half of the draws
    out, rate = rejection_sample(G, _MeanCritic(8.0), 500, seed=0, burn_in=100, device="cpu")
    assert (out.flatten(1).mean(1) > 0).float().mean() > 0.99 and 0.4 < rate < 0.6
    again, _ = rejection_sample(G, _MeanCritic(8.0), 500, seed=0, burn_in=100, device="cpu")
    assert torch.equal(out, again)
    # a larger gamma is stricter; a negative one keeps some of the dark half too
    rates = [
        rejection_sample(G, _MeanCritic(2.0), 300, gamma=g, seed=0, burn_in=100, device="cpu")[1]
        for g in (-3.0, 0.0, 1.0)
    ]
    assert rates[0] > rates[1] > rates[2]


def test_rejection_sampling_bad_input():
    G = _SignGenerator()
    with pytest.raises(ValueError, match="gamma"):
        rejection_sample(G, _MeanCritic(1.0), 10, gamma=float("nan"))
    with pytest.raises(ValueError, match="n must"):
        rejection_sample(G, _MeanCritic(1.0), 0)
    with pytest.raises(RuntimeError, match="lower gamma"):
        rejection_sample(G, _MeanCritic(1.0), 10, gamma=60.0, seed=0, burn_in=10, device="cpu", max_draws=4096)


class _BrightnessClassifier(torch.nn.Module):
    """A stand-in scoring CNN with two classes: 1 for bright images, 0 for dark ones."""

    def features(self, x):
        return torch.stack([x.flatten(1).mean(1), x.flatten(1).std(1)], 1)

    def out(self, f):
        return torch.stack([-20 * (f[:, 0] - 0.5), 20 * (f[:, 0] - 0.5)], 1)


def test_classifier_outputs_fold_batchnorm_without_changing_the_scores():
    torch.manual_seed(0)
    clf = SmallCNN().eval()
    for m in clf.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(), m.running_var.uniform_(0.5, 2.0)
    images = torch.rand(300, 1, 28, 28)
    with torch.no_grad():
        f = clf.features(images)
        p = torch.softmax(clf.out(f), 1)
    feats, probs = classifier_outputs(clf, images, "cpu", batch_size=128)  # batches that do not divide 300
    assert (
        feats.shape == (300, 128)
        and np.allclose(feats, f.numpy(), atol=1e-5)
        and np.allclose(probs, p.numpy(), atol=1e-5)
    )
    assert (
        all(isinstance(m, torch.nn.BatchNorm2d) for m in clf.body[1:2]) and not clf.training
    )  # the model itself untouched
    with pytest.raises(ValueError, match="batch_size"):
        classifier_outputs(clf, images, "cpu", batch_size=0)


def test_rejection_grid_scores_each_gamma_and_respects_the_class_floor():
    G, D, clf = _SignGenerator(), _MeanCritic(2.0), _BrightnessClassifier()
    ref = torch.stack([torch.full((1000,), 0.75), torch.zeros(1000)], 1).numpy() + np.random.default_rng(0).normal(
        0, 0.01, (1000, 2)
    )
    table, chosen = rejection_grid(G, D, clf, ref, [-3.0, 0.0, 4.0], 400, min_class_share=0.0, seed=0, device="cpu")
    assert list(table.index) == [-3.0, 0.0, 4.0]
    assert table["kept share of draws"].is_monotonic_decreasing and table["min_class_share"].is_monotonic_decreasing
    # the reference is all bright, so the strictest gamma (fewest dark samples) has the lowest FID ...
    assert chosen == 4.0 and table["fid"].idxmin() == 4.0
    # ... unless the dark class must keep a share: then the best gamma that still keeps it wins
    floor = table.loc[0.0, "min_class_share"] - 1e-9
    _, chosen = rejection_grid(G, D, clf, ref, [-3.0, 0.0, 4.0], 400, min_class_share=floor, seed=0, device="cpu")
    assert chosen == 0.0
    with pytest.raises(ValueError, match="gammas"):
        rejection_grid(G, D, clf, ref, [], 10)


def test_rejection_grid_skips_a_gamma_that_keeps_too_few():
    G, D, clf = _SignGenerator(), _MeanCritic(2.0), _BrightnessClassifier()
    ref = torch.stack([torch.full((1000,), 0.75), torch.zeros(1000)], 1).numpy() + np.random.default_rng(0).normal(
        0, 0.01, (1000, 2)
    )
    # gamma 60 keeps almost nothing: within 4,096 draws it cannot collect 200 samples, so it is listed unscored
    table, chosen = rejection_grid(
        G, D, clf, ref, [0.0, 60.0], 200, min_class_share=0.0, seed=0, device="cpu", max_draws=4096
    )
    assert list(table.index) == [0.0, 60.0] and table.loc[60.0].isna().all() and not table.loc[0.0].isna().any()
    assert chosen == 0.0
    with pytest.raises(RejectionBudgetError, match="no gamma"):
        rejection_grid(G, D, clf, ref, [60.0], 200, seed=0, device="cpu", max_draws=4096)


class _LinearGenerator(torch.nn.Module):
    """Images filled with half the noise's first coordinate (differentiable in ``z``)."""

    noise_dim = 4

    def forward(self, z):
        return (z[:, :1] * 0.5).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)


def test_latent_langevin_samples_the_tilted_prior():
    z = torch.full((4000, 4), 3.0)
    # without the critic the chain forgets its start and samples N(0, I)
    out = latent_langevin(
        _LinearGenerator(), _MeanCritic(4.0), z, [0, 300], step_size=0.1, scale=0.0, seed=0, device="cpu"
    )
    assert torch.equal(out[0], z) and set(out) == {0, 300}
    assert out[300].mean(0).abs().max() < 0.1 and (out[300].std(0) - 1).abs().max() < 0.1
    # d(G(z)) = 4 * z1 / 2, so exp(scale * d) N(z) shifts z1's mean to 2 * scale and leaves the rest alone
    for scale in (0.5, 1.0):
        zs = latent_langevin(
            _LinearGenerator(), _MeanCritic(4.0), z, [300], step_size=0.1, scale=scale, seed=0, device="cpu"
        )[300]
        assert abs(zs[:, 0].mean() - 2 * scale) < 0.1 and zs[:, 1:].mean(0).abs().max() < 0.1
    again = latent_langevin(
        _LinearGenerator(), _MeanCritic(4.0), z, [300], step_size=0.1, scale=1.0, seed=0, device="cpu"
    )[300]
    assert torch.equal(zs, again)


def test_latent_langevin_leaves_the_networks_alone():
    G, D = _nets()
    G.train(), D.train()
    before = [p.detach().clone() for p in (*G.parameters(), *D.parameters())]
    out = latent_langevin(G, D, torch.randn(16, G.noise_dim), [5], seed=0, device="cpu")
    assert out[5].shape == (16, G.noise_dim) and not out[5].requires_grad
    assert G.training and D.training
    assert all(p.grad is None for p in (*G.parameters(), *D.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, (*G.parameters(), *D.parameters())))


def test_latent_langevin_in_bf16_follows_the_fp32_chain():
    G, D = _nets()
    z = torch.randn(256, G.noise_dim, generator=torch.Generator().manual_seed(0))
    fp32 = latent_langevin(G, D, z, [20], scale=4.0, seed=1, device="cpu")[20]
    bf16 = latent_langevin(G, D, z, [20], scale=4.0, seed=1, device="cpu", amp=True)[20]
    assert bf16.dtype == torch.float32 and not torch.equal(bf16, fp32)  # autocast ran; the chain itself stays fp32
    moved, gap = (fp32 - z).abs().mean(), (bf16 - fp32).abs().max()
    assert moved > 0.1 and gap < 0.02 * moved  # bf16 rounding of D's gradient: tiny next to the chain's own steps


def test_latent_langevin_bad_input():
    G, D, z = _LinearGenerator(), _MeanCritic(1.0), torch.zeros(2, 4)
    for kwargs, match in (
        ({"steps": []}, "steps"),
        ({"steps": [-1]}, "steps"),
        ({"steps": [1], "step_size": 0}, "step_size"),
        ({"steps": [1], "scale": -1.0}, "scale"),
        ({"steps": [1], "scale": float("nan")}, "scale"),
    ):
        with pytest.raises(ValueError, match=match):
            latent_langevin(G, D, z, device="cpu", **kwargs)


def test_langevin_grid_scores_each_point_and_respects_the_class_floor():
    G, D, clf = _LinearGenerator(), _MeanCritic(4.0), _BrightnessClassifier()
    # the reference: bright images with z1 = 2 (mean pixel 0.5 + 0.25 * 2 = 1.0 in [0, 1])
    ref = np.stack([np.full(1000, 1.0), np.zeros(1000)], 1) + np.random.default_rng(0).normal(0, 0.01, (1000, 2))
    table, chosen = langevin_grid(
        G, D, clf, ref, [0.5, 1.0], [0, 100], 1000, step_size=0.1, min_class_share=0.0, seed=0, device="cpu"
    )
    assert list(table.index) == [(0.5, 0), (0.5, 100), (1.0, 0), (1.0, 100)]
    assert table.loc[(0.5, 0), "fid"] == table.loc[(1.0, 0), "fid"]  # the same start
    # the chain at scale 1 centres z1 on 2, the reference: lowest FID, and the dark class nearly gone
    assert chosen == (1.0, 100) and table["fid"].idxmin() == (1.0, 100)
    assert (
        table.loc[(1.0, 100), "min_class_share"]
        < table.loc[(0.5, 100), "min_class_share"]
        < table.loc[(0.5, 0), "min_class_share"]
    )
    floor = table.loc[(0.5, 100), "min_class_share"] - 1e-9
    _, chosen = langevin_grid(
        G, D, clf, ref, [0.5, 1.0], [0, 100], 1000, step_size=0.1, min_class_share=floor, seed=0, device="cpu"
    )
    assert chosen == (0.5, 100)
    with pytest.raises(ValueError, match="scales"):
        langevin_grid(G, D, clf, ref, [], [0], 10)


class _Linear(torch.nn.Module):
    """A linear discriminator: its input gradient is its weight, so the R1 penalty is known in closed form."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(784, 1)

    def forward(self, x):
        return self.lin(x.reshape(len(x), -1)).squeeze(1)


def test_r1_penalty_adds_r1_times_w_to_a_linear_discriminators_gradient(mnist_train):
    real = to_gan_range(mnist_train[0][:32])
    G = Generator(16, hidden=(32, 64))
    updates, losses = {}, {}
    for r1 in (0.0, 2.0):
        torch.manual_seed(1)
        D = _Linear()
        w0 = D.lin.weight.detach().clone()
        opt = torch.optim.SGD(D.parameters(), lr=1.0)
        torch.manual_seed(2)  # the same generated batch for both
        out = d_step(G, D, opt, real, r1=r1)
        assert all(torch.isfinite(v) for v in out)
        updates[r1], losses[r1] = w0 - D.lin.weight.detach(), out[0]  # the update is the gradient (SGD, lr 1)
    # d/dw of r1/2 |grad_x (w.x + b)|^2 = r1/2 |w|^2 is r1 * w; the returned loss is the BCE alone
    torch.testing.assert_close(updates[2.0] - updates[0.0], 2.0 * w0, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(losses[2.0], losses[0.0])


def test_bf16_steps_update_each_net_only(mnist_train):
    G, D = _nets()
    opt_g, opt_d = make_optimizers(G, D)
    real = to_gan_range(mnist_train[0][:64])
    g0, d0 = _snap(G), _snap(D)
    out = d_step(G, D, opt_d, real, r1=1.0, amp=True)
    assert all(torch.isfinite(v) and v.dtype == torch.float32 for v in out)
    assert all(_changed(d0, D)) and not any(_changed(g0, G))
    g1, d1 = _snap(G), _snap(D)
    g_loss, _ = g_step(G, D, opt_g, 64, "cpu", amp=True)
    assert torch.isfinite(g_loss) and all(_changed(g1, G)) and not any(_changed(d1, D))
    assert all(p.dtype == torch.float32 for p in (*G.parameters(), *D.parameters()))  # autocast leaves the weights fp32


def test_recipe_resumes_exactly(mnist_train, tmp_path):
    """No dropout, lazy R1 and bf16 autocast: a run stopped after epoch 1 and resumed equals the uninterrupted run."""
    x = to_gan_range(mnist_train[0][:256])
    kw = dict(
        batch_size=64, lr=5e-4, r1=10.0, r1_every=3, amp=True, ema_decay=0.9, seed=0, device="cpu", progress=False
    )

    def nets():
        seed_everything(0)
        return Generator(16, hidden=(32, 64), dropout=0.0), Discriminator(hidden=(64, 32), dropout=0.0)

    G, D = nets()
    full = train_gan(G, D, x, epochs=2, **kw)
    ck = tmp_path / "gan.pt"
    train_gan(*nets(), x, epochs=1, checkpoint=ck, checkpoint_every=1, **kw)
    G3, D3 = nets()
    resumed = train_gan(G3, D3, x, epochs=2, checkpoint=ck, checkpoint_every=1, **kw)
    for a, b in zip(
        (*G.state_dict().values(), *D.state_dict().values()), (*G3.state_dict().values(), *D3.state_dict().values())
    ):
        torch.testing.assert_close(a, b)
    for k, v in full["ema_state"].items():
        torch.testing.assert_close(v, resumed["ema_state"][k])
    np.testing.assert_allclose(resumed["iters"]["d_loss"], full["iters"]["d_loss"], rtol=1e-5)
    for bad, match in ((dict(r1=-1.0), "r1"), (dict(r1=float("nan")), "r1"), (dict(r1_every=0), "r1_every")):
        with pytest.raises(ValueError, match=match):
            train_gan(*nets(), x, epochs=1, **{**kw, **bad})


def test_recipe_resolution(monkeypatch):
    from helpers import gan

    assert gan.resolve_recipe({"r1": 10.0, "amp": False}, "cpu") == {**gan.RECIPE_DEFAULTS, "r1": 10.0}
    monkeypatch.setattr(gan.training, "bf16_is_fast", lambda device: True)
    assert gan.resolve_recipe({"amp": None}, "cpu")["amp"] is True
    monkeypatch.setattr(gan.training, "bf16_is_fast", lambda device: False)
    assert (
        gan.resolve_recipe({"amp": None}, "cpu")["amp"] is False
        and gan.resolve_recipe({"amp": True}, "cpu")["amp"] is True
    )
    with pytest.raises(ValueError, match="unknown GAN recipe settings"):
        gan.resolve_recipe({"dropout": 0.1}, "cpu")


def test_fid_is_curves_one_legend_for_long_labels_and_log_fid():
    import pandas as pd

    from helpers import plotting

    long = "homework-like: dropout 0.5 in both nets, label 0.9, lr 2e-4, batch 128, no R1, fp32"
    curves = {
        "ours": pd.DataFrame({"epoch": [5, 10], "fid": [500.0, 100.0], "is": [3.0, 6.0]}),
        long: pd.DataFrame({"epoch": [5, 10], "fid": [700.0, 300.0], "is": [2.0, 4.0]}),
    }
    fig = plotting.fid_is_curves(curves, title="t", real={"fid": 2.0, "is": 9.8})
    fid_ax, is_ax = fig.axes
    assert fid_ax.get_yscale() == "log" and is_ax.get_yscale() == "linear"
    assert fid_ax.get_legend() is None and is_ax.get_legend() is None  # no legend on top of the curves
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["ours", long, "real data"]
