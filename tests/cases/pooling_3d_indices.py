"""Cases for the 3-D pools and for max pooling with ``return_indices=True`` (values and indices compared)."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _case(id, layer, args, kwargs, shape):
    return LayerCase(
        id, lambda: getattr(nn, layer)(*args, **kwargs), lambda: getattr(torch.nn, layer)(*args, **kwargs), _x(*shape)
    )


CASES = [
    # --- 3-D
    _case(
        "pool-max3d-ceil-padding", "MaxPool3d", ((2, 3, 2),), dict(stride=2, padding=1, ceil_mode=True), (1, 2, 4, 5, 4)
    ),
    _case(
        "pool-max3d-dilation-tuples-unbatched",
        "MaxPool3d",
        ((2, 1, 2),),
        dict(stride=(1, 2, 1), padding=(1, 0, 0), dilation=(1, 1, 2)),
        (2, 3, 4, 5),
    ),
    _case(
        "pool-avg3d-ceil-exclude-pad",
        "AvgPool3d",
        ((3, 2, 3),),
        dict(stride=(2, 1, 2), padding=(1, 1, 1), ceil_mode=True, count_include_pad=False),
        (1, 2, 4, 3, 5),
    ),
    _case(
        "pool-avg3d-divisor-unbatched", "AvgPool3d", (2,), dict(stride=1, padding=1, divisor_override=3), (2, 3, 2, 3)
    ),
    _case("pool-adaptive-avg3d-none", "AdaptiveAvgPool3d", ((2, None, 3),), {}, (1, 2, 5, 3, 7)),
    _case("pool-adaptive-max3d-unbatched", "AdaptiveMaxPool3d", ((3, 2, 2),), {}, (2, 4, 3, 3)),
    # --- return_indices: (values, indices), the gradient through the values
    _case(
        "pool-max1d-indices-dilation",
        "MaxPool1d",
        (3,),
        dict(stride=2, padding=1, dilation=2, return_indices=True, ceil_mode=True),
        (2, 3, 10),
    ),
    _case(
        "pool-max2d-indices-ceil",
        "MaxPool2d",
        (3,),
        dict(stride=2, padding=1, ceil_mode=True, return_indices=True),
        (2, 2, 6, 7),
    ),
    _case("pool-max3d-indices-unbatched", "MaxPool3d", (2,), dict(stride=(1, 2, 2), return_indices=True), (2, 3, 4, 5)),
    _case("pool-adaptive-max1d-indices", "AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 7)),
    _case(
        "pool-adaptive-max2d-indices-unbatched", "AdaptiveMaxPool2d", ((3, None),), dict(return_indices=True), (3, 5, 4)
    ),
    _case("pool-adaptive-max3d-indices", "AdaptiveMaxPool3d", ((2, 3, 2),), dict(return_indices=True), (1, 2, 3, 4, 4)),
]
