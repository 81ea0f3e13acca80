"""`Linear` and `Identity`.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> layer = nn.Linear(3, 10)
  >>> params = layer.init(jax.random.key(0))
  >>> {k: v.shape for k, v in params.items()}
  {'weight': (10, 3), 'bias': (10,)}
  >>> layer.apply(params, jnp.ones((100, 3))).shape
  (100, 10)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import init as init_
from ._checks import check_positive
from .functional.linear import linear_impl
from .module import Module, Params


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last axis.

    Args:
      in_features: size of each input sample (> 0).
      out_features: size of each output sample (> 0).
      bias: whether to learn an additive bias.
      dtype: parameter dtype.

    Params: ``weight (out_features, in_features)`` and ``bias (out_features,)``, both
    ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` as in PyTorch.

    Shapes: ``(*, in_features) -> (*, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, dtype: Any = jnp.float32) -> None:
        check_positive("Linear", "in_features", in_features)
        check_positive("Linear", "out_features", out_features)
        self.in_features, self.out_features, self.bias, self.dtype = in_features, out_features, bias, dtype

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias}"

    def init(self, key: jax.Array) -> Params:
        kw, kb = _rng.split(key, 2)
        shape = (self.out_features, self.in_features)
        params = {"weight": init_.default_uniform(kw, shape, self.in_features, self.dtype)}
        if self.bias:
            params["bias"] = init_.default_uniform(kb, (self.out_features,), self.in_features, self.dtype)
        return params

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        owner = f"Linear(in_features={self.in_features}, out_features={self.out_features})"
        return linear_impl(owner, input, params["weight"], params.get("bias"), self.in_features)


class Identity(Module):
    """Returns its input unchanged. Shapes: ``(*) -> (*)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # PyTorch's Identity accepts and ignores any arguments; so does ours.
        del args, kwargs

    def forward(self, params: Params, input: Any, *, key: Any = None, train: bool = False) -> Any:
        return input
