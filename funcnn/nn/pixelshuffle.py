"""`PixelShuffle` and `PixelUnshuffle`: channels to space and back, as PyTorch.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> shuffle = nn.PixelShuffle(3)
  >>> shuffle
  PixelShuffle(upscale_factor=3)
  >>> y = shuffle.apply({}, jnp.ones((1, 9, 4, 4)))
  >>> y.shape, nn.PixelUnshuffle(3).apply({}, y).shape
  ((1, 1, 12, 12), (1, 9, 4, 4))
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from ._checks import check_positive
from .functional.pixelshuffle import pixel_shuffle, pixel_unshuffle
from .module import Module, Params


class PixelShuffle(Module):
    """``(*, C * r * r, H, W) -> (*, C, H * r, W * r)``, as ``torch.nn.PixelShuffle``.

    Args:
      upscale_factor: ``r``, a positive int.

    Shapes: ``(*, C * r * r, H, W) -> (*, C, H * r, W * r)``, any leading dims.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.PixelShuffle(2).apply({}, jnp.arange(4.0).reshape(1, 4, 1, 1)).tolist()
      [[[[0.0, 1.0], [2.0, 3.0]]]]
    """

    def __init__(self, upscale_factor: int) -> None:
        check_positive(type(self).__name__, "upscale_factor", upscale_factor)
        self.upscale_factor = upscale_factor

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return pixel_shuffle(input, self.upscale_factor)


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r) -> (*, C * r * r, H, W)``, as ``torch.nn.PixelUnshuffle``.

    Args:
      downscale_factor: ``r``, a positive int dividing both spatial sizes.

    Shapes: ``(*, C, H * r, W * r) -> (*, C * r * r, H, W)``, any leading dims.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.PixelUnshuffle(2).apply({}, jnp.ones((3, 4, 6))).shape
      (12, 2, 3)
    """

    def __init__(self, downscale_factor: int) -> None:
        check_positive(type(self).__name__, "downscale_factor", downscale_factor)
        self.downscale_factor = downscale_factor

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return pixel_unshuffle(input, self.downscale_factor)
