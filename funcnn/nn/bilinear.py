"""`Bilinear`: ``y = x1^T A x2 + b`` with PyTorch's parameters and initialisation.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> layer = nn.Bilinear(3, 4, 5)
  >>> params = layer.init(jax.random.key(0))
  >>> {k: v.shape for k, v in params.items()}
  {'weight': (5, 3, 4), 'bias': (5,)}
  >>> layer.apply(params, jnp.ones((2, 3)), jnp.ones((2, 4))).shape
  (2, 5)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import functional as F
from . import init as init_
from ._checks import check_positive, shape_of
from .module import Module, Params


class Bilinear(Module):
    """``y[..., o] = x1[..., :] @ weight[o] @ x2[..., :] + bias[o]`` (`F.bilinear`).

    Args:
      in1_features: size of each first input sample (> 0).
      in2_features: size of each second input sample (> 0).
      out_features: size of each output sample (> 0).
      bias: whether to learn an additive bias.
      dtype: parameter dtype.

    Params: ``weight (out_features, in1_features, in2_features)`` and
    ``bias (out_features,)``, both ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))`` as
    in PyTorch.

    Shapes: ``(*, in1_features)`` and ``(*, in2_features) -> (*, out_features)``.
    """

    def __init__(
        self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, *, dtype: Any = jnp.float32
    ) -> None:
        for name, value in (
            ("in1_features", in1_features),
            ("in2_features", in2_features),
            ("out_features", out_features),
        ):
            check_positive("Bilinear", name, value)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.bias, self.dtype = bias, dtype

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias}"
        )

    def init(self, key: jax.Array) -> Params:
        kw, kb = _rng.split(key, 2)
        shape = (self.out_features, self.in1_features, self.in2_features)
        params = {"weight": init_.default_uniform(kw, shape, self.in1_features, self.dtype)}
        if self.bias:
            params["bias"] = init_.default_uniform(kb, (self.out_features,), self.in1_features, self.dtype)
        return params

    def forward(
        self, params: Params, input1: ArrayLike, input2: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array:
        s1, s2 = shape_of(input1), shape_of(input2)
        if not s1 or not s2 or s1[-1] != self.in1_features or s2[-1] != self.in2_features:
            raise ValueError(
                f"{self!r}: expected inputs with last dimensions {self.in1_features} and {self.in2_features}, "
                f"got shapes {s1} and {s2}"
            )
        return F.bilinear(input1, input2, params["weight"], params.get("bias"))
