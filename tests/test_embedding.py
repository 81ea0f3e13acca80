"""Embedding and EmbeddingBag: init, index checks (eager and under jit), padding gradients, max_norm, bags, errors."""

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
    g = jax.grad(lambda w: (F.embedding(idx, w, padding_idx=1) * jnp.arange(3.0)[None, None, :]).sum())(w)
    tw = torch.tensor(np.asarray(w), requires_grad=True)
    (
        torch.nn.functional.embedding(torch.tensor(np.asarray(idx)), tw, padding_idx=1) * torch.arange(3.0)
    ).sum().backward()
    np.testing.assert_array_equal(g, tw.grad.numpy())
    np.testing.assert_array_equal(g[1], 0)


def test_negative_padding_idx_counts_from_the_end_in_the_functional_form() -> None:
    w = jnp.ones((4, 2))
    g = jax.grad(lambda w: F.embedding(jnp.array([3, 0]), w, padding_idx=-1).sum())(w)
    np.testing.assert_array_equal(g[:, 0], [1, 0, 0, 0])


@pytest.mark.parametrize("bad", [4, 10, -1])
def test_out_of_range_index_raises_eagerly(bad: int) -> None:
    emb = nn.Embedding(4, 2)
    with pytest.raises(
        ValueError,
        match=rf"Embedding\(4, 2\): index {bad} is out of range for num_embeddings=4; indices must lie in \[0, 3\]",
    ):
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
    with pytest.raises(
        TypeError,
        match=rf"Embedding\(4, 2\): expected integer indices, got dtype {name}; convert them with `x.astype\(jnp.int32\)`",
    ):
        emb.apply(emb.init(KEY), jnp.zeros(3, dtype))
    with pytest.raises(TypeError, match=rf"embedding: expected integer indices, got dtype {name}"):
        F.embedding(jnp.zeros(3, dtype), jnp.ones((4, 2)))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: nn.Embedding(4, 2, max_norm=-1.0),
            ValueError,
            r"Embedding: `max_norm` must be a positive number or None, got -1.0",
        ),
        (
            lambda: nn.Embedding(4, 2, max_norm=1.0, norm_type=0),
            ValueError,
            r"Embedding: `norm_type` must be a positive number, got 0",
        ),
        (
            lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), max_norm="2"),
            ValueError,
            r"embedding: `max_norm` must be a positive number or None, got '2'",
        ),
        (
            lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), max_norm=1.0, norm_type=-2.0),
            ValueError,
            r"embedding: `norm_type` must be a positive number, got -2.0",
        ),
        (
            lambda: nn.Embedding(4, 2, padding_idx=4),
            ValueError,
            r"Embedding: `padding_idx` \(=4\) must be within \[-4, 4\) for num_embeddings=4",
        ),
        (
            lambda: nn.Embedding(4, 2, padding_idx=-5),
            ValueError,
            r"Embedding: `padding_idx` \(=-5\) must be within \[-4, 4\)",
        ),
        (
            lambda: nn.Embedding(4, 2, padding_idx=1.0),
            TypeError,
            r"Embedding: `padding_idx` must be an int or None, got float",
        ),
        (
            lambda: F.embedding(jnp.array([0]), jnp.ones((4, 2)), padding_idx=7),
            ValueError,
            r"embedding: `padding_idx` \(=7\) must be within \[-4, 4\)",
        ),
        (lambda: nn.Embedding(0, 2), ValueError, r"Embedding: `num_embeddings` must be a positive integer, got 0"),
        (lambda: nn.Embedding(4, -1), ValueError, r"Embedding: `embedding_dim` must be a positive integer, got -1"),
        (
            lambda: F.embedding(jnp.array([0]), jnp.ones(4)),
            ValueError,
            r"embedding: expected a 2-D weight of shape \(num_embeddings, embedding_dim\), got shape \(4,\)",
        ),
    ],
    ids=[
        "max_norm",
        "norm_type",
        "f-max_norm",
        "f-norm_type",
        "pad-high",
        "pad-low",
        "pad-type",
        "f-pad",
        "num",
        "dim",
        "f-weight",
    ],
)
def test_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((10, 3), {}),
        ((10, 3), {"padding_idx": -1}),
        ((5, 2), {"sparse": True}),
        ((5, 2), {"padding_idx": 0, "sparse": True}),
        ((5, 2), {"max_norm": 1.5, "norm_type": 1.0, "scale_grad_by_freq": True}),
    ],
    ids=["plain", "padding", "sparse", "both", "max_norm-freq"],
)
def test_repr_matches_torch(args, kwargs) -> None:
    assert repr(nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))


# ----------------------------------------------------------------------------- max_norm


def test_max_norm_leaves_params_unchanged_and_matches_torch_output_and_gradient(rng) -> None:
    w = (3 * rng.standard_normal((6, 4))).astype(np.float32)
    idx = np.array([[1, 2, 2], [5, 0, 1]])
    temb = torch.nn.Embedding(6, 4, max_norm=1.0)
    with torch.no_grad():
        temb.weight.copy_(torch.from_numpy(w))
    emb = nn.Embedding(6, 4, max_norm=1.0)
    params = {"weight": jnp.asarray(w)}
    cot = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y, vjp = jax.vjp(lambda p: emb.apply(p, jnp.asarray(idx)), params)
    (g,) = vjp(jnp.asarray(cot))
    ty = temb(torch.from_numpy(idx))
    (ty * torch.from_numpy(cot)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g["weight"], temb.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert np.all(np.linalg.norm(np.asarray(y), axis=-1) <= 1.0 + 1e-6)
    # funcnn leaves the table alone; torch has rescaled the looked-up rows in place.
    np.testing.assert_array_equal(params["weight"], w)
    np.testing.assert_allclose(temb.weight.detach().numpy()[1], np.asarray(y)[0, 0], rtol=1e-6)
    np.testing.assert_array_equal(temb.weight.detach().numpy()[3], w[3])  # a row not looked up: unchanged in both


@pytest.mark.parametrize("norm_type", [1.0, 3.0, float("inf")])
def test_max_norm_with_other_norms_matches_torch(norm_type: float, rng) -> None:
    w = (2 * rng.standard_normal((5, 3))).astype(np.float32)
    idx = np.array([0, 1, 2, 3, 4, 4])
    ty = torch.nn.functional.embedding(
        torch.from_numpy(idx), torch.from_numpy(w.copy()), max_norm=0.7, norm_type=norm_type
    )
    y = F.embedding(jnp.asarray(idx), jnp.asarray(w), max_norm=0.7, norm_type=norm_type)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-6, atol=1e-6)


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count() -> None:
    idx = jnp.array([0, 2, 2, 2, 1, 0])
    g = jax.grad(lambda w: F.embedding(idx, w, scale_grad_by_freq=True).sum())(jnp.ones((4, 2)))
    np.testing.assert_array_equal(g[:, 0], [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(
        F.embedding(idx, jnp.eye(4, 2), scale_grad_by_freq=True), F.embedding(idx, jnp.eye(4, 2))
    )


# ------------------------------------------------------------------------- EmbeddingBag


def _torch_bag(w, *args, **kwargs):
    return torch.nn.functional.embedding_bag(*args[:1], torch.from_numpy(w), *args[1:], **kwargs)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch_with_empty_bags_and_padding(mode: str, rng) -> None:
    w = rng.standard_normal((7, 3)).astype(np.float32)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 2, 6])
    for offsets, last in (([0, 2, 2, 5, 7], False), ([0, 2, 2, 5, 7, 9], True)):
        want = torch.nn.functional.embedding_bag(
            torch.from_numpy(idx),
            torch.from_numpy(w),
            torch.tensor(offsets),
            mode=mode,
            padding_idx=2,
            include_last_offset=last,
        )
        got = F.embedding_bag(
            jnp.asarray(idx), jnp.asarray(w), jnp.asarray(offsets), mode=mode, padding_idx=2, include_last_offset=last
        )
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-6)
        assert np.all(np.asarray(got)[1] == 0)  # the empty bag


def test_embedding_bag_under_jit_takes_offsets_as_data() -> None:
    w = jnp.arange(10.0).reshape(5, 2)
    f = jax.jit(lambda idx, off: F.embedding_bag(idx, w, off, mode="sum"))
    idx = jnp.array([0, 1, 2, 3, 4])
    np.testing.assert_array_equal(f(idx, jnp.array([0, 2])), [[2.0, 4.0], [18.0, 21.0]])
    np.testing.assert_array_equal(f(idx, jnp.array([0, 4])), [[12.0, 16.0], [8.0, 9.0]])


def test_embedding_bag_per_sample_weights_gradients_match_torch(rng) -> None:
    w = rng.standard_normal((6, 3)).astype(np.float32)
    idx, off = np.array([[0, 3, 5], [2, 2, 1]]), None
    psw = rng.random((2, 3)).astype(np.float32)
    tw, tp = torch.from_numpy(w.copy()).requires_grad_(), torch.from_numpy(psw.copy()).requires_grad_()
    ty = torch.nn.functional.embedding_bag(
        torch.from_numpy(idx), tw, off, mode="sum", per_sample_weights=tp, padding_idx=5
    )
    cot = rng.standard_normal(ty.shape).astype(np.float32)
    (ty * torch.from_numpy(cot)).sum().backward()
    f = lambda w, p: F.embedding_bag(jnp.asarray(idx), w, mode="sum", per_sample_weights=p, padding_idx=5)  # noqa: E731
    y, vjp = jax.vjp(f, jnp.asarray(w), jnp.asarray(psw))
    gw, gp = vjp(jnp.asarray(cot))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gp, tp.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"mode": "sum", "padding_idx": 1}, {"mode": "max", "max_norm": 1.0}],
    ids=["plain", "sum-padding", "max-max_norm"],
)
def test_embedding_bag_repr_matches_torch(kwargs) -> None:
    assert repr(nn.EmbeddingBag(10, 3, **kwargs)) == repr(torch.nn.EmbeddingBag(10, 3, **kwargs))


_W = jnp.ones((4, 2))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W),
            ValueError,
            r"embedding_bag: a 1-D input needs 1-D `offsets` \(the start of each bag\), got None",
        ),
        (
            lambda: F.embedding_bag(jnp.array([[0, 1]]), _W, jnp.array([0])),
            ValueError,
            r"embedding_bag: a 2-D input \(B, N\) holds one bag per row, so `offsets` must be None",
        ),
        (
            lambda: F.embedding_bag(jnp.zeros((1, 1, 1), int), _W),
            ValueError,
            r"embedding_bag: expected a 1-D input \(with `offsets`\) or a 2-D input \(B, N\), got shape \(1, 1, 1\)",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0, 1]), mode="median"),
            ValueError,
            r"embedding_bag: `mode` must be one of \['sum', 'mean', 'max'\], got 'median'",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0]), per_sample_weights=jnp.ones(2)),
            ValueError,
            r"embedding_bag: `per_sample_weights` is only supported with mode='sum', got mode='mean'",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0]), mode="sum", per_sample_weights=jnp.ones(3)),
            ValueError,
            r"embedding_bag: expected `per_sample_weights` of the input's shape \(2,\), got shape \(3,\)",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0, 1]), include_last_offset=True),
            ValueError,
            r"embedding_bag: with include_last_offset=True the last offset is the end of the last bag and must equal the input's length 2, got offsets\[-1\]=1",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0]), include_last_offset=True),
            ValueError,
            r"embedding_bag: include_last_offset=True needs at least 2 offsets",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0.0])),
            TypeError,
            r"embedding_bag: expected integer indices, got dtype float32",
        ),
        (
            lambda: F.embedding_bag(jnp.array([0, 1]), _W, jnp.array([0]), scale_grad_by_freq=True),
            ValueError,
            r"embedding_bag: scale_grad_by_freq=True is not supported for bags",
        ),
        (
            lambda: nn.EmbeddingBag(4, 2, mode="avg"),
            ValueError,
            r"EmbeddingBag: `mode` must be one of \['sum', 'mean', 'max'\], got 'avg'",
        ),
        (
            lambda: nn.EmbeddingBag(4, 2, scale_grad_by_freq=True),
            ValueError,
            r"EmbeddingBag: scale_grad_by_freq=True is not supported",
        ),
        (
            lambda: nn.EmbeddingBag(4, 2, padding_idx=9),
            ValueError,
            r"EmbeddingBag: `padding_idx` \(=9\) must be within \[-4, 4\)",
        ),
        (
            lambda: nn.EmbeddingBag(4, 2).apply({"weight": _W}, jnp.array([0, 7]), jnp.array([0])),
            ValueError,
            r"EmbeddingBag\(4, 2, mode='mean'\): index 7 is out of range for num_embeddings=4",
        ),
    ],
    ids=[
        "no-offsets",
        "2d-offsets",
        "rank",
        "mode",
        "psw-mode",
        "psw-shape",
        "last-offset",
        "last-offset-short",
        "float-offsets",
        "f-freq",
        "mode-layer",
        "freq-layer",
        "pad-layer",
        "range",
    ],
)
def test_embedding_bag_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()
