"""Transposed convolutions with ``torch.nn.functional``'s arguments, layouts and numbers.

The weight is PyTorch's transposed layout ``(in_channels, out_channels / groups,
*kernel)``. A transposed convolution is the gradient of a convolution with respect to
its input: one ``lax.conv_general_dilated`` of the input dilated by ``stride`` with
the flipped, regrouped kernel, at ``Precision.HIGHEST``; on CPUs a strided one (without
kernel dilation) runs instead as one stride-1 convolution per output phase
(``_conv_transpose_phases``), which multiplies no inserted zero and whose gradient
avoids XLA's slow dilated path.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.conv_transpose2d(jnp.ones((2, 4, 5, 5)), jnp.ones((4, 3, 3, 3)), stride=2).shape
  (2, 3, 11, 11)
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from .._checks import shape_of
from . import _conv_transpose_phases as _phases
from ._spatial import (
    _DIMENSION_NUMBERS,
    _SPATIAL,
    IntOrTuple,
    _add_bias,
    _check_bias,
    _check_input,
    _is_int,
    _maybe_array,
    ntuple,
)


def transposed_output_size(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """PyTorch's output length of a transposed convolution along one dim."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_output_padding(
    owner: str, output_padding: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> None:
    """ValueError unless ``output_padding`` is smaller than ``stride`` or ``dilation`` in every dim (PyTorch's rule)."""
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{owner}: `output_padding` (={output_padding}) must be smaller than either `stride` (={stride}) "
            f"or `dilation` (={dilation}) in every dim"
        )


def output_padding_for_size(
    owner: str,
    shape: tuple[int, ...],
    output_size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
) -> tuple[int, ...]:
    """The ``output_padding`` that makes the output spatial size ``output_size`` (PyTorch's rule).

    ``output_size`` holds the ``n = len(kernel)`` spatial sizes, or as many sizes as the
    input ``shape`` has dims.
    """
    n = len(kernel)
    size = tuple(output_size)
    if len(size) == len(shape):  # given with the batch/channel sizes too
        size = size[-n:]
    if len(size) != n or not all(isinstance(s, int) for s in size):
        raise ValueError(
            f"{owner}: `output_size` must hold {n} spatial sizes (or {len(shape)} sizes like the input's shape "
            f"{shape}), got {output_size!r}"
        )
    out = []
    for d in range(n):
        smallest = transposed_output_size(shape[-n + d], kernel[d], stride[d], padding[d], 0, dilation[d])
        largest = smallest + stride[d] - 1
        if not smallest <= size[d] <= largest:
            raise ValueError(
                f"{owner}: requested output size {tuple(size)} is not reachable from input shape {shape}: "
                f"dimension {d} must lie in [{smallest}, {largest}]"
            )
        out.append(size[d] - smallest)
    return tuple(out)


def conv_transpose_impl(
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
    *,
    in_channels: int | None = None,
    output_size: Sequence[int] | None = None,
) -> jax.Array:
    """The ``n``-D transposed convolution behind `conv_transpose1d`/`2d`/`3d` and the layers.

    Computed as the gradient of `conv` with respect to its input: a convolution of the
    input dilated by ``stride`` with the flipped, regrouped kernel. Every error names
    ``owner``; a layer passes its ``in_channels`` (the input's channels are checked
    against it) and, when asked for one, the ``output_size`` that picks ``output_padding``.
    """
    xs, ws = _check_input(owner, input, n, in_channels), shape_of(weight)
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
    if output_size is not None:
        output_padding = output_padding_for_size(owner, xs, output_size, ws[2:], stride, padding, dilation)
    check_output_padding(owner, output_padding, stride, dilation)
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

    def dilated(x: jax.Array, w: jax.Array) -> jax.Array:
        return lax.conv_general_dilated(
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

    if _phases.useful(stride, dilation):  # CPUs: one stride-1 convolution per output phase
        out = tuple(
            transposed_output_size(*a) for a in zip(x.shape[2:], kernel, stride, padding, output_padding, dilation)
        )
        phased = functools.partial(
            _phases.phased_conv_transpose, stride=stride, padding=padding, out=out, groups=groups
        )
        y = lax.platform_dependent(x, w, cpu=phased, default=dilated)
    else:
        y = dilated(x, w)
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
    return conv_transpose_impl(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


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
    return conv_transpose_impl(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> jax.Array:
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``.

    Note PyTorch's argument order: ``groups`` comes before ``dilation``.

    Args:
      input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``, floating.
      weight: ``(C_in, C_out / groups, kD, kH, kW)`` (PyTorch's transposed layout).
      bias: ``(C_out,)`` or None.
      stride: int or 3-tuple, > 0.
      padding: int or 3-tuple; ``dilation * (k - 1) - padding`` zeros pad the input.
      output_padding: extra size on one side of the output; smaller than ``stride`` or ``dilation``.
      groups: split channels into this many independent groups.
      dilation: int or 3-tuple, spacing between kernel taps.

    Returns:
      ``(N, C_out, D_out, H_out, W_out)`` (or unbatched); per spatial dim
      ``out = (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.conv_transpose3d(jnp.ones((1, 2, 2, 3, 2)), jnp.ones((2, 3, 2, 2, 2)), stride=2).shape
      (1, 3, 4, 6, 4)
    """
    return conv_transpose_impl(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
