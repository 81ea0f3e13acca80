"""`funcnn._memory`: the C heap is trimmed after large compilations, and only then; step-sized
buffers are reused from the heap instead of being mapped and faulted in on every call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import optax
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


@pytest.fixture
def mallopt(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """A recording ``mallopt``, a clean environment and a fresh once-per-process cache."""
    calls: list[tuple[int, int]] = []

    def fake(param: int, value: int) -> int:
        calls.append((param, value))
        return 1

    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_memory, "_mallopt", lambda: fake)
    return calls


def test_the_heap_thresholds_are_raised(mallopt: list[tuple[int, int]]) -> None:
    assert train.reuse_heap_for_step_buffers()
    assert train.reuse_heap_for_step_buffers(64 * 2**20)
    threshold = _memory.HEAP_MMAP_THRESHOLD
    assert mallopt == [(-3, threshold), (-1, 2 * threshold), (-3, 64 * 2**20), (-1, 128 * 2**20)]
    assert threshold > 32 * 2**20  # above glibc's own adaptive ceiling


@pytest.mark.parametrize("bad", [0, -1, 1.5e8, "64MB", True])
def test_a_bad_size_is_refused(mallopt: list[tuple[int, int]], bad: object) -> None:
    with pytest.raises(ValueError, match=r"expected up_to as a positive number of bytes, got .*64 \* 2\*\*20"):
        train.reuse_heap_for_step_buffers(bad)  # type: ignore[arg-type]
    assert mallopt == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("MALLOC_MMAP_THRESHOLD_", "33554432"),
        ("MALLOC_TRIM_THRESHOLD_", "0"),
        ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0"),
        ("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=4096"),
    ],
)
def test_the_users_own_thresholds_are_left_alone(
    mallopt: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert not _memory.reuse_heap_for_step_buffers()
    assert mallopt == []


def test_other_tunables_do_not_count_as_the_users_thresholds(
    mallopt: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    assert _memory.reuse_heap_for_step_buffers()
    assert len(mallopt) == 2


def test_a_refused_setting_reports_false(mallopt: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "_mallopt", lambda: lambda param, value: 0)  # musl's stub
    assert not _memory.reuse_heap_for_step_buffers()


def test_building_a_step_leaves_the_heap_settings_alone(mallopt: list[tuple[int, int]]) -> None:
    """Opt-in: the trade costs memory on some models (see `funcnn._memory`)."""
    train.make_eval_step(lambda x: x + 1)(jnp.ones(3))
    train.make_train_step(lambda p, x: jnp.sum(p * x), optax.sgd(0.1))
    assert mallopt == []


_FAULTS = textwrap.dedent(
    """
    import ctypes, resource
    from funcnn import _memory
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = 48 * 2**20  # a step's temporary buffer, above glibc's 32 MB adaptive ceiling

    def faults_per_cycle():
        libc.free(libc.malloc(size))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(3):
            p = libc.malloc(size)
            ctypes.memset(p, 1, size)  # a step writes its buffer
            libc.free(p)
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3

    default = faults_per_cycle()
    tuned = _memory.reuse_heap_for_step_buffers()
    faults_per_cycle()  # the first cycle in the heap faults its pages in once
    print(int(tuned), default, faults_per_cycle(), size // 4096)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_reused_buffer_is_not_faulted_in_again() -> None:
    drop = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    run = subprocess.run([sys.executable, "-c", _FAULTS], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    tuned, default, after, pages = map(float, run.stdout.split())
    if not tuned:
        pytest.skip("this Linux C library does not take mallopt's thresholds (musl)")
    assert default > pages / 2  # glibc maps and faults in the whole buffer on every cycle
    assert after < pages / 50  # now the heap keeps it
