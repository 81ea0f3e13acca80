"""`funcnn.nn.init` against `torch.nn.init`: distributions, gains, fans, keys, dtypes, errors.

Distribution checks draw ~200k values from funcnn and from torch for the same shape and
options and compare them with a two-sample Kolmogorov-Smirnov statistic ``D``. For two
samples of ``n`` values from one distribution, ``P(D > d) ~= 2 exp(-n d^2)`` (the
asymptotic Kolmogorov tail with effective size ``n/2``). With ``n = 200_000`` and the
threshold ``d = 0.01`` that is ``2 exp(-20) ~= 4e-9``: a correct initializer fails with
probability about 4e-9 per check. The KS check catches a wrong law (uniform for normal,
a missing truncation) or a scale off by ~3%; the moment checks against PyTorch's
formulas catch a scale off by 1%. Both sides use fixed seeds, so the suite is
deterministic anyway.
"""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from funcnn import nn
from funcnn.nn import init

torch.set_num_threads(1)

KEY = jax.random.key(0)
KS_THRESHOLD = 0.01  # false-failure probability ~4e-9 per check at 200k values (see above)
WIDE = (400, 500)  # 200k values; fan_in 500, fan_out 400
CONV = (200, 100, 3, 3)  # 180k values; fan_in 900, fan_out 1800


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two ECDFs."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def torch_sample(fill, shape, **kwargs) -> np.ndarray:
    torch.manual_seed(0)
    t = torch.empty(shape)
    with torch.no_grad():
        fill(t, **kwargs)
    return t.numpy()


def funcnn_sample(fn, shape, **kwargs) -> np.ndarray:
    return np.asarray(fn(KEY, shape, **kwargs))


# (id, funcnn initializer, torch initializer, shape, options, expected std from PyTorch's formula)
TANH = 5.0 / 3
DISTRIBUTIONS = [
    ("uniform", init.uniform, torch.nn.init.uniform_, WIDE, dict(a=-2.0, b=3.0), 5.0 / math.sqrt(12)),
    ("normal", init.normal, torch.nn.init.normal_, WIDE, dict(mean=1.0, std=2.0), 2.0),
    (
        "xavier_uniform",
        init.xavier_uniform,
        torch.nn.init.xavier_uniform_,
        WIDE,
        dict(gain=TANH),
        TANH * math.sqrt(2.0 / 900),
    ),
    ("xavier_uniform-conv", init.xavier_uniform, torch.nn.init.xavier_uniform_, CONV, dict(), math.sqrt(2.0 / 2700)),
    (
        "xavier_normal",
        init.xavier_normal,
        torch.nn.init.xavier_normal_,
        WIDE,
        dict(gain=2.0),
        2.0 * math.sqrt(2.0 / 900),
    ),
    (
        "kaiming_uniform-default",
        init.kaiming_uniform,
        torch.nn.init.kaiming_uniform_,
        WIDE,
        dict(),
        math.sqrt(2.0) / math.sqrt(500),
    ),
    (
        "kaiming_uniform-sqrt5",
        init.kaiming_uniform,
        torch.nn.init.kaiming_uniform_,
        WIDE,
        dict(a=math.sqrt(5)),
        math.sqrt(2.0 / 6.0) / math.sqrt(500),
    ),
    (
        "kaiming_uniform-fan_out-relu-conv",
        init.kaiming_uniform,
        torch.nn.init.kaiming_uniform_,
        CONV,
        dict(mode="fan_out", nonlinearity="relu"),
        math.sqrt(2.0) / math.sqrt(1800),
    ),
    (
        "kaiming_normal-default-conv",
        init.kaiming_normal,
        torch.nn.init.kaiming_normal_,
        CONV,
        dict(),
        math.sqrt(2.0) / math.sqrt(900),
    ),
    (
        "kaiming_normal-leaky-fan_out",
        init.kaiming_normal,
        torch.nn.init.kaiming_normal_,
        WIDE,
        dict(a=0.2, mode="fan_out"),
        math.sqrt(2.0 / 1.04) / math.sqrt(400),
    ),
    (
        "kaiming_normal-tanh",
        init.kaiming_normal,
        torch.nn.init.kaiming_normal_,
        WIDE,
        dict(nonlinearity="tanh"),
        TANH / math.sqrt(500),
    ),
]


@pytest.mark.parametrize(
    "fn, tfill, shape, kwargs, std", [d[1:] for d in DISTRIBUTIONS], ids=[d[0] for d in DISTRIBUTIONS]
)
def test_distribution_matches_torch(fn, tfill, shape, kwargs, std) -> None:
    got = funcnn_sample(fn, shape, **kwargs)
    want = torch_sample(tfill, shape, **kwargs)
    assert got.shape == want.shape == shape
    assert got.dtype == np.float32
    assert ks_statistic(got, want) < KS_THRESHOLD
    # Moments against PyTorch's formula: 6 standard errors (false failure ~2e-9).
    n = got.size
    mean = kwargs.get("mean", (kwargs.get("a", 0.0) + kwargs.get("b", 0.0)) / 2 if fn is init.uniform else 0.0)
    assert abs(got.mean() - mean) < 6 * std / math.sqrt(n)
    # The sample std's relative SE is 1/sqrt(2n) for a normal law, smaller for a uniform one.
    assert abs(got.std() / std - 1) < 6 / math.sqrt(2 * n)


UNIFORMS = [
    ("uniform", init.uniform, WIDE, dict(a=-2.0, b=3.0), (-2.0, 3.0)),
    ("xavier_uniform", init.xavier_uniform, WIDE, dict(gain=2.0), 2.0 * math.sqrt(6.0 / 900)),
    ("kaiming_uniform", init.kaiming_uniform, WIDE, dict(), math.sqrt(6.0 / 500)),
    ("kaiming_uniform-fan_out-conv", init.kaiming_uniform, CONV, dict(mode="fan_out"), math.sqrt(6.0 / 1800)),
    ("kaiming_uniform-sqrt5", init.kaiming_uniform, WIDE, dict(a=math.sqrt(5)), 1 / math.sqrt(500)),
]


@pytest.mark.parametrize("fn, shape, kwargs, bounds", [u[1:] for u in UNIFORMS], ids=[u[0] for u in UNIFORMS])
def test_uniform_bounds(fn, shape, kwargs, bounds) -> None:
    lo, hi = bounds if isinstance(bounds, tuple) else (-bounds, bounds)
    w = funcnn_sample(fn, shape, **kwargs)
    assert w.min() >= np.float32(lo) and w.max() <= np.float32(hi)
    # With 200k draws the extremes come within 0.01% of the bounds (miss probability ~e^-20).
    span = hi - lo
    assert w.min() - lo < 1e-4 * span and hi - w.max() < 1e-4 * span


def test_trunc_normal_bounds_and_distribution() -> None:
    kwargs = dict(mean=0.5, std=1.0, a=-1.0, b=2.0)
    got = funcnn_sample(init.trunc_normal, WIDE, **kwargs)
    assert got.min() >= -1.0 and got.max() <= 2.0
    assert got.min() < -1.0 + 1e-3 and got.max() > 2.0 - 1e-3
    want = torch_sample(torch.nn.init.trunc_normal_, WIDE, **kwargs)
    assert ks_statistic(got, want) < KS_THRESHOLD


def test_trunc_normal_default_is_two_std() -> None:
    got = funcnn_sample(init.trunc_normal, WIDE)
    assert got.min() >= -2.0 and got.max() <= 2.0
    assert ks_statistic(got, torch_sample(torch.nn.init.trunc_normal_, WIDE)) < KS_THRESHOLD


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (6, 4, 3, 3), (40, 40)], ids=["wide", "tall", "conv", "square"])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain) -> None:
    w = np.asarray(init.orthogonal(KEY, shape, gain=gain), np.float64)
    assert w.shape == shape
    flat = w.reshape(shape[0], -1)
    rows, cols = flat.shape
    if rows <= cols:  # orthogonal rows
        np.testing.assert_allclose(flat @ flat.T, gain**2 * np.eye(rows), atol=1e-5 * gain**2)
    if rows >= cols:  # orthogonal columns
        np.testing.assert_allclose(flat.T @ flat, gain**2 * np.eye(cols), atol=1e-5 * gain**2)


def test_orthogonal_entries_match_torch() -> None:
    # Entries of a Haar-random semi-orthogonal matrix; both sides use QR with the sign fix.
    got = funcnn_sample(init.orthogonal, WIDE)
    want = torch_sample(torch.nn.init.orthogonal_, WIDE)
    assert ks_statistic(got, want) < KS_THRESHOLD


def test_constant_ones_zeros() -> None:
    np.testing.assert_array_equal(init.constant(None, (2, 3), val=0.5), np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(init.ones(KEY, (4,)), np.ones(4, np.float32))
    np.testing.assert_array_equal(init.zeros(KEY, (2, 2), jnp.bfloat16), np.zeros((2, 2)))
    assert init.zeros(KEY, (2, 2), jnp.bfloat16).dtype == jnp.bfloat16


GAINS = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("selu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", 1),
    ("leaky_relu", 0),
]


@pytest.mark.parametrize("nonlinearity, param", GAINS, ids=[f"{n}-{p}" for n, p in GAINS])
def test_calculate_gain_matches_torch(nonlinearity, param) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12
    )


@pytest.mark.parametrize("shape", [(10, 3), (3, 10), (8, 3, 5), (16, 4, 3, 3), (2, 3, 4, 5, 6), (5, 0, 3)])
def test_fan_in_and_fan_out_matches_torch(shape) -> None:
    assert init.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_mode_is_case_insensitive_like_torch() -> None:
    np.testing.assert_array_equal(
        init.kaiming_normal(KEY, (4, 6), mode="FAN_OUT"), init.kaiming_normal(KEY, (4, 6), mode="fan_out")
    )


# ----------------------------------------------------------------- Linear defaults


def test_linear_default_bounds() -> None:
    layer = nn.Linear(50, 4000)
    params = layer.init(KEY)
    bound = 1 / math.sqrt(50)
    for name in ("weight", "bias"):
        w = np.asarray(params[name])
        assert np.abs(w).max() <= np.float32(bound)
        assert np.abs(w).max() > 0.99 * bound
    assert params["weight"].shape == (4000, 50) and params["bias"].shape == (4000,)
    assert "bias" not in nn.Linear(3, 2, bias=False).init(KEY)


def test_linear_weights_match_torch_linear() -> None:
    torch.manual_seed(0)
    t = torch.nn.Linear(500, 400)
    got = nn.Linear(500, 400).init(KEY)
    assert ks_statistic(np.asarray(got["weight"]), t.weight.detach().numpy()) < KS_THRESHOLD
    # The bias has only 400 entries per layer; a layer with 200k outputs tests its law.
    torch.manual_seed(0)
    tb = torch.nn.Linear(3, 200_000).bias.detach().numpy()
    gb = np.asarray(nn.Linear(3, 200_000).init(KEY)["bias"])
    assert ks_statistic(gb, tb) < KS_THRESHOLD


# ------------------------------------------------------------------ keys and dtypes

INITIALIZERS = [
    ("uniform", init.uniform, dict(a=-1.0, b=2.0)),
    ("normal", init.normal, dict(std=0.5)),
    ("trunc_normal", init.trunc_normal, dict()),
    ("xavier_uniform", init.xavier_uniform, dict()),
    ("xavier_normal", init.xavier_normal, dict()),
    ("kaiming_uniform", init.kaiming_uniform, dict(a=math.sqrt(5))),
    ("kaiming_normal", init.kaiming_normal, dict(mode="fan_out")),
    ("orthogonal", init.orthogonal, dict(gain=2.0)),
]
INIT_IDS = [i[0] for i in INITIALIZERS]
SMALL = (5, 3, 2)


@pytest.mark.parametrize("fn, kwargs", [i[1:] for i in INITIALIZERS], ids=INIT_IDS)
def test_deterministic_given_key_and_keys_differ(fn, kwargs) -> None:
    a = fn(jax.random.key(1), SMALL, **kwargs)
    b = fn(jax.random.key(1), SMALL, **kwargs)
    c = fn(jax.random.key(2), SMALL, **kwargs)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # A raw uint32 key with the same words is the same key.
    np.testing.assert_array_equal(a, fn(jax.random.PRNGKey(1), SMALL, **kwargs))


@pytest.mark.parametrize("fn, kwargs", [i[1:] for i in INITIALIZERS], ids=INIT_IDS)
def test_jit_and_vmap_equal_eager(fn, kwargs) -> None:
    keys = jax.random.split(jax.random.key(3), 3)
    traced = jax.jit(lambda k: fn(k, SMALL, **kwargs))(keys[0])
    np.testing.assert_array_equal(traced, fn(keys[0], SMALL, **kwargs))
    batched = jax.vmap(lambda k: fn(k, SMALL, **kwargs))(keys)
    assert batched.shape == (3, *SMALL)
    for i in range(3):
        np.testing.assert_array_equal(batched[i], fn(keys[i], SMALL, **kwargs))


def _model() -> nn.Module:
    return nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))


def test_model_init_eager_jit_vmap_agree() -> None:
    model = _model()
    eager = model.init(KEY)
    traced = jax.jit(model.init)(KEY)
    jax.tree.map(np.testing.assert_array_equal, eager, traced)
    keys = jax.random.split(KEY, 4)
    batched = jax.vmap(model.init)(keys)
    assert batched["hidden"]["weight"].shape == (4, 10, 3)
    for i in range(4):
        jax.tree.map(lambda b, e: np.testing.assert_array_equal(b[i], e), batched, model.init(keys[i]))


def test_model_init_deterministic_and_children_differ() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    a, b = model.init(KEY), model.init(KEY)
    jax.tree.map(np.testing.assert_array_equal, a, b)
    assert not np.array_equal(a["0"]["weight"], a["1"]["weight"])  # each child has its own key
    assert not np.array_equal(a["0"]["weight"], model.init(jax.random.key(1))["0"]["weight"])


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("fn, kwargs", [i[1:] for i in INITIALIZERS], ids=INIT_IDS)
def test_dtype(fn, kwargs, dtype) -> None:
    w = fn(KEY, SMALL, dtype, **kwargs)
    assert w.dtype == dtype and w.shape == SMALL
    # The same draw, rounded to the dtype.
    np.testing.assert_array_equal(w, fn(KEY, SMALL, **kwargs).astype(dtype))


@pytest.mark.parametrize("fn, kwargs", [i[1:] for i in INITIALIZERS], ids=INIT_IDS)
def test_float64_under_x64(fn, kwargs) -> None:
    with jax.enable_x64(True):
        w = fn(KEY, SMALL, jnp.float64, **kwargs)
        assert w.dtype == jnp.float64
        w32 = np.asarray(fn(KEY, SMALL, **kwargs))
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(w).astype(np.float32), w32)
    assert not np.array_equal(np.asarray(w), w32.astype(np.float64))  # full double precision, not widened floats


def test_layer_dtype() -> None:
    assert nn.Linear(3, 2, dtype=jnp.bfloat16).init(KEY)["weight"].dtype == jnp.bfloat16
    with jax.enable_x64(True):
        params = nn.Linear(3, 2, dtype=jnp.float64).init(KEY)
        assert params["weight"].dtype == params["bias"].dtype == jnp.float64


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", [init.kaiming_uniform, init.kaiming_normal], ids=["kaiming_uniform", "kaiming_normal"])
def test_bad_mode(fn) -> None:
    with pytest.raises(ValueError, match=rf"{fn.__name__}: `mode` must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        fn(KEY, (3, 4), mode="fan_avg")


def test_bad_nonlinearity() -> None:
    with pytest.raises(
        ValueError, match=r"calculate_gain: unsupported nonlinearity 'swish'; expected one of \['linear'"
    ):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match=r"calculate_gain: unsupported nonlinearity 'gelu'"):
        init.kaiming_uniform(KEY, (3, 4), nonlinearity="gelu")


@pytest.mark.parametrize("param", ["0.1", True], ids=["str", "bool"])
def test_bad_leaky_relu_slope(param) -> None:
    with pytest.raises(ValueError, match=rf"calculate_gain: negative_slope {param!r} is not a valid number"):
        init.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize(
    "fn, owner",
    [
        (init.xavier_uniform, "xavier_uniform"),
        (init.xavier_normal, "xavier_normal"),
        (init.kaiming_uniform, "kaiming_uniform"),
        (init.kaiming_normal, "kaiming_normal"),
        (lambda key, shape: init.fan_in_and_fan_out(shape), "fan_in_and_fan_out"),
    ],
    ids=["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "fan_in_and_fan_out"],
)
@pytest.mark.parametrize("shape", [(5,), ()], ids=["1d", "0d"])
def test_fans_need_two_dims(fn, owner, shape) -> None:
    with pytest.raises(
        ValueError,
        match=rf"{owner}: fan in and fan out need a weight with at least 2 dimensions, got shape {re.escape(str(shape))}",
    ):
        fn(KEY, shape)


def test_orthogonal_needs_two_dims() -> None:
    with pytest.raises(ValueError, match=r"orthogonal: needs a shape with at least 2 dimensions, got \(5,\)"):
        init.orthogonal(KEY, (5,))


def test_bad_bounds() -> None:
    with pytest.raises(ValueError, match=r"uniform: lower bound `a` \(=2.0\) must not exceed upper bound `b` \(=1.0\)"):
        init.uniform(KEY, (3,), a=2.0, b=1.0)
    with pytest.raises(ValueError, match=r"trunc_normal: need `a` < `b`, got a=1.0, b=1.0"):
        init.trunc_normal(KEY, (3,), a=1.0, b=1.0)
    with pytest.raises(ValueError, match=r"trunc_normal: need `a` < `b`, got a=2.0, b=-2.0"):
        init.trunc_normal(KEY, (3,), a=2.0, b=-2.0)
    with pytest.raises(ValueError, match=r"normal: `std` must be non-negative, got -1.0"):
        init.normal(KEY, (3,), std=-1.0)
    np.testing.assert_array_equal(init.uniform(KEY, (3,), a=1.0, b=1.0), np.ones(3))  # a == b is allowed


def test_integer_key() -> None:
    msg = r"expected a PRNG key such as jax.random.key\(0\), got the integer 0; pass jax.random.key\(0\)"
    with pytest.raises(TypeError, match=msg):
        init.normal(0, (3,))
    with pytest.raises(TypeError, match=msg):
        nn.Linear(3, 2).init(0)
    with pytest.raises(TypeError, match=r"got the integer 7; pass jax.random.key\(7\)"):
        _model().init(np.int64(7))


def test_non_key_array() -> None:
    with pytest.raises(
        TypeError,
        match=r"expected a PRNG key \(jax.random.key\(seed\) or a uint32 raw key\), got ndarray with dtype float32",
    ):
        init.normal(np.zeros(2, np.float32), (3,))
    with pytest.raises(TypeError, match=r"got str with dtype None; create one with jax.random.key\(0\)"):
        init.normal("seed", (3,))
