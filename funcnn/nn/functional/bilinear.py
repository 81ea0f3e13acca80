"""`bilinear`: ``y = x1^T A x2 + b``, the op behind `nn.Bilinear`.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> F.bilinear(jnp.ones((4, 2)), jnp.ones((4, 3)), jnp.ones((5, 2, 3)), jnp.zeros(5)).shape
  (4, 5)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of


def bilinear(input1: ArrayLike, input2: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> jax.Array:
    """Bilinear form ``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    As ``torch.nn.functional.bilinear``.

    Args:
      input1: ``(*, in1_features)`` floating array.
      input2: ``(*, in2_features)`` with the same leading dims as ``input1``.
      weight: ``(out_features, in1_features, in2_features)``.
      bias: ``(out_features,)`` or None.

    Returns:
      ``(*, out_features)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> w = jnp.eye(2)[None]  # one output: the dot product of the two inputs
      >>> F.bilinear(jnp.array([[1.0, 2.0]]), jnp.array([[3.0, 4.0]]), w).tolist()
      [[11.0]]
    """
    check_floating("bilinear", input1, "input1")
    check_floating("bilinear", input2, "input2")
    s1, s2, sw = shape_of(input1), shape_of(input2), shape_of(weight)
    if len(sw) != 3 or not s1 or not s2 or s1[-1] != sw[1] or s2[-1] != sw[2]:
        raise ValueError(
            f"bilinear: expected input1 (*, in1), input2 (*, in2) and weight (out, in1, in2) with matching in1 and "
            f"in2, got shapes {s1}, {s2} and {sw}"
        )
    if s1[:-1] != s2[:-1]:
        raise ValueError(
            f"bilinear: expected input1 and input2 with the same leading dims, got shapes {s1} and {s2}; "
            f"broadcast them to one batch shape first"
        )
    if bias is not None and shape_of(bias) != sw[:1]:
        raise ValueError(f"bilinear: expected bias of shape ({sw[0]},), got {shape_of(bias)}")
    y = jnp.einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
