"""A reader and writer for the safetensors format, with no pickle and no dependency.

The format: an 8-byte little-endian unsigned header length ``N``; ``N`` bytes of JSON
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`` with an
optional ``"__metadata__"`` map of strings to strings (padded with spaces); then the
tensors' raw little-endian bytes, offsets counted from the end of the header. Files
written here load with ``safetensors.torch.load_file`` and vice versa.

Integrity: the writer adds ``"funcnn.checksum": "sha256"`` and ``"funcnn.sha256"`` to
the metadata, the latter a SHA-256 over the header (in a canonical form, without that
entry) and the tensor bytes, so any change to the file, even a single flipped bit, is
detected. The checksum guards against accidents (truncation, bit rot, a half-copied
file), not against someone who means to forge a file: anyone can recompute it.

Reading: the reader opens regular files only (a FIFO, device or socket is refused by
name, unread); validates the whole header before reading any tensor byte, within
fixed bounds (8 MiB, 250,000 JSON values, 3 levels of nesting, at most 64 dimensions
per tensor, offsets tiling the data exactly to the end of the file; see
`funcnn.checkpoint._format`); and, in any file with ``funcnn.*`` metadata, requires
the checksum and verifies it (data over 64 MiB is streamed through a 4 MiB buffer
before it is read into memory). So any file, however made, is refused at a cost of
at most its own size plus a few tens of megabytes, never by hanging or by an error
other than the documented ``ValueError``. Files from other writers carry no
checksum; for them the header checks still catch truncation.

Examples:
  >>> import os, tempfile
  >>> import numpy as np
  >>> from funcnn.checkpoint import load_file, save_file
  >>> with tempfile.TemporaryDirectory() as d:
  ...     path = os.path.join(d, "w.safetensors")
  ...     save_file({"weight": np.ones((2, 3), np.float32)}, path, metadata={"note": "demo"})
  ...     loaded = load_file(path)
  >>> loaded["weight"].shape, loaded["weight"].dtype
  ((2, 3), dtype('float32'))
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import sys
from typing import Any, Iterator, Mapping

import numpy as np

from ..serialization import to_numpy
from ._files import open_regular, read_exact
from ._format import (
    ALGORITHM_KEY,
    CHECKSUM_KEY,
    NAMES,
    ONE_PASS,
    RESERVED_PREFIX,
    Corrupt,
    Header,
    canonical,
    dtype_code,
    has_checksum,
    parse_header,
    verify_checksum,
)
from ._io import atomic_write


# ----------------------------------------------------------------------- writing
def _raw(array: np.ndarray) -> np.ndarray:
    """The array's bytes, little-endian and C-contiguous, as a flat uint8 view."""
    if array.dtype.itemsize > 1 and array.dtype != array.dtype.newbyteorder("<"):
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def check_metadata(owner: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Check user metadata: a str -> str map without reserved ``funcnn.*`` keys."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError(
            f"{owner}: `metadata` must map strings to strings, got {metadata!r}; convert values with str() or json.dumps()"
        )
    taken = [k for k in metadata if k.startswith(RESERVED_PREFIX)]
    if taken:
        raise ValueError(
            f"{owner}: metadata keys starting with {RESERVED_PREFIX!r} are reserved, got {taken}; rename them"
        )
    return dict(metadata)


def encode(owner: str, tensors: Mapping[str, Any], metadata: Mapping[str, str]) -> list[Any]:
    """The file's contents as a list of byte chunks (length, header, tensor bytes)."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"{owner}: tensor names must be strings other than '__metadata__', got {name!r}")
        array = to_numpy(value)
        if dtype_code(array.dtype) is None:
            raise TypeError(
                f"{owner}: tensor {name!r} has dtype {array.dtype}, which safetensors cannot store; "
                f"supported: {', '.join(str(d) for d in NAMES)}"
            )
        arrays[name] = array
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))  # keeps every tensor aligned
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    for name in order:
        a = arrays[name]
        entries[name] = {
            "dtype": dtype_code(a.dtype),
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        offset += a.nbytes
    metadata = {**metadata, ALGORITHM_KEY: "sha256"}
    digest = hashlib.sha256(canonical(entries, metadata))
    raws = [_raw(arrays[name]) for name in order]
    for raw in raws:
        digest.update(raw)
    header = json.dumps(
        {"__metadata__": {**metadata, CHECKSUM_KEY: digest.hexdigest()}, **entries}, separators=(",", ":")
    ).encode()
    header += b" " * (-len(header) % 8)
    return [struct.pack("<Q", len(header)), header, *raws]


def write(owner: str, path: str | os.PathLike[str], tensors: Mapping[str, Any], metadata: Mapping[str, str]) -> None:
    """Encode and write atomically (metadata may hold reserved ``funcnn.*`` keys)."""
    atomic_write(owner, path, encode(owner, tensors, metadata))


def save_file(
    tensors: Mapping[str, Any], filename: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``{name: array}`` to a safetensors file, atomically.

    Like ``safetensors.numpy.save_file``; the file loads with any safetensors reader.

    Args:
      tensors: names to arrays (NumPy, JAX or torch) of any shape and a supported
        dtype (bool, (u)int8-64, float16/bfloat16/float32/float64, complex64, float8).
      filename: the file to write; its directory is created if needed.
      metadata: optional strings stored in the header (keys ``funcnn.*`` are reserved).

    Raises:
      TypeError: a value of an unsupported dtype, or metadata that is not str -> str.
      OSError: the directory cannot be written.

    Examples:
      >>> import os, tempfile
      >>> import numpy as np
      >>> from funcnn.checkpoint import load_file, save_file
      >>> with tempfile.TemporaryDirectory() as d:
      ...     save_file({"w": np.ones((2, 3), np.float32)}, os.path.join(d, "w.safetensors"))
      ...     sorted(os.listdir(d))
      ['w.safetensors']
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"save_file: expected a mapping of names to arrays, got {type(tensors).__name__}")
    write("save_file", filename, tensors, check_metadata("save_file", metadata))


# ----------------------------------------------------------------------- reading
def _corrupt_error(owner: str, path: str, reason: str, head: bytes) -> ValueError:
    hint = ""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):
        hint = (
            " It looks like a torch.save pickle, which funcnn never loads because loading a pickle can run "
            "code; convert it in PyTorch with safetensors.torch.save_file(module.state_dict(), 'model.safetensors')."
        )
    return ValueError(
        f"{owner}: {path!r} is not a valid safetensors file ({reason}); nothing was loaded. The file is "
        f"truncated or corrupted: write it again, or load an earlier checkpoint.{hint}"
    )


def _refused(owner: str, path: str | os.PathLike[str], f: Any, reason: Corrupt) -> ValueError:
    f.seek(0)
    return _corrupt_error(owner, os.fspath(path), str(reason), f.read(8))


def read_header(owner: str, path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> Header:
    """Read and validate the header only (fast: the tensor bytes are not read)."""
    with open_regular(owner, path, follow_symlinks=follow_symlinks) as f:
        try:
            return parse_header(f, os.fstat(f.fileno()).st_size)
        except Corrupt as e:
            raise _refused(owner, path, f, e) from None


def read(
    owner: str, path: str | os.PathLike[str], *, follow_symlinks: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read, validate and checksum a file; return ``({name: array}, metadata)``.

    A data section over 64 MiB is checksummed by streaming before it is read into
    memory, so a large corrupted file is refused without ever holding its data; a
    smaller one is checksummed as it is read.
    """
    with open_regular(owner, path, follow_symlinks=follow_symlinks) as f:
        try:
            header = parse_header(f, os.fstat(f.fileno()).st_size)
            checked = has_checksum(header)
            if checked and header.data_size > ONE_PASS:  # verify before holding the data
                verify_checksum(f, header)
            data = bytearray(header.data_size)
            if checked and header.data_size <= ONE_PASS:
                verify_checksum(f, header, into=memoryview(data))
            else:
                f.seek(header.data_start)
                if read_exact(f, memoryview(data)) != header.data_size:
                    raise Corrupt("the file ended early")
        except Corrupt as e:
            raise _refused(owner, path, f, e) from None
    return dict(_arrays(header, data)), header.metadata


def _arrays(header: Header, data: bytearray) -> Iterator[tuple[str, np.ndarray]]:
    for name, e in header.entries.items():
        yield name, as_array(e.dtype, e.shape, data, e.begin)


def as_array(dtype: np.dtype, shape: tuple[int, ...], data: Any, offset: int = 0) -> np.ndarray:
    """A view of little-endian tensor bytes as an array of ``shape``."""
    dtype = dtype.newbyteorder("<") if dtype.itemsize > 1 and sys.byteorder == "big" else dtype
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)


def load_file(filename: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a safetensors file (written by funcnn, PyTorch or any other writer).

    The header is validated and the checksum (when the file has one) verified before
    anything is returned.

    Args:
      filename: the ``.safetensors`` file.

    Returns:
      ``{name: numpy array}`` with each tensor's shape and dtype (bfloat16 and
      float8 as the ``ml_dtypes`` types JAX uses).

    Raises:
      ValueError: the file is truncated, corrupted, not a safetensors file, or not a
        regular file (a FIFO or device; a symlink is followed).
      FileNotFoundError: there is no such file.

    Examples:
      >>> import os, tempfile
      >>> import numpy as np
      >>> from funcnn.checkpoint import load_file, save_file
      >>> with tempfile.TemporaryDirectory() as d:
      ...     save_file({"w": np.ones((2, 3), np.float16)}, os.path.join(d, "w.safetensors"))
      ...     w = load_file(os.path.join(d, "w.safetensors"))["w"]
      >>> w.shape, w.dtype
      ((2, 3), dtype('float16'))
    """
    return read("load_file", filename)[0]


def load_metadata(filename: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` strings of a safetensors file (reads the header only).

    Examples:
      >>> import os, tempfile
      >>> import numpy as np
      >>> from funcnn.checkpoint import load_metadata, save_file
      >>> with tempfile.TemporaryDirectory() as d:
      ...     save_file({"w": np.zeros(2)}, os.path.join(d, "w.safetensors"), metadata={"epoch": "3"})
      ...     load_metadata(os.path.join(d, "w.safetensors"))["epoch"]
      '3'
    """
    return read_header("load_metadata", filename).metadata
