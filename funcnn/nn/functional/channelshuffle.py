"""``channel_shuffle``: interleave channel groups, as ``torch.nn.functional.channel_shuffle``.

``(N, C, *)`` is viewed as ``(N, g, C / g, *)``, the two channel axes are swapped and
the result flattened back: channel ``i * g + j`` of the output is channel
``j * (C / g) + i`` of the input (ShuffleNet's shuffle).

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.channel_shuffle(jnp.arange(6.0).reshape(1, 6, 1), 2)[0, :, 0].tolist()
  [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import shape_of
from ._spatial import _is_int


def channel_shuffle_impl(owner: str, input: ArrayLike, groups: int) -> jax.Array:
    """`channel_shuffle` with errors naming ``owner``."""
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"{owner}: `groups` must be a positive integer, got {groups!r}")
    shape = shape_of(input)
    if len(shape) < 3:
        raise ValueError(
            f"{owner}: expected an input with more than 2 dims (N, C, *), got shape {shape}; add a batch axis"
        )
    c = shape[1]
    if c % groups:
        raise ValueError(f"{owner}: the {c} channels (dim 1) of shape {shape} are not divisible by groups={groups}")
    x = jnp.reshape(input, (shape[0], int(groups), c // groups, *shape[2:]))
    return jnp.swapaxes(x, 1, 2).reshape(shape)


def channel_shuffle(input: ArrayLike, groups: int) -> jax.Array:
    """Interleave ``groups`` channel groups, as ``torch.nn.functional.channel_shuffle``.

    Args:
      input: ``(N, C, *)`` with at least 3 dims, any dtype; ``C`` divisible by ``groups``.
      groups: number of groups, a positive int.

    Returns:
      The same shape and dtype, channels permuted.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.channel_shuffle(jnp.arange(4.0).reshape(1, 4, 1, 1), 2).ravel().tolist()
      [0.0, 2.0, 1.0, 3.0]
    """
    return channel_shuffle_impl("channel_shuffle", input, groups)


def native_channel_shuffle(input: ArrayLike, groups: int) -> jax.Array:
    """`channel_shuffle` under the name of ``torch.nn.functional.native_channel_shuffle`` (same numbers).

    Args:
      input: ``(N, C, *)`` with at least 3 dims, any dtype; ``C`` divisible by ``groups``.
      groups: number of groups, a positive int.

    Returns:
      The same shape and dtype, channels permuted.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.native_channel_shuffle(jnp.arange(6.0).reshape(1, 6, 1), 3)[0, :, 0].tolist()
      [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
    """
    return channel_shuffle_impl("native_channel_shuffle", input, groups)
