"""Max unpooling, 1-D to 3-D: the partial inverse of max pooling, as ``torch.nn.functional``.

``max_unpool`` writes each value at its flat index (``h * W + w`` in 2-D, as max
pooling with ``return_indices=True`` reports it) inside a zero output plane; every
other position is zero. The gradient with respect to the values reads the output
gradient back at the indices (so a value written twice gets it twice, as in PyTorch).
Indices are data, so they are not range-checked: an index past the output plane is
dropped (PyTorch raises).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> values, indices = F.max_pool1d(jnp.array([[1.0, 3.0, 2.0, 0.0]]), 2, return_indices=True)
  >>> F.max_unpool1d(values, indices, 2).tolist()
  [[0.0, 3.0, 2.0, 0.0]]
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import shape_of
from ._spatial import IntOrTuple, _check_input, ntuple


def unpool_output_size(
    owner: str,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_size: Sequence[int] | None,
) -> tuple[int, ...]:
    """PyTorch's output size: ``(in - 1) * stride + kernel - 2 * padding`` per dim, or
    ``output_size`` (its last ``n`` entries) when strictly within ``stride`` of that."""
    n = len(kernel)
    default = tuple((shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n))
    if output_size is None:
        out = default
    else:
        sizes = tuple(output_size)
        if len(sizes) == n + 2:
            sizes = sizes[2:]
        if len(sizes) != n or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
            raise ValueError(
                f"{owner}: `output_size` must hold {n} (or {n + 2}) ints, got {output_size!r}; "
                f"give the spatial size of the input that was pooled"
            )
        for d in range(n):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < sizes[d] < high:
                raise ValueError(
                    f"{owner}: invalid `output_size` {tuple(output_size)}: dimension {d} must lie strictly between "
                    f"{low} and {high} for input shape {shape}"
                )
        out = sizes
    if any(o < 0 for o in out):
        raise ValueError(f"{owner}: output size {out} has a negative dim for input shape {shape}; reduce `padding`")
    return out


def max_unpool_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    output_size: Sequence[int] | None,
) -> jax.Array:
    """The ``n``-D max unpooling behind `max_unpool1d`/`2d`/`3d` and the layers."""
    kernel = ntuple(owner, "kernel_size", kernel_size, n, minimum=1)
    given = stride is not None and stride != () and stride != []
    strides = ntuple(owner, "stride", stride, n, minimum=1) if given else kernel
    pads = ntuple(owner, "padding", padding, n, minimum=0)
    shape = _check_input(owner, input, n)
    if shape_of(indices) != shape:
        raise ValueError(
            f"{owner}: expected `indices` of the input's shape {shape}, got shape {shape_of(indices)}; "
            f"pass the indices max pooling returned with these values"
        )
    if not jnp.issubdtype(jnp.result_type(indices), jnp.integer):
        raise TypeError(
            f"{owner}: expected integer `indices`, got dtype {jnp.result_type(indices)}; "
            f"pass the indices from max pooling with return_indices=True"
        )
    out = unpool_output_size(owner, shape, kernel, strides, pads, output_size)
    return _unpool_compiled(jnp.asarray(input), jnp.asarray(indices), out)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _scatter_rows(values: jax.Array, indices: jax.Array, size: int) -> jax.Array:
    """Row ``r`` of the result is zeros of length ``size`` with ``values[r]`` at ``indices[r]``."""
    rows = jnp.arange(values.shape[0])[:, None]
    return jnp.zeros((values.shape[0], size), values.dtype).at[rows, indices].set(values, mode="drop")


@_scatter_rows.defjvp
def _scatter_rows_jvp(size: int, primals: tuple, tangents: tuple) -> tuple[jax.Array, jax.Array]:
    # A sum, not a set: its transpose reads the gradient at every index, duplicates included (torch's rule).
    values, indices = primals
    rows = jnp.arange(values.shape[0])[:, None]
    dy = jnp.zeros((values.shape[0], size), values.dtype).at[rows, indices].add(tangents[0], mode="drop")
    return _scatter_rows(values, indices, size), dy


@functools.partial(jax.jit, static_argnums=(2,))
def _unpool_compiled(x: jax.Array, indices: jax.Array, out: tuple) -> jax.Array:
    n = len(out)
    lead = x.shape[:-n]
    plane = math.prod(x.shape[-n:])
    rows = _scatter_rows(x.reshape(-1, plane), indices.reshape(-1, plane), math.prod(out))
    return rows.reshape(lead + tuple(out))


def max_unpool1d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """1-D max unpooling, as ``torch.nn.functional.max_unpool1d``.

    Args:
      input: ``(N, C, L)`` or ``(C, L)``, floating: pooled values.
      indices: integer, the input's shape: their positions along ``L_out``.
      kernel_size: that of the max pooling.
      stride: that of the max pooling (defaults to ``kernel_size``).
      padding: that of the max pooling.
      output_size: ``L_out`` (or ``(N, C, L_out)``), needed when the pooled length was ambiguous.

    Returns:
      ``(N, C, L_out)`` (or unbatched), zeros except the values at their indices;
      ``L_out = (L - 1) * stride + kernel_size - 2 * padding`` by default.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.max_unpool1d(jnp.array([[5.0, 7.0]]), jnp.array([[1, 2]]), 2, output_size=[5]).tolist()
      [[0.0, 5.0, 7.0, 0.0, 0.0]]
    """
    return max_unpool_impl("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """2-D max unpooling, as ``torch.nn.functional.max_unpool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``, floating: pooled values.
      indices: integer, the input's shape: flat positions ``h * W_out + w``.
      kernel_size: that of the max pooling.
      stride: that of the max pooling (defaults to ``kernel_size``).
      padding: that of the max pooling.
      output_size: ``(H_out, W_out)`` (or with ``N, C`` in front).

    Returns:
      ``(N, C, H_out, W_out)`` (or unbatched); per dim by default
      ``out = (size - 1) * stride + kernel_size - 2 * padding``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(16.0).reshape(1, 1, 4, 4)
      >>> values, indices = F.max_pool2d(x, 2, return_indices=True)
      >>> F.max_unpool2d(values, indices, 2)[0, 0, :2].tolist()
      [[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 7.0]]
    """
    return max_unpool_impl("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: ArrayLike,
    indices: ArrayLike,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """3-D max unpooling, as ``torch.nn.functional.max_unpool3d``.

    Args:
      input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating: pooled values.
      indices: integer, the input's shape: flat positions ``(d * H_out + h) * W_out + w``.
      kernel_size: that of the max pooling.
      stride: that of the max pooling (defaults to ``kernel_size``).
      padding: that of the max pooling.
      output_size: ``(D_out, H_out, W_out)`` (or with ``N, C`` in front).

    Returns:
      ``(N, C, D_out, H_out, W_out)`` (or unbatched), sizes as in `max_unpool2d`.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> values, indices = F.max_pool3d(jnp.ones((1, 4, 4, 4)), 2, return_indices=True)
      >>> F.max_unpool3d(values, indices, 2).sum().item()
      8.0
    """
    return max_unpool_impl("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
