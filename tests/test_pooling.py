"""Pooling beyond the generic layer suite: functional parity, ties, forward-mode, reprs, errors."""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn

torch.set_num_threads(1)


def _close(actual, expected, tol=1e-6):
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-5, atol=tol)


def _value_and_grad(fn, x, g):
    y, vjp = jax.vjp(fn, jnp.asarray(x))
    return y, (None if g is None else vjp(jnp.asarray(g))[0])


def _torch_value_and_grad(fn, x, g):
    t = torch.tensor(x, requires_grad=True)
    y = fn(t)
    y.backward(torch.tensor(g))
    return y, t.grad


CALLS = [
    ("max_pool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", ((2, 3),), dict(stride=(3, 1), dilation=(2, 1))),
    ("max_pool1d", (2,), dict(stride=3, padding=1, ceil_mode=True)),
    ("avg_pool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (2,), dict(divisor_override=3)),
    ("avg_pool1d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("adaptive_avg_pool2d", ((3, None),), {}),
    ("adaptive_max_pool2d", ((4, 3),), {}),
    ("adaptive_avg_pool1d", (4,), {}),
    ("adaptive_max_pool1d", (3,), {}),
    ("max_pool3d", ((2, 3, 2),), dict(stride=(2, 1, 2), padding=(1, 1, 0), dilation=(1, 1, 2), ceil_mode=True)),
    ("avg_pool3d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", ((2, 1, 3),), dict(stride=(1, 2, 2), padding=(1, 0, 1), divisor_override=4)),
    ("adaptive_avg_pool3d", ((2, None, 3),), {}),
    ("adaptive_max_pool3d", ((3, 2, 4),), {}),
]


def _shape(name):
    return {"1d": (2, 3, 7), "2d": (2, 3, 7, 6), "3d": (1, 2, 5, 4, 5)}[name[-2:]]


@pytest.mark.parametrize("name, args, kwargs", CALLS, ids=[f"{n}-{a}-{k}" for n, a, k in CALLS])
def test_functional_pooling_matches_torch(rng, name, args, kwargs) -> None:
    x = rng.standard_normal(_shape(name)).astype(np.float32)
    y, _ = _value_and_grad(lambda a: getattr(F, name)(a, *args, **kwargs), x, None)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y, dx = _value_and_grad(lambda a: getattr(F, name)(a, *args, **kwargs), x, g)
    ty, tdx = _torch_value_and_grad(lambda t: getattr(torch.nn.functional, name)(t, *args, **kwargs), x, g)
    _close(y, ty)
    _close(dx, tdx, 1e-5)


@pytest.mark.parametrize(
    "name, args",
    [("max_pool2d", (2,)), ("max_pool2d", (3, 1, 1)), ("max_pool1d", (3, 2, 1)), ("adaptive_max_pool2d", ((3, 2),))],
)
def test_max_pool_gradient_goes_to_the_first_maximum_on_ties(rng, name, args) -> None:
    # rounded values and zeros tie often; torch sends the gradient to the first maximum of each window
    shape = (2, 2, 6, 5) if name.endswith("2d") else (2, 2, 7)
    x = np.maximum(np.round(rng.standard_normal(shape)), 0).astype(np.float32)
    y, _ = _value_and_grad(lambda a: getattr(F, name)(a, *args), x, None)
    g = rng.standard_normal(y.shape).astype(np.float32)
    _, dx = _value_and_grad(lambda a: getattr(F, name)(a, *args), x, g)
    _, tdx = _torch_value_and_grad(lambda t: getattr(torch.nn.functional, name)(t, *args), x, g)
    _close(dx, tdx)


def test_max_pool_supports_forward_mode(rng) -> None:
    x = jnp.asarray(rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
    t = jnp.asarray(rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
    y, dy = jax.jvp(lambda a: F.max_pool2d(a, 2), (x,), (t,))
    picked = (x.reshape(1, 2, 2, 2, 2, 2) == y[:, :, :, None, :, None]).astype(t.dtype)
    assert jnp.allclose(dy, (picked * t.reshape(1, 2, 2, 2, 2, 2)).sum(axis=(3, 5)))
    jac = jax.jacfwd(lambda a: F.adaptive_max_pool1d(a, 2))(jnp.array([[1.0, 3.0, 2.0, 0.0, 5.0]]))
    assert jac.shape == (1, 2, 1, 5)


def test_max_pool_propagates_nan_like_torch() -> None:
    x = np.array([[[1.0, np.nan, 3.0, 2.0]]], np.float32)
    _close(F.max_pool1d(x, 2), torch.nn.functional.max_pool1d(torch.tensor(x), 2))


def test_adaptive_windows_follow_torch_rule() -> None:
    # 7 -> 3: windows [0, 3), [2, 5), [4, 7) overlap because sizes don't divide
    x = jnp.arange(7.0)[None, None]
    assert F.adaptive_avg_pool1d(x, 3).tolist() == [[[1.0, 3.0, 5.0]]]
    assert F.adaptive_max_pool1d(x, 3).tolist() == [[[2.0, 4.0, 6.0]]]
    assert F.adaptive_avg_pool2d(jnp.ones((1, 5, 7)), 0).shape == (1, 0, 0)


@pytest.mark.parametrize(
    "layer, args, kwargs",
    [
        ("MaxPool2d", (2,), {}),
        ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, dilation=2, ceil_mode=True)),
        ("MaxPool1d", (3,), dict(stride=2)),
        ("AvgPool2d", (3,), dict(stride=2, padding=1, divisor_override=2)),
        ("AvgPool1d", (3,), dict(padding=1)),
        ("AdaptiveAvgPool2d", ((None, 3),), {}),
        ("AdaptiveAvgPool1d", (5,), {}),
        ("AdaptiveMaxPool2d", (2,), {}),
        ("AdaptiveMaxPool1d", (4,), {}),
        ("MaxPool3d", ((2, 1, 2),), dict(stride=1, padding=(1, 0, 1), return_indices=True)),
        ("AvgPool3d", ((3, 2, 2),), dict(ceil_mode=True, divisor_override=3)),
        ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
        ("AdaptiveMaxPool3d", (2,), dict(return_indices=True)),
        ("LPPool1d", (2, 3), {}),
        ("LPPool2d", (1.5, (2, 3), 1, True), {}),
        ("LPPool3d", (float("inf"), 2), dict(stride=(1, 2, 2))),
        ("MaxUnpool1d", (3, 2, 1), {}),
        ("MaxUnpool2d", (2,), {}),
        ("MaxUnpool3d", ((2, 2, 1),), dict(padding=(1, 0, 0))),
    ],
)
def test_pooling_repr_matches_torch(layer, args, kwargs) -> None:
    assert repr(getattr(nn, layer)(*args, **kwargs)) == repr(getattr(torch.nn, layer)(*args, **kwargs))


def test_pooling_layers_have_no_params_and_compile_once() -> None:
    pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    assert pool.init(jax.random.key(0)) == {}
    traces = []

    @jax.jit
    def f(x):
        traces.append(1)
        return pool.apply({}, x)

    f(jnp.ones((2, 3, 7, 7)))
    f(jnp.zeros((2, 3, 7, 7)))
    assert len(traces) == 1


# ----------------------------------------------------------------------------- errors
CONSTRUCTOR_ERRORS = [
    (
        lambda: nn.MaxPool2d(3, padding=2),
        ValueError,
        "MaxPool2d: `padding` (=(2, 2)) must be at most half of `kernel_size` (=(3, 3))",
    ),
    (lambda: nn.MaxPool2d(2, stride=0), ValueError, "MaxPool2d: `stride` must be positive, got 0"),
    (
        lambda: nn.MaxPool2d((2, 2, 2)),
        TypeError,
        "MaxPool2d: `kernel_size` must be an int or a tuple of 2 ints, got (2, 2, 2)",
    ),
    (
        lambda: nn.AvgPool1d(2, padding=2),
        ValueError,
        "AvgPool1d: `padding` (=(2,)) must be at most half of `kernel_size` (=(2,))",
    ),
    (
        lambda: nn.AvgPool2d(2, divisor_override=0),
        ValueError,
        "AvgPool2d: `divisor_override` must be a non-zero int or None, got 0",
    ),
    (
        lambda: nn.AdaptiveAvgPool2d((2, -1)),
        ValueError,
        "AdaptiveAvgPool2d: `output_size` entries must be non-negative ints or None, got (2, -1)",
    ),
    (lambda: nn.LPPool2d(0, 2), ValueError, "LPPool2d: `norm_type` must be a non-zero real number (or +-inf), got 0"),
    (lambda: nn.LPPool1d(2, 0), ValueError, "LPPool1d: `kernel_size` must be positive, got 0"),
    (lambda: nn.MaxUnpool2d(2, padding=-1), ValueError, "MaxUnpool2d: `padding` must be non-negative, got -1"),
    (
        lambda: nn.AdaptiveAvgPool1d((2, 3)),
        TypeError,
        "AdaptiveAvgPool1d: `output_size` must be an int or a tuple of 1 ints (or None), got (2, 3)",
    ),
]


@pytest.mark.parametrize("make, error, message", CONSTRUCTOR_ERRORS, ids=[m[:50] for _, _, m in CONSTRUCTOR_ERRORS])
def test_constructor_errors(make, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


RUNTIME_ERRORS = [
    (
        lambda: nn.MaxPool2d(3).apply({}, jnp.ones((1, 1, 2, 5))),
        ValueError,
        "MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False): input of shape (1, 1, 2, 5) is too "
        "small for kernel (3, 3) with padding (0, 0) and dilation (1, 1) (output size (0, 1))",
    ),
    (
        lambda: nn.AvgPool1d(2).apply({}, jnp.ones((4,))),
        ValueError,
        "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,)): expected a 2-D (unbatched: C, L) or 3-D (batched: N, C, L) "
        "input, got shape (4,)",
    ),
    (
        lambda: nn.AdaptiveMaxPool2d(2).apply({}, jnp.ones((1, 3, 0, 4))),
        ValueError,
        "AdaptiveMaxPool2d(output_size=2): expected non-empty spatial dimensions, got input shape (1, 3, 0, 4)",
    ),
    (
        lambda: nn.MaxPool1d(2).apply({}, jnp.ones((1, 4), jnp.int32)),
        TypeError,
        "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False): expected a floating-point input",
    ),
    (
        lambda: F.avg_pool2d(jnp.ones((1, 4, 4)), 2, divisor_override=1.5),
        ValueError,
        "avg_pool2d: `divisor_override` must be a non-zero int or None, got 1.5",
    ),
    (
        lambda: nn.MaxUnpool2d(2).apply({}, jnp.ones((1, 2, 2)), jnp.zeros((1, 2, 1), jnp.int32)),
        ValueError,
        "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)): expected `indices` of the input's shape "
        "(1, 2, 2), got shape (1, 2, 1)",
    ),
    (
        lambda: F.max_unpool2d(jnp.ones((1, 2, 2)), jnp.zeros((1, 2, 2)), 2),
        TypeError,
        "max_unpool2d: expected integer `indices`, got dtype float32",
    ),
    (
        lambda: F.max_unpool2d(jnp.ones((1, 2, 2)), jnp.zeros((1, 2, 2), jnp.int32), 2, output_size=(6, 4)),
        ValueError,
        "max_unpool2d: invalid `output_size` (6, 4): dimension 0 must lie strictly between 2 and 6 for input shape (1, 2, 2)",
    ),
    (
        lambda: F.max_unpool1d(jnp.ones((1, 2)), jnp.zeros((1, 2), jnp.int32), 2, output_size=(1, 4)),
        ValueError,
        "max_unpool1d: `output_size` must hold 1 (or 3) ints, got (1, 4)",
    ),
    (
        lambda: F.max_unpool1d(jnp.ones((1, 1)), jnp.zeros((1, 1), jnp.int32), 2, padding=2),
        ValueError,
        "max_unpool1d: output size (-2,) has a negative dim for input shape (1, 1); reduce `padding`",
    ),
    (
        lambda: F.lp_pool1d(jnp.ones((1, 4)), True, 2),
        ValueError,
        "lp_pool1d: `norm_type` must be a non-zero real number",
    ),
    (
        lambda: F.lp_pool3d(jnp.ones((1, 4, 4)), 2, 2),
        ValueError,
        "lp_pool3d: expected a 4-D (unbatched: C, D, H, W) or 5-D",
    ),
    (
        lambda: F.avg_pool1d(jnp.ones((1, 4)), 3, padding=2),
        ValueError,
        "avg_pool1d: `padding` (=(2,)) must be at most half of `kernel_size` (=(3,))",
    ),
]


@pytest.mark.parametrize("call, error, message", RUNTIME_ERRORS, ids=[m[:50] for _, _, m in RUNTIME_ERRORS])
def test_runtime_errors(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


# ---------------------------------------------------------------------------- indices
INDEX_CALLS = [
    ("max_pool1d", (2, 3, 9), (3,), dict(stride=2, padding=1, dilation=2)),
    ("max_pool2d", (2, 3, 7, 6), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    (
        "max_pool3d",
        (1, 2, 5, 4, 5),
        ((2, 3, 2),),
        dict(stride=(2, 1, 2), padding=(1, 1, 0), dilation=(1, 1, 2), ceil_mode=True),
    ),
    ("adaptive_max_pool1d", (3, 7), (4,), {}),
    ("adaptive_max_pool2d", (2, 3, 7, 5), ((3, 2),), {}),
    ("adaptive_max_pool3d", (2, 5, 4, 7), ((2, 3, 3),), {}),
]


@pytest.mark.parametrize("name, shape, args, kwargs", INDEX_CALLS, ids=[c[0] for c in INDEX_CALLS])
def test_return_indices_match_torch_on_ties(rng, name, shape, args, kwargs) -> None:
    # rounded values tie often: the index is the first maximum in row-major order, as in torch
    x = np.round(rng.standard_normal(shape)).astype(np.float32)
    y, i = getattr(F, name)(x, *args, return_indices=True, **kwargs)
    ty, ti = getattr(torch.nn.functional, name)(torch.tensor(x), *args, return_indices=True, **kwargs)
    _close(y, ty)
    np.testing.assert_array_equal(np.asarray(i), ti.numpy())
    assert i.dtype == jnp.int32
    y2, i2 = getattr(F, f"{name}_with_indices")(x, *args, **kwargs)
    np.testing.assert_array_equal(np.asarray(i2), ti.numpy())
    _close(y2, ty)


def test_indices_are_int64_under_x64() -> None:
    with jax.enable_x64(True):
        assert F.max_pool2d(jnp.ones((1, 4, 4)), 2, return_indices=True)[1].dtype == jnp.int64
        assert F.adaptive_max_pool1d(jnp.ones((1, 4)), 0, return_indices=True)[1].dtype == jnp.int64


def test_max_pool_index_of_a_window_of_minus_inf_is_its_first_inside_tap() -> None:
    # nothing beats -inf, so torch reports the window's first position inside the input
    x = np.full((1, 1, 5), -np.inf, np.float32)
    _, i = F.max_pool1d(x, 3, stride=2, padding=1, dilation=2, return_indices=True)
    _, ti = torch.nn.functional.max_pool1d(torch.tensor(x), 3, stride=2, padding=1, dilation=2, return_indices=True)
    np.testing.assert_array_equal(np.asarray(i), ti.numpy())


def test_max_pool_layers_return_indices() -> None:
    x = jnp.arange(16.0).reshape(1, 4, 4)
    values, indices = nn.MaxPool2d(2, return_indices=True).apply({}, x)
    assert values.tolist() == [[[5.0, 7.0], [13.0, 15.0]]]
    assert indices.tolist() == [[[5, 7], [13, 15]]]
    values, indices = nn.AdaptiveMaxPool1d(2, return_indices=True).apply({}, x[0])
    assert indices.tolist() == [[1, 3], [1, 3], [1, 3], [1, 3]]


# -------------------------------------------------------------------------- unpooling
@pytest.mark.parametrize(
    "n, shape, kernel, kwargs, output_size",
    [
        (1, (2, 3, 9), 3, dict(stride=2, padding=1), None),  # overlapping windows: repeated indices
        (2, (2, 3, 7, 6), 3, dict(stride=2, padding=1), (7, 6)),
        (3, (1, 2, 4, 3, 4), 2, dict(stride=1), None),  # overlapping in every dim
    ],
)
def test_max_unpool_matches_torch_with_repeated_indices(rng, n, shape, kernel, kwargs, output_size) -> None:
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32))
    values, indices = getattr(torch.nn.functional, f"max_pool{n}d")(x, kernel, return_indices=True, **kwargs)
    values = values.detach().requires_grad_(True)
    tout = getattr(torch.nn.functional, f"max_unpool{n}d")(values, indices, kernel, output_size=output_size, **kwargs)
    g = rng.standard_normal(tout.shape).astype(np.float32)
    tout.backward(torch.tensor(g))

    def ours(v):
        return getattr(F, f"max_unpool{n}d")(v, jnp.asarray(indices.numpy()), kernel, output_size=output_size, **kwargs)

    out, dv = _value_and_grad(ours, values.detach().numpy(), g)
    _close(out, tout)
    _close(dv, values.grad)  # a value written twice gets the gradient of both places, as in torch


def test_pool_then_unpool_round_trip_keeps_the_maxima() -> None:
    x = jnp.arange(30.0).reshape(1, 5, 6)
    values, indices = nn.MaxPool2d(2, return_indices=True).apply({}, x)
    back = nn.MaxUnpool2d(2).apply({}, values, indices, output_size=x.shape[1:])
    assert back.shape == x.shape
    assert jnp.array_equal(back, jnp.where(back != 0, x, 0)) and int((back != 0).sum()) == 6


def test_lp_pool_matches_torch_including_inf_and_nan(rng) -> None:
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    for p in (2, 3, 1.5, math.inf, -math.inf):
        ours = F.lp_pool2d(x, p, (3, 2), stride=(2, 1), ceil_mode=True)
        theirs = torch.nn.functional.lp_pool2d(torch.tensor(x), p, (3, 2), stride=(2, 1), ceil_mode=True)
        np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-5, atol=1e-6, equal_nan=True)


def test_lp_pool_gradient_of_an_all_zero_window_is_zero_like_torch() -> None:
    x = np.array([[[0.0, 0.0, 1.0, 2.0]]], np.float32)
    for p in (2, 1.5):
        t = torch.tensor(x, requires_grad=True)
        torch.nn.functional.lp_pool1d(t, p, 2).sum().backward()
        g = jax.grad(lambda a: F.lp_pool1d(a, p, 2).sum())(jnp.asarray(x))
        _close(g, t.grad)
        assert np.all(np.isfinite(np.asarray(g)))
