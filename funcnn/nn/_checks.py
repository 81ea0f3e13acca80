"""Input checks shared by layers and functional ops.

Each check runs at trace time on static shapes and dtypes, so it costs nothing inside
a compiled step, and raises one message naming the owner, the expectation, what came,
and the fix.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x))


def check_floating(owner: str, x: Any, what: str = "input") -> None:
    """TypeError unless ``x`` has a floating dtype."""
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{owner}: expected a floating-point {what}, got dtype {dtype}; convert it with `x.astype(jnp.float32)`"
        )


def check_ndim(owner: str, x: Any, allowed: Sequence[int], layout: str = "") -> None:
    """ValueError unless ``x.ndim`` is one of ``allowed``."""
    ndim = len(shape_of(x))
    if ndim not in allowed:
        want = " or ".join(str(a) for a in allowed)
        hint = f" ({layout})" if layout else ""
        raise ValueError(f"{owner}: expected a {want}-D input{hint}, got shape {shape_of(x)}")


def check_dim(owner: str, x: Any, axis: int, size: int, what: str) -> None:
    """ValueError unless ``x.shape[axis] == size``."""
    shape = shape_of(x)
    if shape[axis] != size:
        raise ValueError(f"{owner}: expected input with {what} {size}, got shape {shape}")


def check_positive(owner: str, name: str, value: Any) -> None:
    """ValueError unless an integer constructor argument is > 0."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: `{name}` must be a positive integer, got {value!r}")


def check_probability(owner: str, name: str, value: Any) -> None:
    """ValueError unless ``0 <= value <= 1``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: `{name}` must be a probability in [0, 1], got {value!r}")


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> None:
    """ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{owner}: `{name}` must be one of {list(choices)}, got {value!r}")


# Options of the losses and their layers: what a reduction may be, and the type checks
# of scalar options (checked once, in the constructor of a layer or the functional op).
REDUCTIONS = ("none", "mean", "sum")


def check_int(owner: str, name: str, value: Any) -> None:
    """TypeError unless ``value`` is an int (not a bool)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be an int, got {value!r} of type {type(value).__name__}")


def check_number(owner: str, name: str, value: Any) -> None:
    """TypeError unless ``value`` is a Python or NumPy number (not a bool)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be a Python number, got {value!r} of type {type(value).__name__}")


def check_bool(owner: str, name: str, value: Any) -> bool:
    """``value`` as a bool; TypeError unless it is a Python or NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: `{name}` must be a bool, got {value!r} of type {type(value).__name__}")
    return bool(value)


def check_beta(owner: str, beta: Any) -> float:
    """``beta`` (of `smooth_l1_loss`) as a float; it must be a number >= 0."""
    check_number(owner, "beta", beta)
    if beta < 0:
        raise ValueError(f"{owner}: `beta` must be >= 0, got {beta!r}; use beta=0 for the L1 loss")
    return float(beta)


def check_delta(owner: str, delta: Any) -> float:
    """``delta`` (of `huber_loss`) as a float; it must be a number > 0."""
    check_number(owner, "delta", delta)
    if delta <= 0:
        raise ValueError(f"{owner}: `delta` must be > 0, got {delta!r}")
    return float(delta)
