"""Test-wide settings: deterministic, CPU-only, warnings are errors (see pyproject), no implicit rank promotion."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The tests compile thousands of small programs and run most for microseconds: XLA's LLVM
# optimisation passes cost more than they save (a Transformer with dropout compiles 5x
# faster without). The arithmetic is the same (no fast-math either way). Subprocesses
# inherit it; a test that trains for real asks for the `optimized_xla` fixture below.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Every broadcast between arrays of different ranks must be written out (reshape, [..., None],
# broadcast_to): an implicit one is how a (B,) target meeting a (B, 1) output silently gives (B, B).
# Set at import so that it holds in every test, pytest-xdist workers included.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded NumPy generator per test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict) -> None:
    import jax.numpy as jnp

    doctest_namespace.update(jax=jax, jnp=jnp, np=np)


@pytest.fixture
def optimized_xla():
    """XLA's optimisations back on for one test: for the few that train for real (seconds of compiled work)."""
    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    yield
    jax.config.update("jax_disable_most_optimizations", before)
