"""``grouped_mm``: the grouped matrix multiply of Mixture-of-Experts layers.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> tokens, experts = jnp.ones((5, 4)), jnp.ones((2, 4, 3))
  >>> F.grouped_mm(tokens, experts, offs=jnp.array([2, 5])).shape   # rows 0-1: expert 0, rows 2-4: expert 1
  (5, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from .._checks import shape_of

_OWNER = "grouped_mm"


def _group_sizes(offs: ArrayLike, groups: int, total: int, what: str) -> jax.Array:
    shape = shape_of(offs)
    if len(shape) != 1 or shape[0] != groups:
        raise ValueError(
            f"{_OWNER}: `offs` must be a 1-D array of {groups} group ends (one per group of {what}), got shape {shape}"
        )
    offs = jnp.asarray(offs)
    if not jnp.issubdtype(offs.dtype, jnp.integer):
        raise TypeError(f"{_OWNER}: `offs` must hold integers (torch: int32), got dtype {offs.dtype}")
    offs = offs.astype(jnp.int32)
    return jnp.diff(offs, prepend=jnp.zeros((1,), jnp.int32))


def grouped_mm(
    mat_a: ArrayLike,
    mat_b: ArrayLike,
    *,
    offs: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    out_dtype: Any = None,
) -> jax.Array:
    """Matrix products of groups that share shapes but not sizes, as ``torch.nn.functional.grouped_mm``.

    Three forms, as in torch:

    * ``mat_a (M, K)``, ``mat_b (G, K, N)``, ``offs (G,)``: rows ``offs[g-1]:offs[g]`` of
      ``mat_a`` (with ``offs[-1] = 0`` before the first) are multiplied by ``mat_b[g]``;
      output ``(M, N)``. Rows from ``offs[G-1]`` on belong to no group: torch leaves them
      uninitialised, funcnn returns zeros (and zero gradient). The forward pass of a
      Mixture-of-Experts layer, tokens sorted by expert.
    * ``mat_a (M, K_total)``, ``mat_b (K_total, N)``, ``offs (G,)``: the shared dimension is
      cut into groups; output ``(G, M, N)``, group ``g`` the product over its slice of
      ``K_total`` (an MoE weight gradient).
    * ``mat_a (G, M, K)``, ``mat_b (G, K, N)``, no ``offs``: a batched matmul, ``(G, M, N)``.

    Args:
      mat_a: the left operand, 2-D or 3-D.
      mat_b: the right operand, 2-D or 3-D.
      offs: increasing group ends, int, for the forms with a 2-D operand; under ``jit``
        they may be traced data.
      bias: must be None (torch's kernels do not support it either: add it afterwards).
      out_dtype: dtype of the result (default: the operands' common dtype); products
        accumulate in at least float32.

    Returns:
      The grouped products, shapes as above.

    Raises:
      ValueError: shapes that fit none of the forms, ``offs`` of the wrong length, or a bias.
      TypeError: non-integer ``offs``.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> tokens, experts = jnp.ones((5, 4)), jnp.ones((2, 4, 3))   # 5 tokens, 2 experts
      >>> F.grouped_mm(tokens, experts, offs=jnp.array([2, 5])).shape  # tokens 0-1: expert 0, 2-4: expert 1
      (5, 3)
    """
    sa, sb = shape_of(mat_a), shape_of(mat_b)
    if bias is not None:
        raise ValueError(
            f"{_OWNER}: `bias` is not supported (torch's grouped_mm does not support it either); add it to the result"
        )
    a, b = jnp.asarray(mat_a), jnp.asarray(mat_b)
    dtype = jnp.result_type(a, b) if out_dtype is None else jnp.dtype(out_dtype)
    hi = lax.Precision.HIGHEST
    if len(sa) == 2 and len(sb) == 3:
        if offs is None:
            raise ValueError(
                f"{_OWNER}: a 2-D `mat_a` {sa} with a 3-D `mat_b` {sb} needs `offs`, the end row of each of the {sb[0]} groups"
            )
        if sa[1] != sb[1]:
            raise ValueError(
                f"{_OWNER}: `mat_a` {sa} has {sa[1]} columns but each group of `mat_b` {sb} has {sb[1]} rows; they must agree"
            )
        sizes = _group_sizes(offs, sb[0], sa[0], "rows of mat_a")
        y = lax.ragged_dot(a, b, sizes, precision=hi, preferred_element_type=jnp.promote_types(dtype, jnp.float32))
        return y.astype(dtype)
    if len(sa) == 2 and len(sb) == 2:
        if offs is None:
            raise ValueError(
                f"{_OWNER}: two 2-D operands {sa} and {sb} need `offs`, the end of each group along their shared dimension"
            )
        if sa[1] != sb[0]:
            raise ValueError(
                f"{_OWNER}: `mat_a` {sa} has {sa[1]} columns but `mat_b` {sb} has {sb[0]} rows; they must agree"
            )
        groups = shape_of(offs)[0] if len(shape_of(offs)) == 1 else -1
        sizes = _group_sizes(offs, groups, sa[1], "the shared dimension")
        ends = jnp.cumsum(sizes)
        k = jnp.arange(sa[1])
        member = (k[None, :] < ends[:, None]) & (k[None, :] >= (ends - sizes)[:, None])  # (G, K)
        y = jnp.einsum("mk,gk,kn->gmn", a, member.astype(a.dtype), b, precision=hi)
        return y.astype(dtype)
    if len(sa) == 3 and len(sb) == 3:
        if offs is not None:
            raise ValueError(f"{_OWNER}: two 3-D operands enumerate their groups themselves: pass offs=None")
        if sa[0] != sb[0] or sa[2] != sb[1]:
            raise ValueError(f"{_OWNER}: 3-D operands must be (G, M, K) and (G, K, N), got {sa} and {sb}")
        return jnp.matmul(a, b, precision=hi).astype(dtype)
    raise ValueError(
        f"{_OWNER}: expected (M, K) x (G, K, N) with offs, (M, K) x (K, N) with offs, or (G, M, K) x (G, K, N); "
        f"got {sa} x {sb}"
    )
