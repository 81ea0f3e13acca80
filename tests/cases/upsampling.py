"""Cases for Upsample and its 2-D shorthands: every mode, odd and non-integer scales, 3-D/4-D/5-D, both corner rules."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _case(id, layer, kwargs, shape, **extra):
    return LayerCase(
        id, lambda: getattr(nn, layer)(**kwargs), lambda: getattr(torch.nn, layer)(**kwargs), _x(*shape), **extra
    )


def _up(id, shape, **kwargs):
    return _case(f"upsample-{id}", "Upsample", kwargs, shape)


CASES = [
    # --- nearest / nearest-exact: the legacy floor rule and the pixel-centre rule
    _up("nearest-1d-scale-2.5", (2, 3, 5), scale_factor=2.5),
    _up("nearest-2d-size-odd", (2, 2, 3, 5), size=(7, 4)),
    _up("nearest-3d-scale-tuple", (1, 2, 3, 4, 2), scale_factor=(1.5, 0.75, 2.0)),
    _up("nearest-exact-2d-downsample", (2, 2, 7, 9), scale_factor=0.6),
    _up("nearest-exact-1d-size", (2, 3, 4), size=7),
    # --- linear family: 1/scale_factor reaches the kernel unless recomputed
    _up("linear-scale-1.7", (2, 3, 5), mode="linear", scale_factor=1.7),
    _up("linear-aligned-down", (2, 3, 9), mode="linear", scale_factor=0.4, align_corners=True),
    _up("bilinear-scale-tuple", (2, 2, 5, 6), mode="bilinear", scale_factor=(1.3, 0.7)),
    _up("bilinear-recompute", (2, 2, 5, 6), mode="bilinear", scale_factor=1.3, recompute_scale_factor=True),
    _up("bilinear-aligned-size", (2, 2, 4, 3), mode="bilinear", size=(7, 5), align_corners=True),
    _up("trilinear-scale", (1, 2, 3, 4, 5), mode="trilinear", scale_factor=(1.5, 0.8, 1.2)),
    _up("trilinear-aligned-size", (1, 2, 3, 3, 2), mode="trilinear", size=(4, 2, 5), align_corners=True),
    # --- bicubic: A = -0.75, taps clamped at the border
    _up("bicubic-scale-2.5", (2, 2, 4, 5), mode="bicubic", scale_factor=2.5),
    _up("bicubic-aligned-down", (2, 2, 9, 7), mode="bicubic", size=(4, 3), align_corners=True),
    # --- area: adaptive average pooling
    _up("area-1d-down", (2, 3, 11), mode="area", size=4),
    _up("area-2d-scale", (2, 2, 7, 9), mode="area", scale_factor=0.45),
    _up("area-3d-up", (1, 2, 3, 2, 4), mode="area", size=(5, 3, 6)),
    # --- the 2-D shorthands
    _case("upsampling-nearest2d", "UpsamplingNearest2d", dict(scale_factor=3), (2, 2, 3, 2)),
    _case("upsampling-bilinear2d-aligned", "UpsamplingBilinear2d", dict(size=(5, 7)), (2, 2, 3, 4)),
]
