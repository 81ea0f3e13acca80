"""Convolution layers: `Conv1d/2d/3d` and `ConvTranspose1d/2d/3d`.

Arguments, defaults, parameter names and shapes are PyTorch's: ``weight`` is
``(out_channels, in_channels / groups, *kernel_size)`` for a convolution and
``(in_channels, out_channels / groups, *kernel_size)`` for a transposed one; both are
initialised ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``kaiming_uniform(a=sqrt(5))``),
with ``fan_in = weight.shape[1] * prod(kernel_size)`` computed from the weight as laid
out, and so is ``bias (out_channels,)``. Inputs are ``(N, C, *spatial)`` or unbatched
``(C, *spatial)``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> layer = nn.Conv2d(3, 8, 3, padding=1)
  >>> params = layer.init(jax.random.key(0))
  >>> {k: v.shape for k, v in params.items()}
  {'weight': (8, 3, 3, 3), 'bias': (8,)}
  >>> layer.apply(params, jnp.ones((2, 3, 16, 16))).shape
  (2, 8, 16, 16)
  >>> layer
  Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import init as init_
from ._checks import check_choice, check_positive
from .functional.conv import IntOrTuple, Padding, check_groups, conv_impl, conv_padding, conv_transpose_impl, ntuple
from .functional.conv_transpose import check_output_padding
from .module import Module, Params

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared configuration, init and repr of the convolution layers (the ops check the inputs)."""

    n: int = 0
    transposed: bool = False

    def _configure(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrTuple,
        stride: IntOrTuple,
        padding: Padding,
        dilation: IntOrTuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding: IntOrTuple,
        dtype: Any,
    ) -> None:
        name, n = type(self).__name__, self.n
        check_positive(name, "in_channels", in_channels)
        check_positive(name, "out_channels", out_channels)
        check_groups(name, groups, in_channels, out_channels)
        check_choice(name, "padding_mode", padding_mode, _PADDING_MODES)
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: `bias` must be True or False, got {bias!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, n, minimum=1)
        self.stride = ntuple(name, "stride", stride, n, minimum=1)
        self.dilation = ntuple(name, "dilation", dilation, n, minimum=1)
        self.output_padding = ntuple(name, "output_padding", output_padding, n, minimum=0)
        self.padding: str | tuple[int, ...]
        if isinstance(padding, str):
            self.padding = padding
        else:
            self.padding = ntuple(name, "padding", padding, n, minimum=0)
        # Resolve to (left, right) pairs now: this validates 'same'/'valid' eagerly.
        self._pads = conv_padding(name, padding, n, self.kernel_size, self.stride, self.dilation)
        self.bias, self.padding_mode, self.dtype = bias, padding_mode, dtype

    # ------------------------------------------------------------------------ params
    @property
    def weight_shape(self) -> tuple[int, ...]:
        """``(out, in/groups, *k)``, or ``(in, out/groups, *k)`` when transposed."""
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def init(self, key: jax.Array) -> Params:
        kw, kb = _rng.split(key, 2)
        shape = self.weight_shape
        fan_in = shape[1] * math.prod(self.kernel_size)
        params = {"weight": init_.default_uniform(kw, shape, fan_in, self.dtype)}
        if self.bias:
            params["bias"] = init_.default_uniform(kb, (self.out_channels,), fan_in, self.dtype)
        return params

    # ----------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        n = self.n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if not self.bias:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrTuple,
        stride: IntOrTuple = 1,
        padding: Padding = 0,
        dilation: IntOrTuple = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        self._configure(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, 0, dtype
        )

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        owner, weight, bias = repr(self), params["weight"], params.get("bias")
        args = (self.stride, self._pads, self.dilation, self.groups)
        return conv_impl(
            owner, self.n, input, weight, bias, *args, in_channels=self.in_channels, padding_mode=self.padding_mode
        )


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)`` (or ``(C_in, L)``), as ``torch.nn.Conv1d``.

    Args:
      in_channels: input channel count, divisible by ``groups``.
      out_channels: output channel count, divisible by ``groups``.
      kernel_size: int or 1-tuple.
      stride: int or 1-tuple, > 0.
      padding: int or 1-tuple, or 'same' (stride 1 only; the odd element goes right) or 'valid'.
      dilation: spacing between kernel taps.
      groups: independent channel groups.
      bias: whether to learn an additive bias.
      padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
      dtype: parameter dtype.

    Params: ``weight (out_channels, in_channels / groups, k)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, L) -> (N, C_out, L_out)``, ``L_out = floor((L + 2 * padding -
    dilation * (k - 1) - 1) / stride) + 1``; unbatched inputs drop ``N``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.Conv1d(4, 6, 3, padding="same", padding_mode="circular")
      >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((4, 10))).shape
      (6, 10)
    """

    n = 1


class Conv2d(_Conv):
    """2-D convolution over ``(N, C_in, H, W)`` (or ``(C_in, H, W)``), as ``torch.nn.Conv2d``.

    Args:
      in_channels: input channel count, divisible by ``groups``.
      out_channels: output channel count, divisible by ``groups``.
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple, > 0.
      padding: int or 2-tuple, or 'same' (stride 1 only; the odd element goes right) or 'valid'.
      dilation: int or 2-tuple, spacing between kernel taps.
      groups: independent channel groups.
      bias: whether to learn an additive bias.
      padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
      dtype: parameter dtype.

    Params: ``weight (out_channels, in_channels / groups, kH, kW)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``; per spatial dim
    ``out = floor((size + 2 * padding - dilation * (k - 1) - 1) / stride) + 1``;
    unbatched inputs drop ``N``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.Conv2d(4, 8, (3, 5), stride=2, groups=2, padding_mode="reflect", padding=(1, 2))
      >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((1, 4, 9, 9))).shape
      (1, 8, 5, 5)
    """

    n = 2


class Conv3d(_Conv):
    """3-D convolution over ``(N, C_in, D, H, W)`` (or unbatched), as ``torch.nn.Conv3d``.

    Args:
      in_channels: input channel count, divisible by ``groups``.
      out_channels: output channel count, divisible by ``groups``.
      kernel_size: int or ``(kD, kH, kW)``.
      stride: int or 3-tuple, > 0.
      padding: int or 3-tuple, or 'same' (stride 1 only) or 'valid'.
      dilation: int or 3-tuple, spacing between kernel taps.
      groups: independent channel groups.
      bias: whether to learn an additive bias.
      padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
      dtype: parameter dtype.

    Params: ``weight (out_channels, in_channels / groups, kD, kH, kW)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``, sizes as in `Conv2d`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.Conv3d(2, 4, 3, padding="same")
      >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((1, 2, 5, 5, 5))).shape
      (1, 4, 5, 5, 5)
    """

    n = 3


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrTuple,
        stride: IntOrTuple = 1,
        padding: IntOrTuple = 0,
        output_padding: IntOrTuple = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntOrTuple = 1,
        padding_mode: str = "zeros",
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported for transposed convolutions, got {padding_mode!r}"
            )
        if isinstance(padding, str):
            raise ValueError(f"{name}: `padding` must be an int or a tuple of {self.n} ints, got {padding!r}")
        self._configure(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            dtype,
        )
        check_output_padding(name, self.output_padding, self.stride, self.dilation)

    def forward(
        self,
        params: Params,
        input: ArrayLike,
        output_size: Sequence[int] | None = None,
        *,
        key: Any = None,
        train: bool = False,
    ) -> jax.Array:
        owner, weight, bias = repr(self), params["weight"], params.get("bias")
        args = (self.stride, self.padding, self.output_padding, self.groups, self.dilation)
        return conv_transpose_impl(
            owner, self.n, input, weight, bias, *args, in_channels=self.in_channels, output_size=output_size
        )


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose1d``.

    Args:
      in_channels: input channel count, divisible by ``groups``.
      out_channels: output channel count, divisible by ``groups``.
      kernel_size: int or 1-tuple.
      stride: int or 1-tuple, > 0.
      padding: ``dilation * (k - 1) - padding`` zeros pad both sides of the input.
      output_padding: extra size on one side of the output; smaller than ``stride`` or ``dilation``.
      groups: independent channel groups.
      bias: whether to learn an additive bias.
      dilation: spacing between kernel taps.
      padding_mode: only 'zeros'.
      dtype: parameter dtype.

    Params: ``weight (in_channels, out_channels / groups, k)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, L) -> (N, C_out, L_out)``, ``L_out = (L - 1) * stride - 2 * padding
    + dilation * (k - 1) + output_padding + 1``. ``apply(params, x, output_size)``
    picks the ``output_padding`` that gives ``output_size``, as in PyTorch.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.ConvTranspose1d(4, 2, 3, stride=2)
      >>> params = layer.init(jax.random.key(0))
      >>> layer.apply(params, jnp.ones((1, 4, 5))).shape, layer.apply(params, jnp.ones((1, 4, 5)), [12]).shape
      ((1, 2, 11), (1, 2, 12))
    """

    n = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose2d``.

    Args:
      in_channels: input channel count, divisible by ``groups``.
      out_channels: output channel count, divisible by ``groups``.
      kernel_size: int or ``(kH, kW)``.
      stride: int or 2-tuple, > 0.
      padding: int or 2-tuple; ``dilation * (k - 1) - padding`` zeros pad the input.
      output_padding: extra size on one side of the output; smaller than ``stride`` or ``dilation``.
      groups: independent channel groups.
      bias: whether to learn an additive bias.
      dilation: int or 2-tuple, spacing between kernel taps.
      padding_mode: only 'zeros'.
      dtype: parameter dtype.

    Params: ``weight (in_channels, out_channels / groups, kH, kW)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``; per spatial dim ``out =
    (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
      >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((2, 8, 7, 7))).shape
      (2, 4, 14, 14)
    """

    n = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution ("deconvolution"), as ``torch.nn.ConvTranspose3d``.

    Args as in `ConvTranspose2d`, with ints or 3-tuples ``(D, H, W)``.

    Params: ``weight (in_channels, out_channels / groups, kD, kH, kW)``, ``bias (out_channels,)``.

    Shapes: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)`` (or unbatched), sizes
    as in `ConvTranspose2d`; ``apply(params, x, output_size)`` as in `ConvTranspose1d`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layer = nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1)
      >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((1, 2, 3, 3, 3)), output_size=(6, 6, 5)).shape
      (1, 4, 6, 6, 5)
    """

    n = 3
