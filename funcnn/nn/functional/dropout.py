"""Dropout with ``torch.nn.functional``'s names and semantics, sampling from an explicit key.

``p`` is the probability of *dropping* an entry (or a whole channel); survivors are
scaled by ``1 / (1 - p)`` so the expected value is unchanged. With ``training=False``
(or ``p=0``) the input comes back unchanged and no key is needed; ``p=1`` gives zeros.
With ``training=True`` the mask is ``jax.random.bernoulli(key, 1 - p, mask_shape)``:
the same key gives the same mask, so pass a new key every step. ``inplace`` is
accepted everywhere for PyTorch compatibility and changes nothing (arrays are
immutable). Masks come from JAX's generator, so they differ from PyTorch's for the
same seed; the formulas applied to a mask are PyTorch's exactly.

Alpha dropout (for SELU networks) sets dropped entries to SELU's negative saturation
``-alpha'`` (``alpha' = 1.7580993408473766``) instead of 0, then applies the affine map
``a * y + b`` with ``a = ((1 - p) * (1 + p * alpha'**2))**-0.5`` and ``b = a * alpha' * p``,
so that zero mean and unit variance are kept.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> y = F.dropout(jnp.ones(1000), 0.25, key=jax.random.key(0))
  >>> sorted(set(y.tolist()))
  [0.0, 1.3333333730697632]
  >>> F.dropout(jnp.ones(3), 0.25, training=False).tolist()
  [1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, check_probability, shape_of


def dropout_impl(
    owner: str,
    input: ArrayLike,
    p: float,
    training: bool,
    key: jax.Array | None,
    mask_shape: Sequence[int] | None = None,
) -> jax.Array:
    """Zero entries of ``input`` with probability ``p``; one draw per entry of ``mask_shape``.

    ``mask_shape`` (default: the input's shape) has the input's rank with size-1 axes
    where a draw is shared, e.g. ``(N, C, 1, 1)`` to drop whole channels.
    """
    check_probability(owner, "p", p)
    check_floating(owner, input)
    x = jnp.asarray(input)
    if not training or p == 0:
        return x
    if p == 1:
        return jnp.zeros_like(x)
    if key is None:
        raise ValueError(
            f"{owner}: training=True samples a dropout mask and needs a PRNG key, got key=None; "
            f"pass `key=jax.random.key(step)` (a new key each step), or training=False"
        )
    shape = x.shape if mask_shape is None else tuple(mask_shape)
    keep = jax.random.bernoulli(key, 1.0 - p, shape)
    scale = jnp.asarray(1.0 / (1.0 - p), x.dtype)
    return x * jnp.where(keep, scale, jnp.zeros((), x.dtype))


def dropout(
    input: ArrayLike, p: float = 0.5, training: bool = True, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Zero each entry independently with probability ``p``, scale the rest by ``1 / (1 - p)``.

    Args:
      input: ``(*)`` floating array.
      p: drop probability in ``[0, 1]``.
      training: apply dropout; when False the input is returned unchanged.
      inplace: accepted for PyTorch compatibility; JAX arrays are immutable, so no effect.
      key: PRNG key (``jax.random.key(...)``), needed when ``training`` and ``0 < p < 1``.

    Returns:
      ``(*)``, the input's shape and dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.dropout(jnp.ones((2, 3)), 0.5, key=jax.random.key(1)).shape
      (2, 3)
    """
    return dropout_impl("dropout", input, p, training, key)


def dropout_nd_impl(
    owner: str,
    input: ArrayLike,
    p: float,
    training: bool,
    key: jax.Array | None,
    ndims: tuple[int, int],
    layout: str,
    *,
    alpha: bool = False,
) -> jax.Array:
    """Channel-wise (alpha) dropout: one draw per ``(n, c)``, shared over the spatial axes."""
    check_probability(owner, "p", p)
    shape = shape_of(input)
    if len(shape) not in ndims:
        raise ValueError(f"{owner}: expected a {ndims[0]}-D or {ndims[1]}-D input {layout}, got shape {shape}")
    # As in PyTorch: (C, L) and (C, D, H, W) are unbatched; a 3-D input is (N, C, L) for 1d and 2d alike.
    lead = 1 if len(shape) == ndims[0] and ndims != (3, 4) else 2
    mask_shape = shape[:lead] + (1,) * (len(shape) - lead)
    if alpha:
        return alpha_dropout_impl(owner, input, p, training, key, mask_shape)
    return dropout_impl(owner, input, p, training, key, mask_shape)


def dropout1d(
    input: ArrayLike, p: float = 0.5, training: bool = True, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Zero whole channels (1-D feature maps) with probability ``p``, scale the rest by ``1 / (1 - p)``.

    Args:
      input: ``(N, C, L)`` or unbatched ``(C, L)`` floating array.
      p: drop probability in ``[0, 1]``.
      training: apply dropout; when False the input is returned unchanged.
      inplace: accepted for PyTorch compatibility; JAX arrays are immutable, so no effect.
      key: PRNG key, needed when ``training`` and ``0 < p < 1``.

    Returns:
      The input's shape and dtype; ``input[n, c, :]`` is either all dropped or all kept.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> y = F.dropout1d(jnp.ones((2, 8, 5)), 0.5, key=jax.random.key(0))
      >>> bool(((y == 0).all(-1) | (y == 2).all(-1)).all())
      True
    """
    return dropout_nd_impl("dropout1d", input, p, training, key, (2, 3), "(C, L) or (N, C, L)")


def dropout2d(
    input: ArrayLike, p: float = 0.5, training: bool = True, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Zero whole channels (2-D feature maps) with probability ``p``, scale the rest by ``1 / (1 - p)``.

    As in PyTorch, a 3-D input is read as ``(N, C, L)`` (channel-wise 1-D dropout), not as
    an unbatched ``(C, H, W)``; for an unbatched image use ``dropout2d(x[None], ...)[0]``.

    Args:
      input: ``(N, C, H, W)`` or ``(N, C, L)`` floating array.
      p: drop probability in ``[0, 1]``.
      training: apply dropout; when False the input is returned unchanged.
      inplace: accepted for PyTorch compatibility; JAX arrays are immutable, so no effect.
      key: PRNG key, needed when ``training`` and ``0 < p < 1``.

    Returns:
      The input's shape and dtype; ``input[n, c]`` is either all dropped or all kept.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.dropout2d(jnp.ones((2, 4, 3, 3)), 0.5, key=jax.random.key(0)).shape
      (2, 4, 3, 3)
    """
    return dropout_nd_impl("dropout2d", input, p, training, key, (3, 4), "(N, C, L) or (N, C, H, W)")


def dropout3d(
    input: ArrayLike, p: float = 0.5, training: bool = True, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Zero whole channels (3-D feature maps) with probability ``p``, scale the rest by ``1 / (1 - p)``.

    Args:
      input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` floating array.
      p: drop probability in ``[0, 1]``.
      training: apply dropout; when False the input is returned unchanged.
      inplace: accepted for PyTorch compatibility; no effect.
      key: PRNG key, needed when ``training`` and ``0 < p < 1``.

    Returns:
      The input's shape and dtype; ``input[n, c]`` is either all dropped or all kept.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> y = F.dropout3d(jnp.ones((2, 6, 2, 2, 2)), 0.5, key=jax.random.key(0))
      >>> bool(((y == 0).all((2, 3, 4)) | (y == 2).all((2, 3, 4))).all())
      True
    """
    return dropout_nd_impl("dropout3d", input, p, training, key, (4, 5), "(C, D, H, W) or (N, C, D, H, W)")


_SELU_SATURATION = 1.7580993408473766  # -SELU(-inf) = scale * alpha of SELU


def _alpha_dropout_apply(input: jax.Array, keep: jax.Array, p: float) -> jax.Array:
    """PyTorch's alpha-dropout formula given a keep mask (broadcast against ``input``)."""
    x = jnp.asarray(input)
    a = 1.0 / ((_SELU_SATURATION**2 * p + 1) * (1 - p)) ** 0.5
    noise = keep.astype(x.dtype)
    b = (noise - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    return x * (noise * jnp.asarray(a, x.dtype)) + b.astype(x.dtype)


def alpha_dropout_impl(
    owner: str,
    input: ArrayLike,
    p: float,
    training: bool,
    key: jax.Array | None,
    mask_shape: Sequence[int] | None = None,
) -> jax.Array:
    """Alpha dropout with one draw per entry of ``mask_shape`` (default: the input's shape)."""
    check_probability(owner, "p", p)
    check_floating(owner, input)
    x = jnp.asarray(input)
    if not training or p == 0:
        return x
    if p == 1:
        return jnp.zeros_like(x)  # PyTorch's value for p=1
    if key is None:
        raise ValueError(
            f"{owner}: training=True samples a dropout mask and needs a PRNG key, got key=None; "
            f"pass `key=jax.random.key(step)` (a new key each step), or training=False"
        )
    keep = jax.random.bernoulli(key, 1.0 - p, x.shape if mask_shape is None else tuple(mask_shape))
    return _alpha_dropout_apply(x, keep, p)


def alpha_dropout(
    input: ArrayLike, p: float = 0.5, training: bool = False, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Alpha dropout: keeps a SELU network's zero mean and unit variance (see the module notes).

    Args:
      input: ``(*)`` floating array.
      p: drop probability in ``[0, 1]``; ``p=1`` gives zeros, as in PyTorch.
      training: apply dropout (default False, as PyTorch's ``alpha_dropout``).
      inplace: accepted for PyTorch compatibility; no effect.
      key: PRNG key, needed when ``training`` and ``0 < p < 1``.

    Returns:
      The input's shape and dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> y = F.alpha_dropout(jax.random.normal(jax.random.key(1), (20000,)), 0.2, training=True, key=jax.random.key(0))
      >>> round(float(y.mean()), 1), round(float(y.std()), 1)
      (0.0, 1.0)
    """
    return alpha_dropout_impl("alpha_dropout", input, p, training, key)


def feature_alpha_dropout(
    input: ArrayLike, p: float = 0.5, training: bool = False, inplace: bool = False, *, key: jax.Array | None = None
) -> jax.Array:
    """Alpha dropout of whole channels: one draw per ``input[n, c]``, shared over the remaining axes.

    Args:
      input: ``(N, C, *)`` floating array with at least 2 dimensions.
      p: drop probability in ``[0, 1]``.
      training: apply dropout (default False, as PyTorch's ``feature_alpha_dropout``).
      inplace: accepted for PyTorch compatibility; no effect.
      key: PRNG key, needed when ``training`` and ``0 < p < 1``.

    Returns:
      The input's shape and dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> y = F.feature_alpha_dropout(jnp.zeros((2, 8, 3)), 0.5, training=True, key=jax.random.key(0))
      >>> bool((y == y[..., :1]).all())  # one value per channel
      True
    """
    owner = "feature_alpha_dropout"
    shape = shape_of(input)
    if len(shape) < 2:
        raise ValueError(
            f"{owner}: expected an input of shape (N, C, *) with at least 2 dimensions, got shape {shape}; "
            f"use alpha_dropout for 1-D inputs"
        )
    return alpha_dropout_impl(owner, input, p, training, key, shape[:2] + (1,) * (len(shape) - 2))
