"""Gradient clipping with ``torch.nn.utils.clip_grad_norm_``'s and ``clip_grad_value_``'s numbers.

`clip_grad_norm` and `clip_grad_value` are optax transformations: put them before
the optimizer, as the PyTorch loop calls ``clip_grad_norm_`` between ``backward()``
and ``optimizer.step()``::

    optimizer = optax.chain(nn.utils.clip_grad_norm(0.25), optax.sgd(20.0))

They are pure ``(init, update)`` pairs, so they compose with ``optax.chain``,
``optax.multi_transform`` (each group is clipped by its own norm, like calling
``clip_grad_norm_`` on that group's parameters) and ``optax.MultiSteps`` (the
accumulated gradient is clipped once per step), and ignore ``None`` leaves (frozen
parameters).

PyTorch's rule, kept exactly: the total norm is the ``norm_type``-norm of the
per-tensor ``norm_type``-norms, and every gradient is multiplied by
``min(max_norm / (total_norm + 1e-6), 1)``. The ``1e-6`` is what
``optax.clip_by_global_norm`` leaves out; without it a float64 run drifts away from
PyTorch's.

Examples:
  >>> import jax.numpy as jnp
  >>> import optax
  >>> from funcnn import nn
  >>> clip = nn.utils.clip_grad_norm(1.0)
  >>> grads = {"w": jnp.array([3.0, 4.0])}
  >>> clipped, state = clip.update(grads, clip.init(grads))
  >>> [round(float(v), 4) for v in clipped["w"]], float(state.total_norm)
  ([0.6, 0.8], 5.0)
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["ClipGradNormState", "clip_grad_norm", "clip_grad_value", "clip_grads_with_norm", "get_total_norm"]

# PyTorch adds this to the total norm before dividing (``clip_grads_with_norm_``).
_EPS = 1e-6


def _number(owner: str, name: str, value: Any) -> float:
    """``value`` as a float; TypeError unless it is a real number (or the string ``'inf'``)."""
    if isinstance(value, str) and value.lower() in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a real number (or 'inf'), got {value!r} ({type(value).__name__})")
    return float(value)


def _nonfinite_message(owner: str, norm_type: float, total: Any) -> str:
    return (
        f"{owner}: the total norm of order {norm_type} of the gradients is {total}, not finite, so it "
        f"cannot be clipped; find the non-finite gradient, or pass error_if_nonfinite=False to scale "
        f"by the non-finite norm anyway"
    )


def get_total_norm(tree: Any, norm_type: float | str = 2.0, error_if_nonfinite: bool = False) -> jax.Array:
    """The ``norm_type``-norm of the per-leaf ``norm_type``-norms, as ``torch.nn.utils.get_total_norm``.

    Args:
      tree: a pytree of arrays (gradients); ``None`` leaves are skipped.
      norm_type: the p of the p-norm: any real number, ``float('inf')`` or ``'inf'``.
      error_if_nonfinite: raise when the norm is NaN or infinite. Outside ``jit`` this
        is a ``ValueError``; inside it the check runs on the host and surfaces as
        ``jax.errors.JaxRuntimeError`` (a ``RuntimeError``, as in PyTorch) carrying
        the same message.

    Returns:
      A scalar in the leaves' (promoted) dtype; ``0.0`` for a tree without leaves.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> float(nn.utils.get_total_norm({"a": jnp.array([3.0]), "b": jnp.array([-4.0])}))
      5.0
      >>> float(nn.utils.get_total_norm([jnp.array([1.0, -7.0])], norm_type="inf"))
      7.0
    """
    p = _number("get_total_norm", "norm_type", norm_type)
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros((), jnp.float32)
    norms = jnp.stack([jnp.linalg.vector_norm(jnp.ravel(g), ord=p) for g in leaves])
    total = jnp.linalg.vector_norm(norms, ord=p)
    if error_if_nonfinite:
        _check_finite("get_total_norm", p, total)
    return total


def _check_finite(owner: str, p: float, total: jax.Array) -> None:
    def check(value: Any) -> None:
        if not np.isfinite(value):
            raise ValueError(_nonfinite_message(owner, p, value))

    if isinstance(total, jax.core.Tracer):
        jax.debug.callback(check, total)
    else:
        check(np.asarray(total))


def clip_grads_with_norm(tree: Any, max_norm: float, total_norm: jax.typing.ArrayLike) -> Any:
    """Scale every leaf by ``min(max_norm / (total_norm + 1e-6), 1)``, as ``torch.nn.utils.clip_grads_with_norm_``.

    Args:
      tree: a pytree of gradient arrays (``None`` leaves pass through).
      max_norm: the largest total norm allowed.
      total_norm: a scalar, usually from `get_total_norm`.

    Returns:
      The scaled tree; each leaf keeps its dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> g = nn.utils.clip_grads_with_norm({"g": jnp.array([2.0, 0.0])}, 1.0, 2.0)["g"]
      >>> g.tolist()  # 2 * 1 / (2 + 1e-6)
      [0.9999995231628418, 0.0]
    """
    max_norm = _number("clip_grads_with_norm", "max_norm", max_norm)
    coef = jnp.minimum(max_norm / (jnp.asarray(total_norm) + _EPS), 1.0)
    return jax.tree.map(lambda g: (g * coef).astype(g.dtype), tree)


class ClipGradNormState(NamedTuple):
    """State of `clip_grad_norm`: the total norm of the last update (what ``clip_grad_norm_`` returns)."""

    total_norm: jax.Array


def clip_grad_norm(
    max_norm: float, norm_type: float | str = 2.0, error_if_nonfinite: bool = False
) -> optax.GradientTransformation:
    """An optax transformation that clips the total gradient norm, as ``torch.nn.utils.clip_grad_norm_``.

    Args:
      max_norm: the largest total norm allowed.
      norm_type: the p of the p-norm (any real number, ``float('inf')`` or ``'inf'``).
      error_if_nonfinite: raise when the total norm is NaN or infinite (see
        `get_total_norm` for how it surfaces inside ``jit``).

    Returns:
      ``optax.GradientTransformation``; its state is a `ClipGradNormState` whose
      ``total_norm`` is the norm before clipping (in the gradients' dtype).

    Examples:
      >>> import jax.numpy as jnp
      >>> import optax
      >>> from funcnn import nn
      >>> opt = optax.chain(nn.utils.clip_grad_norm(0.5, norm_type=1), optax.sgd(1.0))
      >>> params = {"w": jnp.array([1.0, 1.0])}
      >>> updates, _ = opt.update({"w": jnp.array([1.0, -1.0])}, opt.init(params), params)
      >>> [round(float(u), 4) for u in updates["w"]]
      [-0.25, 0.25]
    """
    max_norm = _number("clip_grad_norm", "max_norm", max_norm)
    p = _number("clip_grad_norm", "norm_type", norm_type)

    def init(params: Any) -> ClipGradNormState:
        leaves = jax.tree.leaves(params)
        dtype = jnp.result_type(*leaves) if leaves else jnp.float32
        return ClipGradNormState(jnp.zeros((), dtype))

    def update(updates: Any, state: ClipGradNormState, params: Any = None) -> tuple[Any, ClipGradNormState]:
        del params
        total = get_total_norm(updates, p)
        if error_if_nonfinite:
            _check_finite("clip_grad_norm", p, total)
        return clip_grads_with_norm(updates, max_norm, total), ClipGradNormState(total.astype(state.total_norm.dtype))

    return optax.GradientTransformation(init, update)


def clip_grad_value(clip_value: float) -> optax.GradientTransformation:
    """An optax transformation that clamps every gradient entry to ``[-clip_value, clip_value]``, as ``clip_grad_value_``.

    Args:
      clip_value: the largest magnitude allowed (NaN entries stay NaN, as in PyTorch).

    Returns:
      ``optax.GradientTransformation`` without state.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> clip = nn.utils.clip_grad_value(0.5)
      >>> clip.update({"w": jnp.array([2.0, -0.1, -3.0])}, clip.init(None))[0]["w"].tolist()
      [0.5, -0.10000000149011612, -0.5]
    """
    c = _number("clip_grad_value", "clip_value", clip_value)

    def init(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: optax.EmptyState, params: Any = None) -> tuple[Any, optax.EmptyState]:
        del params
        return jax.tree.map(lambda g: jnp.clip(g, -c, c).astype(g.dtype), updates), state

    return optax.GradientTransformation(init, update)
