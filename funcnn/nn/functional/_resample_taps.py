"""Per-axis source taps of `interpolate`: which input samples feed each output sample.

Every mode of ``torch.nn.functional.interpolate`` is separable: along one spatial axis,
output sample ``i`` is ``sum_k weight[i, k] * input[index[i, k]]``. These helpers build
``(index, weight)`` as NumPy arrays from the static sizes, at trace time, with PyTorch's
CPU formulas evaluated in its arithmetic (``opmath``: float32 for float32 and narrower
inputs, float64 for float64), so indices and weights are PyTorch's bit for bit.

* ``scale`` is ``1 / scale_factor`` when the user's factor reaches the kernel
  (``recompute_scale_factor`` not set), otherwise ``in_size / out_size``;
  ``align_corners=True`` uses ``(in - 1) / (out - 1)``.
* The source coordinate of output ``i`` is ``scale * (i + 0.5) - 0.5`` (clamped at 0
  except for cubic), or ``scale * i`` with aligned corners.
* Bicubic uses Keys' kernel with ``A = -0.75`` and clamps its four taps to the border.
* Antialiased bilinear/bicubic (PIL's algorithm) stretch the kernel by the scale when
  downsampling (cubic with ``A = -0.5`` there) and normalise the weights to sum 1.
* Linear and antialiased modes copy an axis whose size does not change; nearest and
  bicubic apply the factor even then (PyTorch's kernels differ on this).
* ``area`` is adaptive average pooling: bins ``[floor(i*in/out), ceil((i+1)*in/out))``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

Taps = tuple[np.ndarray, np.ndarray]


def _scale(dtype: type, in_size: int, out_size: int, align_corners: bool, factor: float | None) -> np.floating:
    """PyTorch's ``area_pixel_compute_scale``."""
    if align_corners:
        return dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
    return _scales_value(dtype, in_size, out_size, factor)


def _scales_value(dtype: type, in_size: int, out_size: int, factor: float | None) -> np.floating:
    """PyTorch's ``compute_scales_value``: ``1 / factor`` when given, else ``in / out``."""
    if factor is not None and factor > 0:
        return dtype(1.0 / factor)
    return dtype(in_size) / dtype(out_size)


def _source_index(dtype: type, scale: np.floating, out_size: int, align_corners: bool, cubic: bool) -> np.ndarray:
    """PyTorch's ``area_pixel_compute_source_index`` for every output index."""
    i = np.arange(out_size, dtype=dtype)
    if align_corners:
        return scale * i
    src = scale * (i + dtype(0.5)) - dtype(0.5)
    return src if cubic else np.where(src < 0, dtype(0), src)


def _guard(dtype: type, src: np.ndarray, in_size: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's ``guard_index_and_lambda``: integer floor (clamped) and fraction in [0, 1]."""
    index = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - index.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    return index, lam


@functools.lru_cache(maxsize=256)
def nearest(in_size: int, out_size: int, factor: float | None, exact: bool) -> Taps:
    """``mode='nearest'`` (floor of ``i * scale``) or ``'nearest-exact'`` (of ``(i + 0.5) * scale``)."""
    i = np.arange(out_size)
    scale = _scales_value(np.float32, in_size, out_size, factor)
    pos = (i.astype(np.float64) + 0.5) * np.float64(scale) if exact else i.astype(np.float32) * scale
    index = np.minimum(np.floor(np.float32(pos)).astype(np.int64), in_size - 1)
    return index[:, None].astype(np.int32), np.ones((out_size, 1), np.float64)


@functools.lru_cache(maxsize=256)
def linear(in_size: int, out_size: int, factor: float | None, align_corners: bool, dtype: type) -> Taps:
    """Two-tap linear interpolation (``linear``/``bilinear``/``trilinear`` per axis).

    An axis whose size does not change is copied, whatever the factor (as PyTorch).
    """
    if in_size == out_size:
        return np.arange(out_size, dtype=np.int32)[:, None], np.ones((out_size, 1), dtype)
    scale = _scale(dtype, in_size, out_size, align_corners, factor)
    index, lam = _guard(dtype, _source_index(dtype, scale, out_size, align_corners, cubic=False), in_size)
    upper = index + (index < in_size - 1)
    weights = np.stack([dtype(1) - lam, lam], axis=1)
    return np.stack([index, upper], axis=1).astype(np.int32), weights


def _cubic_near(x: np.ndarray, a: float) -> np.ndarray:
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x: np.ndarray, a: float) -> np.ndarray:
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


@functools.lru_cache(maxsize=256)
def cubic(in_size: int, out_size: int, factor: float | None, align_corners: bool, dtype: type) -> Taps:
    """Four-tap bicubic convolution (``A = -0.75``), taps clamped to the border."""
    scale = _scale(dtype, in_size, out_size, align_corners, factor)
    index, t = _guard(dtype, _source_index(dtype, scale, out_size, align_corners, cubic=True), in_size)
    a = dtype(-0.75)
    one = dtype(1)
    weights = np.stack(
        [_cubic_far(t + one, a), _cubic_near(t, a), _cubic_near(one - t, a), _cubic_far(one - t + one, a)], 1
    )
    taps = np.clip(index[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return taps.astype(np.int32), weights.astype(dtype)


@functools.lru_cache(maxsize=256)
def area(in_size: int, out_size: int) -> Taps:
    """Adaptive average pooling bins, zero-weight padded to the widest bin."""
    if out_size == 0:
        return np.zeros((0, 1), np.int32), np.zeros((0, 1))
    i = np.arange(out_size)
    start = (i * in_size) // out_size
    end = -((-(i + 1) * in_size) // out_size)
    width = int((end - start).max())
    taps = start[:, None] + np.arange(width)
    valid = taps < end[:, None]
    weights = np.where(valid, 1.0 / (end - start)[:, None], 0.0)
    return np.where(valid, taps, start[:, None]).astype(np.int32), weights


def _aa_linear(x: np.ndarray) -> np.ndarray:
    return np.maximum(1 - np.abs(x), 0)


def _aa_cubic(x: np.ndarray) -> np.ndarray:
    # PIL's bicubic filter: A = -0.5.
    x = np.abs(x)
    return np.where(x < 1, _cubic_near(x, -0.5), np.where(x < 2, _cubic_far(x, -0.5), 0.0))


def _aa_lanczos(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


_AA_FILTERS = {"bilinear": (_aa_linear, 2), "bicubic": (_aa_cubic, 4), "lanczos": (_aa_lanczos, 6)}


@functools.lru_cache(maxsize=256)
def antialias(mode: str, in_size: int, out_size: int, factor: float | None, align_corners: bool, dtype: type) -> Taps:
    """PIL-style separable resampling: the filter widens by the scale when downsampling.

    An axis whose size does not change is copied, whatever the factor (as PyTorch).
    """
    if in_size == out_size:
        return np.arange(out_size, dtype=np.int32)[:, None], np.ones((out_size, 1), dtype)
    fn, interp_size = _AA_FILTERS[mode]
    scale = _scale(dtype, in_size, out_size, align_corners, factor)
    support = dtype(interp_size * 0.5) * scale if scale >= 1 else dtype(interp_size * 0.5)
    width = int(math.ceil(support)) * 2 + 1
    invscale = dtype(1) / scale if scale >= 1 else dtype(1)
    taps = np.zeros((out_size, width), np.int64)
    weights = np.zeros((out_size, width), dtype)
    for i in range(out_size):
        center = scale * dtype(i + 0.5)
        lo = max(int(center - support + dtype(0.5)), 0)
        size = min(max(min(int(center + support + dtype(0.5)), in_size) - lo, 0), width)
        j = np.arange(size)
        w = fn((j + lo - center + dtype(0.5)) * invscale).astype(dtype)
        total = w.sum(dtype=dtype)
        weights[i, :size] = w / total if total != 0 else w
        taps[i, :size] = j + lo
        taps[i, size:] = lo
    return taps.astype(np.int32), weights
