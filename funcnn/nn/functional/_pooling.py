"""Pieces shared by the pooling ops: argument checks, output sizes, first-maximum selection.

Max pooling follows PyTorch's CPU kernels exactly: a window's maximum is the first
maximal tap in row-major order (a later tap wins only when strictly greater, or NaN),
its gradient goes to that tap alone, and its index is the flat position
``((d * H) + h) * W + w`` inside the input's own spatial plane.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._spatial import IntOrTuple, ntuple

OutputSize = int | None | Sequence[int | None]


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


def index_dtype() -> np.dtype:
    """The dtype of returned pooling indices: int64 under ``jax_enable_x64``, else int32."""
    return jax.dtypes.canonicalize_dtype(np.int64)


def flat_index(positions: Sequence[np.ndarray], spatial: Sequence[int]) -> np.ndarray:
    """Row-major flat index ``(p0 * s1 + p1) * s2 + p2`` of per-dim positions, as an outer grid."""
    grids = np.meshgrid(*[np.asarray(p, np.int64) for p in positions], indexing="ij")
    index = np.zeros(grids[0].shape, np.int64)
    for grid, size in zip(grids, spatial):
        index = index * size + grid
    return index


def first_max_with_index(
    taps: Sequence[jax.Array], indices: Sequence[ArrayLike], start: ArrayLike
) -> tuple[jax.Array, jax.Array]:
    """``(values, indices)`` of each window's maximum, PyTorch's way.

    ``taps[j]`` holds tap ``j`` of every window (``-inf`` where it lies in padding) and
    ``indices[j]`` its flat input index; ``start`` is the index reported when no tap beats
    ``-inf``. A tap replaces the running maximum when strictly greater or NaN, so the
    first maximum wins ties; the gradient flows to the chosen tap through the selects.
    """
    best = jnp.full(jnp.shape(taps[0]), -jnp.inf, taps[0].dtype)
    dtype = index_dtype()
    index = jnp.broadcast_to(jnp.asarray(start, dtype), best.shape)
    for tap, tap_index in zip(taps, indices):
        take = (tap > best) | jnp.isnan(tap)
        best = jnp.where(take, tap, best)
        index = jnp.where(take, jnp.asarray(tap_index, dtype), index)
    return best, index
