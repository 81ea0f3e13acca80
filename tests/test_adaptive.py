"""AdaptiveLogSoftmaxWithLoss: log_prob and predict against torch, the named tuple, repr and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
from funcnn import nn


def _pair(**kwargs):
    torch.manual_seed(0)
    tmod = torch.nn.AdaptiveLogSoftmaxWithLoss(**kwargs)
    model = nn.AdaptiveLogSoftmaxWithLoss(**kwargs)
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    return model, tmod, params


def test_log_prob_and_predict_match_torch(rng) -> None:
    model, tmod, params = _pair(in_features=16, n_classes=11, cutoffs=[3, 6], div_value=2.0, head_bias=True)
    x = rng.standard_normal((40, 16)).astype(np.float32) * 3
    with torch.no_grad():
        want_lp = tmod.log_prob(torch.from_numpy(x)).numpy()
        want_pred = tmod.predict(torch.from_numpy(x)).numpy()
    lp = model.log_prob(params, jnp.asarray(x))
    np.testing.assert_allclose(lp, want_lp, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.predict(params, jnp.asarray(x)), want_pred)
    assert (want_pred >= 3).any() and (want_pred < 3).any()  # both branches of predict exercised
    np.testing.assert_allclose(jax.nn.logsumexp(lp, axis=1), 0.0, atol=1e-5)


def test_output_is_the_log_prob_of_the_target_and_a_named_tuple(rng) -> None:
    model, _, params = _pair(in_features=16, n_classes=10, cutoffs=[4, 8])
    x = jnp.asarray(rng.standard_normal((6, 16)).astype(np.float32))
    target = jnp.array([0, 3, 4, 7, 8, 9])
    result = jax.jit(model.apply)(params, x, target)
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")
    lp = model.log_prob(params, x)
    np.testing.assert_allclose(result.output, lp[jnp.arange(6), target], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.loss, -result.output.mean(), rtol=1e-6)


def test_out_of_range_target_under_jit_gives_nan() -> None:
    model = nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2])
    params = model.init(jax.random.key(0))
    out = jax.jit(model.apply)(params, jnp.ones((2, 16)), jnp.array([1, 6])).output
    assert np.isfinite(out[0]) and np.isnan(out[1])


def test_repr_matches_torch() -> None:
    kwargs = dict(in_features=16, n_classes=10, cutoffs=[4, 8], head_bias=True)
    assert repr(nn.AdaptiveLogSoftmaxWithLoss(**kwargs)) == repr(torch.nn.AdaptiveLogSoftmaxWithLoss(**kwargs))


_OWNER = r"AdaptiveLogSoftmaxWithLoss\(in_features=16, n_classes=6, cutoffs=\[2\]\): "
_ASM = nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2])
_P = _ASM.init(jax.random.key(0))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[]),
            ValueError,
            r"AdaptiveLogSoftmaxWithLoss: `cutoffs` must be a non-empty sequence of unique, increasing integers in \[1, n_classes - 1\] = \[1, 5\], got \[\]",
        ),
        (
            lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[3, 2]),
            ValueError,
            r"`cutoffs` must be .* got \[3, 2\]",
        ),
        (lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[6]), ValueError, r"`cutoffs` must be .* got \[6\]"),
        (lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2.5]), ValueError, r"`cutoffs` must be .* got \[2.5\]"),
        (
            lambda: nn.AdaptiveLogSoftmaxWithLoss(16, 6, cutoffs=[2], div_value=0),
            ValueError,
            r"AdaptiveLogSoftmaxWithLoss: `div_value` must be a positive number, got 0",
        ),
        (
            lambda: nn.AdaptiveLogSoftmaxWithLoss(4, 6, cutoffs=[2, 4]),
            ValueError,
            r"AdaptiveLogSoftmaxWithLoss: cluster 1 gets hidden size in_features // div_value\*\*2 = 0; use a smaller div_value or fewer cutoffs",
        ),
        (
            lambda: _ASM.apply(_P, jnp.ones((3, 16)), jnp.array([0, 1])),
            ValueError,
            _OWNER + r"expected a target of shape \(3,\) \(one class per input row\), got shape \(2,\)",
        ),
        (
            lambda: _ASM.apply(_P, jnp.ones((3, 8)), jnp.array([0, 1, 2])),
            ValueError,
            _OWNER
            + r"expected an input of shape \(in_features,\) or \(N, in_features\) with in_features=16, got shape \(3, 8\)",
        ),
        (
            lambda: _ASM.apply(_P, jnp.ones((3, 16)), jnp.array([0.0, 1.0, 2.0])),
            TypeError,
            _OWNER + r"expected integer class indices as target, got dtype float32",
        ),
        (
            lambda: _ASM.apply(_P, jnp.ones((2, 16)), jnp.array([0, 6])),
            ValueError,
            _OWNER + r"target values must lie in \[0, 5\], got values in \[0, 6\]",
        ),
        (
            lambda: _ASM.log_prob(_P, jnp.ones(16)),
            ValueError,
            _OWNER + r"expected an input of shape \(N, in_features\) with in_features=16, got shape \(16,\)",
        ),
        (
            lambda: _ASM.predict(_P, jnp.ones((2, 16), jnp.int32)),
            TypeError,
            _OWNER + r"expected a floating-point input, got dtype int32",
        ),
    ],
    ids=[
        "empty",
        "unsorted",
        "too-big",
        "float-cutoff",
        "div",
        "zero-hidden",
        "target-shape",
        "input-shape",
        "float-target",
        "range",
        "log_prob-rank",
        "predict-int",
    ],
)
def test_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()
