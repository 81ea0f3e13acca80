"""`safe_open`: read single tensors of a safetensors file without reading the rest.

Like ``safetensors.safe_open``: opening reads and validates only the header, and
``get_tensor(name)`` reads only that tensor's bytes, at the offset the header gives.
Loading one tensor of a multi-gigabyte file costs a fraction of a millisecond plus
that tensor's size.

What is checked, and when:

* At open, always: the file is a regular file, and its header passes every check
  `load_file` makes (length and structure bounds, known dtypes, shapes NumPy can
  build, data offsets tiling the data section exactly up to the end of the file), so
  no offset can point outside the file.
* At open, with ``verify=True``: the file's SHA-256 (which every file funcnn writes
  carries) is computed by streaming the whole file once in 4 MiB chunks, without
  keeping it, and compared, exactly as `load_file` does; a damaged file is refused
  before any tensor is returned. Files from other writers carry no checksum, so for
  them ``verify=True`` checks nothing more.
* With ``verify=False`` (the default, the fast path): the bytes of each tensor are
  not checked. A truncated file is still refused (the header must describe the file
  exactly), but flipped bits inside tensor data are not detected. Use ``verify=True``,
  or `load_file`, where that matters.
* `get_tensor` re-checks that it read every byte it expected, so a file truncated
  while open is refused rather than half-read. A file modified in place while open
  (funcnn never does this: it replaces files by rename, and an open file keeps the old
  contents) is not detected, even after ``verify=True``.

Examples:
  >>> import os, tempfile
  >>> import numpy as np
  >>> from funcnn.checkpoint import safe_open, save_file
  >>> with tempfile.TemporaryDirectory() as d:
  ...     path = os.path.join(d, "model.safetensors")
  ...     save_file({"a": np.arange(4.0), "b": np.ones((2, 3), np.float32)}, path)
  ...     with safe_open(path) as f:
  ...         print(f.keys(), f.get_tensor("b").shape)
  ['a', 'b'] (2, 3)
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import Any

import numpy as np

from ._files import open_regular, read_exact
from ._format import Corrupt, Header, has_checksum, parse_header, verify_checksum
from .safetensors import _refused, as_array


class SafetensorsFile:
    """An open safetensors file whose tensors are read one at a time (see `safe_open`).

    Args:
      filename: the ``.safetensors`` file.
      verify: stream the whole file through its SHA-256 once at open (files written
        by funcnn carry one) and refuse it if it does not match.

    Attributes:
      path: the file's path.
      verified: True when the whole file's SHA-256 was checked at open (``verify=True``
        on a file that carries one).

    Raises:
      ValueError: the header is invalid, the file is not a regular file, or (with
        ``verify=True``) the checksum does not match.
      FileNotFoundError: there is no such file.

    Examples:
      >>> import os, tempfile
      >>> import numpy as np
      >>> from funcnn.checkpoint import SafetensorsFile, save_file
      >>> with tempfile.TemporaryDirectory() as d:
      ...     save_file({"w": np.zeros(3, np.int8)}, os.path.join(d, "w.safetensors"))
      ...     with SafetensorsFile(os.path.join(d, "w.safetensors"), verify=True) as f:
      ...         print(f.get_tensor("w"), f.verified)
      [0 0 0] True
    """

    def __init__(self, filename: str | os.PathLike[str], *, verify: bool = False) -> None:
        self.path = os.fspath(filename)
        self._owner = f"safe_open({self.path!r})"
        self._file = open_regular(self._owner, self.path)
        self._lock = threading.Lock()
        try:
            self._header: Header = parse_header(self._file, os.fstat(self._file.fileno()).st_size)
            self.verified = bool(verify) and has_checksum(self._header)
            if self.verified:
                verify_checksum(self._file, self._header)
        except Corrupt as e:
            error = _refused(self._owner, self.path, self._file, e)
            self._file.close()
            raise error from None
        except BaseException:
            self._file.close()
            raise

    def __repr__(self) -> str:
        state = "closed" if self._file.closed else f"{len(self._header.entries)} tensors"
        return f"SafetensorsFile({self.path!r}, {state})"

    def __enter__(self) -> SafetensorsFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the file; later `get_tensor` calls raise ValueError."""
        self._file.close()

    def keys(self) -> list[str]:
        """The tensor names, sorted (as ``safetensors.safe_open(...).keys()``)."""
        return sorted(self._header.entries)

    def metadata(self) -> dict[str, str]:
        """The header's ``__metadata__`` strings."""
        return dict(self._header.metadata)

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name``, from the header (nothing is read)."""
        return self._entry(name).shape

    def dtype(self, name: str) -> np.dtype:
        """The dtype of tensor ``name``, from the header (nothing is read)."""
        return self._entry(name).dtype

    def _entry(self, name: str) -> Any:
        entry = self._header.entries.get(name) if isinstance(name, str) else None
        if entry is None:
            names = self.keys()
            shown = ", ".join(repr(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
            raise ValueError(
                f"{self._owner}: no tensor named {name!r}; the file holds {len(names)}: {shown}; pass one of f.keys()"
            )
        return entry

    def get_tensor(self, name: str) -> np.ndarray:
        """Read tensor ``name`` (only its bytes) as a NumPy array of its shape and dtype.

        Raises:
          ValueError: no such tensor, the file is closed, or the file has become
            shorter than its header says since it was opened.

        Examples:
          >>> import os, tempfile
          >>> import numpy as np
          >>> from funcnn.checkpoint import safe_open, save_file
          >>> with tempfile.TemporaryDirectory() as d:
          ...     save_file({"w": np.arange(6.0).reshape(2, 3)}, os.path.join(d, "w.safetensors"))
          ...     with safe_open(os.path.join(d, "w.safetensors")) as f:
          ...         f.get_tensor("w")[1].tolist()
          [3.0, 4.0, 5.0]
        """
        entry = self._entry(name)
        if self._file.closed:
            raise ValueError(f"{self._owner}: the file is closed; read tensors inside the `with safe_open(...)` block")
        data = bytearray(entry.end - entry.begin)
        with self._lock:
            self._file.seek(self._header.data_start + entry.begin)
            got = read_exact(self._file, memoryview(data))
        if got != len(data):
            raise ValueError(
                f"{self._owner}: tensor {name!r} needs {len(data)} bytes but the file ended after {got}; it was "
                f"truncated while open. Open it again (a complete file is refused at open if damaged)"
            )
        return as_array(entry.dtype, entry.shape, data)


def safe_open(filename: str | os.PathLike[str], *, verify: bool = False) -> SafetensorsFile:
    """Open a safetensors file to read tensors one at a time, like ``safetensors.safe_open``.

    Only the header is read at open; `SafetensorsFile.get_tensor` reads only the
    bytes of the tensor asked for. See the module docstring for exactly what is
    verified with and without ``verify``.

    Args:
      filename: a ``.safetensors`` file (from funcnn, PyTorch or any writer).
      verify: also check the file's SHA-256 at open, by streaming it once (files
        written by funcnn carry one; others have none to check).

    Returns:
      a `SafetensorsFile`; use it in a ``with`` block, or call ``close()``.

    Raises:
      ValueError: the header is invalid, the file is not a regular file, or (with
        ``verify=True``) the checksum does not match.
      FileNotFoundError: there is no such file.

    Examples:
      >>> import os, tempfile
      >>> import numpy as np
      >>> from funcnn.checkpoint import safe_open, save_file
      >>> with tempfile.TemporaryDirectory() as d:
      ...     save_file({"w": np.ones((2, 2), np.float16)}, os.path.join(d, "w.safetensors"), metadata={"k": "v"})
      ...     with safe_open(os.path.join(d, "w.safetensors"), verify=True) as f:
      ...         w = f.get_tensor("w")
      ...         meta = f.metadata()["k"]
      >>> w.dtype, w.shape, meta
      (dtype('float16'), (2, 2), 'v')
    """
    return SafetensorsFile(filename, verify=verify)
