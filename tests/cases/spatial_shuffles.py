"""Cases for Fold/Unfold (torch's im2col layout), PixelShuffle/PixelUnshuffle and ChannelShuffle."""

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
    # --- Unfold / Fold: dilation, padding, stride, overlapping and skipped positions
    _case("unfold-all-flags", "Unfold", ((3, 2),), dict(dilation=(1, 2), padding=(1, 2), stride=(2, 1)), (2, 3, 7, 6)),
    _case("unfold-unbatched-gaps", "Unfold", (2,), dict(stride=3, padding=1), (2, 5, 6)),
    # 7 x 6 image, kernel (3, 2), dilation (1, 2), padding (1, 2), stride (2, 1): 4 x 8 = 32 blocks
    _case(
        "fold-all-flags", "Fold", ((7, 6), (3, 2)), dict(dilation=(1, 2), padding=(1, 2), stride=(2, 1)), (2, 18, 32)
    ),
    _case("fold-overlap-unbatched", "Fold", (4, 2), {}, (8, 9)),
    _case("fold-gaps", "Fold", ((5, 6), 2), dict(stride=3, padding=1), (1, 8, 6)),
    # --- pixel and channel shuffles
    _case("pixel-shuffle-3", "PixelShuffle", (3,), {}, (2, 18, 2, 3)),
    _case("pixel-shuffle-extra-batch-dims", "PixelShuffle", (2,), {}, (2, 1, 8, 3, 2)),
    _case("pixel-unshuffle-2", "PixelUnshuffle", (2,), {}, (2, 3, 4, 6)),
    _case("pixel-unshuffle-unbatched", "PixelUnshuffle", (3,), {}, (2, 3, 6)),
    _case("channel-shuffle-3d", "ChannelShuffle", (3,), {}, (2, 6, 5)),
    _case("channel-shuffle-5d", "ChannelShuffle", (2,), {}, (1, 4, 2, 3, 2)),
]
