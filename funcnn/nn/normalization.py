"""`LayerNorm`, `RMSNorm`, `GroupNorm`, `InstanceNorm1d`/`2d`/`3d`, `LocalResponseNorm` and `CrossMapLRN2d`.

LayerNorm and GroupNorm normalise each sample by its own statistics, in training and
evaluation alike, and have no buffers. Instance norm does the same per channel; with
``track_running_stats=True`` it keeps ``running_mean``/``running_var`` (and a
``num_batches_tracked`` that, as in PyTorch, stays 0) in ``state``, updates them when
``train=True`` and normalises with them when ``train=False``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> ln = nn.LayerNorm(4)
  >>> params = ln.init(jax.random.key(0))
  >>> {k: v.shape for k, v in params.items()}
  {'weight': (4,), 'bias': (4,)}
  >>> ln.apply(params, jnp.arange(8.0).reshape(2, 4)).round(3).tolist()
  [[-1.342, -0.447, 0.447, 1.342], [-1.342, -0.447, 0.447, 1.342]]
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._checks import check_ndim, check_positive, shape_of
from .batchnorm import _affine_params, _check_eps, _NormBase
from .functional.local_response_norm import check_lrn_args, cross_map_lrn2d_impl, local_response_norm_impl
from .functional.normalization import check_normalized_shape, group_norm_impl, instance_norm_impl, layer_norm_impl
from .functional.rms_norm import check_rms_eps, rms_norm_impl
from .module import Module, Params, State


class _InstanceNorm(_NormBase):
    _batched_ndim = 0
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        *,
        bias: bool = True,
        dtype: Any = jnp.float32,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias, dtype=dtype)

    def apply_with_state(
        self,
        params: Params,
        state: State,
        input: ArrayLike,
        *,
        key: Any = None,
        train: bool = False,
    ) -> tuple[jax.Array, State]:
        owner = repr(self)
        nd = self._batched_ndim
        check_ndim(owner, input, (nd - 1, nd), self._layout)
        x = jnp.asarray(input)
        unbatched = x.ndim == nd - 1
        axis = 0 if unbatched else 1
        if x.shape[axis] != self.num_features and not (self.affine or self.track_running_stats):
            # PyTorch only warns here: without parameters or buffers, num_features is unused.
            warnings.warn(
                f"{owner}: input's size at dimension {axis} ({x.shape[axis]}) does not match num_features; "
                f"it is unused because affine=False and track_running_stats=False",
                UserWarning,
                stacklevel=3,
            )
        else:
            self._check_channels(owner, x, axis)
        mean, var, count = self._buffers(owner, state)
        y, mean, var = instance_norm_impl(
            owner,
            x[None] if unbatched else x,
            mean,
            var,
            params.get("weight"),
            params.get("bias"),
            train or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        y = y[0] if unbatched else y
        if not self.track_running_stats:
            return y, {}
        return y, {"running_mean": mean, "running_var": var, "num_batches_tracked": count}


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or unbatched ``(C, L)`` inputs over ``L``.

    Args:
      num_features: ``C``.
      eps: added to the variance for stability.
      momentum: weight of the new statistics in the running update (None: no update,
        as in PyTorch).
      affine: learn ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)``.
      track_running_stats: keep running statistics in ``state``, used when ``train=False``.
      bias: with ``affine``, whether to learn ``bias``.
      dtype: dtype of parameters and running statistics.

    Shapes: ``(N, C, L) -> (N, C, L)``, ``(C, L) -> (C, L)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.InstanceNorm1d(2).apply({}, jnp.array([[1.0, 3.0], [0.0, 4.0]])).round(3).tolist()
      [[-1.0, 1.0], [-1.0, 1.0]]
    """

    _batched_ndim = 3
    _layout = "(C, L) or (N, C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or unbatched ``(C, H, W)`` inputs over ``H, W``.

    Arguments as `InstanceNorm1d`. Shapes: ``(N, C, H, W) -> (N, C, H, W)``,
    ``(C, H, W) -> (C, H, W)``.
    """

    _batched_ndim = 4
    _layout = "(C, H, W) or (N, C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` inputs over ``D, H, W``.

    Arguments as `InstanceNorm1d`. Shapes: ``(N, C, D, H, W) -> (N, C, D, H, W)``,
    ``(C, D, H, W) -> (C, D, H, W)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.InstanceNorm3d(2).apply({}, jnp.ones((3, 2, 2, 2, 2))).shape
      (3, 2, 2, 2, 2)
    """

    _batched_ndim = 5
    _layout = "(C, D, H, W) or (N, C, D, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
      normalized_shape: an int ``D`` (the last dimension) or a tuple of trailing sizes.
      eps: added to the variance for stability.
      elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of shape
        ``normalized_shape``.
      bias: with ``elementwise_affine``, whether to learn ``bias``.
      dtype: parameter dtype.

    Shapes: ``(*, *normalized_shape) -> (*, *normalized_shape)``.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        self.normalized_shape = check_normalized_shape("LayerNorm", normalized_shape)
        _check_eps("LayerNorm", eps)
        self.eps, self.elementwise_affine, self.bias, self.dtype = eps, elementwise_affine, bias, dtype

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.elementwise_affine and self.bias}"
        )

    def init(self, key: jax.Array) -> Params:
        return _affine_params(self.elementwise_affine, self.bias, tuple(self.normalized_shape), self.dtype)

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return layer_norm_impl(
            repr(self), input, self.normalized_shape, params.get("weight"), params.get("bias"), self.eps
        )


class GroupNorm(Module):
    """Group normalisation: the channels split into ``num_groups`` groups, each normalised per sample.

    Args:
      num_groups: number of groups; must divide ``num_channels``.
      num_channels: ``C``.
      eps: added to the variance for stability.
      affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)``.
      bias: with ``affine``, whether to learn ``bias``.
      dtype: parameter dtype.

    Shapes: ``(N, C, *) -> (N, C, *)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> gn = nn.GroupNorm(2, 4)
      >>> gn.apply(gn.init(jax.random.key(0)), jnp.ones((3, 4, 5))).shape
      (3, 4, 5)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        bias: bool = True,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("GroupNorm", "num_groups", num_groups)
        check_positive("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: `num_channels` (={num_channels}) must be divisible by `num_groups` (={num_groups})"
            )
        _check_eps("GroupNorm", eps)
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine, self.bias, self.dtype = affine, bias, dtype

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.affine and self.bias}"
        )

    def init(self, key: jax.Array) -> Params:
        return _affine_params(self.affine, self.bias, (self.num_channels,), self.dtype)

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        owner = repr(self)
        shape = shape_of(input)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(
                f"{owner}: expected an input of shape (N, {self.num_channels}, *) with num_channels at dimension 1, "
                f"got shape {shape}"
            )
        return group_norm_impl(owner, input, self.num_groups, params.get("weight"), params.get("bias"), self.eps)


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions.

    ``y = x / sqrt(mean(x**2) + eps) * weight`` (`funcnn.nn.functional.rms_norm`).

    Args:
      normalized_shape: an int ``D`` (the last dimension) or a tuple of trailing sizes.
      eps: added to the mean square; None (the default) for the machine epsilon of the
        computation type, as in PyTorch.
      elementwise_affine: learn ``weight`` (ones) of shape ``normalized_shape``.
      dtype: parameter dtype.

    Shapes: ``(*, *normalized_shape) -> (*, *normalized_shape)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> norm = nn.RMSNorm(2)
      >>> norm
      RMSNorm((2,), eps=None, elementwise_affine=True)
      >>> norm.apply(norm.init(jax.random.key(0)), jnp.array([[3.0, 4.0]])).round(4).tolist()
      [[0.8485, 1.1314]]
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        self.normalized_shape = check_normalized_shape("RMSNorm", normalized_shape)
        check_rms_eps("RMSNorm", eps)
        self.eps, self.elementwise_affine, self.dtype = eps, elementwise_affine, dtype

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def init(self, key: jax.Array) -> Params:
        return _affine_params(self.elementwise_affine, False, tuple(self.normalized_shape), self.dtype)

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return rms_norm_impl(repr(self), input, self.normalized_shape, params.get("weight"), self.eps)


class LocalResponseNorm(Module):
    """Local response normalisation across channels (`funcnn.nn.functional.local_response_norm`).

    ``y[:, c] = x[:, c] / (k + alpha / size * sum of x[:, c']**2 over size neighbouring channels)**beta``.

    Args:
      size: channels in the window.
      alpha: multiplier of the windowed mean square.
      beta: exponent.
      k: additive constant.

    Shapes: ``(N, C, *) -> (N, C, *)``, at least 3 dimensions.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> lrn = nn.LocalResponseNorm(2)
      >>> lrn
      LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
      >>> lrn.apply({}, jnp.ones((2, 4, 5, 5))).shape
      (2, 4, 5, 5)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        check_lrn_args(type(self).__name__, size, alpha, beta, k)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return local_response_norm_impl(repr(self), input, self.size, self.alpha, self.beta, self.k)


class CrossMapLRN2d(LocalResponseNorm):
    """PyTorch's legacy cross-map LRN of ``(N, C, H, W)`` inputs, its numbers and gradients included.

    The same idea as `LocalResponseNorm` with a window of channels
    ``c - (size - 1) // 2 .. c + (size - 1) // 2``, computed by PyTorch's legacy
    running-sum kernel, which never drops channel 0 from the sum once the window has
    passed it; its hand-written backward is not the exact derivative of that forward.
    Both quirks are reproduced, so the same weights train as under PyTorch.

    Args:
      size: channels in the window.
      alpha: multiplier of the windowed mean square.
      beta: exponent.
      k: additive constant.

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.CrossMapLRN2d(3).apply({}, jnp.ones((1, 4, 2, 2))).shape
      (1, 4, 2, 2)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__(size, alpha, beta, k)

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return cross_map_lrn2d_impl(repr(self), input, self.size, self.alpha, self.beta, self.k)
