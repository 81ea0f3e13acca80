"""`funcnn._memory`: the C heap is trimmed after large compilations, and only then."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import pytest

from funcnn import _memory, train

EVENT = "/jax/core/compile/backend_compile_duration"


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def fake(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(_memory, "_malloc_trim", lambda: fake)
    return calls


def test_a_large_compile_is_followed_by_a_trim(trims: list[int]) -> None:
    _memory._after_compile(EVENT, _memory.MIN_COMPILE_SECONDS + 0.5)
    assert trims == [0]


def test_small_compiles_and_other_events_are_not(trims: list[int]) -> None:
    _memory._after_compile(EVENT, _memory.MIN_COMPILE_SECONDS / 10)
    _memory._after_compile("/jax/core/compile/jaxpr_trace_duration", 5.0)
    assert trims == []


def test_the_listener_sees_real_compilations(trims: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "MIN_COMPILE_SECONDS", 0.0)
    if not _memory.release_memory_after_compiles():
        pytest.skip("no malloc_trim in this C library")
    step = train.make_eval_step(lambda x: jnp.tanh(x) * 3.0 + 1.0)
    step(jnp.ones(7)).block_until_ready()  # a new program: compiled, then trimmed
    assert trims and set(trims) == {0}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_real_trim_runs() -> None:
    trim = _memory._malloc_trim()
    if trim is None:
        pytest.skip("this Linux C library has no malloc_trim (musl)")
    assert trim(0) in (0, 1)
    assert jax.numpy.ones(3).sum() == 3.0  # the process carries on
