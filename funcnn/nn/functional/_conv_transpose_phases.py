"""A strided transposed convolution as ``prod(stride)`` ordinary convolutions, one per output phase.

XLA computes a transposed convolution as a convolution of the input dilated by
``stride`` (``lhs_dilation``): on a CPU that path multiplies the inserted zeros and its
gradient is pathological (0.4-3.7 s per DCGAN generator layer, batch 16, on 2 cores).
Output position ``Y`` of a transposed convolution (``dilation`` 1) gathers
``x[q - j] * w[r + s * j]`` where ``Y + padding = q * s + r``: so the outputs of each
phase ``r`` (``0 <= r < s`` per dim) are a stride-1 "full" convolution of the undilated
input with the sub-kernel ``w[r::s]``, flipped. Each phase runs through the routed
`convolve` (im2col or XLA's convolution, whose gradients are ordinary convolutions);
the phases are then interleaved (one transpose) and cropped to PyTorch's output size.
No zero is multiplied: the multiply-adds are ``1 / prod(stride)`` of the dilated form's.

Used on CPUs only (``lax.platform_dependent``); other backends keep XLA's transposed
convolution (cuDNN's on GPUs).
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
from jax import lax

from ._conv_routes import choose_route, convolve, patch_bytes

PHASE_IM2COL_MAX_BYTES = 64 * 2**20
"""Largest patch matrix (bytes) of a phase taken by ``im2col`` rather than XLA's convolution.

A phase's kernel is small and even-sized (2 x 2 for DCGAN's 4 x 4 / 2 layers), where the
gradient of XLA's CPU convolution is pathological: 380-400 ms against 9-30 ms for
``im2col`` on DCGAN's middle generator layers (batch 16), forward and backward."""


def phased_conv_transpose(
    x: jax.Array, w: jax.Array, stride: tuple, padding: tuple, out: tuple, groups: int
) -> jax.Array:
    """``conv_transpose`` (``dilation`` 1) of batched ``x (N, C_in, *L)``, equivalent kernel ``w``.

    ``w`` is the kernel of the equivalent convolution, ``(C_out, C_in / groups, *K)``,
    already flipped in space (as for XLA's dilated form); ``out`` is PyTorch's output
    size per dim (``output_padding`` included).
    """
    n = len(stride)
    kernel = w.shape[2:]
    length = x.shape[2:]
    # Phase r of dim i holds outputs Y with Y + padding = q * s + r, q < reach.
    reach = [-(-(p + o) // s) for p, o, s in zip(padding, out, stride)]
    phases = []
    for r in itertools.product(*(range(s) for s in stride)):
        # Unflipped taps r, r + s, ... are, in the flipped kernel, K - 1 - r, K - 1 - r - s, ...
        starts = [(k - 1 - ri) % s for k, ri, s in zip(kernel, r, stride)]
        taps = [len(range(ri, k, s)) for ri, k, s in zip(r, kernel, stride)]
        shape = (x.shape[0], w.shape[0], *reach)
        if min(taps) == 0:
            phases.append(jnp.zeros(shape, x.dtype))
            continue
        index = (slice(None), slice(None)) + tuple(slice(st, None, s) for st, s in zip(starts, stride))
        sub = w[index]
        pads = tuple((t - 1, t - 1) for t in taps)
        route = choose_route(x.shape, sub.shape, (1,) * n, pads, (1,) * n, groups, x.dtype.itemsize)
        size = patch_bytes(x.shape, sub.shape, (1,) * n, pads, (1,) * n, x.dtype.itemsize)
        if route == "xla" and groups == 1 and size <= PHASE_IM2COL_MAX_BYTES:
            route = "im2col"
        y = convolve(x, sub, (1,) * n, pads, (1,) * n, groups, route)
        # y[q] for q < L + taps - 1; crop or zero-pad each dim to `reach`.
        crop = tuple(slice(0, min(q, ln + t - 1)) for q, ln, t in zip(reach, length, taps))
        y = y[(slice(None), slice(None)) + crop]
        pads = [(0, 0, 0)] * 2 + [(0, q - d, 0) for q, d in zip(reach, y.shape[2:])]
        phases.append(lax.pad(y, jnp.zeros((), y.dtype), pads) if any(hi for _, hi, _ in pads) else y)
    # (prod s, N, C, *reach) -> (N, C, reach_0, s_0, reach_1, s_1, ...) -> (N, C, *reach * s)
    stacked = jnp.stack(phases).reshape(*stride, x.shape[0], w.shape[0], *reach)
    order = [n, n + 1] + [a for i in range(n) for a in (n + 2 + i, i)]
    full = stacked.transpose(order).reshape(x.shape[0], w.shape[0], *(q * s for q, s in zip(reach, stride)))
    window = tuple(slice(p, p + o) for p, o in zip(padding, out))
    return full[(slice(None), slice(None)) + window]


def useful(stride: tuple, dilation: tuple) -> bool:
    """Whether the phased form applies: some stride above 1 and no kernel dilation."""
    return math.prod(stride) > 1 and all(d == 1 for d in dilation)
