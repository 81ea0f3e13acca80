"""Cases for the padding layers: every mode in 1-D to 3-D, int and tuple amounts, cropping, unbatched."""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _case(id, layer, args, shape):
    return LayerCase(id, lambda: getattr(nn, layer)(*args), lambda: getattr(torch.nn, layer)(*args), _x(*shape))


CASES = [
    _case("pad-zero1d-crop", "ZeroPad1d", ((2, -1),), (2, 3, 5)),
    _case("pad-zero2d-int-unbatched", "ZeroPad2d", (1,), (3, 4, 5)),
    _case("pad-zero3d-tuple", "ZeroPad3d", ((1, 0, -1, 2, 0, 1),), (1, 2, 2, 3, 4)),
    _case("pad-constant1d-any-rank", "ConstantPad1d", (2, 1.5), (3, 4)),
    _case("pad-constant2d-crop", "ConstantPad2d", ((1, -2, 0, 3), -0.5), (2, 2, 4, 5)),
    _case("pad-constant3d", "ConstantPad3d", ((0, 1, 1, 0, 2, 1), 2.0), (2, 1, 2, 3, 3)),
    _case("pad-reflect1d", "ReflectionPad1d", ((3, 1),), (2, 3, 5)),
    _case("pad-reflect2d-crop-unbatched", "ReflectionPad2d", ((-1, 3, 2, 0),), (2, 4, 5)),
    _case("pad-reflect3d", "ReflectionPad3d", ((2, 1, 0, 2, 1, 1),), (1, 2, 3, 4, 3)),
    _case("pad-replicate1d-unbatched", "ReplicationPad1d", ((4, 0),), (3, 3)),
    _case("pad-replicate2d-crop", "ReplicationPad2d", ((2, -1, 1, 3),), (2, 2, 3, 4)),
    _case("pad-replicate3d-int", "ReplicationPad3d", (1,), (1, 2, 2, 3, 2)),
    _case("pad-circular1d", "CircularPad1d", ((3, 2),), (2, 3, 4)),
    _case("pad-circular2d-crop-unbatched", "CircularPad2d", ((1, -1, 2, 3),), (2, 3, 4)),
    _case("pad-circular3d", "CircularPad3d", ((1, 2, 0, 1, 2, 1),), (1, 2, 3, 2, 3)),
]
