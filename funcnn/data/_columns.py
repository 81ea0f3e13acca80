"""A data set as columns: a tuple, a dict or a single array of equal-length arrays.

`columns` checks the input once and returns the arrays as host NumPy arrays (in JAX's
canonical dtypes, so a float64 array becomes float32 unless x64 is enabled) together
with a ``pack`` function that rebuilds the caller's structure from new columns. The
narrowing goes through `funcnn._casting.cast`: a value that would not survive it
(an int64 beyond int32, which NumPy would wrap) is refused by name, not corrupted.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._casting import cast
from ..serialization import to_numpy


class Columns(NamedTuple):
    """The checked columns of a data set.

    Attributes:
      labels: a printable name per column (``"'x'"`` for dict keys, ``"[0]"`` for positions).
      arrays: host NumPy arrays, each with ``length`` rows.
      pack: ``pack(list_of_columns)`` rebuilds the input's structure.
      length: the common first dimension (number of samples, > 0).
    """

    labels: list[str]
    arrays: list[np.ndarray]
    pack: Callable[[Sequence[Any]], Any]
    length: int


def _host(owner: str, label: str, value: Any) -> np.ndarray:
    array = to_numpy(value)
    if not (jnp.issubdtype(array.dtype, jnp.number) or jnp.issubdtype(array.dtype, jnp.bool_)):
        raise TypeError(
            f"{owner}: array {label} has dtype {array.dtype}, which JAX cannot hold; "
            f"pass numeric arrays (encode strings or objects as integers first)"
        )
    if array.ndim == 0:
        raise ValueError(
            f"{owner}: array {label} is a scalar (shape ()); every array needs a first dimension "
            f"with one row per sample, e.g. x.reshape(-1, 1)"
        )
    target = jax.dtypes.canonicalize_dtype(array.dtype)
    out, why = cast(array, target)
    if out is None:
        raise ValueError(
            f"{owner}: array {label} {why}; JAX holds {array.dtype} data as {target} while 64-bit mode is off. "
            f"Enable it with jax.config.update('jax_enable_x64', True), or bring the values into the range "
            f"of {target} first"
        )
    return out


def columns(owner: str, arrays: Any) -> Columns:
    """Check ``arrays`` (tuple, list, dict or one array) and return its `Columns`."""
    if isinstance(arrays, Mapping):
        names = list(arrays)
        values = list(arrays.values())
        labels = [repr(n) for n in names]

        def pack(cols: Sequence[Any]) -> Any:
            return dict(zip(names, cols))

    elif isinstance(arrays, (tuple, list)):
        values = list(arrays)
        labels = [f"[{i}]" for i in range(len(values))]
        if hasattr(arrays, "_fields"):  # a NamedTuple keeps its type

            def pack(cols: Sequence[Any]) -> Any:
                return type(arrays)(*cols)

        else:

            def pack(cols: Sequence[Any]) -> Any:
                return tuple(cols)

    elif hasattr(arrays, "shape") and hasattr(arrays, "dtype"):
        values, labels = [arrays], ["[0]"]

        def pack(cols: Sequence[Any]) -> Any:
            return cols[0]

    else:
        raise TypeError(
            f"{owner}: expected a tuple or dict of arrays (or one array), got {type(arrays).__name__}; "
            f"pass e.g. (x, y) or {{'x': x, 'y': y}}"
        )
    if not values:
        raise ValueError(
            f"{owner}: expected at least one array, got an empty {type(arrays).__name__}; pass e.g. (x, y)"
        )
    hosts = [_host(owner, label, v) for label, v in zip(labels, values)]
    lengths = [a.shape[0] for a in hosts]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{label}: {n}" for label, n in zip(labels, lengths))
        raise ValueError(
            f"{owner}: all arrays need the same first dimension (one row per sample), got lengths {listed}; "
            f"slice them to a common number of samples"
        )
    if lengths[0] == 0:
        raise ValueError(f"{owner}: the data set is empty (0 samples); pass arrays with at least one row")
    return Columns(labels, hosts, pack, lengths[0])
