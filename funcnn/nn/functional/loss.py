"""Loss functions with ``torch.nn.functional``'s names, arguments, reductions and numbers.

This file holds the regression losses (squared, absolute, smooth and Huber errors, and
the Poisson and Gaussian negative log likelihoods); the class-index losses are in
`loss_classification`, those of probability targets in `loss_probability`, the
margin and embedding losses in `loss_margin`, and CTC in `loss_ctc`. What follows
holds for all of them.

Every loss takes a floating ``input`` and a ``target`` and returns an array of the
input's dtype: a scalar for ``reduction='mean'`` or ``'sum'``, the per-element loss for
``reduction='none'``.

Differences from PyTorch, all on the side of strictness:

* PyTorch's deprecated ``size_average`` and ``reduce`` are not accepted, so every
  argument that PyTorch lists after them is keyword-only here (``weight`` stays third
  where PyTorch has it there): a positional call never silently means something else.
* Input and target of the elementwise losses must have the same shape (PyTorch
  broadcasts with a warning).
* Class indices (`cross_entropy`, `nll_loss`) outside ``[0, C)`` that are not
  ``ignore_index`` raise a `ValueError` when the target is a concrete array. Under
  ``jax.jit`` or ``jax.vmap`` the values cannot be inspected, so such an index instead
  makes its loss term NaN (and so a ``'mean'`` or ``'sum'`` loss, and its gradient):
  a training step that checks for non-finite losses stops there.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.mse_loss(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])).item()
  2.0
  >>> F.cross_entropy(jnp.zeros((2, 4)), jnp.array([0, 3])).item()  # log(4)
  1.386294...
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_beta, check_bool, check_delta, check_floating, check_number, shape_of
from ._loss_common import _abs, _check_reduction, _is_concrete, _pair, _reduce


# ---------------------------------------------------------------- elementwise losses
def _pointwise(
    owner: str,
    fn: Callable[[jax.Array], jax.Array],
    input: ArrayLike,
    target: ArrayLike,
    reduction: str,
    weight: ArrayLike | None,
    mean_over_weight: bool,
) -> jax.Array:
    _check_reduction(owner, reduction)
    x, t = _pair(owner, input, target)
    loss = fn(x - t)
    if weight is None:
        return _reduce(loss, reduction)
    if shape_of(weight) != x.shape:
        raise ValueError(
            f"{owner}: expected `weight` of the same shape as input {x.shape}, got shape {shape_of(weight)}"
        )
    w = jnp.asarray(weight).astype(x.dtype)
    loss = loss * w
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def _square(d: jax.Array) -> jax.Array:
    return d * d


def mse_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, reduction: str, weight: ArrayLike | None
) -> jax.Array:
    return _pointwise(owner, _square, input, target, reduction, weight, True)


def l1_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, reduction: str, weight: ArrayLike | None
) -> jax.Array:
    return _pointwise(owner, _abs, input, target, reduction, weight, True)


def mse_loss(
    input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", weight: ArrayLike | None = None
) -> jax.Array:
    """Squared error ``(input - target) ** 2``.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape (cast to the input's dtype).
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      weight: optional float array of the input's shape; with weights ``'mean'`` is
        ``sum(weight * loss) / sum(weight)``, as in PyTorch.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.mse_loss(jnp.array([0.0, 3.0]), jnp.array([1.0, 1.0]), reduction="none").tolist()
      [1.0, 4.0]
    """
    return mse_loss_impl("mse_loss", input, target, reduction, weight)


def l1_loss(
    input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", weight: ArrayLike | None = None
) -> jax.Array:
    """Absolute error ``|input - target|``; gradient ``sign(input - target)`` (0 at a tie).

    Args, returns and weighting as `mse_loss`.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.l1_loss(jnp.array([0.0, 3.0]), jnp.array([1.0, 1.0])).item()
      1.5
    """
    return l1_loss_impl("l1_loss", input, target, reduction, weight)


def smooth_l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean", beta: float = 1.0) -> jax.Array:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, for ``d = input - target``.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      beta: the switch point, ``>= 0``; ``beta=0`` is `l1_loss`, as in PyTorch.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.smooth_l1_loss(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none").tolist()
      [0.125, 2.5]
    """
    return smooth_l1_loss_impl("smooth_l1_loss", input, target, reduction, beta)


def smooth_l1_loss_impl(owner: str, input: ArrayLike, target: ArrayLike, reduction: str, beta: float) -> jax.Array:
    b = check_beta(owner, beta)
    if b == 0:
        return l1_loss_impl(owner, input, target, reduction, None)

    def fn(d: jax.Array) -> jax.Array:
        z = jnp.abs(d)
        return jnp.where(z < b, 0.5 * d * d / b, z - 0.5 * b)

    return _pointwise(owner, fn, input, target, reduction, None, True)


def huber_loss(
    input: ArrayLike,
    target: ArrayLike,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: ArrayLike | None = None,
) -> jax.Array:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, for ``d = input - target``.

    Arguments are positional in PyTorch's order.

    Args:
      input: float array of any shape ``(*)``.
      target: array of the same shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      delta: the switch point, ``> 0``.
      weight: optional float array of the input's shape; unlike `mse_loss`, PyTorch's
        weighted ``'mean'`` here is ``mean(weight * loss)``, and so is ours.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.huber_loss(jnp.array([0.5, 3.0]), jnp.zeros(2), reduction="none", delta=2.0).tolist()
      [0.125, 4.0]
    """
    return huber_loss_impl("huber_loss", input, target, reduction, delta, weight)


def huber_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, reduction: str, delta: float, weight: ArrayLike | None
) -> jax.Array:
    c = check_delta(owner, delta)

    def fn(d: jax.Array) -> jax.Array:
        z = jnp.abs(d)
        return jnp.where(z < c, 0.5 * d * d, c * (z - 0.5 * c))

    return _pointwise(owner, fn, input, target, reduction, weight, False)


# ------------------------------------------------------------------ likelihood losses
def poisson_nll_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, log_input: bool, full: bool, eps: float, reduction: str
) -> jax.Array:
    check_bool(owner, "log_input", log_input)
    check_bool(owner, "full", full)
    check_number(owner, "eps", eps)
    _check_reduction(owner, reduction)
    x, t = _pair(owner, input, target)
    loss = jnp.exp(x) - t * x if log_input else x - t * jnp.log(x + eps)
    if full:
        big = t > 1
        ts = jnp.where(big, t, 2.0)  # keeps the unused branch finite (and its gradient 0)
        stirling = ts * jnp.log(ts) - ts + 0.5 * jnp.log(2 * math.pi * ts)
        loss = loss + jnp.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> jax.Array:
    """Negative log likelihood of ``target ~ Poisson(rate)``, dropping the constant ``log(target!)``.

    ``exp(x) - t * x`` when ``log_input`` (``x`` is the log-rate), else ``x - t * log(x +
    eps)``. With ``full`` the Stirling term ``t * log(t) - t + 0.5 * log(2 * pi * t)`` is
    added where ``t > 1``.

    Args:
      input: float array ``x`` of any shape ``(*)``: log-rates, or rates when not ``log_input``.
      target: counts ``t`` of the same shape.
      log_input: whether ``input`` holds log-rates.
      full: add the Stirling approximation of ``log(t!)``.
      eps: keeps ``log`` finite at a rate of 0 (only when not ``log_input``).
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      Shape ``(*)`` for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.poisson_nll_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 2.0]), reduction="none").round(4).tolist()
      [1.0, 0.7183]
    """
    return poisson_nll_loss_impl("poisson_nll_loss", input, target, log_input, full, eps, reduction)


def _gaussian_var(owner: str, var: ArrayLike | float, x: jax.Array) -> jax.Array:
    """PyTorch's shape rules for ``var``: the input's shape, one dimension short, or one dimension of size 1."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{owner}: `var` must be non-negative, got {var!r}")
        return jnp.full(x.shape, var, x.dtype)
    check_floating(owner, var, "var")
    vshape = shape_of(var)
    v = jnp.asarray(var).astype(x.dtype)
    if vshape != x.shape:
        if vshape == x.shape[:-1]:
            v = v[..., None]
        elif not (len(vshape) == len(x.shape) and sum(b for a, b in zip(x.shape, vshape) if a != b) == 1):
            raise ValueError(
                f"{owner}: expected `var` of the input's shape {x.shape}, of {x.shape[:-1]} (one variance per "
                f"sample), or with exactly one dimension of size 1 in place of the input's; got shape {vshape}"
            )
    if _is_concrete(var):
        values = np.asarray(var)
        if (values < 0).any():
            raise ValueError(f"{owner}: `var` must be non-negative, got a value {float(values[values < 0].flat[0])}")
    return v


def gaussian_nll_loss_impl(
    owner: str, input: ArrayLike, target: ArrayLike, var: ArrayLike | float, full: bool, eps: float, reduction: str
) -> jax.Array:
    check_bool(owner, "full", full)
    check_number(owner, "eps", eps)
    x, t = _pair(owner, input, target)
    v = _gaussian_var(owner, var, x)
    _check_reduction(owner, reduction)
    # PyTorch clamps without recording the clamp: the gradient reaches `var` unchanged.
    v = v + jax.lax.stop_gradient(jnp.maximum(v, eps) - v)
    loss = 0.5 * (jnp.log(v) + (x - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    var: ArrayLike | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> jax.Array:
    """Negative log likelihood of ``target ~ Normal(input, var)``: ``0.5 * (log(var) + (x - t)**2 / var)``.

    Arguments are positional in PyTorch's order. ``var`` is clamped below at ``eps``
    for stability; as in PyTorch the clamp is invisible to the gradient.

    Args:
      input: float means ``x`` of any shape ``(N, *)``.
      target: array ``t`` of the same shape.
      var: non-negative variances: a float, or an array of the input's shape, of the
        input's shape without its last dimension (one variance per sample), or of the
        input's shape with one dimension of size 1 (shared along it).
      full: add the constant ``0.5 * log(2 * pi)``.
      eps: the lower clamp of ``var``.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
      The input's shape for ``'none'``, else ``()``; the input's dtype.

    Examples:
      >>> import funcnn.nn.functional as F
      >>> F.gaussian_nll_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 1.0]), jnp.array([1.0, 1.0]), reduction="none").tolist()
      [0.5, 0.0]
    """
    return gaussian_nll_loss_impl("gaussian_nll_loss", input, target, var, full, eps, reduction)
