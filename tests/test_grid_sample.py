"""`F.grid_sample` and `F.affine_grid` against torch: values and gradients for input, grid and theta.

Grids reach past [-1, 1] so every padding mode's clamping and mirroring is exercised.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from jax.test_util import check_grads

import funcnn.nn.functional as F

torch.set_num_threads(1)
TF = torch.nn.functional

_CONFIGS = [
    (dims, mode, pad, ac)
    for dims, mode, pad, ac in itertools.product(
        (2, 3), ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True)
    )
    if not (dims == 3 and mode == "bicubic")
    # Nearest passes no gradient to the grid: a few of its padding rules suffice.
    and (mode != "nearest" or (pad, ac) in (("zeros", False), ("border", True), ("reflection", dims == 3)))
]


def _inputs(dims: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    xs, gs = ((2, 3, 4, 5), (2, 3, 2, 2)) if dims == 2 else ((2, 2, 3, 4, 5), (2, 2, 3, 2, 3))
    return g.standard_normal(xs).astype(np.float32), g.uniform(-1.6, 1.6, gs).astype(np.float32)


@pytest.mark.parametrize(("dims", "mode", "pad", "ac"), _CONFIGS, ids=lambda v: str(v))
def test_grid_sample_matches_torch_forward_and_backward(dims: int, mode: str, pad: str, ac: bool) -> None:
    x, grid = _inputs(dims)
    tx, tg = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(grid).requires_grad_(True)
    ty = TF.grid_sample(tx, tg, mode=mode, padding_mode=pad, align_corners=ac)
    ct = np.random.default_rng(1).standard_normal(ty.shape).astype(np.float32)
    (ty * torch.from_numpy(ct)).sum().backward()

    def f(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=ac)

    y, dx, dg = jax.jit(lambda a, b, c: (f(a, b), *jax.vjp(f, a, b)[1](c)))(x, grid, ct)
    np.testing.assert_allclose(np.asarray(y), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dx), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dg), tg.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("dims", "mode", "pad"), [(2, "bilinear", "reflection"), (2, "bicubic", "border"), (3, "bilinear", "zeros")]
)
def test_grid_sample_check_grads_float64(dims: int, mode: str, pad: str) -> None:
    x, grid = _inputs(dims, seed=2)
    with jax.enable_x64(True):
        f = jax.jit(
            lambda a, b: jnp.sum(jnp.sin(F.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=False)))
        )
        check_grads(
            f,
            (jnp.asarray(x, jnp.float64), jnp.asarray(grid, jnp.float64)),
            order=1,
            modes=["rev"],
            atol=1e-4,
            rtol=1e-4,
        )


def test_grid_sample_vmap_matches_loop() -> None:
    x, grid = _inputs(2)
    xs, gs = jnp.stack([x, x[::-1]]), jnp.stack([grid, -grid])
    f = lambda a, b: F.grid_sample(a, b, mode="bicubic", padding_mode="reflection", align_corners=True)  # noqa: E731
    batched = jax.jit(jax.vmap(f))(xs, gs)
    for i in range(2):
        np.testing.assert_allclose(batched[i], f(xs[i], gs[i]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("size", "ac"), [((2, 3, 4, 5), False), ((2, 1, 3, 1), True), ((2, 3, 2, 4, 5), False), ((1, 2, 3, 1, 2), True)]
)
def test_affine_grid_matches_torch_with_theta_gradient(size: tuple[int, ...], ac: bool) -> None:
    dims = len(size) - 2
    theta = np.random.default_rng(3).standard_normal((size[0], dims, dims + 1)).astype(np.float32)
    tt = torch.from_numpy(theta).requires_grad_(True)
    with pytest.warns(UserWarning) if ac and min(size[2:]) == 1 else _no_warning():
        want = TF.affine_grid(tt, size, align_corners=ac)
    ct = np.random.default_rng(4).standard_normal(want.shape).astype(np.float32)
    (want * torch.from_numpy(ct)).sum().backward()
    got, vjp = jax.vjp(lambda t: F.affine_grid(t, size, align_corners=ac), jnp.asarray(theta))
    np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(ct))[0]), tt.grad.numpy(), rtol=1e-5, atol=1e-5)


class _no_warning:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_affine_identity_round_trip_through_grid_sample() -> None:
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5)).astype(np.float32)
    theta = np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1))
    for ac in (False, True):
        y = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=ac), align_corners=ac)
        np.testing.assert_allclose(np.asarray(y), x, rtol=1e-5, atol=1e-5)
