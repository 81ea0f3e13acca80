"""Dropout: statistics, keys, determinism, gradients, channel masks and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn, train

KEY = jax.random.key(0)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_dropped_is_p_and_mean_is_preserved(p: float) -> None:
    n = 20_000
    y = nn.Dropout(p).apply({}, jnp.ones(n), key=KEY, train=True)
    dropped = float((y == 0).mean())
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(dropped - p) < 5 * sigma
    kept = np.asarray(y[y != 0])
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    assert abs(float(y.mean()) - 1.0) < 5 * sigma / (1 - p)


@pytest.mark.parametrize(
    "layer, shape",
    [(nn.Dropout(0.5), (2, 3)), (nn.Dropout1d(0.5), (2, 3, 4)), (nn.Dropout2d(0.5), (2, 3, 4, 4))],
    ids=repr,
)
def test_eval_mode_is_identity_and_needs_no_key(layer, shape, rng) -> None:
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(layer.apply({}, x), x)


def test_same_key_same_mask_new_key_new_mask() -> None:
    drop, x = nn.Dropout(0.5), jnp.ones(64)
    a = drop.apply({}, x, key=jax.random.key(1), train=True)
    b = drop.apply({}, x, key=jax.random.key(1), train=True)
    c = drop.apply({}, x, key=jax.random.key(2), train=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(jax.jit(lambda k: drop.apply({}, x, key=k, train=True))(jax.random.key(1)), a)


def test_raw_uint32_keys_work_too() -> None:
    y = F.dropout(jnp.ones(8), 0.5, key=jax.random.PRNGKey(0))
    assert y.shape == (8,)


def test_two_dropout_layers_in_a_sequential_draw_different_masks() -> None:
    model = nn.Sequential(nn.Dropout(0.5), nn.Dropout(0.5))
    x = jnp.ones(256)
    y = model.apply({}, x, key=KEY, train=True)
    first = nn.Dropout(0.5).apply({}, x, key=jax.random.fold_in(KEY, 0), train=True)
    second = nn.Dropout(0.5).apply({}, x, key=jax.random.fold_in(KEY, 1), train=True)
    assert not np.array_equal(first == 0, second == 0)
    np.testing.assert_array_equal(y, nn.Dropout(0.5).apply({}, first, key=jax.random.fold_in(KEY, 1), train=True))


def test_train_step_draws_a_new_mask_every_step() -> None:
    model = nn.Sequential(nn.Linear(4, 32), nn.Dropout(0.5))
    opt = optax.sgd(0.0)  # the weights stay put, so outputs differ only by the mask
    ts = train.TrainState.create(model, opt, KEY)
    params = ts.params
    step = train.make_train_step(
        train.model_loss(model, lambda out, y: jnp.mean(out**2)), opt, stateful=True, has_aux=True, donate=False
    )
    x = jnp.ones((2, 4))
    masks = []
    for n in range(2):
        expected = model.apply(params, x, key=jax.random.fold_in(ts.key, n), train=True)
        ts, _, out = step(ts, x, jnp.zeros(()))
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        masks.append(np.asarray(out == 0))
    assert not np.array_equal(masks[0], masks[1])


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_gradient_is_zero_where_dropped_and_scaled_elsewhere(p: float, rng) -> None:
    x = jnp.asarray(rng.standard_normal(200).astype(np.float32)) + 5.0  # no exact zeros in the input
    y = F.dropout(x, p, key=KEY)
    g = jax.grad(lambda x: F.dropout(x, p, key=KEY).sum())(x)
    np.testing.assert_array_equal(g[y == 0], 0)
    np.testing.assert_allclose(g[y != 0], 1 / (1 - p), rtol=1e-6)


def test_p_one_gives_zeros_with_zero_gradient_and_p_zero_is_identity() -> None:
    x = jnp.arange(6.0)
    for layer in (nn.Dropout(1.0), nn.Dropout1d(1.0)):
        xin = x.reshape(2, 3)
        np.testing.assert_array_equal(layer.apply({}, xin, train=True), 0)
        g = jax.grad(lambda x: layer.apply({}, x, train=True).sum())(xin)
        np.testing.assert_array_equal(g, 0)
    np.testing.assert_array_equal(nn.Dropout(0.0).apply({}, x, train=True), x)


def test_dropout1d_zeroes_whole_channels_batched_and_unbatched() -> None:
    y = F.dropout1d(jnp.ones((4, 16, 5)), 0.5, key=KEY)
    per_channel = np.asarray(y)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0 < (per_channel == 0).mean() < 1
    u = np.asarray(nn.Dropout1d(0.5).apply({}, jnp.ones((16, 5)), key=KEY, train=True))
    assert ((u == 0).all(-1) | (u == 2).all(-1)).all() and 0 < (u == 0).mean() < 1


def test_dropout2d_zeroes_whole_feature_maps_and_reads_3d_as_n_c_l() -> None:
    y = np.asarray(F.dropout2d(jnp.ones((3, 8, 2, 2)), 0.5, key=KEY))
    flat = y.reshape(3, 8, 4)
    assert ((flat == 0).all(-1) | (flat == 2).all(-1)).all() and 0 < (flat == 0).mean() < 1
    z = np.asarray(nn.Dropout2d(0.5).apply({}, jnp.ones((3, 8, 5)), key=KEY, train=True))
    assert ((z == 0).all(-1) | (z == 2).all(-1)).all()
    assert len({tuple(row) for row in (z[:, :, 0] == 0)}) > 1  # each of the N samples has its own mask


def test_missing_key_in_train_mode_shows_the_call() -> None:
    with pytest.raises(
        ValueError,
        match=r"Dropout\(p=0.5, inplace=False\): train=True samples random numbers and needs a PRNG key, got key=None; call `model.apply\(params, x, key=jax.random.key\(step\), train=True\)`",
    ):
        nn.Dropout().apply({}, jnp.ones(3), train=True)
    with pytest.raises(ValueError, match=r"Dropout2d\(p=0.2, inplace=False\): train=True .* needs a PRNG key"):
        nn.Sequential(nn.Dropout2d(0.2)).apply({}, jnp.ones((1, 2, 2, 2)), train=True)
    with pytest.raises(
        ValueError,
        match=r"dropout1d: training=True samples a dropout mask and needs a PRNG key, got key=None; pass `key=jax.random.key\(step\)`",
    ):
        F.dropout1d(jnp.ones((2, 3)), 0.5)


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d])
@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5"])
def test_p_outside_unit_interval_is_rejected_at_construction(cls, p) -> None:
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `p` must be a probability in \[0, 1\], got {p!r}"):
        cls(p)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: F.dropout(jnp.ones(3), 2.0, key=KEY),
            ValueError,
            r"dropout: `p` must be a probability in \[0, 1\], got 2.0",
        ),
        (
            lambda: F.dropout(jnp.ones(3, jnp.int32), 0.5, key=KEY),
            TypeError,
            r"dropout: expected a floating-point input, got dtype int32",
        ),
        (
            lambda: F.dropout1d(jnp.ones((2, 3, 4, 5)), key=KEY),
            ValueError,
            r"dropout1d: expected a 2-D or 3-D input \(C, L\) or \(N, C, L\), got shape \(2, 3, 4, 5\)",
        ),
        (
            lambda: F.dropout2d(jnp.ones((2, 3)), key=KEY),
            ValueError,
            r"dropout2d: expected a 3-D or 4-D input \(N, C, L\) or \(N, C, H, W\), got shape \(2, 3\)",
        ),
        (lambda: F.dropout2d(jnp.ones((2, 3)), training=False), ValueError, r"dropout2d: expected a 3-D or 4-D input"),
        (
            lambda: nn.Dropout1d().apply({}, jnp.ones(3)),
            ValueError,
            r"Dropout1d\(p=0.5, inplace=False\): expected a 2-D or 3-D input",
        ),
        (
            lambda: nn.Dropout2d().apply({}, jnp.ones((1, 2, 3, 4, 5)), key=KEY, train=True),
            ValueError,
            r"Dropout2d\(p=0.5, inplace=False\): expected a 3-D or 4-D input .*got shape \(1, 2, 3, 4, 5\)",
        ),
    ],
    ids=["p", "int", "rank-1d", "rank-2d", "rank-eval", "layer-1d", "layer-2d"],
)
def test_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d"])
def test_repr_matches_torch(name: str) -> None:
    assert repr(getattr(nn, name)(0.25)) == repr(getattr(torch.nn, name)(0.25))
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(inplace=True))


# ---------------------------------------------------------------- Dropout3d, alpha dropout

_SAT = 1.7580993408473766  # SELU's negative saturation, alpha' in PyTorch's formula


def test_dropout3d_zeroes_whole_volumes_batched_and_unbatched() -> None:
    y = np.asarray(F.dropout3d(jnp.ones((3, 8, 2, 2, 2)), 0.5, key=KEY)).reshape(3, 8, 8)
    assert ((y == 0).all(-1) | (y == 2).all(-1)).all() and 0 < (y == 0).mean() < 1
    u = np.asarray(nn.Dropout3d(0.5).apply({}, jnp.ones((16, 2, 1, 3)), key=KEY, train=True)).reshape(16, 6)
    assert ((u == 0).all(-1) | (u == 2).all(-1)).all() and 0 < (u == 0).mean() < 1


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(p: float) -> None:
    x = jax.random.normal(jax.random.key(5), (200_000,))
    y = np.asarray(F.alpha_dropout(x, p, training=True, key=KEY))
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    a = ((1 - p) * (1 + p * _SAT**2)) ** -0.5
    dropped = np.isclose(y, -_SAT * a + _SAT * a * p, rtol=0, atol=1e-6)
    assert abs(dropped.mean() - p) < 0.01


def _torch_mask(y: torch.Tensor, p: float) -> np.ndarray:
    """Which entries torch kept: dropped ones all hold the same constant."""
    a = ((1 - p) * (1 + p * _SAT**2)) ** -0.5
    return ~np.isclose(y.numpy(), -_SAT * a + _SAT * a * p, rtol=0, atol=1e-6)


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_alpha_dropout_formula_equals_torch_given_torch_mask(p: float, rng) -> None:
    from funcnn.nn.functional.dropout import _alpha_dropout_apply

    x = rng.standard_normal((6, 7)).astype(np.float32)
    torch.manual_seed(0)
    yt = torch.nn.functional.alpha_dropout(torch.from_numpy(x), p, training=True)
    keep = _torch_mask(yt, p)
    assert 0 < keep.mean() < 1
    np.testing.assert_allclose(
        _alpha_dropout_apply(jnp.asarray(x), jnp.asarray(keep), p), yt.numpy(), rtol=1e-6, atol=1e-6
    )


def test_feature_alpha_dropout_formula_equals_torch_given_torch_mask(rng) -> None:
    from funcnn.nn.functional.dropout import _alpha_dropout_apply

    p = 0.5
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    torch.manual_seed(1)
    yt = torch.nn.functional.feature_alpha_dropout(torch.from_numpy(x), p, training=True)
    keep = _torch_mask(yt, p)
    assert (keep == keep[..., :1]).all() and 0 < keep.mean() < 1  # torch's mask is per channel too
    np.testing.assert_allclose(
        _alpha_dropout_apply(jnp.asarray(x), jnp.asarray(keep[..., :1]), p), yt.numpy(), rtol=1e-6, atol=1e-6
    )


def test_feature_alpha_dropout_shares_one_draw_per_channel() -> None:
    y = np.asarray(nn.FeatureAlphaDropout(0.5).apply({}, jnp.ones((4, 16, 3, 2)), key=KEY, train=True)).reshape(
        4, 16, 6
    )
    assert (y == y[..., :1]).all()
    assert len(np.unique(y[..., 0])) == 2  # kept and dropped channels both occur


def test_alpha_dropout_gradient_is_a_where_kept_and_zero_where_dropped(rng) -> None:
    p = 0.4
    x = jnp.asarray(rng.standard_normal(300).astype(np.float32))
    y = np.asarray(F.alpha_dropout(x, p, training=True, key=KEY))
    g = np.asarray(jax.grad(lambda x: F.alpha_dropout(x, p, training=True, key=KEY).sum())(x))
    a = ((1 - p) * (1 + p * _SAT**2)) ** -0.5
    dropped = np.isclose(y, -_SAT * a + _SAT * a * p, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(g[dropped], 0)
    np.testing.assert_allclose(g[~dropped], a, rtol=1e-6)


def test_every_dropout_accepts_inplace_and_ignores_it() -> None:
    x = jnp.ones((2, 3, 2, 2, 2))
    for fn in (F.dropout, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
        np.testing.assert_array_equal(fn(x, 0.5, True, True, key=KEY), fn(x, 0.5, True, False, key=KEY))
    np.testing.assert_array_equal(F.dropout1d(x[0, 0], 0.5, True, True, key=KEY), F.dropout1d(x[0, 0], 0.5, key=KEY))
    np.testing.assert_array_equal(F.dropout2d(x[0], 0.5, True, True, key=KEY), F.dropout2d(x[0], 0.5, key=KEY))


def test_functional_alpha_dropouts_default_to_eval_like_torch() -> None:
    x = jnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(F.alpha_dropout(x, 0.5), x)
    np.testing.assert_array_equal(F.feature_alpha_dropout(x, 0.5), x)


@pytest.mark.parametrize("name", ["Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_new_dropouts_repr_matches_torch(name: str) -> None:
    assert repr(getattr(nn, name)(0.25)) == repr(getattr(torch.nn, name)(0.25))
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(inplace=True))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: F.dropout3d(jnp.ones((2, 3, 4)), key=KEY),
            ValueError,
            r"dropout3d: expected a 4-D or 5-D input \(C, D, H, W\) or \(N, C, D, H, W\), got shape \(2, 3, 4\)",
        ),
        (
            lambda: nn.Dropout3d().apply({}, jnp.ones((2, 3))),
            ValueError,
            r"Dropout3d\(p=0.5, inplace=False\): expected a 4-D or 5-D input",
        ),
        (
            lambda: F.alpha_dropout(jnp.ones(3), 1.5, key=KEY),
            ValueError,
            r"alpha_dropout: `p` must be a probability in \[0, 1\], got 1.5",
        ),
        (
            lambda: F.alpha_dropout(jnp.ones(3, jnp.int32), 0.5, True, key=KEY),
            TypeError,
            r"alpha_dropout: expected a floating-point input, got dtype int32",
        ),
        (
            lambda: F.alpha_dropout(jnp.ones(3), 0.5, True),
            ValueError,
            r"alpha_dropout: training=True samples a dropout mask and needs a PRNG key, got key=None",
        ),
        (
            lambda: F.feature_alpha_dropout(jnp.ones(3), 0.5, True, key=KEY),
            ValueError,
            r"feature_alpha_dropout: expected an input of shape \(N, C, \*\) with at least 2 dimensions, got shape \(3,\); use alpha_dropout",
        ),
        (
            lambda: nn.FeatureAlphaDropout().apply({}, jnp.ones(3)),
            ValueError,
            r"FeatureAlphaDropout\(p=0.5, inplace=False\): expected an input of shape \(N, C, \*\) with at least 2 dimensions, got shape \(3,\); use AlphaDropout",
        ),
        (
            lambda: nn.AlphaDropout(0.5).apply({}, jnp.ones(3), train=True),
            ValueError,
            r"AlphaDropout\(p=0.5, inplace=False\): train=True samples random numbers and needs a PRNG key",
        ),
        (lambda: nn.AlphaDropout(-1), ValueError, r"AlphaDropout: `p` must be a probability in \[0, 1\], got -1"),
    ],
    ids=[
        "3d-rank",
        "3d-layer-rank",
        "alpha-p",
        "alpha-int",
        "alpha-key",
        "feature-alpha-rank",
        "feature-alpha-layer-rank",
        "alpha-layer-key",
        "alpha-layer-p",
    ],
)
def test_new_dropout_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()
