"""Casting host arrays to a narrower or different dtype without silent corruption.

NumPy's ``astype`` wraps integers that do not fit (``int64 2**40 -> int32 0``),
turns large floats into ``inf``, drops imaginary parts and turns ``None`` into NaN.
`cast` does the conversion only when every value survives it, and otherwise returns
a sentence saying which value does not fit, for the caller's error message:

* integer targets take integers in range, and floats that are whole numbers in range;
* floating targets take any real number whose finite values stay finite (rounding
  to the nearer precision is expected and allowed);
* complex targets take any number whose finite parts stay finite;
* bool takes bools, and numbers that are all 0 or 1;
* nothing takes strings, bytes, objects (``None``), dates or records, and no real
  target takes complex values (the imaginary part would be lost).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

_WHAT = {"U": "strings", "S": "bytes", "O": "Python objects (e.g. None)", "M": "dates", "m": "time spans"}


def _kind(dtype: Any) -> str:
    for kind, base in (
        ("bool", jnp.bool_),
        ("int", jnp.integer),
        ("float", jnp.floating),
        ("complex", jnp.complexfloating),
    ):
        if jnp.issubdtype(dtype, base):
            return kind
    return "other"


def _first(array: np.ndarray, bad: np.ndarray) -> Any:
    return array.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])].item()


def _int_problem(array: np.ndarray, dtype: np.dtype, source: str) -> str | None:
    info = jnp.iinfo(dtype)
    if source == "float":
        bad = ~np.isfinite(array) | (np.floor(array) != array)
        if bad.any():
            return f"holds {_first(array, bad)!r}, which is not a whole number, so it does not fit {dtype}"
    if array.size == 0:
        return None
    low, high = array.min().item(), array.max().item()
    if low < info.min or high > info.max:
        worst = low if low < info.min else high
        return f"holds {worst!r}, outside the range [{info.min}, {info.max}] of {dtype}"
    return None


def _overflow(array: np.ndarray, out: np.ndarray, dtype: np.dtype) -> str | None:
    parts = [(array.real, out.real), (array.imag, out.imag)] if _kind(array.dtype) == "complex" else [(array, out)]
    for src, dst in parts:
        inf = np.isinf(dst)
        if inf.any():
            bad = inf & np.isfinite(src)
            if bad.any():
                return f"holds {_first(src, bad)!r}, beyond the largest {dtype} ({jnp.finfo(dtype).max})"
    return None


def cast(value: Any, dtype: Any) -> tuple[np.ndarray | None, str | None]:
    """``(array as dtype, None)`` when every value fits, else ``(None, why)``."""
    array = np.asarray(value)
    dtype = np.dtype(dtype)
    source, target = _kind(array.dtype), _kind(dtype)
    if source == "other":
        what = _WHAT.get(array.dtype.kind, "records")
        return None, f"holds {what} ({array.dtype}), not numbers"
    if array.dtype == dtype:
        return array, None
    if source == "complex" and target != "complex":
        return None, f"holds complex values; {dtype} would drop the imaginary part (pass np.real(x) to drop it)"
    with np.errstate(all="ignore"):
        if target == "bool" and source != "bool":
            bad = (array != 0) & (array != 1)
            if bad.any():
                return None, f"holds {_first(array, bad)!r}, which is not 0 or 1, so it does not fit bool"
            return array.astype(dtype), None
        if target == "int" and source != "bool":
            why = _int_problem(array, dtype, source)
            return (None, why) if why else (array.astype(dtype), None)
        out = array.astype(dtype)
        if target in ("float", "complex") and source != "bool":
            why = _overflow(array, out, dtype) if source in ("float", "complex") else _int_range(array, dtype)
            if why:
                return None, why
    return out, None


def _int_range(array: np.ndarray, dtype: np.dtype) -> str | None:
    if array.size == 0:
        return None
    low, high = array.min().item(), array.max().item()
    worst = low if abs(low) > abs(high) else high
    limit = float(jnp.finfo(dtype).max)
    return f"holds {worst!r}, beyond the largest {dtype} ({limit})" if abs(worst) > limit else None
