"""Cases for Linear, Identity, Flatten, Unflatten, Sequential and the activations."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _act(name, make, make_torch, shape=(4, 5)):
    return LayerCase(f"act-{name}", make, make_torch, _x(*shape))


CASES = [
    LayerCase("linear", lambda: nn.Linear(3, 10), lambda: torch.nn.Linear(3, 10), _x(6, 3)),
    LayerCase(
        "linear-nobias-3d", lambda: nn.Linear(4, 2, bias=False), lambda: torch.nn.Linear(4, 2, bias=False), _x(2, 3, 4)
    ),
    LayerCase("linear-unbatched", lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3), _x(4)),
    LayerCase("identity", lambda: nn.Identity(54, unused="x"), lambda: torch.nn.Identity(54, unused="x"), _x(3, 2)),
    LayerCase("flatten", lambda: nn.Flatten(), lambda: torch.nn.Flatten(), _x(2, 3, 4, 2)),
    LayerCase("flatten-range", lambda: nn.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1), _x(2, 3, 4)),
    LayerCase("unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)), _x(4, 6)),
    LayerCase("unflatten-infer", lambda: nn.Unflatten(-1, (2, -1)), lambda: torch.nn.Unflatten(-1, (2, -1)), _x(4, 6)),
    LayerCase(
        "sequential-seed",
        lambda: nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1)),
        lambda: torch.nn.Sequential(
            OrderedDict(hidden=torch.nn.Linear(3, 10), relu=torch.nn.ReLU(), output=torch.nn.Linear(10, 1))
        ),
        _x(8, 3),
    ),
    LayerCase(
        "sequential-nested",
        lambda: nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(6, 5), nn.Tanh()), nn.Linear(5, 2)),
        lambda: torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh()), torch.nn.Linear(5, 2)
        ),
        _x(3, 2, 3),
    ),
    _act("relu", nn.ReLU, torch.nn.ReLU),
    _act("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    _act("leaky_relu-default", nn.LeakyReLU, torch.nn.LeakyReLU),
    _act("elu", lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7)),
    _act("gelu", nn.GELU, torch.nn.GELU),
    _act("gelu-tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    _act("silu", nn.SiLU, torch.nn.SiLU),
    _act("sigmoid", nn.Sigmoid, torch.nn.Sigmoid),
    _act("tanh", nn.Tanh, torch.nn.Tanh),
    _act("softplus", nn.Softplus, torch.nn.Softplus),
    LayerCase(
        "act-softplus-beta-threshold",
        lambda: nn.Softplus(beta=2.0, threshold=1.0),
        lambda: torch.nn.Softplus(beta=2.0, threshold=1.0),
        lambda g: ((3 * g.standard_normal((4, 5))).astype(np.float32),),
    ),
    LayerCase(
        "act-hardtanh",
        lambda: nn.Hardtanh(-0.5, 0.8),
        lambda: torch.nn.Hardtanh(-0.5, 0.8),
        lambda g: ((2 * g.standard_normal((4, 5))).astype(np.float32),),
    ),
    _act("softmax-dim1", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), (3, 4, 5)),
    _act("softmax-dim-1", lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    _act("log_softmax", lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
]
