"""Local response normalisation across channels: `local_response_norm` and torch's legacy cross-map form.

``y[:, c] = x[:, c] / (k + alpha / size * sum(x[:, c']**2 for c' in window(c)))**beta``,
the window ``size`` channels wide around ``c`` (``size // 2`` before, ``(size - 1) // 2``
after), zero beyond the edges. `cross_map_lrn2d_impl` is ``torch.nn.CrossMapLRN2d``'s
legacy kernel, which differs at the edges (see its notes).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.local_response_norm(jnp.ones((1, 3, 2)), 2, alpha=1.0, beta=1.0, k=1.0).tolist()
  [[[0.6666666865348816, 0.6666666865348816], [0.5, 0.5], [0.5, 0.5]]]
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, check_positive, shape_of


def _channel_window_sum(sq: jax.Array, before: int, after: int) -> jax.Array:
    """``out[:, c] = sum(sq[:, c - before : c + after + 1])`` with zeros outside the channels."""
    pad = [(0, 0)] * sq.ndim
    pad[1] = (before, after)
    padded = jnp.pad(sq, pad)
    window = (1, before + after + 1) + (1,) * (sq.ndim - 2)
    return lax.reduce_window(padded, np.array(0, sq.dtype), lax.add, window, (1,) * sq.ndim, "VALID")


def check_lrn_args(owner: str, size: Any, alpha: Any, beta: Any, k: Any) -> None:
    check_positive(owner, "size", size)
    for name, v in (("alpha", alpha), ("beta", beta), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{owner}: `{name}` must be a real number, got {type(v).__name__}")


def local_response_norm_impl(owner: str, input: ArrayLike, size: int, alpha: float, beta: float, k: float) -> jax.Array:
    check_lrn_args(owner, size, alpha, beta, k)
    check_floating(owner, input)
    x = jnp.asarray(input)
    if x.ndim < 3:
        raise ValueError(
            f"{owner}: expected an input of shape (N, C, *) with at least 3 dimensions, got shape {shape_of(x)}; "
            f"add a length-1 axis, e.g. `x[..., None]`"
        )
    div = _channel_window_sum(x * x, size // 2, (size - 1) // 2) / size
    return x / (div * alpha + k) ** beta


def local_response_norm(
    input: ArrayLike, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> jax.Array:
    """Normalise each channel by the mean square of its ``size`` neighbouring channels.

    Args:
      input: ``(N, C, *)`` floating array with at least 3 dimensions.
      size: channels in the window.
      alpha: multiplier of the windowed mean square.
      beta: exponent.
      k: additive constant.

    Returns:
      The input's shape and dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.local_response_norm(jnp.ones((2, 5, 3, 3)), 3).shape
      (2, 5, 3, 3)
    """
    return local_response_norm_impl("local_response_norm", input, size, alpha, beta, k)


def _cross_map_scale(x: jax.Array, size: int, alpha: float, k: float) -> jax.Array:
    """``k + alpha / size * window sum of x**2`` with the legacy kernel's windows.

    The kernel slides a running sum from channel 0 and never subtracts ``x[:, 0]**2``:
    channel ``c`` sums ``c - pre + 1 .. c + pre - 1`` (``pre = (size - 1) // 2 + 1``),
    plus channel 0 once ``c >= pre``.
    """
    pre = (size - 1) // 2 + 1
    sq = x * x
    scale = _channel_window_sum(sq, pre - 1, pre - 1)
    c = jnp.arange(x.shape[1]).reshape((1, -1) + (1,) * (x.ndim - 2))
    scale = scale + jnp.where(c >= pre, sq[:, :1], jnp.zeros((), x.dtype))
    return scale * (alpha / size) + k


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
def _cross_map_core(x: jax.Array, size: int, alpha: float, beta: float, k: float) -> jax.Array:
    return x * _cross_map_scale(x, size, alpha, k) ** -beta


def _cross_map_fwd(x: jax.Array, size: int, alpha: float, beta: float, k: float) -> tuple[jax.Array, Any]:
    scale = _cross_map_scale(x, size, alpha, k)
    out = x * scale**-beta
    return out, (x, out, scale)


def _cross_map_bwd(size: int, alpha: float, beta: float, k: float, res: Any, g: jax.Array) -> tuple[jax.Array]:
    # The legacy kernel's hand-written backward, reproduced: the derivative of a plain
    # window starting ``(size + 1) // 2`` channels before, not of the forward above.
    x, out, scale = res
    ratio = g * out / scale
    before = (size + 1) // 2 if size > 1 else 0  # torch's backward fails for size=1; use the exact one
    acc = _channel_window_sum(ratio, before, size - 1 - before)
    return (scale**-beta * g - (2 * alpha * beta / size) * x * acc,)


_cross_map_core.defvjp(_cross_map_fwd, _cross_map_bwd)


def cross_map_lrn2d_impl(owner: str, input: ArrayLike, size: int, alpha: float, beta: float, k: float) -> jax.Array:
    """``torch.nn.CrossMapLRN2d``'s forward and backward on ``(N, C, H, W)`` inputs."""
    check_lrn_args(owner, size, alpha, beta, k)
    check_floating(owner, input)
    x = jnp.asarray(input)
    if x.ndim != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {shape_of(x)}")
    return _cross_map_core(x, size, float(alpha), float(beta), float(k))
