"""Argument and shape checks shared by the convolution, transposed-convolution and pooling ops.

Each check runs at trace time on static shapes, so it costs nothing inside a compiled
step; every error names its ``owner`` (a function name or a layer's repr).
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of

IntOrTuple = int | Sequence[int]
Padding = str | int | Sequence[int]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_LAYOUT = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)", 3: "(C, D, H, W) or (N, C, D, H, W)"}
_DIMENSION_NUMBERS = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"), 3: ("NCDHW", "OIDHW", "NCDHW")}


# --------------------------------------------------------------------------- arguments
def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def ntuple(owner: str, name: str, value: object, n: int, *, minimum: int) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple of ints ``>= minimum`` (an int is repeated, as in PyTorch)."""
    if _is_int(value):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(_is_int(v) for v in value):
        out = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{owner}: `{name}` must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in out):
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{owner}: `{name}` must be {what}, got {value!r}")
    return out


def check_groups(owner: str, groups: object, in_channels: int, out_channels: int) -> None:
    """ValueError unless ``groups`` is a positive int dividing both channel counts."""
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{owner}: `groups` must be a positive integer, got {groups!r}")
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups:
            raise ValueError(f"{owner}: `{name}` (={value}) must be divisible by `groups` (={groups})")


def conv_padding(
    owner: str, padding: Padding, n: int, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """``(left, right)`` zero padding per spatial dim for ``padding`` = int, tuple, 'same' or 'valid'.

    'same' pads ``dilation * (kernel - 1)`` in total, the odd element on the right, as
    PyTorch does; it is refused for strided convolutions, as in PyTorch.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(
                f"{owner}: `padding` must be an int, a tuple of {n} ints, 'same' or 'valid', got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{owner}: padding='same' is not supported for strided convolutions (stride={tuple(stride)}); "
                f"use stride=1 or give the padding as numbers"
            )
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in ntuple(owner, "padding", padding, n, minimum=0))


def _check_input(owner: str, x: ArrayLike, n: int, in_channels: int | None = None) -> tuple[int, ...]:
    """The shape of a floating ``(C, *spatial)`` or ``(N, C, *spatial)`` input ``x``.

    A layer passes its ``in_channels``: the channel count is then checked too, and the
    errors speak of the layer's configuration.
    """
    check_floating(owner, x)
    shape = shape_of(x)
    if in_channels is not None:
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{owner}: expected a {n + 1}-D or {n + 2}-D input {_LAYOUT[n]}, got shape {shape}")
        if shape[-n - 1] != in_channels:
            raise ValueError(
                f"{owner}: expected input with {in_channels} channels at dimension {-n - 1}, got shape {shape}"
            )
        return shape
    if len(shape) not in (n + 1, n + 2):
        raise ValueError(
            f"{owner}: expected a {n + 1}-D (unbatched: C, {_SPATIAL[n]}) or {n + 2}-D "
            f"(batched: N, C, {_SPATIAL[n]}) input, got shape {shape}"
        )
    return shape


def _check_bias(owner: str, bias: ArrayLike | None, channels: int) -> None:
    if bias is not None and shape_of(bias) != (channels,):
        raise ValueError(f"{owner}: expected a bias of shape ({channels},), got shape {shape_of(bias)}")


def _maybe_array(x: ArrayLike | None) -> jax.Array | None:
    return None if x is None else jnp.asarray(x)


def _add_bias(y: jax.Array, bias: ArrayLike | None, n: int) -> jax.Array:
    if bias is None:
        return y
    return y + jnp.reshape(bias, (1,) * (y.ndim - n - 1) + (-1,) + (1,) * n)
