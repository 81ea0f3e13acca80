"""What every loss shares: option checks, the input/target pairing, reductions.

Each check runs at trace time on static shapes and Python options, and raises one
message naming the owner (the function, or the configured loss's ``repr``), what
was expected, what came, and the fix.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import REDUCTIONS, check_choice, check_floating, shape_of


# --------------------------------------------------------------------------- checks
def _check_reduction(owner: str, reduction: Any, choices: tuple[str, ...] = REDUCTIONS) -> None:
    check_choice(owner, "reduction", reduction, choices)


def _is_concrete(x: Any) -> bool:
    """Whether the values of ``x`` can be read now (not a tracer under jit/grad/vmap)."""
    return not isinstance(x, jax.core.Tracer)


def _same_shape(owner: str, input: Any, target: Any) -> None:
    if shape_of(input) != shape_of(target):
        raise ValueError(
            f"{owner}: expected target of the same shape as input {shape_of(input)}, got target shape "
            f"{shape_of(target)}; reshape one of them, e.g. `target.reshape(input.shape)`"
        )


def _broadcast_weight(owner: str, name: str, value: ArrayLike, x: jax.Array) -> jax.Array:
    """``value`` in the input's dtype, broadcast to its shape (explicitly: no rank promotion)."""
    vshape = shape_of(value)
    try:
        ok = np.broadcast_shapes(vshape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{owner}: expected `{name}` broadcastable to the input shape {x.shape}, got shape {vshape}")
    return jnp.broadcast_to(jnp.asarray(value).astype(x.dtype), x.shape)


def _pair(owner: str, input: ArrayLike, target: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """Checked ``(input, target)`` of the same shape, the target cast to the input's dtype."""
    check_floating(owner, input)
    _same_shape(owner, input, target)
    x = jnp.asarray(input)
    return x, jnp.asarray(target).astype(x.dtype)


def _reduce(loss: jax.Array, reduction: str) -> jax.Array:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


@jax.custom_jvp
def _abs(d: jax.Array) -> jax.Array:
    """``|d|`` with gradient ``sign(d)`` (0 at 0, as PyTorch's l1_loss)."""
    return jnp.abs(d)


_abs.defjvps(lambda dd, y, d: jnp.sign(d) * dd)


def _check_same_shapes(owner: str, names: tuple[str, ...], arrays: tuple[Any, ...]) -> None:
    """ValueError unless every array has the first one's shape."""
    shapes = [shape_of(a) for a in arrays]
    if any(s != shapes[0] for s in shapes[1:]):
        got = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise ValueError(f"{owner}: expected {', '.join(names)} of one shape, got {got}; reshape them to match")
