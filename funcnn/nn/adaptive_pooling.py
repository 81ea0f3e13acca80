"""Adaptive pooling layers: `AdaptiveAvgPool1d/2d/3d` and `AdaptiveMaxPool1d/2d/3d`.

They pool to a fixed output size whatever the input size, with PyTorch's windows
(see `funcnn.nn.functional.adaptive_pool`); arguments, defaults and reprs are
PyTorch's, and none has parameters. With ``return_indices=True`` a max layer returns
``(values, indices)`` as PyTorch does.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> nn.AdaptiveAvgPool2d((None, 3)).apply({}, jnp.ones((16, 5, 7))).shape
  (16, 5, 3)
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from .functional.pooling import OutputSize, adaptive_output_size, adaptive_pool_impl
from .module import Module, Params


class _AdaptivePoolNd(Module):
    n: int = 0
    kind: str = ""

    def __init__(self, output_size: OutputSize) -> None:
        # Validate eagerly against a dummy spatial shape (None entries need no input).
        adaptive_output_size(type(self).__name__, self.n, output_size, (1,) * self.n)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(
        self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array | tuple[jax.Array, jax.Array]:
        indices = bool(getattr(self, "return_indices", False))
        return adaptive_pool_impl(repr(self), self.n, input, self.output_size, self.kind, indices)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    kind = "max"

    def __init__(self, output_size: OutputSize, return_indices: bool = False) -> None:
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


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """3-D adaptive average pooling to a fixed size, as ``torch.nn.AdaptiveAvgPool3d``.

    Args:
      output_size: int or ``(D_out, H_out, W_out)``; a ``None`` entry keeps that input size.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveAvgPool3d((1, None, 2)).apply({}, jnp.ones((2, 8, 3, 5, 7))).shape
      (2, 8, 1, 5, 2)
    """

    n, kind = 3, "avg"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-D adaptive max pooling to a fixed length, as ``torch.nn.AdaptiveMaxPool1d``.

    Args:
      output_size: ``L_out`` (int or 1-tuple; ``None`` keeps ``L``).
      return_indices: also return the index of each maximum along ``L``.

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
      return_indices: also return the flat index ``h * W + w`` of each maximum.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AdaptiveMaxPool2d((2, 3)).apply({}, jnp.ones((1, 4, 5, 7))).shape
      (1, 4, 2, 3)
    """

    n = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-D adaptive max pooling to a fixed size, as ``torch.nn.AdaptiveMaxPool3d``.

    Args:
      output_size: int or ``(D_out, H_out, W_out)``; a ``None`` entry keeps that input size.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> values, indices = nn.AdaptiveMaxPool3d(2, return_indices=True).apply({}, jnp.ones((4, 3, 5, 7)))
      >>> values.shape, indices.shape
      ((4, 2, 2, 2), (4, 2, 2, 2))
    """

    n = 3
