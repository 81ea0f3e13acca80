"""`gumbel_softmax`: differentiable samples from a categorical distribution.

``y = softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g = -log(E)``,
``E ~ Exponential(1)`` drawn from an explicit key (PyTorch's recipe). With
``hard=True`` the forward value is the one-hot of ``argmax(y)`` while the gradient is
``y``'s (straight-through): ``y_hard - stop_gradient(y) + y``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> y = F.gumbel_softmax(jnp.zeros((2, 5)), hard=True, key=jax.random.key(0))
  >>> y.sum(-1).tolist()
  [1.0, 1.0]
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of


def _gumbel_softmax_from_noise(logits: jax.Array, gumbels: jax.Array, tau: float, hard: bool, dim: int) -> jax.Array:
    """PyTorch's formula given the Gumbel noise (tests feed PyTorch's own draws through it)."""
    y_soft = jax.nn.softmax((logits + gumbels) / tau, axis=dim)
    if not hard:
        return y_soft
    index = jnp.argmax(y_soft, axis=dim)
    y_hard = jax.nn.one_hot(index, y_soft.shape[dim], dtype=y_soft.dtype, axis=dim)
    return y_hard - lax.stop_gradient(y_soft) + y_soft


def gumbel_softmax(
    logits: ArrayLike,
    tau: float = 1.0,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
    *,
    key: jax.Array | None = None,
) -> jax.Array:
    """Gumbel-softmax samples, as ``torch.nn.functional.gumbel_softmax`` (noise from ``key``).

    Args:
      logits: ``(*, num_features)`` unnormalised log-probabilities (any axis via ``dim``).
      tau: temperature ``> 0``; small values give nearly one-hot samples.
      hard: return one-hot samples whose gradient is that of the soft sample.
      eps: deprecated and unused, as in PyTorch (a warning when changed).
      dim: the categories' axis.
      key: PRNG key (``jax.random.key(...)``); required, a new one for each sample.

    Returns:
      ``(*)``, the logits' shape: probabilities along ``dim`` (one-hot if ``hard``).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> y = F.gumbel_softmax(jnp.array([[1.0, 2.0, 3.0]]), tau=0.5, key=jax.random.key(1))
      >>> bool(jnp.allclose(y.sum(), 1.0))
      True
    """
    check_floating("gumbel_softmax", logits, "logits")
    if key is None:
        raise ValueError(
            "gumbel_softmax: sampling needs a PRNG key, got key=None; pass `key=jax.random.key(step)` "
            "(a new key for each sample)"
        )
    if not tau > 0:
        raise ValueError(f"gumbel_softmax: `tau` must be > 0, got {tau!r}")
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` is deprecated and has no effect", DeprecationWarning, stacklevel=2)
    x = jnp.asarray(logits)
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(
            f"gumbel_softmax: `dim` must be in [{-ndim}, {ndim - 1}] for logits of shape {shape_of(x)}, got dim={dim}"
        )
    gumbels = -jnp.log(jax.random.exponential(key, x.shape, x.dtype))
    return _gumbel_softmax_from_noise(x, gumbels, tau, hard, dim)
