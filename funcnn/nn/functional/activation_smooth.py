"""Smooth activations built from exponentials and tanh: CELU, SELU, Mish, LogSigmoid, Softsign, Tanhshrink.

Each function has ``torch.nn.functional``'s name, arguments and numbers and maps
``(*)`` to ``(*)`` in the input's dtype. ``inplace`` is accepted where PyTorch has it
and has no effect: JAX arrays are immutable.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.softsign(jnp.array([-1.0, 3.0])).tolist()
  [-0.5, 0.75]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

# The constants of Klambauer et al. (2017), as PyTorch uses them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def celu(input: ArrayLike, alpha: float = 1.0, inplace: bool = False) -> jax.Array:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      alpha: scale of the negative part, not 0.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Raises:
      ValueError: if ``alpha == 0``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.celu(jnp.array([2.0, -100.0]), alpha=0.5).tolist()
      [2.0, -0.5]
    """
    if alpha == 0:
        raise ValueError("celu: `alpha` must not be 0 (the input is divided by it); PyTorch's default is alpha=1.0")
    x = jnp.asarray(input)
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0) / alpha))


def selu(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``scale * (x if x > 0 else alpha * (exp(x) - 1))`` with the self-normalising constants.

    ``alpha = 1.6732632423543772848170429916717``, ``scale =
    1.0507009873554804934193349852946``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.selu(jnp.array([0.0, 1.0])).round(4).tolist()
      [0.0, 1.0507]
    """
    x = jnp.asarray(input)
    return SELU_SCALE * jnp.where(x > 0, x, SELU_ALPHA * jnp.expm1(jnp.minimum(x, 0)))


def mish(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``x * tanh(softplus(x))``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.mish(jnp.array([0.0, 1.0])).round(4).tolist()
      [0.0, 0.8651]
    """
    x = jnp.asarray(input)
    return x * jnp.tanh(jax.nn.softplus(x))


def logsigmoid(input: ArrayLike) -> jax.Array:
    """``log(1 / (1 + exp(-x)))``, computed stably.

    Args:
      input: array of shape ``(*)``, any floating dtype.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, values ``<= 0``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.logsigmoid(jnp.array([0.0, -200.0])).round(4).tolist()
      [-0.6931, -200.0]
    """
    return jax.nn.log_sigmoid(jnp.asarray(input))


def softsign(input: ArrayLike) -> jax.Array:
    """``x / (1 + |x|)``.

    Args:
      input: array of shape ``(*)``, any floating dtype.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, values in ``(-1, 1)``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.softsign(jnp.array([1.0])).tolist()
      [0.5]
    """
    x = jnp.asarray(input)
    return x / (1 + jnp.abs(x))


def tanhshrink(input: ArrayLike) -> jax.Array:
    """``x - tanh(x)``.

    Args:
      input: array of shape ``(*)``, any floating dtype.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.tanhshrink(jnp.array([0.0, 1.0])).round(4).tolist()
      [0.0, 0.2384]
    """
    x = jnp.asarray(input)
    return x - jnp.tanh(x)
