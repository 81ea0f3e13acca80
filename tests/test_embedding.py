"""Embedding: init, index checks (eager and under jit), padding gradients, unsupported options."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn

KEY = jax.random.key(0)


def test_init_is_standard_normal_with_the_padding_row_zeroed() -> None:
    emb = nn.Embedding(400, 50, padding_idx=-3)
    assert emb.padding_idx == 397
    w = np.asarray(emb.init(KEY)["weight"])
    assert w.shape == (400, 50) and w.dtype == np.float32
    np.testing.assert_array_equal(w[397], 0)
    rest = np.delete(w, 397, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02
    np.testing.assert_array_equal(w, emb.init(KEY)["weight"])


def test_lookup_of_any_index_shape(rng) -> None:
    emb = nn.Embedding(6, 2)
    params = emb.init(KEY)
    idx = rng.integers(0, 6, (2, 3, 4))
    y = emb.apply(params, idx)
    np.testing.assert_array_equal(y, np.asarray(params["weight"])[idx])
    np.testing.assert_array_equal(emb.apply(params, jnp.asarray(idx, jnp.int8)), y)


def test_padding_row_gets_zero_gradient_but_is_read_as_stored() -> None:
    w = jnp.arange(12.0).reshape(4, 3)
    idx = jnp.array([[1, 1, 3], [0, 1, 2]])
    out = F.embedding(idx, w, padding_idx=1)
    np.testing.assert_array_equal(out[0, 0], w[1])
    g = jax.grad(lambda w: (F.embedding(idx, w, padding_idx=1) * jnp.arange(3.0)).sum())(w)
    tw = torch.tensor(np.asarray(w), requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor(np.asarray(idx)), tw, padding_idx=1) * torch.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(g, tw.grad.numpy())
    np.testing.assert_array_equal(g[1], 0)


def test_negative_padding_idx_counts_from_the_end_in_the_functional_form() -> None:
    w = jnp.ones((4, 2))
    g = jax.grad(lambda w: F.embedding(jnp.array([3, 0]), w, padding_idx=-1).sum())(w)
    np.testing.assert_array_equal(g[:, 0], [1, 0, 0, 0])


@pytest.mark.parametrize("bad", [4, 10, -1])
def test_out_of_range_index_raises_eagerly(bad: int) -> None:
    emb = nn.Embedding(4, 2)
    with pytest.raises(ValueError, match=rf"Embedding\(4, 2\): index {bad} is out of range for num_embeddings=4; indices must lie in \[0, 3\]"):
        emb.apply(emb.init(KEY), jnp.array([0, bad, 1]))
    with pytest.raises(ValueError, match=rf"embedding: index {bad} is out of range for num_embeddings=4"):
        F.embedding(np.array([[bad]]), jnp.ones((4, 2)))


def test_out_of_range_index_under_jit_gives_nan_rows_and_no_gradient() -> None:
    w = jnp.arange(8.0).reshape(4, 2)
    f = jax.jit(lambda w, i: F.embedding(i, w))
    out = np.asarray(f(w, jnp.array([1, 4, -1, 3])))
    np.testing.assert_array_equal(out[[0, 3]], np.asarray(w)[[1, 3]])
    assert np.isnan(out[[1, 2]]).all()
    g = jax.jit(jax.grad(lambda w, i: F.embedding(i, w).sum()))(w, jnp.array([1, 4, -1]))
    np.testing.assert_array_equal(g, [[0, 0], [1, 1], [0, 0], [0, 0]])


def test_vmap_over_indices(rng) -> None:
    emb = nn.Embedding(5, 3)
    params = emb.init(KEY)
    idx = jnp.asarray(rng.integers(0, 5, (4, 2)))
    np.testing.assert_array_equal(jax.vmap(lambda i: emb.apply(params, i))(idx), emb.apply(params, idx))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bool_])
def test_non_integer_indices_are_a_type_error(dtype) -> None:
    emb = nn.Embedding(4, 2)
    name = jnp.dtype(dtype).name
    with pytest.raises(TypeError, match=rf"Embedding\(4, 2\): expected integer indices, got dtype {name}; convert them with `x.astype\(jnp.int32\)`"):
        emb.apply(emb.init(KEY), jnp.zeros(3, dtype))
    with pytest.raises(TypeError, match=rf"embedding: expected integer indices, got dtype {name}"):
        F.embedding(jnp.zeros(3, dtype), jnp.ones((4, 2)))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: nn.Embedding(4, 2, max_norm=1.0), ValueError, r"Embedding: `max_norm` \(=1.0\) is not supported: PyTorch renormalises rows of the weight in place"),
        (lambda: nn.Embedding(4, 2, scale_grad_by_freq=True), ValueError, r"Embedding: `scale_grad_by_freq=True` is not supported; pass scale_grad_by_freq=False"),
        (lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), max_norm=2.0), ValueError, r"embedding: `max_norm` \(=2.0\) is not supported"),
        (lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), scale_grad_by_freq=True), ValueError, r"embedding: `scale_grad_by_freq=True` is not supported"),
        (lambda: nn.Embedding(4, 2, padding_idx=4), ValueError, r"Embedding: `padding_idx` \(=4\) must be within \[-4, 4\) for num_embeddings=4"),
        (lambda: nn.Embedding(4, 2, padding_idx=-5), ValueError, r"Embedding: `padding_idx` \(=-5\) must be within \[-4, 4\)"),
        (lambda: nn.Embedding(4, 2, padding_idx=1.0), TypeError, r"Embedding: `padding_idx` must be an int or None, got float"),
        (lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), padding_idx=7), ValueError, r"embedding: `padding_idx` \(=7\) must be within \[-4, 4\)"),
        (lambda: nn.Embedding(0, 2), ValueError, r"Embedding: `num_embeddings` must be a positive integer, got 0"),
        (lambda: nn.Embedding(4, -1), ValueError, r"Embedding: `embedding_dim` must be a positive integer, got -1"),
        (lambda: F.embedding(jnp.array([0]), jnp.ones(4)), ValueError, r"embedding: expected a 2-D weight of shape \(num_embeddings, embedding_dim\), got shape \(4,\)"),
    ],
    ids=["max_norm", "scale_grad", "f-max_norm", "f-scale_grad", "pad-high", "pad-low", "pad-type", "f-pad", "num", "dim", "f-weight"],
)
def test_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize(
    "args, kwargs",
    [((10, 3), {}), ((10, 3), {"padding_idx": -1}), ((5, 2), {"sparse": True}), ((5, 2), {"padding_idx": 0, "sparse": True})],
    ids=["plain", "padding", "sparse", "both"],
)
def test_repr_matches_torch(args, kwargs) -> None:
    assert repr(nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))
