"""Handing the memory that XLA's compiler freed back to the operating system.

Compiling a large program allocates and frees hundreds of MB in the C heap, and glibc
keeps freed heap pages in the process: its resident memory stays that much higher for
the rest of the run, and the first training steps allocate their buffers on top of it.
On a CPU, after compiling ResNet-18's training step (benchmark W6) the process held
about 270 MB more than it needed (37 MB more after loading the step from the
persistent compilation cache); ``malloc_trim`` returned that at a cost of about 25 ms
against the compile's 3.6 s, and the training's peak resident memory fell from about
337 MB to about 272 MB above the imports (PyTorch eager: about 302 MB).

`release_memory_after_compiles` installs, once per process, a JAX listener that calls
``malloc_trim(0)`` after every compilation that took at least `MIN_COMPILE_SECONDS`
(small programs free little, and the call costs about 1% of a large compile). It does
nothing where the C library has no ``malloc_trim`` (macOS, Windows, musl).

The opposite problem comes after: every call of a compiled step allocates XLA's
temporary buffer for it and frees it on return. glibc serves an allocation above its
mmap threshold (adaptive, but never above 32 MB) with a fresh ``mmap`` and unmaps it on
``free``, so a step whose buffer is larger page-faults all of it in again on every call:
ResNet-18's step (38 MB, benchmark W6) took about 9,900 page faults per step, 10-15% of
its time on a 2-core CPU. `reuse_heap_for_step_buffers` raises the threshold to
`HEAP_MMAP_THRESHOLD` and glibc's trim threshold to `HEAP_TRIM_THRESHOLD` (twice it, the
ratio glibc itself keeps), so the buffer is reused from the heap: about 30 faults per
step. The cost is that up to `HEAP_TRIM_THRESHOLD` of freed heap stays with the process
for reuse instead of going back to the kernel at once (the trim after each compilation
still returns it). Where the user has set glibc's own ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (or their ``GLIBC_TUNABLES``), funcnn leaves the settings alone.

`tune_for_steps` does both; funcnn calls it whenever it builds a step.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from typing import Any, Callable

import jax

MIN_COMPILE_SECONDS = 0.1
"""Compilations shorter than this are not followed by a trim."""
_EVENT = "/jax/core/compile/backend_compile_duration"

HEAP_MMAP_THRESHOLD = 256 * 2**20
"""Allocations up to this size come from glibc's heap instead of a fresh ``mmap``."""
HEAP_TRIM_THRESHOLD = 2 * HEAP_MMAP_THRESHOLD
"""Freed memory at the top of glibc's heap that it keeps for reuse."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_USER_TUNABLES = ("malloc.mmap_threshold", "malloc.trim_threshold")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt


def _user_set_thresholds() -> bool:
    """Whether the environment already chooses glibc's mmap or trim threshold."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(name in os.environ for name in _USER_SETTINGS) or any(t in tunables for t in _USER_TUNABLES)


@functools.cache
def reuse_heap_for_step_buffers() -> bool:
    """Keep step-sized buffers in glibc's heap from now on; True where the settings took.

    Idempotent. Does nothing (False) off glibc, or where the environment sets glibc's
    mmap or trim threshold itself.

    Examples:
      >>> reuse_heap_for_step_buffers() in (True, False)
      True
    """
    mallopt = _mallopt()
    if mallopt is None or _user_set_thresholds():
        return False
    # mallopt returns 1 on success; musl's stub returns 0 and changes nothing
    mmap_set = mallopt(_M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD)
    trim_set = mallopt(_M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)
    return bool(mmap_set and trim_set)


def tune_for_steps() -> None:
    """`release_memory_after_compiles` and `reuse_heap_for_step_buffers`: what funcnn
    does to the process's C heap when it builds a compiled step.

    Examples:
      >>> tune_for_steps()
    """
    release_memory_after_compiles()
    reuse_heap_for_step_buffers()


def _after_compile(event: str, duration: float, **kwargs: Any) -> None:
    if event == _EVENT and duration >= MIN_COMPILE_SECONDS:
        trim = _malloc_trim()
        if trim is not None:
            trim(0)


@functools.cache
def release_memory_after_compiles() -> bool:
    """Trim the C heap after each large compilation from now on; True where supported.

    Idempotent: the listener is installed once per process.

    Examples:
      >>> release_memory_after_compiles() in (True, False)
      True
    """
    if _malloc_trim() is None:
        return False
    jax.monitoring.register_event_duration_secs_listener(_after_compile)
    return True
