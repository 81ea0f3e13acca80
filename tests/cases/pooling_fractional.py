"""Cases for FractionalMaxPool2d/3d: on fixed ``_random_samples`` (exact parity with torch) and drawn from the key."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _samples(*shape):
    return np.random.default_rng(7).random(shape).astype(np.float32)


def _fixed(id, layer, args, kwargs, shape, samples):
    return LayerCase(
        id,
        lambda: getattr(nn, layer)(*args, **kwargs, _random_samples=samples),
        lambda: getattr(torch.nn, layer)(*args, **kwargs, _random_samples=torch.from_numpy(samples)),
        _x(*shape),
    )


CASES = [
    _fixed(
        "frac2d-output-size-odd",
        "FractionalMaxPool2d",
        ((3, 2),),
        dict(output_size=(4, 5)),
        (2, 3, 9, 7),
        _samples(2, 3, 2),
    ),
    _fixed(
        "frac2d-ratio-indices-unbatched",
        "FractionalMaxPool2d",
        (2,),
        dict(output_ratio=(0.5, 0.7), return_indices=True),
        (3, 8, 7),
        _samples(1, 3, 2),
    ),
    # more samples than the batch: torch reads the first N
    _fixed("frac2d-extra-samples", "FractionalMaxPool2d", (2,), dict(output_size=3), (1, 2, 5, 6), _samples(3, 2, 2)),
    _fixed(
        "frac3d-output-size-indices",
        "FractionalMaxPool3d",
        ((2, 3, 2),),
        dict(output_size=(2, 3, 3), return_indices=True),
        (1, 2, 4, 6, 5),
        _samples(1, 2, 3),
    ),
    _fixed(
        "frac3d-ratio-unbatched", "FractionalMaxPool3d", (2,), dict(output_ratio=0.6), (2, 5, 4, 6), _samples(1, 2, 3)
    ),
    # drawn from the key: random, shapes compared (and jit == eager, vmap == loop on one key)
    LayerCase(
        "frac2d-drawn-from-key",
        lambda: nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True),
        lambda: torch.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True),
        _x(2, 3, 9, 8),
        random=True,
    ),
    LayerCase(
        "frac3d-drawn-from-key",
        lambda: nn.FractionalMaxPool3d(2, output_size=(2, 2, 3)),
        lambda: torch.nn.FractionalMaxPool3d(2, output_size=(2, 2, 3)),
        _x(1, 2, 4, 4, 5),
        random=True,
    ),
]
