"""Atomic file writes: a file is either the old version or the complete new one.

`atomic_write` writes to a temporary file in the target's directory, flushes and
fsyncs it, renames it over the target with ``os.replace`` (atomic on POSIX and
Windows) and fsyncs the directory so the rename itself survives a power loss. If the
process dies half-way, only the temporary file ``.<name>.<pid>-<random>.tmp`` is left
behind and the previous file is untouched.

Stale temporaries. The writer holds an exclusive ``flock`` on its temporary from
just after creating it until after the rename; the kernel drops the lock when the
process dies, however it dies. `remove_stale_temporaries` removes a temporary only
when it can take that lock itself, so never one a live writer (in any process, on
any host when the file system's locks reach across hosts, as NFSv4's do) is still
writing. Two more rules cover the gaps: an empty temporary modified in the last
minute is kept (a writer may be between creating and locking it), and a temporary
named with this process's pid is kept (POSIX locks emulating ``flock`` on some
network file systems do not conflict within one process). Without ``fcntl``
(Windows), a temporary open in any process cannot be deleted, which gives the same
guarantee.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
import uuid
from typing import Any, BinaryIO, Iterable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_GRACE_S = 60.0
_PID = re.compile(r"\.([0-9]+)-[0-9a-f]{12}\.tmp")


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


def _lock(fd: int, *, wait: bool) -> bool:
    """Take an exclusive flock on ``fd``; False if another holds it or locks are unsupported."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def temporary_name(name: str) -> str:
    """The temporary file name for target ``name``: ``.<name>.<pid>-<12 hex>.tmp``."""
    return f".{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"


def temporary_pattern(target: str) -> str:
    """A regex (for ``re.fullmatch``) of the temporary names of targets matching ``target`` (a regex)."""
    return rf"\.(?:{target})\.[0-9]+-[0-9a-f]{{12}}\.tmp"


def atomic_write(owner: str, path: str | os.PathLike[str], chunks: Iterable[Any]) -> None:
    """Write ``chunks`` (bytes-like objects) to ``path`` atomically.

    Raises:
      OSError: the directory cannot be created or written (the same OSError subclass,
        e.g. PermissionError, with a message naming the directory and the fix), or
        the write itself failed (the previous file is then unchanged).
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, temporary_name(name))
    try:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise type(e)(
            f"{owner}: cannot write to directory {directory!r} ({e.strerror or e}); choose a writable "
            f"directory, or make this one writable (e.g. `chmod u+w {directory}`)"
        ) from e
    f = os.fdopen(fd, "wb")
    try:
        _lock(f.fileno(), wait=True)  # held until closed, after the rename: marks the temporary as live
        _write_all(f, chunks)
        f.flush()
        os.fsync(f.fileno())
        if fcntl is None:  # Windows cannot rename a file that is open
            f.close()
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        with contextlib.suppress(OSError):
            f.close()
        if isinstance(e, OSError):
            raise type(e)(
                f"{owner}: writing {path!r} failed ({e.strerror or e}); the previous file at that path, if "
                f"any, is unchanged; free disk space or choose another directory"
            ) from e
        raise
    f.close()
    _fsync_directory(directory)


def _stale(path: str, name: str) -> bool:
    """Remove ``path`` if it is a temporary no live writer holds (see the module docstring)."""
    pid = _PID.search(name)
    if pid is not None and int(pid.group(1)) == os.getpid():
        return False
    flags = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, os.O_RDWR | flags)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _lock(fd, wait=False):
            return False
        if info.st_size == 0 and time.time() - info.st_mtime < _GRACE_S:
            return False
        if fcntl is None:
            os.close(fd)
            fd = -1
        os.unlink(path)  # by name: a live writer's temporary has been renamed away, never reused
        return True
    except OSError:
        return False
    finally:
        if fd >= 0:
            os.close(fd)


def remove_stale_temporaries(directory: str, target: str) -> list[str]:
    """Remove the stale temporaries in ``directory`` of targets whose names match the regex ``target``.

    Returns the names removed. Never raises for a temporary it cannot judge or remove.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    pattern = re.compile(temporary_pattern(target))
    return [n for n in names if pattern.fullmatch(n) and _stale(os.path.join(directory, n), n)]
