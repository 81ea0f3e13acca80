"""Embedding losses: cosine-embedding and the triplet losses, over vectors on the last axis.

Names, arguments, reductions and numbers are ``torch.nn.functional``'s; see
`funcnn.nn.functional.loss` for what holds for every loss.

The triplet losses need the distance ``||x1 - x2 + eps||_p`` over the last axis and
the cosine-embedding loss a cosine similarity; both are written here privately
(`_pairwise_distance`, `_cosine`) with PyTorch's exact epsilon placement.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.cosine_embedding_loss(jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 0.0]]), jnp.array([1])).round(4).item()
  0.0
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_bool, check_floating, check_number, shape_of
from ._loss_common import _check_reduction, _check_same_shapes, _reduce
from .loss_margin import _floats


def _cosine(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """PyTorch's cosine for the embedding loss: ``<x1, x2> / sqrt((|x1|^2 + 1e-12) * (|x2|^2 + 1e-12))``."""
    eps = 1e-12
    return (x1 * x2).sum(-1) / jnp.sqrt(((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps))


def cosine_embedding_loss_impl(
    owner: str, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float, reduction: str
) -> jax.Array:
    check_number(owner, "margin", margin)
    _check_reduction(owner, reduction)
    x1, x2 = _floats(owner, ("input1", "input2"), input1, input2)
    if x1.ndim not in (1, 2) or shape_of(target) != x1.shape[:-1]:
        raise ValueError(
            f"{owner}: expected inputs of shape (N, D) or (D,) and target of shape (N,) or (), got inputs "
            f"{x1.shape} and target {shape_of(target)}"
        )
    y = jnp.asarray(target)
    cos = _cosine(x1, x2)
    loss = jnp.where(y == 1, 1 - cos, 0) + jnp.where(y == -1, jnp.maximum(cos - margin, 0), 0)
    return _reduce(loss.astype(x1.dtype), reduction)


def cosine_embedding_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0.0, *, reduction: str = "mean"
) -> jax.Array:
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1``.

    Args:
      input1: float array of shape ``(N, D)`` or ``(D,)``.
      input2: float array of the same shape.
      target: labels in ``{1, -1}`` of shape ``(N,)`` or ``()`` (other values give 0).
      margin: in ``[-1, 1]``; 0 to 0.5 is typical.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      ``(N,)`` (or ``()``) for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> x = jnp.array([[1.0, 0.0], [1.0, 0.0]])
      >>> F.cosine_embedding_loss(x, jnp.array([[0.0, 1.0], [1.0, 1.0]]), jnp.array([1, -1]), reduction="none").round(4).tolist()
      [1.0, 0.7071]
    """
    return cosine_embedding_loss_impl("cosine_embedding_loss", input1, input2, target, margin, reduction)


def _pairwise_distance(x1: jax.Array, x2: jax.Array, p: float, eps: float) -> jax.Array:
    """PyTorch's ``pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last axis."""
    d = x1 - x2 + eps
    if p == 2:
        return jnp.sqrt((d * d).sum(-1))
    if p == 1:
        return jnp.abs(d).sum(-1)
    if p == float("inf"):
        return jnp.abs(d).max(-1)
    return (jnp.abs(d) ** p).sum(-1) ** (1.0 / p)


def _triplet_inputs(owner: str, anchor: Any, positive: Any, negative: Any) -> list[jax.Array]:
    ndims = [len(shape_of(a)) for a in (anchor, positive, negative)]
    if len(set(ndims)) != 1:
        raise ValueError(
            f"{owner}: expected anchor, positive and negative with the same number of dimensions, got anchor "
            f"{shape_of(anchor)}, positive {shape_of(positive)} and negative {shape_of(negative)}"
        )
    check_floating(owner, anchor, "anchor")
    a = jnp.asarray(anchor)
    return [a, jnp.asarray(positive).astype(a.dtype), jnp.asarray(negative).astype(a.dtype)]


def triplet_margin_loss_impl(
    owner: str,
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    margin: float,
    p: float,
    eps: float,
    swap: bool,
    reduction: str,
) -> jax.Array:
    check_number(owner, "margin", margin)
    check_number(owner, "p", p)
    check_number(owner, "eps", eps)
    check_bool(owner, "swap", swap)
    _check_reduction(owner, reduction)
    if margin <= 0:
        raise ValueError(f"{owner}: `margin` must be > 0, as in PyTorch, got {margin!r}")
    if p <= 0:
        raise ValueError(f"{owner}: `p` must be > 0 for the p-norm distance, got {p!r}")
    a, pos, neg = _triplet_inputs(owner, anchor, positive, negative)
    _check_same_shapes(owner, ("anchor", "positive", "negative"), (a, pos, neg))
    if a.ndim not in (1, 2):
        raise ValueError(f"{owner}: expected inputs of shape (N, D) or (D,), got shape {a.shape}")
    d_pos = _pairwise_distance(a, pos, p, eps)
    d_neg = _pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = jnp.minimum(d_neg, _pairwise_distance(pos, neg, p, eps))
    return _reduce(jnp.maximum(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_loss(
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    *,
    reduction: str = "mean",
) -> jax.Array:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d(x, y) = ||x - y + eps||_p``.

    Args:
      anchor: float array of shape ``(N, D)`` or ``(D,)``.
      positive: same shape.
      negative: same shape.
      margin: the required gap, ``> 0``.
      p: the norm degree, ``> 0``.
      eps: added to the difference before the norm, as in PyTorch.
      swap: use ``min(d(a, n), d(p, n))`` as the negative distance (distance swap).
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      ``(N,)`` (or ``()``) for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> a, p, n = jnp.zeros((1, 2)), jnp.array([[3.0, 4.0]]), jnp.array([[1.0, 0.0]])
      >>> F.triplet_margin_loss(a, p, n, eps=0.0).item()
      5.0
    """
    return triplet_margin_loss_impl("triplet_margin_loss", anchor, positive, negative, margin, p, eps, swap, reduction)


def triplet_margin_with_distance_loss_impl(
    owner: str,
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    distance_function: Callable[[jax.Array, jax.Array], jax.Array] | None,
    margin: float,
    swap: bool,
    reduction: str,
) -> jax.Array:
    check_number(owner, "margin", margin)
    check_bool(owner, "swap", swap)
    _check_reduction(owner, reduction)
    if margin <= 0:
        raise ValueError(f"{owner}: `margin` must be > 0, as in PyTorch, got {margin!r}")
    if distance_function is not None and not callable(distance_function):
        raise TypeError(
            f"{owner}: `distance_function` must be a callable (x1, x2) -> distances, got {distance_function!r}"
        )
    a, pos, neg = _triplet_inputs(owner, anchor, positive, negative)
    dist = distance_function or (lambda x1, x2: _pairwise_distance(x1, x2, 2.0, 1e-6))
    d_pos = jnp.asarray(dist(a, pos))
    d_neg = jnp.asarray(dist(a, neg))
    if swap:
        d_neg = jnp.minimum(d_neg, jnp.asarray(dist(pos, neg)))
    return _reduce(jnp.maximum(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_with_distance_loss(
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    *,
    distance_function: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> jax.Array:
    """``max(d(a, p) - d(a, n) + margin, 0)`` for any distance function ``d``.

    Args:
      anchor: float array, usually ``(N, D)``.
      positive: array with the anchor's number of dimensions.
      negative: array with the anchor's number of dimensions.
      distance_function: ``(x1, x2) -> distances``, a pure JAX function (it is traced
        under ``jit``); ``None`` means the Euclidean pairwise distance with PyTorch's
        ``eps=1e-6``.
      margin: the required gap, ``> 0``.
      swap: use ``min(d(a, n), d(p, n))`` as the negative distance.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      The distances' shape for ``'none'``, else ``()``.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> l1 = lambda x, y: jnp.abs(x - y).sum(-1)
      >>> a, p, n = jnp.zeros((1, 2)), jnp.array([[1.0, 1.0]]), jnp.array([[0.5, 0.0]])
      >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1).item()
      2.5
    """
    return triplet_margin_with_distance_loss_impl(
        "triplet_margin_with_distance_loss", anchor, positive, negative, distance_function, margin, swap, reduction
    )
