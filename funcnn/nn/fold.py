"""`Fold` and `Unfold`: sliding blocks to columns and back (col2im / im2col), as PyTorch.

`Unfold` turns ``(N, C, H, W)`` into ``(N, C * kH * kW, L)``, one column per sliding
block; `Fold` sums such columns back into an image. Arguments, defaults and reprs are
PyTorch's (note the order: ``dilation, padding, stride``); neither has parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> unfold = nn.Unfold(kernel_size=(2, 3))
  >>> unfold
  Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=1)
  >>> cols = unfold.apply({}, jnp.ones((2, 5, 3, 4)))
  >>> cols.shape
  (2, 30, 4)
  >>> nn.Fold(output_size=(3, 4), kernel_size=(2, 3)).apply({}, cols).shape
  (2, 5, 3, 4)
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from .functional.conv import IntOrTuple, ntuple
from .functional.fold import fold_impl, unfold_impl
from .module import Module, Params


def _check(name: str, kernel_size: IntOrTuple, dilation: IntOrTuple, padding: IntOrTuple, stride: IntOrTuple) -> None:
    ntuple(name, "kernel_size", kernel_size, 2, minimum=1)
    ntuple(name, "dilation", dilation, 2, minimum=1)
    ntuple(name, "padding", padding, 2, minimum=0)
    ntuple(name, "stride", stride, 2, minimum=1)


class Fold(Module):
    """Sum columns of sliding blocks back into an image, as ``torch.nn.Fold``.

    Args:
      output_size: int or ``(H, W)``, the image size.
      kernel_size: int or ``(kH, kW)``, the block size.
      dilation: int or 2-tuple, spacing between a block's taps.
      padding: int or 2-tuple of implicit zeros on both sides (cropped away).
      stride: int or 2-tuple, step between blocks.

    Shapes: ``(N, C * kH * kW, L) -> (N, C, H, W)`` (or unbatched), ``L`` the number
    of blocks that fit; overlapping blocks add up.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Fold(3, 2).apply({}, jnp.ones((4, 4)))[0].tolist()
      [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    def __init__(
        self,
        output_size: IntOrTuple,
        kernel_size: IntOrTuple,
        dilation: IntOrTuple = 1,
        padding: IntOrTuple = 0,
        stride: IntOrTuple = 1,
    ) -> None:
        name = type(self).__name__
        ntuple(name, "output_size", output_size, 2, minimum=1)
        _check(name, kernel_size, dilation, padding, stride)
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        k, d, p, s = self.kernel_size, self.dilation, self.padding, self.stride
        return fold_impl(repr(self), input, self.output_size, k, d, p, s)


class Unfold(Module):
    """Read every sliding block of an image into a column (im2col), as ``torch.nn.Unfold``.

    Args:
      kernel_size: int or ``(kH, kW)``, the block size.
      dilation: int or 2-tuple, spacing between a block's taps.
      padding: int or 2-tuple of implicit zeros on both sides.
      stride: int or 2-tuple, step between blocks.

    Shapes: ``(N, C, H, W) -> (N, C * kH * kW, L)`` (or unbatched), channel-major
    columns, ``L = H_out * W_out`` blocks in row-major order.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Unfold(2, padding=1, stride=2).apply({}, jnp.ones((3, 4, 4))).shape
      (12, 9)
    """

    def __init__(
        self, kernel_size: IntOrTuple, dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1
    ) -> None:
        _check(type(self).__name__, kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return unfold_impl(repr(self), input, self.kernel_size, self.dilation, self.padding, self.stride)
