"""Embedding lookup with ``torch.nn.functional.embedding``'s arguments and gradients.

Out-of-range indices: PyTorch raises. Here an eager call (concrete indices) raises a
``ValueError`` naming the bad index too; under ``jit``/``vmap`` the indices are
abstract and cannot be checked, so every out-of-range index (negative ones included)
yields a row of NaN instead of another row's values: a training step's loss becomes
non-finite, which a non-finite check catches, and that row contributes no gradient.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> weight = jnp.arange(6.0).reshape(3, 2)
  >>> F.embedding(jnp.array([[2, 0]]), weight).tolist()
  [[[4.0, 5.0], [0.0, 1.0]]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import shape_of


def _check_indices(owner: str, input: Any) -> None:
    """TypeError unless ``input`` holds integers (not floats, not booleans)."""
    dtype = jnp.result_type(input)
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(
            f"{owner}: expected integer indices, got dtype {dtype}; convert them with `x.astype(jnp.int32)`"
        )


def _check_padding_idx(owner: str, padding_idx: Any, num_embeddings: int) -> int | None:
    """``padding_idx`` in ``[0, num_embeddings)``, a negative one counted from the end (PyTorch's rule)."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, (int, np.integer)) or isinstance(padding_idx, bool):
        raise TypeError(f"{owner}: `padding_idx` must be an int or None, got {type(padding_idx).__name__}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{owner}: `padding_idx` (={padding_idx}) must be within [-{num_embeddings}, {num_embeddings}) "
            f"for num_embeddings={num_embeddings}"
        )
    return int(padding_idx) % num_embeddings


def _check_unsupported(owner: str, max_norm: Any, scale_grad_by_freq: bool) -> None:
    """ValueError for PyTorch options that a pure lookup cannot honour."""
    if max_norm is not None:
        raise ValueError(
            f"{owner}: `max_norm` (={max_norm!r}) is not supported: PyTorch renormalises rows of the weight "
            f"in place during the lookup, which a pure function cannot do; pass max_norm=None and renormalise "
            f"the weight explicitly if you need it"
        )
    if scale_grad_by_freq:
        raise ValueError(
            f"{owner}: `scale_grad_by_freq=True` is not supported; pass scale_grad_by_freq=False "
            f"(gradients are then the plain sum over occurrences, PyTorch's default)"
        )


def _check_in_range(owner: str, input: Any, num_embeddings: int) -> None:
    """ValueError on out-of-range concrete indices; abstract (traced) indices pass."""
    if isinstance(input, jax.core.Tracer):
        return
    idx = np.asarray(input)
    if idx.size == 0:
        return
    bad = (idx < 0) | (idx >= num_embeddings)
    if bad.any():
        first = int(idx[bad].ravel()[0])
        raise ValueError(
            f"{owner}: index {first} is out of range for num_embeddings={num_embeddings}; "
            f"indices must lie in [0, {num_embeddings - 1}] (got min {int(idx.min())}, max {int(idx.max())})"
        )


def _embedding(owner: str, input: ArrayLike, weight: ArrayLike, padding_idx: int | None) -> jax.Array:
    _check_indices(owner, input)
    w = jnp.asarray(weight)
    if w.ndim != 2:
        raise ValueError(
            f"{owner}: expected a 2-D weight of shape (num_embeddings, embedding_dim), got shape {shape_of(w)}"
        )
    num = w.shape[0]
    padding_idx = _check_padding_idx(owner, padding_idx, num)
    _check_in_range(owner, input, num)
    idx = jnp.asarray(input)
    # jnp.take wraps negative indices; send them past the end so that they are filled too.
    idx = jnp.where(idx < 0, num, idx)
    fill = jnp.nan if jnp.issubdtype(w.dtype, jnp.inexact) else None
    out = jnp.take(w, idx, axis=0, mode="fill", fill_value=fill)
    if padding_idx is not None:
        # The padding row is read as stored but receives no gradient, as in PyTorch.
        out = jnp.where((idx == padding_idx)[..., None], lax.stop_gradient(out), out)
    return out


def embedding(
    input: ArrayLike,
    weight: ArrayLike,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> jax.Array:
    """Look up rows of ``weight``: ``out[..., :] = weight[input[...], :]``.

    Args:
      input: ``(*)`` integer indices in ``[0, num_embeddings)``.
      weight: ``(num_embeddings, embedding_dim)`` table.
      padding_idx: a row that receives no gradient (negative counts from the end).
      max_norm: must be None (PyTorch's in-place renormalisation is not supported).
      norm_type: the norm for ``max_norm``; unused.
      scale_grad_by_freq: must be False (not supported).
      sparse: accepted for compatibility; JAX gradients are dense either way.

    Returns:
      ``(*, embedding_dim)`` with the weight's dtype.

    Raises:
      TypeError: for non-integer indices.
      ValueError: for an out-of-range index in an eager call (see the module notes for
        ``jit``), a bad ``padding_idx``, ``max_norm`` or ``scale_grad_by_freq``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> w = jnp.ones((4, 3))
      >>> g = jax.grad(lambda w: F.embedding(jnp.array([0, 1, 1]), w, padding_idx=1).sum())(w)
      >>> g[:, 0].tolist()
      [1.0, 0.0, 0.0, 0.0]
    """
    del norm_type, sparse
    _check_unsupported("embedding", max_norm, scale_grad_by_freq)
    return _embedding("embedding", input, weight, padding_idx)
