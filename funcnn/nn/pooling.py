"""Pooling layers: `MaxPool1d/2d`, `AvgPool1d/2d`, `AdaptiveAvgPool1d/2d`, `AdaptiveMaxPool1d/2d`.

Arguments, defaults and reprs are PyTorch's; none of these layers has parameters.
Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``. ``return_indices=True``
is not supported and is refused when the layer is built.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> pool = nn.MaxPool2d(2)
  >>> pool
  MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  >>> pool.apply({}, jnp.ones((8, 16, 28, 28))).shape
  (8, 16, 14, 14)
  >>> nn.AdaptiveAvgPool2d((None, 3)).apply({}, jnp.ones((16, 5, 7))).shape
  (16, 5, 3)
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from .functional.conv import IntOrTuple, ntuple
from .functional.pooling import (
    OutputSize,
    adaptive_output_size,
    adaptive_pool,
    avg_pool,
    check_divisor,
    max_pool,
    pool_args,
)
from .module import Module, Params


def _refuse_indices(name: str, return_indices: bool) -> None:
    if return_indices:
        raise ValueError(f"{name}: return_indices=True is not supported; build it with return_indices=False")


class _MaxPoolNd(Module):
    n: int = 0

    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        dilation: IntOrTuple = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        name = type(self).__name__
        _refuse_indices(name, return_indices)
        pool_args(name, self.n, kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = stride if stride is not None else kernel_size
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        return max_pool(repr(self), self.n, input, k, s, p, d, self.ceil_mode)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling, as ``torch.nn.MaxPool1d``.

    Args:
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit ``-inf`` padding on both sides, at most ``kernel_size // 2``.
      dilation: spacing between window taps.
      return_indices: not supported; must be False.
      ceil_mode: round the output length up (the last window starts inside the input
        or the left padding).

    Shapes: ``(N, C, L) -> (N, C, L_out)`` or ``(C, L) -> (C, L_out)``, ``L_out =
    floor_or_ceil((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxPool1d(3, stride=2, ceil_mode=True).apply({}, jnp.ones((2, 4, 8))).shape
      (2, 4, 4)
    """

    n = 1


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling, as ``torch.nn.MaxPool2d``; the gradient goes to the first maximum.

    Args:
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      padding: implicit ``-inf`` padding, at most half the kernel size per dim.
      dilation: int or 2-tuple, spacing between window taps.
      return_indices: not supported; must be False.
      ceil_mode: round output sizes up.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched), sizes as in `MaxPool1d`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxPool2d(3, stride=2, padding=1).apply({}, jnp.ones((2, 4, 9, 9))).shape
      (2, 4, 5, 5)
    """

    n = 2


class AvgPool1d(Module):
    """1-D average pooling, as ``torch.nn.AvgPool1d`` (which has no ``divisor_override``).

    Args:
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit zero padding on both sides, at most ``kernel_size // 2``.
      ceil_mode: round the output length up.
      count_include_pad: count the zero padding in the divisor.

    Shapes: ``(N, C, L) -> (N, C, L_out)`` or ``(C, L) -> (C, L_out)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> pool = nn.AvgPool1d(2)
      >>> pool
      AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
      >>> pool.apply({}, jnp.arange(4.0).reshape(1, 4)).tolist()
      [[0.5, 2.5]]
    """

    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        name = type(self).__name__
        pool_args(name, 1, kernel_size, stride, padding)
        # PyTorch keeps AvgPool1d's sizes as 1-tuples.
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, 1, minimum=1)
        self.stride = ntuple(name, "stride", stride if stride is not None else kernel_size, 1, minimum=1)
        self.padding = ntuple(name, "padding", padding, 1, minimum=0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return avg_pool(
            repr(self), 1, input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class AvgPool2d(Module):
    """2-D average pooling, as ``torch.nn.AvgPool2d``.

    Args:
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      padding: implicit zero padding, at most half the kernel size per dim.
      ceil_mode: round output sizes up.
      count_include_pad: count the zero padding in the divisor.
      divisor_override: divide every window sum by this instead.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False).apply({}, jnp.ones((1, 2, 6, 6))).shape
      (1, 2, 3, 3)
    """

    def __init__(
        self,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        name = type(self).__name__
        pool_args(name, 2, kernel_size, stride, padding)
        check_divisor(name, divisor_override)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return avg_pool(
            repr(self),
            2,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptivePoolNd(Module):
    n: int = 0
    kind: str = ""

    def __init__(self, output_size: OutputSize) -> None:
        # Validate eagerly against a dummy spatial shape (None entries need no input).
        adaptive_output_size(type(self).__name__, self.n, output_size, (1,) * self.n)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return adaptive_pool(repr(self), self.n, input, self.output_size, self.kind)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    kind = "max"

    def __init__(self, output_size: OutputSize, return_indices: bool = False) -> None:
        _refuse_indices(type(self).__name__, return_indices)
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """1-D adaptive average pooling to a fixed length, as ``torch.nn.AdaptiveAvgPool1d``.

    Output ``i`` averages inputs ``floor(i * L / out)`` to ``ceil((i + 1) * L / out) - 1``.

    Args:
      output_size: ``L_out`` (int or 1-tuple; ``None`` keeps ``L``).

    Shapes: ``(N, C, L) -> (N, C, L_out)`` or ``(C, L) -> (C, L_out)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveAvgPool1d(3).apply({}, jnp.arange(7.0).reshape(1, 7)).tolist()
      [[1.0, 3.0, 5.0]]
    """

    n, kind = 1, "avg"


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """2-D adaptive average pooling to a fixed size, as ``torch.nn.AdaptiveAvgPool2d``.

    Args:
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveAvgPool2d(1).apply({}, jnp.ones((2, 8, 5, 7))).shape
      (2, 8, 1, 1)
    """

    n, kind = 2, "avg"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-D adaptive max pooling to a fixed length, as ``torch.nn.AdaptiveMaxPool1d``.

    Args:
      output_size: ``L_out`` (int or 1-tuple; ``None`` keeps ``L``).
      return_indices: not supported; must be False.

    Shapes: ``(N, C, L) -> (N, C, L_out)`` or ``(C, L) -> (C, L_out)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveMaxPool1d(2).apply({}, jnp.array([[0.0, 5.0, 1.0, 2.0, 3.0]])).tolist()
      [[5.0, 3.0]]
    """

    n = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-D adaptive max pooling to a fixed size, as ``torch.nn.AdaptiveMaxPool2d``.

    Args:
      output_size: int or ``(H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: not supported; must be False.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveMaxPool2d((2, 3)).apply({}, jnp.ones((1, 4, 5, 7))).shape
      (1, 4, 2, 3)
    """

    n = 2
