"""`Upsample`, `UpsamplingNearest2d` and `UpsamplingBilinear2d`: `F.interpolate` as layers without parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> up = nn.Upsample(scale_factor=2, mode="bilinear")
  >>> up
  Upsample(scale_factor=2.0, mode='bilinear')
  >>> up.apply({}, jnp.ones((1, 3, 4, 5))).shape
  (1, 3, 8, 10)
  >>> nn.UpsamplingNearest2d(size=(3, 3)).apply({}, jnp.ones((2, 1, 2, 2))).shape
  (2, 1, 3, 3)
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
from jax.typing import ArrayLike

from . import functional as F
from ._checks import check_choice
from .functional.interpolate import ALIGNED_MODES, MODE_DIMS, Factor, Size
from .module import Module, Params


class Upsample(Module):
    """Resizes ``(N, C, *spatial)`` inputs with `F.interpolate`; PyTorch's ``nn.Upsample``.

    Args:
      size: output spatial size (an int or one per spatial dim).
      scale_factor: multiplier of the spatial size (stored as float, as PyTorch).
      mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
        ``'bicubic'``, ``'trilinear'`` or ``'area'``.
      align_corners: see `F.interpolate` (linear and cubic modes only).
      recompute_scale_factor: see `F.interpolate`.

    Shapes: ``(N, C, *spatial) -> (N, C, *out)`` with ``out = size`` or
    ``floor(spatial * scale_factor)``.
    """

    def __init__(
        self,
        size: Size = None,
        scale_factor: Factor = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        self.size = size
        scale: float | tuple[float, ...] | None
        if isinstance(scale_factor, (tuple, list)):
            scale = tuple(float(f) for f in scale_factor)
        else:
            scale = float(scale_factor) if scale_factor else None
        self.scale_factor = scale
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor
        # The checks that need no input run now, naming the layer.
        check_choice(repr(self), "mode", mode, list(MODE_DIMS))
        if (size is None) == (scale_factor is None or not scale_factor):
            raise ValueError(
                f"{self!r}: pass exactly one of `size` or `scale_factor`, got size={size!r} and "
                f"scale_factor={scale_factor!r}"
            )
        if align_corners is not None and mode not in ALIGNED_MODES:
            raise ValueError(
                f"{self!r}: align_corners only applies to the modes {list(ALIGNED_MODES[:4])}, got "
                f"align_corners={align_corners!r} with mode={mode!r}; leave it None"
            )

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for ``(N, C, H, W)`` inputs.

    Args:
      size: output ``(H_out, W_out)`` or one int for both.
      scale_factor: multiplier of ``H`` and ``W``.
    """

    def __init__(self, size: int | Sequence[int] | None = None, scale_factor: Factor = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` for ``(N, C, H, W)`` inputs.

    Args:
      size: output ``(H_out, W_out)`` or one int for both.
      scale_factor: multiplier of ``H`` and ``W``.
    """

    def __init__(self, size: int | Sequence[int] | None = None, scale_factor: Factor = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
