"""Peak memory of one implementation of one workload, measured in fresh processes.

What is measured (Linux): a process's peak resident set size (RSS) above a baseline
taken right after importing the implementation's libraries (torch; or jax + optax;
or funcnn) and starting its backend, so import costs are excluded. The peak covers the
whole workload in that process: building the model and optimizer, moving the data,
the warm-up calls and two more calls of its steps. Two numbers per implementation:

* ``peak_mb``: with compilation. XLA compiles in the process, and its compiler's
  memory counts (PyTorch eager compiles nothing).
* ``steady_mb``: the training itself. For JAX and funcnn, a second process loads the
  compiled programs from a persistent compilation cache that the first process wrote
  (a fresh temporary directory), so XLA's compiler does not run there; tracing still
  does. For PyTorch it is the same run as ``peak_mb``.

The kernel's high-water mark (``VmHWM`` in ``/proc/self/status``) is reset to the
current RSS after the imports (by writing ``5`` to ``/proc/self/clear_refs``), after
handing memory the C allocator holds unused back to the OS (glibc's ``malloc_trim``).
Where that is not possible the peak comes from ``resource.getrusage`` and includes the
imports. On a GPU the device's own peak is reported too (``device_peak_mb``: torch's
``max_memory_allocated``, JAX's ``peak_bytes_in_use``).

Usage::

    python -m benchmarks.memory W2 funcnn --mode quick     # prints one JSON line
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIBRARIES = {"torch": ("torch",), "jax": ("jax", "optax"), "funcnn": ("jax", "optax", "funcnn")}
_MB = 1024 * 1024


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the high-water mark of RSS to the current RSS; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def _release_free_memory() -> None:
    """Hand memory that the C allocator holds but nobody uses back to the OS (glibc only)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_mb() -> float:
    kb = _status_kb("VmHWM")
    return kb / 1024 if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start_backend(impl: str, device: str) -> None:
    """Import the implementation's libraries and start its backend (before the baseline)."""
    for name in LIBRARIES[impl]:
        importlib.import_module(name)
    if impl == "torch":
        import torch

        torch.zeros(1, device=device).add_(1)
    else:
        import jax

        jax.block_until_ready(jax.device_put(1.0) + 1)


def _device_peak_mb(impl: str, device: str) -> float | None:
    if impl == "torch":
        if device != "cuda":
            return None
        import torch

        return torch.cuda.max_memory_allocated() / _MB
    import jax

    dev = jax.devices()[0]
    if dev.platform == "cpu":
        return None
    stats = dev.memory_stats() or {}
    return stats["peak_bytes_in_use"] / _MB if "peak_bytes_in_use" in stats else None


def _use_cache(directory: str) -> None:
    """Read and write JAX's persistent compilation cache in ``directory`` (every program)."""
    import jax

    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def measure(
    workload: str,
    impl: str,
    mode: str,
    device: str = "cpu",
    *,
    cache_dir: str | None = None,
    variant: str = "step",
    reuse_heap: bool = False,
) -> dict[str, Any]:
    """Run ``workload``'s ``impl`` in this process and report its peak memory (see the module doc).

    Args:
      cache_dir: JAX's persistent compilation cache directory (JAX and funcnn only).
      reuse_heap: call ``funcnn.train.reuse_heap_for_step_buffers()`` first (funcnn only).
    """
    from benchmarks.workloads import get

    module = get(workload)
    size = module.SIZES[mode]
    if cache_dir and impl != "torch":
        _use_cache(cache_dir)
    _start_backend(impl, device)
    if reuse_heap and impl == "funcnn":
        from funcnn import train

        train.reuse_heap_for_step_buffers()
    _release_free_memory()
    baseline = _rss_mb()
    _reset_peak()
    bench = module.build(impl, variant, size, device)
    for _ in range(max(size.warmup, 1) + 2):
        bench.run()
    return {
        "baseline_mb": baseline,
        "peak_mb": _peak_mb() - baseline,
        "device_peak_mb": _device_peak_mb(impl, device),
        "last_loss": bench.last_loss(),
    }


def _spawn(
    workload: str, impl: str, mode: str, device: str, cache_dir: str | None, timeout: float, reuse_heap: bool = False
) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    if device == "cpu":
        env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, "-m", "benchmarks.memory", workload, impl, "--mode", mode, "--device", device]
    if cache_dir:
        cmd += ["--cache-dir", cache_dir]
    if reuse_heap:
        cmd.append("--reuse-heap")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory: {' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def in_subprocess(
    workload: str, impl: str, mode: str, device: str = "cpu", timeout: float = 900.0, *, reuse_heap: bool = False
) -> dict[str, Any]:
    """``peak_mb`` and ``steady_mb`` of one implementation, from fresh interpreters."""
    if impl == "torch":
        out = _spawn(workload, impl, mode, device, None, timeout)
        return {**out, "steady_mb": out["peak_mb"]}
    with tempfile.TemporaryDirectory(prefix="funcnn-memory-") as cache:
        compiling = _spawn(workload, impl, mode, device, cache, timeout, reuse_heap)
        cached = _spawn(workload, impl, mode, device, cache, timeout, reuse_heap)
    return {**compiling, "steady_mb": cached["peak_mb"], "steady_device_peak_mb": cached["device_peak_mb"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="W1, W2, W3 or W4")
    parser.add_argument("impl", choices=sorted(LIBRARIES))
    parser.add_argument("--mode", default="quick", choices=("smoke", "quick", "full", "gpu"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--cache-dir", help="JAX persistent compilation cache directory (read and written)")
    parser.add_argument(
        "--reuse-heap", action="store_true", help="funcnn: call train.reuse_heap_for_step_buffers() first"
    )
    args = parser.parse_args(argv)
    result = measure(
        args.workload, args.impl, args.mode, args.device, cache_dir=args.cache_dir, reuse_heap=args.reuse_heap
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
