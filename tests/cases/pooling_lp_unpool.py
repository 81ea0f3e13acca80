"""Cases for LPPool1d/2d/3d (torch's formula, ceil_mode) and MaxUnpool1d/2d/3d (on torch's pooling indices)."""

from __future__ import annotations

import math

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape, positive=False):
    def make(g):
        x = g.standard_normal(shape).astype(np.float32)
        return (np.abs(x) + 0.5 if positive else x,)

    return make


def _lp(id, args, kwargs, shape, positive=False, layer=None):
    layer = layer or f"LPPool{len(shape) - 2 if len(shape) > 2 else 1}d"
    return LayerCase(
        id,
        lambda: getattr(nn, layer)(*args, **kwargs),
        lambda: getattr(torch.nn, layer)(*args, **kwargs),
        _x(*shape, positive=positive),
    )


def _pooled(n, shape, kernel, kwargs):
    """Values and indices of torch's max pooling of a random input: what an unpooling layer gets."""

    def make(g):
        x = torch.from_numpy(g.standard_normal(shape).astype(np.float32))
        values, indices = getattr(torch.nn.functional, f"max_pool{n}d")(x, kernel, return_indices=True, **kwargs)
        return values.numpy(), indices.numpy()

    return make


def _unpool(id, n, shape, kernel, kwargs, output_size=None):
    pool_kwargs = {k: v for k, v in kwargs.items() if k in ("stride", "padding")}
    return LayerCase(
        id,
        lambda: getattr(nn, f"MaxUnpool{n}d")(kernel, **kwargs),
        lambda: getattr(torch.nn, f"MaxUnpool{n}d")(kernel, **kwargs),
        _pooled(n, shape, kernel, pool_kwargs),
        kwargs={} if output_size is None else {"output_size": output_size},
    )


CASES = [
    # --- LPPool: p = 2 on signed inputs, fractional and odd p on positive ones (torch gives NaN otherwise)
    _lp("lppool1d-p2-ceil", (2, 3), dict(stride=2, ceil_mode=True), (2, 3, 8), layer="LPPool1d"),
    _lp("lppool1d-p1.5-unbatched", (1.5, 2), {}, (3, 7), positive=True, layer="LPPool1d"),
    _lp("lppool2d-p3-ceil-tuple", (3, (3, 2)), dict(stride=(2, 1), ceil_mode=True), (2, 2, 6, 5), positive=True),
    _lp("lppool2d-inf", (math.inf, 2), dict(stride=1), (2, 2, 4, 5), layer="LPPool2d"),
    _lp("lppool3d-p2-ceil", (2, 2), dict(stride=(1, 2, 2), ceil_mode=True), (1, 2, 3, 5, 4)),
    _lp("lppool3d-p1-unbatched", (1, (2, 1, 2)), {}, (2, 4, 3, 4), positive=True, layer="LPPool3d"),
    # --- MaxUnpool: padding, explicit output_size. Overlapping windows repeat indices, where
    # torch's gradient (every copy gets it) is not the derivative of the write; tests/test_pooling.py
    # checks that case against torch.
    _unpool("unpool1d-padding", 1, (2, 3, 9), 3, dict(stride=3, padding=1), output_size=[9]),
    _unpool("unpool2d-output-size", 2, (2, 2, 7, 6), 2, {}, output_size=[7, 6]),
    _unpool("unpool2d-stride-padding-unbatched", 2, (3, 5, 6), 3, dict(stride=3, padding=1), output_size=[5, 6]),
    _unpool("unpool3d-output-size", 3, (1, 2, 4, 4, 5), 2, {}, output_size=[1, 2, 4, 4, 5]),
]
