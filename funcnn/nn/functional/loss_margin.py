"""Margin losses: ranking, hinge, soft margin, and the multi-class and multi-label margins.

Names, arguments, reductions and numbers are ``torch.nn.functional``'s; see
`funcnn.nn.functional.loss` for what holds for every loss (no ``size_average`` /
``reduce``, options after them keyword-only, shapes checked strictly). Labels of
``+1 / -1`` may be integer or floating arrays.

The embedding losses (cosine and triplet) are in `loss_embedding`.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.margin_ranking_loss(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), jnp.array([1, 1]), margin=0.5).item()
  0.75
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_floating, check_number, shape_of
from ._loss_common import _broadcast_weight, _check_reduction, _check_same_shapes, _is_concrete, _reduce


def _floats(owner: str, names: tuple[str, ...], *arrays: ArrayLike) -> list[jax.Array]:
    """The arrays, checked to share one shape, the first floating, all in its dtype."""
    check_floating(owner, arrays[0], names[0])
    _check_same_shapes(owner, names, arrays)
    x = jnp.asarray(arrays[0])
    return [x] + [jnp.asarray(a).astype(x.dtype) for a in arrays[1:]]


# ----------------------------------------------------------------- pairwise margins
def margin_ranking_loss_impl(
    owner: str, input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float, reduction: str
) -> jax.Array:
    check_number(owner, "margin", margin)
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
    return margin_ranking_loss_impl("margin_ranking_loss", input1, input2, target, margin, reduction)


def hinge_embedding_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, margin: float, reduction: str
) -> jax.Array:
    check_number(owner, "margin", margin)
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
    return hinge_embedding_loss_impl("hinge_embedding_loss", input, target, margin, reduction)


def soft_margin_loss_impl(owner: str, input: ArrayLike, target: ArrayLike, reduction: str) -> jax.Array:
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
    return soft_margin_loss_impl("soft_margin_loss", input, target, reduction)


# ---------------------------------------------------------------- class-score margins
def _scores(owner: str, input: ArrayLike) -> jax.Array:
    """Class scores ``(N, C)`` or ``(C,)``."""
    check_floating(owner, input)
    x = jnp.asarray(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"{owner}: expected input of shape (N, C) or (C,), got shape {x.shape}")
    return x


def multilabel_soft_margin_loss_impl(
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
    return multilabel_soft_margin_loss_impl("multilabel_soft_margin_loss", input, target, weight, reduction)


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


def multi_margin_loss_impl(
    owner: str,
    input: ArrayLike,
    target: ArrayLike,
    p: int,
    margin: float,
    weight: ArrayLike | None,
    reduction: str,
) -> jax.Array:
    _check_reduction(owner, reduction)
    check_number(owner, "margin", margin)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{owner}: `p` must be 1 or 2, as in PyTorch, got {p!r}")
    x = _scores(owner, input)
    C = x.shape[-1]
    t = _class_indices(owner, target, x.shape[:-1], C)
    picked = jnp.take_along_axis(x, t[..., None], axis=-1)
    z = jnp.maximum(margin - picked + x, 0)
    h = z if p == 1 else z * z
    h = jnp.where(jnp.arange(C).reshape((1,) * t.ndim + (C,)) == t[..., None], 0, h)
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
    return multi_margin_loss_impl("multi_margin_loss", input, target, p, margin, weight, reduction)


def multilabel_margin_loss_impl(owner: str, input: ArrayLike, target: ArrayLike, reduction: str) -> jax.Array:
    _check_reduction(owner, reduction)
    x = _scores(owner, input)
    C = x.shape[-1]
    t = _class_indices(owner, target, x.shape, C, allow=-1)
    # The labels are the prefix before the first -1.
    listed = jnp.cumprod(t != -1, axis=-1).astype(bool)
    safe = jnp.where(listed, t, 0)
    is_label = ((safe[..., :, None] == jnp.arange(C).reshape((1,) * safe.ndim + (C,))) & listed[..., :, None]).any(-2)
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
    return multilabel_margin_loss_impl("multilabel_margin_loss", input, target, reduction)
