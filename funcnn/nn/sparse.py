"""`Embedding`: a lookup table of ``num_embeddings`` rows of size ``embedding_dim``.

The weight starts as ``N(0, 1)`` with the ``padding_idx`` row (if any) zeroed, as in
PyTorch; that row then receives no gradient. Indices must be integers in
``[0, num_embeddings)``: an eager call raises on an out-of-range index, a compiled one
returns NaN rows for it (see `funcnn.nn.functional.embedding`).

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
from ._checks import check_positive
from .functional.sparse import _check_padding_idx, _check_unsupported, _embedding
from .module import Module, Params


class Embedding(Module):
    """Maps integer indices to rows of a learned table: ``y[..., :] = weight[x[...], :]``.

    Args:
      num_embeddings: number of rows.
      embedding_dim: size of each row.
      padding_idx: a row kept at zero at init that receives no gradient; negative
        values count from the end.
      max_norm: must be None (PyTorch renormalises rows in place; not supported).
      norm_type: the norm for ``max_norm``; unused.
      scale_grad_by_freq: must be False (not supported).
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
        _check_unsupported("Embedding", max_norm, scale_grad_by_freq)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _check_padding_idx("Embedding", padding_idx, num_embeddings)
        self.norm_type, self.sparse, self.dtype = norm_type, sparse, dtype

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.sparse:
            s += ", sparse=True"
        return s

    def init(self, key: jax.Array) -> Params:
        weight = init_.normal(key, (self.num_embeddings, self.embedding_dim), self.dtype)
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0)
        return {"weight": weight}

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return _embedding(repr(self), input, params["weight"], self.padding_idx)
