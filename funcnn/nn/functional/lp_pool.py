"""Power-average (LP) pooling, 1-D to 3-D, with ``torch.nn.functional``'s formula.

``lp_pool(x) = (sign(s) * relu(|s|) * prod(kernel)) ** (1 / p)`` where ``s`` is the
`avg_pool` (no padding, ``count_include_pad``) of ``x ** p``: exactly PyTorch's
composition, so ``ceil_mode``'s partial windows, the sign of a negative sum (NaN
under a fractional root) and a zero sum's gradient come out as in PyTorch.
``p = inf`` is the max of ``|x|`` and ``p = -inf`` the min.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.lp_pool1d(jnp.array([[3.0, 4.0, 1.0, 0.0]]), 2, 2).tolist()
  [[5.0, 1.0]]
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._pooling import pool_args
from ._spatial import IntOrTuple, _check_input
from .avg_pool import avg_pool_impl
from .max_pool import max_pool_impl


def lp_pool_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    ceil_mode: bool,
) -> jax.Array:
    """The ``n``-D power-average pooling behind `lp_pool1d`/`2d`/`3d` and the layers."""
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or norm_type == 0:
        raise ValueError(f"{owner}: `norm_type` must be a non-zero real number (or +-inf), got {norm_type!r}")
    kernel = pool_args(owner, n, kernel_size, stride, 0)[0]
    _check_input(owner, input, n)
    x = jnp.asarray(input)
    if norm_type == math.inf:
        return max_pool_impl(owner, n, jnp.abs(x), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[return-value]
    if norm_type == -math.inf:
        return -max_pool_impl(owner, n, -jnp.abs(x), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[operator]
    # an integral exponent is an integer power (defined for negative inputs), as in torch
    p = int(norm_type) if float(norm_type).is_integer() else float(norm_type)
    out = avg_pool_impl(owner, n, x**p, kernel_size, stride, 0, ceil_mode, True)
    return (jnp.sign(out) * jax.nn.relu(jnp.abs(out)) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(
    input: ArrayLike, norm_type: float, kernel_size: int, stride: IntOrTuple | None = None, ceil_mode: bool = False
) -> jax.Array:
    """1-D power-average pooling, as ``torch.nn.functional.lp_pool1d``.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      norm_type: the power ``p`` (``inf``: max of ``|x|``; ``-inf``: min of ``|x|``).
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      ceil_mode: round the output length up (a partial last window is scaled as if full).

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), ``(sum over the window of x ** p) ** (1 / p)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.lp_pool1d(jnp.array([[1.0, 2.0, 2.0]]), 1, 2, stride=1).tolist()
      [[3.0, 4.0]]
    """
    return lp_pool_impl("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: ArrayLike,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> jax.Array:
    """2-D power-average pooling, as ``torch.nn.functional.lp_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      norm_type: the power ``p`` (``inf``: max of ``|x|``; ``-inf``: min of ``|x|``).
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      ceil_mode: round output sizes up.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.lp_pool2d(jnp.ones((1, 1, 4, 4)), 2, 2).tolist()
      [[[[2.0, 2.0], [2.0, 2.0]]]]
    """
    return lp_pool_impl("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: ArrayLike,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> jax.Array:
    """3-D power-average pooling, as ``torch.nn.functional.lp_pool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      norm_type: the power ``p`` (``inf``: max of ``|x|``; ``-inf``: min of ``|x|``).
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      ceil_mode: round output sizes up.

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.lp_pool3d(jnp.ones((1, 2, 2, 2)), 3, 2).tolist()
      [[[[2.0]]]]
    """
    return lp_pool_impl("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
