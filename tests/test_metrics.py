import pytest
import torch
from skimage.metrics import structural_similarity

from helpers.baselines import choose_by_validation, fit_pca, gaussian_blur, median_filter, pca_reconstruct
from helpers.metrics import mse, psnr, quality_table, ssim


def test_identical_images(mnist_test):
    x = mnist_test[0][:16]
    q = quality_table(x, x)
    assert q["mse"] == 0 and q["ssim"] == pytest.approx(1.0)
    assert psnr(x, x).min() > 90


def test_known_values():
    a = torch.zeros(2, 1, 28, 28)
    b = torch.full((2, 1, 28, 28), 0.1)
    assert mse(a, b).tolist() == pytest.approx([0.01, 0.01])
    assert psnr(a, b).tolist() == pytest.approx([20.0, 20.0])


def test_ssim_matches_skimage(mnist_test):
    x = mnist_test[0][:6]
    g = torch.Generator().manual_seed(0)
    y = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    ours = ssim(x, y)
    ref = [structural_similarity(a[0].numpy(), b[0].numpy(), data_range=1.0) for a, b in zip(x, y)]
    assert ours.tolist() == pytest.approx(ref, abs=1e-5)
    assert (ours < 1).all()


def test_median_removes_salt():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 10, 10] = 1.0
    assert median_filter(x).max() == 0
    flat = torch.full((1, 1, 28, 28), 0.3)
    assert torch.allclose(median_filter(flat), flat)


def test_blur_and_choice():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 14, 14] = 1.0
    b = gaussian_blur(x, 1.0)
    assert b.shape == x.shape and b.max() < 1 and b.sum().item() == pytest.approx(1.0, abs=1e-3)
    assert torch.equal(gaussian_blur(x, 0), x)
    best, scores = choose_by_validation([0, 1.0], gaussian_blur, x, x)
    assert best == 0 and scores[0] == 0


def test_pca_projection(mnist_train):
    x = mnist_train[0][:2000]
    pca = fit_pca(x, 50)
    err = [torch.mean((pca_reconstruct(pca, x[:200], k) - x[:200]) ** 2).item() for k in (5, 20, 50)]
    assert err[0] > err[1] > err[2]
