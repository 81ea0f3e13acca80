"""Cases for MaxPool1d/2d, AvgPool1d/2d and the adaptive pools: ceil_mode, padding, dilation, odd sizes."""

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
    # --- MaxPool2d
    _case("pool-max2d-basic", "MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    _case("pool-max2d-stride-padding", "MaxPool2d", (3,), dict(stride=2, padding=1), (2, 2, 7, 6)),
    _case("pool-max2d-ceil", "MaxPool2d", (3,), dict(stride=2, ceil_mode=True), (2, 2, 7, 8)),
    # ceil_mode where the last window would start in the right padding and is dropped
    _case(
        "pool-max2d-ceil-last-window-rule",
        "MaxPool2d",
        (2,),
        dict(stride=3, padding=1, ceil_mode=True),
        (2, 2, 5, 5),
    ),
    _case(
        "pool-max2d-dilation-tuples",
        "MaxPool2d",
        ((2, 3),),
        dict(stride=(1, 2), padding=1, dilation=(2, 1)),
        (2, 2, 5, 7),
    ),
    _case("pool-max2d-unbatched", "MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (3, 6, 6)),
    # --- MaxPool1d
    _case("pool-max1d-ceil", "MaxPool1d", (3,), dict(stride=2, ceil_mode=True), (2, 3, 8)),
    _case("pool-max1d-dilation-padding", "MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2), (2, 3, 9)),
    _case("pool-max1d-unbatched", "MaxPool1d", (2,), dict(stride=3, padding=1, ceil_mode=True), (3, 5)),
    # --- AvgPool2d
    _case("pool-avg2d-padding", "AvgPool2d", (3,), dict(stride=2, padding=1), (2, 2, 7, 6)),
    _case(
        "pool-avg2d-exclude-pad",
        "AvgPool2d",
        (3,),
        dict(stride=2, padding=1, count_include_pad=False),
        (2, 2, 7, 6),
    ),
    _case("pool-avg2d-ceil-padding", "AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 2, 6, 8)),
    _case(
        "pool-avg2d-ceil-exclude-pad",
        "AvgPool2d",
        ((3, 2),),
        dict(stride=(2, 3), padding=(1, 1), ceil_mode=True, count_include_pad=False),
        (2, 2, 6, 8),
    ),
    _case(
        "pool-avg2d-divisor-override",
        "AvgPool2d",
        (3,),
        dict(stride=2, padding=1, divisor_override=5),
        (2, 2, 6, 6),
    ),
    _case("pool-avg2d-unbatched", "AvgPool2d", (2,), dict(stride=1, ceil_mode=True), (3, 4, 5)),
    # --- AvgPool1d
    _case(
        "pool-avg1d-ceil-exclude-pad",
        "AvgPool1d",
        (3,),
        dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 3, 8),
    ),
    _case("pool-avg1d-unbatched-padding", "AvgPool1d", (4,), dict(stride=3, padding=2, ceil_mode=True), (3, 7)),
    # --- adaptive
    _case("pool-adaptive-avg1d-7to3", "AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    _case("pool-adaptive-avg1d-upsample-unbatched", "AdaptiveAvgPool1d", (7,), {}, (3, 5)),
    _case("pool-adaptive-avg2d-5x7to2x3", "AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
    _case("pool-adaptive-avg2d-none", "AdaptiveAvgPool2d", ((None, 3),), {}, (2, 3, 5, 7)),
    _case("pool-adaptive-avg2d-global", "AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 7)),
    _case("pool-adaptive-max1d-7to3", "AdaptiveMaxPool1d", (3,), {}, (2, 3, 7)),
    _case("pool-adaptive-max1d-unbatched", "AdaptiveMaxPool1d", (4,), {}, (3, 10)),
    _case("pool-adaptive-max2d-5x7to2x3", "AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
    _case("pool-adaptive-max2d-none", "AdaptiveMaxPool2d", ((3, None),), {}, (2, 3, 5, 7)),
    _case("pool-adaptive-max2d-unbatched-divisible", "AdaptiveMaxPool2d", (2,), {}, (3, 6, 4)),
]
