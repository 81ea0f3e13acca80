"""How funcnn compiles a step that updates its arguments in place.

A training step donates its parameters and optimizer state so that XLA writes the
new values into the old buffers. XLA must then order every read of an old weight
before the write of the new one; where its copy-insertion pass cannot prove that
order, it copies the weight first. The CPU compiler's default analysis proves it
only along data dependencies, and the backward pass reads a weight (to propagate the
gradient to the layer's input) on a path the weight's own update does not depend on:
on a CPU, ResNet-18's training step copied 49 of its 62 parameters every step (its
whole size again in temporary memory, and about 4% of the step's time). XLA's
region-based analysis proves the order from the program's structure and removes all
of them; `in_place_jit` compiles with it where the installed XLA knows the option.

(XLA's memory-optimised CPU scheduler, tried too, cut ResNet-18's temporary memory a
further third but made the small CNN of benchmark W3 about 8% slower: not used.)
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from .._memory import release_memory_after_compiles

_IN_PLACE_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True}


@functools.cache
def _in_place_options() -> dict[str, Any]:
    """`_IN_PLACE_OPTIONS` if this jax/XLA accepts them, else ``{}`` (older releases)."""
    try:
        jax.jit(lambda a: a + 1, compiler_options=_IN_PLACE_OPTIONS).lower(jnp.float32(0)).compile()
    except Exception:  # an older jax (no `compiler_options`) or XLA (an unknown option)
        return {}
    return dict(_IN_PLACE_OPTIONS)


class _InPlaceJit:
    """``fn`` jitted with the in-place compile options when called at top level, and
    without them inside another trace (a user's ``jit``, ``lax.scan`` or ``vmap`` around
    the step), where the enclosing program is what XLA compiles and JAX refuses compile
    options on the inner ``jit``. Everything else (``lower``, ``eval_shape``, ...) is the
    top-level ``jax.jit`` object's."""

    __slots__ = ("_top", "_nested")

    def __init__(self, fn: Callable[..., Any], donate_argnums: tuple[int, ...], options: dict[str, Any]) -> None:
        self._top = jax.jit(fn, donate_argnums=donate_argnums, compiler_options=options)
        self._nested = jax.jit(fn, donate_argnums=donate_argnums)

    def __call__(self, *args: Any) -> Any:
        try:
            return self._top(*args)
        except ValueError as e:
            if "compiler_options" not in str(e) or "top-level" not in str(e):
                raise
        return self._nested(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._top, name)


def in_place_jit(fn: Callable[..., Any], donate_argnums: tuple[int, ...]) -> Any:
    """``jax.jit(fn, donate_argnums=...)``, compiled so that donated weights are not copied.

    Examples:
      >>> import jax.numpy as jnp
      >>> step = in_place_jit(lambda w, g: w - 0.1 * g, donate_argnums=(0,))
      >>> step(jnp.ones(3), jnp.ones(3)).tolist()
      [0.8999999761581421, 0.8999999761581421, 0.8999999761581421]
    """
    release_memory_after_compiles()
    options = _in_place_options() if donate_argnums else {}
    if not options:
        return jax.jit(fn, donate_argnums=donate_argnums)
    return _InPlaceJit(fn, donate_argnums, options)
