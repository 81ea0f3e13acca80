"""JAX's persistent compilation cache, switched on with one call.

``jax.jit`` compiles each program the first time it sees an input shape; on a CPU that
takes tenths of a second per program, and a fresh process pays it again. With the
persistent cache on, compiled programs are written to a directory and a later process
loads them instead of compiling. `enable_compilation_cache` turns it on for every
program (``jax_persistent_cache_min_compile_time_secs = 0``, so small programs are
cached too) in a directory that only the current user can read (``0o700``): a cached
program is code that JAX runs, so never point the cache at a directory others can
write to.

The default directory is ``$XDG_CACHE_HOME/funcnn/jax-cache``, or
``~/.cache/funcnn/jax-cache`` when ``XDG_CACHE_HOME`` is unset.

Examples:
  >>> import tempfile
  >>> from funcnn._cache import disable_compilation_cache, enable_compilation_cache
  >>> path = enable_compilation_cache(tempfile.mkdtemp())
  >>> path.is_dir()
  True
  >>> disable_compilation_cache()
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

__all__ = ["default_cache_dir", "disable_compilation_cache", "enable_compilation_cache"]


def default_cache_dir() -> Path:
    """The directory `enable_compilation_cache` uses when given no path.

    Returns:
      ``$XDG_CACHE_HOME/funcnn/jax-cache``, or ``~/.cache/funcnn/jax-cache`` when
      ``XDG_CACHE_HOME`` is unset or empty. Nothing is created.

    Examples:
      >>> default_cache_dir().parts[-2:]
      ('funcnn', 'jax-cache')
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "funcnn" / "jax-cache"


def enable_compilation_cache(path: str | os.PathLike[str] | None = None, *, min_compile_time_secs: float = 0.0) -> Path:
    """Turn on JAX's persistent compilation cache for the rest of the process.

    Call it before the first ``jit`` call whose compilation you want cached; calling it
    again with another directory switches to that directory.

    Args:
      path: the cache directory (created, owner-only, if missing); default
        `default_cache_dir()`.
      min_compile_time_secs: programs that compile faster than this are not written;
        ``0`` caches every program.

    Returns:
      The cache directory, as an absolute path.

    Raises:
      TypeError: when ``path`` is not a string or path.
      ValueError: when ``min_compile_time_secs`` is negative.

    Examples:
      >>> import tempfile
      >>> import jax, jax.numpy as jnp
      >>> path = enable_compilation_cache(tempfile.mkdtemp())
      >>> jax.jit(lambda x: x * 3.0)(jnp.ones(2)).tolist()
      [3.0, 3.0]
      >>> any(path.iterdir())  # the compiled program is now on disk
      True
      >>> disable_compilation_cache()
    """
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"enable_compilation_cache: expected a directory as a str or os.PathLike, got "
            f"{type(path).__name__}; pass e.g. '~/.cache/funcnn/jax-cache', or None for the default"
        )
    if not min_compile_time_secs >= 0:
        raise ValueError(
            f"enable_compilation_cache: `min_compile_time_secs` must be >= 0, got {min_compile_time_secs!r}; "
            f"use 0 to cache every program"
        )
    directory = (default_cache_dir() if path is None else Path(path).expanduser()).resolve()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # JAX opens its cache once, on the first compilation; forget any earlier one so the
    # directory given here takes effect.
    compilation_cache.reset_cache()
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_secs))
    return directory


def disable_compilation_cache() -> None:
    """Stop reading and writing the persistent compilation cache (files stay on disk).

    Examples:
      >>> disable_compilation_cache()
      >>> jax.config.jax_compilation_cache_dir is None
      True
    """
    compilation_cache.reset_cache()
    jax.config.update("jax_compilation_cache_dir", None)
