"""Max pooling, 1-D to 3-D, with ``torch.nn.functional``'s arguments, numbers and indices.

A window of ``k`` taps is ``k`` strided slices of the (``-inf``) padded input,
combined elementwise; XLA fuses them into one loop. For the 2 x 2 max pooling of a
small CNN on a CPU, forward and backward together measured about 3x faster than
``lax.reduce_window`` (whose gradient is a ``select_and_scatter``) and about 10x faster
than a reshape and ``max`` (``benchmarks/conv_formulations.py``). When windows overlap
(ResNet's 3 x 3 pooling with stride 2), the derivative of the taps' selects re-decides
every window for each of its taps, so there the tangent is instead one gather at each
window's argmax and the gradient one scatter-add: 10x faster forward plus backward on
ResNet-18's pooling of 8 x 64 x 32 x 32 (2.5 ms against 25 ms on 2 CPU cores). The
gradient goes to the **first** maximum of each window in row-major order, as in PyTorch. With
``return_indices=True`` the flat index of that maximum inside its input plane comes
too (``h * W + w`` in 2-D), ready for `max_unpool2d`.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> x = jnp.arange(16.0).reshape(1, 1, 4, 4)
  >>> F.max_pool2d(x, 2).tolist()
  [[[[5.0, 7.0], [13.0, 15.0]]]]
  >>> F.max_pool2d(x, 2, return_indices=True)[1].tolist()
  [[[[5, 7], [13, 15]]]]
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._pooling import _first_max, _output_shape, first_max_with_index, flat_index, pool_args
from ._spatial import IntOrTuple, _check_input
from ._windows import windows


def max_pool_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    dilation: IntOrTuple,
    ceil_mode: bool,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """The ``n``-D max pooling behind `max_pool1d`/`2d`/`3d` and the layers; errors name ``owner``."""
    kernel, strides, pads, dilations = pool_args(owner, n, kernel_size, stride, padding, dilation)
    shape = _check_input(owner, input, n)
    out = _output_shape(owner, shape, n, kernel, strides, pads, dilations, bool(ceil_mode))
    x = jnp.asarray(input)
    if return_indices:
        return _max_pool_indices_compiled(x, kernel, strides, pads, dilations, out)
    return _max_pool_compiled(x, kernel, strides, pads, dilations, out)


# The cores are compiled per configuration: one XLA program per call even when run
# eagerly (inside an outer ``jit`` they are simply inlined).
@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _max_pool_compiled(
    x: jax.Array, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple
) -> jax.Array:
    if all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation)):  # disjoint windows
        return _first_max(tuple(windows(x, kernel, stride, padding, dilation, out, -jnp.inf)))
    return _overlapping_max_pool(x, kernel, stride, padding, dilation, out)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3, 4, 5))
def _overlapping_max_pool(
    x: jax.Array, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple
) -> jax.Array:
    return functools.reduce(jnp.maximum, windows(x, kernel, stride, padding, dilation, out, -jnp.inf))


@_overlapping_max_pool.defjvp
def _overlapping_max_pool_jvp(
    kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple, primals: tuple, tangents: tuple
) -> tuple[jax.Array, jax.Array]:
    """The tangent at each window's first maximum, read by one gather (so the gradient is one scatter-add)."""
    (x,), (dx,) = primals, tangents
    y, index = _max_pool_with_index(x, kernel, stride, padding, dilation, out)
    n = len(kernel)
    rows = math.prod(x.shape[:-n])
    planes = dx.reshape(rows, math.prod(x.shape[-n:]))
    dy = jnp.take_along_axis(planes, index.reshape(rows, math.prod(out)), axis=1, mode="clip")
    return y, dy.reshape(y.shape)


def _tap_indices(
    spatial: Sequence[int], kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple
) -> tuple[list[np.ndarray], np.ndarray]:
    """Flat input index of every tap of every window (row-major taps), and of each
    window's first tap inside the input (PyTorch's index when nothing beats ``-inf``)."""
    origin = [np.arange(o) * s - p for o, s, p in zip(out, stride, padding)]
    taps = [
        flat_index([o + j * d for o, j, d in zip(origin, offsets, dilation)], spatial)
        for offsets in itertools.product(*(range(k) for k in kernel))
    ]
    first = [np.where(o < 0, o + (-o + d - 1) // d * d, o) for o, d in zip(origin, dilation)]
    return taps, flat_index(first, spatial)


def _max_pool_with_index(
    x: jax.Array, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple
) -> tuple[jax.Array, jax.Array]:
    taps = windows(x, kernel, stride, padding, dilation, out, -jnp.inf)
    indices, start = _tap_indices(x.shape[-len(kernel) :], kernel, stride, padding, dilation, out)
    return first_max_with_index(taps, indices, start)


_max_pool_indices_compiled = jax.jit(_max_pool_with_index, static_argnums=(1, 2, 3, 4, 5))


def max_pool1d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit ``-inf`` padding on both sides, at most ``kernel_size // 2``.
      dilation: spacing between window taps.
      ceil_mode: round the output length up (the last window must start inside the
        input or the left padding).
      return_indices: also return the index of each maximum along ``L``.

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype, with
      ``L_out = floor_or_ceil((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``;
      with ``return_indices`` a pair ``(values, indices)``, indices int32 (int64 under x64).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool1d(jnp.array([[1.0, 3.0, 2.0, 5.0, 4.0]]), 2, ceil_mode=True).tolist()
      [[3.0, 5.0, 4.0]]
    """
    return max_pool_impl("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      padding: implicit ``-inf`` padding, at most half the kernel size per dim.
      dilation: spacing between window taps.
      ceil_mode: round output sizes up (the last window must start inside the input
        or the left padding).
      return_indices: also return the flat index ``h * W + w`` of each maximum.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype; sizes as in `max_pool1d`;
      with ``return_indices`` a pair ``(values, indices)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool2d(jnp.ones((2, 3, 5, 5)), 2, ceil_mode=True).shape
      (2, 3, 3, 3)
    """
    return max_pool_impl("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """3-D max pooling, as ``torch.nn.functional.max_pool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      padding: implicit ``-inf`` padding, at most half the kernel size per dim.
      dilation: spacing between window taps.
      ceil_mode: round output sizes up.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum.

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched), same dtype; sizes as in
      `max_pool1d`; with ``return_indices`` a pair ``(values, indices)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool3d(jnp.ones((1, 2, 5, 4, 4)), 2, ceil_mode=True).shape
      (1, 2, 3, 2, 2)
    """
    return max_pool_impl("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """`max_pool1d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      kernel_size: as in `max_pool1d`.
      stride: as in `max_pool1d`.
      padding: as in `max_pool1d`.
      dilation: as in `max_pool1d`.
      ceil_mode: as in `max_pool1d`.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``, both ``(N, C, L_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool1d_with_indices(jnp.array([[1.0, 3.0, 2.0, 5.0]]), 2)[1].tolist()
      [[1, 3]]
    """
    del return_indices
    return max_pool_impl("max_pool1d_with_indices", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """`max_pool2d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      kernel_size: as in `max_pool2d`.
      stride: as in `max_pool2d`.
      padding: as in `max_pool2d`.
      dilation: as in `max_pool2d`.
      ceil_mode: as in `max_pool2d`.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``, both ``(N, C, H_out, W_out)`` (or unbatched); an index is ``h * W + w``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool2d_with_indices(jnp.arange(9.0).reshape(1, 3, 3), 2, ceil_mode=True)[1].tolist()
      [[[4, 5], [7, 8]]]
    """
    del return_indices
    return max_pool_impl("max_pool2d_with_indices", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """`max_pool3d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      kernel_size: as in `max_pool3d`.
      stride: as in `max_pool3d`.
      padding: as in `max_pool3d`.
      dilation: as in `max_pool3d`.
      ceil_mode: as in `max_pool3d`.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``, both ``(N, C, D_out, H_out, W_out)`` (or unbatched); an
      index is ``(d * H + h) * W + w``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool3d_with_indices(jnp.arange(8.0).reshape(1, 2, 2, 2), 2)[1].tolist()
      [[[[7]]]]
    """
    del return_indices
    return max_pool_impl("max_pool3d_with_indices", 3, input, kernel_size, stride, padding, dilation, ceil_mode, True)
