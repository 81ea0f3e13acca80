"""Adaptive average and max pooling, 1-D to 3-D, with ``torch.nn.functional``'s numbers.

Output position ``i`` of a dim of size ``L`` pools inputs ``floor(i * L / out)`` up to
(not including) ``ceil((i + 1) * L / out)``: windows overlap when sizes don't divide.
Each window tap is a strided slice (equal windows) or a static gather, masked where a
shorter window ends; max pooling picks the first maximum, as PyTorch does.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.adaptive_avg_pool1d(jnp.arange(5.0).reshape(1, 5), 2).tolist()
  [[1.0, 3.0]]
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._pooling import OutputSize, _first_max, _tap_sum, first_max_with_index, flat_index, index_dtype
from ._spatial import _check_input


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


def _adaptive_taps(
    x: jax.Array, out: Sequence[int], fill: float
) -> tuple[list[jax.Array], list[np.ndarray], list[tuple[np.ndarray, ...]]]:
    """Taps of PyTorch's adaptive windows ``[floor(i*L/out), ceil((i+1)*L/out))`` over the last dims.

    Returns the taps (row-major over the largest window), per tap the static mask of
    output positions where the tap lies inside its window (outside, taps hold ``fill``),
    and per tap its input position along each dim.
    """
    lead = x.ndim - len(out)
    taps: list[tuple[jax.Array, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]] = [(x, (), ())]
    for d, o in enumerate(out):
        axis, size = lead + d, x.shape[lead + d]
        i = np.arange(o)
        start, end = (i * size) // o, -((-(i + 1) * size) // o)
        expanded = []
        for tap, valids, where in taps:
            for j in range(int((end - start).max())):
                if size % o == 0:  # equal windows: one strided slice
                    piece = lax.slice_in_dim(tap, j, j + (o - 1) * (size // o) + 1, stride=size // o, axis=axis)
                else:
                    piece = jnp.take(tap, np.minimum(start + j, end - 1), axis=axis)
                expanded.append((piece, valids + (start + j < end,), where + (start + j,)))
        taps = expanded
    result, masks = [], []
    for tap, valids, _ in taps:
        mask = functools.reduce(np.logical_and.outer, valids)
        if not mask.all():
            tap = jnp.where(jnp.asarray(mask), tap, jnp.asarray(fill, tap.dtype))
        result.append(tap)
        masks.append(mask)
    return result, masks, [where for _, _, where in taps]


def adaptive_pool_impl(
    owner: str, n: int, input: ArrayLike, output_size: OutputSize, kind: str, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """The ``n``-D adaptive pooling (``kind`` 'avg' or 'max') behind the adaptive functions and layers.

    With ``return_indices`` (max only) returns ``(values, flat indices in the input plane)``.
    """
    shape = _check_input(owner, input, n)
    out = adaptive_output_size(owner, n, output_size, shape)
    if any(s == 0 for s in shape[-n:]):
        raise ValueError(f"{owner}: expected non-empty spatial dimensions, got input shape {shape}")
    x = jnp.asarray(input)
    if any(o == 0 for o in out):
        empty = jnp.zeros(shape[:-n] + out, x.dtype)
        return (empty, jnp.zeros(empty.shape, index_dtype())) if return_indices else empty
    if return_indices:
        return _adaptive_indices_compiled(x, out)
    return _adaptive_compiled(x, out, kind)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _adaptive_compiled(x: jax.Array, out: tuple, kind: str) -> jax.Array:
    if kind == "max":
        taps, _, _ = _adaptive_taps(x, out, -jnp.inf)
        return _first_max(tuple(taps))
    taps, masks, _ = _adaptive_taps(x, out, 0.0)
    counts = functools.reduce(np.add, [m.astype(np.int64) for m in masks])
    total = _tap_sum(taps)
    if np.all(counts == counts.flat[0]):
        return total / jnp.asarray(counts.flat[0], total.dtype)
    return total / jnp.asarray(counts.reshape((1,) * (total.ndim - counts.ndim) + counts.shape), total.dtype)


@functools.partial(jax.jit, static_argnums=(1,))
def _adaptive_indices_compiled(x: jax.Array, out: tuple) -> tuple[jax.Array, jax.Array]:
    taps, _, where = _adaptive_taps(x, out, -jnp.inf)
    spatial = x.shape[-len(out) :]
    starts = [(np.arange(o) * size) // o for o, size in zip(out, spatial)]
    return first_max_with_index(taps, [flat_index(w, spatial) for w in where], flat_index(starts, spatial))


def adaptive_avg_pool1d(input: ArrayLike, output_size: OutputSize) -> jax.Array:
    """1-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      output_size: int or 1-tuple; ``None`` keeps ``L``.

    Returns:
      ``(N, C, L_out)`` (or ``(C, L_out)``), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_avg_pool1d(jnp.arange(7.0).reshape(1, 7), 3).tolist()
      [[1.0, 3.0, 5.0]]
    """
    return adaptive_pool_impl("adaptive_avg_pool1d", 1, input, output_size, "avg")


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
    return adaptive_pool_impl("adaptive_avg_pool2d", 2, input, output_size, "avg")


def adaptive_avg_pool3d(input: ArrayLike, output_size: OutputSize) -> jax.Array:
    """3-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      output_size: int or ``(D_out, H_out, W_out)``; a ``None`` entry keeps that input size.

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_avg_pool3d(jnp.ones((2, 3, 5, 4, 7)), (2, None, 3)).shape
      (2, 3, 2, 4, 3)
    """
    return adaptive_pool_impl("adaptive_avg_pool3d", 3, input, output_size, "avg")


def adaptive_max_pool1d(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """1-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d``.

    Windows as in `adaptive_avg_pool1d`; the gradient goes to the first maximum.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      output_size: int or 1-tuple; ``None`` keeps ``L``.
      return_indices: also return the flat index ``L`` of each maximum in its input plane.

    Returns:
      The pooled array (spatial dims replaced by ``output_size``), same dtype; with
      ``return_indices`` a pair ``(values, indices)``, indices int32 (int64 under x64).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool1d(jnp.array([[0.0, 5.0, 1.0, 2.0, 3.0]]), 2).tolist()
      [[5.0, 3.0]]
    """
    return adaptive_pool_impl("adaptive_max_pool1d", 1, input, output_size, "max", bool(return_indices))


def adaptive_max_pool2d(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """2-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool2d``.

    Windows as in `adaptive_avg_pool2d`; the gradient goes to the first maximum.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: also return the flat index ``h * W + w`` of each maximum in its input plane.

    Returns:
      The pooled array (spatial dims replaced by ``output_size``), same dtype; with
      ``return_indices`` a pair ``(values, indices)``, indices int32 (int64 under x64).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool2d(jnp.ones((3, 5, 7)), 2).shape
      (3, 2, 2)
    """
    return adaptive_pool_impl("adaptive_max_pool2d", 2, input, output_size, "max", bool(return_indices))


def adaptive_max_pool3d(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """3-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool3d``.

    Windows as in `adaptive_avg_pool3d`; the gradient goes to the first maximum.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      output_size: int or ``(D_out, H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum in its input plane.

    Returns:
      The pooled array (spatial dims replaced by ``output_size``), same dtype; with
      ``return_indices`` a pair ``(values, indices)``, indices int32 (int64 under x64).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool3d(jnp.ones((1, 3, 5, 4, 7)), (2, 1, 3)).shape
      (1, 3, 2, 1, 3)
    """
    return adaptive_pool_impl("adaptive_max_pool3d", 3, input, output_size, "max", bool(return_indices))


def adaptive_max_pool1d_with_indices(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> tuple[jax.Array, jax.Array]:
    """`adaptive_max_pool1d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating.
      output_size: int or 1-tuple; ``None`` keeps ``L``.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``; an index is ``L`` inside the input plane.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool1d_with_indices(jnp.array([[0.0, 5.0, 1.0, 2.0, 3.0]]), 2)[1].tolist()
      [[1, 4]]
    """
    del return_indices
    return adaptive_pool_impl("adaptive_max_pool1d_with_indices", 1, input, output_size, "max", True)


def adaptive_max_pool2d_with_indices(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> tuple[jax.Array, jax.Array]:
    """`adaptive_max_pool2d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``; an index is ``h * W + w`` inside the input plane.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool2d_with_indices(jnp.arange(6.0).reshape(1, 2, 3), 1)[1].tolist()
      [[[5]]]
    """
    del return_indices
    return adaptive_pool_impl("adaptive_max_pool2d_with_indices", 2, input, output_size, "max", True)


def adaptive_max_pool3d_with_indices(
    input: ArrayLike, output_size: OutputSize, return_indices: bool = False
) -> tuple[jax.Array, jax.Array]:
    """`adaptive_max_pool3d` returning ``(values, indices)`` whatever ``return_indices`` says, as in PyTorch.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      output_size: int or ``(D_out, H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``; an index is ``(d * H + h) * W + w`` inside the input plane.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.adaptive_max_pool3d_with_indices(jnp.arange(8.0).reshape(1, 2, 2, 2), 1)[1].tolist()
      [[[[7]]]]
    """
    del return_indices
    return adaptive_pool_impl("adaptive_max_pool3d_with_indices", 3, input, output_size, "max", True)
