"""Activation functions with ``torch.nn.functional``'s names, arguments and gradients.

Every function maps an array of any shape ``(*)`` to the same shape and dtype.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.relu(jnp.array([-1.0, 2.0])).tolist()
  [0.0, 2.0]
  >>> F.softmax(jnp.zeros((1, 4)), dim=1).tolist()
  [[0.25, 0.25, 0.25, 0.25]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_choice, shape_of


def relu(input: ArrayLike) -> jax.Array:
    """``max(x, 0)``; gradient 0 at 0 as in PyTorch. Shape ``(*) -> (*)``."""
    return jax.nn.relu(input)


def leaky_relu(input: ArrayLike, negative_slope: float = 0.01) -> jax.Array:
    """``x if x > 0 else negative_slope * x``. Shape ``(*) -> (*)``."""
    x = jnp.asarray(input)
    return jnp.where(x > 0, x, negative_slope * x)


def elu(input: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """``x if x > 0 else alpha * (exp(x) - 1)``. Shape ``(*) -> (*)``."""
    x = jnp.asarray(input)
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0)))


def gelu(input: ArrayLike, approximate: str = "none") -> jax.Array:
    """Gaussian error linear unit; ``approximate`` is ``'none'`` (erf) or ``'tanh'``. Shape ``(*) -> (*)``."""
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    return jax.nn.gelu(input, approximate=approximate == "tanh")


def silu(input: ArrayLike) -> jax.Array:
    """``x * sigmoid(x)`` (swish). Shape ``(*) -> (*)``."""
    return jax.nn.silu(input)


def sigmoid(input: ArrayLike) -> jax.Array:
    """``1 / (1 + exp(-x))``. Shape ``(*) -> (*)``."""
    return jax.nn.sigmoid(input)


def tanh(input: ArrayLike) -> jax.Array:
    """Hyperbolic tangent. Shape ``(*) -> (*)``."""
    return jnp.tanh(input)


def softplus(input: ArrayLike, beta: float = 1.0, threshold: float = 20.0) -> jax.Array:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``. Shape ``(*) -> (*)``."""
    x = jnp.asarray(input)
    bx = beta * x
    soft = jnp.log1p(jnp.exp(jnp.minimum(bx, threshold))) / beta
    return jnp.where(bx > threshold, x, soft)


def hardtanh(input: ArrayLike, min_val: float = -1.0, max_val: float = 1.0) -> jax.Array:
    """Clamp to ``[min_val, max_val]``; zero gradient outside, as in PyTorch. Shape ``(*) -> (*)``."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: `min_val` (={min_val}) must not exceed `max_val` (={max_val})")
    x = jnp.asarray(input)
    return jnp.where(x <= min_val, min_val, jnp.where(x >= max_val, max_val, x)).astype(x.dtype)


def _check_dim(name: str, x: jax.Array, dim: int) -> int:
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: `dim` (={dim}) is out of range for an input of shape {shape_of(x)}")
    return dim


def softmax(input: ArrayLike, dim: int) -> jax.Array:
    """``exp(x) / sum(exp(x), dim)``, numerically stable. Shape ``(*) -> (*)``."""
    x = jnp.asarray(input)
    return jax.nn.softmax(x, axis=_check_dim("softmax", x, dim))


def log_softmax(input: ArrayLike, dim: int) -> jax.Array:
    """``x - logsumexp(x, dim)``. Shape ``(*) -> (*)``."""
    x = jnp.asarray(input)
    return jax.nn.log_softmax(x, axis=_check_dim("log_softmax", x, dim))
