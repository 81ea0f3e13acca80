"""Activation layers: parameter-free wrappers of `funcnn.nn.functional` activations.

Each layer takes PyTorch's constructor arguments (checked at construction), has
``params == {}``, maps an input of shape ``(*)`` to the same shape (`GLU` halves one
dimension), and prints as PyTorch's does. Where PyTorch's constructor takes
``inplace`` (``nn.ReLU(True)``, ``nn.LeakyReLU(0.2, inplace=True)``) ours does too,
so PyTorch model code pastes in; it has no effect, because JAX arrays are immutable:
every layer returns a new array and leaves its input as it was.

This file holds the layers PyTorch users meet first and those that work along a
dimension (softmax and friends); `activation_piecewise` and `activation_smooth` hold
the rest.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> act = nn.LeakyReLU(0.1, inplace=True)
  >>> act
  LeakyReLU(negative_slope=0.1, inplace=True)
  >>> act.apply({}, jnp.array([-1.0, 1.0])).tolist()
  [-0.10000000149011612, 1.0]
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import jax
from jax.typing import ArrayLike

from . import functional as F
from .module import Module, Params


def _number(owner: str, name: str, value: Any) -> Any:
    """``value`` unchanged if it is a real Python/NumPy number (not a bool), else TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: `{name}` must be a real number, got {value!r} of type {type(value).__name__}; "
            f"pass a Python float, e.g. {name}=0.5"
        )
    return value


def _int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: `{name}` must be an int, got {value!r} of type {type(value).__name__}")
    return int(value)


def _inplace(owner: str, value: Any) -> bool:
    """PyTorch's ``inplace`` flag: checked to be a bool, kept for ``repr``, otherwise ignored."""
    if not isinstance(value, bool):
        raise TypeError(
            f"{owner}: `inplace` must be a bool, got {value!r} of type {type(value).__name__}; "
            f"it is accepted for PyTorch compatibility and has no effect (JAX arrays are immutable)"
        )
    return value


def _inplace_repr(inplace: bool, lead: str = ", ") -> str:
    return f"{lead}inplace=True" if inplace else ""


class _Activation(Module):
    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return self._fn(input)

    def _fn(self, x: ArrayLike) -> jax.Array:  # pragma: no cover - overridden
        raise NotImplementedError


class ReLU(_Activation):
    """``max(x, 0)`` elementwise. ``inplace`` is accepted and ignored (see the module docstring)."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("ReLU", inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, "")

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.relu(x)


class LeakyReLU(_Activation):
    """``x if x > 0 else negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = _inplace("LeakyReLU", inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.leaky_relu(x, self.negative_slope)


class ELU(_Activation):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        self.alpha = _number("ELU", "alpha", alpha)
        self.inplace = _inplace("ELU", inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"

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

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("SiLU", inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, "")

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
        self.beta = _number("Softplus", "beta", beta)
        self.threshold = _number("Softplus", "threshold", threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.softplus(x, self.beta, self.threshold)


class Hardtanh(_Activation):
    """Clamp to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        _number("Hardtanh", "min_val", min_val)
        _number("Hardtanh", "max_val", max_val)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: `min_val` (={min_val}) must not exceed `max_val` (={max_val})")
        self.min_val, self.max_val = min_val, max_val
        self.inplace = _inplace("Hardtanh", inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"

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


def _dim_option(owner: str, dim: Any) -> int | None:
    return None if dim is None else _int(owner, "dim", dim)


class Softmax(_Activation):
    """Softmax over ``dim``: ``(*) -> (*)`` with entries along ``dim`` summing to 1."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = _dim_option("Softmax", dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("Softmax", jax.numpy.ndim(x))
        return F.softmax(x, dim)


class LogSoftmax(_Activation):
    """Log of softmax over ``dim``, computed stably."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = _dim_option("LogSoftmax", dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("LogSoftmax", jax.numpy.ndim(x))
        return F.log_softmax(x, dim)


class Softmin(_Activation):
    """Softmin over ``dim``, ``softmax(-x)``: ``(*) -> (*)``; ``dim=None`` follows PyTorch's legacy rule with a warning."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = _dim_option("Softmin", dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("Softmin", jax.numpy.ndim(x))
        return F.softmin(x, dim)


class Softmax2d(_Activation):
    """Softmax over the channels at every spatial location: ``(N, C, H, W)`` or ``(C, H, W)``, same shape out."""

    def _fn(self, x: ArrayLike) -> jax.Array:
        ndim = jax.numpy.ndim(x)
        if ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {jax.numpy.shape(x)}; "
                f"for other ranks use nn.Softmax(dim=...)"
            )
        return F.softmax(x, -3)


class GLU(_Activation):
    """Gated linear unit along ``dim``: ``(*1, 2M, *2) -> (*1, M, *2)``; see `funcnn.nn.functional.glu`."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = _int("GLU", "dim", dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.glu(x, self.dim)
