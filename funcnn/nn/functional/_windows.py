"""Kernel taps as strided slices: the one way pooling and im2col convolution read windows."""

from __future__ import annotations

import itertools
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax


def windows(
    x: jax.Array,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    out: Sequence[int],
    fill: float,
    *,
    first: int | None = None,
) -> list[jax.Array]:
    """The ``prod(kernel)`` taps of every window, each ``x``'s shape with ``out`` in place
    of the windowed dims, in row-major kernel order.

    The windowed dims are ``len(kernel)`` consecutive dims starting at ``first`` (default:
    the last ones). Tap ``j`` of each output position is one strided slice of ``x`` padded
    with ``fill`` (left ``padding``, right as far as the last of the ``out`` windows
    reaches).
    """
    n = len(kernel)
    lead = x.ndim - n if first is None else first
    trail = x.ndim - lead - n
    spatial = x.shape[lead : lead + n]
    reach = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, stride, dilation, kernel)]
    pads = [(p, max(r - size - p, 0), 0) for p, r, size in zip(padding, reach, spatial)]
    config = [(0, 0, 0)] * lead + pads + [(0, 0, 0)] * trail
    if any(lo or hi for lo, hi, _ in config):
        x = lax.pad(x, jnp.asarray(fill, x.dtype), config)
    taps = []
    for offsets in itertools.product(*(range(k) for k in kernel)):
        start = [0] * lead + [j * d for j, d in zip(offsets, dilation)] + [0] * trail
        limit = (
            list(x.shape[:lead])
            + [j * d + (o - 1) * s + 1 for j, d, o, s in zip(offsets, dilation, out, stride)]
            + list(x.shape[lead + n :])
        )
        taps.append(lax.slice(x, start, limit, [1] * lead + list(stride) + [1] * trail))
    return taps
