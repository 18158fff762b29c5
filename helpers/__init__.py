"""Helpers for the MNIST unsupervised-learning report: data, models, training, search, plots."""

from .runtime import device, seed_everything

__all__ = ["device", "seed_everything"]
