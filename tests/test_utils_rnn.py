"""nn.utils.rnn (pad/pack sequences) against torch.nn.utils.rnn, and packed input to the recurrent layers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import funcnn
from funcnn import nn
from funcnn.nn.utils import rnn as R

torch.set_num_threads(1)


def _seqs(lengths, *trailing, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, *trailing)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side) -> None:
    seqs = _seqs([3, 5, 1], 2, 2)
    got = R.pad_sequence(
        [jnp.asarray(s) for s in seqs], batch_first=batch_first, padding_value=-7.5, padding_side=padding_side
    )
    want = trnn.pad_sequence(
        [torch.from_numpy(s) for s in seqs], batch_first=batch_first, padding_value=-7.5, padding_side=padding_side
    )
    np.testing.assert_array_equal(got, want.numpy())
    ints = R.pad_sequence([np.array([1, 2]), np.array([3])])
    assert ints.dtype == jnp.int32 and ints.tolist() == [[1, 3], [2, 0]]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 5]], ids=["sorted", "unsorted"])
def test_pack_and_pad_packed_match_torch_forward_and_backward(batch_first, lengths) -> None:
    enforce_sorted = lengths == sorted(lengths, reverse=True)
    x = np.random.default_rng(1).standard_normal((4, 5, 3) if batch_first else (5, 4, 3)).astype(np.float32)
    packed = R.pack_padded_sequence(
        jnp.asarray(x), np.array(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    tx = torch.from_numpy(x).requires_grad_()
    tpacked = trnn.pack_padded_sequence(
        tx, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    np.testing.assert_array_equal(packed.data, tpacked.data.detach().numpy())
    np.testing.assert_array_equal(packed.batch_sizes, tpacked.batch_sizes.numpy())
    for mine, theirs in (
        (packed.sorted_indices, tpacked.sorted_indices),
        (packed.unsorted_indices, tpacked.unsorted_indices),
    ):
        assert (mine is None and theirs is None) or mine.tolist() == theirs.tolist()
    padded, lens = R.pad_packed_sequence(packed, batch_first=batch_first, padding_value=2.0, total_length=6)
    tpadded, tlens = trnn.pad_packed_sequence(tpacked, batch_first=batch_first, padding_value=2.0, total_length=6)
    np.testing.assert_array_equal(padded, tpadded.detach().numpy())
    assert lens.tolist() == tlens.tolist() == lengths and lens.dtype == np.int64
    # backward through pack then pad
    ct = np.random.default_rng(2).standard_normal(padded.shape).astype(np.float32)

    def f(x):
        p = R.pack_padded_sequence(x, np.array(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
        return jnp.vdot(R.pad_packed_sequence(p, batch_first=batch_first, total_length=6)[0], ct)

    (tpadded * torch.from_numpy(ct)).sum().backward()
    np.testing.assert_array_equal(jax.grad(f)(jnp.asarray(x)), tx.grad.numpy())


def test_pack_sequence_unpack_and_unpad_match_torch() -> None:
    seqs = _seqs([2, 4, 3], 2)
    packed = R.pack_sequence([jnp.asarray(s) for s in seqs], enforce_sorted=False)
    tpacked = trnn.pack_sequence([torch.from_numpy(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data, tpacked.data.numpy())
    for a, b in zip(R.unpack_sequence(packed), trnn.unpack_sequence(tpacked)):
        np.testing.assert_array_equal(a, b.numpy())
    padded = R.pad_sequence([jnp.asarray(s) for s in seqs])
    for a, s in zip(R.unpad_sequence(padded, [2, 4, 3]), seqs):
        np.testing.assert_array_equal(a, s)
    assert R.invert_permutation(None) is None
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # unpacks like torch's namedtuple
    assert batch_sizes.tolist() == [3, 3, 2, 1] and sorted_indices.tolist() == [1, 2, 0]
    assert data is packed.data and unsorted_indices.tolist() == [2, 0, 1]
    assert "PackedSequence(data=" in repr(packed)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_lstm_takes_and_returns_packed_sequences_like_torch(enforce_sorted) -> None:
    torch.manual_seed(0)
    tmod = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    model = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    lengths = [6, 4, 4, 1] if enforce_sorted else [4, 6, 1, 4]
    seqs = _seqs(lengths, 3, seed=3)
    h0 = np.random.default_rng(4).standard_normal((4, 4, 4)).astype(np.float32)
    packed = R.pack_sequence([jnp.asarray(s) for s in seqs], enforce_sorted=enforce_sorted)
    out, (h, c) = model.apply(params, packed, (jnp.asarray(h0), jnp.zeros((4, 4, 4))))
    tseqs = [torch.from_numpy(s).requires_grad_() for s in seqs]
    tout, (th, tc) = tmod(
        trnn.pack_sequence(tseqs, enforce_sorted=enforce_sorted), (torch.from_numpy(h0), torch.zeros(4, 4, 4))
    )
    assert isinstance(out, R.PackedSequence) and out.batch_sizes.tolist() == tout.batch_sizes.tolist()
    np.testing.assert_allclose(out.data, tout.data.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, th.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, tc.detach().numpy(), rtol=1e-5, atol=1e-6)
    # gradients with respect to each sequence, through packing, the LSTM and the packed output
    ct = np.random.default_rng(5).standard_normal(out.data.shape).astype(np.float32)

    def f(seqs):
        o, (h, _) = model.apply(
            params, R.pack_sequence(seqs, enforce_sorted=enforce_sorted), (jnp.asarray(h0), jnp.zeros((4, 4, 4)))
        )
        return jnp.vdot(o.data, ct) + jnp.sum(h)

    grads = jax.grad(f)([jnp.asarray(s) for s in seqs])
    ((tout.data * torch.from_numpy(ct)).sum() + th.sum()).backward()
    for g, t in zip(grads, tseqs):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    # a PackedSequence is a pytree: jit over it equals eager
    jitted = jax.jit(lambda p, s: model.apply(p, s)[0])(params, packed)
    np.testing.assert_allclose(jitted.data, model.apply(params, packed)[0].data, rtol=1e-6, atol=1e-6)


def test_errors() -> None:
    x = jnp.ones((4, 3, 2))
    with pytest.raises(
        ValueError,
        match=r"pack_padded_sequence: `lengths` must be in decreasing order when enforce_sorted=True, got \[1, 4, 2\]; pass enforce_sorted=False to sort the batch",
    ):
        R.pack_padded_sequence(x, [1, 4, 2])
    with pytest.raises(
        ValueError,
        match=r"pack_padded_sequence: every entry of `lengths` must be in \[1, 4\] \(the padded length\), got \[5, 4, 0\]",
    ):
        R.pack_padded_sequence(x, [5, 4, 0])
    with pytest.raises(
        ValueError,
        match=r"pack_padded_sequence: expected `lengths` of shape \(3,\), one length per sequence, got shape \(2,\)",
    ):
        R.pack_padded_sequence(x, [4, 3])
    with pytest.raises(TypeError, match=r"pack_padded_sequence: expected integer `lengths`, got dtype float64"):
        R.pack_padded_sequence(x, [4.0, 3.0, 1.0])
    with pytest.raises(
        TypeError, match=r"pack_padded_sequence: `lengths` must be concrete .*pass lengths= to the recurrent layer"
    ):
        jax.jit(lambda n: R.pack_padded_sequence(x, n).data)(jnp.array([4, 3, 1]))
    with pytest.raises(
        ValueError,
        match=r"pack_padded_sequence: expected input of at least 2 dimensions \(L, N, \*\), got shape \(4,\)",
    ):
        R.pack_padded_sequence(jnp.ones(4), [4])
    packed = R.pack_padded_sequence(x, [4, 3, 1])
    with pytest.raises(
        ValueError,
        match=r"pad_packed_sequence: `total_length` \(=3\) must be at least the length of the longest sequence \(4\)",
    ):
        R.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(
        TypeError,
        match=r"pad_packed_sequence: expected a PackedSequence, got ArrayImpl; make one with pack_padded_sequence",
    ):
        R.pad_packed_sequence(x)
    with pytest.raises(
        ValueError,
        match=r"pad_sequence: every sequence must be \(L_i, \*\) with the same trailing shape, got shapes \[\(2, 3\), \(2, 4\)\]",
    ):
        R.pad_sequence([jnp.ones((2, 3)), jnp.ones((2, 4))])
    with pytest.raises(ValueError, match=r"pad_sequence: expected at least one sequence, got none"):
        R.pad_sequence([])
    with pytest.raises(ValueError, match=r"pad_sequence: `padding_side` must be one of \['right', 'left'\], got 'top'"):
        R.pad_sequence([jnp.ones(2)], padding_side="top")
    gru = nn.GRU(2, 3)
    with pytest.raises(
        ValueError, match=r"GRU\(2, 3\): a PackedSequence input carries its own lengths, got lengths= too"
    ):
        gru.apply(gru.init(jax.random.key(0)), packed, lengths=[4, 3, 1])
