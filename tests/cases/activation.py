"""Cases for the activations that `core.py` does not cover, in PyTorch's non-default configurations too.

Some layers run with ``inplace=True`` on both sides (torch mutates its own copy; ours
ignores the flag and must still agree); `tests/test_activation.py` checks the flag on
every layer that takes it, more cheaply.
Inputs are scaled so that every branch of the piecewise functions is hit (the hard
sigmoids switch at +-3).
"""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape, scale=1.0):
    return lambda g: ((scale * g.standard_normal(shape)).astype(np.float32),)


def _cloned(module, x):
    # torch's in-place ops refuse a leaf that requires grad; ours never mutate anything.
    return module(x.clone())


def _case(name, make, make_torch, shape=(3, 5), scale=1.0, **kw):
    return LayerCase(f"act-{name}", make, make_torch, _x(*shape, scale=scale), torch_forward=_cloned, **kw)


CASES = [
    # a flag that PyTorch code passes, on a layer that existed before (tests/test_activation.py checks the rest)
    _case("hardtanh-inplace", lambda: nn.Hardtanh(-2, 0.5, True), lambda: torch.nn.Hardtanh(-2, 0.5, True), scale=2.0),
    # piecewise-linear
    _case("relu6", nn.ReLU6, torch.nn.ReLU6, (2, 3, 5), scale=4.0),
    _case("relu6-scalar", lambda: nn.ReLU6(inplace=True), lambda: torch.nn.ReLU6(inplace=True), ()),
    _case("threshold", lambda: nn.Threshold(0.1, 20.0), lambda: torch.nn.Threshold(0.1, 20.0)),
    _case("hardshrink-lambd", lambda: nn.Hardshrink(1.3), lambda: torch.nn.Hardshrink(1.3), (3, 7), scale=2.0),
    _case("softshrink-lambd0", lambda: nn.Softshrink(0.0), lambda: torch.nn.Softshrink(0.0), (3, 7)),
    _case("hardsigmoid", nn.Hardsigmoid, torch.nn.Hardsigmoid, (4, 5), scale=4.0),
    _case("hardswish", nn.Hardswish, torch.nn.Hardswish, (4, 5), scale=4.0),
    _case("prelu", nn.PReLU, torch.nn.PReLU, (2, 3, 5)),
    _case("prelu-channels", lambda: nn.PReLU(3, 0.1), lambda: torch.nn.PReLU(3, 0.1), (2, 3, 5)),
    _case("prelu-1d", lambda: nn.PReLU(init=-0.3), lambda: torch.nn.PReLU(init=-0.3), (7,)),
    _case("rrelu-eval-bounds", lambda: nn.RReLU(0.1, 0.9, True), lambda: torch.nn.RReLU(0.1, 0.9, True), (2, 3, 5)),
    _case("rrelu-train", nn.RReLU, torch.nn.RReLU, (4, 5), train=True, random=True),
    _case("rrelu-train-equal-bounds", lambda: nn.RReLU(0.3, 0.3), lambda: torch.nn.RReLU(0.3, 0.3), (4, 5), train=True),
    # smooth
    _case("celu", nn.CELU, torch.nn.CELU, (4, 5), scale=2.0),
    _case("celu-alpha-inplace", lambda: nn.CELU(0.4, True), lambda: torch.nn.CELU(0.4, True), (3, 7), scale=2.0),
    _case("selu", nn.SELU, torch.nn.SELU, (4, 5), scale=2.0),
    _case("mish", nn.Mish, torch.nn.Mish, (4, 5), scale=3.0),
    _case("logsigmoid", nn.LogSigmoid, torch.nn.LogSigmoid, (4, 5), scale=5.0),
    _case("softsign", nn.Softsign, torch.nn.Softsign, (4, 5), scale=3.0),
    _case("tanhshrink", nn.Tanhshrink, torch.nn.Tanhshrink, (4, 5), scale=2.0),
    # along a dimension
    _case("softmin-dim-1", lambda: nn.Softmin(dim=-1), lambda: torch.nn.Softmin(dim=-1), (2, 3, 5)),
    _case("softmax2d", nn.Softmax2d, torch.nn.Softmax2d, (2, 3, 4, 5)),
    _case("softmax2d-unbatched", nn.Softmax2d, torch.nn.Softmax2d, (3, 2, 5)),
    _case("glu", nn.GLU, torch.nn.GLU, (3, 6)),
    _case("glu-dim1", lambda: nn.GLU(1), lambda: torch.nn.GLU(1), (2, 4, 3)),
    _case("glu-dim0-1d", lambda: nn.GLU(dim=0), lambda: torch.nn.GLU(dim=0), (10,)),
]
