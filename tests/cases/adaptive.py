"""Cases for AdaptiveLogSoftmaxWithLoss: inputs ``(x, target)``; the target is not differentiated.

Targets cover the shortlist and every cluster; outputs are ``(output, loss)``.
"""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _inputs(n, features, classes, cover):
    def make(g):
        target = np.concatenate([np.asarray(cover), g.integers(0, classes, n - len(cover))])
        return g.standard_normal((n, features)).astype(np.float32), target

    return make


CASES = [
    LayerCase(
        "adaptive-log-softmax-two-clusters",
        lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[3, 7]),
        lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[3, 7]),
        _inputs(7, 16, 12, [0, 5, 11]),
    ),
    LayerCase(
        "adaptive-log-softmax-head-bias-div2-one-cluster",
        lambda: nn.AdaptiveLogSoftmaxWithLoss(6, 5, cutoffs=[4], div_value=2.0, head_bias=True),
        lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(6, 5, cutoffs=[4], div_value=2.0, head_bias=True),
        _inputs(5, 6, 5, [1, 4]),
    ),
    LayerCase(
        "adaptive-log-softmax-unbatched",
        lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 9, cutoffs=[2, 4, 6], div_value=1.5),
        lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 9, cutoffs=[2, 4, 6], div_value=1.5),
        lambda g: (g.standard_normal(8).astype(np.float32), np.int64(5)),
    ),
]
