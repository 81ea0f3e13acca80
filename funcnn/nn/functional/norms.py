"""Vector p-norms with PyTorch's gradients, and `normalize`.

`vector_norm` is the shared core of `normalize`, `pairwise_distance` and `pdist`. Its
gradient is PyTorch's: zero where the norm is zero (not NaN), ``sign(x)`` for
``p = 1``, split evenly among the tied largest (or smallest) entries for ``p = ±inf``,
and zero for ``p = 0`` (which counts the nonzero entries).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.normalize(jnp.array([[3.0, 4.0]])).tolist()
  [[0.6000000238418579, 0.800000011920929]]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of


def vector_norm(x: jax.Array, p: float, axis: int | tuple[int, ...], keepdims: bool = False) -> jax.Array:
    """``(sum |x|^p)^(1/p)`` over ``axis`` with PyTorch's conventions for ``p`` in ``{0, 1, 2, ±inf}``."""
    if p == 2:
        sq = jnp.sum(x * x, axis=axis, keepdims=keepdims)
        safe = jnp.where(sq > 0, sq, 1)
        return jnp.where(sq > 0, jnp.sqrt(safe), 0)
    a = jnp.abs(x)
    if p == 1:
        return jnp.sum(a, axis=axis, keepdims=keepdims)
    if p == math.inf:
        return jnp.max(a, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return jnp.min(a, axis=axis, keepdims=keepdims)
    if p == 0:
        return jnp.sum((x != 0).astype(x.dtype), axis=axis, keepdims=keepdims)
    s = jnp.sum(a**p, axis=axis, keepdims=keepdims)
    safe = jnp.where(s > 0, s, 1)
    return jnp.where(s > 0, safe ** (1.0 / p), 0)


def normalize(input: ArrayLike, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> jax.Array:
    """``input / max(||input||_p, eps)`` along ``dim``, as ``torch.nn.functional.normalize``.

    Args:
      input: ``(*)`` floating array.
      p: the norm's exponent (``2``: Euclidean; any float, ``inf`` included).
      dim: the axis normalised.
      eps: lower bound of the divisor, so zero vectors stay zero.

    Returns:
      ``(*)``, the input's shape.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.normalize(jnp.array([[1.0, -3.0], [0.0, 0.0]]), p=1, dim=1).tolist()
      [[0.25, -0.75], [0.0, 0.0]]
    """
    check_floating("normalize", input)
    x = jnp.asarray(input)
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(
            f"normalize: `dim` must be in [{-ndim}, {ndim - 1}] for an input of shape {shape_of(x)}, got dim={dim}"
        )
    if x.ndim == 0:
        return x / jnp.maximum(vector_norm(x, p, axis=()), eps)
    return x / jnp.maximum(vector_norm(x, p, axis=dim, keepdims=True), eps)
