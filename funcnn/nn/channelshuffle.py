"""`ChannelShuffle`: interleave channel groups (ShuffleNet), as ``torch.nn.ChannelShuffle``.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> shuffle = nn.ChannelShuffle(2)
  >>> shuffle
  ChannelShuffle(groups=2)
  >>> shuffle.apply({}, jnp.arange(4.0).reshape(1, 4, 1, 1)).ravel().tolist()
  [0.0, 2.0, 1.0, 3.0]
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from ._checks import check_positive
from .functional.channelshuffle import channel_shuffle_impl
from .module import Module, Params


class ChannelShuffle(Module):
    """Split the channels into ``groups`` and interleave them, as ``torch.nn.ChannelShuffle``.

    Args:
      groups: number of groups, a positive int dividing the channel count.

    Shapes: ``(N, C, *) -> (N, C, *)`` (at least 3 dims); output channel ``i * groups + j``
    is input channel ``j * (C / groups) + i``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.ChannelShuffle(3).apply({}, jnp.arange(6.0).reshape(1, 6, 1))[0, :, 0].tolist()
      [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
    """

    def __init__(self, groups: int) -> None:
        check_positive(type(self).__name__, "groups", groups)
        self.groups = groups

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return channel_shuffle_impl(repr(self), input, self.groups)
