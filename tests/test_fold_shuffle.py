"""Fold/Unfold, pixel and channel shuffles beyond the generic layer suite: functionals, reprs, errors."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn


def test_unfold_is_the_im2col_of_conv2d(rng) -> None:
    # columns times the flattened weight is the convolution: torch's (N, C * kH * kW, L) layout
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    cols = F.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    y = jnp.einsum("ok,nkl->nol", w.reshape(4, -1), cols)
    want = F.conv2d(x, w, padding=1, stride=(2, 1), dilation=(1, 2))
    np.testing.assert_allclose(np.asarray(y).reshape(want.shape), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_fold_of_unfold_counts_the_blocks_reading_each_pixel() -> None:
    x = jnp.ones((1, 1, 4, 5))
    back = F.fold(F.unfold(x, 2, padding=1), (4, 5), 2, padding=1)
    theirs = torch.nn.functional.fold(
        torch.nn.functional.unfold(torch.ones(1, 1, 4, 5), 2, padding=1), (4, 5), 2, padding=1
    )
    np.testing.assert_array_equal(np.asarray(back), theirs.numpy())


def test_fold_is_vmappable_and_differentiable(rng) -> None:
    cols = jnp.asarray(rng.standard_normal((3, 8, 9)).astype(np.float32))
    one = jax.jit(lambda c: F.fold(c, 4, 2))
    batched = jax.vmap(one)(cols)
    for i in range(3):
        np.testing.assert_allclose(batched[i], one(cols[i]), rtol=1e-6)
    g = jax.grad(lambda c: F.fold(c, 4, 2).sum())(cols[0])
    np.testing.assert_array_equal(np.asarray(g), np.ones((8, 9), np.float32))


@pytest.mark.parametrize(
    "name, args",
    [("pixel_shuffle", ((2, 3, 18, 2, 3), 3)), ("pixel_unshuffle", ((3, 4, 6), 2)), ("channel_shuffle", ((2, 6, 3), 3)),
     ("native_channel_shuffle", ((2, 6, 3, 2), 2))],
)  # fmt: skip
def test_shuffles_match_torch_and_keep_integer_dtypes(rng, name, args) -> None:
    shape, factor = args
    x = rng.integers(0, 100, shape).astype(np.int32)
    got = getattr(F, name)(x, factor)
    assert got.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(got), getattr(torch.nn.functional, name)(torch.tensor(x), factor).numpy())


@pytest.mark.parametrize(
    "layer, args, kwargs",
    [
        ("Fold", ((4, 5), 2), {}),
        ("Fold", (3, (2, 2), 2, 1, 2), {}),
        ("Unfold", (2,), {}),
        ("Unfold", ((2, 3),), dict(dilation=2, padding=1, stride=2)),
        ("PixelShuffle", (2,), {}),
        ("PixelUnshuffle", (3,), {}),
        ("ChannelShuffle", (4,), {}),
    ],
)
def test_repr_matches_torch(layer, args, kwargs) -> None:
    assert repr(getattr(nn, layer)(*args, **kwargs)) == repr(getattr(torch.nn, layer)(*args, **kwargs))


ERRORS = [
    (lambda: nn.Unfold(0), ValueError, "Unfold: `kernel_size` must be positive, got 0"),
    (
        lambda: nn.Fold((4, 5, 6), 2),
        TypeError,
        "Fold: `output_size` must be an int or a tuple of 2 ints, got (4, 5, 6)",
    ),
    (lambda: nn.PixelShuffle(0), ValueError, "PixelShuffle: `upscale_factor` must be a positive integer, got 0"),
    (lambda: nn.ChannelShuffle(-1), ValueError, "ChannelShuffle: `groups` must be a positive integer, got -1"),
    (
        lambda: nn.Unfold(2).apply({}, jnp.ones((4, 4))),
        ValueError,
        "Unfold(kernel_size=2, dilation=1, padding=0, stride=1): expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
        "got shape (4, 4)",
    ),
    (
        lambda: F.unfold(jnp.ones((1, 1, 2, 4)), 3),
        ValueError,
        "unfold: spatial size (2, 4) with padding (0, 0) is smaller than the dilated kernel (3, 3), so there is no "
        "sliding block",
    ),
    (lambda: F.unfold(jnp.ones((1, 1, 4, 4), jnp.int32), 2), TypeError, "unfold: expected a floating-point input"),
    (
        lambda: F.fold(jnp.ones((1, 7, 9)), 4, 2),
        ValueError,
        "fold: expected input dimension -2 to be divisible by the kernel's 4 taps (kernel_size=(2, 2)), got shape (1, 7, 9)",
    ),
    (
        lambda: nn.Fold(4, 2).apply({}, jnp.ones((1, 8, 10))),
        ValueError,
        "Fold(output_size=4, kernel_size=2, dilation=1, padding=0, stride=1): output_size=(4, 4), kernel_size=(2, 2), "
        "dilation=(1, 1), padding=(0, 0) and stride=(1, 1) give 3 * 3 = 9 blocks, but the input has 10",
    ),
    (
        lambda: F.fold(jnp.ones((8,)), 4, 2),
        ValueError,
        "fold: expected a 2-D (C * kH * kW, L) or 3-D (N, C * kH * kW, L) input",
    ),
    (
        lambda: F.pixel_shuffle(jnp.ones((6, 2, 2)), 2),
        ValueError,
        "pixel_shuffle: expected the channel dim (-3) to be divisible by upscale_factor ** 2 = 4, got shape (6, 2, 2)",
    ),
    (lambda: F.pixel_shuffle(jnp.ones((2, 2)), 2), ValueError, "pixel_shuffle: expected an input with at least 3 dims"),
    (
        lambda: F.pixel_unshuffle(jnp.ones((1, 4, 6)), 4),
        ValueError,
        "pixel_unshuffle: expected both spatial dims (-2, -1) to be divisible by downscale_factor = 4, got shape (1, 4, 6)",
    ),
    (
        lambda: nn.ChannelShuffle(3).apply({}, jnp.ones((1, 4, 2))),
        ValueError,
        "ChannelShuffle(groups=3): the 4 channels (dim 1) of shape (1, 4, 2) are not divisible by groups=3",
    ),
    (
        lambda: F.channel_shuffle(jnp.ones((4, 2)), 2),
        ValueError,
        "channel_shuffle: expected an input with more than 2 dims (N, C, *), got shape (4, 2); add a batch axis",
    ),
    (
        lambda: F.native_channel_shuffle(jnp.ones((1, 4, 2)), 0),
        ValueError,
        "native_channel_shuffle: `groups` must be a positive integer, got 0",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:60] for _, _, m in ERRORS])
def test_errors(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
