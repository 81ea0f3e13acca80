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

The opposite problem comes after, for steps with a large temporary buffer: every call
of a compiled step allocates XLA's temporary buffer and frees it on return. glibc
serves an allocation above its mmap threshold (adaptive, but never above 32 MB) with a
fresh ``mmap`` and unmaps it on ``free``, so a step whose buffer is larger faults all of
it in again on every call: ResNet-18's step (38 MB, benchmark W6) took about 9,900 page
faults per step, 10-15% of its time on a 2-core CPU. `reuse_heap_for_step_buffers`
raises the threshold (and glibc's trim threshold, to twice it, the ratio glibc itself
keeps) so that such a buffer is reused from the heap: about 30 faults per step. It is
opt-in because it is a trade: XLA's executions allocate the buffer from several
threads, and glibc then keeps a freed copy of it in each thread's arena instead of
returning it. The LSTM step of benchmark W4 (a 45 MB buffer) held 275-367 MB instead
of 94 MB (thresholds of 64-256 MB), two arenas holding 91 MB of free heap each
(``malloc_info``); ResNet-18's step held 288-291 MB instead of 269 MB. Raising the
threshold only just above each step's own buffer (measured from the compiled step) did
not help: W4 323 MB, W6 305-315 MB; nor did one arena for the process
(``MALLOC_ARENA_MAX=1``): W4 182 MB, W6 328 MB.
Where the environment sets glibc's ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (or their ``GLIBC_TUNABLES``), it leaves them alone.
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
"""`reuse_heap_for_step_buffers`'s default: allocations up to 256 MB come from the heap."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_USER_TUNABLES = ("malloc.mmap_threshold", "malloc.trim_threshold")


def _libc_function(name: str, argtypes: list[Any]) -> Callable[..., int] | None:
    """The C library's ``name`` returning an int, or None off Linux or where it has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, ctypes.c_int
    return fn


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    return _libc_function("malloc_trim", [ctypes.c_size_t])


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None where the C library has none."""
    return _libc_function("mallopt", [ctypes.c_int, ctypes.c_int])


def _user_set_thresholds() -> bool:
    """Whether the environment already chooses glibc's mmap or trim threshold."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(name in os.environ for name in _USER_SETTINGS) or any(t in tunables for t in _USER_TUNABLES)


def reuse_heap_for_step_buffers(up_to: int = HEAP_MMAP_THRESHOLD) -> bool:
    """Serve allocations up to ``up_to`` bytes from glibc's heap, so that a compiled
    step's temporary buffer is reused from call to call instead of being mapped and
    faulted in each time; True where the setting took.

    Worth it for CPU training whose step buffer is over 32 MB (read it from
    ``step.lower(*args).compile().memory_analysis().temp_size_in_bytes``): ResNet-18 on
    64x64 images, batch 8, trained 10-15% faster on a 2-core CPU, and an LSTM step with a
    45 MB buffer 27% faster. The cost: glibc then keeps freed blocks up to that size for
    reuse instead of returning them to the kernel, so the process can hold more memory
    (an LSTM step: 275-367 MB instead of 94 MB). Process-wide and lasting; does nothing (False) off glibc or where the environment
    sets glibc's mmap or trim threshold itself. Call it before the first step runs.

    Args:
      up_to: the largest allocation, in bytes, served from the heap (glibc's mmap
        threshold); glibc's trim threshold becomes twice it.

    Raises:
      ValueError: ``up_to`` is not a positive number of bytes.

    Examples:
      >>> from funcnn import train
      >>> train.reuse_heap_for_step_buffers(64 * 2**20) in (True, False)
      True
    """
    if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to <= 0:
        raise ValueError(
            f"reuse_heap_for_step_buffers: expected up_to as a positive number of bytes, got {up_to!r}; "
            "pass e.g. 64 * 2**20 for 64 MB"
        )
    mallopt = _mallopt()
    if mallopt is None or _user_set_thresholds():
        return False
    # mallopt returns 1 on success; musl's stub returns 0 and changes nothing
    mmap_set = mallopt(_M_MMAP_THRESHOLD, up_to)
    trim_set = mallopt(_M_TRIM_THRESHOLD, 2 * up_to)
    return bool(mmap_set and trim_set)


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
