"""Activation layers: parameter-free wrappers of `funcnn.nn.functional` activations.

Each layer takes PyTorch's constructor arguments, has ``params == {}``, and maps an
input of shape ``(*)`` to the same shape.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> act = nn.LeakyReLU(0.1)
  >>> act.apply({}, jnp.array([-1.0, 1.0])).tolist()
  [-0.10000000149011612, 1.0]
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
from jax.typing import ArrayLike

from . import functional as F
from .module import Module, Params


class _Activation(Module):
    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return self._fn(input)

    def _fn(self, x: ArrayLike) -> jax.Array:  # pragma: no cover - overridden
        raise NotImplementedError


class ReLU(_Activation):
    """``max(x, 0)`` elementwise."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.relu(x)


class LeakyReLU(_Activation):
    """``x if x > 0 else negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.leaky_relu(x, self.negative_slope)


class ELU(_Activation):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.elu(x, self.alpha)


class GELU(_Activation):
    """Gaussian error linear unit, exact (``'none'``) or ``'tanh'`` approximation."""

    def __init__(self, approximate: str = "none") -> None:
        F.gelu(0.0, approximate)  # validates `approximate` eagerly
        self.approximate = approximate

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.gelu(x, self.approximate)


class SiLU(_Activation):
    """``x * sigmoid(x)``."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.silu(x)


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.sigmoid(x)


class Tanh(_Activation):
    """Hyperbolic tangent."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.tanh(x)


class Softplus(_Activation):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta, self.threshold = beta, threshold

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.softplus(x, self.beta, self.threshold)


class Hardtanh(_Activation):
    """Clamp to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        if min_val > max_val:
            raise ValueError(f"Hardtanh: `min_val` (={min_val}) must not exceed `max_val` (={max_val})")
        self.min_val, self.max_val = min_val, max_val

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.hardtanh(x, self.min_val, self.max_val)


def _legacy_softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"{name}(dim=None) picks the dimension from the input's rank as PyTorch's legacy rule "
        f"does (0 for 0-, 1- and 3-D inputs, else 1); pass `dim` explicitly",
        UserWarning,
        stacklevel=4,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(_Activation):
    """Softmax over ``dim``: ``(*) -> (*)`` with entries along ``dim`` summing to 1."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("Softmax", jax.numpy.ndim(x))
        return F.softmax(x, dim)


class LogSoftmax(_Activation):
    """Log of softmax over ``dim``, computed stably."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("LogSoftmax", jax.numpy.ndim(x))
        return F.log_softmax(x, dim)
