"""`linear_cross_entropy`: cross entropy of ``linear(input, weight, bias)`` logits, optionally in batch chunks.

PyTorch 2.13's ``F.linear_cross_entropy`` fuses a classifier head with its loss: the
reference path is ``cross_entropy(linear(input, W, b), target)``, and with
`LinearCrossEntropyOptions` the batch runs in chunks so the full ``(N, C)`` logits
never exist at once (useful for large vocabularies). Ours does the same: with
options, each chunk's logits are computed inside a rematerialised `jax.lax.map` step,
so neither the forward nor the backward pass holds more than one chunk's logits.
The numbers equal the reference path's to float round-off.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> x, w = jnp.ones((2, 3)), jnp.zeros((4, 3))
  >>> F.linear_cross_entropy(x, w, jnp.array([0, 3])).round(4).item()  # uniform over 4 classes
  1.3863
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_floating, check_int, check_probability, shape_of
from ._loss_common import _check_reduction, _is_concrete
from .loss_classification import _class_target, cross_entropy_impl

_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """How `linear_cross_entropy` chunks the batch; PyTorch's fields, checks and chunk-size rule.

    Attributes:
      allow_retain_graph: accepted for PyTorch compatibility; JAX gradients can
        always be taken again, so it has no effect.
      batch_chunk_size: rows per chunk (``None``: one chunk, unless
        ``chunking_method`` picks a size). Cannot disagree with ``chunking_method``.
      chunking_method: ``'auto'`` (``'aspect_ratio:2'``, PyTorch's pick off its
        CPU table), ``'aspect_ratio'`` or ``'aspect_ratio:N'`` (a chunk's logits
        about as large as the input, divided by ``N``), or ``None``.
      acc_policy: one of ``'auto'``, ``'accurate'``, ``'balanced'``, ``'compact'``;
        checked, otherwise no effect (XLA chooses its own accumulation).
      acc_dtype: dtype of the logits and their softmax (``None``: the input's, or
        float32 for float16/bfloat16 inputs), e.g. ``jnp.float32``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None).batch_chunk_size
      2
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        owner = "LinearCrossEntropyOptions"
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"{owner}: `acc_policy` must be one of {list(_POLICIES)}, got {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = str(self.chunking_method).partition(":")
            if not (name == "aspect_ratio" and (not sep or (factor.isdigit() and int(factor) > 0))):
                raise ValueError(
                    f"{owner}: `chunking_method` must be 'auto', 'aspect_ratio', 'aspect_ratio:N' (N >= 1) or None, "
                    f"got {self.chunking_method!r}"
                )
        size = self.batch_chunk_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError(f"{owner}: `batch_chunk_size` must be a positive int or None, got {size!r}")
        if self.acc_dtype is not None and not jnp.issubdtype(jnp.dtype(self.acc_dtype), jnp.floating):
            raise ValueError(f"{owner}: `acc_dtype` must be a floating dtype or None, got {self.acc_dtype!r}")

    def chunk_size(self, num_batches: int, in_features: int, num_classes: int) -> int:
        """Rows per chunk for these sizes, by PyTorch's rule.

        Args:
          num_batches: ``N``, the rows of the input.
          in_features: the input's last dimension.
          num_classes: ``C``.

        Returns:
          The chunk size, in ``[1, N]``.

        Raises:
          ValueError: if an explicit ``batch_chunk_size`` disagrees with ``chunking_method``.

        Examples:
          >>> from funcnn import nn
          >>> nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio").chunk_size(64, 8, 32)
          16
        """
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size, num_batches)
        if method is not None:
            factor = int(method.split(":", 1)[1]) if ":" in method else 1
            per_row = -(-num_classes // in_features)
            target = -(-num_batches // per_row)
            picked = min((1 << (target - 1).bit_length()) // factor, num_batches)
            if self.batch_chunk_size is not None and self.batch_chunk_size != picked:
                raise ValueError(
                    f"LinearCrossEntropyOptions: `batch_chunk_size` (={self.batch_chunk_size}) and `chunking_method` "
                    f"({method!r}) give different chunk sizes ({self.batch_chunk_size} vs {picked}); pass only one"
                )
            size = picked
        return max(1, size)


def _chunked(
    x: jax.Array,
    w: jax.Array,
    b: jax.Array | None,
    t: jax.Array,
    weight: jax.Array | None,
    ignore_index: int,
    reduction: str,
    chunk: int,
    acc: Any,
) -> jax.Array:
    """Index-target cross entropy of ``x @ w.T + b`` over ``chunk`` rows at a time."""
    N = x.shape[0]
    pad = (-N) % chunk
    xs = jnp.pad(x, ((0, pad), (0, 0))).reshape(-1, chunk, x.shape[1])
    ts = jnp.pad(t, (0, pad), constant_values=ignore_index).reshape(-1, chunk)

    @jax.checkpoint
    def one(args: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        xc, tc = args
        logits = jnp.matmul(xc, w.T, preferred_element_type=acc)
        if b is not None:
            logits = logits + b.astype(acc)[None, :]
        C = logits.shape[1]
        valid = (tc >= 0) & (tc < C)
        safe = jnp.where(valid, tc, 0)
        nll = jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, safe[:, None], axis=1)[:, 0]
        wt = jnp.ones_like(nll) if weight is None else weight.astype(acc)[safe]
        wt = jnp.where(tc == ignore_index, 0.0, jnp.where(valid, wt, jnp.nan))
        return jnp.where(tc == ignore_index, 0.0, wt * nll), wt

    loss, wt = jax.lax.map(one, (xs, ts))
    loss, wt = loss.reshape(-1)[:N].astype(x.dtype), wt.reshape(-1)[:N].astype(x.dtype)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / wt.sum()


def linear_cross_entropy_impl(
    owner: str,
    input: ArrayLike,
    linear_weight: ArrayLike,
    target: ArrayLike,
    linear_bias: ArrayLike | None,
    weight: ArrayLike | None,
    reduction: str,
    ignore_index: int | None,
    label_smoothing: float,
    options: LinearCrossEntropyOptions | None,
) -> jax.Array:
    _check_reduction(owner, reduction)
    if ignore_index is not None:
        check_int(owner, "ignore_index", ignore_index)
    check_probability(owner, "label_smoothing", label_smoothing)
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"{owner}: `options` must be a LinearCrossEntropyOptions or None, got {options!r}")
    check_floating(owner, input)
    x, w = jnp.asarray(input), jnp.asarray(linear_weight)
    if x.ndim not in (1, 2):
        raise ValueError(f"{owner}: expected input of shape (in_features,) or (N, in_features), got shape {x.shape}")
    if w.ndim < 2 or w.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"{owner}: expected `linear_weight` of shape (C, *out_features, {x.shape[-1]}) for input of shape "
            f"{x.shape}, got shape {w.shape}"
        )
    C, out_features, in_features = w.shape[0], w.shape[1:-1], w.shape[-1]
    if linear_bias is not None and shape_of(linear_bias) != (C, *out_features):
        raise ValueError(
            f"{owner}: expected `linear_bias` of shape {(C, *out_features)}, got shape {shape_of(linear_bias)}"
        )
    if out_features and x.ndim == 1:
        raise ValueError(
            f"{owner}: a K-dimensional loss (linear_weight of shape {w.shape}) needs batched input "
            f"(N, {in_features}), got shape {x.shape}; use `input[None]`"
        )
    logits_shape = (*x.shape[:-1], C, *out_features)
    probs = shape_of(target) == logits_shape
    if probs and ignore_index is not None:
        raise ValueError(
            f"{owner}: `ignore_index` cannot be given with class-probability targets (target of the logits' "
            f"shape {logits_shape}); leave it None"
        )
    index = -100 if ignore_index is None else int(ignore_index)
    eligible = not out_features and not probs and label_smoothing == 0.0
    if options is not None and eligible and jnp.issubdtype(jnp.result_type(target), jnp.integer):
        xb = x if x.ndim == 2 else x[None]
        wc = None if weight is None else jnp.asarray(weight)
        if wc is not None and wc.shape != (C,):
            raise ValueError(f"{owner}: expected `weight` of shape ({C},), one per class, got shape {wc.shape}")
        tb = target
        if x.ndim == 1 and shape_of(target) == ():
            tb = np.reshape(target, (1,)) if _is_concrete(target) else jnp.reshape(target, (1,))
        t = _class_target(owner, tb, jax.ShapeDtypeStruct((xb.shape[0], C), x.dtype), 1, index, probs=False)
        acc = options.acc_dtype or (jnp.float32 if x.dtype in (jnp.float16, jnp.bfloat16) else x.dtype)
        chunk = options.chunk_size(xb.shape[0], in_features, C)
        b = None if linear_bias is None else jnp.asarray(linear_bias)
        out = _chunked(xb, w, b, t, wc, index, reduction, chunk, acc)
        return out[0] if (x.ndim == 1 and reduction == "none") else out
    flat_w = w.reshape(math.prod(out_features, start=C), in_features)
    logits = x @ flat_w.T
    if linear_bias is not None:
        logits = logits + jnp.asarray(linear_bias).reshape((1,) * (logits.ndim - 1) + (-1,)).astype(logits.dtype)
    return cross_entropy_impl(owner, logits.reshape(logits_shape), target, weight, index, reduction, label_smoothing)


def linear_cross_entropy(
    input: ArrayLike,
    linear_weight: ArrayLike,
    target: ArrayLike,
    *,
    linear_bias: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: LinearCrossEntropyOptions | None = None,
) -> jax.Array:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target)``, optionally chunked over the batch.

    With ``linear_weight`` of shape ``(C, d1, ..., dK, in_features)`` the logits are
    ``(N, C, d1, ..., dK)``: a K-dimensional loss, as in PyTorch.

    Args:
      input: float array ``(N, in_features)`` or ``(in_features,)``.
      linear_weight: ``(C, in_features)`` or ``(C, d1, ..., dK, in_features)`` (the
        latter needs a batched input).
      target: integer class indices ``(N,)``, ``(N, d1, ..., dK)`` or ``()``, or float
        class probabilities of the logits' shape.
      linear_bias: optional ``(C, d1, ..., dK)``.
      weight: optional float ``(C,)``, a weight per class.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``, as `cross_entropy`.
      ignore_index: class index to skip; ``None`` means -100 for class indices and
        must stay ``None`` with probability targets.
      label_smoothing: in ``[0, 1]``.
      options: a `LinearCrossEntropyOptions` to compute in batch chunks; used for
        integer class indices without label smoothing or ``d1, ..., dK`` (otherwise
        the reference path runs, with the same numbers).

    Returns:
      ``(N,)``, ``(N, d1, ..., dK)`` or ``()`` for ``'none'``, else ``()``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> from funcnn import nn
      >>> x, w = jnp.eye(2), jnp.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
      >>> opts = nn.LinearCrossEntropyOptions(batch_chunk_size=1, chunking_method=None)
      >>> F.linear_cross_entropy(x, w, jnp.array([0, 2]), reduction="none", options=opts).round(4).tolist()
      [0.5514, 1.5514]
    """
    return linear_cross_entropy_impl(
        "linear_cross_entropy",
        input,
        linear_weight,
        target,
        linear_bias,
        weight,
        reduction,
        ignore_index,
        label_smoothing,
        options,
    )
