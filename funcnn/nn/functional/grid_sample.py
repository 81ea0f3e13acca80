"""`grid_sample` and `affine_grid`: sampling an image at arbitrary (differentiable) points.

``grid_sample(input, grid)`` reads ``input (N, C, H, W)`` at the normalised points
``grid (N, H_out, W_out, 2)`` (``x`` then ``y``, in ``[-1, 1]``), and the 3-D form reads
``(N, C, D, H, W)`` at ``(N, D_out, H_out, W_out, 3)`` (``x, y, z``). PyTorch's rules
(``GridSampler.h``), reproduced here:

* Unnormalising: ``((g + 1) / 2) * (size - 1)`` with ``align_corners=True`` (-1 and 1
  are the corner pixels' centres), else ``((g + 1) * size - 1) / 2`` (their edges).
* Padding: ``'zeros'`` reads 0 outside; ``'border'`` clamps the coordinate into
  ``[0, size - 1]``; ``'reflection'`` mirrors it at the border (pixel centres with
  aligned corners, pixel edges otherwise), then clamps. A clamped coordinate passes no
  gradient to the grid, as in PyTorch.
* ``'bilinear'`` (trilinear in 3-D) weighs the 2 (or 2 x 2 x 2) neighbours;
  ``'nearest'`` rounds half to even; ``'bicubic'`` (4-D only) uses Keys' kernel with
  ``A = -0.75`` on the unnormalised coordinate and applies the padding to each of its
  16 taps.

Gradients flow to both ``input`` and ``grid`` by ordinary differentiation, and equal
PyTorch's hand-written backward.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> theta = jnp.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # identity
  >>> grid = F.affine_grid(theta, (1, 1, 2, 3), align_corners=False)
  >>> x = jnp.arange(6.0).reshape(1, 1, 2, 3)
  >>> F.grid_sample(x, grid, align_corners=False).tolist()
  [[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]]]
"""

from __future__ import annotations

import itertools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import check_choice, check_floating, shape_of

_A = -0.75  # PyTorch's bicubic constant


def _clip(x: jax.Array, size: int) -> jax.Array:
    # Written with `where`, not `clip`, so the boundary itself passes no gradient (as PyTorch).
    return jnp.where(x <= 0, jnp.zeros_like(x), jnp.where(x >= size - 1, jnp.full_like(x, size - 1), x))


def _reflect(x: jax.Array, twice_low: int, twice_high: int) -> jax.Array:
    if twice_low == twice_high:
        return jnp.zeros_like(x)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    x = jnp.where(x < low, low - x, x - low)
    extra = jnp.fmod(x, span)
    flips = jnp.floor(x / span)
    return jnp.where(jnp.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _pad_coordinate(x: jax.Array, size: int, padding_mode: str, align_corners: bool) -> jax.Array:
    if padding_mode == "border":
        x = _clip(x, size)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = _clip(x, size)
    # Non-finite and huge coordinates are sent far outside (-100), PyTorch's reference
    # (and CUDA) rule; PyTorch's vectorised CPU kernel instead lets NaN through.
    return jnp.where(jnp.isfinite(x) & (jnp.abs(x) < 2.0**31 - 2), x, jnp.full_like(x, -100.0))


def _unnormalize(g: jax.Array, size: int, align_corners: bool) -> jax.Array:
    return ((g + 1) / 2) * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def _gather(
    flat: jax.Array, spatial: Sequence[int], taps: Sequence[Sequence[jax.Array]]
) -> tuple[jax.Array, jax.Array]:
    """Values at integer points, one gather for all taps.

    ``taps[t]`` holds one ``(N, P)`` coordinate per spatial dim; returns values
    ``(T, N, C, P)`` and an in-bounds mask ``(T, N, 1, P)``.
    """
    n, p = taps[0][0].shape
    index = jnp.zeros((len(taps), n, p), jnp.int32)
    inside = jnp.ones((len(taps), n, p), bool)
    for d, size in enumerate(spatial):
        c = jnp.stack([tap[d] for tap in taps])
        inside = inside & (c >= 0) & (c <= size - 1)
        index = index * size + jnp.clip(c, 0, size - 1).astype(jnp.int32)
    index = jnp.moveaxis(index, 0, 1).reshape(n, 1, -1)  # (N, 1, T * P)
    values = jnp.take_along_axis(flat, index, axis=2).reshape(n, flat.shape[1], len(taps), p)
    return jnp.moveaxis(values, 2, 0), inside[:, :, None, :]


def _cubic_weights(t: jax.Array) -> list[jax.Array]:
    def near(x: jax.Array) -> jax.Array:
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x: jax.Array) -> jax.Array:
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(
    input: ArrayLike,
    grid: ArrayLike,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> jax.Array:
    """Sample ``input`` at the points of ``grid``, as ``torch.nn.functional.grid_sample``.

    Args:
      input: ``(N, C, H, W)`` or ``(N, C, D, H, W)`` floating array.
      grid: ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)``, coordinates
        ``(x, y[, z])`` normalised to ``[-1, 1]``.
      mode: ``'bilinear'``, ``'nearest'`` or ``'bicubic'`` (4-D only).
      padding_mode: ``'zeros'``, ``'border'`` or ``'reflection'``.
      align_corners: -1 and 1 are the corner pixels' centres (True) or edges (False;
        None means False, PyTorch's default, without its warning).

    Returns:
      ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(4.0).reshape(1, 1, 2, 2)
      >>> F.grid_sample(x, jnp.zeros((1, 1, 1, 2)), align_corners=True).tolist()  # the centre
      [[[[1.5]]]]
    """
    owner = "grid_sample"
    check_choice(owner, "mode", mode, ("bilinear", "nearest", "bicubic"))
    check_choice(owner, "padding_mode", padding_mode, ("zeros", "border", "reflection"))
    check_floating(owner, input)
    check_floating(owner, grid, "grid")
    xs, gs = shape_of(input), shape_of(grid)
    if len(xs) not in (4, 5):
        raise ValueError(f"{owner}: expected a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, got shape {xs}")
    dims = len(xs) - 2
    if len(gs) != len(xs) or gs[0] != xs[0] or gs[-1] != dims:
        raise ValueError(
            f"{owner}: expected grid of shape (N, *out, {dims}) = ({xs[0]}, {', '.join('*' * dims)}, {dims}) for an "
            f"input of shape {xs}, got {gs}"
        )
    if mode == "bicubic" and dims != 2:
        raise ValueError(
            f"{owner}: mode='bicubic' supports 4-D inputs only, got shape {xs}; use 'bilinear' or 'nearest'"
        )
    ac = bool(align_corners)
    x = jnp.asarray(input)
    g = jnp.asarray(grid, x.dtype)
    n, c, spatial, out = xs[0], xs[1], xs[2:], gs[1:-1]
    flat = x.reshape(n, c, -1)
    # Coordinate k of the grid indexes spatial dim dims-1-k (x is the width).
    raw = [_unnormalize(g[..., dims - 1 - d].reshape(n, -1), spatial[d], ac) for d in range(dims)]
    if mode == "bicubic":
        result = _bicubic(flat, spatial, raw, padding_mode, ac)
    else:
        src = [_pad_coordinate(r, size, padding_mode, ac) for r, size in zip(raw, spatial)]
        if mode == "nearest":
            values, inside = _gather(flat, spatial, [[jnp.round(v) for v in src]])
            result = jnp.where(inside[0], values[0], 0)
        else:
            lows = [jnp.floor(v) for v in src]
            corners = list(itertools.product((0, 1), repeat=dims))
            values, inside = _gather(flat, spatial, [[lo + b for lo, b in zip(lows, corner)] for corner in corners])
            result = None
            for k, corner in enumerate(corners):
                weight = None
                # PyTorch multiplies the x factor first, then y, then z.
                for d in reversed(range(dims)):
                    f = (lows[d] + 1 - src[d]) if corner[d] == 0 else (src[d] - lows[d])
                    weight = f if weight is None else weight * f
                term = values[k] * jnp.where(inside[k], weight[:, None, :], 0)
                result = term if result is None else result + term
    return result.reshape(n, c, *out)


def _bicubic(
    flat: jax.Array, spatial: Sequence[int], raw: Sequence[jax.Array], padding_mode: str, ac: bool
) -> jax.Array:
    (h, w), (iy, ix) = spatial, raw
    y0, x0 = jnp.floor(iy), jnp.floor(ix)
    wy, wx = _cubic_weights(iy - y0), _cubic_weights(ix - x0)
    rows = [_pad_coordinate(y0 - 1 + i, h, padding_mode, ac) for i in range(4)]
    cols = [_pad_coordinate(x0 - 1 + j, w, padding_mode, ac) for j in range(4)]
    values, inside = _gather(flat, spatial, [[jnp.trunc(r), jnp.trunc(c)] for r in rows for c in cols])
    values = jnp.where(inside, values, 0)
    result = None
    for i in range(4):
        row = None
        for j in range(4):
            term = values[4 * i + j] * wx[j][:, None, :]
            row = term if row is None else row + term
        term = row * wy[i][:, None, :]
        result = term if result is None else result + term
    return result


def _linspace(steps: int, align_corners: bool, dtype: type) -> np.ndarray:
    """PyTorch's ``linspace(-1, 1, steps)`` (scaled by ``(steps - 1) / steps`` unless aligned)."""
    if steps <= 1:
        return np.zeros((max(steps, 1),), dtype)
    step = (dtype(1) - dtype(-1)) / dtype(steps - 1)
    i = np.arange(steps)
    half = steps // 2
    r = np.where(i < half, dtype(-1) + step * i.astype(dtype), dtype(1) - step * (steps - 1 - i).astype(dtype)).astype(
        dtype
    )
    return r if align_corners else (r * dtype(steps - 1) / dtype(steps)).astype(dtype)


def affine_grid(theta: ArrayLike, size: Sequence[int], align_corners: bool | None = None) -> jax.Array:
    """Sampling grid of a batch of affine maps, as ``torch.nn.functional.affine_grid``.

    Args:
      theta: ``(N, 2, 3)`` for 2-D or ``(N, 3, 4)`` for 3-D maps, floating.
      size: the target ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
      align_corners: as in `grid_sample` (None means False); use the same value for both.

    Returns:
      ``(N, H, W, 2)`` or ``(N, D, H, W, 3)``: ``theta @ (x, y[, z], 1)`` at every output pixel.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.affine_grid(jnp.array([[[1.0, 0, 0], [0, 1, 0]]]), (1, 1, 1, 2), align_corners=True).tolist()
      [[[[-1.0, 0.0], [1.0, 0.0]]]]
    """
    owner = "affine_grid"
    dtype = jnp.result_type(theta)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{owner}: expected theta with a floating-point dtype, got {dtype}; use `theta.astype(jnp.float32)`"
        )
    size = tuple(int(s) for s in size)
    ts = shape_of(theta)
    if len(size) not in (4, 5):
        raise ValueError(f"{owner}: expected a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) size, got {size}")
    dims = len(size) - 2
    if ts != (size[0], dims, dims + 1):
        raise ValueError(
            f"{owner}: expected theta of shape (N, {dims}, {dims + 1}) = ({size[0]}, {dims}, {dims + 1}) for size "
            f"{size}, got {ts}"
        )
    if min(size) <= 0:
        raise ValueError(f"{owner}: expected a positive size, got {size}")
    ac = bool(align_corners)
    np_dtype = np.dtype(dtype).type if dtype == jnp.float64 else np.float32
    axes = [_linspace(s, ac, np_dtype) for s in reversed(size[2:])]  # x (width) first
    mesh = np.meshgrid(*axes, indexing="ij")  # indexed (x, y[, z])
    base = [np.transpose(m, tuple(reversed(range(dims)))) for m in mesh]  # each (*spatial)
    t = jnp.asarray(theta)
    out = []
    for i in range(dims):
        acc = t[:, i, dims].reshape((-1,) + (1,) * dims)
        terms = [jnp.asarray(b, dtype)[None] * t[:, i, j].reshape((-1,) + (1,) * dims) for j, b in enumerate(base)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        out.append(total + acc)
    return jnp.stack(out, axis=-1)
