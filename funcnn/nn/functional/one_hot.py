"""`one_hot`: integer class indices to one-hot rows.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.one_hot(jnp.array([0, 2, 1])).tolist()
  [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import shape_of


def one_hot(tensor: ArrayLike, num_classes: int = -1) -> jax.Array:
    """``out[..., c] = (tensor[...] == c)``, as ``torch.nn.functional.one_hot``.

    With ``num_classes=-1`` the count is inferred as ``max(tensor) + 1``, which needs
    concrete values: it works eagerly, while under ``jit``/``vmap`` the count must be
    passed. Eagerly, out-of-range classes are an error as in PyTorch; under ``jit``
    they cannot be checked and give an all-zero row.

    Args:
      tensor: ``(*)`` integer class indices in ``[0, num_classes)``.
      num_classes: number of classes, or -1 to infer it.

    Returns:
      ``(*, num_classes)`` of the default integer dtype (int32, or int64 with x64).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> jax.jit(lambda t: F.one_hot(t, num_classes=4))(jnp.array([3, 0])).tolist()
      [[0, 0, 0, 1], [1, 0, 0, 0]]
    """
    dtype = jnp.result_type(tensor)
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(
            f"one_hot: expected integer class indices, got dtype {dtype}; convert them with `t.astype(jnp.int32)`"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ValueError(f"one_hot: `num_classes` must be -1 (infer) or a non-negative integer, got {num_classes!r}")
    concrete = not isinstance(tensor, jax.core.Tracer)
    if num_classes == -1:
        if not concrete:
            raise ValueError(
                "one_hot: num_classes=-1 infers the count from the values, which are not known inside jit/vmap/grad; "
                "pass num_classes explicitly, e.g. `F.one_hot(t, num_classes=10)`"
            )
        values = np.asarray(tensor)
        if values.size == 0:
            raise ValueError(
                f"one_hot: cannot infer num_classes from an empty tensor of shape {shape_of(tensor)}; pass num_classes"
            )
        num_classes = int(values.max()) + 1
    if concrete and np.size(tensor):
        values = np.asarray(tensor)
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(
                f"one_hot: class values must be in [0, {num_classes}), got values in "
                f"[{values.min()}, {values.max()}]; pass a larger num_classes or fix the labels"
            )
    t = jnp.asarray(tensor)
    classes = jnp.arange(num_classes, dtype=t.dtype).reshape((1,) * t.ndim + (num_classes,))
    return (t[..., None] == classes).astype(jnp.asarray(0).dtype)
