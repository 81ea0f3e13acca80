"""``pixel_shuffle`` and ``pixel_unshuffle``: channels to space and back, as ``torch.nn.functional``.

`pixel_shuffle` turns ``(*, C * r * r, H, W)`` into ``(*, C, H * r, W * r)``:
``out[..., c, h * r + i, w * r + j] = in[..., (c * r + i) * r + j, h, w]``;
`pixel_unshuffle` is its inverse. Both are a reshape, a transpose and a reshape.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.pixel_shuffle(jnp.arange(4.0).reshape(4, 1, 1), 2).tolist()
  [[[0.0, 1.0], [2.0, 3.0]]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_positive, shape_of


def _check_rank(owner: str, shape: tuple[int, ...]) -> None:
    if len(shape) < 3:
        raise ValueError(f"{owner}: expected an input with at least 3 dims (*, C, H, W), got shape {shape}")


def pixel_shuffle(input: ArrayLike, upscale_factor: int) -> jax.Array:
    """Rearrange ``(*, C * r * r, H, W)`` into ``(*, C, H * r, W * r)``, as ``torch.nn.functional.pixel_shuffle``.

    Args:
      input: ``(*, C * r * r, H, W)``, any dtype, any leading dims.
      upscale_factor: ``r``, a positive int.

    Returns:
      ``(*, C, H * r, W * r)``, same dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.pixel_shuffle(jnp.ones((2, 8, 3, 3)), 2).shape
      (2, 2, 6, 6)
    """
    owner = "pixel_shuffle"
    check_positive(owner, "upscale_factor", upscale_factor)
    shape = shape_of(input)
    _check_rank(owner, shape)
    r = int(upscale_factor)
    *lead, c, h, w = shape
    if c % (r * r):
        raise ValueError(
            f"{owner}: expected the channel dim (-3) to be divisible by upscale_factor ** 2 = {r * r}, got shape {shape}"
        )
    x = jnp.reshape(input, (*lead, c // (r * r), r, r, h, w))
    k = len(lead)
    x = jnp.transpose(x, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: ArrayLike, downscale_factor: int) -> jax.Array:
    """Rearrange ``(*, C, H * r, W * r)`` into ``(*, C * r * r, H, W)``, as ``torch.nn.functional.pixel_unshuffle``.

    Args:
      input: ``(*, C, H * r, W * r)``, any dtype, any leading dims.
      downscale_factor: ``r``, a positive int dividing both spatial sizes.

    Returns:
      ``(*, C * r * r, H, W)``, same dtype; ``pixel_shuffle`` undoes it.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.pixel_unshuffle(jnp.arange(4.0).reshape(1, 2, 2), 2)[:, 0, 0].tolist()
      [0.0, 1.0, 2.0, 3.0]
    """
    owner = "pixel_unshuffle"
    check_positive(owner, "downscale_factor", downscale_factor)
    shape = shape_of(input)
    _check_rank(owner, shape)
    r = int(downscale_factor)
    *lead, c, h, w = shape
    if h % r or w % r:
        raise ValueError(
            f"{owner}: expected both spatial dims (-2, -1) to be divisible by downscale_factor = {r}, got shape {shape}"
        )
    x = jnp.reshape(input, (*lead, c, h // r, r, w // r, r))
    k = len(lead)
    x = jnp.transpose(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(*lead, c * r * r, h // r, w // r)
