"""Connectionist temporal classification (CTC) loss, PyTorch's ``ctc_loss``.

The forward algorithm runs in log space over the blank-extended target
``(blank, y1, blank, y2, ..., yS, blank)`` as one `jax.lax.scan` over time, so it
compiles once per shape and is differentiated by JAX. Each sample stops at its own
input length; a sample whose target cannot be aligned (too long for its input) has
an infinite loss, as in PyTorch, which ``zero_infinity`` turns into 0 (gradient 0).

On gradients: PyTorch's hand-written backward returns ``exp(log_probs) - posterior``
for ``log_probs``, the gradient with respect to the *logits* when ``log_probs =
log_softmax(logits)``; ours is the exact gradient with respect to ``log_probs``
(``-posterior``). Through a ``log_softmax`` both give the same gradient for the
logits, which is what training uses.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> log_probs = jnp.log(jnp.full((2, 1, 2), 0.5))  # T=2, N=1, C=2 (blank 0, label 1)
  >>> F.ctc_loss(log_probs, jnp.array([[1]]), jnp.array([2]), jnp.array([1]), reduction="sum").round(4).item()
  0.2877
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_bool, check_floating, check_int, shape_of
from ._loss_common import _check_reduction, _is_concrete

_NEG_INF = -jnp.inf


def _lengths(owner: str, name: str, value: Any, N: int, unbatched: bool, limit: int, limit_name: str) -> jax.Array:
    """Integer lengths ``(N,)`` (``()`` or ``(1,)`` unbatched) in ``[0, limit]``, checked when concrete."""
    v = value if isinstance(value, jax.Array) or hasattr(value, "shape") else np.asarray(value)
    shape, dtype = shape_of(v), jnp.result_type(v)
    want = ((), (1,)) if unbatched else ((N,),)
    if shape not in want or not jnp.issubdtype(dtype, jnp.integer):
        raise ValueError(
            f"{owner}: expected `{name}` as integers of shape {' or '.join(str(w) for w in want)}, "
            f"got a {dtype} array of shape {shape}"
        )
    if _is_concrete(v):
        values = np.asarray(v).reshape(-1)
        bad = values[(values < 0) | (values > limit)]
        if bad.size:
            raise ValueError(
                f"{owner}: `{name}` holds {int(bad.flat[0])}, outside [0, {limit}] ({limit_name}); "
                f"each length must fit the padded array it describes"
            )
    return jnp.asarray(v).reshape(-1).astype(jnp.int32)


def _padded_targets(
    owner: str, targets: ArrayLike, target_lengths: Any, N: int, C: int, unbatched: bool
) -> tuple[jax.Array, jax.Array]:
    """``(N, S)`` padded targets and their lengths, from the padded or the concatenated format."""
    shape, dtype = shape_of(targets), jnp.result_type(targets)
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(f"{owner}: expected integer `targets`, got dtype {dtype}; use `targets.astype(jnp.int32)`")
    t = jnp.asarray(targets).astype(jnp.int32)
    if unbatched:
        if len(shape) != 1:
            raise ValueError(f"{owner}: expected unbatched `targets` of shape (S,), got shape {shape}")
        t = t[None]
        tl = _lengths(owner, "target_lengths", target_lengths, 1, True, shape[0], "the targets' length S")
    elif len(shape) == 2:
        if shape[0] != N:
            raise ValueError(f"{owner}: expected padded `targets` of shape ({N}, S), got shape {shape}")
        tl = _lengths(owner, "target_lengths", target_lengths, N, False, shape[1], "the padded targets' length S")
    elif len(shape) == 1:
        total = shape[0]
        tl = _lengths(owner, "target_lengths", target_lengths, N, False, total, "the concatenated targets' length")
        if _is_concrete(target_lengths):
            lengths = np.asarray(target_lengths).reshape(-1)
            if int(lengths.sum()) != total:
                raise ValueError(
                    f"{owner}: concatenated `targets` hold {total} labels but `target_lengths` sum to "
                    f"{int(lengths.sum())}; they must agree"
                )
            S = int(lengths.max(initial=0))
        else:
            S = total
        starts = jnp.cumsum(tl) - tl
        index = jnp.clip(starts[:, None] + jnp.arange(S)[None, :], 0, max(total - 1, 0))
        t = t[index] if total else jnp.zeros((N, S), jnp.int32)
    else:
        raise ValueError(
            f"{owner}: expected `targets` padded as ({N}, S) or concatenated as (sum(target_lengths),), "
            f"got shape {shape}"
        )
    if _is_concrete(targets):
        values = np.asarray(targets)
        bad = values[(values < 0) | (values >= C)]
        if bad.size:
            raise ValueError(f"{owner}: `targets` hold class index {int(bad.flat[0])}, out of range for C={C} classes")
    return t, tl


def _logsumexp(*terms: jax.Array) -> jax.Array:
    """Elementwise ``log(sum(exp(terms)))``, ``-inf`` where every term is, with finite (0) gradients there.

    (`jnp.logaddexp` differentiates to NaN when both terms are ``-inf``, which
    unreachable alignment states are.)
    """
    m = jax.lax.stop_gradient(terms[0])
    for term in terms[1:]:
        m = jnp.maximum(m, jax.lax.stop_gradient(term))
    dead = m == _NEG_INF
    m = jnp.where(dead, 0.0, m)
    total = sum(jnp.exp(term - m) for term in terms)
    return jnp.where(dead, _NEG_INF, jnp.log(jnp.where(dead, 1.0, total)) + m)


def _ctc_nll(lp: jax.Array, targets: jax.Array, il: jax.Array, tl: jax.Array, blank: int) -> jax.Array:
    """Per-sample ``-log p(target | input)`` for ``lp (T, N, C)``, padded ``targets (N, S)``."""
    T, N, _ = lp.shape
    S = targets.shape[1]
    L = 2 * S + 1
    ext = jnp.full((N, L), blank, jnp.int32).at[:, 1::2].set(targets)
    two_back = jnp.concatenate([jnp.full((N, 2), blank, jnp.int32), ext[:, :-2]], axis=1)
    skip = (ext != blank) & (ext != two_back) & (jnp.arange(L) >= 2)[None, :]
    emit = jnp.take_along_axis(lp, jnp.broadcast_to(ext[None], (T, N, L)), axis=2)  # (T, N, L)
    neg = jnp.full((N, 1), _NEG_INF, lp.dtype)

    def step(alpha: jax.Array, inputs: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, None]:
        t, e = inputs
        one = jnp.concatenate([neg, alpha[:, :-1]], axis=1)
        two = jnp.where(skip, jnp.concatenate([neg, neg, alpha[:, :-2]], axis=1), _NEG_INF)
        new = _logsumexp(alpha, one, two) + e
        return jnp.where((t < il)[:, None], new, alpha), None

    start = jnp.where(jnp.arange(L) == 0, 0.0, _NEG_INF).astype(lp.dtype)
    alpha, _ = jax.lax.scan(step, jnp.broadcast_to(start, (N, L)), (jnp.arange(T), emit))
    end = 2 * tl
    last = jnp.take_along_axis(alpha, end[:, None], axis=1)[:, 0]
    before = jnp.take_along_axis(alpha, jnp.maximum(end - 1, 0)[:, None], axis=1)[:, 0]
    return -_logsumexp(last, jnp.where(tl > 0, before, _NEG_INF))


def ctc_loss_impl(
    owner: str,
    log_probs: ArrayLike,
    targets: ArrayLike,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
    reduction: str,
    zero_infinity: bool,
) -> jax.Array:
    check_int(owner, "blank", blank)
    _check_reduction(owner, reduction)
    check_bool(owner, "zero_infinity", zero_infinity)
    check_floating(owner, log_probs, "log_probs")
    lp = jnp.asarray(log_probs)
    if lp.ndim not in (2, 3):
        raise ValueError(f"{owner}: expected `log_probs` of shape (T, N, C) or (T, C), got shape {lp.shape}")
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp[:, None, :]
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise ValueError(f"{owner}: `blank` (={blank}) must be a class index in [0, {C}) for C={C} classes")
    il = _lengths(owner, "input_lengths", input_lengths, N, unbatched, T, "the input length T")
    t, tl = _padded_targets(owner, targets, target_lengths, N, C, unbatched)
    if _is_concrete(t) and _is_concrete(tl):
        used = np.asarray(t)[np.arange(t.shape[1]) < np.asarray(tl)[:, None]]
        if (used == blank).any():
            raise ValueError(
                f"{owner}: `targets` hold the blank index {blank} within their lengths; a target label is never "
                f"the blank: relabel the classes or pass the right `blank`"
            )
    nll = _ctc_nll(lp, t, il, tl, blank)
    if zero_infinity:
        nll = jnp.where(jnp.isinf(nll), 0.0, nll).astype(lp.dtype)
    if reduction == "mean":
        return (nll / jnp.maximum(tl, 1).astype(lp.dtype)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll[0] if unbatched else nll


def ctc_loss(
    log_probs: ArrayLike,
    targets: ArrayLike,
    input_lengths: ArrayLike,
    target_lengths: ArrayLike,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> jax.Array:
    """Negative log likelihood of each target sequence summed over all its CTC alignments.

    Arguments are positional in PyTorch's order.

    Args:
      log_probs: float log-probabilities (e.g. ``log_softmax(logits, 2)``) of shape
        ``(T, N, C)``, or ``(T, C)`` unbatched; time first.
      targets: integer class indices, never ``blank``: padded ``(N, S)`` (row ``n``
        uses its first ``target_lengths[n]`` entries), or all targets concatenated as
        ``(sum(target_lengths),)``; ``(S,)`` unbatched.
      input_lengths: integers ``(N,)`` (``()`` unbatched), each ``<= T``: how many
        time steps of each sample count.
      target_lengths: integers ``(N,)`` (``()`` unbatched).
      blank: the blank class index.
      reduction: ``'none'``, ``'mean'`` (each loss divided by its target length,
        at least 1, then averaged over the batch, as PyTorch) or ``'sum'``.
      zero_infinity: replace infinite losses (targets that cannot be aligned within
        their input length) and their gradients by 0.

    Returns:
      ``(N,)`` (``()`` unbatched) for ``'none'``, else ``()``; the dtype of ``log_probs``.

    Raises:
      ValueError: for bad shapes, lengths outside their arrays, class indices out of
        range (checked when the values are concrete, not under ``jit``).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> lp = jax.nn.log_softmax(jnp.zeros((5, 2, 4)), axis=2)
      >>> F.ctc_loss(lp, jnp.array([1, 2, 3, 3]), jnp.array([5, 4]), jnp.array([2, 2]), reduction="none").shape
      (2,)
    """
    return ctc_loss_impl("ctc_loss", log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
