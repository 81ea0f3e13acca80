"""Cases for BatchNorm1d/2d/3d, SyncBatchNorm, InstanceNorm1d/2d/3d, LayerNorm, RMSNorm, GroupNorm,
LocalResponseNorm and CrossMapLRN2d."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: ((1.5 * g.standard_normal(shape) + 0.5).astype(np.float32),)


def _randomized(module):
    """Random affine parameters and running statistics, so parity checks see non-trivial values."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape) * 0.5 + (1.0 if name == "weight" else 0.0))
        if getattr(module, "running_mean", None) is not None:
            module.running_mean.copy_(torch.randn(module.running_mean.shape))
            module.running_var.copy_(torch.rand(module.running_var.shape) + 0.5)
            module.num_batches_tracked.fill_(7)
    return module


def _case(id, make, make_torch, shape, **kw):
    return LayerCase(id, make, lambda: _randomized(make_torch()), _x(*shape), **kw)


CASES = [
    # BatchNorm: train mode, buffers compared after 3 steps.
    _case(
        "batchnorm1d-2d-train", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (6, 3), train=True, steps=3
    ),
    _case(
        "batchnorm1d-3d-train",
        lambda: nn.BatchNorm1d(3),
        lambda: torch.nn.BatchNorm1d(3),
        (4, 3, 5),
        train=True,
        steps=3,
    ),
    _case(
        "batchnorm2d-train",
        lambda: nn.BatchNorm2d(3),
        lambda: torch.nn.BatchNorm2d(3),
        (2, 3, 3, 4),
        train=True,
        steps=3,
    ),
    _case(
        "batchnorm1d-momentum-none",
        lambda: nn.BatchNorm1d(3, momentum=None),
        lambda: torch.nn.BatchNorm1d(3, momentum=None),
        (5, 3, 2),
        train=True,
        steps=3,
    ),
    _case(
        "batchnorm2d-momentum-eps",
        lambda: nn.BatchNorm2d(2, eps=1e-3, momentum=0.3),
        lambda: torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.3),
        (3, 2, 2, 2),
        train=True,
        steps=2,
    ),
    _case(
        "batchnorm2d-affine-false-train",
        lambda: nn.BatchNorm2d(3, affine=False),
        lambda: torch.nn.BatchNorm2d(3, affine=False),
        (2, 3, 2, 3),
        train=True,
        steps=3,
    ),
    _case(
        "batchnorm1d-nobias",
        lambda: nn.BatchNorm1d(3, bias=False),
        lambda: torch.nn.BatchNorm1d(3, bias=False),
        (4, 3),
        train=True,
    ),
    # BatchNorm: eval mode with non-trivial running statistics.
    _case("batchnorm1d-2d-eval", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (4, 3)),
    _case("batchnorm2d-eval", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (2, 3, 3, 3)),
    _case(
        "batchnorm2d-affine-false-eval",
        lambda: nn.BatchNorm2d(2, affine=False),
        lambda: torch.nn.BatchNorm2d(2, affine=False),
        (2, 2, 3, 3),
    ),
    # BatchNorm without running statistics: batch statistics in both modes, no state.
    _case(
        "batchnorm1d-no-tracking-eval",
        lambda: nn.BatchNorm1d(3, track_running_stats=False),
        lambda: torch.nn.BatchNorm1d(3, track_running_stats=False),
        (5, 3),
    ),
    _case(
        "batchnorm2d-no-tracking-train",
        lambda: nn.BatchNorm2d(3, track_running_stats=False),
        lambda: torch.nn.BatchNorm2d(3, track_running_stats=False),
        (2, 3, 2, 2),
        train=True,
    ),
    # InstanceNorm.
    _case("instancenorm1d", lambda: nn.InstanceNorm1d(3), lambda: torch.nn.InstanceNorm1d(3), (2, 3, 5)),
    _case(
        "instancenorm1d-affine",
        lambda: nn.InstanceNorm1d(3, affine=True),
        lambda: torch.nn.InstanceNorm1d(3, affine=True),
        (2, 3, 5),
    ),
    _case(
        "instancenorm1d-unbatched-affine",
        lambda: nn.InstanceNorm1d(3, affine=True),
        lambda: torch.nn.InstanceNorm1d(3, affine=True),
        (3, 6),
    ),
    _case(
        "instancenorm2d-affine-unbatched",
        lambda: nn.InstanceNorm2d(2, affine=True),
        lambda: torch.nn.InstanceNorm2d(2, affine=True),
        (2, 3, 3),
    ),
    _case(
        "instancenorm1d-tracking-train",
        lambda: nn.InstanceNorm1d(3, track_running_stats=True),
        lambda: torch.nn.InstanceNorm1d(3, track_running_stats=True),
        (2, 3, 4),
        train=True,
        steps=3,
    ),
    _case(
        "instancenorm2d-tracking-affine-train",
        lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True, momentum=0.2),
        lambda: torch.nn.InstanceNorm2d(2, affine=True, track_running_stats=True, momentum=0.2),
        (3, 2, 2, 3),
        train=True,
        steps=2,
    ),
    _case(
        "instancenorm2d-tracking-eval",
        lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True),
        lambda: torch.nn.InstanceNorm2d(2, affine=True, track_running_stats=True),
        (2, 2, 3, 3),
    ),
    # LayerNorm.
    _case("layernorm-1dim", lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (3, 5)),
    _case("layernorm-2dims", lambda: nn.LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)), (2, 3, 4)),
    _case(
        "layernorm-nobias", lambda: nn.LayerNorm(4, bias=False), lambda: torch.nn.LayerNorm(4, bias=False), (2, 3, 4)
    ),
    _case(
        "layernorm-no-affine-eps",
        lambda: nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False),
        lambda: torch.nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False),
        (4, 2, 3),
    ),
    _case("layernorm-unbatched", lambda: nn.LayerNorm(6), lambda: torch.nn.LayerNorm(6), (6,)),
    # GroupNorm.
    _case("groupnorm", lambda: nn.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4), (3, 4, 5)),
    _case("groupnorm-2d-spatial", lambda: nn.GroupNorm(3, 6), lambda: torch.nn.GroupNorm(3, 6), (2, 6, 2, 3)),
    _case("groupnorm-no-spatial", lambda: nn.GroupNorm(1, 4), lambda: torch.nn.GroupNorm(1, 4), (3, 4)),
    _case(
        "groupnorm-no-affine",
        lambda: nn.GroupNorm(4, 4, eps=1e-3, affine=False),
        lambda: torch.nn.GroupNorm(4, 4, eps=1e-3, affine=False),
        (2, 4, 6),
    ),
    # BatchNorm3d and SyncBatchNorm (any rank >= 2; on one process torch's SyncBatchNorm is BatchNorm).
    _case(
        "batchnorm3d-train",
        lambda: nn.BatchNorm3d(3),
        lambda: torch.nn.BatchNorm3d(3),
        (2, 3, 2, 3, 2),
        train=True,
        steps=2,
    ),
    _case("batchnorm3d-eval", lambda: nn.BatchNorm3d(2), lambda: torch.nn.BatchNorm3d(2), (2, 2, 3, 2, 2)),
    _case(
        "syncbatchnorm-2d-input-train",
        lambda: nn.SyncBatchNorm(3, momentum=None),
        lambda: torch.nn.SyncBatchNorm(3, momentum=None),
        (5, 3),
        train=True,
        steps=2,
    ),
    _case(
        "syncbatchnorm-6d-input-train",
        lambda: nn.SyncBatchNorm(2, eps=1e-3, affine=False),
        lambda: torch.nn.SyncBatchNorm(2, eps=1e-3, affine=False),
        (2, 2, 2, 1, 3, 2),
        train=True,
        steps=2,
    ),
    _case("syncbatchnorm-4d-eval", lambda: nn.SyncBatchNorm(3), lambda: torch.nn.SyncBatchNorm(3), (2, 3, 2, 2)),
    # InstanceNorm3d.
    _case(
        "instancenorm3d-affine",
        lambda: nn.InstanceNorm3d(2, affine=True),
        lambda: torch.nn.InstanceNorm3d(2, affine=True),
        (2, 2, 2, 3, 2),
    ),
    _case(
        "instancenorm3d-unbatched-tracking-train",
        lambda: nn.InstanceNorm3d(3, track_running_stats=True),
        lambda: torch.nn.InstanceNorm3d(3, track_running_stats=True),
        (3, 2, 2, 3),
        train=True,
        steps=2,
    ),
    # RMSNorm: eps=None is the machine epsilon, as in torch.
    _case("rmsnorm-1dim", lambda: nn.RMSNorm(5), lambda: torch.nn.RMSNorm(5), (3, 5)),
    _case(
        "rmsnorm-2dims-eps",
        lambda: nn.RMSNorm([3, 2], eps=1e-2),
        lambda: torch.nn.RMSNorm([3, 2], eps=1e-2),
        (2, 4, 3, 2),
    ),
    _case(
        "rmsnorm-no-affine-unbatched",
        lambda: nn.RMSNorm(4, elementwise_affine=False),
        lambda: torch.nn.RMSNorm(4, elementwise_affine=False),
        (4,),
    ),
    # LocalResponseNorm over 3-D, 4-D and 5-D inputs; odd and even windows.
    _case("lrn-3d-input", lambda: nn.LocalResponseNorm(3), lambda: torch.nn.LocalResponseNorm(3), (2, 5, 4)),
    _case(
        "lrn-4d-even-size",
        lambda: nn.LocalResponseNorm(4, alpha=0.3, beta=0.6, k=2.0),
        lambda: torch.nn.LocalResponseNorm(4, alpha=0.3, beta=0.6, k=2.0),
        (2, 5, 3, 2),
    ),
    _case(
        "lrn-5d-window-wider-than-channels",
        lambda: nn.LocalResponseNorm(7, alpha=0.5),
        lambda: torch.nn.LocalResponseNorm(7, alpha=0.5),
        (1, 3, 2, 2, 2),
    ),
    # CrossMapLRN2d: torch's legacy kernel, forward and hand-written backward.
    _case(
        "crossmaplrn2d-narrow-channels",
        lambda: nn.CrossMapLRN2d(6, alpha=0.2),
        lambda: torch.nn.CrossMapLRN2d(6, alpha=0.2),
        (2, 3, 2, 2),
    ),
    _case(
        "crossmaplrn2d-wide",
        lambda: nn.CrossMapLRN2d(3, alpha=0.4, beta=0.5, k=2.0),
        lambda: torch.nn.CrossMapLRN2d(3, alpha=0.4, beta=0.5, k=2.0),
        (2, 7, 2, 3),
        # torch's hand-written backward is not the derivative of its forward once the
        # window slides past channel 0 (reproduced on purpose), so finite differences
        # disagree; the gradients are still compared with torch's.
        grad_check=False,
        vmap=True,
    ),
]
