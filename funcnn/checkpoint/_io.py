"""Atomic file writes: a file is either the old version or the complete new one.

`atomic_write` writes to a temporary file in the target's directory, flushes and
fsyncs it, renames it over the target with ``os.replace`` (atomic on POSIX and
Windows) and fsyncs the directory so the rename itself survives a power loss. If the
process dies half-way, only the temporary file (``.<name>.<random>.tmp``) is left
behind and the previous file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any, BinaryIO, Iterable


def _write_all(f: BinaryIO, chunks: Iterable[Any]) -> None:
    for chunk in chunks:
        f.write(chunk)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support it; the rename is still atomic
        pass
    finally:
        os.close(fd)


def atomic_write(owner: str, path: str | os.PathLike[str], chunks: Iterable[Any]) -> None:
    """Write ``chunks`` (bytes-like objects) to ``path`` atomically.

    Raises:
      OSError: the directory cannot be created or written (the same OSError subclass,
        e.g. PermissionError, with a message naming the directory and the fix), or
        the write itself failed (the previous file is then unchanged).
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise type(e)(
            f"{owner}: cannot write to directory {directory!r} ({e.strerror or e}); choose a writable "
            f"directory, or make this one writable (e.g. `chmod u+w {directory}`)"
        ) from e
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, chunks)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise type(e)(
                f"{owner}: writing {path!r} failed ({e.strerror or e}); the previous file at that path, if "
                f"any, is unchanged; free disk space or choose another directory"
            ) from e
        raise
    _fsync_directory(directory)
