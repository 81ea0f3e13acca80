"""`BatchNorm1d`/`2d`/`3d` and `SyncBatchNorm`, and the running-statistics base they share with instance norm.

Parameters ``weight`` (ones) and ``bias`` (zeros), shape ``(num_features,)``, exist
when ``affine``. Buffers ``running_mean`` (zeros), ``running_var`` (ones) and
``num_batches_tracked`` (0, the default integer dtype; PyTorch's is int64 and
`funcnn.load_state_dict` casts) live in ``state`` when ``track_running_stats``; such a
layer runs through ``apply_with_state`` and returns the updated buffers.

* ``train=True``: normalise with the batch's mean and biased variance; when tracking,
  ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance) and
  ``num_batches_tracked += 1``. ``momentum=None`` is the cumulative average
  (``momentum = 1 / num_batches_tracked``).
* ``train=False``: normalise with the running statistics, which come back unchanged.
* ``track_running_stats=False``: always the batch statistics, and no state at all.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> bn = nn.BatchNorm1d(3)
  >>> params, state = bn.init(jax.random.key(0)), bn.init_state()
  >>> sorted(params), sorted(state)
  (['bias', 'weight'], ['num_batches_tracked', 'running_mean', 'running_var'])
  >>> x = jnp.arange(12.0).reshape(4, 3)
  >>> y, state = bn.apply_with_state(params, state, x, train=True)
  >>> y.shape, int(state["num_batches_tracked"]), state["running_mean"].round(2).tolist()
  ((4, 3), 1, [0.45, 0.55, 0.65])
  >>> y, _ = bn.apply_with_state(params, state, x)  # eval: running statistics
"""

from __future__ import annotations

import copy
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import init as init_
from ._checks import check_ndim, check_positive, check_probability, shape_of
from .functional.normalization import batch_norm_impl
from .module import Module, Params, State

_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _check_eps(owner: str, eps: Any) -> None:
    """ValueError unless ``eps`` is a non-negative real number."""
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps < 0:
        raise ValueError(f"{owner}: `eps` must be a non-negative number, got {eps!r}")


def _affine_params(affine: bool, bias: bool, shape: tuple[int, ...], dtype: Any) -> Params:
    """A normalisation layer's ``weight`` (ones) and ``bias`` (zeros), as PyTorch initialises them."""
    if not affine:
        return {}
    params = {"weight": init_.ones(None, shape, dtype)}
    if bias:
        params["bias"] = init_.zeros(None, shape, dtype)
    return params


class _NormBase(Module):
    """Per-channel affine parameters and optional running statistics (batch and instance norm)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        dtype: Any = jnp.float32,
    ) -> None:
        name = type(self).__name__
        check_positive(name, "num_features", num_features)
        _check_eps(name, eps)
        if momentum is not None:
            check_probability(name, "momentum", momentum)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self.bias, self.dtype = affine, track_running_stats, bias, dtype

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.affine and self.bias}, track_running_stats={self.track_running_stats}"
        )

    def init(self, key: jax.Array) -> Params:
        return _affine_params(self.affine, self.bias, (self.num_features,), self.dtype)

    def init_state(self) -> State:
        if not self.track_running_stats:
            return {}
        return {
            "running_mean": init_.zeros(None, (self.num_features,), self.dtype),
            "running_var": init_.ones(None, (self.num_features,), self.dtype),
            "num_batches_tracked": jnp.zeros((), dtype=int),
        }

    @property
    def has_state(self) -> bool:
        return self.track_running_stats

    def _buffers(self, owner: str, state: State) -> tuple[Any, Any, Any]:
        """``(running_mean, running_var, num_batches_tracked)``, or Nones when not tracking."""
        if not self.track_running_stats:
            return None, None, None
        missing = [k for k in _BUFFERS if k not in state]
        if missing:
            raise ValueError(
                f"{owner}: `state` lacks the buffers {missing}; pass `state = model.init_state()` "
                f"(or the state returned by the previous call)"
            )
        return state["running_mean"], state["running_var"], state["num_batches_tracked"]

    def _check_channels(self, owner: str, input: ArrayLike, axis: int) -> None:
        shape = shape_of(input)
        if shape[axis] != self.num_features:
            raise ValueError(
                f"{owner}: expected {self.num_features} channels (num_features) at dimension {axis}, got shape {shape}"
            )

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        # Reached only without running statistics (``has_state`` is False): there is no state to thread.
        return self.apply_with_state(params, {}, input, key=key, train=train)[0]


class _BatchNorm(_NormBase):
    _ndims: tuple[int, ...] = ()
    _layout = ""

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
        if self._ndims:
            check_ndim(owner, input, self._ndims, self._layout)
        elif len(shape_of(input)) < 2:  # SyncBatchNorm: any rank >= 2
            raise ValueError(
                f"{owner}: expected an input of shape (N, C, *) with at least 2 dimensions, got shape {shape_of(input)}"
            )
        self._check_channels(owner, input, 1)
        mean, var, count = self._buffers(owner, state)
        momentum: Any = self.momentum
        if train and self.track_running_stats:
            count = count + 1
            if self.momentum is None:
                momentum = 1.0 / count  # cumulative moving average
        y, mean, var = batch_norm_impl(
            owner,
            input,
            mean,
            var,
            params.get("weight"),
            params.get("bias"),
            train or not self.track_running_stats,
            momentum,
            self.eps,
        )
        if not self.track_running_stats:
            return y, {}
        return y, {"running_mean": mean, "running_var": var, "num_batches_tracked": count}


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs over every axis but ``C``.

    Args:
      num_features: ``C``.
      eps: added to the variance for stability.
      momentum: weight of the batch statistics in the running update; None for a
        cumulative average.
      affine: learn ``weight`` and ``bias``.
      track_running_stats: keep running statistics in ``state`` (used when ``train=False``).
      bias: with ``affine``, whether to learn ``bias``.
      dtype: dtype of parameters and running statistics.

    Shapes: ``(N, C) -> (N, C)`` and ``(N, C, L) -> (N, C, L)``.
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` inputs over ``N``, ``H`` and ``W``.

    Arguments as `BatchNorm1d`. Shapes: ``(N, C, H, W) -> (N, C, H, W)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> bn = nn.BatchNorm2d(4, track_running_stats=False)
      >>> bn.apply(bn.init(jax.random.key(0)), jnp.ones((2, 4, 3, 3))).shape
      (2, 4, 3, 3)
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` inputs over ``N``, ``D``, ``H`` and ``W``.

    Arguments as `BatchNorm1d`. Shapes: ``(N, C, D, H, W) -> (N, C, D, H, W)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> bn = nn.BatchNorm3d(2)
      >>> params, state = bn.init(jax.random.key(0)), bn.init_state()
      >>> y, state = bn.apply_with_state(params, state, jnp.ones((2, 2, 3, 3, 3)), train=True)
      >>> y.shape, int(state["num_batches_tracked"])
      ((2, 2, 3, 3, 3), 1)
    """

    _ndims = (5,)
    _layout = "(N, C, D, H, W)"


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of ``(N, C, *)`` inputs of any rank, with statistics over the global batch.

    In funcnn every `BatchNorm` already computes the statistics of the *whole* batch
    it is given: under ``jax.jit`` with the batch sharded over a `jax.sharding` mesh
    (`funcnn.parallel`), the mean and variance reductions are global, exactly what
    PyTorch's ``SyncBatchNorm`` gathers across processes. So ``SyncBatchNorm`` is
    `BatchNorm1d` with PyTorch's constructor and any input rank ``>= 2``;
    ``process_group`` is accepted for compatibility and unused (the mesh decides which
    devices share statistics).

    Args:
      num_features: ``C``.
      eps: added to the variance for stability.
      momentum: weight of the batch statistics in the running update; None for a
        cumulative average.
      affine: learn ``weight`` and ``bias``.
      track_running_stats: keep running statistics in ``state``.
      process_group: PyTorch's process group; unused (see above).
      bias: with ``affine``, whether to learn ``bias``.
      dtype: dtype of parameters and running statistics.

    Shapes: ``(N, C, *) -> (N, C, *)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> bn = nn.SyncBatchNorm(3)
      >>> y, state = bn.apply_with_state(bn.init(jax.random.key(0)), bn.init_state(), jnp.ones((2, 3, 4, 4, 4, 2)), train=True)
      >>> y.shape
      (2, 3, 4, 4, 4, 2)
      >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)))
      >>> [type(m).__name__ for _, m in model.named_modules()]
      ['Sequential', 'Linear', 'SyncBatchNorm']
    """

    _ndims = ()
    _layout = "(N, C, *)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        *,
        bias: bool = True,
        dtype: Any = jnp.float32,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias, dtype=dtype)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """A copy of ``module`` with every `BatchNorm1d`/`2d`/`3d` in it made a `SyncBatchNorm`.

        Parameters and buffers keep their keys and shapes, so the ``params`` and
        ``state`` of the original model work unchanged with the copy.

        Args:
          module: any funcnn module.
          process_group: stored on each converted layer; unused (see the class notes).

        Returns:
          The converted copy (``module`` itself is left as it was).

        Examples:
          >>> from funcnn import nn
          >>> nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm2d(4)).num_features
          4
        """
        converted = copy.deepcopy(module)
        for _, m in converted.named_modules():
            if isinstance(m, _BatchNorm) and not isinstance(m, cls):
                m.__class__ = cls
                m.process_group = process_group
        return converted
