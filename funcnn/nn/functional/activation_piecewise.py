"""Piecewise-linear activations: clamps, shrinks, thresholds and learned or random slopes.

Each function has ``torch.nn.functional``'s name, arguments and numbers, maps ``(*)``
to ``(*)`` in the input's dtype, and takes PyTorch's gradient at the kinks (the
branch PyTorch's backward picks there). ``inplace`` is accepted where PyTorch has it
and has no effect: JAX arrays are immutable.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.relu6(jnp.array([-1.0, 3.0, 9.0])).tolist()
  [0.0, 3.0, 6.0]
  >>> F.softshrink(jnp.array([-1.0, 0.2, 2.0]), 0.5).tolist()
  [-0.5, 0.0, 1.5]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import shape_of
from .activation import hardtanh


def relu6(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``min(max(x, 0), 6)``; gradient 1 strictly inside ``(0, 6)``, else 0.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.relu6(jnp.array([-2.0, 7.0])).tolist()
      [0.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0)


def threshold(input: ArrayLike, threshold: float, value: float, inplace: bool = False) -> jax.Array:
    """``x if x > threshold else value``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      threshold: values at or below it are replaced.
      value: the replacement.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.threshold(jnp.array([1.0, 2.0]), 1.0, -5.0).tolist()
      [-5.0, 2.0]
    """
    x = jnp.asarray(input)
    return jnp.where(x > threshold, x, jnp.asarray(value, x.dtype))


def hardshrink(input: ArrayLike, lambd: float = 0.5) -> jax.Array:
    """``x if |x| > lambd else 0``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      lambd: the half-width of the zeroed band.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.hardshrink(jnp.array([-1.0, 0.3, 0.6])).tolist()
      [-1.0, 0.0, 0.6000000238418579]
    """
    x = jnp.asarray(input)
    return jnp.where((x > lambd) | (x < -lambd), x, jnp.zeros_like(x))


def softshrink(input: ArrayLike, lambd: float = 0.5) -> jax.Array:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      lambd: the shrinkage, ``>= 0``.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Raises:
      ValueError: if ``lambd < 0``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.softshrink(jnp.array([-2.0, 0.1, 1.0])).tolist()
      [-1.5, 0.0, 0.5]
    """
    if lambd < 0:
        raise ValueError(f"softshrink: `lambd` must be >= 0, got {lambd!r}; it is the width shrunk off both sides")
    x = jnp.asarray(input)
    return jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x)))


def hardsigmoid(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``min(max(x + 3, 0), 6) / 6``; gradient ``1/6`` strictly inside ``(-3, 3)``, else 0.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``, values in ``[0, 1]``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.hardsigmoid(jnp.array([-4.0, 0.0, 4.0])).tolist()
      [0.0, 0.5, 1.0]
    """
    x = jnp.asarray(input)
    return jnp.where(x <= -3, jnp.zeros_like(x), jnp.where(x >= 3, jnp.ones_like(x), (x + 3) / 6))


def hardswish(input: ArrayLike, inplace: bool = False) -> jax.Array:
    """``x * hardsigmoid(x)``; PyTorch's gradient ``x / 3 + 0.5`` on ``[-3, 3]``.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      inplace: accepted for PyTorch compatibility; no effect.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.hardswish(jnp.array([-4.0, 0.0, 4.0])).tolist()
      [0.0, 0.0, 4.0]
    """
    x = jnp.asarray(input)
    return jnp.where(x < -3, jnp.zeros_like(x), jnp.where(x <= 3, x * (x + 3) / 6, x))


def prelu(input: ArrayLike, weight: ArrayLike) -> jax.Array:
    """``x if x > 0 else weight * x``, with a learned slope per channel (axis 1).

    Args:
      input: float array of shape ``(N, C, *)``; the slopes run along axis 1 (as in
        PyTorch, a 0- or 1-D input counts as one channel).
      weight: float array of shape ``(1,)`` (one slope for all) or ``(C,)``.

    Returns:
      Array of the input's shape and dtype.

    Raises:
      ValueError: if ``weight`` is not 1-D, or has neither 1 nor ``C`` entries.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.prelu(jnp.array([[-1.0, -1.0], [2.0, -2.0]]), jnp.array([0.1, 0.5])).tolist()
      [[-0.10000000149011612, -0.5], [2.0, -1.0]]
    """
    x = jnp.asarray(input)
    w = jnp.asarray(weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim != 1 or w.shape[0] not in (1, channels):
        raise ValueError(
            f"prelu: expected `weight` of shape (1,) or ({channels},), one slope per channel of the input's "
            f"axis 1, got shape {shape_of(w)} for input of shape {x.shape}; "
            f"use PReLU(num_parameters={channels}) or num_parameters=1"
        )
    if w.shape[0] > 1:
        w = w.reshape((1, channels) + (1,) * (x.ndim - 2))
    else:
        w = w.reshape(())
    return jnp.where(x > 0, x, w.astype(x.dtype) * x)


def _check_bounds(owner: str, lower: float, upper: float) -> None:
    if lower > upper:
        raise ValueError(
            f"{owner}: `lower` (={lower}) must not exceed `upper` (={upper}); they bound the random negative slope"
        )


def rrelu(
    input: ArrayLike,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    *,
    key: jax.Array | None = None,
) -> jax.Array:
    """Randomized leaky ReLU: ``x if x > 0 else a * x``.

    In training ``a`` is drawn from ``U(lower, upper)`` independently for every
    element (so the gradient for ``x <= 0`` is that ``a``); in evaluation ``a`` is
    the fixed ``(lower + upper) / 2``, exactly as PyTorch. The draws come from
    ``key``, not PyTorch's generator, so training values differ from PyTorch's while
    following the same law.

    Args:
      input: array of shape ``(*)``, any floating dtype.
      lower: lower bound of the slope.
      upper: upper bound of the slope, ``>= lower``.
      training: draw random slopes (needs ``key``).
      inplace: accepted for PyTorch compatibility; no effect.
      key: PRNG key, required when ``training``; keyword-only.

    Returns:
      Array of shape ``(*)``, same dtype as ``input``.

    Raises:
      ValueError: if ``lower > upper``, or ``training`` without a ``key``.

    Examples:
      >>> import jax
      >>> import funcnn.nn.functional as F
      >>> F.rrelu(jnp.array([-1.0, 2.0]), 0.2, 0.4).round(4).tolist()
      [-0.3, 2.0]
      >>> y = F.rrelu(jnp.array([-1.0]), 0.2, 0.4, training=True, key=jax.random.key(0))
      >>> bool(-0.4 <= y[0] <= -0.2)
      True
    """
    _check_bounds("rrelu", lower, upper)
    x = jnp.asarray(input)
    if not training:
        return jnp.where(x > 0, x, jnp.asarray((lower + upper) / 2, x.dtype) * x)
    if key is None:
        raise ValueError(
            "rrelu: training=True draws a random slope per element and needs a PRNG key, got key=None; "
            "call `F.rrelu(x, lower, upper, training=True, key=jax.random.key(step))` (a new key each step)"
        )
    a = jax.random.uniform(key, x.shape, x.dtype, lower, upper)
    return jnp.where(x > 0, x, a * x)
