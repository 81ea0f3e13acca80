"""How a convolution runs: the formulations, and the measured rule that picks one from shapes.

XLA's CPU convolution is fast on large feature maps and pathological on others: on a
2-core CPU, forward plus backward, a 3x3 convolution of a batch of 8 with 512 channels
on 2x2 maps took about 1 s (im2col: 6-35 ms), 256 channels at 2x2 with a batch of 32
took 348 ms (im2col: 6 ms), and depthwise convolutions (``groups == channels``) ran
25-50x slower forward than a sum of shifted products. Every ResNet and MobileNet hits
these shapes in its last stages. So a convolution is routed, at trace time and from its
shapes alone, to one of:

* ``"matmul"``: a 1 x 1 convolution without padding is a matmul over channels
  (1.5-2x faster than XLA's convolution, forward and backward);
* ``"im2col_small"``: a one-group convolution with fewer than `SMALL_OUTPUT` output
  positions per image and at least `SMALL_OUTPUT_MIN_CHANNELS` input channels (ResNet's
  last stages; on narrow layers XLA's convolution is not slow there, and the stacked
  taps of a large batch cost more than they save): the kernel's taps sliced from the
  ``NCHW`` input, stacked into ``(N, C * taps, positions)`` patches and contracted with
  the weight's free ``(O, C * taps)`` reshape;
* ``"im2col"``: a one-group convolution whose patch matrix fits in `IM2COL_MAX_BYTES`
  and has at most `IM2COL_MAX_EXPANSION` columns per output channel (first layers on
  images): channels-last taps, ``(N * positions, taps * C)`` patches, one matmul;
* ``"depthwise"``: ``groups == C_in`` (each input channel convolved on its own, with
  ``C_out / C_in`` filters): the sum over taps of each shifted slice times its weight;
* ``"xla"``: everything else, ``lax.conv_general_dilated`` with PyTorch's layouts.

The measurements behind each threshold are printed by
``python -m benchmarks.conv_routes`` (every route against XLA's convolution and
PyTorch on the convolutions of ResNet-18, VGG-11, MobileNet-style and DCGAN models).
Only CPUs are routed: under ``lax.platform_dependent`` every other backend keeps its
own convolution (cuDNN on GPUs). Every route computes the same function; its gradients
are JAX's own, so ``jvp``/``hessian`` work on every route.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

from ._spatial import _DIMENSION_NUMBERS
from ._windows import windows

SMALL_OUTPUT = 64
"""Output positions per image (``prod(out spatial)``) below which a one-group convolution is ``im2col_small``."""
SMALL_OUTPUT_MIN_CHANNELS = 64
"""Fewest input channels of an ``im2col_small`` convolution."""
IM2COL_MAX_BYTES = 8 * 2**20
"""Largest patch matrix (bytes) of an ``im2col`` or ``im2col_small`` route."""
IM2COL_MAX_EXPANSION = 2
"""Largest ratio of patch-matrix columns (``C_in * prod(kernel)``) to output channels for ``im2col``."""

ROUTES = ("matmul", "im2col_small", "im2col", "depthwise", "xla")
_HIGHEST = lax.Precision.HIGHEST


def out_size(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    """Output length of one spatial dimension."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def patch_bytes(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple, pads: tuple, dilation: tuple, itemsize: int
) -> int:
    """Bytes of the im2col patch matrix of a one-group convolution: a row per output
    position of every image, a column per weight entry of one output channel."""
    out = math.prod(out_size(*a) for a in zip(x_shape[2:], w_shape[2:], stride, pads, dilation))
    return x_shape[0] * out * math.prod(w_shape[1:]) * itemsize


def choose_route(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: tuple,
    pads: tuple,
    dilation: tuple,
    groups: int,
    itemsize: int = 4,
) -> str:
    """The route (one of `ROUTES`) of a batched convolution, from shapes alone.

    Args:
      x_shape: ``(N, C_in, *spatial)``.
      w_shape: ``(C_out, C_in / groups, *kernel)``.
      stride, pads, dilation: per spatial dimension (``pads`` as ``(lo, hi)`` pairs).
      groups: PyTorch's ``groups``.
      itemsize: bytes per element of the input.
    """
    n, c = x_shape[:2]
    o, kernel = w_shape[0], w_shape[2:]
    if groups == c and groups > 1:
        return "depthwise"
    if groups != 1:
        return "xla"
    if all(k == 1 for k in kernel) and all(p == (0, 0) for p in pads):
        return "matmul"
    out = math.prod(out_size(*a) for a in zip(x_shape[2:], kernel, stride, pads, dilation))
    columns = c * math.prod(kernel)
    if patch_bytes(x_shape, w_shape, stride, pads, dilation, itemsize) > IM2COL_MAX_BYTES:
        return "xla"
    if out < SMALL_OUTPUT and c >= SMALL_OUTPUT_MIN_CHANNELS:
        return "im2col_small"
    if columns <= IM2COL_MAX_EXPANSION * o:
        return "im2col"
    return "xla"


def _out(x: jax.Array, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> list[int]:
    return [out_size(*a) for a in zip(x.shape[2:], kernel, stride, pads, dilation)]


def _matmul(x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple) -> jax.Array:
    if any(s != 1 for s in stride):
        x = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    y = lax.dot_general(x, w.reshape(w.shape[:2]), (((1,), (1,)), ((), ())), precision=_HIGHEST)
    return jnp.moveaxis(y, -1, 1)


def _im2col(x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple) -> jax.Array:
    """Channels-last taps, a row per output position with columns ``(taps, C)``, one matmul."""
    n, c = x.shape[:2]
    o, kernel = w.shape[0], w.shape[2:]
    out = _out(x, kernel, stride, pads, dilation)
    x = jnp.moveaxis(x, 1, -1)  # each tap (N, *out, C) has its channels contiguous
    taps = windows(x, kernel, stride, [lo for lo, _ in pads], dilation, out, 0.0, first=1)
    patches = jnp.stack(taps, axis=-2).reshape(n * math.prod(out), math.prod(kernel) * c)
    w2d = jnp.moveaxis(w, 1, -1).reshape(o, -1)  # (O, *kernel, C), matching the columns
    y = lax.dot_general(patches, w2d, (((1,), (1,)), ((), ())), precision=_HIGHEST)
    return jnp.moveaxis(y.reshape(n, *out, o), -1, 1)


def _im2col_small(x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple) -> jax.Array:
    """``NCHW`` taps stacked after the channels: ``(N, C * taps, positions)`` patches whose
    column order is the weight's own ``(C, *kernel)``, so neither the weight nor its
    gradient is transposed."""
    n, c = x.shape[:2]
    o, kernel = w.shape[0], w.shape[2:]
    out = _out(x, kernel, stride, pads, dilation)
    taps = windows(x, kernel, stride, [lo for lo, _ in pads], dilation, out, 0.0, first=2)
    patches = jnp.stack(taps, axis=2).reshape(n, c * math.prod(kernel), math.prod(out))
    y = lax.dot_general(patches, w.reshape(o, -1), (((1,), (1,)), ((), ())), precision=_HIGHEST)  # (N, P, O)
    return jnp.moveaxis(y, -1, 1).reshape(n, o, *out)


def _depthwise(x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple) -> jax.Array:
    """``groups == C_in``: output channel ``c * m + j`` is input channel ``c`` convolved with
    filter ``c * m + j`` alone, a sum over taps of a shifted slice times one weight each."""
    c = x.shape[1]
    o, kernel = w.shape[0], w.shape[2:]
    m = o // c
    if m > 1:  # channel multiplier: input channel c feeds outputs c*m ... c*m + m - 1
        x = jnp.repeat(x, m, axis=1)
    out = _out(x, kernel, stride, pads, dilation)
    taps = windows(x, kernel, stride, [lo for lo, _ in pads], dilation, out, 0.0, first=2)
    w_taps = w.reshape(o, math.prod(kernel))
    expand = (None, slice(None)) + (None,) * len(kernel)
    y = taps[0] * w_taps[:, 0][expand]
    for t in range(1, len(taps)):
        y = y + taps[t] * w_taps[:, t][expand]
    return y


_KERNELS: dict[str, Callable[..., jax.Array]] = {
    "matmul": _matmul,
    "im2col_small": _im2col_small,
    "im2col": _im2col,
    "depthwise": _depthwise,
}


def xla_conv(x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple, groups: int) -> jax.Array:
    """``lax.conv_general_dilated`` with PyTorch's layouts, at full float32 precision."""
    return lax.conv_general_dilated(
        x,
        w,
        window_strides=stride,
        padding=pads,
        rhs_dilation=dilation,
        dimension_numbers=_DIMENSION_NUMBERS[len(stride)],
        feature_group_count=groups,
        precision=_HIGHEST,
    )


def convolve(
    x: jax.Array, w: jax.Array, stride: tuple, pads: tuple, dilation: tuple, groups: int, route: str | None = None
) -> jax.Array:
    """A batched convolution (no bias) by ``route`` (default: `choose_route`'s) on CPUs.

    Every backend other than the CPU runs XLA's convolution. ``route`` is for tests and
    benchmarks that compare the routes.
    """
    route = route or choose_route(x.shape, w.shape, stride, pads, dilation, groups, x.dtype.itemsize)
    xla = functools.partial(xla_conv, stride=stride, pads=pads, dilation=dilation, groups=groups)
    if route == "xla":
        return xla(x, w)
    if route == "matmul":  # a matmul is fast on every backend
        return _matmul(x, w, stride, pads, dilation)
    kernel = functools.partial(_KERNELS[route], stride=stride, pads=pads, dilation=dilation)
    return lax.platform_dependent(x, w, cpu=kernel, default=xla)
