"""Host-side PRNG derivation for parameter initialisation.

``init`` draws its random numbers with NumPy on the host instead of ``jax.random``:
every eager ``jax.random`` op compiles an XLA program of its own (tenths of a second
each on a CPU), while NumPy draws the same distributions at once. The stream is a pure
function of the key's data, so it is deterministic given the key, and under ``jit`` or
``vmap`` the very same host function runs through ``jax.pure_callback``: eager and
traced ``init`` give identical values.

Rules (stable, documented):

* ``split(key, n)[i]`` is ``SeedSequence(words(key), spawn_key=(i,))`` as two uint32
  words, i.e. a raw JAX key (``uint32[2]``) usable with ``jax.random`` as well.
* ``generator(key)`` is ``numpy.random.Generator(PCG64(SeedSequence(words(key))))``.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np


def is_traced(x: Any) -> bool:
    """True when ``x`` is an abstract value inside a JAX transformation."""
    return isinstance(x, jax.core.Tracer)


def key_words(key: Any) -> Any:
    """The key's raw uint32 words: a NumPy array for a concrete key, a tracer otherwise."""
    if isinstance(key, (int, np.integer)):
        raise TypeError(
            f"expected a PRNG key such as jax.random.key({int(key)}), got the integer {int(key)}; "
            f"pass jax.random.key({int(key)})"
        )
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
    elif dtype is not None and np.dtype(dtype) == np.uint32:
        data = key
    else:
        raise TypeError(
            f"expected a PRNG key (jax.random.key(seed) or a uint32 raw key), got "
            f"{type(key).__name__} with dtype {dtype}; create one with jax.random.key(0)"
        )
    if is_traced(data):
        return data
    return np.asarray(data, dtype=np.uint32)


def _entropy(words: np.ndarray) -> list[int]:
    return [int(w) for w in np.asarray(words, dtype=np.uint32).ravel()]


def _host_split(words: np.ndarray, n: int) -> np.ndarray:
    entropy = _entropy(words)
    out = [np.random.SeedSequence(entropy, spawn_key=(i,)).generate_state(2, np.uint32) for i in range(n)]
    return np.stack(out).astype(np.uint32) if out else np.zeros((0, 2), np.uint32)


def split(key: Any, n: int = 2) -> Any:
    """Split ``key`` into ``n`` raw keys (``uint32[n, 2]``) by the host rule above."""
    words = key_words(key)
    if is_traced(words):
        return jax.pure_callback(
            lambda w: _host_split(np.asarray(w), n),
            jax.ShapeDtypeStruct((n, 2), jnp.uint32),
            words,
            vmap_method="sequential",
        )
    return _host_split(words, n)


def generator(words: np.ndarray) -> np.random.Generator:
    """A NumPy generator seeded from a key's words."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(_entropy(words))))


def draw(
    key: Any, shape: tuple[int, ...], dtype: Any, sample: Callable[[np.random.Generator], np.ndarray]
) -> jax.Array:
    """Run ``sample(generator(key))`` on the host and return it as a JAX array.

    ``sample`` must return an array of ``shape``; under a transformation it runs in a
    ``jax.pure_callback`` so traced and eager results are identical.
    """
    shape = tuple(int(s) for s in shape)
    dtype = jax.dtypes.canonicalize_dtype(dtype)  # float64 -> float32 unless x64 is on, as jnp does
    words = key_words(key)

    def host(w: np.ndarray) -> np.ndarray:
        out = np.asarray(sample(generator(w)))
        if out.shape != shape:
            raise AssertionError(f"internal: sampler returned shape {out.shape}, expected {shape}")
        return out.astype(dtype)

    if is_traced(words):
        return jax.pure_callback(host, jax.ShapeDtypeStruct(shape, dtype), words, vmap_method="sequential")
    # device_put copies the host array as it is; jnp.asarray would compile a program per shape.
    return jax.device_put(host(words))
