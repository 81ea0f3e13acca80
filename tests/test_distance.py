"""Functional distances, `normalize`, `one_hot`, `gumbel_softmax` and `bilinear` against torch.

The layers (`CosineSimilarity`, `PairwiseDistance`, `Bilinear`) run through the layer
harness; here are the ops without a layer and the flags the layers do not expose.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from jax.test_util import check_grads

import funcnn.nn.functional as F
from funcnn.nn.functional.gumbel import _gumbel_softmax_from_noise

torch.set_num_threads(1)
TF = torch.nn.functional
INF = float("inf")


def _value_and_grad(f, tf, *xs: np.ndarray, seed: int = 1):
    """``(ours, torch's)`` outputs and gradients of ``sum(out * cotangent)``."""
    ts = [torch.from_numpy(x).requires_grad_(True) for x in xs]
    tout = tf(*ts)
    ct = np.random.default_rng(seed).standard_normal(tuple(tout.shape)).astype(np.float32)
    (tout * torch.from_numpy(ct)).sum().backward()
    out, vjp = jax.vjp(f, *[jnp.asarray(x) for x in xs])
    grads = vjp(jnp.asarray(ct))
    # torch leaves .grad None where the output does not depend on an input (p = 0).
    want = [tout.detach().numpy()] + [np.zeros(x.shape) if t.grad is None else t.grad.numpy() for x, t in zip(xs, ts)]
    for a, b in zip([out, *grads], want):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, INF, 0.0])
def test_pdist_matches_torch(p: float) -> None:
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    _value_and_grad(lambda v: F.pdist(v, p), lambda v: TF.pdist(v, p), x)


def test_pdist_repeated_rows_have_zero_gradient_like_torch() -> None:
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]], np.float32)
    _value_and_grad(F.pdist, TF.pdist, x)


@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, 0), (3.0, -1), (INF, 1)])
def test_normalize_matches_torch(p: float, dim: int) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4, 2)).astype(np.float32)
    x[1, :, 0] = 0.0 if dim == 1 else x[1, :, 0]  # a zero vector: clamped by eps, gradient stays finite
    _value_and_grad(lambda v: F.normalize(v, p, dim), lambda v: TF.normalize(v, p, dim), x)


@pytest.mark.parametrize(
    ("p", "keepdim", "shapes"),
    [(2.0, False, ((3, 4), (4,))), (-INF, True, ((2, 3), (2, 3))), (0.0, False, ((2, 3), (2, 3)))],
)
def test_pairwise_distance_flags_match_torch(p: float, keepdim: bool, shapes) -> None:
    g = np.random.default_rng(2)
    x1, x2 = (g.standard_normal(s).astype(np.float32) for s in shapes)
    _value_and_grad(
        lambda a, b: F.pairwise_distance(a, b, p, 1e-6, keepdim),
        lambda a, b: TF.pairwise_distance(a, b, p, 1e-6, keepdim),
        x1,
        x2,
    )


def test_cosine_similarity_clamps_each_norm_not_their_product() -> None:
    # ||x1|| * ||x2|| = 1.4e-4 < eps, but each norm is above eps: no clamping at all.
    x1, x2 = np.array([[1e-2, 0.0]], np.float32), np.array([[1e-2, 1e-2]], np.float32)
    _value_and_grad(
        lambda a, b: F.cosine_similarity(a, b, 1, 1e-3), lambda a, b: TF.cosine_similarity(a, b, 1, 1e-3), x1, x2
    )
    np.testing.assert_allclose(np.asarray(F.cosine_similarity(x1, x2, 1, 1e-3)), [2**-0.5], rtol=1e-6)


def test_norm_ops_check_grads_float64() -> None:
    x = np.random.default_rng(3).standard_normal((4, 3))
    with jax.enable_x64(True):
        for f in (
            lambda v: F.pdist(v, 1.5),
            lambda v: F.normalize(v, 3.0),
            lambda v: F.pairwise_distance(v, v[::-1], 2.0),
        ):
            check_grads(jax.jit(f), (jnp.asarray(x),), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)


def test_one_hot_matches_torch_and_infers_classes_eagerly() -> None:
    t = np.array([[0, 3], [2, 1]])
    want = TF.one_hot(torch.from_numpy(t)).numpy()
    np.testing.assert_array_equal(np.asarray(F.one_hot(t)), want)
    np.testing.assert_array_equal(np.asarray(F.one_hot(t, 6)), TF.one_hot(torch.from_numpy(t), 6).numpy())
    jitted = jax.jit(lambda v: F.one_hot(v, num_classes=5))(jnp.asarray(t))
    np.testing.assert_array_equal(np.asarray(jitted), TF.one_hot(torch.from_numpy(t), 5).numpy())


def test_one_hot_without_num_classes_under_jit_says_to_pass_it() -> None:
    with pytest.raises(
        ValueError, match=r"one_hot: num_classes=-1 .* not known inside jit.*pass num_classes explicitly"
    ):
        jax.jit(F.one_hot)(jnp.array([0, 1]))


@pytest.mark.parametrize(("hard", "tau", "dim"), [(False, 1.0, -1), (True, 0.5, -1), (True, 2.0, 0), (False, 0.3, 1)])
def test_gumbel_softmax_is_torchs_formula_on_torchs_noise(hard: bool, tau: float, dim: int) -> None:
    logits = np.random.default_rng(4).standard_normal((3, 4, 5)).astype(np.float32)
    tl = torch.from_numpy(logits)
    torch.manual_seed(7)
    noise = -torch.empty_like(tl).exponential_().log()  # the draw gumbel_softmax makes first
    torch.manual_seed(7)
    want = TF.gumbel_softmax(tl, tau=tau, hard=hard, dim=dim).numpy()
    got = np.asarray(_gumbel_softmax_from_noise(jnp.asarray(logits), jnp.asarray(noise.numpy()), tau, hard, dim))
    if hard:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_gumbel_softmax_samples_the_softmax_distribution() -> None:
    logits = jnp.log(jnp.array([0.1, 0.2, 0.7]))
    keys = jax.random.split(jax.random.key(0), 4000)
    hard = jax.jit(jax.vmap(lambda k: F.gumbel_softmax(logits, hard=True, key=k)))(keys)
    assert set(np.unique(np.asarray(hard))) <= {0.0, 1.0}
    np.testing.assert_array_equal(np.asarray(hard.sum(-1)), 1.0)
    np.testing.assert_allclose(np.asarray(hard.mean(0)), [0.1, 0.2, 0.7], atol=0.03)
    soft = jax.jit(jax.vmap(lambda k: F.gumbel_softmax(logits, tau=0.05, key=k)))(keys)
    assert float(soft.max(-1).mean()) > 0.95  # low temperature: nearly one-hot
    same = F.gumbel_softmax(logits, key=jax.random.key(3)), F.gumbel_softmax(logits, key=jax.random.key(3))
    np.testing.assert_array_equal(np.asarray(same[0]), np.asarray(same[1]))


def test_gumbel_softmax_hard_gradient_is_the_soft_gradient() -> None:
    logits = jnp.asarray(np.random.default_rng(5).standard_normal((2, 6)), jnp.float32)
    w = jnp.arange(6.0)[None, :]
    key = jax.random.key(1)
    g_hard = jax.grad(lambda v: jnp.sum(F.gumbel_softmax(v, tau=0.7, hard=True, key=key) * w))(logits)
    g_soft = jax.grad(lambda v: jnp.sum(F.gumbel_softmax(v, tau=0.7, hard=False, key=key) * w))(logits)
    np.testing.assert_allclose(np.asarray(g_hard), np.asarray(g_soft), rtol=1e-6, atol=1e-7)
    assert float(jnp.abs(g_hard).sum()) > 0


def test_gumbel_softmax_eps_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match=r"`eps` is deprecated"):
        F.gumbel_softmax(jnp.zeros(3), eps=1e-5, key=jax.random.key(0))


def test_bilinear_functional_matches_torch() -> None:
    g = np.random.default_rng(6)
    x1, x2 = g.standard_normal((2, 3, 4)).astype(np.float32), g.standard_normal((2, 3, 5)).astype(np.float32)
    w, b = g.standard_normal((6, 4, 5)).astype(np.float32), g.standard_normal(6).astype(np.float32)
    _value_and_grad(F.bilinear, TF.bilinear, x1, x2, w, b)
