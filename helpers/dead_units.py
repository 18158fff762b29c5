"""Dead ReLU units: counting the units that never fire on a set of images, and re-initialising them."""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F


def relu_layers(model: nn.Module) -> list[nn.Module]:
    """The ``Linear``/``Conv2d``/``ConvTranspose2d`` layers of ``model`` that a ``ReLU`` follows directly in an
    ``nn.Sequential``."""
    out = []
    for mod in model.modules():
        if isinstance(mod, nn.Sequential):
            ch = list(mod)
            out += [
                a
                for a, b in zip(ch, ch[1:])
                if isinstance(b, nn.ReLU) and isinstance(a, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
            ]
    return out


@torch.no_grad()
def _relu_inputs_outputs(model, x):
    """{layer: (its input, its output)} of every layer of :func:`relu_layers` on ``x`` (eval mode)."""
    seen, layers = {}, relu_layers(model)
    hooks = [
        layer.register_forward_hook(lambda m, i, o: seen.__setitem__(m, (i[0].detach(), o.detach().clone())))
        for layer in layers
    ]
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return [(layer, *seen[layer]) for layer in layers]


def _dead(out: torch.Tensor) -> torch.Tensor:
    """Units (dim 1: features or channels) whose ReLU input is <= 0 for every image and position."""
    return ~(out > 0).flatten(2).any(2).any(0) if out.dim() > 2 else ~(out > 0).any(0)


def dead_units(model: nn.Module, x: torch.Tensor) -> pd.DataFrame:
    """Per ReLU layer of ``model``: units (features or channels) never active on the images ``x``."""
    names = {id(m): n for n, m in model.named_modules()}
    rows = [
        {"layer": f"{names[id(layer)]} ({type(layer).__name__})", "units": out.shape[1], "dead": int(_dead(out).sum())}
        for layer, _, out in _relu_inputs_outputs(model, x)
    ]
    df = pd.DataFrame(rows)
    return df.assign(dead_share=df["dead"] / df["units"])


@torch.no_grad()
def revive_dead_units(model: nn.Module, x: torch.Tensor) -> int:
    """Re-initialise every ReLU unit of ``model`` that is never active on the images ``x``: fresh incoming
    weights (Kaiming-uniform with a=sqrt(5), PyTorch's default, over the unit's own fan-in) and a bias that makes it
    active on half of ``x``. Returns how many."""
    n = 0
    for layer, inp, out in _relu_inputs_outputs(model, x):
        idx = _dead(out).nonzero().flatten()
        if len(idx) == 0:
            continue
        transposed = isinstance(layer, nn.ConvTranspose2d)  # its weight is (in, out, k, k)
        shape = (
            (layer.weight.shape[0], len(idx), *layer.weight.shape[2:])
            if transposed
            else (len(idx), *layer.weight.shape[1:])
        )
        w = torch.empty(shape, device=layer.weight.device, dtype=layer.weight.dtype)
        nn.init.kaiming_uniform_(w.transpose(0, 1) if transposed else w, a=math.sqrt(5))
        if transposed:
            pre = F.conv_transpose2d(inp, w, None, layer.stride, layer.padding, layer.output_padding)
            layer.weight[:, idx] = w
        else:
            pre = (
                F.linear(inp, w)
                if isinstance(layer, nn.Linear)
                else F.conv2d(inp, w, None, layer.stride, layer.padding)
            )
            layer.weight[idx] = w
        layer.bias[idx] = -pre.transpose(0, 1).reshape(len(idx), -1).median(dim=1).values
        n += len(idx)
    return n
