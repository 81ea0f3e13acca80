"""Margin and embedding loss constructors: ``torch.nn``'s ranking, hinge, margin, cosine and triplet losses.

Each validates its options at once and is then called like PyTorch's
(``criterion(input1, input2, target)``, ``criterion(anchor, positive, negative)``,
...); the numbers come from `funcnn.nn.functional`'s function of the same name. Like
every loss here it is a parameter-free `Module` too.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> criterion = nn.TripletMarginLoss(margin=0.5, swap=True)
  >>> criterion
  TripletMarginLoss(margin=0.5, swap=True, reduction='mean')
  >>> criterion(jnp.zeros((2, 3)), jnp.zeros((2, 3)), jnp.ones((2, 3))).round(4).item()
  0.0
"""

from __future__ import annotations

from typing import Callable

import jax
from jax.typing import ArrayLike

from ._checks import check_bool, check_number
from .functional import loss_embedding as E
from .functional import loss_margin as M
from .loss import _Loss


class MarginRankingLoss(_Loss):
    """``max(0, -y * (x1 - x2) + margin)``; see `funcnn.nn.functional.margin_ranking_loss`.

    Called as ``criterion(input1, input2, target)``; shapes ``(N,)`` or ``()``.
    """

    _options = (("margin", 0.0), ("reduction", "mean"))

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        check_number("MarginRankingLoss", "margin", margin)
        self.margin = margin

    def _loss(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.margin_ranking_loss_impl(repr(self), input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` for ``y = 1``, ``max(0, margin - x)`` for ``y = -1``; see `funcnn.nn.functional.hinge_embedding_loss`."""

    _options = (("margin", 1.0), ("reduction", "mean"))

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        check_number("HingeEmbeddingLoss", "margin", margin)
        self.margin = margin

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.hinge_embedding_loss_impl(repr(self), input, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-y * x))``; see `funcnn.nn.functional.soft_margin_loss`."""

    _options = (("reduction", "mean"),)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.soft_margin_loss_impl(repr(self), input, target, self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for ``y = 1``, ``max(0, cos - margin)`` for ``y = -1``; see `funcnn.nn.functional.cosine_embedding_loss`.

    Called as ``criterion(input1, input2, target)``; inputs ``(N, D)`` or ``(D,)``,
    target ``(N,)`` or ``()``.
    """

    _options = (("margin", 0.0), ("reduction", "mean"))

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        check_number("CosineEmbeddingLoss", "margin", margin)
        self.margin = margin

    def _loss(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike) -> jax.Array:
        return E.cosine_embedding_loss_impl(repr(self), input1, input2, target, self.margin, self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss over ``-1``-terminated label lists; see `funcnn.nn.functional.multilabel_margin_loss`."""

    _options = (("reduction", "mean"),)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.multilabel_margin_loss_impl(repr(self), input, target, self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """One-versus-all logistic loss; see `funcnn.nn.functional.multilabel_soft_margin_loss`.

    Args:
      weight: optional float array broadcastable to the input, usually ``(C,)``.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    _options = (("weight", None), ("reduction", "mean"))

    def __init__(self, weight: ArrayLike | None = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = None if weight is None else jax.numpy.asarray(weight)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.multilabel_soft_margin_loss_impl(repr(self), input, target, self.weight, self.reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss; see `funcnn.nn.functional.multi_margin_loss`.

    Args:
      p: 1 or 2.
      margin: the required gap.
      weight: optional float array ``(C,)``.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    _options = (("p", 1), ("margin", 1.0), ("weight", None), ("reduction", "mean"))

    def __init__(
        self, p: int = 1, margin: float = 1.0, weight: ArrayLike | None = None, *, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: `p` must be 1 or 2, as in PyTorch, got {p!r}")
        check_number("MultiMarginLoss", "margin", margin)
        if weight is not None and len(jax.numpy.shape(weight)) != 1:
            raise ValueError(
                f"MultiMarginLoss: expected `weight` of shape (C,), one per class, got shape {jax.numpy.shape(weight)}"
            )
        self.p, self.margin = p, margin
        self.weight = None if weight is None else jax.numpy.asarray(weight)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return M.multi_margin_loss_impl(repr(self), input, target, self.p, self.margin, self.weight, self.reduction)


class TripletMarginLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm distance; see `funcnn.nn.functional.triplet_margin_loss`.

    Called as ``criterion(anchor, positive, negative)``; each ``(N, D)`` or ``(D,)``.
    """

    _options = (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False), ("reduction", "mean"))

    def __init__(
        self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, *, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        owner = "TripletMarginLoss"
        for name, value in (("margin", margin), ("p", p), ("eps", eps)):
            check_number(owner, name, value)
        if margin <= 0:
            raise ValueError(f"{owner}: `margin` must be > 0, as in PyTorch, got {margin!r}")
        if p <= 0:
            raise ValueError(f"{owner}: `p` must be > 0 for the p-norm distance, got {p!r}")
        self.margin, self.p, self.eps = margin, p, eps
        self.swap = check_bool(owner, "swap", swap)

    def _loss(self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike) -> jax.Array:
        return E.triplet_margin_loss_impl(
            repr(self), anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction
        )


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance; see `funcnn.nn.functional.triplet_margin_with_distance_loss`.

    Args:
      distance_function: ``(x1, x2) -> distances``, a pure JAX function; ``None`` is
        the Euclidean pairwise distance.
      margin: the required gap, ``> 0``.
      swap: use the distance swap.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    _options = (("distance_function", None), ("margin", 1.0), ("swap", False), ("reduction", "mean"))

    def __init__(
        self,
        *,
        distance_function: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        owner = "TripletMarginWithDistanceLoss"
        check_number(owner, "margin", margin)
        if margin <= 0:
            raise ValueError(f"{owner}: `margin` must be > 0, as in PyTorch, got {margin!r}")
        if distance_function is not None and not callable(distance_function):
            raise TypeError(
                f"{owner}: `distance_function` must be a callable (x1, x2) -> distances, got {distance_function!r}"
            )
        self.distance_function, self.margin = distance_function, margin
        self.swap = check_bool(owner, "swap", swap)

    def _loss(self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike) -> jax.Array:
        return E.triplet_margin_with_distance_loss_impl(
            repr(self), anchor, positive, negative, self.distance_function, self.margin, self.swap, self.reduction
        )
