"""A reader and writer for the safetensors format, with no pickle and no dependency.

The format: an 8-byte little-endian unsigned header length ``N``; ``N`` bytes of JSON
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`` with an
optional ``"__metadata__"`` map of strings to strings (padded with spaces); then the
tensors' raw little-endian bytes, offsets counted from the end of the header. Files
written here load with ``safetensors.torch.load_file`` and vice versa.

Integrity: the writer adds ``"funcnn.checksum": "sha256"`` and ``"funcnn.sha256"`` to
the metadata, the latter a SHA-256 over the header (in a canonical form, without that
entry) and the tensor bytes, so any change to the file, even a single flipped bit, is
detected. The reader validates the whole header (lengths, dtypes, shapes, offsets
covering the data exactly, no trailing bytes) and, in any file with ``funcnn.*``
metadata, requires and verifies the checksum; it raises before returning anything.
Files from other writers carry no checksum; for them the header checks still catch
truncation.

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
from typing import Any, Iterator, Mapping, NamedTuple

import jax.numpy as jnp
import numpy as np

from ..serialization import to_numpy
from ._io import atomic_write

CHECKSUM_KEY = "funcnn.sha256"
ALGORITHM_KEY = "funcnn.checksum"  # a second marker: one damaged key name cannot hide the checksum
RESERVED_PREFIX = "funcnn."
_MAX_HEADER = 100_000_000  # the reference implementation's limit

_CODES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "BF16": np.dtype(jnp.bfloat16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "C64": np.dtype(np.complex64),
    "F8_E4M3": np.dtype(jnp.float8_e4m3fn),
    "F8_E4M3FNUZ": np.dtype(jnp.float8_e4m3fnuz),
    "F8_E5M2": np.dtype(jnp.float8_e5m2),
    "F8_E5M2FNUZ": np.dtype(jnp.float8_e5m2fnuz),
}
_NAMES = {dtype: code for code, dtype in _CODES.items()}


class Entry(NamedTuple):
    """One tensor's header record."""

    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


class Header(NamedTuple):
    """A validated header: tensors in file order, metadata, and where the data starts."""

    entries: dict[str, Entry]
    metadata: dict[str, str]
    data_start: int
    data_size: int


def dtype_code(dtype: Any) -> str | None:
    """The safetensors code of a NumPy dtype (``float32 -> "F32"``), None if unsupported."""
    return _NAMES.get(np.dtype(dtype).newbyteorder("="))


# ----------------------------------------------------------------------- writing
def _canonical(entries: Mapping[str, Mapping[str, Any]], metadata: Mapping[str, str]) -> bytes:
    body = {"__metadata__": {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}, **entries}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return len(text).to_bytes(8, "little") + text


def _raw(array: np.ndarray) -> np.ndarray:
    """The array's bytes, little-endian and C-contiguous, as a flat uint8 view."""
    if array.dtype.itemsize > 1 and array.dtype != array.dtype.newbyteorder("<"):
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def check_metadata(owner: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Check user metadata: a str -> str map without reserved ``funcnn.*`` keys."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError(
            f"{owner}: `metadata` must map strings to strings, got {metadata!r}; convert values with str() or json.dumps()"
        )
    taken = [k for k in metadata if k.startswith(RESERVED_PREFIX)]
    if taken:
        raise ValueError(f"{owner}: metadata keys starting with {RESERVED_PREFIX!r} are reserved, got {taken}; rename them")
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
                f"supported: {', '.join(str(d) for d in _NAMES)}"
            )
        arrays[name] = array
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))  # keeps every tensor aligned
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    for name in order:
        a = arrays[name]
        entries[name] = {"dtype": dtype_code(a.dtype), "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    metadata = {**metadata, ALGORITHM_KEY: "sha256"}
    digest = hashlib.sha256(_canonical(entries, metadata))
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


def save_file(tensors: Mapping[str, Any], filename: str | os.PathLike[str], metadata: Mapping[str, str] | None = None) -> None:
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
class _Corrupt(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Corrupt("the header repeats a name")
    return dict(pairs)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(name: str, record: Any) -> Entry:
    if not isinstance(record, dict) or set(record) != {"dtype", "shape", "data_offsets"}:
        raise _Corrupt(f"tensor {name!r} has a malformed record")
    dtype, shape, offsets = record["dtype"], record["shape"], record["data_offsets"]
    if dtype not in _CODES:
        raise _Corrupt(f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_int(s) for s in shape):
        raise _Corrupt(f"tensor {name!r} has an invalid shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_int(o) for o in offsets) or offsets[0] > offsets[1]:
        raise _Corrupt(f"tensor {name!r} has invalid data offsets {offsets!r}")
    entry = Entry(_CODES[dtype], tuple(shape), offsets[0], offsets[1])
    if entry.end - entry.begin != math.prod(entry.shape) * entry.dtype.itemsize:
        raise _Corrupt(f"tensor {name!r} of shape {tuple(shape)} {dtype} does not fill its {entry.end - entry.begin} bytes")
    return entry


def _parse_header(f: Any, size: int) -> Header:
    if size < 8:
        raise _Corrupt(f"the file has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > min(size - 8, _MAX_HEADER):
        raise _Corrupt(f"the header length {n} exceeds the {size - 8} bytes after it")
    raw = f.read(n)
    try:
        parsed = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise _Corrupt(f"the header is not valid JSON ({e})") from None
    if not raw.startswith(b"{") or not isinstance(parsed, dict):
        raise _Corrupt("the header is not a JSON object")
    metadata = parsed.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _Corrupt("the __metadata__ entry is not a map of strings")
    entries = {name: _entry(name, record) for name, record in parsed.items()}
    data_size = size - 8 - n
    end = 0
    for name, e in sorted(entries.items(), key=lambda item: (item[1].begin, item[1].end)):
        if e.begin != end:
            raise _Corrupt(f"tensor {name!r} starts at byte {e.begin}, expected {end} (a gap or an overlap)")
        end = e.end
    if end != data_size:
        raise _Corrupt(f"the header describes {end} bytes of tensor data, the file holds {data_size}")
    return Header(entries, metadata, 8 + n, data_size)


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


def _open(owner: str, path: str | os.PathLike[str]) -> Any:
    path = os.fspath(path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{owner}: no file at {path!r}; check the path") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{owner}: {path!r} is a directory; pass the path of a .safetensors file") from None


def read_header(owner: str, path: str | os.PathLike[str]) -> Header:
    """Read and validate the header only (fast: the tensor bytes are not read)."""
    with _open(owner, path) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            return _parse_header(f, size)
        except _Corrupt as e:
            f.seek(0)
            raise _corrupt_error(owner, os.fspath(path), str(e), f.read(8)) from None


def read(owner: str, path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read, validate and checksum a file; return ``({name: array}, metadata)``."""
    with _open(owner, path) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            header = _parse_header(f, size)
            data = bytearray(header.data_size)
            if f.readinto(data) != header.data_size:
                raise _Corrupt("the file ended early")
            if any(k.startswith(RESERVED_PREFIX) for k in header.metadata):
                expected = header.metadata.get(CHECKSUM_KEY)
                if expected is None or header.metadata.get(ALGORITHM_KEY) != "sha256":
                    raise _Corrupt("its funcnn checksum entry is missing or damaged")
                entries = {
                    name: {"dtype": _NAMES[e.dtype], "shape": list(e.shape), "data_offsets": [e.begin, e.end]}
                    for name, e in header.entries.items()
                }
                digest = hashlib.sha256(_canonical(entries, header.metadata))
                digest.update(data)
                if digest.hexdigest() != expected:
                    raise _Corrupt("its SHA-256 checksum does not match the contents")
        except _Corrupt as e:
            f.seek(0)
            raise _corrupt_error(owner, os.fspath(path), str(e), f.read(8)) from None
    return dict(_arrays(header, data)), header.metadata


def _arrays(header: Header, data: bytearray) -> Iterator[tuple[str, np.ndarray]]:
    for name, e in header.entries.items():
        dtype = e.dtype.newbyteorder("<") if e.dtype.itemsize > 1 and sys.byteorder == "big" else e.dtype
        count = math.prod(e.shape)
        yield name, np.frombuffer(data, dtype=dtype, count=count, offset=e.begin).reshape(e.shape)


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
      ValueError: the file is truncated, corrupted, or not a safetensors file.
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
