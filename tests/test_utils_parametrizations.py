"""weight_norm / spectral_norm against torch.nn.utils.parametrizations: keys, forward, backward, buffers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.nn.utils import parametrizations as tp

import funcnn
from funcnn import nn
from funcnn.nn.utils.parametrizations import spectral_norm, weight_norm

torch.set_num_threads(1)


def _grads_match(model, tmod, params, state, x, *, train, rtol=1e-5, atol=1e-6):
    """Forward and gradients (w.r.t. every parameter and the input) equal torch's."""

    def loss(p, x):
        y, new_state = model.apply_with_state(p, state, x, train=train)
        return jnp.sum(jnp.sin(y)), (y, new_state)

    (_, (y, new_state)), (gp, gx) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(params, jnp.asarray(x))
    tx = torch.from_numpy(x).requires_grad_()
    tmod.train(train)
    ty = tmod(tx)
    torch.sin(ty).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=rtol, atol=atol)
    flat = funcnn.state_dict(gp)
    for k, p in tmod.named_parameters():
        np.testing.assert_allclose(flat[k], p.grad.numpy(), rtol=rtol, atol=atol, err_msg=k)
    tmod.zero_grad()
    return new_state


@pytest.mark.parametrize(
    "make, make_torch, dim, shape",
    [
        (lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4), 0, (2, 3)),
        (lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4), None, (2, 3)),
        (lambda: nn.Conv2d(2, 3, 2), lambda: torch.nn.Conv2d(2, 3, 2), 1, (2, 2, 4, 4)),
        (lambda: nn.Conv1d(2, 3, 3), lambda: torch.nn.Conv1d(2, 3, 3), -1, (2, 2, 5)),
        (lambda: nn.Conv1d(2, 3, 3, bias=False), lambda: torch.nn.Conv1d(2, 3, 3, bias=False), -2, (2, 2, 5)),
    ],
    ids=["linear-dim0", "linear-dimNone", "conv2d-dim1", "conv1d-dim-1-whole", "conv1d-dim-2"],
)
def test_weight_norm_matches_torch(make, make_torch, dim, shape) -> None:
    torch.manual_seed(0)
    tmod = tp.weight_norm(make_torch(), dim=dim)
    model = weight_norm(make(), dim=dim)
    # init follows torch's rule: g = ||v|| so the weight starts unchanged
    mine = model.init(jax.random.key(0))
    sd = funcnn.state_dict(mine)
    assert list(sd) == list(tmod.state_dict())
    assert all(sd[k].shape == tuple(v.shape) for k, v in tmod.state_dict().items())
    wn = mine["parametrizations"]["weight"]
    w = model.module.init(jax.random.key(0))["weight"]
    np.testing.assert_allclose(model._weight(wn, {}, False)[0], w, rtol=1e-6, atol=1e-7)
    # torch's weights, moved off g = ||v|| so that g matters
    with torch.no_grad():
        tmod.parametrizations.weight.original0.mul_(1.5).add_(0.1)
    params, state = funcnn.load_state_dict(model, tmod.state_dict(), strict=True)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _grads_match(model, tmod, params, state, x, train=False)
    jitted = jax.jit(model.apply)(params, jnp.asarray(x))
    np.testing.assert_allclose(jitted, model.apply(params, jnp.asarray(x)), rtol=1e-6, atol=1e-7)
    back = tp.weight_norm(make_torch(), dim=dim)
    back.load_state_dict({k: torch.from_numpy(v) for k, v in funcnn.state_dict(params).items()}, strict=True)


def test_weight_norm_of_an_lstm_hidden_weight_and_stacked_parametrizations() -> None:
    torch.manual_seed(0)
    tmod = tp.weight_norm(tp.weight_norm(torch.nn.LSTM(3, 4), name="weight_hh_l0"), name="weight_ih_l0", dim=None)
    model = weight_norm(weight_norm(nn.LSTM(3, 4), name="weight_hh_l0"), name="weight_ih_l0", dim=None)
    assert sorted(funcnn.state_dict(model.init(jax.random.key(0)))) == sorted(tmod.state_dict())
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    x = np.random.default_rng(1).standard_normal((5, 2, 3)).astype(np.float32)

    def loss(p):
        return jnp.sum(jnp.sin(model.apply(p, jnp.asarray(x))[0]))

    grads = jax.grad(loss)(params)
    torch.sin(tmod(torch.from_numpy(x))[0]).sum().backward()
    flat = funcnn.state_dict(grads)
    for k, p in tmod.named_parameters():
        np.testing.assert_allclose(flat[k], p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)


@pytest.mark.parametrize(
    "make, make_torch, kwargs, shape",
    [
        (lambda: nn.Linear(3, 5), lambda: torch.nn.Linear(3, 5), {}, (2, 3)),
        (
            lambda: nn.Conv2d(2, 3, 2),
            lambda: torch.nn.Conv2d(2, 3, 2),
            {"n_power_iterations": 3, "eps": 1e-6},
            (2, 2, 4, 4),
        ),
        (lambda: nn.ConvTranspose2d(3, 2, 2), lambda: torch.nn.ConvTranspose2d(3, 2, 2), {}, (1, 3, 3, 3)),
        (lambda: nn.Conv1d(2, 4, 2), lambda: torch.nn.Conv1d(2, 4, 2), {"dim": 2}, (2, 2, 5)),
    ],
    ids=["linear", "conv2d-3iters-eps", "convtranspose2d-dim1", "conv1d-dim2"],
)
def test_spectral_norm_matches_torch_in_train_and_eval(make, make_torch, kwargs, shape) -> None:
    torch.manual_seed(0)
    tmod = tp.spectral_norm(make_torch(), **kwargs)
    model = spectral_norm(make(), **kwargs)
    sd = funcnn.state_dict(model.init(jax.random.key(0)), model.init_state())
    assert sorted(sd) == sorted(tmod.state_dict())
    assert all(sd[k].shape == tuple(v.shape) for k, v in tmod.state_dict().items())
    params, state = funcnn.load_state_dict(model, tmod.state_dict(), strict=True)
    rng = np.random.default_rng(0)
    for _ in range(3):  # training steps: the power iteration advances _u/_v like torch's
        x = rng.standard_normal(shape).astype(np.float32)
        state = _grads_match(model, tmod, params, state, x, train=True, rtol=1e-4, atol=1e-5)
        buffers = funcnn.state_dict({}, state)
        for k, v in tmod.named_buffers():
            np.testing.assert_allclose(buffers[k], v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    # evaluation: no iteration, buffers unchanged
    x = rng.standard_normal(shape).astype(np.float32)
    new_state = _grads_match(model, tmod, params, state, x, train=False, rtol=1e-4, atol=1e-5)
    for a, b in zip(jax.tree.leaves(new_state), jax.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)
    jit_y, jit_state = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x, train=True))(
        params, state, jnp.asarray(x)
    )
    eager_y, eager_state = model.apply_with_state(params, state, jnp.asarray(x), train=True)
    np.testing.assert_allclose(jit_y, eager_y, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(jit_state), jax.tree.leaves(eager_state)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    back = tp.spectral_norm(make_torch(), **kwargs)
    back.load_state_dict({k: torch.from_numpy(v) for k, v in funcnn.state_dict(params, state).items()}, strict=True)


def test_spectral_norm_init_state_and_1d_weights() -> None:
    model = spectral_norm(nn.Linear(6, 4))
    state = model.init_state()
    u, v = state["parametrizations"]["weight"]["0"]["_u"], state["parametrizations"]["weight"]["0"]["_v"]
    np.testing.assert_allclose([jnp.linalg.norm(u), jnp.linalg.norm(v)], [1.0, 1.0], rtol=1e-6)
    # many training steps converge to the true largest singular value
    params = model.init(jax.random.key(0))
    for _ in range(30):
        _, state = model.apply_with_state(params, state, jnp.ones((1, 6)), train=True)
    w = params["parametrizations"]["weight"]["original"]
    normed, _ = model._weight(params["parametrizations"]["weight"], state["parametrizations"]["weight"], False)
    np.testing.assert_allclose(np.linalg.svd(np.asarray(normed), compute_uv=False)[0], 1.0, rtol=1e-4)
    assert np.linalg.svd(np.asarray(w), compute_uv=False)[0] > 0.5
    with pytest.raises(TypeError, match=r"SpectralNorm has buffers"):
        model.apply(params, jnp.ones((1, 6)))
    # a 1-D parameter is simply normalized, with no buffers (as torch)
    torch.manual_seed(0)
    tmod = tp.spectral_norm(torch.nn.LayerNorm(4), name="bias")
    layer = spectral_norm(nn.LayerNorm(4), name="bias")
    assert not layer.has_state and layer.init_state() == {}
    params, _ = funcnn.load_state_dict(layer, tmod.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    _grads_match(layer, tmod, params, {}, x, train=False)


def test_parametrization_errors_and_repr() -> None:
    with pytest.raises(
        ValueError,
        match=r"weight_norm: Linear has no parameter 'kernel'; its own parameters are \['weight', 'bias'\] \(wrap the child that owns the parameter\)",
    ):
        weight_norm(nn.Linear(2, 3), name="kernel")
    with pytest.raises(
        ValueError, match=r"spectral_norm: Sequential has no parameter 'weight'; its own parameters are \[\]"
    ):
        spectral_norm(nn.Sequential(nn.Linear(2, 3)))
    with pytest.raises(
        ValueError,
        match=r"weight_norm: `dim` must be None or an axis of 'weight' \(shape \(3, 2\)\), i.e. in \[-2, 1\], got 2",
    ):
        weight_norm(nn.Linear(2, 3), dim=2)
    with pytest.raises(ValueError, match=r"spectral_norm: `n_power_iterations` must be a positive integer, got 0"):
        spectral_norm(nn.Linear(2, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match=r"spectral_norm: `eps` must be a positive number, got -1.0"):
        spectral_norm(nn.Linear(2, 3), eps=-1.0)
    with pytest.raises(
        ValueError,
        match=r"spectral_norm: `dim` must be an axis of 'weight' \(shape \(3, 2\)\), i.e. in \[-2, 1\], got 5",
    ):
        spectral_norm(nn.Linear(2, 3), dim=5)
    with pytest.raises(TypeError, match=r"weight_norm: `module` must be a funcnn.nn.Module, got function"):
        weight_norm(lambda x: x)
    assert (
        repr(weight_norm(nn.Linear(2, 3)))
        == "WeightNorm(\n  Linear(in_features=2, out_features=3, bias=True)\n  name='weight', dim=0\n)"
    )
