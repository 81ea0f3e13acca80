"""`Parameter` and `Buffer`: bare arrays a module holds as attributes, like torch's.

A module written in the attribute style (see `funcnn.nn.Module`) declares its own
arrays next to its child modules::

    self.cls_token = nn.Parameter(nn.init.zeros, (1, 1, 8))     # in params, trained
    self.pe = nn.Buffer(table, persistent=False)                 # a constant

* A `Parameter` is a recipe, not an array: ``init`` draws it from the model's key with
  an initializer ``(key, shape, dtype) -> array`` (any of `funcnn.nn.init`), or copies
  a given initial value. Its array lives in ``params[name]``, so it is trained and
  appears in ``state_dict`` under the attribute's name, as in PyTorch.
* A `Buffer` is a constant array (a positional-encoding table, a fixed mask): it never
  changes while the model runs, so it does not make the model stateful and ``apply``
  works. A persistent buffer (the default, as torch's ``register_buffer``) also
  appears in ``init_state()`` and so in ``state_dict``, and a loaded value there wins
  over the one held by the module; a non-persistent one lives only in the module.
  Buffers that change as the model runs (running statistics) are written by hand in
  ``apply_with_state`` (see `funcnn.nn.BatchNorm1d`).

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> p = nn.Parameter(nn.init.normal, (2, 3))
  >>> p, p.initialize(jax.random.key(0)).shape
  (Parameter(shape=(2, 3), dtype=float32), (2, 3))
  >>> nn.Buffer(jnp.arange(3.0), persistent=False)
  Buffer(shape=(3,), dtype=float32, persistent=False)
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np


def as_array(value: Any) -> Any:
    """A torch tensor (duck-typed, torch is never imported) as a JAX array; anything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "numpy") and not isinstance(value, jax.Array):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            return jnp.asarray(value.float().numpy(), jnp.bfloat16)
        return jnp.asarray(value.numpy())
    return value


class Parameter:
    """A trainable array held directly by a module (``torch.nn.Parameter``).

    Args:
      init: an initializer ``(key, shape, dtype) -> array`` (e.g. ``nn.init.normal``),
        or the initial value itself (an array, a torch tensor or a nested list).
      shape: the array's shape; required with an initializer, taken from the value
        otherwise.
      dtype: the dtype an initializer is asked for (a value keeps its own floating
        dtype unless ``dtype`` is given).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Parameter(jnp.zeros((1, 4))).initialize(jax.random.key(0)).tolist()
      [[0.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, init: Callable[..., Any] | Any, shape: Any = None, *, dtype: Any = None) -> None:
        if callable(init) and not hasattr(init, "shape"):
            if shape is None:
                raise ValueError(
                    f"Parameter: an initializer needs the shape to draw, got shape=None; "
                    f"pass it, e.g. nn.Parameter({getattr(init, '__name__', 'init')}, (1, 16))"
                )
            if isinstance(shape, int):
                shape = (shape,)
            if not isinstance(shape, (tuple, list)) or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise ValueError(f"Parameter: `shape` must be a tuple of non-negative integers, got {shape!r}")
            self.init, self.value = init, None
            self.shape, self.dtype = tuple(int(s) for s in shape), jnp.dtype(dtype or jnp.float32)
            return
        value = as_array(init)
        value = jnp.asarray(value) if dtype is None else jnp.asarray(value, dtype)
        if shape is not None and tuple(shape) != value.shape:
            raise ValueError(
                f"Parameter: the initial value has shape {value.shape} but `shape` is {tuple(shape)}; "
                f"drop `shape` (it is taken from the value) or pass a value of that shape"
            )
        self.init, self.value, self.shape, self.dtype = None, value, value.shape, value.dtype

    def initialize(self, key: jax.Array) -> jax.Array:
        """The parameter's initial array, drawn from ``key`` (ignored for a given value).

        Args:
          key: a PRNG key.

        Returns:
          An array of ``shape`` and ``dtype``.

        Examples:
          >>> import jax
          >>> from funcnn import nn
          >>> nn.Parameter(nn.init.ones, (2,)).initialize(jax.random.key(0)).tolist()
          [1.0, 1.0]
        """
        if self.value is not None:
            return self.value
        return jnp.asarray(self.init(key, self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Buffer:
    """A constant array held by a module (``torch.nn.Buffer`` / ``register_buffer``).

    Args:
      value: the array (a JAX or NumPy array, a torch tensor, or a nested list).
      persistent: whether it appears in ``init_state()`` and so in ``state_dict``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Buffer(jnp.ones((2, 2))).value.shape
      (2, 2)
    """

    def __init__(self, value: Any, *, persistent: bool = True) -> None:
        if not isinstance(persistent, bool):
            raise TypeError(f"Buffer: `persistent` must be True or False, got {persistent!r}")
        self.value, self.persistent = jnp.asarray(as_array(value)), persistent

    def __repr__(self) -> str:
        flag = "" if self.persistent else ", persistent=False"
        return f"Buffer(shape={self.value.shape}, dtype={self.value.dtype}{flag})"
