"""Max unpooling layers: `MaxUnpool1d/2d/3d`, the partial inverse of max pooling.

``apply(params, values, indices, output_size=None)`` places each value at its index
(from a max pooling layer built with ``return_indices=True``) in a zero output, as
PyTorch does; ``output_size`` picks among the sizes that pool to the input's. The
arguments and reprs are PyTorch's; none of these layers has parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
  >>> unpool
  MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
  >>> x = jnp.arange(25.0).reshape(1, 1, 5, 5)
  >>> values, indices = pool.apply({}, x)
  >>> unpool.apply({}, values, indices, output_size=x.shape).shape
  (1, 1, 5, 5)
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
from jax.typing import ArrayLike

from .functional.conv import IntOrTuple, ntuple
from .functional.unpool import max_unpool_impl
from .module import Module, Params


class _MaxUnpoolNd(Module):
    n: int = 0

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0) -> None:
        name = type(self).__name__
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, self.n, minimum=1)
        self.stride = ntuple(name, "stride", stride if stride is not None else kernel_size, self.n, minimum=1)
        self.padding = ntuple(name, "padding", padding, self.n, minimum=0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(
        self,
        params: Params,
        input: ArrayLike,
        indices: ArrayLike,
        output_size: Sequence[int] | None = None,
        *,
        key: Any = None,
        train: bool = False,
    ) -> jax.Array:
        return max_unpool_impl(
            repr(self), self.n, input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool1d(_MaxUnpoolNd):
    """1-D max unpooling, as ``torch.nn.MaxUnpool1d``.

    Args:
      kernel_size: that of the max pooling it inverts.
      stride: that of the max pooling it inverts (defaults to ``kernel_size``).
      padding: that of the max pooling it inverts.

    Shapes: ``(N, C, L) -> (N, C, L_out)`` (or unbatched); by default per dim
    ``out = (size - 1) * stride + kernel_size - 2 * padding``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxUnpool1d(2).apply({}, jnp.array([[5.0, 7.0]]), jnp.array([[1, 2]])).tolist()
      [[0.0, 5.0, 7.0, 0.0]]
    """

    n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """2-D max unpooling, as ``torch.nn.MaxUnpool2d``.

    Args:
      kernel_size: that of the max pooling it inverts.
      stride: that of the max pooling it inverts (defaults to ``kernel_size``).
      padding: that of the max pooling it inverts.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched); by default per dim
    ``out = (size - 1) * stride + kernel_size - 2 * padding``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxUnpool2d(3, stride=2, padding=1).apply({}, jnp.ones((1, 2, 3, 3)), jnp.zeros((1, 2, 3, 3), int)).shape
      (1, 2, 5, 5)
    """

    n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """3-D max unpooling, as ``torch.nn.MaxUnpool3d``.

    Args:
      kernel_size: that of the max pooling it inverts.
      stride: that of the max pooling it inverts (defaults to ``kernel_size``).
      padding: that of the max pooling it inverts.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched); by default per dim
    ``out = (size - 1) * stride + kernel_size - 2 * padding``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.MaxUnpool3d(2).apply({}, jnp.ones((2, 1, 1, 1)), jnp.zeros((2, 1, 1, 1), int)).shape
      (2, 2, 2, 2)
    """

    n = 3
