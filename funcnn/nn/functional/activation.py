"""Activation functions with ``torch.nn.functional``'s names, arguments and gradients.

Every function maps an array of any shape ``(*)`` to the same shape and dtype.
Where PyTorch's function takes ``inplace``, so does ours, in the same position, and
ignores it: JAX arrays are immutable, so the result is always a new array and
``F.relu(x, inplace=True)`` leaves ``x`` as it was.

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


def relu(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``max(x, 0)``; gradient 0 at 0 as in PyTorch.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted so PyTorch code runs unchanged; no effect (JAX arrays are
        immutable, the result is always a new array).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.relu(jnp.array([-1.0, 0.0, 2.0])).tolist()
      [0.0, 0.0, 2.0]
    """
    return jax.nn.relu(input)


def leaky_relu(input: ArrayLike, negative_slope: float = 0.01, inplace: bool = False) -> jax.Array:
    """``x if x > 0 else negative_slope * x``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      negative_slope: slope for ``x <= 0``.
      inplace: accepted so PyTorch code runs unchanged; no effect (JAX arrays are
        immutable, the result is always a new array).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.leaky_relu(jnp.array([-2.0, 3.0]), negative_slope=0.5).tolist()
      [-1.0, 3.0]
    """
    x = jnp.asarray(input)
    return jnp.where(x > 0, x, negative_slope * x)


def elu(input: ArrayLike, alpha: float = 1.0, inplace: bool = False) -> jax.Array:
    """``x if x > 0 else alpha * (exp(x) - 1)``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      alpha: scale of the negative part.
      inplace: accepted so PyTorch code runs unchanged; no effect (JAX arrays are
        immutable, the result is always a new array).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.elu(jnp.array([0.0, 2.0])).tolist()
      [0.0, 2.0]
    """
    x = jnp.asarray(input)
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0)))


def gelu(input: ArrayLike, approximate: str = "none") -> jax.Array:
    """Gaussian error linear unit, ``x * Phi(x)``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      approximate: ``'none'`` (exact, via erf) or ``'tanh'`` (the tanh approximation).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.gelu(jnp.array([0.0, 1.0])).round(4).tolist()
      [0.0, 0.8413]
    """
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    return jax.nn.gelu(input, approximate=approximate == "tanh")


def silu(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``x * sigmoid(x)`` (swish).

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted so PyTorch code runs unchanged; no effect (JAX arrays are
        immutable, the result is always a new array).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.silu(jnp.array([0.0, 1.0])).round(4).tolist()
      [0.0, 0.7311]
    """
    return jax.nn.silu(input)


def sigmoid(input: ArrayLike) -> jax.Array:
    """``1 / (1 + exp(-x))``.

    Args:
      input: array of shape ``(*)``, any floating dtype.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, values in ``(0, 1)``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.sigmoid(jnp.zeros(2)).tolist()
      [0.5, 0.5]
    """
    return jax.nn.sigmoid(input)


def tanh(input: ArrayLike) -> jax.Array:
    """Hyperbolic tangent.

    Args:
      input: array of shape ``(*)``, any floating dtype.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, values in ``(-1, 1)``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.tanh(jnp.zeros(2)).tolist()
      [0.0, 0.0]
    """
    return jnp.tanh(input)


def softplus(input: ArrayLike, beta: float = 1.0, threshold: float = 20.0) -> jax.Array:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      beta: sharpness of the curve.
      threshold: above ``beta * x > threshold`` the result is ``x``.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.softplus(jnp.array([0.0, 30.0])).round(4).tolist()
      [0.6931, 30.0]
    """
    x = jnp.asarray(input)
    bx = beta * x
    soft = jnp.log1p(jnp.exp(jnp.minimum(bx, threshold))) / beta
    return jnp.where(bx > threshold, x, soft)


def hardtanh(input: ArrayLike, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> jax.Array:
    """Clamp to ``[min_val, max_val]``; zero gradient outside, as in PyTorch.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      min_val: lower bound.
      max_val: upper bound (``>= min_val``).
      inplace: accepted so PyTorch code runs unchanged; no effect (JAX arrays are
        immutable, the result is always a new array).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Raises:
      ValueError: if ``min_val > max_val``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.hardtanh(jnp.array([-3.0, 0.5, 3.0])).tolist()
      [-1.0, 0.5, 1.0]
    """
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
    """``exp(x) / sum(exp(x), dim)``, numerically stable.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      dim: the axis to normalise over (negative counts from the end).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, summing to 1 along ``dim``.

    Raises:
      ValueError: if ``dim`` is out of range for ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.softmax(jnp.zeros((1, 4)), dim=1).tolist()
      [[0.25, 0.25, 0.25, 0.25]]
    """
    x = jnp.asarray(input)
    return jax.nn.softmax(x, axis=_check_dim("softmax", x, dim))


def log_softmax(input: ArrayLike, dim: int) -> jax.Array:
    """``x - logsumexp(x, dim)``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      dim: the axis to normalise over (negative counts from the end).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Raises:
      ValueError: if ``dim`` is out of range for ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.log_softmax(jnp.zeros((1, 2)), dim=-1).round(4).tolist()
      [[-0.6931, -0.6931]]
    """
    x = jnp.asarray(input)
    return jax.nn.log_softmax(x, axis=_check_dim("log_softmax", x, dim))


def softmin(input: ArrayLike, dim: int) -> jax.Array:
    """``softmax(-x, dim)``: entries along ``dim`` sum to 1, the smallest weighs most.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      dim: the axis to normalise over (negative counts from the end).

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, summing to 1 along ``dim``.

    Raises:
      ValueError: if ``dim`` is out of range for ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.softmin(jnp.array([0.0, jnp.log(3.0)]), dim=0).round(4).tolist()
      [0.75, 0.25]
    """
    x = jnp.asarray(input)
    return jax.nn.softmax(-x, axis=_check_dim("softmin", x, dim))


def glu(input: ArrayLike, dim: int = -1) -> jax.Array:
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``input`` along ``dim``.

    Args:
      input: array of shape ``(*1, 2M, *2)``, any floating dtype; the size along
        ``dim`` must be even.
      dim: the axis to split (negative counts from the end).

    Returns:
      Array of shape ``(*1, M, *2)``, same dtype as ``input``.

    Raises:
      ValueError: if ``input`` is 0-D, ``dim`` is out of range, or the size along
        ``dim`` is odd.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.glu(jnp.array([[2.0, 0.0]])).tolist()  # 2 * sigmoid(0)
      [[1.0]]
    """
    x = jnp.asarray(input)
    if x.ndim == 0:
        raise ValueError(
            "glu: expected an input with at least one dimension to halve, got shape (); reshape it to (2M,)"
        )
    axis = _check_dim("glu", x, dim) % x.ndim
    n = x.shape[axis]
    if n % 2:
        raise ValueError(
            f"glu: the size along `dim` (={dim}) must be even to halve, got shape {shape_of(x)}; "
            f"pad or slice that dimension to an even size"
        )
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)
