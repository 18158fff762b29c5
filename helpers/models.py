"""The homework report's architectures (autoencoder, classifiers, MLP GAN) and one save/load format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from .files import CorruptFileError, atomic_save, read_torch_file
from .runtime import check_positive

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: make ``cls`` rebuildable by :func:`load_model`."""
    _REGISTRY[cls.__name__] = cls
    return cls


class Configurable(nn.Module):
    """A module that remembers its constructor arguments in ``self.config``."""

    def __init__(self, **config):
        super().__init__()
        self.config = dict(config)


HOMEWORK_CHANNELS, HOMEWORK_HIDDEN = (8, 16, 32), 64  # the homework report's encoder/decoder widths


def _check_widths(channels, hidden):
    channels = tuple(int(c) for c in channels)
    if len(channels) != 3 or min(channels) < 1:
        raise ValueError(f"channels must be three positive ints, got {channels!r}")
    check_positive("hidden", hidden, integer=True)
    return channels


def widths_config(channels=HOMEWORK_CHANNELS, hidden=HOMEWORK_HIDDEN) -> dict:
    """``{"channels", "hidden"}`` to add to a cache key and pass to :class:`Autoencoder`; ``{}`` for the homework
    report's widths,
    so a run with them keeps the key it always had. Invalid widths raise ``ValueError``."""
    channels = _check_widths(channels, hidden)
    return (
        {}
        if (channels, hidden) == (HOMEWORK_CHANNELS, HOMEWORK_HIDDEN)
        else {"channels": list(channels), "hidden": hidden}
    )


@register
class Encoder(Configurable):
    """Conv 1->8->16->32 (3x3, stride 2), Linear 288->64->``latent_dim`` (the homework report's widths;
    ``channels`` and ``hidden`` widen it)."""

    def __init__(self, latent_dim: int = 10, channels=HOMEWORK_CHANNELS, hidden: int = HOMEWORK_HIDDEN):
        check_positive("latent_dim", latent_dim, integer=True)
        c1, c2, c3 = _check_widths(channels, hidden)
        super().__init__(latent_dim=latent_dim, channels=[c1, c2, c3], hidden=hidden)
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(c2, c3, 3, stride=2, padding=0),
            nn.ReLU(True),
            nn.Flatten(),
            nn.Linear(9 * c3, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, latent_dim),
        )

    def forward(self, x):
        return self.net(x)


@register
class Decoder(Configurable):
    """Mirror of :class:`Encoder`; ends in a sigmoid, output ``(N, 1, 28, 28)``."""

    def __init__(self, latent_dim: int = 10, channels=HOMEWORK_CHANNELS, hidden: int = HOMEWORK_HIDDEN):
        check_positive("latent_dim", latent_dim, integer=True)
        c1, c2, c3 = _check_widths(channels, hidden)
        super().__init__(latent_dim=latent_dim, channels=[c1, c2, c3], hidden=hidden)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, 9 * c3),
            nn.ReLU(True),
            nn.Unflatten(1, (c3, 3, 3)),
            nn.ConvTranspose2d(c3, c2, 3, stride=2),
            nn.ReLU(True),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(True),
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(z)


@register
class Autoencoder(Configurable):
    """Encoder + decoder with a ``latent_dim``-dimensional code (the homework report's widths by default)."""

    def __init__(self, latent_dim: int = 10, channels=HOMEWORK_CHANNELS, hidden: int = HOMEWORK_HIDDEN):
        check_positive("latent_dim", latent_dim, integer=True)
        channels = _check_widths(channels, hidden)
        super().__init__(latent_dim=latent_dim, channels=list(channels), hidden=hidden)
        self.latent_dim = latent_dim
        self.encoder = Encoder(latent_dim, channels, hidden)
        self.decoder = Decoder(latent_dim, channels, hidden)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


@register
class EncoderClassifier(Configurable):
    """An :class:`Encoder` followed by a fully connected head giving 10 logits.

    ``hidden=0`` means no head: the encoder's ``latent_dim`` outputs are the logits
    (the homework report's "latent of size 10 as class scores"; needs ``latent_dim=10``). ``channels`` and
    ``encoder_hidden`` are the encoder's widths (:class:`Encoder`'s ``channels`` and ``hidden``).
    """

    def __init__(
        self,
        latent_dim: int = 10,
        hidden: int = 64,
        n_classes: int = 10,
        dropout: float = 0.0,
        channels=HOMEWORK_CHANNELS,
        encoder_hidden: int = HOMEWORK_HIDDEN,
    ):
        check_positive("latent_dim", latent_dim, integer=True)
        check_positive("hidden", hidden, integer=True, minimum=0)
        channels = _check_widths(channels, encoder_hidden)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if hidden == 0 and latent_dim != n_classes:
            raise ValueError(
                f"hidden=0 uses the latent as class scores: latent_dim must equal n_classes={n_classes}, got "
                f"{latent_dim}"
            )
        super().__init__(
            latent_dim=latent_dim,
            hidden=hidden,
            n_classes=n_classes,
            dropout=dropout,
            channels=list(channels),
            encoder_hidden=encoder_hidden,
        )
        self.encoder = Encoder(latent_dim, channels, encoder_hidden)
        if hidden == 0:
            self.head = nn.Identity()
        else:
            self.head = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(latent_dim, hidden),
                nn.ReLU(True),
                nn.Dropout(dropout),
                nn.Linear(hidden, n_classes),
            )

    def forward(self, x):
        return self.head(self.encoder(x))


@register
class ProbabilityEnsemble(Configurable):
    """Classifiers voting by their mean softmax: returns ``log`` of the mean class probabilities of
    ``members`` (valid logits: their softmax is the mean, their argmax the ensemble's vote).

    ``members`` is a list of ``{"class": name, "config": dict}`` of registered models (see :func:`ensemble_of`).
    """

    def __init__(self, members):
        members = [{"class": m["class"], "config": dict(m["config"])} for m in members]
        if not members:
            raise ValueError("members must name at least one model")
        unknown = [m["class"] for m in members if m["class"] not in _REGISTRY]
        if unknown:
            raise ValueError(f"members hold unknown model classes {unknown}")
        super().__init__(members=members)
        self.members = nn.ModuleList(_REGISTRY[m["class"]](**m["config"]) for m in members)

    def forward(self, x):
        logp = torch.stack([torch.log_softmax(m(x), dim=1) for m in self.members])
        return torch.logsumexp(logp, dim=0) - torch.log(torch.tensor(float(len(self.members)), device=logp.device))


def ensemble_of(models) -> ProbabilityEnsemble:
    """A :class:`ProbabilityEnsemble` holding copies of the weights of ``models`` (registered models), in eval mode."""
    models = list(models)
    for m in models:
        if _REGISTRY.get(type(m).__name__) is not type(m):
            raise ValueError(f"ensemble_of takes registered helpers models, got {type(m).__name__}")
    ens = ProbabilityEnsemble([{"class": type(m).__name__, "config": m.config} for m in models])
    for dst, src in zip(ens.members, models):
        dst.load_state_dict(src.state_dict())
    return ens.eval()


def _mlp(sizes, out_act, dropout, slope):
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(slope, True), nn.Dropout(dropout)]
    layers += [nn.Linear(sizes[-2], sizes[-1])]
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


@register
class Generator(Configurable):
    """MLP generator: ``z (N, noise_dim)`` -> images ``(N, 1, 28, 28)`` in [-1, 1] (Tanh)."""

    def __init__(self, noise_dim: int = 100, hidden=(256, 512), dropout: float = 0.5, slope: float = 0.2):
        check_positive("noise_dim", noise_dim, integer=True)
        hidden = [int(h) for h in hidden]
        super().__init__(noise_dim=noise_dim, hidden=hidden, dropout=dropout, slope=slope)
        self.noise_dim = noise_dim
        self.net = _mlp([noise_dim, *hidden, 784], nn.Tanh(), dropout, slope)

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


@register
class Discriminator(Configurable):
    """MLP discriminator: images in [-1, 1] -> one logit each (use ``BCEWithLogitsLoss``;
    ``torch.sigmoid`` of the output is the homework report's probability D(x))."""

    def __init__(self, hidden=(512, 256), dropout: float = 0.5, slope: float = 0.2):
        hidden = [int(h) for h in hidden]
        super().__init__(hidden=hidden, dropout=dropout, slope=slope)
        self.net = _mlp([784, *hidden, 1], None, dropout, slope)

    def forward(self, x):
        return self.net(x.reshape(x.shape[0], -1)).squeeze(1)


@register
class SmallCNN(Configurable):
    """A small, strong MNIST classifier (>= 99% test accuracy), used to score GAN samples.

    ``features(x)`` returns the penultimate 128-d activations used for the Frechet distance.
    """

    def __init__(self, n_classes: int = 10, width: int = 16):
        check_positive("width", width, integer=True)
        super().__init__(n_classes=n_classes, width=width)
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.Conv2d(w, w, 3, padding=1),
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(2 * w * 7 * 7, 128),
            nn.ReLU(True),
        )
        self.out = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, n_classes))

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.out(self.body(x))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def save_model(model: Configurable, path, **meta) -> Path:
    """Save ``model``'s class, constructor arguments, weights and ``meta`` to ``path``."""
    name = type(model).__name__
    if _REGISTRY.get(name) is not type(model):
        raise ValueError(f"save_model only saves registered helpers models, got {name}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save({"class": name, "config": model.config, "state_dict": state, "meta": meta}, path)


def fingerprint(model: nn.Module) -> str:
    """A short hash of ``model``'s weights: equal for equal weights, so results built on a model can be keyed by it."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def load_model(path, map_location="cpu", with_meta: bool = False):
    """Rebuild a model saved by :func:`save_model`, in eval mode (and its ``meta`` if asked).

    A missing file raises ``FileNotFoundError``; a truncated, empty or foreign one ``CorruptFileError`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    fix = (
        "delete it and rerun the notebook that writes it (README, 'Trained models'), "
        "or restore the committed copy with `git checkout -- <file>`"
    )
    payload = read_torch_file(path, map_location=map_location, what="saved model", fix=fix)
    if not isinstance(payload, dict) or not {"class", "config", "state_dict"} <= set(payload):
        raise CorruptFileError(f"{path} is not a model saved by helpers.models.save_model; {fix}")
    try:
        cls = _REGISTRY[payload["class"]]
    except KeyError as exc:
        raise ValueError(f"{path} holds an unknown model class {payload.get('class')!r}") from exc
    model = cls(**payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return (model, payload.get("meta", {})) if with_meta else model
