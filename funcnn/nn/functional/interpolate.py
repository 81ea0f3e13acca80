"""`interpolate` (resizing by nearest, linear, cubic, area or antialiased filters) and its deprecated aliases.

Inputs are ``(N, C, *spatial)`` with 1, 2 or 3 spatial dims. Every mode is separable,
so each spatial axis is resampled in turn: output sample ``i`` of an axis is
``sum_k weight[i, k] * input[index[i, k]]``, where the few ``(index, weight)`` taps are
computed on the host from the static sizes with PyTorch's own formulas and arithmetic
(see `_resample_taps`). The work on the device is a gather and a short weighted sum:
elementwise, so no matmul precision setting can change the numbers, and its gradient
is the matching scatter-add.

Which scale PyTorch uses, reproduced here: with ``scale_factor`` given and
``recompute_scale_factor`` not set, the source coordinate uses ``1 / scale_factor``
(not ``in_size / out_size``); with ``recompute_scale_factor=True``, or with ``size``,
it uses the sizes. The output size is ``floor(in_size * scale_factor)``.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> x = jnp.array([[[0.0, 1.0, 2.0]]])
  >>> F.interpolate(x, scale_factor=2).tolist()
  [[[0.0, 0.0, 1.0, 1.0, 2.0, 2.0]]]
  >>> F.interpolate(x, size=5, mode="linear", align_corners=True).tolist()
  [[[0.0, 0.5, 1.0, 1.5, 2.0]]]
"""

from __future__ import annotations

import numbers
import warnings
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import shape_of
from . import _resample_taps as taps

Size = int | Sequence[int] | None
Factor = float | Sequence[float] | None

# Spatial dims each mode supports (PyTorch's dispatch table).
MODE_DIMS = {
    "nearest": (1, 2, 3),
    "nearest-exact": (1, 2, 3),
    "area": (1, 2, 3),
    "linear": (1,),
    "bilinear": (2,),
    "bicubic": (2,),
    "trilinear": (3,),
    "lanczos": (2,),
}
ALIGNED_MODES = ("linear", "bilinear", "bicubic", "trilinear", "lanczos")


def _is_int(v: object) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def _per_dim(owner: str, name: str, value: object, shape: tuple[int, ...], dims: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(
                f"{owner}: expected `{name}` with one entry per spatial dimension ({dims} for an input of "
                f"shape {shape}), got {value!r}; pass {dims} values or a single number"
            )
        return list(value)
    return [value] * dims


def _plan(
    shape: tuple[int, ...], size: Size, scale_factor: Factor, recompute_scale_factor: bool | None, mode: str
) -> tuple[list[int], list[float | None]]:
    """Output sizes and the per-axis factors that reach the kernel (None: use the sizes)."""
    dims = len(shape) - 2
    owner = "interpolate"
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"{owner}: pass only one of `size` or `scale_factor`, got size={size!r} and scale_factor={scale_factor!r}"
        )
    if size is None and scale_factor is None:
        raise ValueError(f"{owner}: pass one of `size` or `scale_factor`, got neither")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                f"{owner}: recompute_scale_factor=True is not meaningful with an explicit size, got size={size!r}; "
                f"drop recompute_scale_factor or pass scale_factor instead"
            )
        out = _per_dim(owner, "size", size, shape, dims)
        if not all(_is_int(s) for s in out):
            raise TypeError(f"{owner}: expected `size` to be an int or a tuple of ints, got {size!r}")
        factors: list[float | None] = [None] * dims
    else:
        scales = _per_dim(owner, "scale_factor", scale_factor, shape, dims)
        if not all(isinstance(s, numbers.Real) and not isinstance(s, bool) for s in scales):
            raise TypeError(
                f"{owner}: expected `scale_factor` to be a number or a tuple of numbers, got {scale_factor!r}"
            )
        out = [int(n * float(s)) for n, s in zip(shape[2:], scales)]
        recompute = recompute_scale_factor or mode == "area"
        factors = [None if recompute else float(s) for s in scales]
    # Adaptive average pooling ('area') returns an empty array for a zero output size.
    empty_ok = mode == "area" and all(o >= 0 for o in out)
    if (any(o <= 0 for o in out) and not empty_ok) or any(n <= 0 for n in shape[2:]):
        raise ValueError(
            f"{owner}: input and output spatial sizes must be > 0, got input shape {shape} and output size "
            f"{tuple(int(o) for o in out)}; use a larger size or scale_factor"
        )
    return [int(o) for o in out], factors


def _axis_taps(
    mode: str, in_size: int, out_size: int, factor: float | None, align_corners: bool, antialias: bool, dtype: type
) -> taps.Taps:
    if mode in ("nearest", "nearest-exact"):
        return taps.nearest(in_size, out_size, factor, mode == "nearest-exact")
    if mode == "area":
        return taps.area(in_size, out_size)
    if antialias:
        return taps.antialias(mode, in_size, out_size, factor, align_corners, dtype)
    if mode == "bicubic":
        return taps.cubic(in_size, out_size, factor, align_corners, dtype)
    return taps.linear(in_size, out_size, factor, align_corners, dtype)


def _resample_axis(x: jax.Array, axis: int, index: np.ndarray, weight: np.ndarray) -> jax.Array:
    """``y[..., i, ...] = sum_k weight[i, k] * x[..., index[i, k], ...]`` along ``axis``."""
    out, k = index.shape
    if k == 1 and bool(np.all(weight == 1)):
        return jnp.take(x, jnp.asarray(index[:, 0]), axis=axis, mode="clip")
    gathered = jnp.take(x, jnp.asarray(index.reshape(-1)), axis=axis, mode="clip")
    gathered = gathered.reshape(x.shape[:axis] + (out, k) + x.shape[axis + 1 :])
    w = jnp.asarray(weight.reshape((1,) * axis + (out, k) + (1,) * (x.ndim - axis - 1)), x.dtype)
    return jnp.sum(gathered * w, axis=axis + 1)


def _resample_plan(
    shape: tuple[int, ...],
    dtype: object,
    size: Size,
    scale_factor: Factor,
    mode: str,
    align_corners: bool | None,
    recompute_scale_factor: bool | None,
    antialias: bool,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Validates `interpolate`'s arguments; returns ``(axis, index, weight)`` per spatial axis, last axis first."""
    owner = "interpolate"
    if mode not in MODE_DIMS:
        raise ValueError(f"{owner}: `mode` must be one of {list(MODE_DIMS)}, got {mode!r}")
    if mode in ALIGNED_MODES:
        align_corners = bool(align_corners)
    elif align_corners is not None:
        raise ValueError(
            f"{owner}: align_corners can only be set with the interpolating modes linear | bilinear | bicubic | "
            f"trilinear, got align_corners={align_corners!r} with mode={mode!r}; leave it None"
        )
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            f"{owner}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {shape}; "
            f"add a batch axis with `x[None]` for a single sample"
        )
    dims = len(shape) - 2
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and dims == 2):
        raise ValueError(
            f"{owner}: antialias=True needs mode 'bilinear', 'bicubic' or 'lanczos' and a 4-D input, got "
            f"mode={mode!r} and shape {shape}; pass antialias=False"
        )
    if dims not in MODE_DIMS[mode]:
        want = " or ".join(f"{d + 2}-D" for d in MODE_DIMS[mode])
        raise ValueError(
            f"{owner}: mode={mode!r} needs a {want} input, got shape {shape}; use "
            f"{['linear', 'bilinear', 'trilinear'][dims - 1]!r} or 'nearest' for {dims + 2}-D inputs"
        )
    if mode == "lanczos" and (align_corners or not antialias):
        raise ValueError(
            f"{owner}: mode='lanczos' needs antialias=True and align_corners=False, got antialias={antialias} and "
            f"align_corners={align_corners}"
        )
    out_sizes, factors = _plan(shape, size, scale_factor, recompute_scale_factor, mode)
    nearest = mode in ("nearest", "nearest-exact")
    if not nearest and not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{owner}: mode={mode!r} needs a floating-point input, got dtype {dtype}; convert it with "
            f"`x.astype(jnp.float32)` or use mode='nearest'"
        )
    compute = np.float64 if dtype == jnp.float64 else np.float32
    plan = []
    for d in reversed(range(dims)):
        index, weight = _axis_taps(
            mode, shape[2 + d], out_sizes[d], factors[d], bool(align_corners), antialias, compute
        )
        plan.append((2 + d, index, weight))
    return plan


def interpolate(
    input: ArrayLike,
    size: Size = None,
    scale_factor: Factor = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> jax.Array:
    """Resize the spatial dims, as ``torch.nn.functional.interpolate``.

    Args:
      input: ``(N, C, W)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``; floating, or any
        dtype for the nearest modes.
      size: output spatial size, an int or one per spatial dim.
      scale_factor: multiplier of the spatial size, a number or one per spatial dim;
        the output size is ``floor(in * scale_factor)``.
      mode: ``'nearest'`` (PyTorch's legacy floor rule), ``'nearest-exact'`` (pixel
        centres, as PIL), ``'linear'`` (3-D), ``'bilinear'`` / ``'bicubic'`` (4-D),
        ``'trilinear'`` (5-D), ``'area'`` (adaptive average pooling) or ``'lanczos'``
        (4-D, needs ``antialias=True``).
      align_corners: for the linear and cubic modes, map corner pixel centres onto each
        other (True) or pixel edges (False, the default); must stay None otherwise.
      recompute_scale_factor: use ``in / out`` from the computed output size instead of
        ``1 / scale_factor`` for the source coordinates.
      antialias: PIL-style filtering that widens the kernel when downsampling
        (``'bilinear'``, ``'bicubic'``, ``'lanczos'``; 4-D inputs only).

    Returns:
      ``(N, C, *size)``, the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.interpolate(jnp.ones((1, 3, 4, 6)), scale_factor=0.5, mode="bilinear").shape
      (1, 3, 2, 3)
      >>> F.interpolate(jnp.ones((2, 1, 3, 3, 3)), size=(4, 5, 6), mode="trilinear").shape
      (2, 1, 4, 5, 6)
    """
    x = jnp.asarray(input)
    plan = _resample_plan(
        shape_of(x), x.dtype, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
    )
    y = x if mode in ("nearest", "nearest-exact") else x.astype(jnp.float64 if x.dtype == jnp.float64 else jnp.float32)
    for axis, index, weight in plan:
        y = _resample_axis(y, axis, index, weight)
    return y.astype(x.dtype)


def upsample(
    input: ArrayLike,
    size: Size = None,
    scale_factor: Factor = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> jax.Array:
    """Deprecated alias of `interpolate` (warns, as ``torch.nn.functional.upsample``).

    Args:
      input: ``(N, C, *spatial)``.
      size: output spatial size.
      scale_factor: multiplier of the spatial size.
      mode: as in `interpolate`.
      align_corners: as in `interpolate`.

    Returns:
      ``(N, C, *size)``.

    Examples:
      >>> import warnings, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     F.upsample(jnp.ones((1, 1, 2)), scale_factor=2).shape
      (1, 1, 4)
    """
    warnings.warn(
        "funcnn.nn.functional.upsample is deprecated; use interpolate instead", DeprecationWarning, stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: ArrayLike, size: Size = None, scale_factor: Factor = None) -> jax.Array:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``.

    Args:
      input: ``(N, C, *spatial)``.
      size: output spatial size.
      scale_factor: multiplier of the spatial size.

    Returns:
      ``(N, C, *size)``.

    Examples:
      >>> import warnings, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     F.upsample_nearest(jnp.ones((1, 1, 2, 2)), size=3).shape
      (1, 1, 3, 3)
    """
    warnings.warn(
        "funcnn.nn.functional.upsample_nearest is deprecated; use interpolate instead", DeprecationWarning, stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: ArrayLike, size: Size = None, scale_factor: Factor = None) -> jax.Array:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``.

    Args:
      input: ``(N, C, H, W)``.
      size: output spatial size.
      scale_factor: multiplier of the spatial size.

    Returns:
      ``(N, C, *size)``.

    Examples:
      >>> import warnings, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     F.upsample_bilinear(jnp.ones((1, 1, 2, 2)), scale_factor=2).shape
      (1, 1, 4, 4)
    """
    warnings.warn(
        "funcnn.nn.functional.upsample_bilinear is deprecated; use interpolate instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
