"""`random_split`: disjoint random subsets of a data set, like ``torch.utils.data.random_split``.

Examples:
  >>> import jax, numpy as np
  >>> from funcnn.data import random_split
  >>> x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
  >>> (x_tr, y_tr), (x_te, y_te) = random_split((x, y), [0.8, 0.2], key=jax.random.key(0))
  >>> x_tr.shape, y_te.shape
  ((8, 2), (2,))
  >>> sorted(y_tr.tolist() + y_te.tolist()) == list(range(10))
  True
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import jax
import numpy as np

from .. import _rng
from ._columns import columns


def _split_lengths(lengths: Sequence[int | float], n: int) -> list[int]:
    if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Sequence) or not lengths:
        raise TypeError(f"random_split: `lengths` must be a non-empty list of ints or fractions, got {lengths!r}")
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, (int, float, np.integer, np.floating)):
            raise TypeError(f"random_split: length at index {i} must be an int or a fraction, got {length!r}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:  # fractions, as in PyTorch
        out = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} must be between 0 and 1, got {frac!r}")
            out.append(math.floor(n * frac))
        for i in range(n - sum(out)):  # the remainder goes round-robin, one sample each
            out[i % len(out)] += 1
        for i, length in enumerate(out):
            if length == 0:
                warnings.warn(f"random_split: split at index {i} has length 0 and will be empty", stacklevel=3)
        return out
    for length in lengths:
        if isinstance(length, (float, np.floating)) or length < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative ints summing to the {n} samples, or fractions "
                f"summing to 1, got {list(lengths)!r}"
            )
    if total != n:
        raise ValueError(
            f"random_split: the lengths {list(lengths)!r} sum to {total}, but the data set has {n} samples; "
            f"make them sum to {n}, or pass fractions summing to 1"
        )
    return [int(length) for length in lengths]


def random_split(arrays: Any, lengths: Sequence[int | float], *, key: jax.Array) -> list[Any]:
    """Split a data set into disjoint random subsets of the given lengths.

    The semantics are PyTorch's: ``lengths`` are sample counts summing to the data set
    size, or fractions summing to 1 (each subset gets ``floor(n * frac)`` samples and
    the remainder is handed out one by one to the first subsets). The permutation is
    drawn on the host from ``key``, so a key always gives the same split.

    Args:
      arrays: a tuple (or list) or dict of arrays with equal first dimensions, or one
        array, as for `DataLoader`.
      lengths: ints or fractions, one per subset.
      key: a PRNG key, e.g. ``jax.random.key(0)``.

    Returns:
      one subset per length, each with the structure of ``arrays``, holding host NumPy
      arrays of shape ``(length, *rest)`` in the inputs' (canonical) dtypes.

    Raises:
      ValueError: lengths that do not sum to the data set size (or fractions to 1),
        arrays of different lengths, an empty data set, or values that do not fit
        JAX's canonical dtype (see `DataLoader`).

    Examples:
      >>> import jax, numpy as np
      >>> from funcnn.data import random_split
      >>> a, b = random_split(np.arange(5), [3, 2], key=jax.random.key(1))
      >>> a.shape, b.shape
      ((3,), (2,))
    """
    cols = columns("random_split", arrays)
    sizes = _split_lengths(lengths, cols.length)
    order = _rng.generator(_rng.key_words(key)).permutation(cols.length)
    out, offset = [], 0
    for size in sizes:
        idx = order[offset : offset + size]
        out.append(cols.pack([a[idx] for a in cols.arrays]))
        offset += size
    return out
