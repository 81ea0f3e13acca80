"""Fractional max pooling (Graham, 2014), 2-D and 3-D, with PyTorch's exact regions.

Each ``(sample, channel)`` plane gets one number ``u`` in ``[0, 1)`` per pooled dim;
output position ``i < out - 1`` along a dim of size ``L`` pools the ``k`` inputs from
``int((i + u) * alpha) - int(u * alpha)``, with ``alpha = (L - k) / (out - 1)``
computed in the input's dtype, and the last position starts at ``L - k``: PyTorch's
``generate_intervals``. The numbers come from ``_random_samples`` (shape ``(N, C, 2)``
or ``(N, C, 3)``, ``[0]`` for the last dim W, ``[1]`` for H in 2-D; ``[0]`` for D, ``[1]``
for H, ``[2]`` for W in 3-D), or are drawn ``U[0, 1)`` from ``key``: the pooling is
random in every mode, as in PyTorch, so a call without either is an error. The
maximum is the first one in row-major order and its index is the flat position in the
input plane, as in max pooling.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> x = jnp.arange(25.0).reshape(1, 1, 5, 5)
  >>> F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=jnp.zeros((1, 1, 2))).tolist()
  [[[[6.0, 9.0], [21.0, 24.0]]]]
  >>> F.fractional_max_pool2d(x, 2, output_ratio=0.5, key=jax.random.key(0)).shape
  (1, 1, 2, 2)
"""

from __future__ import annotations

import functools
import itertools
import numbers
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import shape_of
from ._pooling import first_max_with_index
from ._spatial import IntOrTuple, _check_input, ntuple

Ratio = float | Sequence[float]

_SAMPLE_ORDER = {2: (1, 0), 3: (0, 1, 2)}  # which sample drives each spatial dim (torch's kernels)


def fractional_output_size(
    owner: str, n: int, shape: tuple[int, ...], output_size: IntOrTuple | None, output_ratio: Ratio | None
) -> tuple[int, ...]:
    """``output_size`` as an ``n``-tuple, or ``int(size * ratio)`` per dim from ``output_ratio``."""
    if (output_size is None) == (output_ratio is None):
        raise ValueError(
            f"{owner}: give exactly one of `output_size` and `output_ratio`, got output_size={output_size!r} "
            f"and output_ratio={output_ratio!r}"
        )
    if output_size is not None:
        return ntuple(owner, "output_size", output_size, n, minimum=0)
    ratios = (output_ratio,) * n if isinstance(output_ratio, numbers.Real) else output_ratio
    valid = isinstance(ratios, (tuple, list)) and len(ratios) == n
    if not valid or not all(isinstance(r, numbers.Real) and 0 < r < 1 for r in ratios):  # type: ignore[union-attr]
        raise ValueError(
            f"{owner}: `output_ratio` must be a number or a tuple of {n} numbers in (0, 1), got {output_ratio!r}"
        )
    return tuple(int(size * r) for size, r in zip(shape[-n:], ratios))  # type: ignore[union-attr]


def fractional_max_pool_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    kernel_size: IntOrTuple,
    output_size: IntOrTuple | None,
    output_ratio: Ratio | None,
    return_indices: bool,
    samples: ArrayLike | None,
    key: jax.Array | None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """The ``n``-D fractional max pooling behind the functions and layers; errors name ``owner``."""
    kernel = ntuple(owner, "kernel_size", kernel_size, n, minimum=1)
    shape = _check_input(owner, input, n)
    out = fractional_output_size(owner, n, shape, output_size, output_ratio)
    # torch's bounds: output + pool - 1 <= input in 2-D, strictly below it in 3-D
    names, slack = (("height", "width"), 0) if n == 2 else (("time", "height", "width"), 1)
    for name, o, k, size in zip(names, out, kernel, shape[-n:]):
        if o + k - 1 > size - slack:
            raise ValueError(
                f"{owner}: pool {name} {k} too large relative to input {name} {size} for output size {o} "
                f"(needs output size + pool size - 1 {'<' if slack else '<='} input size); use a smaller kernel or output"
            )
    batch = shape[0] if len(shape) == n + 2 else 1
    channels = shape[-n - 1]
    x = jnp.asarray(input)
    if samples is None:
        if key is None:
            raise ValueError(
                f"{owner}: fractional max pooling places its regions at random in every mode and needs a PRNG key, "
                f"got key=None; pass key=jax.random.key(step) (or fixed `_random_samples`)"
            )
        u = jax.random.uniform(key, (batch, channels, n), x.dtype)
    else:
        got = shape_of(samples)
        if len(got) != 3 or got[0] < batch or got[1] != channels or got[2] != n:
            raise ValueError(
                f"{owner}: expected `_random_samples` of shape (N >= {batch}, {channels}, {n}) for input shape "
                f"{shape}, got shape {got}"
            )
        u = jnp.asarray(samples)[:batch].astype(x.dtype)
    values, indices = _fractional_compiled(x, u, kernel, out)
    return (values, indices) if return_indices else values


def _starts(u: jax.Array, size: int, out: int, pool: int) -> jax.Array:
    """PyTorch's ``generate_intervals`` for every plane: ``u`` (B, C) -> starts (B, C, out)."""
    last = jnp.full(u.shape + (1,), size - pool, jnp.int32)
    if out == 1:
        return last
    alpha = jnp.asarray(size - pool, u.dtype) / jnp.asarray(out - 1, u.dtype)
    i = jnp.arange(out - 1, dtype=u.dtype).reshape((1,) * u.ndim + (out - 1,))
    u = u[..., None]
    seq = ((i + u) * alpha).astype(jnp.int32) - (u * alpha).astype(jnp.int32)
    return jnp.concatenate([seq, last], axis=-1)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _fractional_compiled(x: jax.Array, u: jax.Array, kernel: tuple, out: tuple) -> tuple[jax.Array, jax.Array]:
    n = len(kernel)
    batched = x.ndim == n + 2
    if not batched:
        x = x[None]
    b, c = x.shape[:2]
    spatial = x.shape[2:]
    empty = any(o == 0 for o in out)
    if empty:
        values = jnp.zeros((b, c, *out), x.dtype)
        indices = jnp.zeros(values.shape, jax.dtypes.canonicalize_dtype(np.int64))
    else:
        u = jax.lax.stop_gradient(u)
        starts = [_starts(u[..., _SAMPLE_ORDER[n][d]], spatial[d], out[d], kernel[d]) for d in range(n)]

        def along(d: int, pos: jax.Array) -> jax.Array:  # (B, C, out_d) -> broadcastable over the output grid
            return pos.reshape(b, c, *[out[e] if e == d else 1 for e in range(n)])

        # The regions are separable: one gather per dim reads every window's rows, then
        # columns, ...: (B, C, out_0 * k_0, out_1 * k_1, ...), whose taps are plain slices.
        windows = x
        for d in range(n):
            rows = (starts[d][..., None] + jnp.arange(kernel[d]).reshape(1, 1, 1, -1)).reshape(b, c, out[d] * kernel[d])
            rows = rows.reshape(b, c, *[-1 if e == d else 1 for e in range(n)])
            windows = jnp.take_along_axis(windows, rows, axis=2 + d)
        windows = windows.reshape(b, c, *[size for o, k in zip(out, kernel) for size in (o, k)])
        taps, tap_indices = [], []
        for offsets in itertools.product(*(range(k) for k in kernel)):
            index = jnp.zeros((b, c) + (1,) * n, jnp.int32)
            for d, j in enumerate(offsets):
                index = index * spatial[d] + along(d, starts[d] + j)
            taps.append(windows[(slice(None), slice(None)) + tuple(p for j in offsets for p in (slice(None), j))])
            tap_indices.append(jnp.broadcast_to(index, (b, c, *out)))
        values, indices = first_max_with_index(taps, tap_indices, tap_indices[0])
    return (values, indices) if batched else (values[0], indices[0])


def fractional_max_pool2d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    output_size: IntOrTuple | None = None,
    output_ratio: Ratio | None = None,
    return_indices: bool = False,
    _random_samples: ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """2-D fractional max pooling, as ``torch.nn.functional.fractional_max_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
      kernel_size: int or ``(kH, kW)``, the pooling region.
      output_size: int or ``(H_out, W_out)``; or give
      output_ratio: a number or pair in ``(0, 1)``: ``H_out = int(H * ratio)``.
      return_indices: also return the flat index ``h * W + w`` of each maximum.
      _random_samples: ``(N, C, 2)`` numbers in ``[0, 1)`` placing the regions (``[..., 0]``
        for W, ``[..., 1]`` for H; ``N = 1`` unbatched), as in PyTorch; or
      key: PRNG key to draw them from (needed when ``_random_samples`` is None).

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched), same dtype; with ``return_indices`` a pair
      ``(values, indices)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.fractional_max_pool2d(jnp.ones((2, 3, 9, 8)), 3, output_size=(4, 5), key=jax.random.key(1)).shape
      (2, 3, 4, 5)
    """
    return fractional_max_pool_impl(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples, key
    )


def fractional_max_pool3d(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    output_size: IntOrTuple | None = None,
    output_ratio: Ratio | None = None,
    return_indices: bool = False,
    _random_samples: ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """3-D fractional max pooling, as ``torch.nn.functional.fractional_max_pool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating.
      kernel_size: int or ``(kD, kH, kW)``, the pooling region.
      output_size: int or ``(D_out, H_out, W_out)``; or give
      output_ratio: a number or triple in ``(0, 1)``.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum.
      _random_samples: ``(N, C, 3)`` numbers in ``[0, 1)`` (``[..., 0]`` for D, ``[..., 1]``
        for H, ``[..., 2]`` for W), as in PyTorch; or
      key: PRNG key to draw them from (needed when ``_random_samples`` is None).

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched); with ``return_indices`` a pair.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.fractional_max_pool3d(jnp.ones((1, 2, 6, 6, 6)), 2, output_ratio=0.5, key=jax.random.key(1)).shape
      (1, 2, 3, 3, 3)
    """
    return fractional_max_pool_impl(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples, key
    )


def fractional_max_pool2d_with_indices(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    output_size: IntOrTuple | None = None,
    output_ratio: Ratio | None = None,
    return_indices: bool = False,
    _random_samples: ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """`fractional_max_pool2d` returning ``(values, indices)`` whatever ``return_indices`` says.

    Args:
      input: as in `fractional_max_pool2d`.
      kernel_size: as in `fractional_max_pool2d`.
      output_size: as in `fractional_max_pool2d`.
      output_ratio: as in `fractional_max_pool2d`.
      _random_samples: as in `fractional_max_pool2d`.
      key: as in `fractional_max_pool2d`.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``, both ``(N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(16.0).reshape(1, 4, 4)
      >>> F.fractional_max_pool2d_with_indices(x, 2, 2, _random_samples=jnp.zeros((1, 1, 2)))[1].tolist()
      [[[5, 7], [13, 15]]]
    """
    del return_indices
    return fractional_max_pool_impl(  # type: ignore[return-value]
        "fractional_max_pool2d_with_indices",
        2,
        input,
        kernel_size,
        output_size,
        output_ratio,
        True,
        _random_samples,
        key,
    )


def fractional_max_pool3d_with_indices(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    output_size: IntOrTuple | None = None,
    output_ratio: Ratio | None = None,
    return_indices: bool = False,
    _random_samples: ArrayLike | None = None,
    *,
    key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """`fractional_max_pool3d` returning ``(values, indices)`` whatever ``return_indices`` says.

    Args:
      input: as in `fractional_max_pool3d`.
      kernel_size: as in `fractional_max_pool3d`.
      output_size: as in `fractional_max_pool3d`.
      output_ratio: as in `fractional_max_pool3d`.
      _random_samples: as in `fractional_max_pool3d`.
      key: as in `fractional_max_pool3d`.
      return_indices: ignored (PyTorch accepts it too).

    Returns:
      ``(values, indices)``, both ``(N, C, D_out, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(27.0).reshape(1, 3, 3, 3)
      >>> F.fractional_max_pool3d_with_indices(x, 2, 1, _random_samples=jnp.zeros((1, 1, 3)))[1].tolist()
      [[[[26]]]]
    """
    del return_indices
    return fractional_max_pool_impl(  # type: ignore[return-value]
        "fractional_max_pool3d_with_indices",
        3,
        input,
        kernel_size,
        output_size,
        output_ratio,
        True,
        _random_samples,
        key,
    )
