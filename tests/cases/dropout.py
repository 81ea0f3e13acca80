"""Cases for Dropout, Dropout1d and Dropout2d.

Train-mode cases with ``0 < p < 1`` depend on the key (``random=True``: shapes, jit ==
eager and vmap == loop are checked, values are not). Eval mode and ``p`` in {0, 1} are
deterministic and compared with torch, gradients included.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from funcnn import nn
from layer_harness import LayerCase


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _quiet(module, x):
    # torch warns that a 3-D input to Dropout2d is read as (N, C, L); that reading is the one tested.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return module(x)


CASES = [
    LayerCase("dropout-train", lambda: nn.Dropout(0.3), lambda: torch.nn.Dropout(0.3), _x(4, 5), train=True, random=True),
    LayerCase("dropout-eval", lambda: nn.Dropout(0.3), lambda: torch.nn.Dropout(0.3), _x(4, 5)),
    LayerCase("dropout-p0-train", lambda: nn.Dropout(0.0), lambda: torch.nn.Dropout(0.0), _x(3, 4), train=True),
    LayerCase("dropout-p1-train", lambda: nn.Dropout(1.0), lambda: torch.nn.Dropout(1.0), _x(3, 4), train=True),
    LayerCase("dropout1d-train", lambda: nn.Dropout1d(0.5), lambda: torch.nn.Dropout1d(0.5), _x(2, 3, 4), train=True, random=True),
    LayerCase("dropout1d-unbatched-train", lambda: nn.Dropout1d(), lambda: torch.nn.Dropout1d(), _x(3, 4), train=True, random=True),
    LayerCase("dropout1d-eval", lambda: nn.Dropout1d(0.5), lambda: torch.nn.Dropout1d(0.5), _x(2, 3, 4)),
    LayerCase("dropout2d-train", lambda: nn.Dropout2d(0.2), lambda: torch.nn.Dropout2d(0.2), _x(2, 3, 2, 2), train=True, random=True),
    LayerCase(
        "dropout2d-3d-train",
        lambda: nn.Dropout2d(0.5),
        lambda: torch.nn.Dropout2d(0.5),
        _x(2, 3, 4),
        torch_forward=_quiet,
        train=True,
        random=True,
    ),
    LayerCase("dropout2d-eval", lambda: nn.Dropout2d(0.2), lambda: torch.nn.Dropout2d(0.2), _x(2, 3, 2, 2)),
]
