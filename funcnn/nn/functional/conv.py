"""Convolutions with ``torch.nn.functional``'s arguments, layouts and numbers.

Layouts are PyTorch's: inputs ``(N, C, *spatial)`` (or unbatched ``(C, *spatial)``),
convolution weights ``(out_channels, in_channels / groups, *kernel)``, transposed
convolution weights ``(in_channels, out_channels / groups, *kernel)``.

How a convolution runs is chosen per shape at trace time (`_conv_routes`): on a CPU a
1 x 1 convolution is a matmul, convolutions with few output positions per image (the
last stages of a ResNet) and first layers on images are im2col plus one matmul,
depthwise convolutions are a sum of shifted products, and the rest is
``lax.conv_general_dilated`` with PyTorch's ``NCHW``/``OIHW`` dimension numbers; other
backends keep XLA's convolution. ``python -m benchmarks.conv_routes`` shows the
measurements behind each rule.
Transposed convolutions live in `conv_transpose`, padding in `padding`; their names
are re-exported here. Convolutions run at ``Precision.HIGHEST``: full float32 on every backend (no TF32),
PyTorch's numbers; on a CPU it costs nothing.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.conv2d(jnp.ones((2, 3, 8, 8)), jnp.ones((4, 3, 3, 3)), padding=1).shape
  (2, 4, 8, 8)
  >>> F.conv_tbc(jnp.ones((5, 2, 3)), jnp.ones((2, 3, 4)), jnp.zeros(4)).shape
  (4, 2, 4)
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import shape_of
from . import _conv_routes
from ._spatial import _DIMENSION_NUMBERS as _DIMENSION_NUMBERS
from ._spatial import _SPATIAL as _SPATIAL
from ._spatial import IntOrTuple as IntOrTuple
from ._spatial import Padding as Padding
from ._spatial import _add_bias as _add_bias
from ._spatial import _check_bias as _check_bias
from ._spatial import _check_input as _check_input
from ._spatial import _is_int as _is_int
from ._spatial import _maybe_array as _maybe_array
from ._spatial import check_groups as check_groups
from ._spatial import conv_padding as conv_padding
from ._spatial import ntuple as ntuple
from .conv_transpose import conv_transpose1d as conv_transpose1d
from .conv_transpose import conv_transpose2d as conv_transpose2d
from .conv_transpose import conv_transpose3d as conv_transpose3d
from .conv_transpose import conv_transpose_impl as conv_transpose_impl
from .conv_transpose import transposed_output_size as transposed_output_size
from .padding import pad as pad
from .padding import pad_impl as pad_impl


# ------------------------------------------------------------------------- convolution
def conv_impl(
    owner: str,
    n: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrTuple,
    padding: Padding | Sequence[tuple[int, int]],
    dilation: IntOrTuple,
    groups: int,
    *,
    in_channels: int | None = None,
    padding_mode: str = "zeros",
) -> jax.Array:
    """The ``n``-D convolution behind `conv1d`/`conv2d`/`conv3d` and the ``Conv`` layers.

    ``padding`` may also be a tuple of ``(left, right)`` pairs (already resolved);
    every error names ``owner``. A layer passes its ``in_channels`` (the input's
    channels are then checked against it) and its ``padding_mode``: other than
    'zeros', the input is padded so first (as PyTorch does) and convolved unpadded.
    """
    xs, ws = _check_input(owner, input, n, in_channels), shape_of(weight)
    if len(ws) != n + 2:
        raise ValueError(
            f"{owner}: expected a {n + 2}-D weight (out_channels, in_channels / groups, {_SPATIAL[n]}), got shape {ws}"
        )
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{owner}: `groups` must be a positive integer, got {groups!r}")
    if ws[0] % groups:
        raise ValueError(f"{owner}: weight of shape {ws} has {ws[0]} output channels, not divisible by groups={groups}")
    stride = ntuple(owner, "stride", stride, n, minimum=1)
    dilation = ntuple(owner, "dilation", dilation, n, minimum=1)
    kernel = ws[2:]
    if isinstance(padding, (tuple, list)) and padding and isinstance(padding[0], tuple):
        pads = tuple(padding)
    else:
        pads = conv_padding(owner, padding, n, kernel, stride, dilation)  # type: ignore[arg-type]
    if padding_mode != "zeros":
        # PyTorch pads explicitly (left/right per dim, last dim first), then convolves unpadded.
        input = pad_impl(owner, input, tuple(a for lo_hi in reversed(pads) for a in lo_hi), padding_mode, None)
        xs, pads = shape_of(input), ((0, 0),) * n
    channels = ws[1] * groups
    if xs[-n - 1] != channels:
        raise ValueError(
            f"{owner}: weight of shape {ws} with groups={groups} expects input with {channels} channels "
            f"(dimension {-n - 1}), got shape {xs}"
        )
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(xs[-n:], pads))
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < r for p, r in zip(padded, reach)):
        raise ValueError(
            f"{owner}: padded input size {padded} is smaller than the dilated kernel size {reach} "
            f"(input shape {xs}, kernel {kernel}, dilation {dilation}); use a larger input or more padding"
        )
    _check_bias(owner, bias, ws[0])
    return _conv_compiled(jnp.asarray(input), jnp.asarray(weight), _maybe_array(bias), stride, pads, dilation, groups)


# The cores are compiled per configuration: one XLA program per call even when run
# eagerly (inside an outer ``jit`` they are simply inlined).
@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _conv_compiled(
    x: jax.Array, weight: jax.Array, bias: jax.Array | None, stride: tuple, pads: tuple, dilation: tuple, groups: int
) -> jax.Array:
    n = len(stride)
    batched = x.ndim == n + 2
    if not batched:
        x = x[None]
    y = _conv_routes.convolve(x, weight.astype(x.dtype), stride, pads, dilation, groups)
    y = _add_bias(y, bias, n)
    return y if batched else y[0]


def conv1d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> jax.Array:
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    Args:
      input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``, floating.
      weight: ``(C_out, C_in / groups, k)``.
      bias: ``(C_out,)`` or None.
      stride: int or 1-tuple, > 0.
      padding: int or 1-tuple of zero padding on both sides, or 'same' / 'valid'.
      dilation: spacing between kernel taps, > 0.
      groups: split channels into this many independent groups.

    Returns:
      ``(N, C_out, L_out)`` (or ``(C_out, L_out)``), same dtype as ``input``, with
      ``L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) / stride) + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv1d(jnp.ones((1, 1, 4)), jnp.ones((1, 1, 2))).tolist()
      [[[2.0, 2.0, 2.0]]]
    """
    return conv_impl("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> jax.Array:
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Args:
      input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``, floating.
      weight: ``(C_out, C_in / groups, kH, kW)``.
      bias: ``(C_out,)`` or None.
      stride: int or 2-tuple, > 0.
      padding: int or 2-tuple of zero padding on both sides, or 'same' / 'valid'.
      dilation: int or 2-tuple, spacing between kernel taps.
      groups: split channels into this many independent groups.

    Returns:
      ``(N, C_out, H_out, W_out)`` (or unbatched), same dtype as ``input``; per spatial
      dim ``out = floor((size + 2 * padding - dilation * (k - 1) - 1) / stride) + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv2d(jnp.ones((1, 2, 5, 5)), jnp.ones((4, 1, 2, 2)), groups=2, padding="same").shape
      (1, 4, 5, 5)
    """
    return conv_impl("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> jax.Array:
    """3-D convolution (cross-correlation), as ``torch.nn.functional.conv3d``.

    Args:
      input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``, floating.
      weight: ``(C_out, C_in / groups, kD, kH, kW)``.
      bias: ``(C_out,)`` or None.
      stride: int or 3-tuple, > 0.
      padding: int or 3-tuple of zero padding on both sides, or 'same' / 'valid'.
      dilation: int or 3-tuple, spacing between kernel taps.
      groups: split channels into this many independent groups.

    Returns:
      ``(N, C_out, D_out, H_out, W_out)`` (or unbatched), same dtype as ``input``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv3d(jnp.ones((1, 2, 4, 4, 4)), jnp.ones((3, 2, 2, 2, 2)), stride=2).shape
      (1, 3, 2, 2, 2)
    """
    return conv_impl("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# ------------------------------------------------------------------- time-batch-channel
def conv_tbc(input: ArrayLike, weight: ArrayLike, bias: ArrayLike, pad: int = 0) -> jax.Array:
    """1-D convolution over time-major input, as ``torch.conv_tbc``.

    ``out[t] = bias + sum_k input[t - pad + k] @ weight[k]`` (a cross-correlation with
    ``pad`` zeros on both ends of the time axis), run as `conv1d` on the transposed input.

    Args:
      input: ``(T, B, C_in)``, floating.
      weight: ``(K, C_in, C_out)``.
      bias: ``(C_out,)`` (required, as in PyTorch).
      pad: zero padding on both ends of the time axis, >= 0.

    Returns:
      ``(T + 2 * pad - K + 1, B, C_out)``, same dtype as ``input``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv_tbc(jnp.ones((3, 1, 1)), jnp.ones((2, 1, 1)), jnp.zeros(1), pad=1)[:, 0, 0].tolist()
      [1.0, 2.0, 2.0, 1.0]
    """
    owner = "conv_tbc"
    xs, ws = shape_of(input), shape_of(weight)
    if len(xs) != 3:
        raise ValueError(f"{owner}: expected a 3-D input (T, B, C_in), got shape {xs}; add the missing batch axis")
    if len(ws) != 3 or ws[1] != xs[2]:
        raise ValueError(
            f"{owner}: expected a 3-D weight (K, C_in, C_out) with C_in = {xs[2]} (the input's last dim), "
            f"got shape {ws}"
        )
    if bias is None or shape_of(bias) != (ws[2],):
        got = None if bias is None else shape_of(bias)
        raise ValueError(f"{owner}: expected a bias of shape ({ws[2]},), got {got}; pass jnp.zeros({ws[2]}) for none")
    if not _is_int(pad) or pad < 0:
        raise ValueError(f"{owner}: `pad` must be a non-negative int, got {pad!r}")
    x = jnp.transpose(jnp.asarray(input), (1, 2, 0))  # (B, C_in, T)
    w = jnp.transpose(jnp.asarray(weight), (2, 1, 0))  # (C_out, C_in, K)
    y = conv_impl(owner, 1, x, w, bias, 1, ((int(pad), int(pad)),), 1, 1)
    return jnp.transpose(y, (2, 0, 1))
