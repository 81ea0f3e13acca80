"""Padding layers beyond the generic layer suite: reprs, eager argument checks, torch's errors."""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn

LAYERS = [
    ("ZeroPad1d", (2,)),
    ("ZeroPad2d", ((1, 0, 2, -1),)),
    ("ZeroPad3d", (1,)),
    ("ConstantPad1d", ((1, 2), 3.5)),
    ("ConstantPad2d", (1, -1)),
    ("ConstantPad3d", ((1, 0, 0, 2, 1, 1), 0.25)),
    ("ReflectionPad1d", (2,)),
    ("ReflectionPad2d", ((1, 0, 2, 1),)),
    ("ReflectionPad3d", (1,)),
    ("ReplicationPad1d", ((3, 1),)),
    ("ReplicationPad2d", (2,)),
    ("ReplicationPad3d", ((1, 1, 0, 0, 2, 2),)),
    ("CircularPad1d", (2,)),
    ("CircularPad2d", ((1, 1, 2, 0),)),
    ("CircularPad3d", (1,)),
]


@pytest.mark.parametrize("layer, args", LAYERS, ids=[f"{name}-{args}" for name, args in LAYERS])
def test_padding_repr_matches_torch(layer, args) -> None:
    assert repr(getattr(nn, layer)(*args)) == repr(getattr(torch.nn, layer)(*args))


def test_pad_every_mode_in_3d_matches_torch(rng) -> None:
    x = rng.standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    for mode in ("constant", "reflect", "replicate", "circular"):
        for amounts in ((1, 2, 0, 3, 2, 1), (-1, 2, 3, -2, 1, 0), (5, 5, 4, 4, 3, 3)):
            want = torch.nn.functional.pad(torch.tensor(x), amounts, mode=mode).numpy()
            np.testing.assert_array_equal(np.asarray(F.pad(x, amounts, mode=mode)), want)


def test_circular_pad_that_crops_everything_is_empty_like_torch() -> None:
    x = np.ones((1, 1, 6), np.float32)
    assert F.pad(x, (-3, -3), mode="circular").shape == (1, 1, 0)
    assert torch.nn.functional.pad(torch.tensor(x), (-3, -3), mode="circular").shape == (1, 1, 0)


ERRORS = [
    (lambda: nn.ZeroPad2d((1, 2)), TypeError, "ZeroPad2d: `padding` must be an int or a tuple of 4 ints, got (1, 2)"),
    (
        lambda: nn.ReflectionPad1d(1.5),
        TypeError,
        "ReflectionPad1d: `padding` must be an int or a tuple of 2 ints, got 1.5",
    ),
    (lambda: nn.ConstantPad1d(1, "a"), TypeError, "ConstantPad1d: `value` must be a number, got 'a'"),
    (
        lambda: nn.ReflectionPad1d(3).apply({}, jnp.ones((1, 2, 3))),
        ValueError,
        "ReflectionPad1d((3, 3)): mode='reflect' needs each pad smaller than the dim it pads, got (3, 3) for dimension 2",
    ),
    (
        lambda: nn.ReflectionPad2d(1).apply({}, jnp.ones((1, 1, 2, 3, 3))),
        ValueError,
        "ReflectionPad2d((1, 1, 1, 1)): mode='reflect' pads 1 to 3 trailing dims of a (N, C, *spatial) or (C, *spatial) "
        "input; got `pad` of length 4 for input shape (1, 1, 2, 3, 3)",
    ),
    (
        lambda: nn.CircularPad1d(4).apply({}, jnp.ones((2, 3))),
        ValueError,
        "CircularPad1d((4, 4)): mode='circular' wraps around at most once",
    ),
    (
        lambda: nn.ReplicationPad1d((-3, -3)).apply({}, jnp.ones((2, 6))),
        ValueError,
        "ReplicationPad1d((-3, -3)): mode='replicate' would leave dimension 1 of input shape (2, 6) empty (padded by "
        "(-3, -3)); crop less",
    ),
    (
        lambda: nn.ZeroPad3d(1).apply({}, jnp.ones((3, 3))),
        ValueError,
        "ZeroPad3d((1, 1, 1, 1, 1, 1)): `pad` (1, 1, 1, 1, 1, 1) pads 3 dims but the input has shape (3, 3)",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:60] for _, _, m in ERRORS])
def test_padding_errors(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
