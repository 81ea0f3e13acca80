"""Cases for Dropout, Dropout1d/2d/3d, AlphaDropout and FeatureAlphaDropout.

Train-mode cases with ``0 < p < 1`` depend on the key (``random=True``: shapes, jit ==
eager and vmap == loop are checked, values are not). Eval mode and ``p`` in {0, 1} are
deterministic and compared with torch, gradients included.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _quiet(module, x):
    # torch warns that a 3-D input to Dropout2d is read as (N, C, L); that reading is the one tested.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return module(x)


CASES = [
    LayerCase(
        "dropout-train", lambda: nn.Dropout(0.3), lambda: torch.nn.Dropout(0.3), _x(4, 5), train=True, random=True
    ),
    LayerCase("dropout-eval", lambda: nn.Dropout(0.3), lambda: torch.nn.Dropout(0.3), _x(4, 5)),
    LayerCase("dropout-p0-train", lambda: nn.Dropout(0.0), lambda: torch.nn.Dropout(0.0), _x(3, 4), train=True),
    LayerCase("dropout-p1-train", lambda: nn.Dropout(1.0), lambda: torch.nn.Dropout(1.0), _x(3, 4), train=True),
    LayerCase(
        "dropout1d-train",
        lambda: nn.Dropout1d(0.5),
        lambda: torch.nn.Dropout1d(0.5),
        _x(2, 3, 4),
        train=True,
        random=True,
    ),
    LayerCase(
        "dropout1d-unbatched-train",
        lambda: nn.Dropout1d(),
        lambda: torch.nn.Dropout1d(),
        _x(3, 4),
        train=True,
        random=True,
    ),
    LayerCase("dropout1d-eval", lambda: nn.Dropout1d(0.5), lambda: torch.nn.Dropout1d(0.5), _x(2, 3, 4)),
    LayerCase(
        "dropout2d-train",
        lambda: nn.Dropout2d(0.2),
        lambda: torch.nn.Dropout2d(0.2),
        _x(2, 3, 2, 2),
        train=True,
        random=True,
    ),
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
    LayerCase(
        "dropout3d-train",
        lambda: nn.Dropout3d(0.4),
        lambda: torch.nn.Dropout3d(0.4),
        _x(2, 3, 2, 2, 2),
        train=True,
        random=True,
    ),
    LayerCase(
        "dropout3d-unbatched-train",
        lambda: nn.Dropout3d(),
        lambda: torch.nn.Dropout3d(),
        _x(3, 2, 1, 2),
        train=True,
        random=True,
    ),
    LayerCase(
        "dropout3d-eval-inplace",
        lambda: nn.Dropout3d(0.4, inplace=True),
        lambda: torch.nn.Dropout3d(0.4, inplace=True),
        _x(2, 3, 2, 1, 2),
    ),
    LayerCase(
        "dropout3d-p1-train", lambda: nn.Dropout3d(1.0), lambda: torch.nn.Dropout3d(1.0), _x(2, 3, 2, 1, 2), train=True
    ),
    LayerCase(
        "alphadropout-train",
        lambda: nn.AlphaDropout(0.3),
        lambda: torch.nn.AlphaDropout(0.3),
        _x(4, 5),
        train=True,
        random=True,
    ),
    LayerCase("alphadropout-eval", lambda: nn.AlphaDropout(0.3), lambda: torch.nn.AlphaDropout(0.3), _x(4, 5)),
    LayerCase(
        "alphadropout-p0-train", lambda: nn.AlphaDropout(0.0), lambda: torch.nn.AlphaDropout(0.0), _x(3, 4), train=True
    ),
    LayerCase(
        "alphadropout-p1-train", lambda: nn.AlphaDropout(1.0), lambda: torch.nn.AlphaDropout(1.0), _x(3, 4), train=True
    ),
    LayerCase(
        "featurealphadropout-train",
        lambda: nn.FeatureAlphaDropout(0.5),
        lambda: torch.nn.FeatureAlphaDropout(0.5),
        _x(2, 3, 4),
        train=True,
        random=True,
    ),
    LayerCase(
        "featurealphadropout-eval-4d",
        lambda: nn.FeatureAlphaDropout(0.5, inplace=True),
        lambda: torch.nn.FeatureAlphaDropout(0.5, inplace=True),
        _x(2, 3, 2, 2),
    ),
    LayerCase(
        "featurealphadropout-p1-train",
        lambda: nn.FeatureAlphaDropout(1.0),
        lambda: torch.nn.FeatureAlphaDropout(1.0),
        _x(2, 3),
        train=True,
    ),
]
