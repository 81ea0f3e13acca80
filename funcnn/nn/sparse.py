"""`Embedding` and `EmbeddingBag`: lookup tables of ``num_embeddings`` rows of size ``embedding_dim``.

The weight starts as ``N(0, 1)`` with the ``padding_idx`` row (if any) zeroed, as in
PyTorch; that row then receives no gradient. Indices must be integers in
``[0, num_embeddings)``: an eager call raises on an out-of-range index, a compiled one
returns NaN rows for it (see `funcnn.nn.functional.embedding`). With ``max_norm`` the
looked-up rows are renormalised on every call and the weight is left unchanged,
where PyTorch rescales its stored rows in place (same outputs and gradients; see
`funcnn.nn.functional.sparse`).

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> emb = nn.Embedding(10, 3, padding_idx=0)
  >>> params = emb.init(jax.random.key(0))
  >>> params["weight"].shape, params["weight"][0].tolist()
  ((10, 3), [0.0, 0.0, 0.0])
  >>> emb.apply(params, jnp.array([[1, 2, 0], [4, 3, 9]])).shape
  (2, 3, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import init as init_
from ._checks import check_choice, check_positive
from .functional.sparse import BAG_MODES, check_max_norm, check_padding_idx, embedding_bag_impl, embedding_impl
from .module import Module, Params


class Embedding(Module):
    """Maps integer indices to rows of a learned table: ``y[..., :] = weight[x[...], :]``.

    Args:
      num_embeddings: number of rows.
      embedding_dim: size of each row.
      padding_idx: a row kept at zero at init that receives no gradient; negative
        values count from the end.
      max_norm: looked-up rows with a larger norm are scaled down to it; the weight
        itself is not changed (see the module notes).
      norm_type: the ``p`` of the norm for ``max_norm``.
      scale_grad_by_freq: divide each row's gradient by its index's count in the input.
      sparse: accepted for compatibility; JAX gradients are dense either way.
      dtype: weight dtype.

    Params: ``weight (num_embeddings, embedding_dim)``.

    Shapes: ``(*)`` integer indices ``-> (*, embedding_dim)``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("Embedding", "num_embeddings", num_embeddings)
        check_positive("Embedding", "embedding_dim", embedding_dim)
        check_max_norm("Embedding", max_norm, norm_type)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = check_padding_idx("Embedding", padding_idx, num_embeddings)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse, self.dtype = sparse, dtype

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s

    def init(self, key: jax.Array) -> Params:
        weight = init_.normal(key, (self.num_embeddings, self.embedding_dim), self.dtype)
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0)
        return {"weight": weight}

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return embedding_impl(
            repr(self),
            input,
            params["weight"],
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
        )


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embedding rows (`funcnn.nn.functional.embedding_bag`).

    Args:
      num_embeddings: number of rows.
      embedding_dim: size of each row.
      max_norm: looked-up rows with a larger norm are scaled down to it; the weight
        itself is not changed (see the module notes).
      norm_type: the ``p`` of the norm for ``max_norm``.
      scale_grad_by_freq: must be False (see `funcnn.nn.functional.embedding_bag`).
      mode: ``"sum"``, ``"mean"`` or ``"max"`` over each bag.
      sparse: accepted for compatibility; JAX gradients are dense either way.
      include_last_offset: ``offsets`` has one more entry, the end of the last bag
        (``len(input)``).
      padding_idx: an index left out of every bag; its row starts at zero.
      dtype: weight dtype.

    Params: ``weight (num_embeddings, embedding_dim)``, ``N(0, 1)`` as in PyTorch.

    ``apply(params, input, offsets=None, per_sample_weights=None)``: ``input`` ``(B, N)``
    (one bag per row) or ``(L,)`` with ``offsets`` ``(B,)`` (``(B + 1,)`` with
    ``include_last_offset``); ``per_sample_weights`` of ``input``'s shape scales each row
    (``mode="sum"`` only). Returns ``(B, embedding_dim)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
      >>> bag
      EmbeddingBag(10, 3, mode='sum')
      >>> params = bag.init(jax.random.key(0))
      >>> bag.apply(params, jnp.array([1, 2, 4, 5, 4]), jnp.array([0, 2])).shape
      (2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_positive("EmbeddingBag", "num_embeddings", num_embeddings)
        check_positive("EmbeddingBag", "embedding_dim", embedding_dim)
        check_max_norm("EmbeddingBag", max_norm, norm_type)
        check_choice("EmbeddingBag", "mode", mode, BAG_MODES)
        if scale_grad_by_freq:
            raise ValueError(
                "EmbeddingBag: scale_grad_by_freq=True is not supported (PyTorch's CPU gradients for it do not "
                "follow its documented rule); pass scale_grad_by_freq=False"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = check_padding_idx("EmbeddingBag", padding_idx, num_embeddings)
        self.dtype = dtype

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    def init(self, key: jax.Array) -> Params:
        return Embedding.init(self, key)  # type: ignore[arg-type]  # same table, same rule

    def forward(
        self,
        params: Params,
        input: ArrayLike,
        offsets: ArrayLike | None = None,
        per_sample_weights: ArrayLike | None = None,
        *,
        key: Any = None,
        train: bool = False,
    ) -> jax.Array:
        return embedding_bag_impl(
            repr(self),
            input,
            params["weight"],
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )
