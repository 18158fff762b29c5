import pytest
import torch
from torch.nn import functional as F

from helpers.corruption import (
    Compose,
    ElasticDistortion,
    GaussianNoise,
    RandomAffine,
    RandomRotation,
    SaltPepper,
    affine_grid,
    corrupt_fixed,
)


@pytest.fixture
def batch(mnist_test):
    return mnist_test[0][:64]


@pytest.mark.parametrize(
    "c",
    [
        GaussianNoise(0.3),
        GaussianNoise((0.1, 0.5)),
        SaltPepper(0.2),
        RandomRotation(30),
        Compose(GaussianNoise(0.2), RandomRotation(15)),
        ElasticDistortion(34.0, 4.0),
    ],
)
def test_range_shape_determinism(batch, c):
    out = c(batch)
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, batch)
    assert torch.equal(corrupt_fixed(c, batch, seed=5), corrupt_fixed(c, batch, seed=5))
    assert not torch.equal(corrupt_fixed(c, batch, seed=5), corrupt_fixed(c, batch, seed=6))


def test_noise_level(batch):
    x = torch.full((200, 1, 28, 28), 0.5)
    assert (GaussianNoise(0.1)(x) - x).std().item() == pytest.approx(0.1, rel=0.05)
    assert torch.equal(GaussianNoise(0.0)(batch), batch)


def test_salt_pepper_rate():
    x = torch.full((100, 1, 28, 28), 0.5)
    out = SaltPepper(0.2)(x)
    assert ((out == 0) | (out == 1)).float().mean().item() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("h, w", [(28, 28), (5, 9)])
def test_affine_grid_equals_torchs(h, w):
    theta = torch.randn(17, 2, 3, generator=torch.Generator().manual_seed(0))
    ours = affine_grid(theta, h, w)
    assert ours.shape == (17, h, w, 2)
    assert torch.allclose(ours, F.affine_grid(theta, [17, 1, h, w], align_corners=False), atol=1e-5)


def test_rotation_actually_rotates():
    # a horizontal bar through the centre, rotated by 90 degrees, becomes a vertical bar
    x = torch.zeros(1, 1, 28, 28)
    x[..., 13:15, 4:24] = 1.0
    out = RandomAffine.apply(x, torch.tensor([90.0]))
    assert out[..., 4:24, 13:15].mean() > 0.8  # vertical bar present
    assert out[..., 13:15, 4:10].mean() < 0.2  # horizontal arms gone
    assert torch.allclose(RandomAffine.apply(x, torch.tensor([0.0])), x, atol=1e-5)  # 0 degrees: identity
    assert torch.allclose(RandomAffine(0)(x), x, atol=1e-5)
    bounded = RandomRotation(10)(x.repeat(50, 1, 1, 1))
    assert (bounded[..., 13:15, 5:23].mean(dim=(1, 2, 3)) > 0.5).all()  # small angles keep the bar near horizontal


def test_rotation_differs_per_image(batch):
    same = batch[:1].repeat(8, 1, 1, 1)
    out = RandomRotation(45)(same)
    assert not torch.allclose(out[0], out[1])


def test_elastic_distortion_is_smooth_local_and_zero_at_alpha_zero(batch):
    assert torch.allclose(ElasticDistortion(0.0)(batch), batch, atol=1e-5)
    out = ElasticDistortion(34.0, 4.0)(batch)
    # it moves strokes (pixels change) but keeps the digit: mass roughly kept, image still close to the original
    assert (out - batch).abs().mean() > 0.02
    assert out.sum((1, 2, 3)).div(batch.sum((1, 2, 3))).sub(1).abs().mean() < 0.15
    assert (out - batch).pow(2).mean() < batch.pow(2).mean()
    stronger = ElasticDistortion(80.0, 4.0)
    torch.manual_seed(0)
    far = stronger(batch)
    torch.manual_seed(0)
    near = ElasticDistortion(20.0, 4.0)(batch)
    assert (far - batch).abs().mean() > (near - batch).abs().mean()  # alpha scales the displacement


def test_bad_parameters():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="p"):
        SaltPepper(1.5)
    with pytest.raises(ValueError, match="max_degrees"):
        RandomAffine(-1)
    with pytest.raises(ValueError, match="sigma"):
        ElasticDistortion(10.0, 0.0)
