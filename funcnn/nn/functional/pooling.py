"""Max, average and adaptive pooling with ``torch.nn.functional``'s arguments and numbers.

Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``; pooling acts on the
trailing 1 or 2 spatial dims.

How pooling runs: a window of ``k`` taps is ``k`` strided slices of the (padded)
input, combined elementwise; XLA fuses them into one loop. For the 2 x 2 max pooling
of a small CNN on a CPU, forward and backward together measured about 3x faster than
``lax.reduce_window`` (whose gradient is a ``select_and_scatter``) and about 10x faster
than a reshape and ``max`` (``benchmarks/conv_formulations.py``); the same code handles
padding, dilation and ``ceil_mode``. Max pooling sends the gradient to the **first**
maximum of each window in row-major order, exactly as PyTorch does on ties (a plain
``max`` would split it among the tied entries).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> x = jnp.arange(16.0).reshape(1, 1, 4, 4)
  >>> F.max_pool2d(x, 2).tolist()
  [[[[5.0, 7.0], [13.0, 15.0]]]]
  >>> F.avg_pool2d(x, 2).tolist()
  [[[[2.5, 4.5], [10.5, 12.5]]]]
  >>> F.adaptive_avg_pool1d(jnp.arange(5.0).reshape(1, 5), 2).tolist()
  [[1.0, 3.0]]
"""

from __future__ import annotations

import functools
from typing import Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._windows import windows
from .conv import IntOrTuple, _check_input, ntuple

OutputSize = Union[int, None, Sequence[Union[int, None]]]


# ------------------------------------------------------------------------ shared pieces
def pool_output_size(size: int, kernel: int, padding: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooled length: floor (or ceil) division, and with ``ceil_mode`` the
    last window must start inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool_args(
    owner: str,
    n: int,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    dilation: IntOrTuple = 1,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Validated ``(kernel, stride, padding, dilation)`` tuples; ``stride=None`` means the kernel size.

    Padding may be at most half the kernel size, as PyTorch requires.
    """
    kernel = ntuple(owner, "kernel_size", kernel_size, n, minimum=1)
    given = stride is not None and stride != () and stride != []
    strides = ntuple(owner, "stride", stride, n, minimum=1) if given else kernel
    pads = ntuple(owner, "padding", padding, n, minimum=0)
    dilations = ntuple(owner, "dilation", dilation, n, minimum=1)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{owner}: `padding` (={pads}) must be at most half of `kernel_size` (={kernel}); "
            f"use a larger kernel or less padding"
        )
    return kernel, strides, pads, dilations


def _output_shape(
    owner: str,
    shape: tuple[int, ...],
    n: int,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
) -> tuple[int, ...]:
    out = tuple(pool_output_size(*a, ceil_mode) for a in zip(shape[-n:], kernel, padding, stride, dilation))
    if any(o < 1 for o in out):
        raise ValueError(
            f"{owner}: input of shape {shape} is too small for kernel {tuple(kernel)} with padding "
            f"{tuple(padding)} and dilation {tuple(dilation)} (output size {out}); use a smaller kernel or more padding"
        )
    return out


@jax.custom_jvp
def _first_max(taps: tuple[jax.Array, ...]) -> jax.Array:
    """Elementwise max of the taps; the derivative follows the first maximal tap (PyTorch's rule)."""
    return functools.reduce(jnp.maximum, taps)


@_first_max.defjvp
def _first_max_jvp(primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
    (taps,), (dtaps,) = primals, tangents
    y = _first_max(taps)
    taken = jnp.zeros(y.shape, bool)
    dy = jnp.zeros(y.shape, y.dtype)
    for tap, dtap in zip(taps, dtaps):
        hit = (tap == y) & ~taken
        taken = taken | hit
        dy = jnp.where(hit, dtap, dy)
    return y, dy


def _tap_sum(taps: Sequence[jax.Array]) -> jax.Array:
    return functools.reduce(jnp.add, taps)


# ------------------------------------------------------------------------- max pooling
def max_pool(
    owner: str,
    n: int,
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    dilation: IntOrTuple,
    ceil_mode: bool,
    return_indices: bool = False,
) -> jax.Array:
    """The ``n``-D max pooling behind `max_pool1d`/`max_pool2d` and the layers; errors name ``owner``."""
    if return_indices:
        raise ValueError(f"{owner}: return_indices=True is not supported; call it with return_indices=False")
    kernel, strides, pads, dilations = pool_args(owner, n, kernel_size, stride, padding, dilation)
    shape = _check_input(owner, input, n)
    out = _output_shape(owner, shape, n, kernel, strides, pads, dilations, bool(ceil_mode))
    return _max_pool_compiled(jnp.asarray(input), kernel, strides, pads, dilations, out)


# The cores are compiled per configuration: one XLA program per call even when run
# eagerly (inside an outer ``jit`` they are simply inlined).
@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _max_pool_compiled(
    x: jax.Array, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple
) -> jax.Array:
    return _first_max(tuple(windows(x, kernel, stride, padding, dilation, out, -jnp.inf)))


def max_pool1d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array:
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit ``-inf`` padding on both sides, at most ``kernel_size // 2``.
      dilation: spacing between window taps.
      ceil_mode: round the output length up (the last window must start inside the
        input or the left padding).
      return_indices: not supported; must be False.

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype, with
      ``L_out = floor_or_ceil((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool1d(jnp.array([[1.0, 3.0, 2.0, 5.0, 4.0]]), 2, ceil_mode=True).tolist()
      [[3.0, 5.0, 4.0]]
    """
    return max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> jax.Array:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      padding: implicit ``-inf`` padding, at most half the kernel size per dim.
      dilation: spacing between window taps.
      ceil_mode: round output sizes up (the last window must start inside the input
        or the left padding).
      return_indices: not supported; must be False.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype; sizes as in `max_pool1d`.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_pool2d(jnp.ones((2, 3, 5, 5)), 2, ceil_mode=True).shape
      (2, 3, 3, 3)
    """
    return max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# --------------------------------------------------------------------- average pooling
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


def avg_pool(
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
    """The ``n``-D average pooling behind `avg_pool1d`/`avg_pool2d` and the layers."""
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
    return total / jnp.asarray(divisor, total.dtype)


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
    return avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


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
    return avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


# -------------------------------------------------------------------- adaptive pooling
def adaptive_output_size(owner: str, n: int, output_size: OutputSize, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``output_size`` as an ``n``-tuple; ``None`` entries keep the input's size."""
    if output_size is None or isinstance(output_size, (int, np.integer)):
        sizes = (output_size,) * n
    elif isinstance(output_size, (tuple, list)) and len(output_size) == n:
        sizes = tuple(output_size)
    else:
        raise TypeError(f"{owner}: `output_size` must be an int or a tuple of {n} ints (or None), got {output_size!r}")
    out = []
    for s, size in zip(sizes, shape[-n:]):
        if s is None:
            out.append(size)
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0:
            out.append(int(s))
        else:
            raise ValueError(f"{owner}: `output_size` entries must be non-negative ints or None, got {output_size!r}")
    return tuple(out)


def _adaptive_taps(x: jax.Array, out: Sequence[int], fill: float) -> tuple[list[jax.Array], list[np.ndarray]]:
    """Taps of PyTorch's adaptive windows ``[floor(i*L/out), ceil((i+1)*L/out))`` over the last dims.

    Returns the taps (row-major over the largest window) and, per tap, the static mask
    of output positions where the tap lies inside its window; outside, taps hold ``fill``.
    """
    lead = x.ndim - len(out)
    taps: list[tuple[jax.Array, tuple[np.ndarray, ...]]] = [(x, ())]
    for d, o in enumerate(out):
        axis, size = lead + d, x.shape[lead + d]
        i = np.arange(o)
        start, end = (i * size) // o, -((-(i + 1) * size) // o)
        expanded = []
        for tap, valids in taps:
            for j in range(int((end - start).max())):
                if size % o == 0:  # equal windows: one strided slice
                    piece = lax.slice_in_dim(tap, j, j + (o - 1) * (size // o) + 1, stride=size // o, axis=axis)
                else:
                    piece = jnp.take(tap, np.minimum(start + j, end - 1), axis=axis)
                expanded.append((piece, valids + (start + j < end,)))
        taps = expanded
    result, masks = [], []
    for tap, valids in taps:
        mask = functools.reduce(np.logical_and.outer, valids)
        if not mask.all():
            tap = jnp.where(jnp.asarray(mask), tap, jnp.asarray(fill, tap.dtype))
        result.append(tap)
        masks.append(mask)
    return result, masks


def adaptive_pool(owner: str, n: int, input: ArrayLike, output_size: OutputSize, kind: str) -> jax.Array:
    """The ``n``-D adaptive pooling (``kind`` 'avg' or 'max') behind the adaptive functions and layers."""
    shape = _check_input(owner, input, n)
    out = adaptive_output_size(owner, n, output_size, shape)
    if any(s == 0 for s in shape[-n:]):
        raise ValueError(f"{owner}: expected non-empty spatial dimensions, got input shape {shape}")
    x = jnp.asarray(input)
    if any(o == 0 for o in out):
        return jnp.zeros(shape[:-n] + out, x.dtype)
    return _adaptive_compiled(x, out, kind)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _adaptive_compiled(x: jax.Array, out: tuple, kind: str) -> jax.Array:
    if kind == "max":
        taps, _ = _adaptive_taps(x, out, -jnp.inf)
        return _first_max(tuple(taps))
    taps, masks = _adaptive_taps(x, out, 0.0)
    counts = functools.reduce(np.add, [m.astype(np.int64) for m in masks])
    total = _tap_sum(taps)
    if np.all(counts == counts.flat[0]):
        return total / jnp.asarray(counts.flat[0], total.dtype)
    return total / jnp.asarray(counts, total.dtype)


def adaptive_avg_pool1d(input: ArrayLike, output_size: OutputSize) -> jax.Array:
    """1-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Output position ``i`` averages input positions ``floor(i * L / out)`` up to (not
    including) ``ceil((i + 1) * L / out)``: windows overlap when sizes don't divide.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      output_size: ``L_out`` (int or 1-tuple; ``None`` keeps ``L``).

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_avg_pool1d(jnp.arange(7.0).reshape(1, 7), 3).tolist()
      [[1.0, 3.0, 5.0]]
    """
    return adaptive_pool("adaptive_avg_pool1d", 1, input, output_size, "avg")


def adaptive_avg_pool2d(input: ArrayLike, output_size: OutputSize) -> jax.Array:
    """2-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_avg_pool2d(jnp.ones((2, 3, 5, 7)), (2, None)).shape
      (2, 3, 2, 7)
    """
    return adaptive_pool("adaptive_avg_pool2d", 2, input, output_size, "avg")


def adaptive_max_pool1d(input: ArrayLike, output_size: OutputSize, return_indices: bool = False) -> jax.Array:
    """1-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d``.

    Windows as in `adaptive_avg_pool1d`; the gradient goes to the first maximum.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      output_size: ``L_out`` (int or 1-tuple; ``None`` keeps ``L``).
      return_indices: not supported; must be False.

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool1d(jnp.array([[0.0, 5.0, 1.0, 2.0, 3.0]]), 2).tolist()
      [[5.0, 3.0]]
    """
    if return_indices:
        raise ValueError("adaptive_max_pool1d: return_indices=True is not supported; call it with return_indices=False")
    return adaptive_pool("adaptive_max_pool1d", 1, input, output_size, "max")


def adaptive_max_pool2d(input: ArrayLike, output_size: OutputSize, return_indices: bool = False) -> jax.Array:
    """2-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: not supported; must be False.

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool2d(jnp.ones((3, 5, 7)), 2).shape
      (3, 2, 2)
    """
    if return_indices:
        raise ValueError("adaptive_max_pool2d: return_indices=True is not supported; call it with return_indices=False")
    return adaptive_pool("adaptive_max_pool2d", 2, input, output_size, "max")
