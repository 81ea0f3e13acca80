"""Mixed precision policies and dynamic loss scaling."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn
from funcnn import nn, train


class _Probe(nn.Module):
    """Records the dtypes it sees (at trace time)."""

    def __init__(self) -> None:
        self.seen: list = []

    def init(self, key):
        return {"w": jnp.ones((2,), jnp.float32)}

    def forward(self, params, x, *, key=None, train=False):
        self.seen.append((params["w"].dtype, x.dtype))
        return x * jnp.broadcast_to(params["w"], x.shape)


@pytest.mark.parametrize(
    "name, compute", [("mixed_bfloat16", jnp.bfloat16), ("mixed_float16", jnp.float16), ("float32", jnp.float32)]
)
def test_policy_casts_compute_and_output(name: str, compute) -> None:
    probe = _Probe()
    model = nn.MixedPrecision(probe, name)
    params = model.init(jax.random.key(0))
    assert params["w"].dtype == jnp.float32
    y = model.apply(params, jnp.ones((3, 2), jnp.float32))
    assert probe.seen[-1] == (jnp.dtype(compute), jnp.dtype(compute))
    assert y.dtype == jnp.float32


def test_wrapper_keeps_state_dict_keys() -> None:
    inner = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model = nn.MixedPrecision(inner)
    key = jax.random.key(0)
    assert sorted(funcnn.state_dict(model.init(key))) == sorted(funcnn.state_dict(inner.init(key)))
    params, _ = funcnn.load_state_dict(model, funcnn.state_dict(inner.init(key)))
    assert model.apply(params, jnp.ones((1, 3))).shape == (1, 2)


def test_policy_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown policy 'half'; expected one of"):
        nn.Policy.from_name("half")
    with pytest.raises(ValueError, match="`compute_dtype` must be a floating dtype, got int32"):
        nn.Policy(compute_dtype=jnp.int32)
    with pytest.raises(TypeError, match="expected a funcnn.nn.Module to wrap, got function"):
        nn.MixedPrecision(lambda x: x)


def _fp16_setup(initial_scale: float = 2.0**15, period: int = 2000):
    model = nn.MixedPrecision(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)), "mixed_float16")
    params = model.init(jax.random.key(0))
    opt = train.dynamic_loss_scale(optax.sgd(0.05), initial_scale=initial_scale, period=period)
    step = train.make_train_step(lambda p, x, y: jnp.mean((model.apply(p, x) - y) ** 2), opt)
    return params, opt.init(params), step


def test_float16_recovers_from_injected_overflow() -> None:
    params, opt_state, step = _fp16_setup()
    x = jnp.asarray(np.random.default_rng(0).standard_normal((8, 4)), jnp.float32)
    y = jnp.zeros((8, 1))
    params, opt_state, first = step(params, opt_state, x, y)
    before = jax.tree.map(np.asarray, params)
    # A huge target overflows float16 gradients: the step is skipped and the scale backs off.
    params, opt_state, _ = step(params, opt_state, x, jnp.full((8, 1), 6e4))
    assert int(opt_state.skipped) == 1 and float(opt_state.scale) == 2.0**14
    for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(params)):
        np.testing.assert_array_equal(a, np.asarray(b))
    losses = []
    for _ in range(20):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(float(loss))
    assert all(np.isfinite(losses)) and losses[-1] < float(first)
    assert int(opt_state.skipped) == 1


def test_scale_grows_after_period_of_finite_steps() -> None:
    params, opt_state, step = _fp16_setup(initial_scale=4.0, period=3)
    x, y = jnp.ones((2, 4)), jnp.zeros((2, 1))
    for _ in range(3):
        params, opt_state, _ = step(params, opt_state, x, y)
    assert float(opt_state.scale) == 8.0 and int(opt_state.good_steps) == 0


def test_loss_scale_argument_errors() -> None:
    with pytest.raises(ValueError, match="`factor` must be > 1, got 1.0"):
        train.dynamic_loss_scale(optax.sgd(0.1), factor=1.0)
    with pytest.raises(ValueError, match="`period` must be >= 1, got 0"):
        train.dynamic_loss_scale(optax.sgd(0.1), period=0)
