"""Pooling with ``torch.nn.functional``'s arguments and numbers: where each kind lives.

* `max_pool` (``max_pool1d/2d/3d`` and ``*_with_indices``),
* `avg_pool` (``avg_pool1d/2d/3d``),
* `adaptive_pool` (``adaptive_avg_pool1d/2d/3d``, ``adaptive_max_pool1d/2d/3d`` and ``*_with_indices``),
* `lp_pool` (``lp_pool1d/2d/3d``), `fractional_pool` (``fractional_max_pool2d/3d``),
* `unpool` (``max_unpool1d/2d/3d``, the partial inverse of max pooling).

Inputs are ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``. This module re-exports
their names (and the shared helpers layers use), so ``funcnn.nn.functional.pooling``
stays the one place to import pooling from.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn.nn.functional import pooling
  >>> pooling.max_pool2d(jnp.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
  [[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

from ._pooling import OutputSize as OutputSize
from ._pooling import pool_args as pool_args
from ._pooling import pool_output_size as pool_output_size
from .adaptive_pool import adaptive_avg_pool1d as adaptive_avg_pool1d
from .adaptive_pool import adaptive_avg_pool2d as adaptive_avg_pool2d
from .adaptive_pool import adaptive_avg_pool3d as adaptive_avg_pool3d
from .adaptive_pool import adaptive_max_pool1d as adaptive_max_pool1d
from .adaptive_pool import adaptive_max_pool1d_with_indices as adaptive_max_pool1d_with_indices
from .adaptive_pool import adaptive_max_pool2d as adaptive_max_pool2d
from .adaptive_pool import adaptive_max_pool2d_with_indices as adaptive_max_pool2d_with_indices
from .adaptive_pool import adaptive_max_pool3d as adaptive_max_pool3d
from .adaptive_pool import adaptive_max_pool3d_with_indices as adaptive_max_pool3d_with_indices
from .adaptive_pool import adaptive_output_size as adaptive_output_size
from .adaptive_pool import adaptive_pool_impl as adaptive_pool_impl
from .avg_pool import avg_pool1d as avg_pool1d
from .avg_pool import avg_pool2d as avg_pool2d
from .avg_pool import avg_pool3d as avg_pool3d
from .avg_pool import avg_pool_impl as avg_pool_impl
from .avg_pool import check_divisor as check_divisor
from .max_pool import max_pool1d as max_pool1d
from .max_pool import max_pool1d_with_indices as max_pool1d_with_indices
from .max_pool import max_pool2d as max_pool2d
from .max_pool import max_pool2d_with_indices as max_pool2d_with_indices
from .max_pool import max_pool3d as max_pool3d
from .max_pool import max_pool3d_with_indices as max_pool3d_with_indices
from .max_pool import max_pool_impl as max_pool_impl
