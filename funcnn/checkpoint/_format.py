"""The safetensors layout: dtype codes, the header and its validation, the checksum.

The header is refused, with a reason, unless it is within these bounds, all checked
before the JSON is parsed or any tensor byte is read:

* its length is at most ``MAX_HEADER`` bytes (8 MiB) and fits in the file;
* it holds at most ``MAX_VALUES`` (250,000) JSON values and nests at most 3 levels
  deep (a tensor's record takes about 11 values plus its number of dimensions, so
  20,000 tensors fit easily; the largest published checkpoints hold a few thousand
  per file);
* every tensor has a known dtype, at most ``MAX_NDIM`` (64, NumPy's limit)
  dimensions and at most 2**63 - 1 bytes even counting zero-sized dimensions as 1,
  and its data offsets tile the data section exactly (no gap, overlap or trailing
  byte), so no offset can point outside the file.

Parsing such a header costs at most about twice the header's size plus 35 MB. The
SHA-256 of a data section over ``ONE_PASS`` (64 MiB) is computed by streaming it
through a fixed 4 MiB buffer before the data is read into memory, so a large file
(a sparse one, say) that fails it costs no more memory than a small one; a smaller
data section is hashed as it is read (one pass).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from typing import Any, BinaryIO, Mapping, NamedTuple

import jax.numpy as jnp
import numpy as np

from ._files import read_exact
from ._json import JSONLimitError, bounded_loads

CHECKSUM_KEY = "funcnn.sha256"
ALGORITHM_KEY = "funcnn.checksum"  # a second marker: one damaged key name cannot hide the checksum
RESERVED_PREFIX = "funcnn."
MAX_HEADER = 8 * 1024 * 1024
MAX_VALUES = 250_000
MAX_NDIM = 64
_CHUNK = 4 * 1024 * 1024
ONE_PASS = 64 * 1024 * 1024

CODES: dict[str, np.dtype] = {
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
NAMES = {dtype: code for code, dtype in CODES.items()}


class Corrupt(Exception):
    """A reason the file is not a valid safetensors file (turned into a ValueError by the caller)."""


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
    return NAMES.get(np.dtype(dtype).newbyteorder("="))


def canonical(entries: Mapping[str, Mapping[str, Any]], metadata: Mapping[str, str]) -> bytes:
    """The bytes the checksum covers before the tensor data: the header in canonical form."""
    body = {"__metadata__": {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}, **entries}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return len(text).to_bytes(8, "little") + text


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Corrupt("the header repeats a name")
    return dict(pairs)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(name: str, record: Any) -> Entry:
    if not isinstance(record, dict) or set(record) != {"dtype", "shape", "data_offsets"}:
        raise Corrupt(f"tensor {name!r} has a malformed record")
    dtype, shape, offsets = record["dtype"], record["shape"], record["data_offsets"]
    if not isinstance(dtype, str) or dtype not in CODES:
        raise Corrupt(f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_int(s) for s in shape):
        raise Corrupt(f"tensor {name!r} has an invalid shape {shape!r}")
    if len(shape) > MAX_NDIM:
        raise Corrupt(f"tensor {name!r} has {len(shape)} dimensions, more than the {MAX_NDIM} NumPy supports")
    itemsize = CODES[dtype].itemsize
    if math.prod(max(s, 1) for s in shape) * itemsize >= 2**63:
        raise Corrupt(f"tensor {name!r} has a shape {shape} too large for any array")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_int(o) for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise Corrupt(f"tensor {name!r} has invalid data offsets {offsets!r}")
    entry = Entry(CODES[dtype], tuple(shape), offsets[0], offsets[1])
    if entry.end - entry.begin != math.prod(entry.shape) * itemsize:
        raise Corrupt(
            f"tensor {name!r} of shape {tuple(shape)} {dtype} does not fill its {entry.end - entry.begin} bytes"
        )
    return entry


def parse_header(f: BinaryIO, size: int) -> Header:
    """Read and validate the header of a ``size``-byte file open at offset 0."""
    if size < 8:
        raise Corrupt(f"the file has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > size - 8:
        raise Corrupt(f"the header length {n} exceeds the {size - 8} bytes after it")
    if n > MAX_HEADER:
        raise Corrupt(f"the header length {n} exceeds the limit of {MAX_HEADER} bytes")
    raw = f.read(n)
    if len(raw) != n:
        raise Corrupt("the file ended early")
    if not raw.startswith(b"{"):
        raise Corrupt("the header is not a JSON object")
    try:
        parsed = bounded_loads(raw, max_depth=3, max_values=MAX_VALUES, object_pairs_hook=_no_duplicates)
    except JSONLimitError as e:
        raise Corrupt(f"the header is not valid JSON ({e})") from None
    del raw
    if not isinstance(parsed, dict):
        raise Corrupt("the header is not a JSON object")
    metadata = parsed.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise Corrupt("the __metadata__ entry is not a map of strings")
    entries = {name: _entry(name, record) for name, record in parsed.items()}
    data_size = size - 8 - n
    end = 0
    for name, e in sorted(entries.items(), key=lambda item: (item[1].begin, item[1].end)):
        if e.begin != end:
            raise Corrupt(f"tensor {name!r} starts at byte {e.begin}, expected {end} (a gap or an overlap)")
        end = e.end
    if end != data_size:
        raise Corrupt(f"the header describes {end} bytes of tensor data, the file holds {data_size}")
    return Header(entries, metadata, 8 + n, data_size)


def has_checksum(header: Header) -> bool:
    """Whether the file claims to be funcnn's (any ``funcnn.*`` metadata), and so must carry a checksum."""
    return any(k.startswith(RESERVED_PREFIX) for k in header.metadata)


def verify_checksum(f: BinaryIO, header: Header, into: memoryview | None = None) -> None:
    """Stream the data section through SHA-256 and compare; raise `Corrupt` on any difference.

    With ``into`` (``data_size`` bytes) the data is read into it as it is hashed (one
    pass); without, it goes through a fixed 4 MiB buffer and is not kept.
    """
    expected = header.metadata.get(CHECKSUM_KEY)
    if expected is None or header.metadata.get(ALGORITHM_KEY) != "sha256":
        raise Corrupt("its funcnn checksum entry is missing or damaged")
    entries = {
        name: {"dtype": NAMES[e.dtype], "shape": list(e.shape), "data_offsets": [e.begin, e.end]}
        for name, e in header.entries.items()
    }
    digest = hashlib.sha256(canonical(entries, header.metadata))
    f.seek(header.data_start)
    scratch = memoryview(bytearray(min(_CHUNK, header.data_size))) if into is None else None
    done = 0
    while done < header.data_size:
        step = min(_CHUNK, header.data_size - done)
        view = scratch[:step] if scratch is not None else into[done : done + step]
        n = read_exact(f, view)
        if not n:
            raise Corrupt("the file ended early")
        digest.update(view[:n])
        done += n
    if digest.hexdigest() != expected:
        raise Corrupt("its SHA-256 checksum does not match the contents")
