"""Smooth activation layers: CELU, SELU, Mish, LogSigmoid, Softsign, Tanhshrink.

Each wraps the `funcnn.nn.functional` op of the same name, takes PyTorch's
constructor arguments (``inplace`` accepted and ignored: JAX arrays are immutable),
has ``params == {}``, maps ``(*)`` to ``(*)``, and prints as PyTorch's does.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> nn.CELU(alpha=2.0, inplace=True)
  CELU(alpha=2.0, inplace=True)
  >>> nn.Softsign().apply({}, jnp.array([1.0, -3.0])).tolist()
  [0.5, -0.75]
"""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from . import functional as F
from .activation import _Activation, _inplace, _inplace_repr, _number


class CELU(_Activation):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``, ``alpha != 0``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        _number("CELU", "alpha", alpha)
        if alpha == 0:
            raise ValueError("CELU: `alpha` must not be 0 (the input is divided by it); PyTorch's default is alpha=1.0")
        self.alpha = alpha
        self.inplace = _inplace("CELU", inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.celu(x, self.alpha)


class SELU(_Activation):
    """Self-normalising ELU with PyTorch's fixed ``alpha`` and ``scale``."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("SELU", inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, "")

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.selu(x)


class Mish(_Activation):
    """``x * tanh(softplus(x))``."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("Mish", inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, "")

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.mish(x)


class LogSigmoid(_Activation):
    """``log(sigmoid(x))``, computed stably."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.logsigmoid(x)


class Softsign(_Activation):
    """``x / (1 + |x|)``."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.softsign(x)


class Tanhshrink(_Activation):
    """``x - tanh(x)``."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.tanhshrink(x)
