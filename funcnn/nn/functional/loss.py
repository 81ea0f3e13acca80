"""Loss functions with ``torch.nn.functional``'s names, arguments, reductions and numbers.

Every loss takes a floating ``input`` and a ``target`` and returns an array of the
input's dtype: a scalar for ``reduction='mean'`` or ``'sum'``, the per-element loss for
``reduction='none'``.

Differences from PyTorch, all on the side of strictness:

* PyTorch's deprecated ``size_average`` and ``reduce`` are not accepted, so every
  argument that PyTorch lists after them is keyword-only here (``weight`` stays third
  where PyTorch has it there): a positional call never silently means something else.
* Input and target of the elementwise losses must have the same shape (PyTorch
  broadcasts with a warning).
* Class indices (`cross_entropy`, `nll_loss`) outside ``[0, C)`` that are not
  ``ignore_index`` raise a `ValueError` when the target is a concrete array. Under
  ``jax.jit`` or ``jax.vmap`` the values cannot be inspected, so such an index instead
  makes its loss term NaN (and so a ``'mean'`` or ``'sum'`` loss, and its gradient):
  a training step that checks for non-finite losses stops there.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.mse_loss(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])).item()
  2.0
  >>> F.cross_entropy(jnp.zeros((2, 4)), jnp.array([0, 3])).item()  # log(4)
  1.386294...
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_choice, check_floating, check_probability, shape_of

_REDUCTIONS = ("none", "mean", "sum")


# --------------------------------------------------------------------------- checks
def _check_reduction(owner: str, reduction: Any, choices: tuple[str, ...] = _REDUCTIONS) -> None:
    check_choice(owner, "reduction", reduction, choices)


def _check_int(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be an int, got {value!r} of type {type(value).__name__}")


def _check_number(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be a Python number, got {value!r} of type {type(value).__name__}")


def _check_beta(owner: str, beta: Any) -> float:
    _check_number(owner, "beta", beta)
    if beta < 0:
        raise ValueError(f"{owner}: `beta` must be >= 0, got {beta!r}; use beta=0 for the L1 loss")
    return float(beta)


def _check_delta(owner: str, delta: Any) -> float:
    _check_number(owner, "delta", delta)
    if delta <= 0:
        raise ValueError(f"{owner}: `delta` must be > 0, got {delta!r}")
    return float(delta)


def _is_concrete(x: Any) -> bool:
    """Whether the values of ``x`` can be read now (not a tracer under jit/grad/vmap)."""
    return not isinstance(x, jax.core.Tracer)


def _same_shape(owner: str, input: Any, target: Any) -> None:
    if shape_of(input) != shape_of(target):
        raise ValueError(
            f"{owner}: expected target of the same shape as input {shape_of(input)}, got target shape "
            f"{shape_of(target)}; reshape one of them, e.g. `target.reshape(input.shape)`"
        )


def _broadcast_weight(owner: str, name: str, value: ArrayLike, x: jax.Array) -> jax.Array:
    """``value`` in the input's dtype, broadcast to its shape (explicitly: no rank promotion)."""
    vshape = shape_of(value)
    try:
        ok = np.broadcast_shapes(vshape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{owner}: expected `{name}` broadcastable to the input shape {x.shape}, got shape {vshape}")
    return jnp.broadcast_to(jnp.asarray(value).astype(x.dtype), x.shape)


def _pair(owner: str, input: ArrayLike, target: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """Checked ``(input, target)`` of the same shape, the target cast to the input's dtype."""
    check_floating(owner, input)
    _same_shape(owner, input, target)
    x = jnp.asarray(input)
    return x, jnp.asarray(target).astype(x.dtype)


def _reduce(loss: jax.Array, reduction: str) -> jax.Array:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


@jax.custom_jvp
def _abs(d: jax.Array) -> jax.Array:
    """``|d|`` with gradient ``sign(d)`` (0 at 0, as PyTorch's l1_loss)."""
    return jnp.abs(d)


_abs.defjvps(lambda dd, y, d: jnp.sign(d) * dd)


# ---------------------------------------------------------------- elementwise losses
def _pointwise(
    owner: str,
    fn: Callable[[jax.Array], jax.Array],
    input: ArrayLike,
    target: ArrayLike,
    reduction: str,
    weight: ArrayLike | None,
    mean_over_weight: bool,
) -> jax.Array:
    _check_reduction(owner, reduction)
    x, t = _pair(owner, input, target)
    loss = fn(x - t)
    if weight is None:
        return _reduce(loss, reduction)
    if shape_of(weight) != x.shape:
        raise ValueError(f"{owner}: expected `weight` of the same shape as input {x.shape}, got shape {shape_of(weight)}")
    w = jnp.asarray(weight).astype(x.dtype)
    loss = loss * w
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _square(d: jax.Array) -> jax.Array:
    return d * d


def _mse_loss(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, weight: ArrayLike | None) -> jax.Array:
    return _pointwise(owner, _square, input, target, reduction, weight, True)


def _l1_loss(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, weight: ArrayLike | None) -> jax.Array:
    return _pointwise(owner, _abs, input, target, reduction, weight, True)


def mse_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", weight: ArrayLike | None = None) -> jax.Array:
    """Squared error ``(input - target) ** 2``.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape (cast to the input's dtype).
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      weight: optional float array of the input's shape; with weights ``'mean'`` is
        ``sum(weight * loss) / sum(weight)``, as in PyTorch.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.mse_loss(jnp.array([0.0, 3.0]), jnp.array([1.0, 1.0]), reduction="none").tolist()
      [1.0, 4.0]
    """
    return _mse_loss("mse_loss", input, target, reduction, weight)


def l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", weight: ArrayLike | None = None) -> jax.Array:
    """Absolute error ``|input - target|``; gradient ``sign(input - target)`` (0 at a tie).

    Args, returns and weighting as `mse_loss`.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.l1_loss(jnp.array([0.0, 3.0]), jnp.array([1.0, 1.0])).item()
      1.5
    """
    return _l1_loss("l1_loss", input, target, reduction, weight)


def smooth_l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", beta: float = 1.0) -> jax.Array:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, for ``d = input - target``.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      beta: the switch point, ``>= 0``; ``beta=0`` is `l1_loss`, as in PyTorch.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.smooth_l1_loss(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none").tolist()
      [0.125, 2.5]
    """
    return _smooth_l1_loss("smooth_l1_loss", input, target, reduction, beta)


def _smooth_l1_loss(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, beta: float) -> jax.Array:
    b = _check_beta(owner, beta)
    if b == 0:
        return _l1_loss(owner, input, target, reduction, None)

    def fn(d: jax.Array) -> jax.Array:
        z = jnp.abs(d)
        return jnp.where(z < b, 0.5 * d * d / b, z - 0.5 * b)

    return _pointwise(owner, fn, input, target, reduction, None, True)


def huber_loss(
    input: ArrayLike,
    target: ArrayLike,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> jax.Array:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, for ``d = input - target``.

    Arguments are positional in PyTorch's order.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      delta: the switch point, ``> 0``.
      weight: optional float array of the input's shape; unlike `mse_loss`, PyTorch's
        weighted ``'mean'`` here is ``mean(weight * loss)``, and so is ours.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.huber_loss(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none", delta=2.0).tolist()
      [0.125, 4.0]
    """
    return _huber_loss("huber_loss", input, target, reduction, delta, weight)


def _huber_loss(
    owner: str, input: ArrayLike, target: ArrayLike, reduction: str, delta: float, weight: ArrayLike | None
) -> jax.Array:
    c = _check_delta(owner, delta)

    def fn(d: jax.Array) -> jax.Array:
        z = jnp.abs(d)
        return jnp.where(z < c, 0.5 * d * d, c * (z - 0.5 * c))

    return _pointwise(owner, fn, input, target, reduction, weight, False)


# ------------------------------------------------------------------ class-index losses
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
    expected = f"integer class indices of shape {want}" + (f" or float probabilities of shape {x.shape}" if probs else "")
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
    _check_int(owner, "ignore_index", ignore_index)
    _check_reduction(owner, reduction)


def _cross_entropy(
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
    return _cross_entropy("cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing)


def _nll_loss(
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
    return _nll_loss("nll_loss", input, target, weight, ignore_index, reduction)


# ------------------------------------------------------------------------ binary losses
@jax.custom_jvp
def _bce(x: jax.Array, t: jax.Array) -> jax.Array:
    return -(t * jnp.maximum(jnp.log(x), -100.0) + (1 - t) * jnp.maximum(jnp.log1p(-x), -100.0))


# PyTorch's derivatives, finite where the clamped logs have none (x exactly 0 or 1).
_bce.defjvps(
    lambda dx, y, x, t: (x - t) / jnp.maximum(x * (1 - x), 1e-12) * dx,
    lambda dt, y, x, t: (jnp.log1p(-x) - jnp.log(x)) * dt,
)


def _binary_cross_entropy(
    owner: str, input: ArrayLike, target: ArrayLike, weight: ArrayLike | None, reduction: str
) -> jax.Array:
    _check_reduction(owner, reduction)
    x, t = _pair(owner, input, target)
    if _is_concrete(input):
        values = np.asarray(input)
        bad = values[~((values >= 0) & (values <= 1))]
        if bad.size:
            raise ValueError(
                f"{owner}: expected input probabilities in [0, 1], got a value {float(bad.flat[0])}; "
                f"apply sigmoid first, or pass logits to binary_cross_entropy_with_logits"
            )
    loss = _bce(x, t)
    if weight is not None:
        loss = loss * _broadcast_weight(owner, "weight", weight, x)
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, reduction: str = "mean"
) -> jax.Array:
    """``-weight * (t * log(x) + (1 - t) * log(1 - x))``, each log clamped at -100 as in PyTorch.

    Args:
      input: float probabilities ``x`` in ``[0, 1]``, any shape ``(*)``. Eagerly a
        value outside raises `ValueError`; under ``jit`` it gives NaN.
      target: float array ``t`` of the same shape, usually in ``[0, 1]``.
      weight: optional float array broadcastable to ``(*)``.
      reduction: ``'none'``, ``'mean'`` (over all elements) or ``'sum'``.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype. The gradient is
      PyTorch's ``(x - t) / max(x * (1 - x), 1e-12)``, finite at 0 and 1.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.binary_cross_entropy(jnp.array([0.5, 1.0]), jnp.array([1.0, 0.0]), reduction="none").round(4).tolist()
      [0.6931, 100.0]
    """
    return _binary_cross_entropy("binary_cross_entropy", input, target, weight, reduction)


def _binary_cross_entropy_with_logits(
    owner: str,
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None,
    reduction: str,
    pos_weight: ArrayLike | None,
) -> jax.Array:
    _check_reduction(owner, reduction)
    x, t = _pair(owner, input, target)
    log_sig = jax.nn.log_sigmoid(x)
    if pos_weight is None:
        loss = (1 - t) * x - log_sig
    else:
        log_weight = (_broadcast_weight(owner, "pos_weight", pos_weight, x) - 1) * t + 1
        loss = (1 - t) * x - log_weight * log_sig
    if weight is not None:
        loss = loss * _broadcast_weight(owner, "weight", weight, x)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    *,
    reduction: str = "mean",
    pos_weight: ArrayLike | None = None,
) -> jax.Array:
    """`binary_cross_entropy` of ``sigmoid(input)``, computed stably from the logits.

    ``loss = weight * ((1 - t) * x - (1 + (pos_weight - 1) * t) * log_sigmoid(x))``.

    Args:
      input: float logits ``x`` of any shape ``(*)``.
      target: float array ``t`` of the same shape.
      weight: optional float array broadcastable to ``(*)``.
      reduction: ``'none'``, ``'mean'`` (over all elements) or ``'sum'``.
      pos_weight: optional float array broadcastable to ``(*)``, usually ``(C,)`` for
        the last axis: the weight of positive examples.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.binary_cross_entropy_with_logits(jnp.array([0.0, 100.0]), jnp.array([1.0, 1.0]), reduction="none").round(4).tolist()
      [0.6931, 0.0]
    """
    return _binary_cross_entropy_with_logits(
        "binary_cross_entropy_with_logits", input, target, weight, reduction, pos_weight
    )


# ------------------------------------------------------------------------ divergence
def _xlogx(t: jax.Array) -> jax.Array:
    """``t * log(t)`` with 0 at 0 (value and gradient), NaN for ``t < 0``: PyTorch's ``xlogy(t, t)``."""
    zero = t == 0
    return jnp.where(zero, 0.0, t * jnp.log(jnp.where(zero, 1.0, t)))


def _kl_div(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, log_target: bool) -> jax.Array:
    _check_reduction(owner, reduction, ("none", "batchmean", "mean", "sum"))
    if not isinstance(log_target, (bool, np.bool_)):
        raise TypeError(f"{owner}: `log_target` must be a bool, got {log_target!r}")
    x, t = _pair(owner, input, target)
    loss = jnp.exp(t) * (t - x) if log_target else _xlogx(t) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)


def kl_div(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", log_target: bool = False) -> jax.Array:
    """Kullback-Leibler divergence ``target * (log(target) - input)``, ``input`` being log-probabilities.

    Args:
      input: float log-probabilities of any shape ``(*)``, usually ``(N, C)``.
      target: float probabilities of the same shape (log-probabilities when ``log_target``).
      reduction: ``'none'``, ``'batchmean'`` (sum divided by ``N``, the mathematical KL
        divergence per sample), ``'mean'`` (sum divided by the number of *elements*, as
        PyTorch's default, which it plans to change) or ``'sum'``.
      log_target: whether ``target`` holds log-probabilities.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype. The gradient with
      respect to a target of 0 is 0 (PyTorch's is NaN there).

    Examples:
      >>> import funcnn.nn.functional as F
      >>> logq = jnp.log(jnp.array([[0.5, 0.5]]))
      >>> F.kl_div(logq, jnp.array([[1.0, 0.0]]), reduction="batchmean").round(4).item()
      0.6931
    """
    return _kl_div("kl_div", input, target, reduction, log_target)
