"""``unfold`` (im2col) and ``fold`` (col2im) with ``torch.nn.functional``'s layout.

`unfold` reads every sliding ``kernel_size`` block of an ``(N, C, H, W)`` input into a
column: ``(N, C * kH * kW, L)``, channel-major then kernel position in row-major order,
blocks ``L = H_out * W_out`` in row-major order. The taps come from the same
window reader as pooling and the im2col convolution (`_windows.windows`). `fold` is its
exact linear transpose (``jax.linear_transpose``): it sums every column entry back into
the position it was read from, so overlapping blocks add up, as in PyTorch.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> cols = F.unfold(jnp.arange(9.0).reshape(1, 1, 3, 3), 2)
  >>> cols.shape
  (1, 4, 4)
  >>> F.fold(cols, (3, 3), 2)[0, 0].tolist()  # the centre was read by all four blocks
  [[0.0, 2.0, 2.0], [6.0, 16.0, 10.0], [6.0, 14.0, 8.0]]
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from ._spatial import IntOrTuple, ntuple
from ._windows import windows


def _block_args(
    owner: str, kernel_size: IntOrTuple, dilation: IntOrTuple, padding: IntOrTuple, stride: IntOrTuple
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    return (
        ntuple(owner, "kernel_size", kernel_size, 2, minimum=1),
        ntuple(owner, "dilation", dilation, 2, minimum=1),
        ntuple(owner, "padding", padding, 2, minimum=0),
        ntuple(owner, "stride", stride, 2, minimum=1),
    )


def _blocks(
    owner: str, spatial: tuple[int, ...], kernel: tuple, dilation: tuple, padding: tuple, stride: tuple
) -> tuple[int, ...]:
    """Number of sliding blocks per spatial dim; at least one, or an error."""
    out = tuple(
        (size + 2 * p - d * (k - 1) - 1) // s + 1
        for size, k, d, p, s in zip(spatial, kernel, dilation, padding, stride)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{owner}: spatial size {spatial} with padding {padding} is smaller than the dilated kernel "
            f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))}, so there is no sliding block; "
            f"use a smaller kernel or more padding"
        )
    return out


def _unfold_core(x: jax.Array, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple, out: tuple) -> jax.Array:
    taps = windows(x, kernel, stride, padding, dilation, out, 0.0)  # each (N, C, *out)
    n, c = x.shape[:2]
    return jnp.stack(taps, axis=2).reshape(n, c * math.prod(kernel), math.prod(out))


def unfold(
    input: ArrayLike,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> jax.Array:
    """Sliding blocks to columns (im2col), as ``torch.nn.functional.unfold``.

    Args:
      input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``, floating.
      kernel_size: int or ``(kH, kW)``, the block size.
      dilation: int or 2-tuple, spacing between a block's taps.
      padding: int or 2-tuple of implicit zeros on both sides (any size).
      stride: int or 2-tuple, step between blocks.

    Returns:
      ``(N, C * kH * kW, L)`` (or ``(C * kH * kW, L)``) with ``L = H_out * W_out`` and
      ``H_out = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.unfold(jnp.arange(6.0).reshape(1, 2, 3), (1, 2))[:, 0].tolist()
      [0.0, 1.0]
    """
    return unfold_impl("unfold", input, kernel_size, dilation, padding, stride)


def unfold_impl(
    owner: str,
    input: ArrayLike,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple,
    padding: IntOrTuple,
    stride: IntOrTuple,
) -> jax.Array:
    """`unfold` with errors naming ``owner`` (a layer's repr)."""
    kernel, dilation, padding, stride = _block_args(owner, kernel_size, dilation, padding, stride)
    check_floating(owner, input)
    shape = shape_of(input)
    if len(shape) not in (3, 4):
        raise ValueError(f"{owner}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {shape}")
    out = _blocks(owner, shape[-2:], kernel, dilation, padding, stride)
    return _unfold_compiled(jnp.asarray(input), kernel, dilation, padding, stride, out)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _unfold_compiled(
    x: jax.Array, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple, out: tuple
) -> jax.Array:
    if x.ndim == 3:
        return _unfold_core(x[None], kernel, dilation, padding, stride, out)[0]
    return _unfold_core(x, kernel, dilation, padding, stride, out)


def fold(
    input: ArrayLike,
    output_size: IntOrTuple,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> jax.Array:
    """Columns back to an image, summing overlaps (col2im), as ``torch.nn.functional.fold``.

    The transpose of `unfold` with the same arguments: ``fold(unfold(x))`` is ``x`` times
    the number of blocks that read each position.

    Args:
      input: ``(N, C * kH * kW, L)`` or unbatched ``(C * kH * kW, L)``, floating, with
        ``L`` the number of blocks that fit ``output_size``.
      output_size: int or ``(H, W)``, the image size.
      kernel_size, dilation, padding, stride: as in `unfold`.

    Returns:
      ``(N, C, H, W)`` (or ``(C, H, W)``), same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.fold(jnp.ones((1, 4, 4)), 3, 2).tolist()
      [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    return fold_impl("fold", input, output_size, kernel_size, dilation, padding, stride)


def fold_impl(
    owner: str,
    input: ArrayLike,
    output_size: IntOrTuple,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple,
    padding: IntOrTuple,
    stride: IntOrTuple,
) -> jax.Array:
    """`fold` with errors naming ``owner`` (a layer's repr)."""
    size = ntuple(owner, "output_size", output_size, 2, minimum=1)
    kernel, dilation, padding, stride = _block_args(owner, kernel_size, dilation, padding, stride)
    check_floating(owner, input)
    shape = shape_of(input)
    if len(shape) not in (2, 3):
        raise ValueError(
            f"{owner}: expected a 2-D (C * kH * kW, L) or 3-D (N, C * kH * kW, L) input, got shape {shape}"
        )
    taps = math.prod(kernel)
    if shape[-2] % taps:
        raise ValueError(
            f"{owner}: expected input dimension {-2} to be divisible by the kernel's {taps} taps "
            f"(kernel_size={kernel}), got shape {shape}"
        )
    out = _blocks(owner, size, kernel, dilation, padding, stride)
    if shape[-1] != math.prod(out):
        raise ValueError(
            f"{owner}: output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding} and "
            f"stride={stride} give {out[0]} * {out[1]} = {math.prod(out)} blocks, but the input has {shape[-1]} "
            f"(shape {shape}); pass the output_size the columns were unfolded from"
        )
    return _fold_compiled(jnp.asarray(input), size, kernel, dilation, padding, stride, out)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6))
def _fold_compiled(
    cols: jax.Array, size: tuple, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple, out: tuple
) -> jax.Array:
    batched = cols.ndim == 3
    if not batched:
        cols = cols[None]
    image = jax.ShapeDtypeStruct((cols.shape[0], cols.shape[1] // math.prod(kernel), *size), cols.dtype)
    (y,) = jax.linear_transpose(lambda x: _unfold_core(x, kernel, dilation, padding, stride, out), image)(cols)
    return y if batched else y[0]
