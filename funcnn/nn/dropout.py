"""`Dropout`, `Dropout1d`/`2d`/`3d`, `AlphaDropout` and `FeatureAlphaDropout`: identity unless ``train=True``.

``p`` is the probability of *dropping*; survivors are scaled by ``1 / (1 - p)``. With
``train=True`` a layer samples its mask from the ``key`` it is given, so it needs one
(a missing key is an error that shows the call). Keys follow the documented rule:
containers hand child ``i`` the key ``fold_in(key, i)`` (every dropout layer draws its
own mask) and the stateful train step passes ``fold_in(run_key, step)`` (a new mask
every step). ``inplace`` is accepted for PyTorch compatibility and changes nothing.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> drop = nn.Dropout(0.5)
  >>> x = jnp.ones((2, 4))
  >>> bool((drop.apply({}, x) == x).all())  # eval mode: identity
  True
  >>> y = drop.apply({}, x, key=jax.random.key(0), train=True)
  >>> sorted(set(y.ravel().tolist()))
  [0.0, 2.0]
"""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from ._checks import check_probability, shape_of
from .functional.dropout import alpha_dropout_impl, dropout_impl, dropout_nd_impl
from .module import Module, Params, check_train_key


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        check_probability(type(self).__name__, "p", p)
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

    def forward(
        self, params: Params, input: ArrayLike, *, key: jax.Array | None = None, train: bool = False
    ) -> jax.Array:
        owner = repr(self)
        if 0 < self.p < 1:  # p=0 and p=1 sample nothing
            check_train_key(owner, key, train)
        return self._drop(owner, input, train, key)

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:  # pragma: no cover
        raise NotImplementedError


class Dropout(_DropoutNd):
    """Zeroes each entry with probability ``p`` when ``train=True``; scales the rest by ``1 / (1 - p)``.

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(*) -> (*)``.
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        return dropout_impl(owner, input, self.p, train, key)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels (``input[n, c, :]``) with probability ``p`` when ``train=True``.

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(N, C, L) -> (N, C, L)``, ``(C, L) -> (C, L)``.
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        return dropout_nd_impl(owner, input, self.p, train, key, (2, 3), "(C, L) or (N, C, L)")


class Dropout2d(_DropoutNd):
    """Zeroes whole channels (``input[n, c]``) with probability ``p`` when ``train=True``.

    As in PyTorch, a 3-D input is read as ``(N, C, L)``, not as an unbatched
    ``(C, H, W)``; give an unbatched image a batch axis (``x[None]``).

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``, ``(N, C, L) -> (N, C, L)``.
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        return dropout_nd_impl(owner, input, self.p, train, key, (3, 4), "(N, C, L) or (N, C, H, W)")


class Dropout3d(_DropoutNd):
    """Zeroes whole channels (``input[n, c]``) with probability ``p`` when ``train=True``.

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(N, C, D, H, W) -> (N, C, D, H, W)``, ``(C, D, H, W) -> (C, D, H, W)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Dropout3d(0.5).apply({}, jnp.ones((2, 3, 2, 2, 2)), key=jax.random.key(0), train=True).shape
      (2, 3, 2, 2, 2)
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        return dropout_nd_impl(owner, input, self.p, train, key, (4, 5), "(C, D, H, W) or (N, C, D, H, W)")


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks: keeps zero mean and unit variance (`funcnn.nn.functional.alpha_dropout`).

    Dropped entries become SELU's negative saturation, then an affine map restores the
    mean and variance. Identity unless ``train=True``.

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(*) -> (*)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.AlphaDropout(0.2)
      AlphaDropout(p=0.2, inplace=False)
      >>> nn.AlphaDropout(0.2).apply({}, jnp.ones(4), key=jax.random.key(0), train=True).shape
      (4,)
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        return alpha_dropout_impl(owner, input, self.p, train, key)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels: ``input[n, c]`` is dropped or kept as a whole.

    Args:
      p: drop probability in ``[0, 1]``.
      inplace: accepted for compatibility; no effect.

    Shapes: ``(N, C, *) -> (N, C, *)``, at least 2 dimensions.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.FeatureAlphaDropout(0.5).apply({}, jnp.ones((2, 3, 4)), key=jax.random.key(0), train=True).shape
      (2, 3, 4)
    """

    def _drop(self, owner: str, input: ArrayLike, train: bool, key: jax.Array | None) -> jax.Array:
        shape = shape_of(input)
        if len(shape) < 2:
            raise ValueError(
                f"{owner}: expected an input of shape (N, C, *) with at least 2 dimensions, got shape {shape}; "
                f"use AlphaDropout for 1-D inputs"
            )
        return alpha_dropout_impl(owner, input, self.p, train, key, shape[:2] + (1,) * (len(shape) - 2))
