"""Root-mean-square normalisation, as ``torch.nn.functional.rms_norm``.

``y = x / sqrt(mean(x**2) + eps) * weight``, the mean over the trailing
``normalized_shape`` dimensions. Unlike `layer_norm` nothing is subtracted and there is
no bias. ``eps=None`` means PyTorch's default: the machine epsilon of the computation
type (``finfo(float32).eps`` for float16, bfloat16 and float32 inputs,
``finfo(float64).eps`` for float64).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.rms_norm(jnp.array([[3.0, 4.0]]), 2).round(4).tolist()
  [[0.8485, 1.1314]]
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from .normalization import _stat_dtype, check_normalized_shape


def check_rms_eps(owner: str, eps: float | None) -> None:
    """ValueError unless ``eps`` is None or a non-negative real number."""
    if eps is not None and (not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps < 0):
        raise ValueError(f"{owner}: `eps` must be None (machine epsilon) or a non-negative number, got {eps!r}")


def rms_norm_impl(
    owner: str,
    input: ArrayLike,
    normalized_shape: int | Sequence[int],
    weight: ArrayLike | None,
    eps: float | None,
) -> jax.Array:
    check_floating(owner, input)
    check_rms_eps(owner, eps)
    ns = check_normalized_shape(owner, normalized_shape)
    x = jnp.asarray(input)
    shape, k = shape_of(x), len(ns)
    if x.ndim < k or shape[x.ndim - k :] != ns:
        raise ValueError(
            f"{owner}: expected an input of shape (*, {', '.join(map(str, ns))}) ending in normalized_shape={ns}, "
            f"got shape {shape}"
        )
    if weight is not None and shape_of(weight) != ns:
        raise ValueError(f"{owner}: expected `weight` of shape {ns} (normalized_shape), got shape {shape_of(weight)}")
    dt = _stat_dtype(x)
    eps = float(jnp.finfo(dt).eps) if eps is None else eps
    xf = x.astype(dt)
    axes = tuple(range(x.ndim - k, x.ndim))
    ms = jnp.sum(jnp.square(xf), axes, keepdims=True) / math.prod(ns)
    y = xf * lax.rsqrt(ms + eps)
    if weight is not None:
        y = y * jnp.asarray(weight).reshape((1,) * (y.ndim - k) + ns)
    return y.astype(x.dtype)


def rms_norm(
    input: ArrayLike,
    normalized_shape: int | Sequence[int],
    weight: ArrayLike | None = None,
    eps: float | None = None,
) -> jax.Array:
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions.

    Args:
      input: ``(*, *normalized_shape)`` floating array.
      normalized_shape: an int ``D`` (the last dimension) or a tuple of trailing sizes.
      weight: ``normalized_shape`` scale, or None.
      eps: added to the mean square; None for the machine epsilon of the computation
        type (see the module notes).

    Returns:
      The input's shape and dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.rms_norm(jnp.ones((2, 3, 4)), (3, 4), weight=jnp.full((3, 4), 2.0)).mean().item()
      2.0
    """
    return rms_norm_impl("rms_norm", input, normalized_shape, weight, eps)
