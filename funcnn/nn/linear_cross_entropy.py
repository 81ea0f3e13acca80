"""`LinearCrossEntropyLoss`: a classifier head and its cross entropy in one layer (PyTorch 2.13).

Unlike the other losses it holds parameters: ``params = {'linear': {'weight': (C *
prod(out_features), in_features), 'bias': ...}}``, exactly PyTorch's ``state_dict``
keys and shapes (``linear.weight``, ``linear.bias``), initialised as `Linear`. It is
called as a layer: ``loss = criterion.apply(params, input, target)``.

The per-class ``weight`` is a fixed option here, as in `CrossEntropyLoss`; PyTorch
also registers it as a buffer, so its ``state_dict`` has an extra ``weight`` key when
one is given (`funcnn.load_state_dict` of such a dict needs that key dropped).

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> criterion = nn.LinearCrossEntropyLoss(4, 3, bias=True)
  >>> params = criterion.init(jax.random.key(0))
  >>> {k: v.shape for k, v in params["linear"].items()}
  {'weight': (3, 4), 'bias': (3,)}
  >>> criterion.apply(params, jnp.ones((2, 4)), jnp.array([0, 2])).shape
  ()
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._checks import REDUCTIONS, check_choice, check_int, check_positive, check_probability
from .functional import loss_linear as LL
from .functional.loss_linear import LinearCrossEntropyOptions
from .linear import Linear
from .module import Module, Params

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class LinearCrossEntropyLoss(Module):
    """Cross entropy of ``Linear(in_features, C * prod(out_features))`` logits; see `funcnn.nn.functional.linear_cross_entropy`.

    Args:
      in_features: size of each input sample.
      num_classes: ``C``.
      out_features: ``(d1, ..., dK)`` for a K-dimensional loss (logits ``(N, C, d1,
        ..., dK)``); ``()`` by default.
      bias: whether the head learns a bias.
      dtype: parameter dtype.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      weight: optional float array ``(C,)``, a weight per class (a fixed option).
      ignore_index: class index to skip; ``None`` is -100 for class indices.
      label_smoothing: in ``[0, 1]``.
      options: a `LinearCrossEntropyOptions` to compute in batch chunks.

    Params: ``linear.weight (C * prod(out_features), in_features)`` and ``linear.bias``.

    Shapes: input ``(N, in_features)`` or ``(in_features,)``; target ``(N,)``, ``(N,
    *out_features)`` or ``()`` class indices, or probabilities ``(N, C,
    *out_features)``; output ``()`` (the target's shape for ``'none'``).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        dtype: Any = jnp.float32,
        reduction: str = "mean",
        weight: ArrayLike | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: LinearCrossEntropyOptions | None = None,
    ) -> None:
        owner = "LinearCrossEntropyLoss"
        check_positive(owner, "in_features", in_features)
        check_positive(owner, "num_classes", num_classes)
        out_features = tuple(out_features)
        for d in out_features:
            check_positive(owner, "out_features entries", d)
        check_choice(owner, "reduction", reduction, REDUCTIONS)
        if weight is not None and jnp.shape(weight) != (num_classes,):
            raise ValueError(f"{owner}: expected `weight` of shape ({num_classes},), got shape {jnp.shape(weight)}")
        if ignore_index is not None:
            check_int(owner, "ignore_index", ignore_index)
        check_probability(owner, "label_smoothing", label_smoothing)
        if options is not None and not isinstance(options, LinearCrossEntropyOptions):
            raise TypeError(f"{owner}: `options` must be a LinearCrossEntropyOptions or None, got {options!r}")
        self.in_features, self.num_classes, self.out_features = in_features, num_classes, out_features
        self.reduction, self.ignore_index, self.label_smoothing = reduction, ignore_index, label_smoothing
        self.weight = None if weight is None else jnp.asarray(weight)
        self.options = options
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias, dtype=dtype)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, num_classes={self.num_classes}, out_features={self.out_features}, "
            f"bias={self.linear.bias}, reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )

    def children(self) -> Mapping[str, Module]:
        return {"linear": self.linear}

    def init(self, key: jax.Array) -> Params:
        return {"linear": self.linear.init(key)}

    def forward(
        self, params: Params, input: ArrayLike, target: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array:
        head = params["linear"]
        w = head["weight"].reshape(self.num_classes, *self.out_features, self.in_features)
        b = head.get("bias")
        if b is not None:
            b = b.reshape(self.num_classes, *self.out_features)
        return LL.linear_cross_entropy_impl(
            f"LinearCrossEntropyLoss(in_features={self.in_features}, num_classes={self.num_classes})",
            input,
            w,
            target,
            b,
            self.weight,
            self.reduction,
            self.ignore_index,
            self.label_smoothing,
            self.options,
        )
