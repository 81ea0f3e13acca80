"""Initializers with ``torch.nn.init``'s names and semantics, as pure functions.

Each initializer is ``(key, shape, dtype=float32, **options) -> jax.Array``: where
PyTorch fills a tensor in place (``kaiming_uniform_(w, a=...)``), funcnn returns a new
array (``kaiming_uniform(key, w_shape, a=...)``). Fans follow PyTorch: for a weight of
shape ``(out, in, *kernel)``, ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)``.

Random numbers are drawn on the host (see `funcnn._rng`): deterministic given the key,
identical eagerly and under ``jit``/``vmap``, and with no XLA compilation on a cold
start.

Examples:
  >>> import jax
  >>> from funcnn.nn import init
  >>> w = init.kaiming_uniform(jax.random.key(0), (10, 3), a=5 ** 0.5)
  >>> w.shape, bool(abs(w).max() <= 3 ** -0.5)
  ((10, 3), True)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _rng

Shape = Sequence[int]
DType = Any

__all__ = [
    "calculate_gain",
    "constant",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "ones",
    "orthogonal",
    "trunc_normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

_LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    Examples:
      >>> round(calculate_gain("relu"), 4)
      1.4142
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{list(_LINEAR_GAIN) + ['tanh', 'relu', 'leaky_relu', 'selu']}"
    )


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as PyTorch computes them (needs >= 2 dims).

    Examples:
      >>> fan_in_and_fan_out((16, 4, 3, 3))  # a Conv2d(4, 16, 3) weight
      (36, 144)
    """
    return _fans("fan_in_and_fan_out", shape)


def _fans(owner: str, shape: Shape) -> tuple[int, int]:
    shape = _tuple(shape)
    if len(shape) < 2:
        raise ValueError(
            f"{owner}: fan in and fan out need a weight with at least 2 dimensions, got shape {shape}; "
            f"use uniform/normal for 0- and 1-D arrays"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(owner: str, shape: Shape, mode: str) -> int:
    # PyTorch accepts the mode in any case ("FAN_IN" too).
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"{owner}: `mode` must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(owner, shape)
    return fan_in if mode.lower() == "fan_in" else fan_out


def _tuple(shape: Shape) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)


def _full(shape: Shape, val: float, dtype: DType) -> jax.Array:
    # Filled on the host and copied: an eager jnp.full would compile a program per shape.
    return jax.device_put(np.full(_tuple(shape), val, jax.dtypes.canonicalize_dtype(dtype)))


def constant(key: jax.Array | None, shape: Shape, dtype: DType = jnp.float32, *, val: float) -> jax.Array:
    """All entries ``val``; ``key`` is ignored (kept for a uniform signature).

    Examples:
      >>> constant(None, (2,), val=0.5).tolist()
      [0.5, 0.5]
    """
    return _full(shape, val, dtype)


def ones(key: jax.Array | None, shape: Shape, dtype: DType = jnp.float32) -> jax.Array:
    """All ones, of ``shape`` and ``dtype``; ``key`` is ignored.

    Examples:
      >>> ones(None, (2,)).tolist()
      [1.0, 1.0]
    """
    return _full(shape, 1, dtype)


def zeros(key: jax.Array | None, shape: Shape, dtype: DType = jnp.float32) -> jax.Array:
    """All zeros, of ``shape`` and ``dtype``; ``key`` is ignored.

    Examples:
      >>> zeros(None, (2,), jnp.bfloat16).dtype
      dtype(bfloat16)
    """
    return _full(shape, 0, dtype)


def uniform(key: jax.Array, shape: Shape, dtype: DType = jnp.float32, *, a: float = 0.0, b: float = 1.0) -> jax.Array:
    """``U(a, b)``, as ``torch.nn.init.uniform_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      a: the lower bound, ``a <= b``.
      b: the upper bound.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``a > b``.

    Examples:
      >>> w = uniform(jax.random.key(0), (2, 3), a=-1.0, b=1.0)
      >>> w.shape, w.dtype, bool((abs(w) <= 1).all())
      ((2, 3), dtype('float32'), True)
    """
    if a > b:
        raise ValueError(f"uniform: lower bound `a` (={a}) must not exceed upper bound `b` (={b})")
    shape = _tuple(shape)
    return _rng.draw(key, shape, dtype, lambda g: g.uniform(a, b, shape))


def normal(
    key: jax.Array, shape: Shape, dtype: DType = jnp.float32, *, mean: float = 0.0, std: float = 1.0
) -> jax.Array:
    """``N(mean, std**2)``, as ``torch.nn.init.normal_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      mean: the law's mean.
      std: the law's standard deviation (``std >= 0``).

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``std < 0``.

    Examples:
      >>> w = normal(jax.random.key(0), (1000,), std=0.1)
      >>> round(float(w.std()), 1)
      0.1
    """
    if std < 0:
        raise ValueError(f"normal: `std` must be non-negative, got {std}")
    shape = _tuple(shape)
    return _rng.draw(key, shape, dtype, lambda g: g.normal(mean, std, shape))


def trunc_normal(
    key: jax.Array,
    shape: Shape,
    dtype: DType = jnp.float32,
    *,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
) -> jax.Array:
    """``N(mean, std**2)`` truncated to the absolute interval ``[a, b]``, as ``torch.nn.init.trunc_normal_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      mean: the untruncated law's mean.
      std: the untruncated law's standard deviation.
      a: the lower cut-off value (absolute, not in stds), ``a < b``.
      b: the upper cut-off value (absolute, not in stds).

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``a >= b``.

    Examples:
      >>> w = trunc_normal(jax.random.key(0), (1000,), std=1.0, a=-0.5, b=0.5)
      >>> bool((abs(w) <= 0.5).all())
      True
    """
    if not a < b:
        raise ValueError(f"trunc_normal: need `a` < `b`, got a={a}, b={b}")
    shape = _tuple(shape)

    def sample(g: np.random.Generator) -> np.ndarray:
        out = g.normal(mean, std, shape)
        bad = (out < a) | (out > b)
        for _ in range(1000):  # rejection sampling; the acceptance rate is that of [a, b]
            if not bad.any():
                break
            out[bad] = g.normal(mean, std, int(bad.sum()))
            bad = (out < a) | (out > b)
        return np.clip(out, a, b)

    return _rng.draw(key, shape, dtype, sample)


def xavier_uniform(key: jax.Array, shape: Shape, dtype: DType = jnp.float32, *, gain: float = 1.0) -> jax.Array:
    """``U(-bound, bound)`` with ``bound = gain * sqrt(6 / (fan_in + fan_out))``, as ``torch.nn.init.xavier_uniform_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape, at least 2-D.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      gain: a scale, e.g. ``calculate_gain('tanh')``.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``shape`` has fewer than 2 dimensions.

    Examples:
      >>> w = xavier_uniform(jax.random.key(0), (4, 2))
      >>> bool((abs(w) <= 1).all())
      True
    """
    fan_in, fan_out = _fans("xavier_uniform", shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(key, shape, dtype, a=-bound, b=bound)


def xavier_normal(key: jax.Array, shape: Shape, dtype: DType = jnp.float32, *, gain: float = 1.0) -> jax.Array:
    """``N(0, std**2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``, as ``torch.nn.init.xavier_normal_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape, at least 2-D.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      gain: a scale, e.g. ``calculate_gain('tanh')``.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``shape`` has fewer than 2 dimensions.

    Examples:
      >>> w = xavier_normal(jax.random.key(0), (16, 8, 3, 3))
      >>> w.shape
      (16, 8, 3, 3)
    """
    fan_in, fan_out = _fans("xavier_normal", shape)
    return normal(key, shape, dtype, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform(
    key: jax.Array,
    shape: Shape,
    dtype: DType = jnp.float32,
    *,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
) -> jax.Array:
    """``U(-bound, bound)`` with ``bound = gain * sqrt(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``,
    as ``torch.nn.init.kaiming_uniform_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape, at least 2-D.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      a: the negative slope of the rectifier after this layer (``leaky_relu`` only).
      mode: ``'fan_in'`` (any case) keeps the forward pass's variance, ``'fan_out'`` the backward pass's.
      nonlinearity: a name accepted by `calculate_gain`.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: for a bad ``mode`` or ``nonlinearity``, or a shape with fewer than 2 dimensions.

    Examples:
      >>> w = kaiming_uniform(jax.random.key(0), (10, 6), nonlinearity='relu')
      >>> bool((abs(w) <= 1).all())
      True
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan("kaiming_uniform", shape, mode))
    bound = math.sqrt(3.0) * std
    return uniform(key, shape, dtype, a=-bound, b=bound)


def kaiming_normal(
    key: jax.Array,
    shape: Shape,
    dtype: DType = jnp.float32,
    *,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
) -> jax.Array:
    """``N(0, std**2)`` with ``std = gain / sqrt(fan)``, ``gain = calculate_gain(nonlinearity, a)``,
    as ``torch.nn.init.kaiming_normal_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape, at least 2-D.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      a: the negative slope of the rectifier after this layer (``leaky_relu`` only).
      mode: ``'fan_in'`` (any case) or ``'fan_out'``.
      nonlinearity: a name accepted by `calculate_gain`.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: for a bad ``mode`` or ``nonlinearity``, or a shape with fewer than 2 dimensions.

    Examples:
      >>> w = kaiming_normal(jax.random.key(0), (500, 200), mode='fan_out', nonlinearity='relu')
      >>> round(float(w.std()), 2)
      0.06
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan("kaiming_normal", shape, mode))
    return normal(key, shape, dtype, std=std)


def orthogonal(key: jax.Array, shape: Shape, dtype: DType = jnp.float32, *, gain: float = 1.0) -> jax.Array:
    """A (semi-)orthogonal matrix over ``(shape[0], prod(shape[1:]))``, scaled by ``gain``,
    as ``torch.nn.init.orthogonal_``.

    Args:
      key: a PRNG key, ``jax.random.key(seed)`` or a raw ``uint32[2]`` key.
      shape: the output shape, at least 2-D.
      dtype: a floating dtype (float64 needs ``jax_enable_x64``).
      gain: the scale of the orthogonal matrix.

    Returns:
      An array of ``shape`` and ``dtype``.

    Raises:
      ValueError: when ``shape`` has fewer than 2 dimensions.

    Examples:
      >>> w = orthogonal(jax.random.key(0), (3, 5))
      >>> bool(jnp.allclose(w @ w.T, jnp.eye(3), atol=1e-5))
      True
    """
    shape = _tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal: needs a shape with at least 2 dimensions, got {shape}")
    rows = shape[0]
    cols = math.prod(shape[1:])

    def sample(g: np.random.Generator) -> np.ndarray:
        flat = g.normal(0.0, 1.0, (rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (gain * q).reshape(shape)

    return _rng.draw(key, shape, dtype, sample)


def default_uniform(key: jax.Array, shape: Shape, fan_in: int, dtype: DType = jnp.float32) -> jax.Array:
    """PyTorch's default for Linear/Conv weights and biases: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    For weights this equals ``kaiming_uniform(a=sqrt(5))``; for biases it is the
    ``reset_parameters`` rule. ``fan_in == 0`` gives bound 0, as in PyTorch.
    """
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(key, shape, dtype, a=-bound, b=bound)
