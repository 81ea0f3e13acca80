"""`Flatten` and `Unflatten`, reshaping layers without parameters.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> nn.Flatten().apply({}, jnp.zeros((2, 3, 4, 5))).shape
  (2, 60)
  >>> nn.Unflatten(1, (3, 20)).apply({}, jnp.zeros((2, 60))).shape
  (2, 3, 20)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._checks import shape_of
from .module import Module, Params


def _axis(owner: str, name: str, dim: int, ndim: int, shape: tuple[int, ...]) -> int:
    if not -ndim <= dim < ndim:
        raise ValueError(f"{owner}: `{name}` (={dim}) is out of range for an input of shape {shape}")
    return dim % ndim


class Flatten(Module):
    """Flattens dimensions ``start_dim..end_dim`` into one: ``(N, *dims) -> (N, prod(dims))`` by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        x = jnp.asarray(input)
        shape = shape_of(x)
        owner = repr(self)
        # As in PyTorch, a 0-D input counts as 1-D for the range of the dims.
        start = _axis(owner, "start_dim", self.start_dim, max(x.ndim, 1), shape)
        end = _axis(owner, "end_dim", self.end_dim, max(x.ndim, 1), shape)
        if x.ndim == 0:
            return x.reshape(1)
        if start > end:
            raise ValueError(f"{owner}: `start_dim` must not come after `end_dim` for an input of shape {shape}")
        return x.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


class Unflatten(Module):
    """Expands dimension ``dim`` into ``unflattened_size``: ``(*, S, *) -> (*, *unflattened_size, *)``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)
        if sum(1 for s in self.unflattened_size if s == -1) > 1:
            raise ValueError(f"{self!r}: `unflattened_size` may contain at most one -1")
        if -1 in self.unflattened_size and 0 in self.unflattened_size:
            raise ValueError(f"{self!r}: a -1 next to a size 0 is ambiguous; give every size explicitly")

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        x = jnp.asarray(input)
        shape = shape_of(x)
        d = _axis(repr(self), "dim", self.dim, x.ndim, shape)
        sizes = list(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and known and shape[d] % known == 0:
            sizes[sizes.index(-1)] = shape[d] // known
        if math.prod(sizes) != shape[d] or -1 in sizes:
            want = f"a size divisible by {known}" if -1 in self.unflattened_size else f"size {known}"
            raise ValueError(
                f"{self!r}: expected dimension {self.dim} with {want} to unflatten into "
                f"{self.unflattened_size}, got shape {shape}"
            )
        return x.reshape(*shape[:d], *sizes, *shape[d + 1 :])
