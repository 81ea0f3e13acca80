"""Cases for Conv1d/2d/3d and ConvTranspose1d/2d/3d: strides, dilation, groups, padding modes, 'same'."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _quiet(module, *args, **kwargs):
    # torch warns that 'same' with an odd total padding copies the input; the numbers are what we compare.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return module(*args, **kwargs)


def _case(id, args, options, shape, layer="Conv2d", **case_kw):
    return LayerCase(
        id,
        lambda: getattr(nn, layer)(*args, **options),
        lambda: getattr(torch.nn, layer)(*args, **options),
        _x(*shape),
        tol="accum",
        **case_kw,
    )


CASES = [
    # --- Conv2d
    _case("conv2d-basic", (3, 4, 3), {}, (2, 3, 6, 6)),
    _case(
        "conv2d-stride-padding-tuples-nobias",
        (2, 4, (3, 2)),
        dict(stride=(2, 1), padding=(1, 0), bias=False),
        (2, 2, 7, 6),
    ),
    _case("conv2d-groups-dilation-stride", (4, 6, 3), dict(stride=2, padding=2, dilation=2, groups=2), (2, 4, 9, 8)),
    _case("conv2d-reflect-depthwise", (2, 4, 3), dict(padding=1, groups=2, padding_mode="reflect"), (2, 2, 5, 6)),
    _case("conv2d-replicate-stride", (2, 3, 3), dict(padding=(2, 1), stride=2, padding_mode="replicate"), (2, 2, 5, 6)),
    _case(
        "conv2d-circular-dilation",
        (2, 4, 3),
        dict(padding=2, dilation=2, groups=2, padding_mode="circular"),
        (2, 2, 5, 6),
    ),
    _case("conv2d-same-even-kernel", (2, 3, (4, 2)), dict(padding="same"), (2, 2, 6, 5), torch_forward=_quiet),
    _case(
        "conv2d-same-dilation",
        (2, 3, (2, 3)),
        dict(padding="same", dilation=(3, 2)),
        (2, 2, 7, 6),
        torch_forward=_quiet,
    ),
    _case(
        "conv2d-same-even-reflect",
        (2, 3, (2, 4)),
        dict(padding="same", padding_mode="reflect"),
        (2, 2, 5, 6),
        torch_forward=_quiet,
    ),
    _case("conv2d-unbatched", (3, 2, 3), dict(padding=1, stride=2), (3, 5, 5)),
    # 1 x 1 kernels run as a matmul over channels
    _case("conv2d-1x1-stride", (4, 6, 1), dict(stride=(2, 1)), (2, 4, 5, 4)),
    _case("conv2d-1x1-padding-groups", (4, 6, 1), dict(padding=1, groups=2), (2, 4, 3, 3)),
    # --- Conv1d
    _case(
        "conv1d-groups-dilation-stride",
        (4, 6, 3),
        dict(stride=2, dilation=3, padding=2, groups=2),
        (2, 4, 11),
        layer="Conv1d",
    ),
    _case(
        "conv1d-same-even-circular",
        (2, 2, 4),
        dict(padding="same", padding_mode="circular"),
        (2, 2, 6),
        layer="Conv1d",
        torch_forward=_quiet,
    ),
    _case("conv1d-unbatched", (2, 3, 2), dict(padding="valid"), (2, 6), layer="Conv1d"),
    _case("conv1d-1x1-unbatched", (3, 2, 1), dict(stride=2), (3, 7), layer="Conv1d"),
    # --- Conv3d
    _case("conv3d-basic", (2, 3, (2, 3, 2)), dict(stride=(1, 2, 1), padding=1), (2, 2, 4, 5, 4), layer="Conv3d"),
    _case(
        "conv3d-groups-replicate",
        (2, 4, 2),
        dict(groups=2, padding=1, padding_mode="replicate", dilation=(1, 2, 1)),
        (1, 2, 3, 4, 3),
        layer="Conv3d",
    ),
    _case("conv3d-unbatched-same", (2, 2, 3), dict(padding="same", bias=False), (2, 3, 4, 3), layer="Conv3d"),
    # --- ConvTranspose2d
    _case(
        "convt2d-stride-outpad-dilation-groups",
        (4, 6, 3),
        dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2),
        (2, 4, 4, 3),
        layer="ConvTranspose2d",
    ),
    _case(
        "convt2d-outpad-below-dilation",
        (2, 3, (3, 2)),
        dict(output_padding=1, dilation=2),
        (2, 2, 3, 4),
        layer="ConvTranspose2d",
    ),
    _case(
        "convt2d-padding-past-kernel",
        (2, 3, 3),
        dict(stride=3, padding=2, bias=False),
        (2, 2, 3, 3),
        layer="ConvTranspose2d",
    ),
    _case("convt2d-unbatched", (2, 4, 2), dict(stride=(2, 1), padding=(0, 1)), (2, 3, 4), layer="ConvTranspose2d"),
    _case(
        "convt2d-output-size",
        (2, 3, 3),
        dict(stride=2, padding=1),
        (2, 2, 3, 4),
        layer="ConvTranspose2d",
        kwargs={"output_size": [6, 8]},
    ),
    # --- ConvTranspose1d
    _case(
        "convt1d-unbatched-all",
        (4, 2, 3),
        dict(stride=3, padding=1, output_padding=2, groups=2, dilation=2),
        (4, 4),
        layer="ConvTranspose1d",
    ),
    # --- ConvTranspose3d
    _case(
        "convt3d-groups-dilation-outpad",
        (4, 2, (2, 3, 2)),
        dict(stride=(2, 1, 2), padding=(1, 1, 0), output_padding=(1, 0, 1), groups=2, dilation=(1, 2, 1)),
        (1, 4, 2, 3, 2),
        layer="ConvTranspose3d",
    ),
    _case("convt3d-unbatched-nobias", (2, 3, 2), dict(stride=2, bias=False), (2, 2, 2, 3), layer="ConvTranspose3d"),
    _case(
        "convt3d-output-size",
        (2, 2, 3),
        dict(stride=2, padding=1),
        (1, 2, 2, 2, 3),
        layer="ConvTranspose3d",
        kwargs={"output_size": [4, 3, 6]},
    ),
]
