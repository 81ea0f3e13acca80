"""Distances and similarities: `cosine_similarity`, `pairwise_distance`, `pdist`.

PyTorch's exact formulas:

* ``cosine_similarity``: ``sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)))``
  over ``dim``. Each norm is clamped on its own (not their product), and the clamp
  is invisible to the gradient: PyTorch clamps in place under ``no_grad``, so the
  gradient flows through the unclamped norm. Both are reproduced here.
* ``pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last dim (``eps`` is added
  to the difference, not to the norm).
* ``pdist``: ``||x_i - x_j||_p`` for every pair ``i < j`` of rows, in row-major order.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.cosine_similarity(jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 1.0]])).round(4).tolist()
  [0.7071]
  >>> F.pdist(jnp.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])).tolist()
  [5.0, 10.0, 5.0]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from .norms import vector_norm


def _broadcast(owner: str, x1: ArrayLike, x2: ArrayLike) -> tuple[jax.Array, jax.Array]:
    check_floating(owner, x1, "x1")
    check_floating(owner, x2, "x2")
    s1, s2 = shape_of(x1), shape_of(x2)
    try:
        shape = np.broadcast_shapes(s1, s2)
    except ValueError:
        raise ValueError(
            f"{owner}: expected x1 and x2 of broadcastable shapes, got {s1} and {s2}; make the sizes agree "
            f"or be 1 on every axis"
        ) from None
    dtype = jnp.result_type(x1, x2)
    return jnp.broadcast_to(jnp.asarray(x1, dtype), shape), jnp.broadcast_to(jnp.asarray(x2, dtype), shape)


def cosine_similarity(x1: ArrayLike, x2: ArrayLike, dim: int = 1, eps: float = 1e-8) -> jax.Array:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, as ``torch.nn.functional.cosine_similarity``.

    Args:
      x1: ``(*)`` floating array.
      x2: broadcastable with ``x1``.
      dim: the axis of the vectors.
      eps: lower bound of each vector's norm.

    Returns:
      the broadcast shape without ``dim``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.cosine_similarity(jnp.ones((2, 3)), -jnp.ones((2, 3)), dim=1).tolist()
      [-1.0, -1.0]
    """
    a, b = _broadcast("cosine_similarity", x1, x2)
    ndim = max(a.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(
            f"cosine_similarity: `dim` must be in [{-ndim}, {ndim - 1}] for inputs of broadcast shape {a.shape}, "
            f"got dim={dim}"
        )
    if a.ndim == 0:
        a, b = a[None], b[None]

    def clamped_norm(v: jax.Array) -> jax.Array:
        n = vector_norm(v, 2, axis=dim, keepdims=True)
        return n + lax.stop_gradient(jnp.maximum(n, eps) - n)

    return jnp.sum((a / clamped_norm(a)) * (b / clamped_norm(b)), axis=dim)


def pairwise_distance(
    x1: ArrayLike, x2: ArrayLike, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> jax.Array:
    """``||x1 - x2 + eps||_p`` over the last dim, as ``torch.nn.functional.pairwise_distance``.

    Args:
      x1: ``(*, D)`` or ``(D,)`` floating array.
      x2: broadcastable with ``x1``.
      p: the norm's exponent (``0``, ``inf`` and fractions allowed).
      eps: added to the difference, so equal vectors have a nonzero distance.
      keepdim: keep the reduced last dim with size 1.

    Returns:
      ``(*)`` (or ``(*, 1)`` with ``keepdim``).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.pairwise_distance(jnp.zeros((2, 2)), jnp.array([[3.0, 4.0], [0.0, 1.0]]), eps=0.0).tolist()
      [5.0, 1.0]
    """
    a, b = _broadcast("pairwise_distance", x1, x2)
    if a.ndim == 0:
        return vector_norm(a - b + eps, p, axis=(), keepdims=keepdim)
    return vector_norm(a - b + eps, p, axis=-1, keepdims=keepdim)


def pdist(input: ArrayLike, p: float = 2.0) -> jax.Array:
    """Distances between every pair of rows, as ``torch.nn.functional.pdist``.

    Args:
      input: ``(N, M)`` floating array.
      p: the norm's exponent, ``>= 0``.

    Returns:
      ``(N * (N - 1) / 2,)``: ``||input[i] - input[j]||_p`` for ``i < j``, row-major.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.pdist(jnp.array([[0.0, 0.0], [1.0, 1.0], [1.0, 3.0]]), p=1).tolist()
      [2.0, 4.0, 2.0]
    """
    check_floating("pdist", input)
    shape = shape_of(input)
    if len(shape) != 2:
        raise ValueError(f"pdist: expected a 2-D input (N, M), got shape {shape}; reshape it to rows of vectors")
    if not (p >= 0 or p == math.inf):
        raise ValueError(f"pdist: `p` must be >= 0, got {p}")
    x = jnp.asarray(input)
    i, j = np.triu_indices(shape[0], 1)
    return vector_norm(x[i] - x[j], p, axis=-1)
