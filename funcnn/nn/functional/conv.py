"""Convolutions and padding with ``torch.nn.functional``'s arguments, layouts and numbers.

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
Convolutions run at ``Precision.HIGHEST``: full float32 on every backend (no TF32),
PyTorch's numbers; on a CPU it costs nothing.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.conv2d(jnp.ones((2, 3, 8, 8)), jnp.ones((4, 3, 3, 3)), padding=1).shape
  (2, 4, 8, 8)
  >>> F.conv_transpose2d(jnp.ones((2, 4, 5, 5)), jnp.ones((4, 3, 3, 3)), stride=2).shape
  (2, 3, 11, 11)
  >>> F.pad(jnp.arange(4.0).reshape(1, 4), (2, 1), mode="reflect").tolist()
  [[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]
"""

from __future__ import annotations

import functools
from typing import Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from . import _conv_routes

IntOrTuple = Union[int, Sequence[int]]
Padding = Union[str, int, Sequence[int]]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
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


def _check_input(owner: str, x: ArrayLike, n: int) -> tuple[int, ...]:
    check_floating(owner, x)
    shape = shape_of(x)
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
    return y + jnp.reshape(bias, (-1,) + (1,) * n)


# ------------------------------------------------------------------------- convolution
def conv(
    owner: str,
    n: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrTuple,
    padding: Padding | Sequence[tuple[int, int]],
    dilation: IntOrTuple,
    groups: int,
) -> jax.Array:
    """The ``n``-D convolution behind `conv1d`/`conv2d`/`conv3d` and the ``Conv`` layers.

    ``padding`` may also be a tuple of ``(left, right)`` pairs (already resolved);
    every error names ``owner``.
    """
    xs, ws = _check_input(owner, input, n), shape_of(weight)
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
    return conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


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
    return conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


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
    return conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# ---------------------------------------------------------------- transposed convolution
def transposed_output_size(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """PyTorch's output length of a transposed convolution along one dim."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_transpose(
    owner: str,
    n: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> jax.Array:
    """The ``n``-D transposed convolution behind `conv_transpose1d`/`2d` and the layers.

    Computed as the gradient of `conv` with respect to its input: a convolution of the
    input dilated by ``stride`` with the flipped, regrouped kernel.
    """
    xs, ws = _check_input(owner, input, n), shape_of(weight)
    if len(ws) != n + 2:
        raise ValueError(
            f"{owner}: expected a {n + 2}-D weight (in_channels, out_channels / groups, {_SPATIAL[n]}), got shape {ws}"
        )
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{owner}: `groups` must be a positive integer, got {groups!r}")
    if ws[0] % groups:
        raise ValueError(f"{owner}: weight of shape {ws} has {ws[0]} input channels, not divisible by groups={groups}")
    stride = ntuple(owner, "stride", stride, n, minimum=1)
    padding = ntuple(owner, "padding", padding, n, minimum=0)
    output_padding = ntuple(owner, "output_padding", output_padding, n, minimum=0)
    dilation = ntuple(owner, "dilation", dilation, n, minimum=1)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{owner}: `output_padding` (={output_padding}) must be smaller than either `stride` (={stride}) "
            f"or `dilation` (={dilation}) in every dim"
        )
    if xs[-n - 1] != ws[0]:
        raise ValueError(
            f"{owner}: weight of shape {ws} expects input with {ws[0]} channels (dimension {-n - 1}), got shape {xs}"
        )
    kernel = ws[2:]
    out = tuple(
        transposed_output_size(*args) for args in zip(xs[-n:], kernel, stride, padding, output_padding, dilation)
    )
    if any(o <= 0 for o in out):
        raise ValueError(
            f"{owner}: output size {out} is too small for input shape {xs} with kernel {kernel}, stride {stride}, "
            f"padding {padding} and dilation {dilation}; reduce `padding`"
        )
    _check_bias(owner, bias, ws[1] * groups)
    return _conv_transpose_compiled(
        jnp.asarray(input), jnp.asarray(weight), _maybe_array(bias), stride, padding, output_padding, groups, dilation
    )


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6, 7))
def _conv_transpose_compiled(
    x: jax.Array,
    weight: jax.Array,
    bias: jax.Array | None,
    stride: tuple,
    padding: tuple,
    output_padding: tuple,
    groups: int,
    dilation: tuple,
) -> jax.Array:
    n = len(stride)
    batched = x.ndim == n + 2
    if not batched:
        x = x[None]
    ws = weight.shape
    kernel = ws[2:]
    # (in, out/g, *k) -> (out, in/g, *k), flipped in space: the kernel of the equivalent conv.
    w = weight.astype(x.dtype).reshape(groups, ws[0] // groups, ws[1], *kernel)
    w = jnp.swapaxes(w, 1, 2).reshape(ws[1] * groups, ws[0] // groups, *kernel)
    w = lax.rev(w, tuple(range(2, n + 2)))
    pads = tuple(
        (d * (k - 1) - p, d * (k - 1) - p + op) for k, p, op, d in zip(kernel, padding, output_padding, dilation)
    )
    y = lax.conv_general_dilated(
        x,
        w,
        window_strides=(1,) * n,
        padding=pads,
        lhs_dilation=stride,
        rhs_dilation=dilation,
        dimension_numbers=_DIMENSION_NUMBERS[n],
        feature_group_count=groups,
        precision=lax.Precision.HIGHEST,
    )
    y = _add_bias(y, bias, n)
    return y if batched else y[0]


def conv_transpose1d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> jax.Array:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    Note PyTorch's argument order: ``groups`` comes before ``dilation``.

    Args:
      input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``, floating.
      weight: ``(C_in, C_out / groups, k)`` (PyTorch's transposed layout).
      bias: ``(C_out,)`` or None.
      stride: int or 1-tuple, > 0.
      padding: ``dilation * (k - 1) - padding`` zeros are added on both sides of the input.
      output_padding: extra size on one side of the output; smaller than ``stride`` or ``dilation``.
      groups: split channels into this many independent groups.
      dilation: spacing between kernel taps.

    Returns:
      ``(N, C_out, L_out)`` (or unbatched), with
      ``L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv_transpose1d(jnp.ones((1, 1, 2)), jnp.ones((1, 1, 2)), stride=2).tolist()
      [[[1.0, 1.0, 1.0, 1.0]]]
    """
    return conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> jax.Array:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Note PyTorch's argument order: ``groups`` comes before ``dilation``.

    Args:
      input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``, floating.
      weight: ``(C_in, C_out / groups, kH, kW)`` (PyTorch's transposed layout).
      bias: ``(C_out,)`` or None.
      stride: int or 2-tuple, > 0.
      padding: int or 2-tuple; ``dilation * (k - 1) - padding`` zeros pad the input.
      output_padding: extra size on one side of the output; smaller than ``stride`` or ``dilation``.
      groups: split channels into this many independent groups.
      dilation: int or 2-tuple, spacing between kernel taps.

    Returns:
      ``(N, C_out, H_out, W_out)`` (or unbatched); per spatial dim
      ``out = (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv_transpose2d(jnp.ones((1, 4, 3, 3)), jnp.ones((4, 1, 3, 3)), stride=2, padding=1,
      ...                    output_padding=1, groups=2).shape
      (1, 2, 6, 6)
    """
    return conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


# ------------------------------------------------------------------------------ padding
_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(mode: str, size: int, lo: int, hi: int) -> np.ndarray:
    """The input index each output position of a non-constant pad reads (PyTorch's rules)."""
    pos = np.arange(-lo, size + hi)
    if mode == "reflect":
        pos = np.abs(pos)
        return np.where(pos >= size, 2 * (size - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, size - 1)
    # circular: negative amounts crop first, then the kept part wraps around.
    start, kept = max(-lo, 0), size - max(-lo, 0) - max(-hi, 0)
    return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept


def _gather_runs(x: jax.Array, axis: int, index: np.ndarray) -> jax.Array:
    """``take(x, index, axis)`` for a static index, as slices: runs of +1 or -1 steps."""
    pieces, start = [], 0
    while start < len(index):
        end = start + 1
        step = int(index[end] - index[start]) if end < len(index) else 1
        if step not in (1, -1):
            step = 1
        while end < len(index) and index[end] - index[end - 1] == step:
            end += 1
        lo, hi = sorted((int(index[start]), int(index[end - 1])))
        piece = lax.slice_in_dim(x, lo, hi + 1, axis=axis)
        pieces.append(piece if step == 1 else lax.rev(piece, (axis,)))
        start = end
    return pieces[0] if len(pieces) == 1 else lax.concatenate(pieces, axis)


def pad(input: ArrayLike, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> jax.Array:
    """Pad the last ``len(pad) // 2`` dims, as ``torch.nn.functional.pad``.

    ``pad`` lists ``(left, right)`` pairs starting from the **last** dim:
    ``(left_W, right_W, top_H, bottom_H, ...)``. Negative amounts crop.

    Args:
      input: any array; for the non-constant modes ``(N, C, *spatial)`` or
        ``(C, *spatial)`` with 1 to 3 padded spatial dims.
      pad: even-length tuple of ints.
      mode: 'constant' (fill with ``value``), 'reflect' (mirror without repeating the
        edge; each pad smaller than the dim), 'replicate' (repeat the edge) or
        'circular' (wrap around; each pad at most the dim).
      value: fill value of 'constant' mode (default 0); other modes take none.

    Returns:
      The padded array, same dtype; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(3.0).reshape(1, 1, 3)
      >>> F.pad(x, (1, 2)).tolist()
      [[[0.0, 0.0, 1.0, 2.0, 0.0, 0.0]]]
      >>> F.pad(x, (2, 2), mode="circular").tolist()
      [[[1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0]]]
      >>> F.pad(x, (1, 1), mode="replicate").tolist()
      [[[0.0, 0.0, 1.0, 2.0, 2.0]]]
    """
    return pad_impl("pad", input, pad, mode, value)


def pad_impl(owner: str, input: ArrayLike, pad: Sequence[int], mode: str, value: float | None) -> jax.Array:
    """The implementation of `pad`; every error names ``owner`` (a layer's repr)."""
    x = jnp.asarray(input)
    shape = shape_of(x)
    if not isinstance(pad, (tuple, list)) or not all(_is_int(p) for p in pad):
        raise TypeError(
            f"{owner}: `pad` must be a tuple of ints (left, right, ...) starting from the last dim, got {pad!r}"
        )
    if len(pad) % 2:
        raise ValueError(f"{owner}: `pad` must have an even length (pairs of left/right amounts), got {tuple(pad)}")
    m = len(pad) // 2
    if m > len(shape):
        raise ValueError(f"{owner}: `pad` {tuple(pad)} pads {m} dims but the input has shape {shape}")
    if mode not in _MODES:
        raise ValueError(f"{owner}: `mode` must be one of {list(_MODES)}, got {mode!r}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(m)]  # pairs[i] pads axis -1 - i
    if mode == "constant":
        config = [(0, 0, 0)] * (len(shape) - m) + [(lo, hi, 0) for lo, hi in reversed(pairs)]
        out = tuple(s + lo + hi for s, (lo, hi, _) in zip(shape, config))
        if any(o < 0 for o in out):
            raise ValueError(f"{owner}: negative padding {tuple(pad)} crops more than the input shape {shape} holds")
        return lax.pad(x, jnp.asarray(0 if value is None else value, x.dtype), config)
    if value is not None and value != 0:
        raise ValueError(
            f"{owner}: mode={mode!r} takes no fill `value`, got value={value!r}; drop it or use mode='constant'"
        )
    if not 1 <= m <= 3 or len(shape) not in (m + 1, m + 2):
        raise ValueError(
            f"{owner}: mode={mode!r} pads 1 to 3 trailing dims of a (N, C, *spatial) or (C, *spatial) input; "
            f"got `pad` of length {len(pad)} for input shape {shape}"
        )
    for i, (lo, hi) in enumerate(pairs):
        axis = len(shape) - 1 - i
        size = shape[axis]
        if size == 0 or size + lo + hi < 0 or (mode == "circular" and size + min(lo, 0) + min(hi, 0) <= 0):
            raise ValueError(f"{owner}: mode={mode!r} cannot pad dimension {axis} of input shape {shape} by {(lo, hi)}")
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ValueError(
                f"{owner}: mode='reflect' needs each pad smaller than the dim it pads, got {(lo, hi)} "
                f"for dimension {axis} of input shape {shape}"
            )
        kept = size + min(lo, 0) + min(hi, 0)
        if mode == "circular" and (lo > kept or hi > kept):
            raise ValueError(
                f"{owner}: mode='circular' wraps around at most once, so each pad must be at most the size of the "
                f"dim (after cropping); got {(lo, hi)} for dimension {axis} of input shape {shape}"
            )
    return _pad_compiled(x, tuple(pairs), mode)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _pad_compiled(x: jax.Array, pairs: tuple, mode: str) -> jax.Array:
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - 1 - i
        index = _source_index(mode, x.shape[axis], lo, hi)
        x = _gather_runs(x, axis, index) if len(index) else lax.slice_in_dim(x, 0, 0, axis=axis)
    return x
