"""`FractionalMaxPool2d` and `FractionalMaxPool3d`: max pooling over randomly placed regions.

The regions are random in every mode, as in PyTorch: each call draws them from
``key`` (``apply(params, x, key=...)``; a missing key is an error), unless the layer
is built with fixed ``_random_samples``, which, as in PyTorch, are a buffer: the
layer then has ``state == {"_random_samples": ...}`` and runs through
``apply_with_state``. See `funcnn.nn.functional.fractional_max_pool2d` for the regions.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> pool = nn.FractionalMaxPool2d(3, output_ratio=0.5)
  >>> pool.apply({}, jnp.ones((2, 4, 10, 9)), key=jax.random.key(0)).shape
  (2, 4, 5, 4)
  >>> fixed = nn.FractionalMaxPool2d(2, output_size=3, _random_samples=jnp.full((2, 4, 2), 0.5))
  >>> y, state = fixed.apply_with_state({}, fixed.init_state(), jnp.ones((2, 4, 6, 6)))
  >>> y.shape, sorted(state)
  ((2, 4, 3, 3), ['_random_samples'])
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .functional.conv import IntOrTuple, ntuple
from .functional.fractional_pool import fractional_max_pool_impl
from .module import Module, Params, State

Ratio = float | Sequence[float]


class _FractionalMaxPoolNd(Module):
    n: int = 0

    def __init__(
        self,
        kernel_size: IntOrTuple,
        output_size: IntOrTuple | None = None,
        output_ratio: Ratio | None = None,
        return_indices: bool = False,
        _random_samples: ArrayLike | None = None,
    ) -> None:
        name, n = type(self).__name__, self.n
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, n, minimum=1)
        if (output_size is None) == (output_ratio is None):
            raise ValueError(
                f"{name}: give exactly one of `output_size` and `output_ratio`, got output_size={output_size!r} "
                f"and output_ratio={output_ratio!r}"
            )
        self.output_size = None if output_size is None else ntuple(name, "output_size", output_size, n, minimum=0)
        self.output_ratio: tuple[float, ...] | None = None
        if output_ratio is not None:
            ratios = (output_ratio,) * n if isinstance(output_ratio, numbers.Real) else output_ratio
            if not (
                isinstance(ratios, (tuple, list))
                and len(ratios) == n
                and all(isinstance(r, numbers.Real) and 0 < r < 1 for r in ratios)
            ):
                raise ValueError(
                    f"{name}: `output_ratio` must be a number or a tuple of {n} numbers in (0, 1), got {output_ratio!r}"
                )
            self.output_ratio = tuple(ratios)
        self.return_indices = return_indices
        self._random_samples = None if _random_samples is None else jnp.asarray(_random_samples)

    @property
    def has_state(self) -> bool:
        """True when built with fixed ``_random_samples`` (PyTorch keeps them as a buffer)."""
        return self._random_samples is not None

    def init_state(self) -> State:
        """``{"_random_samples": ...}`` when built with them, else ``{}``."""
        return {} if self._random_samples is None else {"_random_samples": self._random_samples}

    def _pool(self, input: ArrayLike, samples: Any, key: Any) -> jax.Array | tuple[jax.Array, jax.Array]:
        return fractional_max_pool_impl(
            repr(self),
            self.n,
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            bool(self.return_indices),
            samples,
            key,
        )

    def forward(
        self, params: Params, input: ArrayLike, *, key: Any = None, train: bool = False
    ) -> jax.Array | tuple[jax.Array, jax.Array]:
        return self._pool(input, None, key)

    def apply_with_state(
        self,
        params: Params,
        state: State,
        input: ArrayLike,
        *,
        key: Any = None,
        train: bool = False,
    ) -> tuple[Any, State]:
        """Pool with the samples in ``state`` (when built with them) or drawn from ``key``."""
        return self._pool(input, state.get("_random_samples") if self.has_state else None, key), state


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-D fractional max pooling, as ``torch.nn.FractionalMaxPool2d``.

    Args:
      kernel_size: int or ``(kH, kW)``, the pooling region.
      output_size: int or ``(H_out, W_out)``; or give
      output_ratio: a number or pair in ``(0, 1)``: ``H_out = int(H * ratio)``.
      return_indices: also return the flat index ``h * W + w`` of each maximum.
      _random_samples: fixed ``(N, C, 2)`` numbers in ``[0, 1)`` placing the regions
        (a buffer, as in PyTorch); without them every call needs ``key``.

    Shapes: ``(N, C, H, W) -> (N, C, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.FractionalMaxPool2d(2, output_size=(4, 3)).apply({}, jnp.ones((3, 7, 7)), key=jax.random.key(0)).shape
      (3, 4, 3)
    """

    n = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling, as ``torch.nn.FractionalMaxPool3d``.

    Args:
      kernel_size: int or ``(kD, kH, kW)``, the pooling region.
      output_size: int or ``(D_out, H_out, W_out)``; or give
      output_ratio: a number or triple in ``(0, 1)``.
      return_indices: also return the flat index ``(d * H + h) * W + w`` of each maximum.
      _random_samples: fixed ``(N, C, 3)`` numbers in ``[0, 1)`` (a buffer, as in PyTorch);
        without them every call needs ``key``.

    Shapes: ``(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)`` (or unbatched).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> pool = nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.4), return_indices=True)
      >>> values, indices = pool.apply({}, jnp.ones((1, 2, 6, 6, 8)), key=jax.random.key(0))
      >>> values.shape, indices.shape
      ((1, 2, 3, 3, 3), (1, 2, 3, 3, 3))
    """

    n = 3
