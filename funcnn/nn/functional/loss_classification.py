"""Class-index losses: `cross_entropy` of logits and `nll_loss` of log-probabilities.

Shapes, reductions, class weights, ``ignore_index`` and label smoothing follow
PyTorch; see `funcnn.nn.functional.loss` for what holds for every loss.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.nll_loss(jnp.log(jnp.array([[0.5, 0.5]])), jnp.array([1])).round(4).item()
  0.6931
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_floating, check_int, check_probability, shape_of
from ._loss_common import _check_reduction, _is_concrete


def _class_input(owner: str, input: ArrayLike) -> tuple[jax.Array, int, int]:
    """The input with its class axis (1, or 0 when unbatched) and the number of classes."""
    check_floating(owner, input)
    x = jnp.asarray(input)
    if x.ndim == 0:
        raise ValueError(
            f"{owner}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got shape (); "
            f"the class scores need at least one dimension"
        )
    axis = 0 if x.ndim == 1 else 1
    return x, axis, x.shape[axis]


def _class_weight(owner: str, weight: ArrayLike | None, C: int, x: jax.Array, axis: int) -> jax.Array | None:
    """The per-class weight, shaped to broadcast against the input along the class axis."""
    if weight is None:
        return None
    if shape_of(weight) != (C,):
        raise ValueError(f"{owner}: expected `weight` of shape ({C},), one per class, got shape {shape_of(weight)}")
    shape = [1] * x.ndim
    shape[axis] = C
    return jnp.asarray(weight).astype(x.dtype).reshape(shape)


def _class_target(owner: str, target: ArrayLike, x: jax.Array, axis: int, ignore_index: int, probs: bool) -> jax.Array:
    """Checked integer class indices of the input's shape without its class axis."""
    want = x.shape[:axis] + x.shape[axis + 1 :]
    shape, dtype = shape_of(target), jnp.result_type(target)
    expected = f"integer class indices of shape {want}" + (
        f" or float probabilities of shape {x.shape}" if probs else ""
    )
    if shape == x.shape and probs:
        raise TypeError(
            f"{owner}: a target of the input's shape {x.shape} holds class probabilities and must be floating, "
            f"got dtype {dtype}; use `target.astype(jnp.float32)`, or pass class indices of shape {want}"
        )
    if shape != want:
        raise ValueError(f"{owner}: expected {expected} for input of shape {x.shape}, got target shape {shape}")
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(
            f"{owner}: expected {expected}, got a {dtype} target of shape {shape}; "
            f"convert labels with `target.astype(jnp.int32)`"
        )
    C = x.shape[axis]
    if _is_concrete(target):
        values = np.asarray(target).astype(np.int64)
        bad = values[(values != ignore_index) & ((values < 0) | (values >= C))]
        if bad.size:
            raise ValueError(
                f"{owner}: target holds class index {int(bad.flat[0])}, out of range for C={C} classes; "
                f"class indices must lie in [0, {C}) or equal ignore_index={ignore_index}"
            )
    t = jnp.asarray(target)
    if t.dtype.itemsize < 4 or jnp.issubdtype(t.dtype, jnp.unsignedinteger):
        t = t.astype(jnp.int32)
    return t


def _nll_terms(
    logp: jax.Array, t: jax.Array, axis: int, w: jax.Array | None, ignore_index: int
) -> tuple[jax.Array, jax.Array]:
    """Per-position ``(-w[t] * logp[t], w[t])``: 0 where ignored, NaN where ``t`` is out of range."""
    C = logp.shape[axis]
    ignored = t == ignore_index
    valid = (t >= 0) & (t < C)
    safe = jnp.where(valid, t, 0)
    picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, axis), axis=axis).squeeze(axis)
    wt = jnp.ones_like(picked) if w is None else w.reshape(-1)[safe]
    wt = jnp.where(ignored, 0.0, jnp.where(valid, wt, jnp.nan)).astype(logp.dtype)
    return jnp.where(ignored, 0.0, -wt * picked), wt


def _reduce_weighted(loss: jax.Array, wt: jax.Array, reduction: str) -> jax.Array:
    """PyTorch's nll reduction: ``'mean'`` divides by the summed weight of the non-ignored targets."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / wt.sum()


def _check_class_options(owner: str, ignore_index: Any, reduction: Any) -> None:
    check_int(owner, "ignore_index", ignore_index)
    _check_reduction(owner, reduction)


def cross_entropy_impl(
    owner: str,
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> jax.Array:
    _check_class_options(owner, ignore_index, reduction)
    check_probability(owner, "label_smoothing", label_smoothing)
    eps = float(label_smoothing)
    x, axis, C = _class_input(owner, input)
    w = _class_weight(owner, weight, C, x, axis)
    logp = jax.nn.log_softmax(x, axis=axis)
    if shape_of(target) == x.shape and jnp.issubdtype(jnp.result_type(target), jnp.floating):
        if ignore_index >= 0:
            raise ValueError(
                f"{owner}: ignore_index={ignore_index} is not supported with class-probability targets; "
                f"leave it at its default -100"
            )
        p = jnp.asarray(target).astype(x.dtype)
        if eps > 0:
            p = p * (1 - eps) + eps / C
        loss = -(logp * p) if w is None else -(logp * p * w)
        if reduction == "none":
            return loss.sum(axis)
        return loss.sum() if reduction == "sum" else loss.sum() / (x.size // C if C else 0)
    t = _class_target(owner, target, x, axis, ignore_index, probs=True)
    loss, wt = _nll_terms(logp, t, axis, w, ignore_index)
    if eps > 0:
        smooth = -(logp if w is None else logp * w).sum(axis)
        smooth = jnp.where(t == ignore_index, 0.0, smooth)
        loss = (1 - eps) * loss + (eps / C) * smooth
    return _reduce_weighted(loss, wt, reduction)


def cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> jax.Array:
    """Cross entropy between the logits ``input`` and class indices or class probabilities.

    ``loss = -weight[t] * log_softmax(input)[t]`` per position for class indices
    (``t == ignore_index`` contributes 0); ``loss = -sum_c weight[c] * p_c *
    log_softmax(input)_c`` for probabilities ``p``. With ``label_smoothing = e`` the
    target becomes ``(1 - e) * onehot(t) + e / C``, and (as in PyTorch) the smoothing
    term is weighted per class too.

    Args:
      input: float logits of shape ``(N, C)``, ``(N, C, d1, ..., dk)`` or unbatched ``(C,)``.
      target: integer class indices of shape ``(N,)``, ``(N, d1, ..., dk)`` or ``()``,
        each in ``[0, C)`` or equal to ``ignore_index``; or float class probabilities of
        the input's shape.
      weight: optional float array ``(C,)``, a weight per class.
      ignore_index: class index whose positions are skipped (class indices only).
      reduction: ``'none'``, ``'mean'`` or ``'sum'``. For class indices ``'mean'``
        divides by the summed ``weight[t]`` of the non-ignored positions (NaN when all
        are ignored, as in PyTorch); for probabilities it divides by ``N * d1 * ... * dk``.
      label_smoothing: ``e`` in ``[0, 1]``.

    Returns:
      Shape ``(N, d1, ..., dk)`` (or ``()`` unbatched) for ``'none'``, else ``()``; the
      input's dtype. Under ``jit`` a class index out of range gives NaN (see the module
      docstring); eagerly it raises `ValueError`.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> logits = jnp.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> F.cross_entropy(logits, jnp.array([0, 2]), reduction="none").round(4).tolist()
      [0.2395, 1.0986]
      >>> F.cross_entropy(logits, jnp.array([0, -100])).round(4).item()
      0.2395
    """
    return cross_entropy_impl("cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, weight: ArrayLike | None, ignore_index: int, reduction: str
) -> jax.Array:
    _check_class_options(owner, ignore_index, reduction)
    x, axis, C = _class_input(owner, input)
    w = _class_weight(owner, weight, C, x, axis)
    t = _class_target(owner, target, x, axis, ignore_index, probs=False)
    loss, wt = _nll_terms(x, t, axis, w, ignore_index)
    return _reduce_weighted(loss, wt, reduction)


def nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> jax.Array:
    """Negative log likelihood ``-weight[t] * input[t]`` of log-probabilities ``input``.

    Args:
      input: float log-probabilities of shape ``(N, C)``, ``(N, C, d1, ..., dk)`` or ``(C,)``.
      target: integer class indices of shape ``(N,)``, ``(N, d1, ..., dk)`` or ``()``.
      weight: optional float array ``(C,)``.
      ignore_index: class index whose positions are skipped.
      reduction: as `cross_entropy` with class indices.

    Returns:
      As `cross_entropy`.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> logp = jnp.log(jnp.array([[0.5, 0.5], [0.25, 0.75]]))
      >>> F.nll_loss(logp, jnp.array([0, 1]), reduction="sum").round(4).item()
      0.9808
    """
    return nll_loss_impl("nll_loss", input, target, weight, ignore_index, reduction)
