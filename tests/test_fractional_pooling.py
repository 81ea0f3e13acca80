"""Fractional max pooling beyond the generic layer suite: keys, samples as a buffer, torch's bounds, errors."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn


def test_regions_match_torch_on_many_samples_including_edges(rng) -> None:
    for n, shape, kernel, out in [(2, (2, 3, 11, 9), (3, 2), (5, 4)), (3, (1, 2, 7, 9, 7), (2, 3, 2), (3, 4, 5))]:
        x = np.round(rng.standard_normal(shape), 1).astype(np.float32)  # ties: the first maximum wins
        for u in (
            rng.random((shape[0], shape[1], n)),
            np.zeros((shape[0], shape[1], n)),
            np.full((shape[0], shape[1], n), 0.9999999),
        ):
            u = u.astype(np.float32)
            theirs = getattr(torch.nn.functional, f"fractional_max_pool{n}d")(
                torch.tensor(x), kernel, output_size=out, return_indices=True, _random_samples=torch.tensor(u)
            )
            ours = getattr(F, f"fractional_max_pool{n}d_with_indices")(x, kernel, out, _random_samples=u)
            np.testing.assert_array_equal(np.asarray(ours[0]), theirs[0].numpy())
            np.testing.assert_array_equal(np.asarray(ours[1]), theirs[1].numpy())


def test_samples_are_drawn_uniformly_from_the_key_in_the_input_dtype() -> None:
    x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 3, 9, 10)).astype(np.float32))  # alpha 7/3, 8/3
    key = jax.random.key(3)
    drawn = F.fractional_max_pool2d(x, 2, output_size=4, key=key)
    fixed = F.fractional_max_pool2d(x, 2, output_size=4, _random_samples=jax.random.uniform(key, (2, 3, 2)))
    np.testing.assert_array_equal(np.asarray(drawn), np.asarray(fixed))
    others = [F.fractional_max_pool2d(x, 2, output_size=4, key=jax.random.key(k)) for k in range(4)]
    assert any(not np.array_equal(np.asarray(others[0]), np.asarray(o)) for o in others[1:])


def test_layer_without_samples_needs_a_key_in_every_mode() -> None:
    pool = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    assert not pool.has_state and pool.init_state() == {}
    for train in (False, True):
        with pytest.raises(
            ValueError, match=re.escape("FractionalMaxPool2d(): fractional max pooling places its regions at random")
        ):
            pool.apply({}, jnp.ones((1, 4, 4)), train=train)
    assert pool.apply({}, jnp.ones((1, 4, 4)), key=jax.random.key(0)).shape == (1, 2, 2)


def test_fixed_samples_are_a_buffer_like_torch() -> None:
    samples = np.random.default_rng(0).random((1, 2, 3)).astype(np.float32)
    pool = nn.FractionalMaxPool3d(2, output_size=2, _random_samples=samples)
    tpool = torch.nn.FractionalMaxPool3d(2, output_size=2, _random_samples=torch.from_numpy(samples))
    assert repr(pool) == repr(tpool) == "FractionalMaxPool3d()"
    state = pool.init_state()
    assert list(funcnn.state_dict({}, state)) == list(tpool.state_dict())
    with pytest.raises(TypeError, match="apply_with_state"):
        pool.apply({}, jnp.ones((1, 2, 5, 5, 5)))
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5, 5)).astype(np.float32)
    y, new_state = pool.apply_with_state({}, state, x)
    np.testing.assert_array_equal(np.asarray(y), tpool(torch.tensor(x)).numpy())
    assert new_state is state


def test_torch_bounds_on_the_pool_size() -> None:
    # 2-D allows output + pool - 1 == input; 3-D needs it strictly smaller (torch's checks)
    assert F.fractional_max_pool2d(jnp.ones((1, 6, 6)), 2, output_size=5, key=jax.random.key(0)).shape == (1, 5, 5)
    with pytest.raises(
        ValueError,
        match=re.escape("fractional_max_pool3d: pool time 2 too large relative to input time 6 for output size 5"),
    ):
        F.fractional_max_pool3d(jnp.ones((1, 6, 6, 6)), 2, output_size=(5, 4, 4), key=jax.random.key(0))


ERRORS = [
    (
        lambda: nn.FractionalMaxPool2d(2),
        ValueError,
        "FractionalMaxPool2d: give exactly one of `output_size` and `output_ratio`, got output_size=None and output_ratio=None",
    ),
    (
        lambda: nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5),
        ValueError,
        "FractionalMaxPool2d: give exactly one of",
    ),
    (
        lambda: nn.FractionalMaxPool3d(2, output_ratio=(0.5, 1.0, 0.5)),
        ValueError,
        "FractionalMaxPool3d: `output_ratio` must be a number or a tuple of 3 numbers in (0, 1), got (0.5, 1.0, 0.5)",
    ),
    (
        lambda: nn.FractionalMaxPool2d(0, output_size=2),
        ValueError,
        "FractionalMaxPool2d: `kernel_size` must be positive, got 0",
    ),
    (
        lambda: F.fractional_max_pool2d(jnp.ones((1, 2, 5, 5)), 2, output_size=3, _random_samples=jnp.zeros((1, 3, 2))),
        ValueError,
        "fractional_max_pool2d: expected `_random_samples` of shape (N >= 1, 2, 2) for input shape (1, 2, 5, 5), got shape (1, 3, 2)",
    ),
    (
        lambda: F.fractional_max_pool2d(jnp.ones((1, 2, 5, 5)), 2, output_size=5, key=jax.random.key(0)),
        ValueError,
        "fractional_max_pool2d: pool height 2 too large relative to input height 5 for output size 5",
    ),
    (
        lambda: F.fractional_max_pool2d(jnp.ones((1, 2, 5, 5)), 2, output_ratio=2.0, key=jax.random.key(0)),
        ValueError,
        "fractional_max_pool2d: `output_ratio` must be a number or a tuple of 2 numbers in (0, 1), got 2.0",
    ),
    (
        lambda: F.fractional_max_pool2d(jnp.ones((5, 5)), 2, output_size=2, key=jax.random.key(0)),
        ValueError,
        "fractional_max_pool2d: expected a 3-D (unbatched: C, H, W) or 4-D (batched: N, C, H, W) input, got shape (5, 5)",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:60] for _, _, m in ERRORS])
def test_errors(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()
