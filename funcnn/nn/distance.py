"""`CosineSimilarity` and `PairwiseDistance`: two-input layers without parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> nn.CosineSimilarity(dim=1).apply({}, jnp.ones((2, 3)), jnp.ones((2, 3))).tolist()
  [1.0, 1.0]
  >>> nn.PairwiseDistance(eps=0.0).apply({}, jnp.zeros((1, 2)), jnp.array([[3.0, 4.0]])).tolist()
  [5.0]
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from . import functional as F
from .module import Module, Params


class CosineSimilarity(Module):
    """Cosine similarity of ``x1`` and ``x2`` along ``dim`` (`F.cosine_similarity`).

    Args:
      dim: the axis of the vectors.
      eps: lower bound of each vector's norm.

    Shapes: ``x1 (*1, D, *2)``, ``x2`` broadcastable with it ``-> (*1, *2)``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        self.dim, self.eps = dim, eps

    def forward(
        self, params: Params, x1: ArrayLike, x2: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last dim (`F.pairwise_distance`).

    Args:
      p: the norm's exponent (stored as ``norm``, as in PyTorch).
      eps: added to the difference.
      keepdim: keep the reduced dim.

    Shapes: ``(*, D)`` and ``(*, D) -> (*)`` (``(*, 1)`` with ``keepdim``).
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(
        self, params: Params, x1: ArrayLike, x2: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
