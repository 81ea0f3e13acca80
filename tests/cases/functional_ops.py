"""Cases for resampling and distance ops that have no ``torch.nn`` layer of their own.

Each op is wrapped as a parameter-free module on both sides (`_Op` and `_TorchOp`), so
the generic checks (torch parity forward and backward, jit, vmap, float64 gradients)
cover `grid_sample`, `affine_grid`, antialiased `interpolate`, `pdist` and `normalize`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from layer_harness import LayerCase

import funcnn.nn.functional as F
from funcnn import nn

TF = torch.nn.functional


class _Op(nn.Module):
    """``forward(params, *inputs) = fn(*inputs)`` (test-only)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def forward(self, params: Any, *inputs: Any, key: Any = None, train: bool = False) -> Any:
        return self.fn(*inputs)


class _TorchOp(torch.nn.Module):
    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *inputs: Any) -> Any:
        return self.fn(*inputs)


def _op(id, fn, tfn, inputs, **extra):
    return LayerCase(id, lambda: _Op(fn), lambda: _TorchOp(tfn), inputs, **extra)


def _image_and_grid(xs, gs):
    return lambda g: (g.standard_normal(xs).astype(np.float32), g.uniform(-1.4, 1.4, gs).astype(np.float32))


def _grid_case(id, xs, gs, **kw):
    return _op(f"grid-sample-{id}", lambda x, g: F.grid_sample(x, g, **kw), lambda x, g: TF.grid_sample(x, g, **kw),
               _image_and_grid(xs, gs))  # fmt: skip


def _theta(dims, n=2):
    return lambda g: ((np.eye(dims, dims + 1) + 0.3 * g.standard_normal((n, dims, dims + 1))).astype(np.float32),)


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


CASES = [
    _grid_case("bilinear-zeros", (2, 3, 4, 5), (2, 3, 2, 2), align_corners=False),
    _grid_case(
        "bicubic-reflection-aligned",
        (2, 2, 5, 4),
        (2, 2, 3, 2),
        mode="bicubic",
        padding_mode="reflection",
        align_corners=True,
    ),  # fmt: skip
    _grid_case(
        "nearest-border", (2, 2, 3, 4), (2, 2, 3, 2), mode="nearest", padding_mode="border", align_corners=False
    ),
    _grid_case(
        "trilinear-5d-reflection", (1, 2, 3, 4, 2), (1, 2, 2, 3, 3), padding_mode="reflection", align_corners=False
    ),  # fmt: skip
    _op(
        "affine-grid-2d",
        lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=False),
        lambda t: TF.affine_grid(t, (2, 3, 4, 5), align_corners=False),
        _theta(2),
    ),  # fmt: skip
    _op(
        "affine-grid-3d-aligned",
        lambda t: F.affine_grid(t, (2, 1, 2, 3, 4), align_corners=True),
        lambda t: TF.affine_grid(t, (2, 1, 2, 3, 4), align_corners=True),
        _theta(3),
    ),  # fmt: skip
    _op(
        "interpolate-antialias-bicubic-down",
        lambda x: F.interpolate(x, scale_factor=(0.45, 0.7), mode="bicubic", antialias=True),
        lambda x: TF.interpolate(x, scale_factor=(0.45, 0.7), mode="bicubic", antialias=True),
        _x(2, 2, 9, 7),
    ),  # fmt: skip
    _op(
        "interpolate-antialias-bilinear-aligned",
        lambda x: F.interpolate(x, size=(3, 5), mode="bilinear", antialias=True, align_corners=True),
        lambda x: TF.interpolate(x, size=(3, 5), mode="bilinear", antialias=True, align_corners=True),
        _x(2, 2, 8, 11),
    ),  # fmt: skip
    _op("pdist-p2", F.pdist, TF.pdist, _x(5, 3)),
    _op("normalize-p3-dim0", lambda x: F.normalize(x, 3.0, 0), lambda x: TF.normalize(x, 3.0, 0), _x(4, 3, 2)),
]
