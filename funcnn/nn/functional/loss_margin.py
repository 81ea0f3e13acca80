"""Margin and embedding losses: ranking, hinge, soft margin, multi-class and multi-label margins, cosine and triplet.

Names, arguments, reductions and numbers are ``torch.nn.functional``'s; see
`funcnn.nn.functional.loss` for what holds for every loss (no ``size_average`` /
``reduce``, options after them keyword-only, shapes checked strictly). Labels of
``+1 / -1`` may be integer or floating arrays.

The triplet losses need the distance ``||x1 - x2 + eps||_p`` over the last axis and
the cosine-embedding loss a cosine similarity; both are written here privately
(`_pairwise_distance`, `_cosine`) with PyTorch's exact epsilon placement.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.margin_ranking_loss(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), jnp.array([1, 1]), margin=0.5).item()
  0.75
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from ._loss_common import (
    _broadcast_weight,
    _check_bool,
    _check_number,
    _check_reduction,
    _check_same_shapes,
    _is_concrete,
    _reduce,
)


def _floats(owner: str, names: tuple[str, ...], *arrays: ArrayLike) -> list[jax.Array]:
    """The arrays, checked to share one shape, the first floating, all in its dtype."""
    check_floating(owner, arrays[0], names[0])
    _check_same_shapes(owner, names, arrays)
    x = jnp.asarray(arrays[0])
    return [x] + [jnp.asarray(a).astype(x.dtype) for a in arrays[1:]]


# ----------------------------------------------------------------- pairwise margins
def _margin_ranking_loss(
    owner: str, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float, reduction: str
) -> jax.Array:
    _check_number(owner, "margin", margin)
    _check_reduction(owner, reduction)
    x1, x2, y = _floats(owner, ("input1", "input2", "target"), input1, input2, target)
    return _reduce(jnp.maximum(-y * (x1 - x2) + margin, 0), reduction)


def margin_ranking_loss(
    input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0.0, *, reduction: str = "mean"
) -> jax.Array:
    """``max(0, -y * (x1 - x2) + margin)``: ``y = 1`` asks ``x1`` to rank above ``x2``, ``y = -1`` below.

    Args:
      input1: float scores ``x1`` of shape ``(N,)`` or ``()``.
      input2: float scores ``x2`` of the same shape.
      target: labels ``y`` in ``{1, -1}`` of the same shape.
      margin: the required gap.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      The input's shape for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.margin_ranking_loss(jnp.array([2.0]), jnp.array([1.0]), jnp.array([-1.0]), reduction="none").tolist()
      [1.0]
    """
    return _margin_ranking_loss("margin_ranking_loss", input1, input2, target, margin, reduction)


def _hinge_embedding_loss(owner: str, input: ArrayLike, target: ArrayLike, margin: float, reduction: str) -> jax.Array:
    _check_number(owner, "margin", margin)
    _check_reduction(owner, reduction)
    x, y = _floats(owner, ("input", "target"), input, target)
    # PyTorch's formula: a label that is neither 1 nor -1 takes both terms.
    loss = jnp.where(y != 1, jnp.maximum(margin - x, 0), 0) + jnp.where(y != -1, x, 0)
    return _reduce(loss.astype(x.dtype), reduction)


def hinge_embedding_loss(
    input: ArrayLike, target: ArrayLike, margin: float = 1.0, *, reduction: str = "mean"
) -> jax.Array:
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1`` (usually ``x`` is a distance).

    Args:
      input: float array ``x`` of any shape ``(*)``.
      target: labels ``y`` in ``{1, -1}`` of the same shape.
      margin: the margin for dissimilar pairs.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.hinge_embedding_loss(jnp.array([0.3, 0.3]), jnp.array([1, -1]), reduction="none").tolist()
      [0.30000001192092896, 0.699999988079071]
    """
    return _hinge_embedding_loss("hinge_embedding_loss", input, target, margin, reduction)


def _soft_margin_loss(owner: str, input: ArrayLike, target: ArrayLike, reduction: str) -> jax.Array:
    _check_reduction(owner, reduction)
    x, y = _floats(owner, ("input", "target"), input, target)
    return _reduce(jax.nn.softplus(-y * x), reduction)


def soft_margin_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean") -> jax.Array:
    """Two-class logistic loss ``log(1 + exp(-y * x))``.

    Args:
      input: float array ``x`` of any shape ``(*)``.
      target: labels ``y`` in ``{1, -1}`` of the same shape.
      reduction: ``'none'``, ``'mean'`` (over all elements) or ``'sum'``.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.soft_margin_loss(jnp.array([0.0]), jnp.array([1.0])).round(4).item()
      0.6931
    """
    return _soft_margin_loss("soft_margin_loss", input, target, reduction)


# ---------------------------------------------------------------- class-score margins
def _scores(owner: str, input: ArrayLike) -> jax.Array:
    """Class scores ``(N, C)`` or ``(C,)``."""
    check_floating(owner, input)
    x = jnp.asarray(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"{owner}: expected input of shape (N, C) or (C,), got shape {x.shape}")
    return x


def _multilabel_soft_margin_loss(
    owner: str, input: ArrayLike, target: ArrayLike, weight: ArrayLike | None, reduction: str
) -> jax.Array:
    _check_reduction(owner, reduction)
    x = _scores(owner, input)
    x, y = _floats(owner, ("input", "target"), x, target)
    loss = -(y * jax.nn.log_sigmoid(x) + (1 - y) * jax.nn.log_sigmoid(-x))
    if weight is not None:
        loss = loss * _broadcast_weight(owner, "weight", weight, x)
    return _reduce(loss.sum(-1) / x.shape[-1], reduction)


def multilabel_soft_margin_loss(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, reduction: str = "mean"
) -> jax.Array:
    """One-versus-all logistic loss, averaged over the ``C`` classes of each sample.

    ``loss_n = -1/C * sum_c w_c * (y_c * log(sigmoid(x_c)) + (1 - y_c) * log(sigmoid(-x_c)))``.

    Args:
      input: float scores of shape ``(N, C)`` or ``(C,)``.
      target: labels in ``{0, 1}`` of the same shape.
      weight: optional float array broadcastable to the input, usually ``(C,)``.
      reduction: ``'none'``, ``'mean'`` (over samples) or ``'sum'``.

    Returns:
      ``(N,)`` (or ``()`` unbatched) for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.multilabel_soft_margin_loss(jnp.zeros((1, 3)), jnp.array([[1, 0, 1]])).round(4).item()
      0.6931
    """
    return _multilabel_soft_margin_loss("multilabel_soft_margin_loss", input, target, weight, reduction)


def _class_indices(owner: str, target: ArrayLike, want: tuple[int, ...], C: int, allow: int | None = None) -> jax.Array:
    """Integer targets of shape ``want`` with values in ``[0, C)`` (or equal to ``allow``), checked when concrete."""
    shape, dtype = shape_of(target), jnp.result_type(target)
    if shape != want or not jnp.issubdtype(dtype, jnp.integer):
        raise ValueError(
            f"{owner}: expected integer class indices of shape {want}, got a {dtype} target of shape {shape}"
        )
    if _is_concrete(target):
        values = np.asarray(target)
        bad = values[((values < 0) | (values >= C)) & (values != allow)]
        if bad.size:
            extra = f" (or {allow})" if allow is not None else ""
            raise ValueError(
                f"{owner}: target holds class index {int(bad.flat[0])}, out of range for C={C} classes; "
                f"class indices must lie in [0, {C}){extra}"
            )
    return jnp.asarray(target).astype(jnp.int32)


def _multi_margin_loss(
    owner: str,
    input: ArrayLike,
    target: ArrayLike,
    p: int,
    margin: float,
    weight: ArrayLike | None,
    reduction: str,
) -> jax.Array:
    _check_reduction(owner, reduction)
    _check_number(owner, "margin", margin)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{owner}: `p` must be 1 or 2, as in PyTorch, got {p!r}")
    x = _scores(owner, input)
    C = x.shape[-1]
    t = _class_indices(owner, target, x.shape[:-1], C)
    picked = jnp.take_along_axis(x, t[..., None], axis=-1)
    z = jnp.maximum(margin - picked + x, 0)
    h = z if p == 1 else z * z
    h = jnp.where(jnp.arange(C) == t[..., None], 0, h)
    if weight is not None:
        if shape_of(weight) != (C,):
            raise ValueError(f"{owner}: expected `weight` of shape ({C},), one per class, got shape {shape_of(weight)}")
        h = h * jnp.asarray(weight).astype(x.dtype)[t][..., None]
    return _reduce(h.sum(-1) / C, reduction)


def multi_margin_loss(
    input: ArrayLike,
    target: ArrayLike,
    p: int = 1,
    margin: float = 1.0,
    weight: ArrayLike | None = None,
    *,
    reduction: str = "mean",
) -> jax.Array:
    """Multi-class hinge loss ``sum_{i != y} w_y * max(0, margin - x_y + x_i) ** p / C``.

    Args:
      input: float scores of shape ``(N, C)`` or ``(C,)``.
      target: integer class indices of shape ``(N,)`` or ``()``, in ``[0, C)``.
      p: 1 or 2.
      margin: the required gap between the true class's score and the others'.
      weight: optional float array ``(C,)``, applied by the true class.
      reduction: ``'none'``, ``'mean'`` (over samples) or ``'sum'``.

    Returns:
      ``(N,)`` (or ``()``) for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.multi_margin_loss(jnp.array([[0.1, 0.2, 0.4, 0.8]]), jnp.array([3])).round(4).item()
      0.325
    """
    return _multi_margin_loss("multi_margin_loss", input, target, p, margin, weight, reduction)


def _multilabel_margin_loss(owner: str, input: ArrayLike, target: ArrayLike, reduction: str) -> jax.Array:
    _check_reduction(owner, reduction)
    x = _scores(owner, input)
    C = x.shape[-1]
    t = _class_indices(owner, target, x.shape, C, allow=-1)
    # The labels are the prefix before the first -1.
    listed = jnp.cumprod(t != -1, axis=-1).astype(bool)
    safe = jnp.where(listed, t, 0)
    is_label = ((safe[..., :, None] == jnp.arange(C)) & listed[..., :, None]).any(-2)
    x_label = jnp.take_along_axis(x, safe, axis=-1)
    hinge = jnp.maximum(1 - x_label[..., :, None] + x[..., None, :], 0)
    mask = listed[..., :, None] & ~is_label[..., None, :]
    return _reduce(jnp.where(mask, hinge, 0).sum((-2, -1)) / C, reduction)


def multilabel_margin_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean") -> jax.Array:
    """Multi-label hinge loss ``sum_{j, i} max(0, 1 - (x[y_j] - x[i])) / C`` over labels ``y_j`` and non-labels ``i``.

    Args:
      input: float scores of shape ``(N, C)`` or ``(C,)``.
      target: integer array of the input's shape: each row lists its label indices
        first and ends them with ``-1`` (``[3, 0, -1, 1]`` means labels 3 and 0).
      reduction: ``'none'``, ``'mean'`` (over samples) or ``'sum'``.

    Returns:
      ``(N,)`` (or ``()``) for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.multilabel_margin_loss(jnp.array([[0.1, 0.2, 0.4, 0.8]]), jnp.array([[3, 0, -1, 1]])).round(4).item()
      0.85
    """
    return _multilabel_margin_loss("multilabel_margin_loss", input, target, reduction)


# ------------------------------------------------------------------- embedding losses
def _cosine(x1: jax.Array, x2: jax.Array) -> jax.Array:
    """PyTorch's cosine for the embedding loss: ``<x1, x2> / sqrt((|x1|^2 + 1e-12) * (|x2|^2 + 1e-12))``."""
    eps = 1e-12
    return (x1 * x2).sum(-1) / jnp.sqrt(((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps))


def _cosine_embedding_loss(
    owner: str, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float, reduction: str
) -> jax.Array:
    _check_number(owner, "margin", margin)
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
    return _cosine_embedding_loss("cosine_embedding_loss", input1, input2, target, margin, reduction)


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


def _triplet_margin_loss(
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
    _check_number(owner, "margin", margin)
    _check_number(owner, "p", p)
    _check_number(owner, "eps", eps)
    _check_bool(owner, "swap", swap)
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
    return _triplet_margin_loss("triplet_margin_loss", anchor, positive, negative, margin, p, eps, swap, reduction)


def _triplet_margin_with_distance_loss(
    owner: str,
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    distance_function: Callable[[jax.Array, jax.Array], jax.Array] | None,
    margin: float,
    swap: bool,
    reduction: str,
) -> jax.Array:
    _check_number(owner, "margin", margin)
    _check_bool(owner, "swap", swap)
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
    return _triplet_margin_with_distance_loss(
        "triplet_margin_with_distance_loss", anchor, positive, negative, distance_function, margin, swap, reduction
    )
