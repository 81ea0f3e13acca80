"""Piecewise-linear activation layers: ReLU6, Threshold, the shrinks, the hard sigmoids, PReLU, RReLU.

Each wraps the `funcnn.nn.functional` op of the same name, takes PyTorch's
constructor arguments (``inplace`` accepted and ignored: JAX arrays are immutable)
and prints as PyTorch's does. `PReLU` learns its slopes (``params['weight']``);
`RReLU` samples its slopes when ``train=True`` and so needs a ``key`` then.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> act = nn.PReLU(num_parameters=2, init=0.1)
  >>> params = act.init(jax.random.key(0))
  >>> params["weight"].tolist()
  [0.10000000149011612, 0.10000000149011612]
  >>> act.apply(params, jnp.array([[-1.0, 2.0]])).tolist()
  [[-0.10000000149011612, 2.0]]
  >>> nn.RReLU().apply({}, jnp.array([-3.0]), key=jax.random.key(1), train=True).shape
  (1,)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import functional as F
from .activation import _Activation, _inplace, _inplace_repr, _int, _number
from .module import Module, Params, check_train_key


class ReLU6(_Activation):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("ReLU6", inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, "")

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.relu6(x)


class Threshold(_Activation):
    """``x if x > threshold else value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        self.threshold = _number("Threshold", "threshold", threshold)
        self.value = _number("Threshold", "value", value)
        self.inplace = _inplace("Threshold", inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace)}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.threshold(x, self.threshold, self.value)


class Hardshrink(_Activation):
    """``x if |x| > lambd else 0``."""

    def __init__(self, lambd: float = 0.5) -> None:
        self.lambd = _number("Hardshrink", "lambd", lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.hardshrink(x, self.lambd)


class Softshrink(_Activation):
    """Shrink towards 0 by ``lambd >= 0``, zero inside ``[-lambd, lambd]``."""

    def __init__(self, lambd: float = 0.5) -> None:
        _number("Softshrink", "lambd", lambd)
        if lambd < 0:
            raise ValueError(f"Softshrink: `lambd` must be >= 0, got {lambd!r}; it is the width shrunk off both sides")
        self.lambd = lambd

    def extra_repr(self) -> str:
        return f"{self.lambd}"

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.softshrink(x, self.lambd)


class Hardsigmoid(_Activation):
    """``min(max(x + 3, 0), 6) / 6``. (PyTorch prints no ``inplace`` here, and neither do we.)"""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("Hardsigmoid", inplace)

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.hardsigmoid(x)


class Hardswish(_Activation):
    """``x * hardsigmoid(x)``. (PyTorch prints no ``inplace`` here, and neither do we.)"""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = _inplace("Hardswish", inplace)

    def _fn(self, x: ArrayLike) -> jax.Array:
        return F.hardswish(x)


class PReLU(Module):
    """``x if x > 0 else weight * x`` with learned slopes.

    Args:
      num_parameters: 1 (one slope shared by all channels) or the number of channels
        ``C`` of the input's axis 1.
      init: the initial value of every slope.
      dtype: parameter dtype.

    Params: ``weight (num_parameters,)``, filled with ``init``, as PyTorch's.

    Shapes: ``(N, C, *) -> (N, C, *)`` (any shape when ``num_parameters == 1``).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *, dtype: Any = jnp.float32) -> None:
        n = _int("PReLU", "num_parameters", num_parameters)
        if n <= 0:
            raise ValueError(f"PReLU: `num_parameters` must be a positive integer (1 or the channel count), got {n}")
        self.num_parameters, self.init_value, self.dtype = n, _number("PReLU", "init", init), dtype

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

    def init(self, key: jax.Array) -> Params:
        del key
        return {"weight": jnp.full((self.num_parameters,), self.init_value, self.dtype)}

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        return F.prelu(input, params["weight"])


class RReLU(Module):
    """Randomized leaky ReLU: slope ``U(lower, upper)`` per element in training, ``(lower + upper) / 2`` in evaluation.

    ``apply(params, x, key=key, train=True)`` needs a ``key`` (a missing one is a
    clear error); evaluation is deterministic and equals PyTorch's exactly.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        self.lower = _number("RReLU", "lower", lower)
        self.upper = _number("RReLU", "upper", upper)
        if lower > upper:
            raise ValueError(
                f"RReLU: `lower` (={lower}) must not exceed `upper` (={upper}); they bound the random negative slope"
            )
        self.inplace = _inplace("RReLU", inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_repr(self.inplace)}"

    def forward(self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False) -> jax.Array:
        check_train_key(repr(self), key, train)
        return F.rrelu(input, self.lower, self.upper, training=train, key=key)
