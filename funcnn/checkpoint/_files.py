"""Opening a file to read it as a checkpoint: regular files only.

Opening a FIFO for reading blocks until a writer appears, and a device can be endless,
so `open_regular` opens without blocking (``O_NONBLOCK``) and refuses anything that
is not a regular file, by name, before reading a byte. With ``follow_symlinks=False``
(used for the step files of `CheckpointManager`, which are always regular files it
renamed into place) a symbolic link is refused too (``O_NOFOLLOW``), so a link to
another checkpoint or to a system file is never read.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def not_regular(owner: str, path: str, kind: str) -> ValueError:
    """The error for a path that is not a regular file."""
    return ValueError(
        f"{owner}: {path!r} is {kind}, not a regular file; nothing was read. Checkpoints are read only from "
        f"regular files: remove it, or pass the path of the .safetensors file itself"
    )


def open_regular(owner: str, path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> BinaryIO:
    """Open ``path`` for unbuffered binary reading if it is a regular file.

    Raises:
      FileNotFoundError: no such file.
      IsADirectoryError: it is a directory.
      ValueError: it is a FIFO, device, socket, or (``follow_symlinks=False``) a symlink.
    """
    path = os.fspath(path)
    if not follow_symlinks and not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):
        raise not_regular(owner, path, "a symbolic link")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"{owner}: no file at {path!r}; check the path") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{owner}: {path!r} is a directory; pass the path of a .safetensors file") from None
    except OSError as e:
        if e.errno == errno.ELOOP and not follow_symlinks:
            raise not_regular(owner, path, "a symbolic link") from None
        if e.errno == errno.ENXIO:  # a socket, or a FIFO without writer on some systems
            raise not_regular(owner, path, "a socket or another special file") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{owner}: {path!r} is a directory; pass the path of a .safetensors file")
        if not stat.S_ISREG(mode):
            raise not_regular(owner, path, _kind(mode))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=0)


def read_exact(f: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``f``; return how many bytes were read (fewer only at the end of the file)."""
    done = 0
    while done < len(view):
        n = f.readinto(view[done:])
        if not n:
            break
        done += n
    return done
