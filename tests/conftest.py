"""Test-wide settings: deterministic, CPU-only, warnings are errors (see pyproject)."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The tests compile thousands of small programs and run each for microseconds: LLVM's
# optimisation passes cost more than they save (a Transformer with dropout compiles 5x
# faster). The arithmetic is the same: no fast-math either way. Subprocesses inherit it.
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded NumPy generator per test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict) -> None:
    import jax.numpy as jnp

    doctest_namespace.update(jax=jax, jnp=jnp, np=np)
