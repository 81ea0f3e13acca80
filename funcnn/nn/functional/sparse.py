"""Embedding lookups with ``torch.nn.functional``'s arguments and gradients: `embedding` and `embedding_bag`.

Out-of-range indices: PyTorch raises. Here an eager call (concrete indices) raises a
``ValueError`` naming the bad index too; under ``jit``/``vmap`` the indices are
abstract and cannot be checked, so every out-of-range index (negative ones included)
yields a row of NaN instead of another row's values: a training step's loss becomes
non-finite, which a non-finite check catches, and that row contributes no gradient.

``max_norm``: PyTorch renormalises the looked-up rows of the weight *in place* (each
row whose ``norm_type``-norm exceeds ``max_norm`` is scaled by
``max_norm / (norm + 1e-7)``) and then reads them. funcnn cannot mutate parameters:
it applies the same scaling to the looked-up rows on every call and leaves the weight
as it is. Outputs and gradients equal PyTorch's (the gradient passes straight through
the scaling, as it does in PyTorch, where the scaling happens outside autograd). What
differs is the weight afterwards: PyTorch's stored rows shrink, funcnn's do not, so a
later lookup *without* ``max_norm`` sees the original rows, and an optimizer step
updates the unscaled rows (renormalise the weight yourself to reproduce PyTorch's
stored values).

``scale_grad_by_freq=True`` divides each row's gradient by the number of times its
index occurs in the call's ``input``, as in PyTorch; the output is unchanged.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> weight = jnp.arange(6.0).reshape(3, 2)
  >>> F.embedding(jnp.array([[2, 0]]), weight).tolist()
  [[[4.0, 5.0], [0.0, 1.0]]]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import shape_of


def _check_indices(owner: str, input: Any) -> None:
    """TypeError unless ``input`` holds integers (not floats, not booleans)."""
    dtype = jnp.result_type(input)
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(
            f"{owner}: expected integer indices, got dtype {dtype}; convert them with `x.astype(jnp.int32)`"
        )


def check_padding_idx(owner: str, padding_idx: Any, num_embeddings: int) -> int | None:
    """``padding_idx`` in ``[0, num_embeddings)``, a negative one counted from the end (PyTorch's rule)."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, (int, np.integer)) or isinstance(padding_idx, bool):
        raise TypeError(f"{owner}: `padding_idx` must be an int or None, got {type(padding_idx).__name__}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{owner}: `padding_idx` (={padding_idx}) must be within [-{num_embeddings}, {num_embeddings}) "
            f"for num_embeddings={num_embeddings}"
        )
    return int(padding_idx) % num_embeddings


def check_max_norm(owner: str, max_norm: Any, norm_type: Any) -> None:
    """ValueError unless ``max_norm`` is None or a positive number and ``norm_type`` a positive number."""
    for name, v, ok_none in (("max_norm", max_norm, True), ("norm_type", norm_type, False)):
        if v is None and ok_none:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ValueError(f"{owner}: `{name}` must be a positive number{' or None' if ok_none else ''}, got {v!r}")


def _renorm(rows: jax.Array, max_norm: float | None, norm_type: float) -> jax.Array:
    """Rows scaled to norm ``<= max_norm`` as PyTorch's in-place renorm does; the gradient passes straight through."""
    if max_norm is None:
        return rows
    r = lax.stop_gradient(rows)
    a = jnp.abs(r)
    norm = (
        jnp.max(a, -1, keepdims=True)
        if norm_type == float("inf")
        else jnp.sum(a**norm_type, -1, keepdims=True) ** (1.0 / norm_type)
    )
    scale = jnp.where(norm > max_norm, max_norm / (norm + 1e-7), jnp.ones((), r.dtype))
    return r * scale.astype(r.dtype) + (rows - r)


def _scale_grad(rows: jax.Array, idx: jax.Array, num: int) -> jax.Array:
    """``rows`` unchanged, with the gradient of each divided by its index's count in ``idx``."""
    counts = jnp.zeros((num + 1,), rows.dtype).at[jnp.clip(idx, 0, num).ravel()].add(1)
    r = lax.stop_gradient(rows)
    return r + (rows - r) / jnp.maximum(counts[jnp.clip(idx, 0, num)], 1)[..., None]


def _check_in_range(owner: str, input: Any, num_embeddings: int) -> None:
    """ValueError on out-of-range concrete indices; abstract (traced) indices pass."""
    if isinstance(input, jax.core.Tracer):
        return
    idx = np.asarray(input)
    if idx.size == 0:
        return
    bad = (idx < 0) | (idx >= num_embeddings)
    if bad.any():
        first = int(idx[bad].ravel()[0])
        raise ValueError(
            f"{owner}: index {first} is out of range for num_embeddings={num_embeddings}; "
            f"indices must lie in [0, {num_embeddings - 1}] (got min {int(idx.min())}, max {int(idx.max())})"
        )


def embedding_impl(
    owner: str,
    input: ArrayLike,
    weight: ArrayLike,
    padding_idx: int | None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
) -> jax.Array:
    _check_indices(owner, input)
    check_max_norm(owner, max_norm, norm_type)
    w = jnp.asarray(weight)
    if w.ndim != 2:
        raise ValueError(
            f"{owner}: expected a 2-D weight of shape (num_embeddings, embedding_dim), got shape {shape_of(w)}"
        )
    num = w.shape[0]
    padding_idx = check_padding_idx(owner, padding_idx, num)
    _check_in_range(owner, input, num)
    idx = jnp.asarray(input)
    # jnp.take wraps negative indices; send them past the end so that they are filled too.
    idx = jnp.where(idx < 0, num, idx)
    fill = jnp.nan if jnp.issubdtype(w.dtype, jnp.inexact) else None
    out = _renorm(jnp.take(w, idx, axis=0, mode="fill", fill_value=fill), max_norm, norm_type)
    if scale_grad_by_freq:
        out = _scale_grad(out, idx, num)
    if padding_idx is not None:
        # The padding row is read as stored but receives no gradient, as in PyTorch.
        out = jnp.where((idx == padding_idx)[..., None], lax.stop_gradient(out), out)
    return out


def embedding(
    input: ArrayLike,
    weight: ArrayLike,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> jax.Array:
    """Look up rows of ``weight``: ``out[..., :] = weight[input[...], :]``.

    Args:
      input: ``(*)`` integer indices in ``[0, num_embeddings)``.
      weight: ``(num_embeddings, embedding_dim)`` table.
      padding_idx: a row that receives no gradient (negative counts from the end).
      max_norm: rows with a larger norm are scaled down to it (see the module notes:
        the weight itself is not changed).
      norm_type: the ``p`` of the norm for ``max_norm`` (``float('inf')`` allowed).
      scale_grad_by_freq: divide each row's gradient by its index's count in ``input``.
      sparse: accepted for compatibility; JAX gradients are dense either way.

    Returns:
      ``(*, embedding_dim)`` with the weight's dtype.

    Raises:
      TypeError: for non-integer indices.
      ValueError: for an out-of-range index in an eager call (see the module notes for
        ``jit``), a bad ``padding_idx``, ``max_norm`` or ``norm_type``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> w = jnp.ones((4, 3))
      >>> g = jax.grad(lambda w: F.embedding(jnp.array([0, 1, 1]), w, padding_idx=1).sum())(w)
      >>> g[:, 0].tolist()
      [1.0, 0.0, 0.0, 0.0]
    """
    del sparse
    return embedding_impl("embedding", input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)


BAG_MODES = ("sum", "mean", "max")


def _bag_ids(owner: str, input: Any, offsets: Any, include_last_offset: bool) -> tuple[jax.Array, jax.Array, int]:
    """Flat indices, the bag of each, and the number of bags, for 1-D ``input`` + ``offsets`` or 2-D ``input``."""
    shape = shape_of(input)
    if len(shape) == 2:
        if offsets is not None:
            raise ValueError(
                f"{owner}: a 2-D input (B, N) holds one bag per row, so `offsets` must be None, got an array; "
                f"pass offsets=None, or flatten the input to 1-D and keep the offsets"
            )
        bags = shape[0]
        return jnp.asarray(input).reshape(-1), jnp.repeat(jnp.arange(bags), shape[1]), bags
    if len(shape) != 1:
        raise ValueError(f"{owner}: expected a 1-D input (with `offsets`) or a 2-D input (B, N), got shape {shape}")
    if offsets is None or len(shape_of(offsets)) != 1:
        got = "None" if offsets is None else f"shape {shape_of(offsets)}"
        raise ValueError(
            f"{owner}: a 1-D input needs 1-D `offsets` (the start of each bag), got {got}; "
            f"e.g. offsets=jnp.array([0, 3]) for two bags starting at positions 0 and 3"
        )
    _check_indices(owner, offsets)
    bags = shape_of(offsets)[0] - (1 if include_last_offset else 0)
    if bags < 1:
        raise ValueError(
            f"{owner}: include_last_offset=True needs at least 2 offsets (the starts of the bags and the end), "
            f"got shape {shape_of(offsets)}"
        )
    if include_last_offset and not isinstance(offsets, jax.core.Tracer) and int(np.asarray(offsets)[-1]) != shape[0]:
        raise ValueError(
            f"{owner}: with include_last_offset=True the last offset is the end of the last bag and must equal "
            f"the input's length {shape[0]}, got offsets[-1]={int(np.asarray(offsets)[-1])}; append len(input) "
            f"to the offsets"
        )
    positions = jnp.arange(shape[0])
    # A position belongs to the last bag that starts at or before it; with include_last_offset,
    # positions at or past the final offset get bag id ``bags`` and are dropped by the segment ops.
    ids = jnp.searchsorted(jnp.asarray(offsets), positions, side="right") - 1
    return jnp.asarray(input), ids, bags


def embedding_bag_impl(
    owner: str,
    input: ArrayLike,
    weight: ArrayLike,
    offsets: ArrayLike | None,
    max_norm: float | None,
    norm_type: float,
    scale_grad_by_freq: bool,
    mode: str,
    per_sample_weights: ArrayLike | None,
    include_last_offset: bool,
    padding_idx: int | None,
) -> jax.Array:
    _check_indices(owner, input)
    if mode not in BAG_MODES:
        raise ValueError(f"{owner}: `mode` must be one of {list(BAG_MODES)}, got {mode!r}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(
                f"{owner}: `per_sample_weights` is only supported with mode='sum', got mode={mode!r}; "
                f"use mode='sum' (divide by the bag sizes yourself for a weighted mean)"
            )
        if shape_of(per_sample_weights) != shape_of(input):
            raise ValueError(
                f"{owner}: expected `per_sample_weights` of the input's shape {shape_of(input)}, "
                f"got shape {shape_of(per_sample_weights)}"
            )
    if scale_grad_by_freq:
        raise ValueError(
            f"{owner}: scale_grad_by_freq=True is not supported for bags (PyTorch's CPU gradients for it do not "
            f"follow its documented rule); pass scale_grad_by_freq=False"
        )
    w = jnp.asarray(weight)
    if w.ndim != 2:
        raise ValueError(
            f"{owner}: expected a 2-D weight of shape (num_embeddings, embedding_dim), got shape {shape_of(w)}"
        )
    padding_idx = check_padding_idx(owner, padding_idx, w.shape[0])
    idx, bag, bags = _bag_ids(owner, input, offsets, include_last_offset)
    rows = embedding_impl(owner, idx, w, None, max_norm, norm_type)
    valid = jnp.ones(idx.shape, bool) if padding_idx is None else idx != padding_idx
    if mode == "max":
        neg = jnp.array(-jnp.inf, rows.dtype)
        best = jax.ops.segment_max(jnp.where(valid[:, None], rows, neg), bag, bags)
        return jnp.where(jnp.isneginf(best), jnp.zeros((), rows.dtype), best)  # empty bags give zeros
    if per_sample_weights is not None:
        rows = rows * jnp.asarray(per_sample_weights, rows.dtype).reshape(-1, 1)
    total = jax.ops.segment_sum(jnp.where(valid[:, None], rows, jnp.zeros((), rows.dtype)), bag, bags)
    if mode == "sum":
        return total
    count = jax.ops.segment_sum(valid.astype(rows.dtype), bag, bags)
    return total / jnp.maximum(count, 1)[:, None]


def embedding_bag(
    input: ArrayLike,
    weight: ArrayLike,
    offsets: ArrayLike | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: ArrayLike | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> jax.Array:
    """Sums, means or maxima of bags of embedding rows, without materialising the lookup per bag.

    Bags come from a 2-D ``input`` (one bag per row) or a 1-D ``input`` cut at
    ``offsets`` (bag ``b`` holds ``input[offsets[b]:offsets[b + 1]]``, the last bag runs
    to the end of ``input``). Entries equal to
    ``padding_idx`` are left out (and not counted by ``"mean"``); an empty bag gives
    zeros.

    Args:
      input: ``(B, N)`` or ``(L,)`` integer indices.
      weight: ``(num_embeddings, embedding_dim)`` table.
      offsets: ``(B,)`` (``(B + 1,)`` with ``include_last_offset``) integer starts of the
        bags of a 1-D input; None for a 2-D input.
      max_norm: rows with a larger norm are scaled down to it (see the module notes).
      norm_type: the ``p`` of the norm for ``max_norm``.
      scale_grad_by_freq: must be False (see Raises).
      mode: ``"sum"``, ``"mean"`` or ``"max"``.
      sparse: accepted for compatibility; JAX gradients are dense either way.
      per_sample_weights: floating array of ``input``'s shape scaling each row (``"sum"`` only).
      include_last_offset: ``offsets`` has one more entry, the end of the last bag,
        which must equal ``len(input)`` (checked in eager calls).
      padding_idx: an index left out of every bag (negative counts from the end).

    Returns:
      ``(B, embedding_dim)`` with the weight's dtype.

    Raises:
      ValueError: bad shapes, mode or offsets; ``per_sample_weights`` without
        ``mode="sum"``; ``scale_grad_by_freq=True`` (PyTorch's CPU kernel scales bag
        gradients by counts that do not match its documented rule, so there is no
        reference to agree with).

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> w = jnp.arange(8.0).reshape(4, 2)
      >>> F.embedding_bag(jnp.array([0, 1, 3, 2]), w, jnp.array([0, 3]), mode="sum").tolist()
      [[8.0, 11.0], [4.0, 5.0]]
      >>> F.embedding_bag(jnp.array([[0, 2], [1, 1]]), w, mode="max", padding_idx=2).tolist()
      [[0.0, 1.0], [2.0, 3.0]]
    """
    del sparse
    return embedding_bag_impl(
        "embedding_bag",
        input,
        weight,
        offsets,
        max_norm,
        norm_type,
        scale_grad_by_freq,
        mode,
        per_sample_weights,
        include_last_offset,
        padding_idx,
    )
