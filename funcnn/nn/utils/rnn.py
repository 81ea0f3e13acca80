"""Padded and packed sequences, as ``torch.nn.utils.rnn``.

funcnn's recurrent layers run padded batches directly: ``lstm.apply(params, padded,
lengths=lengths)`` gives what PyTorch's ``pack_padded_sequence`` -> LSTM ->
``pad_packed_sequence`` round trip gives. These helpers build such batches
(`pad_sequence`, `unpad_sequence`) and, for code written around PyTorch's packed
form, offer `PackedSequence` with `pack_padded_sequence`, `pad_packed_sequence`,
`pack_sequence` and `unpack_sequence`; the recurrent layers accept a `PackedSequence`
as input and then return one, as PyTorch's do.

A `PackedSequence` holds its ``data`` as an array and its ``batch_sizes`` and
permutations as static NumPy values (they fix ``data``'s shape), so it passes through
``jax.jit`` as a pytree whose only leaf is ``data`` (one compilation per set of lengths).
Packing needs concrete ``lengths``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> from funcnn.nn.utils.rnn import pad_sequence
  >>> batch = pad_sequence([jnp.ones((3, 2)), jnp.ones((1, 2))], batch_first=True)
  >>> batch.shape
  (2, 3, 2)
  >>> gru = nn.GRU(2, 4, batch_first=True)
  >>> out, h_n = gru.apply(gru.init(jax.random.key(0)), batch, lengths=jnp.array([3, 1]))
  >>> out.shape, float(abs(out[1, 1:]).max())
  ((2, 3, 4), 0.0)
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_choice, shape_of

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _ints(values: Any) -> tuple[int, ...] | None:
    return None if values is None else tuple(int(v) for v in np.asarray(values).reshape(-1))


@jax.tree_util.register_pytree_node_class
class PackedSequence:
    """Sequences of different lengths packed time step by time step, as ``torch.nn.utils.rnn.PackedSequence``.

    Args:
      data: ``(sum(lengths), *)``: step 0 of every sequence (longest first), then step 1
        of every sequence that has one, and so on.
      batch_sizes: ``(max_length,)`` ints: how many sequences have each step.
      sorted_indices: ``(N,)`` the batch order by decreasing length (None when the
        batch was already sorted).
      unsorted_indices: ``(N,)`` its inverse.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pack_sequence
      >>> packed = pack_sequence([jnp.array([1.0, 2.0, 3.0]), jnp.array([4.0])])
      >>> packed.data.tolist(), packed.batch_sizes.tolist()
      ([1.0, 4.0, 2.0, 3.0], [2, 1, 1])
    """

    def __init__(
        self, data: ArrayLike, batch_sizes: Any, sorted_indices: Any = None, unsorted_indices: Any = None
    ) -> None:
        self.data = data
        self._batch_sizes = _ints(batch_sizes)
        self._sorted = _ints(sorted_indices)
        if unsorted_indices is None and self._sorted is not None:
            unsorted_indices = invert_permutation(np.asarray(self._sorted))
        self._unsorted = _ints(unsorted_indices)

    @property
    def batch_sizes(self) -> np.ndarray:
        """``(max_length,)`` int64: how many sequences have each step."""
        return np.asarray(self._batch_sizes, np.int64)

    @property
    def sorted_indices(self) -> np.ndarray | None:
        """``(N,)`` int64 batch order by decreasing length, or None."""
        return None if self._sorted is None else np.asarray(self._sorted, np.int64)

    @property
    def unsorted_indices(self) -> np.ndarray | None:
        """``(N,)`` int64 inverse of `sorted_indices`, or None."""
        return None if self._unsorted is None else np.asarray(self._unsorted, np.int64)

    def tree_flatten(self) -> tuple[tuple[Any], tuple[Any, ...]]:
        """Pytree protocol: ``data`` is the only leaf."""
        return (self.data,), (self._batch_sizes, self._sorted, self._unsorted)

    @classmethod
    def tree_unflatten(cls, aux: tuple[Any, ...], children: Sequence[Any]) -> PackedSequence:
        """Pytree protocol."""
        out = object.__new__(cls)
        out.data = children[0]
        out._batch_sizes, out._sorted, out._unsorted = aux
        return out

    def __iter__(self) -> Any:
        return iter((self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices))

    def __repr__(self) -> str:
        return (
            f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
            f"sorted_indices={self.sorted_indices!r}, unsorted_indices={self.unsorted_indices!r})"
        )


def invert_permutation(permutation: Any) -> np.ndarray | None:
    """The inverse of a permutation of ``0..N-1`` (None stays None), as ``torch.nn.utils.rnn.invert_permutation``.

    Args:
      permutation: ``(N,)`` ints, or None.

    Returns:
      ``(N,)`` int64 ``inv`` with ``inv[permutation[i]] == i``.

    Examples:
      >>> from funcnn.nn.utils.rnn import invert_permutation
      >>> invert_permutation([2, 0, 1]).tolist()
      [1, 2, 0]
    """
    if permutation is None:
        return None
    p = np.asarray(permutation, np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return inv


def _concrete_lengths(owner: str, lengths: Any, n: int, max_len: int) -> np.ndarray:
    if isinstance(lengths, jax.core.Tracer):
        raise TypeError(
            f"{owner}: `lengths` must be concrete (the packed shape depends on them), got a traced array; "
            f"pack outside jax.jit, or skip packing and pass lengths= to the recurrent layer"
        )
    values = np.asarray(lengths)
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"{owner}: expected integer `lengths`, got dtype {values.dtype}; pass e.g. [5, 3]")
    if values.shape != (n,):
        raise ValueError(
            f"{owner}: expected `lengths` of shape ({n},), one length per sequence, got shape {values.shape}"
        )
    if n and (values.min() < 1 or values.max() > max_len):
        raise ValueError(
            f"{owner}: every entry of `lengths` must be in [1, {max_len}] (the padded length), got {values.tolist()}"
        )
    return values.astype(np.int64)


def _steps(sorted_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(batch_sizes, time index, sorted batch index)`` of every packed row, in packed order."""
    max_len = int(sorted_lengths[0]) if sorted_lengths.size else 0
    batch_sizes = np.array([(sorted_lengths > t).sum() for t in range(max_len)], np.int64)
    t_idx = np.repeat(np.arange(max_len), batch_sizes)
    b_idx = np.concatenate([np.arange(b) for b in batch_sizes]) if max_len else np.zeros(0, np.int64)
    return batch_sizes, t_idx, b_idx


def pack_padded_sequence(
    input: ArrayLike, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch, as ``torch.nn.utils.rnn.pack_padded_sequence``.

    Args:
      input: ``(L, N, *)`` (``(N, L, *)`` with ``batch_first``), padded past each length.
      lengths: ``(N,)`` concrete ints in ``[1, L]``.
      batch_first: the batch comes first in ``input``.
      enforce_sorted: require ``lengths`` in decreasing order; when False the batch
        is sorted (stably) and the permutation kept.

    Returns:
      A `PackedSequence` with ``data (sum(lengths), *)``.

    Raises:
      TypeError: traced or non-integer ``lengths``.
      ValueError: lengths of the wrong shape, outside ``[1, L]`` or unsorted with
        ``enforce_sorted``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pack_padded_sequence
      >>> x = jnp.arange(6.0).reshape(3, 2)  # (L, N)
      >>> pack_padded_sequence(x, [1, 3], enforce_sorted=False).data.tolist()
      [1.0, 0.0, 3.0, 5.0]
    """
    owner = "pack_padded_sequence"
    x = jnp.asarray(input)
    if x.ndim < 2:
        raise ValueError(f"{owner}: expected input of at least 2 dimensions (L, N, *), got shape {x.shape}")
    if batch_first:
        x = jnp.swapaxes(x, 0, 1)
    lens = _concrete_lengths(owner, lengths, x.shape[1], x.shape[0])
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(
                f"{owner}: `lengths` must be in decreasing order when enforce_sorted=True, got {lens.tolist()}; "
                f"pass enforce_sorted=False to sort the batch"
            )
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
    sorted_lens = lens if order is None else lens[order]
    batch_sizes, t_idx, b_idx = _steps(sorted_lens)
    rows = b_idx if order is None else order[b_idx]
    return PackedSequence(x[t_idx, rows], batch_sizes, order)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[jax.Array, np.ndarray]:
    """Unpack to a padded batch, as ``torch.nn.utils.rnn.pad_packed_sequence``.

    Args:
      sequence: a `PackedSequence`.
      batch_first: return ``(N, T, *)`` instead of ``(T, N, *)``.
      padding_value: the value past each length.
      total_length: pad to this length ``T`` (at least the longest sequence); the
        longest length when None.

    Returns:
      ``(padded, lengths)``: the batch in its original order, and ``(N,)`` int64 lengths.

    Raises:
      TypeError: ``sequence`` is not a `PackedSequence`.
      ValueError: ``total_length`` is shorter than the longest sequence.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pack_sequence, pad_packed_sequence
      >>> padded, lengths = pad_packed_sequence(pack_sequence([jnp.ones(1), jnp.ones(2)], enforce_sorted=False))
      >>> padded.T.tolist(), lengths.tolist()
      ([[1.0, 0.0], [1.0, 1.0]], [1, 2])
    """
    owner = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"{owner}: expected a PackedSequence, got {type(sequence).__name__}; make one with pack_padded_sequence"
        )
    batch_sizes = sequence.batch_sizes
    max_len, n = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0
    if total_length is not None and total_length < max_len:
        raise ValueError(
            f"{owner}: `total_length` (={total_length}) must be at least the length of the longest sequence "
            f"({max_len}); pass total_length=None or a larger value"
        )
    steps = max_len if total_length is None else total_length
    sorted_lens = np.array([(batch_sizes > b).sum() for b in range(n)], np.int64)
    _, t_idx, b_idx = _steps(sorted_lens)
    order = sequence.sorted_indices
    cols = b_idx if order is None else order[b_idx]
    data = jnp.asarray(sequence.data)
    out = jnp.full((steps, n, *data.shape[1:]), padding_value, data.dtype).at[t_idx, cols].set(data)
    lengths = sorted_lens if order is None else sorted_lens[sequence.unsorted_indices]
    return (jnp.swapaxes(out, 0, 1) if batch_first else out), lengths


def _repack(padded: jax.Array, like: PackedSequence) -> PackedSequence:
    """Pack a time-major ``(T, N, *)`` batch (original order) with the layout of ``like``."""
    batch_sizes = like.batch_sizes
    n = int(batch_sizes[0]) if len(batch_sizes) else 0
    _, t_idx, b_idx = _steps(np.array([(batch_sizes > b).sum() for b in range(n)], np.int64))
    order = like.sorted_indices
    rows = b_idx if order is None else order[b_idx]
    return PackedSequence(padded[t_idx, rows], batch_sizes, order, like.unsorted_indices)


def pad_sequence(
    sequences: Sequence[ArrayLike],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> jax.Array:
    """Stack sequences of different lengths into one padded batch, as ``torch.nn.utils.rnn.pad_sequence``.

    Args:
      sequences: ``N`` arrays ``(L_i, *)`` with the same trailing shape.
      batch_first: return ``(N, L, *)`` instead of ``(L, N, *)``, ``L = max(L_i)``.
      padding_value: the value of the padding.
      padding_side: ``'right'`` (pad after each sequence) or ``'left'``.

    Returns:
      The padded batch, in the sequences' promoted dtype.

    Raises:
      ValueError: no sequences, a 0-D one, different trailing shapes, or a bad
        ``padding_side``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pad_sequence
      >>> pad_sequence([jnp.array([1, 2]), jnp.array([3])], batch_first=True, padding_value=-1).tolist()
      [[1, 2], [3, -1]]
      >>> pad_sequence([jnp.array([1, 2]), jnp.array([3])], batch_first=True, padding_side="left").tolist()
      [[1, 2], [0, 3]]
    """
    owner = "pad_sequence"
    check_choice(owner, "padding_side", padding_side, ("right", "left"))
    if isinstance(sequences, (jax.Array, np.ndarray)) and np.ndim(sequences) >= 1:
        sequences = list(sequences)
    if len(sequences) == 0:
        raise ValueError(f"{owner}: expected at least one sequence, got none")
    shapes = [shape_of(s) for s in sequences]
    if any(len(s) == 0 for s in shapes) or len({s[1:] for s in shapes}) != 1:
        raise ValueError(f"{owner}: every sequence must be (L_i, *) with the same trailing shape, got shapes {shapes}")
    longest = max(s[0] for s in shapes)
    dtype = jnp.result_type(*sequences)
    padded = []
    for seq, shape in zip(sequences, shapes):
        gap = longest - shape[0]
        widths = [(0, gap) if padding_side == "right" else (gap, 0)] + [(0, 0)] * (len(shape) - 1)
        padded.append(jnp.pad(jnp.asarray(seq, dtype), widths, constant_values=padding_value))
    return jnp.stack(padded, axis=0 if batch_first else 1)


def unpad_sequence(padded_sequences: ArrayLike, lengths: Any, batch_first: bool = False) -> list[jax.Array]:
    """Split a right-padded batch into its sequences, as ``torch.nn.utils.rnn.unpad_sequence``.

    Args:
      padded_sequences: ``(L, N, *)`` (``(N, L, *)`` with ``batch_first``).
      lengths: ``(N,)`` concrete ints in ``[1, L]``.
      batch_first: the batch comes first.

    Returns:
      ``N`` arrays ``(lengths[i], *)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import unpad_sequence
      >>> [s.tolist() for s in unpad_sequence(jnp.array([[1, 2], [3, 0]]), [2, 1], batch_first=True)]
      [[1, 2], [3]]
    """
    x = jnp.asarray(padded_sequences)
    if x.ndim < 2:
        raise ValueError(f"unpad_sequence: expected input of at least 2 dimensions (L, N, *), got shape {x.shape}")
    if not batch_first:
        x = jnp.swapaxes(x, 0, 1)
    lens = _concrete_lengths("unpad_sequence", lengths, x.shape[0], x.shape[1])
    return [x[i, : int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[ArrayLike], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)``, as ``torch.nn.utils.rnn.pack_sequence``.

    Args:
      sequences: ``N`` arrays ``(L_i, *)``, longest first unless ``enforce_sorted=False``.
      enforce_sorted: as in `pack_padded_sequence`.

    Returns:
      A `PackedSequence`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pack_sequence
      >>> pack_sequence([jnp.array([1, 2]), jnp.array([3])]).data.tolist()
      [1, 3, 2]
    """
    lengths = [shape_of(s)[0] if shape_of(s) else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), np.asarray(lengths, np.int64), enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[jax.Array]:
    """The list of sequences of a `PackedSequence`, in the original order, as ``unpack_sequence``.

    Args:
      packed_sequences: a `PackedSequence`.

    Returns:
      ``N`` arrays ``(L_i, *)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn.nn.utils.rnn import pack_sequence, unpack_sequence
      >>> [s.tolist() for s in unpack_sequence(pack_sequence([jnp.array([3]), jnp.array([1, 2])], enforce_sorted=False))]
      [[3], [1, 2]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
