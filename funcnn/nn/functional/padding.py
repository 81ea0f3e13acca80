"""``torch.nn.functional.pad``: constant, reflect, replicate and circular padding.

``pad`` lists ``(left, right)`` pairs starting from the last dim; negative amounts
crop. The non-constant modes read every output position from a static input index
(PyTorch's rules), gathered as runs of slices and reversed slices, so the gradient is
a sum of padded slices with no scatter.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.pad(jnp.arange(4.0).reshape(1, 4), (2, 1), mode="reflect").tolist()
  [[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import shape_of
from ._spatial import _is_int

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(mode: str, size: int, lo: int, hi: int) -> np.ndarray:
    """The input index each output position of a non-constant pad reads (PyTorch's rules)."""
    pos = np.arange(-lo, size + hi)
    if mode == "reflect":
        pos = np.abs(pos)
        return np.where(pos >= size, 2 * (size - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, size - 1)
    # circular: negative amounts crop first, then the kept part wraps around.
    start, kept = max(-lo, 0), size - max(-lo, 0) - max(-hi, 0)
    return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept


def _gather_runs(x: jax.Array, axis: int, index: np.ndarray) -> jax.Array:
    """``take(x, index, axis)`` for a static index, as slices: runs of +1 or -1 steps."""
    pieces, start = [], 0
    while start < len(index):
        end = start + 1
        step = int(index[end] - index[start]) if end < len(index) else 1
        if step not in (1, -1):
            step = 1
        while end < len(index) and index[end] - index[end - 1] == step:
            end += 1
        lo, hi = sorted((int(index[start]), int(index[end - 1])))
        piece = lax.slice_in_dim(x, lo, hi + 1, axis=axis)
        pieces.append(piece if step == 1 else lax.rev(piece, (axis,)))
        start = end
    return pieces[0] if len(pieces) == 1 else lax.concatenate(pieces, axis)


def pad(input: ArrayLike, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> jax.Array:
    """Pad the last ``len(pad) // 2`` dims, as ``torch.nn.functional.pad``.

    ``pad`` lists ``(left, right)`` pairs starting from the **last** dim:
    ``(left_W, right_W, top_H, bottom_H, ...)``. Negative amounts crop.

    Args:
      input: any array; for the non-constant modes ``(N, C, *spatial)`` or
        ``(C, *spatial)`` with 1 to 3 padded spatial dims.
      pad: even-length tuple of ints.
      mode: 'constant' (fill with ``value``), 'reflect' (mirror without repeating the
        edge; each pad smaller than the dim), 'replicate' (repeat the edge) or
        'circular' (wrap around; each pad at most the dim).
      value: fill value of 'constant' mode (default 0); other modes take none.

    Returns:
      The padded array, same dtype; each padded dim grows by its two amounts.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> x = jnp.arange(3.0).reshape(1, 1, 3)
      >>> F.pad(x, (1, 2)).tolist()
      [[[0.0, 0.0, 1.0, 2.0, 0.0, 0.0]]]
      >>> F.pad(x, (2, 2), mode="circular").tolist()
      [[[1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0]]]
      >>> F.pad(x, (1, 1), mode="replicate").tolist()
      [[[0.0, 0.0, 1.0, 2.0, 2.0]]]
    """
    return pad_impl("pad", input, pad, mode, value)


def pad_impl(owner: str, input: ArrayLike, pad: Sequence[int], mode: str, value: float | None) -> jax.Array:
    """The implementation of `pad`; every error names ``owner`` (a layer's repr)."""
    x = jnp.asarray(input)
    shape = shape_of(x)
    if not isinstance(pad, (tuple, list)) or not all(_is_int(p) for p in pad):
        raise TypeError(
            f"{owner}: `pad` must be a tuple of ints (left, right, ...) starting from the last dim, got {pad!r}"
        )
    if len(pad) % 2:
        raise ValueError(f"{owner}: `pad` must have an even length (pairs of left/right amounts), got {tuple(pad)}")
    m = len(pad) // 2
    if m > len(shape):
        raise ValueError(f"{owner}: `pad` {tuple(pad)} pads {m} dims but the input has shape {shape}")
    if mode not in _MODES:
        raise ValueError(f"{owner}: `mode` must be one of {list(_MODES)}, got {mode!r}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(m)]  # pairs[i] pads axis -1 - i
    if mode == "constant":
        config = [(0, 0, 0)] * (len(shape) - m) + [(lo, hi, 0) for lo, hi in reversed(pairs)]
        out = tuple(s + lo + hi for s, (lo, hi, _) in zip(shape, config))
        if any(o < 0 for o in out):
            raise ValueError(f"{owner}: negative padding {tuple(pad)} crops more than the input shape {shape} holds")
        return lax.pad(x, jnp.asarray(0 if value is None else value, x.dtype), config)
    if value is not None and value != 0:
        raise ValueError(
            f"{owner}: mode={mode!r} takes no fill `value`, got value={value!r}; drop it or use mode='constant'"
        )
    if not 1 <= m <= 3 or len(shape) not in (m + 1, m + 2):
        raise ValueError(
            f"{owner}: mode={mode!r} pads 1 to 3 trailing dims of a (N, C, *spatial) or (C, *spatial) input; "
            f"got `pad` of length {len(pad)} for input shape {shape}"
        )
    for i, (lo, hi) in enumerate(pairs):
        axis = len(shape) - 1 - i
        size = shape[axis]
        out, kept = size + lo + hi, size + min(lo, 0) + min(hi, 0)
        if size == 0 or out < 0 or (mode == "circular" and kept <= 0 < out):
            raise ValueError(f"{owner}: mode={mode!r} cannot pad dimension {axis} of input shape {shape} by {(lo, hi)}")
        if out == 0 and mode != "circular":
            raise ValueError(
                f"{owner}: mode={mode!r} would leave dimension {axis} of input shape {shape} empty (padded by "
                f"{(lo, hi)}); crop less"
            )
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ValueError(
                f"{owner}: mode='reflect' needs each pad smaller than the dim it pads, got {(lo, hi)} "
                f"for dimension {axis} of input shape {shape}"
            )
        if mode == "circular" and out > 0 and (lo > kept or hi > kept):
            raise ValueError(
                f"{owner}: mode='circular' wraps around at most once, so each pad must be at most the size of the "
                f"dim (after cropping); got {(lo, hi)} for dimension {axis} of input shape {shape}"
            )
    return _pad_compiled(x, tuple(pairs), mode)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _pad_compiled(x: jax.Array, pairs: tuple, mode: str) -> jax.Array:
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - 1 - i
        if x.shape[axis] + lo + hi == 0:  # circular cropping everything: torch returns an empty dim
            x = lax.slice_in_dim(x, 0, 0, axis=axis)
        else:
            x = _gather_runs(x, axis, _source_index(mode, x.shape[axis], lo, hi))
    return x
