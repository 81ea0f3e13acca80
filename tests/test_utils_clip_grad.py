"""nn.utils.clip_grad_norm / clip_grad_value / get_total_norm against torch.nn.utils, alone and composed."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn

torch.set_num_threads(1)


def _tree(rng, dtype=np.float64):
    return {
        "a": {"weight": rng.standard_normal((3, 4)).astype(dtype), "bias": rng.standard_normal(3).astype(dtype)},
        "b": {"weight": 5 * rng.standard_normal((2, 3)).astype(dtype)},
    }


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, float("inf"), "inf", -float("inf"), 0.0], ids=str)
def test_get_total_norm_matches_torch(norm_type) -> None:
    with jax.enable_x64(True):
        tree = _tree(np.random.default_rng(0))
        got = nn.utils.get_total_norm(jax.tree.map(jnp.asarray, tree), norm_type)
        want = torch.nn.utils.get_total_norm(
            [torch.from_numpy(v) for v in funcnn.serialization.flatten_dict(tree).values()], norm_type
        )
        np.testing.assert_allclose(got, want.item(), rtol=1e-14)
        assert got.dtype == jnp.float64
    assert float(nn.utils.get_total_norm({})) == 0.0


# ------------------------------------------------------------- training runs
def _pair():
    torch.manual_seed(0)
    tmod = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    model = nn.Sequential(nn.Linear(4, 5, dtype=jnp.float64), nn.Tanh(), nn.Linear(5, 2, dtype=jnp.float64))
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    return model, tmod, params


def _batches(n):
    rng = np.random.default_rng(1)
    return [(3 * rng.standard_normal((6, 4)), rng.standard_normal((6, 2))) for _ in range(n)]


def _torch_grads(tmod, x, y, scale=1.0):
    loss = torch.nn.functional.mse_loss(tmod(torch.from_numpy(x)), torch.from_numpy(y)) * scale
    loss.backward()


def _run_funcnn(model, params, optimizer, batches):
    step = funcnn.train.make_train_step(lambda p, x, y: F.mse_loss(model.apply(p, x), y), optimizer)
    opt_state = optimizer.init(params)
    for x, y in batches:
        params, opt_state, _ = step(params, opt_state, jnp.asarray(x), jnp.asarray(y))
    assert step._cache_size() == 1
    return params, opt_state


def _compare(params, tmod):
    sd = funcnn.state_dict(params)
    for k, v in tmod.state_dict().items():
        np.testing.assert_allclose(sd[k], v.numpy(), rtol=1e-12, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.5], ids=str)
def test_chain_clip_then_momentum_sgd_equals_torch(norm_type) -> None:
    with jax.enable_x64(True):
        model, tmod, params = _pair()
        max_norm = 0.3
        optimizer = optax.chain(nn.utils.clip_grad_norm(max_norm, norm_type=norm_type), optax.sgd(0.1, momentum=0.9))
        batches = _batches(8)
        params, opt_state = _run_funcnn(model, params, optimizer, batches)
        topt = torch.optim.SGD(tmod.parameters(), lr=0.1, momentum=0.9)
        for x, y in batches:
            topt.zero_grad()
            _torch_grads(tmod, x, y)
            total = torch.nn.utils.clip_grad_norm_(tmod.parameters(), max_norm, norm_type=norm_type)
            topt.step()
        _compare(params, tmod)
        # the state holds the last total norm before clipping, what clip_grad_norm_ returns
        np.testing.assert_allclose(opt_state[0].total_norm, total.item(), rtol=1e-12)
        assert float(total) > max_norm  # clipping happened


def test_multi_transform_clips_each_group_by_its_own_norm_like_torch() -> None:
    with jax.enable_x64(True):
        model, tmod, params = _pair()
        labels = {"0": {"weight": "first", "bias": "first"}, "2": {"weight": "second", "bias": "second"}}
        optimizer = optax.multi_transform(
            {
                "first": optax.chain(nn.utils.clip_grad_norm(0.2), optax.sgd(0.1)),
                "second": optax.chain(nn.utils.clip_grad_norm(0.05, norm_type="inf"), optax.sgd(0.3)),
            },
            labels,
        )
        batches = _batches(6)
        params, _ = _run_funcnn(model, params, optimizer, batches)
        first, second = list(tmod[0].parameters()), list(tmod[2].parameters())
        topt = torch.optim.SGD([{"params": first, "lr": 0.1}, {"params": second, "lr": 0.3}])
        for x, y in batches:
            topt.zero_grad()
            _torch_grads(tmod, x, y)
            torch.nn.utils.clip_grad_norm_(first, 0.2)
            torch.nn.utils.clip_grad_norm_(second, 0.05, norm_type="inf")
            topt.step()
        _compare(params, tmod)


def test_multisteps_clips_the_accumulated_gradient_like_torch() -> None:
    with jax.enable_x64(True):
        model, tmod, params = _pair()
        k = 3
        optimizer = optax.MultiSteps(
            optax.chain(nn.utils.clip_grad_norm(0.1), optax.sgd(0.5)), every_k_schedule=k, accumulator_dtype=jnp.float64
        ).gradient_transformation()
        batches = _batches(2 * k)
        params, _ = _run_funcnn(model, params, optimizer, batches)
        topt = torch.optim.SGD(tmod.parameters(), lr=0.5)
        for i, (x, y) in enumerate(batches):
            _torch_grads(tmod, x, y, scale=1.0 / k)  # MultiSteps averages the k gradients
            if (i + 1) % k == 0:
                torch.nn.utils.clip_grad_norm_(tmod.parameters(), 0.1)
                topt.step()
                topt.zero_grad()
        _compare(params, tmod)


def test_clip_grad_value_matches_torch_and_keeps_nan() -> None:
    with jax.enable_x64(True):
        model, tmod, params = _pair()
        optimizer = optax.chain(nn.utils.clip_grad_value(0.02), optax.sgd(0.2))
        batches = _batches(5)
        params, _ = _run_funcnn(model, params, optimizer, batches)
        topt = torch.optim.SGD(tmod.parameters(), lr=0.2)
        for x, y in batches:
            topt.zero_grad()
            _torch_grads(tmod, x, y)
            torch.nn.utils.clip_grad_value_(tmod.parameters(), 0.02)
            topt.step()
        _compare(params, tmod)
    clip = nn.utils.clip_grad_value(1.0)
    out, _ = clip.update({"g": jnp.array([jnp.nan, 3.0, -2.0], jnp.bfloat16)}, clip.init(None))
    assert out["g"].dtype == jnp.bfloat16 and np.isnan(float(out["g"][0])) and out["g"][1:].tolist() == [1.0, -1.0]


def test_jit_equals_eager_skips_frozen_leaves_and_keeps_dtypes() -> None:
    clip = nn.utils.clip_grad_norm(1.0, norm_type=3)
    grads = {"w": jnp.arange(6.0).reshape(2, 3), "frozen": None, "h": jnp.ones(2)}
    state = clip.init(grads)
    eager = clip.update(grads, state)
    jitted = jax.jit(clip.update)(grads, state)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=1e-6)
    assert eager[0]["frozen"] is None
    half = {"h": jnp.ones(2, jnp.bfloat16)}
    assert clip.update(half, clip.init(half))[0]["h"].dtype == jnp.bfloat16
    want = torch.nn.utils.get_total_norm([torch.arange(6.0).reshape(2, 3), torch.ones(2)], 3)
    np.testing.assert_allclose(eager[1].total_norm, want.item(), rtol=1e-6)
    # below max_norm nothing changes (the coefficient is clamped to 1)
    small = {"w": jnp.array([0.1, 0.2])}
    np.testing.assert_array_equal(clip.update(small, clip.init(small))[0]["w"], small["w"])


def test_error_if_nonfinite_eager_and_under_jit() -> None:
    grads = {"w": jnp.array([1.0, jnp.inf])}
    clip = nn.utils.clip_grad_norm(1.0, error_if_nonfinite=True)
    msg = r"clip_grad_norm: the total norm of order 2.0 of the gradients is inf, not finite, so it cannot be clipped; find the non-finite gradient, or pass error_if_nonfinite=False"
    with pytest.raises(ValueError, match=msg):
        clip.update(grads, clip.init(grads))
    with pytest.raises(RuntimeError, match=msg):  # raised on the host inside the compiled program
        jax.block_until_ready(jax.jit(clip.update)(grads, clip.init(grads)))
    with pytest.raises(ValueError, match=r"get_total_norm: the total norm of order inf of the gradients is nan"):
        nn.utils.get_total_norm({"w": jnp.array([jnp.nan])}, "inf", error_if_nonfinite=True)
    # without the flag, torch scales by the non-finite norm: everything becomes nan/zero
    out, state = nn.utils.clip_grad_norm(1.0).update(grads, clip.init(grads))
    assert np.isinf(float(state.total_norm)) and out["w"].tolist()[0] == 0.0
    tg = torch.tensor([1.0, float("inf")], requires_grad=True)
    tg.grad = torch.tensor([1.0, float("inf")])
    torch.nn.utils.clip_grad_norm_([tg], 1.0)
    np.testing.assert_array_equal(out["w"], tg.grad.numpy())


def test_float64_gru_run_with_clipping_equals_torch_where_optax_clip_by_global_norm_drifts() -> None:
    """PyTorch's 1e-6 in the clip coefficient matters at float64 precision."""
    with jax.enable_x64(True):
        torch.manual_seed(0)
        tmod = torch.nn.GRU(3, 4, num_layers=2).double()
        model = nn.GRU(3, 4, num_layers=2, dtype=jnp.float64)
        start, _ = funcnn.load_state_dict(model, tmod.state_dict())
        rng = np.random.default_rng(0)
        batches = [(rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 4))) for _ in range(20)]

        def run(clip):
            step = funcnn.train.make_train_step(
                lambda p, x, y: F.mse_loss(model.apply(p, x)[0], y), optax.chain(clip, optax.sgd(0.5))
            )
            params = jax.tree.map(jnp.array, start)  # a copy: the step donates its input
            opt_state = optax.chain(clip, optax.sgd(0.5)).init(params)
            for x, y in batches:
                params, opt_state, _ = step(params, opt_state, jnp.asarray(x), jnp.asarray(y))
            return funcnn.state_dict(params)

        ours, optax_clip = run(nn.utils.clip_grad_norm(0.05)), run(optax.clip_by_global_norm(0.05))
        for x, y in batches:
            tmod.zero_grad()
            torch.nn.functional.mse_loss(tmod(torch.from_numpy(x))[0], torch.from_numpy(y)).backward()
            torch.nn.utils.clip_grad_norm_(tmod.parameters(), 0.05)
            with torch.no_grad():
                for p in tmod.parameters():
                    p -= 0.5 * p.grad
        want = {k: v.numpy() for k, v in tmod.state_dict().items()}
        worst = max(np.abs(ours[k] - v).max() / np.abs(v).max() for k, v in want.items())
        drift = max(np.abs(optax_clip[k] - v).max() / np.abs(v).max() for k, v in want.items())
        assert worst < 1e-12, worst
        assert drift > 1e-9, drift  # what the missing epsilon costs
