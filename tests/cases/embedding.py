"""Cases for Embedding: integer inputs are not differentiated; the weight is."""

from __future__ import annotations

import numpy as np
import torch

from funcnn import nn
from layer_harness import LayerCase


def _ids(*shape, high=10):
    return lambda g: (g.integers(0, high, shape),)


def _with_padding(pad):
    # Every batch holds the padding row and repeats other rows, so both gradient rules are exercised.
    return lambda g: (np.concatenate([np.array([pad, 1, 1]), g.integers(0, 10, 5)]).reshape(2, 4),)


def _nonzero_padding(make):
    # A padding row holding non-zero values (loaded weights) is read as stored, as in torch.
    def build():
        m = make()
        with torch.no_grad():
            m.weight[m.padding_idx].fill_(0.5)
        return m

    return build


CASES = [
    LayerCase("embedding", lambda: nn.Embedding(10, 3), lambda: torch.nn.Embedding(10, 3), _ids(2, 4)),
    LayerCase("embedding-1d-input", lambda: nn.Embedding(7, 2), lambda: torch.nn.Embedding(7, 2), _ids(5, high=7)),
    LayerCase("embedding-scalar-input", lambda: nn.Embedding(7, 4), lambda: torch.nn.Embedding(7, 4), lambda g: (np.int64(3),)),
    LayerCase(
        "embedding-padding",
        lambda: nn.Embedding(10, 3, padding_idx=2),
        _nonzero_padding(lambda: torch.nn.Embedding(10, 3, padding_idx=2)),
        _with_padding(2),
        # The padding row's gradient is zero by definition (torch's rule), while finite
        # differences see its value change the output: check_grads cannot agree there.
        grad_check=False,
    ),
    LayerCase(
        "embedding-padding-negative",
        lambda: nn.Embedding(10, 3, padding_idx=-1),
        lambda: torch.nn.Embedding(10, 3, padding_idx=-1),
        _with_padding(9),
        grad_check=False,  # as above: the padding row's gradient is zero by definition
    ),
]
