"""Property-based fuzzing of the safetensors reader, `safe_open` and the checkpoint manifest.

Every mutated file (random truncations, bit flips, rewritten length prefixes, header
fields replaced by arbitrary JSON, deep nesting, huge offsets and shapes, mutated
manifests behind a valid checksum) must be read or refused in bounded time and
memory, and the only error allowed is the documented ``ValueError``.

The memory bound: peak traced allocation (``tracemalloc``, which sees NumPy buffers
and bytearrays) of at most the file's size plus 64 MB. Hangs: every read must finish
within ``_SECONDS`` of wall time (a hang would block far longer), measured directly
rather than with hypothesis' ``deadline``, which would flake on a loaded machine.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import struct
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funcnn.checkpoint import load_file, load_metadata, restore, safe_open, save
from funcnn.checkpoint import safetensors as fst

_LIMIT_BYTES = 64 * 1024 * 1024
_OURS = re.compile(r"(load_file|load_metadata|restore|safe_open\('.*'\)): ")
_SECONDS = 10.0
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FUZZ_HEAVY = settings(FUZZ, max_examples=10)  # each example parses a header of up to a few MB, four times

_DIR = tempfile.mkdtemp(prefix="funcnn-fuzz-")
atexit.register(shutil.rmtree, _DIR, True)
_LIKE = {"w": jnp.zeros((2, 3)), "n": np.zeros(3, np.int64), "step": 0, "key": jax.random.key(1)}


def _make_files() -> dict[str, bytes]:
    ours = os.path.join(_DIR, "ours.safetensors")
    save(ours, {"w": jnp.arange(6.0).reshape(2, 3), "n": np.arange(3), "step": 3, "key": jax.random.key(0)})
    theirs = os.path.join(_DIR, "theirs.safetensors")
    safetensors.numpy.save_file({"a": np.arange(5, dtype=np.int16), "b": np.ones((2, 2), np.float32)}, theirs)
    return {"ours": Path(ours).read_bytes(), "theirs": Path(theirs).read_bytes()}


FILES = _make_files()


def _split(data: bytes) -> tuple[dict[str, Any], bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: Any, body: bytes, *, raw: bytes | None = None) -> bytes:
    head = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + body


def _readers(path: str) -> list[Callable[[], Any]]:
    def lazy() -> None:
        with safe_open(path) as f:
            for name in f.keys():
                f.get_tensor(name)
        with safe_open(path, verify=True) as f:
            f.keys()

    return [lambda: load_file(path), lambda: load_metadata(path), lambda: restore(path, like=_LIKE), lazy]


def _check(data: bytes, name: str = "fuzz.safetensors") -> None:
    """Every reader reads or refuses ``data`` with ValueError, in bounded time and memory."""
    path = os.path.join(_DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    for read in _readers(path):
        tracemalloc.start()
        start = time.perf_counter()
        try:
            read()
        except ValueError as e:  # the documented error, raised by funcnn itself (not a raw NumPy one)
            assert _OURS.match(str(e)), f"{type(e).__name__}: {e}"
        finally:
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert elapsed < _SECONDS, f"took {elapsed:.1f} s"
        assert peak < len(data) + _LIMIT_BYTES, f"peak {peak / 1e6:.0f} MB for a {len(data)}-byte file"


# ---------------------------------------------------------------- raw bytes
@FUZZ
@given(which=st.sampled_from(sorted(FILES)), cut=st.integers(0, 10_000))
def test_truncations(which: str, cut: int) -> None:
    data = FILES[which]
    _check(data[: cut % (len(data) + 1)])


@FUZZ
@given(which=st.sampled_from(sorted(FILES)), flips=st.lists(st.integers(0, 2**20), min_size=1, max_size=8))
def test_bit_flips(which: str, flips: list[int]) -> None:
    data = bytearray(FILES[which])
    for f in flips:
        data[(f // 8) % len(data)] ^= 1 << (f % 8)
    _check(bytes(data))


@FUZZ
@given(
    which=st.sampled_from(sorted(FILES)),
    length=st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 4096)),
    extra=st.binary(max_size=64),
)
def test_length_prefixes(which: str, length: int, extra: bytes) -> None:
    data = FILES[which]
    _check(struct.pack("<Q", length) + data[8:] + extra)


# ----------------------------------------------------------- header mutations
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
_DIMS = st.integers(0, 4) | st.sampled_from([2**31, 2**32, 2**62, 2**63, 2**64, -1])
_FIELDS = {
    "dtype": st.sampled_from(["F32", "F64", "I16", "U8", "BOOL", "BF16", "C64", "F8_E4M3", "f32", "Q7", ""]) | _JSON,
    "shape": st.lists(_DIMS, max_size=70) | _JSON,
    "data_offsets": st.lists(st.integers(0, 64) | st.sampled_from([2**32, 2**63, 2**64, -1]), min_size=0, max_size=3)
    | _JSON,
}


@FUZZ
@given(
    which=st.sampled_from(sorted(FILES)),
    field=st.sampled_from(sorted(_FIELDS)),
    data=st.data(),
    strip_checksum=st.booleans(),
)
def test_header_field_mutations(which: str, field: str, data: st.DataObject, strip_checksum: bool) -> None:
    header, body = _split(FILES[which])
    if strip_checksum:  # without funcnn metadata the reader checks structure only: reach every header check
        header.pop("__metadata__", None)
    names = sorted(k for k in header if k != "__metadata__")
    name = data.draw(st.sampled_from(names))
    header[name] = {**header[name], field: data.draw(_FIELDS[field])}
    _check(_join(header, body))


_CODES = ["BOOL", "U8", "I8", "I16", "U32", "I64", "F16", "BF16", "F32", "F64", "C64", "F8_E4M3", "F8_E5M2"]
_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "I16": 2,
    "U32": 4,
    "I64": 8,
    "F16": 2,
    "BF16": 2,
    "F32": 4,
    "F64": 8,
    "C64": 8,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}


@FUZZ
@given(
    tensors=st.lists(
        st.tuples(
            st.text(max_size=6),
            st.sampled_from(_CODES),
            st.lists(_DIMS | st.just(0), max_size=6)
            | st.lists(st.sampled_from([0, 1, 1, 2]), min_size=62, max_size=68),
        ),
        max_size=4,
    ),
    fill=st.binary(max_size=64),
)
def test_consistent_headers_with_odd_shapes(tensors: list[tuple[str, str, list[int]]], fill: bytes) -> None:
    """Offsets that tile the data exactly, so only the shape and dtype checks stand between a
    hostile shape (65 dimensions, a zero next to 2**63) and NumPy."""
    header: dict[str, Any] = {}
    offset = 0
    for name, code, shape in tensors:
        size = 1
        for d in shape:
            size *= d
        nbytes = size * _ITEMSIZE[code] if all(d >= 0 for d in shape) else 0
        if nbytes > 4096:
            shape, nbytes = [0, *shape], 0
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    _check(_join(header, (fill * (offset // max(len(fill), 1) + 1))[:offset] if fill else bytes(offset)))


@FUZZ
@given(which=st.sampled_from(sorted(FILES)), key=st.text(max_size=12), value=_JSON, drop=st.booleans())
def test_header_entries_added_or_replaced(which: str, key: str, value: Any, drop: bool) -> None:
    header, body = _split(FILES[which])
    if drop:
        header.pop("__metadata__", None)
    header[key] = value
    _check(_join(header, body))


@FUZZ_HEAVY
@given(
    depth=st.integers(1, 100_000),
    opener=st.sampled_from(["[", '{"a":']),
    closed=st.booleans(),
    where=st.sampled_from(["top", "record", "metadata"]),
)
def test_deep_nesting(depth: int, opener: str, closed: bool, where: str) -> None:
    closer = "]" if opener == "[" else "}"
    nest = (opener * depth + "1" + closer * depth) if closed else opener * depth
    raw = {
        "top": nest,
        "record": '{"w": ' + nest + "}",
        "metadata": '{"__metadata__": {"a": ' + nest + "}}",
    }[where].encode()
    _check(_join(None, b"", raw=raw))


@FUZZ_HEAVY
@given(count=st.integers(1, 60_000), item=st.sampled_from(["[]", "{}", '""', "0", '"ab"']))
def test_wide_headers(count: int, item: str) -> None:
    raw = ('{"a": [' + ",".join([item] * count) + "]}").encode()
    _check(_join(None, b"", raw=raw))


# ------------------------------------------------------------ manifest mutations
def _ours_with_manifest(manifest_text: str) -> bytes:
    path = os.path.join(_DIR, "manifest.safetensors")
    tensors = {
        "['w']": np.arange(6.0, dtype=np.float32).reshape(2, 3),
        "['n']": np.arange(3),
        "['step']": np.asarray(3),
        "['key']": np.zeros(2, np.uint32),
    }
    fst.write("fuzz", path, tensors, {"funcnn.manifest": manifest_text})  # a valid checksum: reach the manifest checks
    return Path(path).read_bytes()


_GOOD_MANIFEST = json.loads(fst.read_header("fuzz", os.path.join(_DIR, "ours.safetensors")).metadata["funcnn.manifest"])


@FUZZ
@given(key=st.sampled_from(["format", "version", "funcnn", "leaves", "extra"]), value=_JSON, data=st.data())
def test_manifest_field_mutations(key: str, value: Any, data: st.DataObject) -> None:
    manifest = json.loads(json.dumps(_GOOD_MANIFEST))
    if data.draw(st.booleans()) and manifest["leaves"]:
        leaf = manifest["leaves"][data.draw(st.integers(0, len(manifest["leaves"]) - 1))]
        leaf[data.draw(st.sampled_from(["path", "shape", "dtype", "key", "extra"]))] = value
    else:
        manifest[key] = value
    _check(_ours_with_manifest(json.dumps(manifest)))


@FUZZ
@given(
    text=st.text(max_size=40)
    | st.builds(lambda d, o: o * d, st.integers(1, 50_000), st.sampled_from(["[", '{"a":', "[{"]))
)
def test_manifest_texts(text: str) -> None:
    _check(_ours_with_manifest(text))


# --------------------------------------------------------------- sparse files
@pytest.mark.parametrize("claim", ["header", "data"])
def test_sparse_files_claiming_a_gigabyte(claim: str) -> None:
    """Sizes claimed by a sparse file cost no memory: refused or streamed, never held."""
    header, _ = _split(FILES["ours"])
    size = 1 << 30
    path = os.path.join(_DIR, "sparse.safetensors")
    with open(path, "wb") as f:
        if claim == "header":
            f.write(struct.pack("<Q", size) + b"{")
        else:
            entries = {k: v for k, v in header.items() if k == "__metadata__"}
            entries["x"] = {"dtype": "U8", "shape": [size], "data_offsets": [0, size]}
            head = json.dumps(entries).encode()
            f.write(struct.pack("<Q", len(head)) + head)
        f.truncate(8 + size + 64)
    for read in (lambda: load_file(path), lambda: safe_open(path).close()):
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=r"is not a valid safetensors file"):
                read()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16 << 20
    os.remove(path)
