"""`F.grouped_mm` against ``torch.nn.functional.grouped_mm`` (torch's CPU kernel), its three forms and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F

OFFS = np.array([2, 5, 5, 8], np.int32)  # an empty group, and a last group ending before the rows do


def _t(x):
    return torch.from_numpy(np.array(x))


def test_rows_by_group_match_torch_and_rows_past_the_last_group_are_zero(rng) -> None:
    a = rng.standard_normal((10, 4)).astype(np.float32)
    b = rng.standard_normal((4, 4, 8)).astype(np.float32)
    ours = F.grouped_mm(a, b, offs=OFFS)
    theirs = torch.nn.functional.grouped_mm(_t(a), _t(b), offs=_t(OFFS)).numpy()
    np.testing.assert_allclose(np.asarray(ours)[:8], theirs[:8], rtol=1e-5, atol=1e-5)
    assert not np.asarray(ours)[8:].any()  # torch leaves these rows uninitialised


def test_shared_dimension_groups_match_torch(rng) -> None:
    a = rng.standard_normal((4, 8)).astype(np.float32)
    b = rng.standard_normal((8, 4)).astype(np.float32)
    offs = np.array([4, 8], np.int32)
    ours = F.grouped_mm(a, b, offs=offs)
    theirs = torch.nn.functional.grouped_mm(_t(a), _t(b), offs=_t(offs)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_batched_form_matches_torch(rng) -> None:
    a = rng.standard_normal((3, 4, 8)).astype(np.float32)
    b = rng.standard_normal((3, 8, 4)).astype(np.float32)
    theirs = torch.nn.functional.grouped_mm(_t(a), _t(b)).numpy()
    np.testing.assert_allclose(F.grouped_mm(a, b), theirs, rtol=1e-5, atol=1e-5)


def test_gradients_match_per_group_matmuls_under_jit_with_traced_offsets(rng) -> None:
    # torch's CPU kernel has no backward: the reference is the same products written per group.
    a = rng.standard_normal((10, 4)).astype(np.float32)
    b = rng.standard_normal((4, 4, 8)).astype(np.float32)
    g = rng.standard_normal((10, 8)).astype(np.float32)
    f = jax.jit(lambda a, b, offs: jnp.vdot(F.grouped_mm(a, b, offs=offs), g))
    da, db = jax.grad(f, argnums=(0, 1))(jnp.asarray(a), jnp.asarray(b), jnp.asarray(OFFS))
    ta, tb = _t(a).requires_grad_(), _t(b).requires_grad_()
    start, total = 0, 0
    for i, end in enumerate(OFFS):
        total = total + (ta[start:end] @ tb[i] * _t(g)[start:end]).sum()
        start = end
    total.backward()
    np.testing.assert_allclose(da, ta.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "a_shape, b_shape, kwargs, exc, match",
    [
        (
            (10, 4),
            (4, 4, 8),
            {},
            ValueError,
            r"grouped_mm: a 2-D `mat_a` \(10, 4\) with a 3-D `mat_b` \(4, 4, 8\) needs `offs`",
        ),
        (
            (10, 4),
            (4, 5, 8),
            {"offs": OFFS},
            ValueError,
            r"grouped_mm: `mat_a` \(10, 4\) has 4 columns but each group of `mat_b` \(4, 5, 8\) has 5 rows",
        ),
        (
            (10, 4),
            (3, 4, 8),
            {"offs": OFFS},
            ValueError,
            r"grouped_mm: `offs` must be a 1-D array of 3 group ends .* got shape \(4,\)",
        ),
        (
            (10, 4),
            (4, 4, 8),
            {"offs": OFFS.astype(np.float32)},
            TypeError,
            r"grouped_mm: `offs` must hold integers \(torch: int32\), got dtype float32",
        ),
        (
            (3, 4, 8),
            (3, 8, 4),
            {"offs": OFFS},
            ValueError,
            r"grouped_mm: two 3-D operands enumerate their groups themselves: pass offs=None",
        ),
        (
            (3, 4, 8),
            (2, 8, 4),
            {},
            ValueError,
            r"grouped_mm: 3-D operands must be \(G, M, K\) and \(G, K, N\), got \(3, 4, 8\) and \(2, 8, 4\)",
        ),
        ((3, 4, 8), (8, 4), {"offs": OFFS}, ValueError, r"grouped_mm: expected \(M, K\) x \(G, K, N\) with offs"),
        ((4, 8), (8, 4), {}, ValueError, r"grouped_mm: two 2-D operands \(4, 8\) and \(8, 4\) need `offs`"),
        ((3, 4, 8), (3, 8, 4), {"bias": np.zeros(4)}, ValueError, r"grouped_mm: `bias` is not supported"),
    ],
)
def test_errors(a_shape, b_shape, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        F.grouped_mm(np.zeros(a_shape, np.float32), np.zeros(b_shape, np.float32), **kwargs)
