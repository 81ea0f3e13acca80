"""Pooling layers: `MaxPool1d/2d/3d`, `AvgPool1d/2d/3d` and `LPPool1d/2d/3d`.

Arguments, defaults and reprs are PyTorch's; none of these layers has parameters.
Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``. With
``return_indices=True`` a max pooling layer returns ``(values, indices)``, the flat
index of each maximum inside its input plane, as PyTorch does (for `MaxUnpool2d`).

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> pool = nn.MaxPool2d(2)
  >>> pool
  MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  >>> pool.apply({}, jnp.ones((8, 16, 28, 28))).shape
  (8, 16, 14, 14)
  >>> values, indices = nn.MaxPool2d(2, return_indices=True).apply({}, jnp.ones((8, 16, 28, 28)))
  >>> indices.shape
  (8, 16, 14, 14)
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from .functional.conv import IntOrTuple, ntuple
from .functional.lp_pool import lp_pool_impl
from .functional.pooling import avg_pool_impl, check_divisor, max_pool_impl, pool_args
from .module import Module, Params


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
        pool_args(name, self.n, kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = stride if stride is not None else kernel_size
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(
        self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array | tuple[jax.Array, jax.Array]:
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        return max_pool_impl(repr(self), self.n, input, k, s, p, d, self.ceil_mode, bool(self.return_indices))


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling, as ``torch.nn.MaxPool1d``.

    Args:
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      padding: implicit ``-inf`` padding on both sides, at most ``kernel_size // 2``.
      dilation: spacing between window taps.
      return_indices: also return the index of each maximum along ``L`` (for `MaxUnpool1d`).
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
      return_indices: also return the flat index ``h * W + w`` of each maximum (for `MaxUnpool2d`).
      ceil_mode: round output sizes up.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched), sizes as in `MaxPool1d`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxPool2d(3, stride=2, padding=1).apply({}, jnp.ones((2, 4, 9, 9))).shape
      (2, 4, 5, 5)
    """

    n = 2


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling, as ``torch.nn.MaxPool3d``; the gradient goes to the first maximum.

    Args:
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      padding: implicit ``-inf`` padding, at most half the kernel size per dim.
      dilation: int or 3-tuple, spacing between window taps.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum.
      ceil_mode: round output sizes up.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched), sizes as in `MaxPool1d`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxPool3d(2, stride=2, ceil_mode=True).apply({}, jnp.ones((1, 4, 5, 4, 3))).shape
      (1, 4, 3, 2, 2)
    """

    n = 3


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
        return avg_pool_impl(
            repr(self), 1, input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class _AvgPoolNd(Module):
    n: int = 0

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
        pool_args(name, self.n, kernel_size, stride, padding)
        check_divisor(name, divisor_override)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return avg_pool_impl(
            repr(self),
            self.n,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool2d(_AvgPoolNd):
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

    n = 2


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling, as ``torch.nn.AvgPool3d``.

    Args:
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      padding: implicit zero padding, at most half the kernel size per dim.
      ceil_mode: round output sizes up.
      count_include_pad: count the zero padding in the divisor.
      divisor_override: divide every window sum by this instead.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AvgPool3d(2, ceil_mode=True, divisor_override=1).apply({}, jnp.ones((2, 3, 3, 4))).shape
      (2, 2, 2, 2)
    """

    n = 3


class _LPPoolNd(Module):
    n: int = 0

    def __init__(
        self, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, ceil_mode: bool = False
    ) -> None:
        name = type(self).__name__
        pool_args(name, self.n, kernel_size, stride, 0)
        if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
            raise ValueError(f"{name}: `norm_type` must be a non-zero real number (or +-inf), got {norm_type!r}")
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return lp_pool_impl(repr(self), self.n, input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling, as ``torch.nn.LPPool1d``: ``(sum of x ** p over a window) ** (1 / p)``.

    Args:
      norm_type: the power ``p`` (``inf``: max of ``|x|``, as max pooling).
      kernel_size: window length.
      stride: step between windows (default ``kernel_size``).
      ceil_mode: round the output length up (a partial last window is scaled as if full).

    Shapes: ``(N, C, L) -> (N, C, L_out)`` or unbatched.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.LPPool1d(2, 2).apply({}, jnp.array([[3.0, 4.0, 6.0, 8.0]])).tolist()
      [[5.0, 10.0]]
    """

    n = 1


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling, as ``torch.nn.LPPool2d``.

    Args:
      norm_type: the power ``p`` (``inf``: max of ``|x|``, as max pooling).
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple (default ``kernel_size``).
      ceil_mode: round output sizes up.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` or unbatched.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.LPPool2d(1.5, (2, 3), stride=1, ceil_mode=True).apply({}, jnp.ones((2, 3, 5, 5))).shape
      (2, 3, 4, 3)
    """

    n = 2


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling, as ``torch.nn.LPPool3d``.

    Args:
      norm_type: the power ``p`` (``inf``: max of ``|x|``, as max pooling).
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple (default ``kernel_size``).
      ceil_mode: round output sizes up.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` or unbatched.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.LPPool3d(2, 2).apply({}, jnp.ones((1, 2, 4, 4, 4))).shape
      (1, 2, 2, 2, 2)
    """

    n = 3
