import pytest
import torch

from helpers.models import (
    Autoencoder,
    Decoder,
    Discriminator,
    Encoder,
    EncoderClassifier,
    Generator,
    ProbabilityEnsemble,
    SmallCNN,
    count_parameters,
    ensemble_of,
    fingerprint,
    load_model,
    save_model,
)
from helpers.runtime import to_device


@pytest.mark.parametrize("d", [2, 10])
def test_autoencoder_shapes(d):
    x = torch.rand(5, 1, 28, 28)
    ae = Autoencoder(d)
    assert ae.encode(x).shape == (5, d)
    out = ae(x)
    assert out.shape == (5, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    assert Decoder(d)(torch.randn(3, d)).shape == (3, 1, 28, 28)


def test_seed_architecture_layers():
    enc = Encoder(10)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride, c.padding) for c in convs] == [
        (1, 8, (2, 2), (1, 1)),
        (8, 16, (2, 2), (1, 1)),
        (16, 32, (2, 2), (0, 0)),
    ]
    assert count_parameters(enc) == 80 + 1168 + 4640 + 288 * 64 + 64 + 64 * 10 + 10


def test_gan_shapes():
    g, d = Generator(), Discriminator()
    assert g.noise_dim == 100
    img = g(torch.randn(4, 100))
    assert img.shape == (4, 1, 28, 28) and img.abs().max() <= 1
    assert d(img).shape == (4,)
    assert [m.out_features for m in g.modules() if isinstance(m, torch.nn.Linear)] == [256, 512, 784]
    assert [m.out_features for m in Discriminator(hidden=(64, 32)).modules() if isinstance(m, torch.nn.Linear)] == [
        64,
        32,
        1,
    ]


def test_widened_autoencoder():
    ae = Autoencoder(24, channels=(4, 8, 12), hidden=40)
    convs = [m.out_channels for m in ae.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [4, 8, 12] and ae.encoder.net[-1].in_features == 40
    assert ae(torch.rand(2, 1, 28, 28)).shape == (2, 1, 28, 28) and ae.encode(torch.rand(2, 1, 28, 28)).shape == (2, 24)
    with pytest.raises(ValueError, match="channels"):
        Autoencoder(8, channels=(8, 16))
    with pytest.raises(ValueError, match="hidden"):
        Autoencoder(8, hidden=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Autoencoder(4),
        lambda: Autoencoder(6, channels=(4, 8, 16), hidden=32),
        lambda: Generator(16, hidden=(32, 64)),
        lambda: Discriminator(),
        lambda: EncoderClassifier(10, hidden=0),
        lambda: EncoderClassifier(6, hidden=32),
        lambda: SmallCNN(),
    ],
)
def test_save_load_roundtrip(tmp_path, make):
    torch.manual_seed(0)
    model = make().eval()
    path = save_model(model, tmp_path / "m.pt", note="x", score=1.5)
    loaded, meta = load_model(path, with_meta=True)
    assert type(loaded) is type(model) and not loaded.training
    assert meta == {"note": "x", "score": 1.5}
    inp = torch.randn(3, model.noise_dim) if isinstance(model, Generator) else torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(inp), loaded(inp))


def test_ensemble_averages_member_probabilities(tmp_path):
    torch.manual_seed(0)
    members = [EncoderClassifier(10, hidden=16).eval(), EncoderClassifier(10, hidden=0).eval(), SmallCNN().eval()]
    ens = ensemble_of(members)
    x = torch.rand(7, 1, 28, 28)
    with torch.no_grad():
        mean_p = torch.stack([m(x).softmax(1) for m in members]).mean(0)
        out = ens(x)
        assert out.shape == (7, 10) and not ens.training
        assert torch.allclose(out.softmax(1), mean_p, atol=1e-6) and torch.allclose(
            out.exp().sum(1), torch.ones(7), atol=1e-5
        )
        one = ensemble_of(members[:1])(x)  # a single member: its own prediction
        assert torch.allclose(one.softmax(1), members[0](x).softmax(1), atol=1e-6)
        # a copy: changing a member afterwards does not change the ensemble
        members[0].head[1].bias.add_(5.0)
        assert torch.allclose(ens(x), out)
        # save/load round trip keeps every member's class and weights
        loaded = load_model(save_model(ens, tmp_path / "ens.pt"))
        assert type(loaded) is ProbabilityEnsemble and [type(m) for m in loaded.members] == [
            EncoderClassifier,
            EncoderClassifier,
            SmallCNN,
        ]
        assert torch.equal(loaded(x), out)
    with pytest.raises(ValueError, match="at least one"):
        ProbabilityEnsemble([])
    with pytest.raises(ValueError, match="unknown model classes"):
        ProbabilityEnsemble([{"class": "NotAModel", "config": {}}])
    with pytest.raises(ValueError, match="registered"):
        ensemble_of([torch.nn.Linear(784, 10)])


def test_fingerprint_follows_the_weights(tmp_path):
    torch.manual_seed(0)
    a = Autoencoder(4)
    assert fingerprint(load_model(save_model(a, tmp_path / "a.pt"))) == fingerprint(a)  # survives save/load
    torch.manual_seed(0)
    assert fingerprint(Autoencoder(4)) == fingerprint(a)  # same weights, another object
    before = fingerprint(a)
    with torch.no_grad():
        a.decoder.net[0].bias[0] += 1e-3
    assert fingerprint(a) != before  # any weight change shows


def test_load_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.pt")


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_latent_dim(bad):
    with pytest.raises(ValueError, match="latent_dim"):
        Autoencoder(bad)


def test_latent_as_scores_needs_ten():
    with pytest.raises(ValueError, match="latent_dim"):
        EncoderClassifier(8, hidden=0)


@pytest.mark.parametrize("make", [lambda: Autoencoder(10), lambda: EncoderClassifier(10), SmallCNN])
def test_to_device_uses_channels_last_without_changing_outputs(make, tmp_path):
    torch.manual_seed(0)
    model = make().eval()
    x = torch.rand(16, 1, 28, 28)
    before = model(x)
    to_device(model, "cpu")
    convs = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    torch.testing.assert_close(model(x), before, atol=1e-5, rtol=1e-4)
    save_model(model, tmp_path / "m.pt")  # a channels-last model saves and reloads as usual
    torch.testing.assert_close(load_model(tmp_path / "m.pt")(x), before, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("damage", ["truncated", "empty", "text", "foreign"])
def test_load_model_names_a_broken_file_and_what_to_do(tmp_path, damage):
    from helpers.files import CorruptFileError
    from helpers.models import load_model, save_model

    path = save_model(Autoencoder(2), tmp_path / "autoencoder.pt")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("these are not weights\n")
    else:
        torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CorruptFileError, match="delete it and rerun") as err:
        load_model(path)
    assert str(path) in str(err.value)
