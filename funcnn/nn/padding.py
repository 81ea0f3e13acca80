"""Padding layers: `ZeroPad1d/2d/3d`, `ConstantPad1d/2d/3d`, `ReflectionPad1d/2d/3d`,
`ReplicationPad1d/2d/3d` and `CircularPad1d/2d/3d`, wrapping `funcnn.nn.functional.pad`.

``padding`` is an int (every side) or PyTorch's tuple, starting from the last dim:
``(left, right)``, ``(left, right, top, bottom)``, ``(left, right, top, bottom, front,
back)``. Negative amounts crop. Arguments, defaults, reprs and errors follow PyTorch;
none of these layers has parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> pad = nn.ReflectionPad2d((1, 1, 2, 0))
  >>> pad
  ReflectionPad2d((1, 1, 2, 0))
  >>> pad.apply({}, jnp.ones((8, 3, 5, 5))).shape
  (8, 3, 7, 7)
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.typing import ArrayLike

from .functional.padding import pad_impl
from .module import Module, Params

PadSize = int | Sequence[int]


def _amounts(owner: str, padding: object, n: int) -> tuple[int, ...]:
    """``padding`` as PyTorch's ``2 * n``-tuple (an int is repeated)."""
    is_int = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool)  # noqa: E731
    if is_int(padding):
        return (int(padding),) * (2 * n)  # type: ignore[arg-type]
    if isinstance(padding, (tuple, list)) and len(padding) == 2 * n and all(is_int(v) for v in padding):
        return tuple(int(v) for v in padding)
    raise TypeError(f"{owner}: `padding` must be an int or a tuple of {2 * n} ints, got {padding!r}")


class _PadNd(Module):
    """Reflection, replication or circular padding of the last ``n`` dims."""

    n: int = 0
    mode: str = ""

    def __init__(self, padding: PadSize) -> None:
        self.padding = _amounts(type(self).__name__, padding, self.n)

    def extra_repr(self) -> str:
        return f"{self.padding}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return pad_impl(repr(self), input, self.padding, self.mode, None)


class _ConstantPadNd(Module):
    """Constant padding of the last ``n`` dims with ``value``."""

    n: int = 0

    def __init__(self, padding: PadSize, value: float) -> None:
        name = type(self).__name__
        self.padding = _amounts(name, padding, self.n)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: `value` must be a number, got {value!r}")
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return pad_impl(repr(self), input, self.padding, "constant", self.value)


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: PadSize) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class CircularPad1d(_PadNd):
    """Pads by wrapping the input around (periodic boundary), as ``torch.nn.CircularPad1d``.

    Each amount must be at most the dim's size (wrapping once); negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right)``.

    Shapes: ``(N, C, W)`` or ``(C, W)``; ``W`` grows by both amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.CircularPad1d((1, 2)).apply({}, jnp.arange(3.0).reshape(1, 3)).tolist()
      [[2.0, 0.0, 1.0, 2.0, 0.0, 1.0]]
    """

    n, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pads by wrapping the input around (periodic boundary), as ``torch.nn.CircularPad2d``.

    Each amount must be at most the dim's size (wrapping once); negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom)``.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.CircularPad2d(1).apply({}, jnp.ones((1, 3, 4, 4))).shape
      (1, 3, 6, 6)
    """

    n, mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pads by wrapping the input around (periodic boundary), as ``torch.nn.CircularPad3d``.

    Each amount must be at most the dim's size (wrapping once); negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom, front, back)``.

    Shapes: ``(N, C, D, H, W)`` or ``(C, D, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.CircularPad3d((1, 1, 0, 0, 1, -1)).apply({}, jnp.ones((1, 1, 2, 2, 2))).shape
      (1, 1, 2, 2, 4)
    """

    n, mode = 3, "circular"


class ConstantPad1d(_ConstantPadNd):
    """Pads with a constant ``value``, as ``torch.nn.ConstantPad1d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right)``.
      value: the fill value.

    Shapes: ``(*, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ConstantPad1d(1, 3.5).apply({}, jnp.zeros((1, 2))).tolist()
      [[3.5, 0.0, 0.0, 3.5]]
    """

    n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads with a constant ``value``, as ``torch.nn.ConstantPad2d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom)``.
      value: the fill value.

    Shapes: ``(*, H, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ConstantPad2d((1, 1, 0, 0), -1.0).apply({}, jnp.zeros((1, 1, 1))).tolist()
      [[[-1.0, 0.0, -1.0]]]
    """

    n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads with a constant ``value``, as ``torch.nn.ConstantPad3d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom, front, back)``.
      value: the fill value.

    Shapes: ``(*, D, H, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ConstantPad3d((1, 0, 0, 0, 0, 2), 2.0).apply({}, jnp.ones((1, 1, 1, 1))).shape
      (1, 3, 1, 2)
    """

    n = 3


class ReflectionPad1d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated), as ``torch.nn.ReflectionPad1d``.

    Each amount must be smaller than the dim it pads; negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right)``.

    Shapes: ``(N, C, W)`` or ``(C, W)``; ``W`` grows by both amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReflectionPad1d(2).apply({}, jnp.arange(4.0).reshape(1, 4)).tolist()
      [[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    """

    n, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated), as ``torch.nn.ReflectionPad2d``.

    Each amount must be smaller than the dim it pads; negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom)``.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReflectionPad2d((1, 1, 2, 0)).apply({}, jnp.ones((2, 3, 4, 4))).shape
      (2, 3, 6, 6)
    """

    n, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated), as ``torch.nn.ReflectionPad3d``.

    Each amount must be smaller than the dim it pads; negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom, front, back)``.

    Shapes: ``(N, C, D, H, W)`` or ``(C, D, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReflectionPad3d(1).apply({}, jnp.ones((1, 2, 3, 3, 3))).shape
      (1, 2, 5, 5, 5)
    """

    n, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads by repeating the edge value, as ``torch.nn.ReplicationPad1d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right)``.

    Shapes: ``(N, C, W)`` or ``(C, W)``; ``W`` grows by both amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReplicationPad1d((2, 1)).apply({}, jnp.arange(3.0).reshape(1, 3)).tolist()
      [[0.0, 0.0, 0.0, 1.0, 2.0, 2.0]]
    """

    n, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pads by repeating the edge value, as ``torch.nn.ReplicationPad2d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom)``.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReplicationPad2d(1).apply({}, jnp.ones((1, 3, 4, 4))).shape
      (1, 3, 6, 6)
    """

    n, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pads by repeating the edge value, as ``torch.nn.ReplicationPad3d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom, front, back)``.

    Shapes: ``(N, C, D, H, W)`` or ``(C, D, H, W)``; each padded dim grows by
    its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ReplicationPad3d((1, 1, 0, 0, 2, 2)).apply({}, jnp.ones((1, 1, 2, 2, 2))).shape
      (1, 1, 6, 2, 4)
    """

    n, mode = 3, "replicate"


class ZeroPad1d(_ZeroPadNd):
    """Pads with zeros, as ``torch.nn.ZeroPad1d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right)``.

    Shapes: ``(*, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ZeroPad1d((1, 2)).apply({}, jnp.ones((1, 2, 3))).shape
      (1, 2, 6)
    """

    n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads with zeros, as ``torch.nn.ZeroPad2d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom)``.

    Shapes: ``(*, H, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ZeroPad2d((1, 0, 2, -1)).apply({}, jnp.ones((1, 3, 3))).shape
      (1, 4, 4)
    """

    n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads with zeros, as ``torch.nn.ZeroPad3d``.

    Negative amounts crop.

    Args:
      padding: an int (the same on every side) or ``(left, right, top, bottom, front, back)``.

    Shapes: ``(*, D, H, W)``, any leading dims; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ZeroPad3d(1).apply({}, jnp.ones((2, 1, 2, 3, 4))).shape
      (2, 1, 4, 5, 6)
    """

    n = 3
