"""Average pooling, 1-D to 3-D, with ``torch.nn.functional``'s arguments and numbers.

A window is the sum of its taps (strided slices of the zero-padded input, fused by
XLA) over a static divisor: the window's size, or with ``count_include_pad=False``
only its part inside the input; the part of a ``ceil_mode`` window past the right
padding never counts, as in PyTorch.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.avg_pool2d(jnp.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
  [[[[2.5, 4.5], [10.5, 12.5]]]]
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._pooling import _output_shape, _tap_sum, pool_args
from ._spatial import IntOrTuple, _check_input
from ._windows import windows


def _avg_counts(size: int, kernel: int, padding: int, stride: int, out: int, count_include_pad: bool) -> np.ndarray:
    """Per-window divisor along one dim (PyTorch: the part past the right padding never counts)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def check_divisor(owner: str, divisor_override: object) -> None:
    """ValueError unless ``divisor_override`` is None or a non-zero int."""
    if divisor_override is None:
        return
    valid = isinstance(divisor_override, (int, np.integer)) and not isinstance(divisor_override, bool)
    if not valid or divisor_override == 0:
        raise ValueError(f"{owner}: `divisor_override` must be a non-zero int or None, got {divisor_override!r}")


def avg_pool_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None = None,
) -> jax.Array:
    """The ``n``-D average pooling behind `avg_pool1d`/`2d`/`3d` and the layers."""
    kernel, strides, pads, _ = pool_args(owner, n, kernel_size, stride, padding)
    check_divisor(owner, divisor_override)
    shape = _check_input(owner, input, n)
    out = _output_shape(owner, shape, n, kernel, strides, pads, (1,) * n, bool(ceil_mode))
    override = None if divisor_override is None else int(divisor_override)
    return _avg_pool_compiled(jnp.asarray(input), kernel, strides, pads, out, bool(count_include_pad), override)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6))
def _avg_pool_compiled(
    x: jax.Array,
    kernel: tuple,
    stride: tuple,
    padding: tuple,
    out: tuple,
    count_include_pad: bool,
    override: int | None,
) -> jax.Array:
    n = len(kernel)
    total = _tap_sum(windows(x, kernel, stride, padding, (1,) * n, out, 0.0))
    if override is not None:
        return total / jnp.asarray(override, total.dtype)
    counts = [_avg_counts(*a, count_include_pad) for a in zip(x.shape[-n:], kernel, padding, stride, out)]
    divisor = functools.reduce(np.multiply.outer, counts)
    if np.all(divisor == divisor.flat[0]):
        return total / jnp.asarray(divisor.flat[0], total.dtype)
    return total / jnp.asarray(divisor.reshape((1,) * (total.ndim - divisor.ndim) + divisor.shape), total.dtype)


def avg_pool1d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> jax.Array:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d`` (which has no ``divisor_override``).

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit zero padding on both sides, at most ``kernel_size // 2``.
      ceil_mode: round the output length up.
      count_include_pad: count the zero padding in the divisor (never the part of a
        ``ceil_mode`` window past the right padding).

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.avg_pool1d(jnp.array([[1.0, 2.0, 3.0]]), 2, padding=1, count_include_pad=False).tolist()
      [[1.0, 2.5]]
    """
    return avg_pool_impl("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> jax.Array:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      padding: implicit zero padding, at most half the kernel size per dim.
      ceil_mode: round output sizes up.
      count_include_pad: count the zero padding in the divisor.
      divisor_override: divide every window sum by this instead.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.avg_pool2d(jnp.ones((1, 1, 4, 4)), 2, divisor_override=1).tolist()
      [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    return avg_pool_impl(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> jax.Array:
    """3-D average pooling, as ``torch.nn.functional.avg_pool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      padding: implicit zero padding, at most half the kernel size per dim.
      ceil_mode: round output sizes up.
      count_include_pad: count the zero padding in the divisor.
      divisor_override: divide every window sum by this instead.

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.avg_pool3d(jnp.ones((1, 1, 3, 4, 4)), 2, padding=1, count_include_pad=False).tolist()[0][0][0]
      [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    return avg_pool_impl(
        "avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
