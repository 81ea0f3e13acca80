"""Activations beyond the layer harness: PyTorch's ``inplace`` flag, ``repr``, the functional
forms' torch signatures, and RReLU's random slopes.

The harness (`tests/cases/activation.py`, `tests/cases/core.py`) checks every layer's
numbers and gradients against torch; error messages live in
`tests/test_error_messages.py`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import funcnn.nn.functional as F
from funcnn import nn

X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32) * 4

# (id, constructor arguments as (args, kwargs)) for every layer whose torch constructor takes `inplace`.
INPLACE = [
    ("ReLU", (True,), {}),
    ("LeakyReLU", (0.2, True), {}),
    ("ELU", (0.5,), {"inplace": True}),
    ("CELU", (0.7, True), {}),
    ("SELU", (True,), {}),
    ("SiLU", (), {"inplace": True}),
    ("Mish", (True,), {}),
    ("Hardtanh", (-2.0, 1.5, True), {}),
    ("ReLU6", (True,), {}),
    ("Hardsigmoid", (True,), {}),
    ("Hardswish", (), {"inplace": True}),
    ("Threshold", (0.1, -2.0, True), {}),
    ("RReLU", (0.1, 0.3, True), {}),
]


@pytest.mark.parametrize("name, args, kwargs", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_is_accepted_ignored_and_printed_as_torch(name: str, args: tuple, kwargs: dict) -> None:
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs).eval()
    assert repr(ours) == repr(theirs)
    x = jnp.asarray(X)
    y = ours.apply({}, x)
    np.testing.assert_array_equal(np.asarray(x), X)  # the input is untouched
    np.testing.assert_allclose(y, theirs(torch.tensor(X)).numpy(), rtol=1e-6, atol=1e-6)


REPRS = [
    ("relu", lambda m: m.ReLU()),
    ("rrelu", lambda m: m.RReLU()),
    ("rrelu-args", lambda m: m.RReLU(0.2, 0.5)),
    ("threshold", lambda m: m.Threshold(0.1, 20)),
    ("hardshrink", lambda m: m.Hardshrink()),
    ("softshrink", lambda m: m.Softshrink(0.3)),
    ("hardsigmoid", lambda m: m.Hardsigmoid()),
    ("hardswish", lambda m: m.Hardswish()),
    ("prelu", lambda m: m.PReLU()),
    ("prelu-3", lambda m: m.PReLU(3, 0.1)),
    ("celu", lambda m: m.CELU()),
    ("selu", lambda m: m.SELU()),
    ("mish", lambda m: m.Mish()),
    ("logsigmoid", lambda m: m.LogSigmoid()),
    ("softsign", lambda m: m.Softsign()),
    ("tanhshrink", lambda m: m.Tanhshrink()),
    ("softmin", lambda m: m.Softmin(1)),
    ("softmin-none", lambda m: m.Softmin()),
    ("softmax2d", lambda m: m.Softmax2d()),
    ("glu", lambda m: m.GLU()),
    ("glu-dim", lambda m: m.GLU(1)),
    ("relu6", lambda m: m.ReLU6()),
    ("leaky-relu-int", lambda m: m.LeakyReLU(1)),
]


@pytest.mark.parametrize("make", [r[1] for r in REPRS], ids=[r[0] for r in REPRS])
def test_repr_matches_torch(make) -> None:
    assert repr(make(nn)) == repr(make(torch.nn))


# Functional forms called exactly as PyTorch code calls them (positional flags included).
FUNCTIONAL = [
    ("relu", (True,)),
    ("leaky_relu", (0.3, True)),
    ("elu", (0.5, True)),
    ("celu", (0.5, True)),
    ("selu", (True,)),
    ("silu", (True,)),
    ("mish", (True,)),
    ("hardtanh", (-0.5, 2.0, True)),
    ("relu6", (True,)),
    ("hardsigmoid", (True,)),
    ("hardswish", (True,)),
    ("threshold", (0.5, -1.0, True)),
    ("rrelu", (0.1, 0.3, False, True)),
    ("hardshrink", (0.7,)),
    ("softshrink", (0.7,)),
    ("logsigmoid", ()),
    ("softsign", ()),
    ("tanhshrink", ()),
    ("softmin", (0,)),
    ("glu", (1,)),
]


@pytest.mark.parametrize("name, args", FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_takes_torch_positional_arguments(name: str, args: tuple) -> None:
    ours = getattr(F, name)(jnp.asarray(X), *args)
    theirs = getattr(TF, name)(torch.tensor(X), *args)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_prelu_functional_matches_torch_per_channel() -> None:
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    w = np.array([0.1, -0.2, 0.3], np.float32)
    np.testing.assert_allclose(F.prelu(x, w), TF.prelu(torch.tensor(x), torch.tensor(w)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(F.prelu(x, w[:1]), TF.prelu(torch.tensor(x), torch.tensor(w[:1])).numpy(), rtol=1e-6)


def test_softmin_dim_none_warns_and_uses_legacy_dim() -> None:
    x = jnp.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match=r"Softmin\(dim=None\) picks the dimension from the input's rank"):
        y = nn.Softmin().apply({}, x)
    np.testing.assert_allclose(y, F.softmin(x, 1))


# ----------------------------------------------------------------------------- RReLU
def test_rrelu_train_slopes_are_uniform_within_bounds() -> None:
    lower, upper = 0.1, 0.4
    x = -jnp.ones((200, 50))
    y = nn.RReLU(lower, upper).apply({}, x, key=jax.random.key(0), train=True)
    slopes = np.asarray(-y).ravel()
    assert slopes.min() >= lower and slopes.max() <= upper
    # U(0.1, 0.4): mean 0.25, std 0.0866; 10,000 draws put the sample mean within 0.003.
    assert abs(slopes.mean() - 0.25) < 0.003
    assert abs(slopes.std() - 0.3 / np.sqrt(12)) < 0.003
    assert len(np.unique(slopes)) > 9000  # a slope per element, not per tensor


def test_rrelu_train_keeps_positives_and_differentiates_by_the_drawn_slope() -> None:
    x = jnp.asarray(X)
    layer = nn.RReLU()
    key = jax.random.key(3)
    y, vjp = jax.vjp(lambda a: layer.apply({}, a, key=key, train=True), x)
    (g,) = vjp(jnp.ones_like(x))
    pos = X > 0
    np.testing.assert_array_equal(np.asarray(y)[pos], X[pos])
    np.testing.assert_allclose(np.asarray(g)[~pos], (np.asarray(y) / X)[~pos], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(g)[pos], 1.0)
    other = layer.apply({}, x, key=jax.random.key(4), train=True)
    assert not np.allclose(np.asarray(other)[~pos], np.asarray(y)[~pos])  # a new key, new slopes
    again = layer.apply({}, x, key=key, train=True)
    np.testing.assert_array_equal(again, y)  # the same key, the same slopes


def test_rrelu_eval_equals_torch_exactly() -> None:
    x = torch.tensor(X)
    for lower, upper in [(1 / 8, 1 / 3), (0.0, 1.0), (0.25, 0.25)]:
        ours = nn.RReLU(lower, upper).apply({}, jnp.asarray(X))
        np.testing.assert_array_equal(ours, torch.nn.RReLU(lower, upper).eval()(x).numpy())
