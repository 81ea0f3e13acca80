"""Cases for Embedding and EmbeddingBag: integer inputs are not differentiated; the weight (and
``per_sample_weights``) are.

``max_norm`` and ``scale_grad_by_freq`` pass the gradient through a rescaling that is not
differentiated (torch renormalises in place, outside autograd, and rescales gradients
by counts), so finite differences cannot agree there: those cases skip only the
float64 ``check_grads``; their gradients are compared with torch's.
"""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


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


def _scaled(module):
    # Rows with norms well above max_norm, so that the renorm acts.
    with torch.no_grad():
        module.weight.mul_(2.0)
    return module


def _bags(with_weights=False, last=False):
    """A 1-D input of 9 indices (the padding index 1 in it) cut into 4 bags, one of them empty."""

    def make(g):
        idx = np.concatenate([[1, 3, 3], g.integers(0, 10, 6)])
        offsets = np.array([0, 2, 2, 6] + ([9] if last else []))
        if with_weights:
            return idx, offsets, g.random(9).astype(np.float32)
        return idx, offsets

    return make


CASES = [
    LayerCase("embedding", lambda: nn.Embedding(10, 3), lambda: torch.nn.Embedding(10, 3), _ids(2, 4)),
    LayerCase("embedding-1d-input", lambda: nn.Embedding(7, 2), lambda: torch.nn.Embedding(7, 2), _ids(5, high=7)),
    LayerCase(
        "embedding-scalar-input", lambda: nn.Embedding(7, 4), lambda: torch.nn.Embedding(7, 4), lambda g: (np.int64(3),)
    ),
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
    LayerCase(
        "embedding-max-norm",
        lambda: nn.Embedding(10, 3, max_norm=1.0),
        lambda: _scaled(torch.nn.Embedding(10, 3, max_norm=1.0)),
        _with_padding(4),
        grad_check=False,  # the renorm is outside autograd (see the module notes)
    ),
    LayerCase(
        "embedding-max-norm-l1-padding-freq",
        lambda: nn.Embedding(10, 3, padding_idx=2, max_norm=0.8, norm_type=1.0, scale_grad_by_freq=True),
        lambda: _scaled(torch.nn.Embedding(10, 3, padding_idx=2, max_norm=0.8, norm_type=1.0, scale_grad_by_freq=True)),
        _with_padding(2),
        grad_check=False,  # as above
    ),
    LayerCase(
        "embeddingbag-2d-mean",
        lambda: nn.EmbeddingBag(10, 3),
        lambda: torch.nn.EmbeddingBag(10, 3),
        _ids(3, 4),
    ),
    LayerCase(
        "embeddingbag-offsets-sum-weights-padding",
        lambda: nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1),
        lambda: torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1),
        _bags(with_weights=True),
    ),
    LayerCase(
        "embeddingbag-max-last-offset-padding",
        lambda: nn.EmbeddingBag(10, 3, mode="max", include_last_offset=True, padding_idx=1),
        lambda: torch.nn.EmbeddingBag(10, 3, mode="max", include_last_offset=True, padding_idx=1),
        _bags(last=True),
    ),
    LayerCase(
        "embeddingbag-mean-max-norm-empty-bag",
        lambda: nn.EmbeddingBag(10, 3, max_norm=1.2),
        lambda: _scaled(torch.nn.EmbeddingBag(10, 3, max_norm=1.2)),
        _bags(),
        grad_check=False,  # the renorm is outside autograd (see the module notes)
    ),
]
