"""Affine maps: `linear` and `bilinear`-free core of `nn.Linear`."""

from __future__ import annotations

import jax
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of


def linear(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> jax.Array:
    """``y = input @ weight.T + bias``, as ``torch.nn.functional.linear``.

    Args:
      input: ``(*, in_features)`` floating array.
      weight: ``(out_features, in_features)``.
      bias: ``(out_features,)`` or None.

    Returns:
      ``(*, out_features)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.linear(jnp.ones((2, 3)), jnp.ones((4, 3)), jnp.zeros(4)).shape
      (2, 4)
    """
    return linear_impl("linear", input, weight, bias)


def linear_impl(
    owner: str, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, in_features: int | None = None
) -> jax.Array:
    """The core of `linear` and `nn.Linear`: checks the input once and computes.

    Every error names ``owner``; a layer passes its ``in_features`` so a wrong input is
    reported against its configuration rather than against the weight.
    """
    check_floating(owner, input)
    xs, ws = shape_of(input), shape_of(weight)
    if in_features is not None and (not xs or xs[-1] != in_features):
        raise ValueError(f"{owner}: expected input with last dimension {in_features}, got shape {xs}")
    if len(xs) == 0 or len(ws) != 2 or xs[-1] != ws[1]:
        raise ValueError(
            f"{owner}: expected input with last dimension {ws[1] if len(ws) == 2 else '?'} "
            f"to match weight of shape {ws}, got input shape {xs}"
        )
    # Contract the last input axis with the weight's second axis directly: no transpose.
    y = lax.dot_general(input, weight, (((len(xs) - 1,), (1,)), ((), ())))
    if bias is not None:
        y = y + lax.expand_dims(bias, tuple(range(y.ndim - 1)))
    return y
