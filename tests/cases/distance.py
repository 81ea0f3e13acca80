"""Cases for CosineSimilarity, PairwiseDistance and Bilinear: broadcasting, odd dims, p-norms, keepdim, no bias."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _xs(*shapes):
    return lambda g: tuple(g.standard_normal(s).astype(np.float32) for s in shapes)


def _case(id, layer, kwargs, shapes, args=(), **extra):
    return LayerCase(
        id,
        lambda: getattr(nn, layer)(*args, **kwargs),
        lambda: getattr(torch.nn, layer)(*args, **kwargs),
        _xs(*shapes),
        **extra,
    )


def _tiny_second(g):
    # Rows of x2 with norms below eps: the clamp decides the value, and its gradient
    # still flows through the unclamped norm (PyTorch clamps under no_grad).
    x1 = g.standard_normal((3, 4)).astype(np.float32)
    x2 = (g.standard_normal((3, 4)) * np.array([[1.0], [1e-5], [1.0]])).astype(np.float32)
    return x1, x2


CASES = [
    _case("cosine-default", "CosineSimilarity", {}, [(3, 5), (3, 5)]),
    _case("cosine-dim-broadcast", "CosineSimilarity", dict(dim=-1), [(2, 3, 4), (1, 3, 4)]),
    _case("cosine-dim0-odd", "CosineSimilarity", dict(dim=0), [(5, 3, 2), (5, 1, 2)]),
    LayerCase(
        "cosine-eps-clamps-each-norm",
        lambda: nn.CosineSimilarity(dim=1, eps=1e-3),
        lambda: torch.nn.CosineSimilarity(dim=1, eps=1e-3),
        _tiny_second,
        grad_check=False,  # the clamp's pass-through gradient is not the derivative of the value
    ),
    _case("pairwise-default", "PairwiseDistance", {}, [(4, 5), (4, 5)]),
    _case("pairwise-p1-keepdim", "PairwiseDistance", dict(p=1.0, keepdim=True), [(3, 2, 5), (3, 2, 5)]),
    _case("pairwise-p3-broadcast", "PairwiseDistance", dict(p=3.0, eps=1e-3), [(4, 3), (1, 3)]),
    _case("pairwise-p-fraction", "PairwiseDistance", dict(p=1.5), [(3, 4), (3, 4)]),
    _case("pairwise-pinf", "PairwiseDistance", dict(p=float("inf")), [(3, 4), (3, 4)]),
    _case("pairwise-1d", "PairwiseDistance", {}, [(5,), (5,)]),
    _case("bilinear-basic", "Bilinear", {}, [(4, 3), (4, 5)], args=(3, 5, 2)),
    _case("bilinear-no-bias-batch-dims", "Bilinear", dict(bias=False), [(2, 3, 1), (2, 3, 4)], args=(1, 4, 3)),
    _case("bilinear-unbatched", "Bilinear", {}, [(3,), (2,)], args=(3, 2, 4), tol="accum"),
]
