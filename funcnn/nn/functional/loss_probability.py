"""Losses of probability targets: binary cross entropy (of probabilities or logits) and KL divergence.

See `funcnn.nn.functional.loss` for what holds for every loss.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.binary_cross_entropy(jnp.array([0.5]), jnp.array([1.0])).round(4).item()
  0.6931
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._loss_common import _broadcast_weight, _check_reduction, _is_concrete, _pair, _reduce


@jax.custom_jvp
def _bce(x: jax.Array, t: jax.Array) -> jax.Array:
    return -(t * jnp.maximum(jnp.log(x), -100.0) + (1 - t) * jnp.maximum(jnp.log1p(-x), -100.0))


# PyTorch's derivatives, finite where the clamped logs have none (x exactly 0 or 1).
_bce.defjvps(
    lambda dx, y, x, t: (x - t) / jnp.maximum(x * (1 - x), 1e-12) * dx,
    lambda dt, y, x, t: (jnp.log1p(-x) - jnp.log(x)) * dt,
)


def binary_cross_entropy_impl(
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
    return binary_cross_entropy_impl("binary_cross_entropy", input, target, weight, reduction)


def binary_cross_entropy_with_logits_impl(
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
    return binary_cross_entropy_with_logits_impl(
        "binary_cross_entropy_with_logits", input, target, weight, reduction, pos_weight
    )


# ------------------------------------------------------------------------ divergence
def _xlogx(t: jax.Array) -> jax.Array:
    """``t * log(t)`` with 0 at 0 (value and gradient), NaN for ``t < 0``: PyTorch's ``xlogy(t, t)``."""
    zero = t == 0
    return jnp.where(zero, 0.0, t * jnp.log(jnp.where(zero, 1.0, t)))


def kl_div_impl(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, log_target: bool) -> jax.Array:
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
    return kl_div_impl("kl_div", input, target, reduction, log_target)
