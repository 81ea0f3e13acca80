"""funcnn.checkpoint against hostile and careless files: special files, symlinks, odd names,
stale temporaries, headers built to exhaust memory, malformed manifests."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn
from funcnn import nn
from funcnn.checkpoint import (
    CheckpointManager,
    _format,
    _io,
    load_file,
    load_metadata,
    restore,
    save,
    save_file,
)
from funcnn.checkpoint import safetensors as st

ROOT = Path(__file__).resolve().parents[1]
CORRUPT = r"is not a valid safetensors file \({}\); nothing was loaded"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def _finishes(fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Run ``fn`` in a thread; fail (rather than hang the suite) if it blocks."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"blocked for {timeout} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def _file(path: Path, header: Any, data: bytes = b"", *, raw: bytes | None = None) -> Path:
    head = raw if raw is not None else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + data)
    return path


def _peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced allocation (MB) while ``fn`` runs (NumPy buffers and bytearrays are traced)."""
    return _peak_and_error(fn)[0]


def _peak_and_error(fn: Callable[[], Any]) -> tuple[float, str]:
    """Peak traced allocation (MB) while ``fn`` runs, and the message of the ValueError it raised ('' if none)."""
    message = ""
    tracemalloc.start()
    try:
        fn()
    except ValueError as e:
        message = str(e)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 1e6, message


# ------------------------------------------------------------ special files
@needs_fifo
def test_a_fifo_as_a_step_file_is_refused_by_name_without_blocking(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    manager.save(1, {"w": jnp.zeros(2)})
    os.mkfifo(tmp_path / "step_00000002.safetensors")
    assert manager.all_steps() == [1, 2]
    with pytest.raises(
        ValueError,
        match=r"restore: '.*step_00000002.safetensors' is a named pipe \(FIFO\), not a regular file; nothing was read",
    ):
        _finishes(lambda: manager.restore(like={"w": jnp.zeros(2)}))
    with pytest.raises(
        ValueError, match=r"load_file: '.*step_00000002.safetensors' is a named pipe \(FIFO\), not a regular file"
    ):
        _finishes(lambda: load_file(tmp_path / "step_00000002.safetensors"))
    with pytest.raises(ValueError, match=r"load_metadata: .* is a named pipe \(FIFO\)"):
        _finishes(lambda: load_metadata(tmp_path / "step_00000002.safetensors"))


@needs_fifo
def test_fit_resume_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    x, y = np.ones((4, 3), np.float32), np.ones((4, 1), np.float32)
    loader = funcnn.data.DataLoader((x, y), batch_size=2)
    os.mkfifo(tmp_path / "step_00000002.safetensors")
    with pytest.raises(ValueError, match=r"step_00000002.safetensors' is a named pipe \(FIFO\), not a regular file"):
        _finishes(
            lambda: funcnn.train.fit(
                nn.Linear(3, 1),
                optax.sgd(0.1),
                loader,
                loss=nn.MSELoss(),
                epochs=1,
                checkpoint=tmp_path,
                resume=True,
                progress=False,
                key=jax.random.key(0),
            )
        )


def test_a_character_device_is_refused(tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(ValueError, match=r"load_file: '/dev/zero' is a character device, not a regular file"):
        _finishes(lambda: load_file("/dev/zero"))


# ----------------------------------------------------------------- symlinks
def test_a_symlinked_step_file_is_refused_unread(tmp_path: Path) -> None:
    other = CheckpointManager(tmp_path / "other")
    other.save(5, {"w": jnp.full(2, 7.0)})
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"x" * 1234)
    manager = CheckpointManager(tmp_path / "run")
    manager.save(1, {"w": jnp.zeros(2)})
    os.symlink(other.path(5), manager.path(2))
    like = {"w": jnp.zeros(2)}
    with pytest.raises(
        ValueError,
        match=r"\.restore: '.*step_00000002.safetensors' is a symbolic link, not a regular file; nothing was read",
    ):
        manager.restore(like=like)
    os.remove(manager.path(2))
    os.symlink(secret, manager.path(2))
    with pytest.raises(ValueError, match=r"is a symbolic link, not a regular file") as info:
        manager.restore(2, like=like)
    assert "1234" not in str(info.value) and "1226" not in str(info.value)  # nothing about the target leaks
    # restore(path) and load_file(path) follow a link the caller names (e.g. a hub cache)
    os.remove(manager.path(2))
    os.symlink(other.path(5), tmp_path / "latest.safetensors")
    assert restore(tmp_path / "latest.safetensors", like=like)["w"].tolist() == [7.0, 7.0]


# ---------------------------------------------------------------- step names
def test_step_numbers_are_ascii_digits_only(tmp_path: Path) -> None:
    (tmp_path / "step_\u0669.safetensors").write_bytes(b"")  # ARABIC-INDIC DIGIT NINE
    (tmp_path / "step_\uff11\uff12.safetensors").write_bytes(b"")  # FULLWIDTH 1 2
    manager = CheckpointManager(tmp_path)
    assert manager.all_steps() == []
    manager.save(3, {"w": jnp.zeros(2)})  # not blocked by a "step 9"
    assert manager.all_steps() == [3] and manager.latest_step() == 3


# ------------------------------------------------------- stale temporaries
def _tmp(directory: Path, step: int, pid: int, data: bytes = b"partial") -> Path:
    path = directory / f".step_{step:08d}.safetensors.{pid}-0123456789ab.tmp"
    path.write_bytes(data)
    return path


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(_io.fcntl is None, reason="flock: POSIX only (Windows refuses to delete open files instead)")
def test_a_temporary_whose_writer_is_alive_is_kept(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    live = _tmp(tmp_path, 1, pid=os.getpid() + 1)
    fd = os.open(live, os.O_RDWR)
    _io.fcntl.flock(fd, _io.fcntl.LOCK_EX)  # as a writer in another process holds it
    try:
        manager.save(2, {"w": jnp.zeros(2)})
        assert live.exists()
    finally:
        os.close(fd)  # the writer dies: the kernel drops its lock
    manager.save(3, {"w": jnp.zeros(2)})
    assert not live.exists()


def test_fresh_empty_and_own_temporaries_are_kept_old_empty_ones_removed(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    fresh_empty = _tmp(tmp_path, 1, pid=os.getpid() + 1, data=b"")  # a writer between creating and locking it
    own = _tmp(tmp_path, 2, pid=os.getpid())  # this process may be writing it on another thread
    old_empty = _tmp(tmp_path, 3, pid=os.getpid() + 2, data=b"")
    os.utime(old_empty, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / ".notes.txt.123-0123456789ab.tmp"  # not a step file's: not the manager's to remove
    other.write_bytes(b"x")
    manager.save(4, {"w": jnp.zeros(2)})
    assert fresh_empty.exists() and own.exists() and not old_empty.exists() and other.exists()


_SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from funcnn import checkpoint
    manager = checkpoint.CheckpointManager(sys.argv[1], max_to_keep=2)
    for step in range(int(sys.argv[2])):
        manager.save(step, {"w": np.full(1_000_000, step, np.float32)})
    print("done")
    """
)


def test_concurrent_cleanup_never_removes_a_live_writers_temporary(tmp_path: Path) -> None:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    writer = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(tmp_path), "20"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    removed: list[str] = []
    overlaps = 0  # cleanups that ran while a live temporary was there: the test has teeth
    while writer.poll() is None:
        overlaps += bool(_temporaries(tmp_path))
        removed += _io.remove_stale_temporaries(str(tmp_path), r"step_[0-9]+\.safetensors")
        time.sleep(0.002)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0 and out.decode().strip() == "done", err.decode()
    assert removed == [] and overlaps > 0
    manager = CheckpointManager(tmp_path)
    assert manager.all_steps() == [18, 19] and _temporaries(tmp_path) == []
    assert manager.restore(like={"w": np.zeros(1_000_000, np.float32)})["w"][0] == 19


# ------------------------------------------------------- header bounds and shapes
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            {"w": {"dtype": "F32", "shape": [0, 2**63], "data_offsets": [0, 0]}},
            r"tensor 'w' has a shape \[0, 9223372036854775808\] too large for any array",
        ),
        (
            {"w": {"dtype": "F32", "shape": [0, 2**61], "data_offsets": [0, 0]}},
            r"tensor 'w' has a shape \[0, 2305843009213693952\] too large for any array",
        ),
        (
            {"w": {"dtype": "U8", "shape": [0] * 65, "data_offsets": [0, 0]}},
            r"tensor 'w' has 65 dimensions, more than the 64 NumPy supports",
        ),
        (
            {"w": {"dtype": "F32", "shape": [0, 2**40, 2**40], "data_offsets": [0, 0]}},
            r"tensor 'w' has a shape .* too large for any array",
        ),
    ],
    ids=["zero-and-2**63", "zero-and-2**61-f32", "65-dims", "zero-and-2**80"],
)
def test_shapes_numpy_cannot_build_are_refused(tmp_path: Path, header: Any, reason: str) -> None:
    path = _file(tmp_path / "w.safetensors", header)
    with pytest.raises(ValueError, match=CORRUPT.format(reason)):
        load_file(path)


def test_zero_sized_tensors_within_numpys_limits_still_load(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "w.safetensors",
        {
            "a": {"dtype": "F32", "shape": [0, 2**60 - 1], "data_offsets": [0, 0]},
            "b": {"dtype": "U8", "shape": [0] * 64, "data_offsets": [0, 0]},
        },
    )
    out = load_file(path)
    assert out["a"].shape == (0, 2**60 - 1) and out["b"].ndim == 64


def test_deep_nesting_in_the_header_is_refused_without_recursion_error(tmp_path: Path) -> None:
    deep = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = _file(tmp_path / "w.safetensors", None, raw=deep)
    with pytest.raises(
        ValueError,
        match=CORRUPT.format(
            r"the header is not valid JSON \(it nests deeper than 3 levels or its brackets do not balance\)"
        ),
    ):
        load_file(path)
    _file(path, None, raw=b'{"a":' + b"[" * 100_000)
    with pytest.raises(ValueError, match=r"it nests deeper than 3 levels or its brackets do not balance"):
        load_file(path)


def test_a_header_of_many_small_containers_is_refused_cheaply(tmp_path: Path) -> None:
    n = 2_000_000
    raw = b'{"a":[' + b"[]," * n + b"[]]}"
    path = _file(tmp_path / "w.safetensors", None, raw=raw)
    start = time.perf_counter()
    with pytest.raises(
        ValueError,
        match=CORRUPT.format(
            rf"the header is not valid JSON \(it holds about {2 * n + 5} values, more than the limit of {_format.MAX_VALUES}\)"
        ),
    ):
        load_file(path)
    assert time.perf_counter() - start < 10  # was 8-30 s and +2.5 GB (a hang guard, not a benchmark)
    assert _peak_mb(lambda: load_file(path)) < 64


@pytest.mark.parametrize(
    ("item", "counted"),
    [(b'{"a":0}', 4), (b'"ab"', 1), (b'"\\"\\"\\"\\""', 1)],  # the costliest per value, measured
    ids=["one-entry-objects", "short-strings", "escapes"],
)
def test_the_worst_headers_within_the_limits_stay_under_64_mb(tmp_path: Path, item: bytes, counted: int) -> None:
    # fill the value budget with the costliest values per counted value, and the length budget with a string
    body = b'"b":[' + b",".join([item] * (_format.MAX_VALUES // counted - 100)) + b"]}"
    raw = b'{"__metadata__":{"a":"' + b"x" * (_format.MAX_HEADER - len(body) - 64) + b'"},' + body
    path = _file(tmp_path / "w.safetensors", None, raw=raw)
    peak, message = _peak_and_error(lambda: load_file(path))
    assert "(tensor 'b' has a malformed record)" in message  # parsed in full
    assert peak < path.stat().st_size / 1e6 + 64


def test_a_string_of_escapes_costs_no_memory_to_scan(tmp_path: Path) -> None:
    raw = b'{"__metadata__":{"a":"' + b'\\"' * 2_000_000 + b'"}}'
    path = _file(tmp_path / "w.safetensors", None, raw=raw)
    assert load_metadata(path)["a"] == '"' * 2_000_000
    assert _peak_mb(lambda: load_metadata(path)) < 3 * len(raw) / 1e6 + 8


def test_a_header_length_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "sparse.safetensors"
    n = _format.MAX_HEADER + 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", n) + b"{")
        f.truncate(8 + n)  # sparse: no disk used
    with pytest.raises(
        ValueError, match=CORRUPT.format(rf"the header length {n} exceeds the limit of {_format.MAX_HEADER} bytes")
    ):
        load_file(path)
    assert _peak_mb(lambda: load_file(path)) < 1


def test_a_large_sparse_file_failing_its_checksum_is_never_held_in_memory(tmp_path: Path) -> None:
    size = 256 << 20
    path = tmp_path / "big.safetensors"
    save_file({"w": np.zeros(4, np.float32)}, path)
    head = st.read_header("test", path)
    entries = {"w": {"dtype": "U8", "shape": [size], "data_offsets": [0, size]}}
    header = json.dumps({"__metadata__": head.metadata, **entries}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + size)
    with pytest.raises(ValueError, match=CORRUPT.format("its SHA-256 checksum does not match the contents")):
        load_file(path)
    assert _peak_mb(lambda: load_file(path)) < 16  # was +256 MB before the checksum failed


# ------------------------------------------------------------------ manifests
def _with_manifest(path: Path, manifest: Any, tensors: dict[str, np.ndarray] | None = None) -> Path:
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    st.write("test", path, tensors if tensors is not None else {"['w']": np.zeros(2)}, {"funcnn.manifest": text})
    return path


LEAVES = [{"path": "['w']", "shape": [2], "dtype": "float64"}]


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ({"format": "funcnn.checkpoint", "version": "1", "leaves": LEAVES}, r"version '1' is not a positive integer"),
        ({"format": "funcnn.checkpoint", "version": True, "leaves": LEAVES}, r"version True is not a positive integer"),
        ({"format": "funcnn.checkpoint", "version": 0, "leaves": LEAVES}, r"version 0 is not a positive integer"),
        ({"format": "funcnn.checkpoint", "version": 1, "leaves": {"a": 1}}, r"`leaves` is not a list"),
        (
            {"format": "funcnn.checkpoint", "version": 1, "leaves": [["['w']", [2]]]},
            r"leaf 0 is not a unique \{path, shape, dtype\[, key\]\} record",
        ),
        (
            {"format": "funcnn.checkpoint", "version": 1, "leaves": [{**LEAVES[0], "shape": "ab"}]},
            r"leaf 0 is not a unique",
        ),
        ({"format": "funcnn.checkpoint", "version": 1, "leaves": LEAVES * 2}, r"leaf 1 is not a unique"),
        ([1, 2], r"format \[1, 2\], expected 'funcnn.checkpoint'"),
        ("[" * 40 + "]" * 40, r"not valid JSON: it nests deeper than 4 levels"),
        ("[" + "0," * 50_000 + "0]", r"not valid JSON: it holds about 50002 values, more than the limit of 81"),
        ("{" + '"a": [[[[1]]]]' + "}", r"not valid JSON: it nests deeper than 4 levels"),
    ],
    ids=[
        "version-string",
        "version-bool",
        "version-zero",
        "leaves-dict",
        "leaf-list",
        "shape-string",
        "repeated-path",
        "not-an-object",
        "deep-nesting",
        "too-many-values",
        "five-levels",
    ],
)
def test_malformed_manifests_are_refused_by_name(tmp_path: Path, manifest: Any, reason: str) -> None:
    path = _with_manifest(tmp_path / "m.safetensors", manifest)
    with pytest.raises(
        ValueError,
        match=rf"restore: '.*m.safetensors' has a malformed manifest \({reason}.*\); it was not written by funcnn",
    ):
        restore(path, like={"w": np.zeros(2)})


def test_a_newer_version_still_says_upgrade(tmp_path: Path) -> None:
    path = _with_manifest(
        tmp_path / "m.safetensors", {"format": "funcnn.checkpoint", "version": 7, "funcnn": "9.1", "leaves": LEAVES}
    )
    with pytest.raises(
        ValueError,
        match=r"uses checkpoint format version 7, newer than this funcnn reads \(1\); upgrade funcnn \(it was written by funcnn 9.1\)",
    ):
        restore(path, like={"w": np.zeros(2)})


# ----------------------------------------------------------------- save values
def test_save_refuses_an_int_beyond_int64_by_leaf(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError,
        match=r"save: leaf \['a'\]\['b'\] is the int 1180591620717411303424, outside the int64 range \[-2\*\*63, 2\*\*63 - 1\]",
    ):
        save(tmp_path / "c.safetensors", {"a": {"b": 2**70}})
    with pytest.raises(ValueError, match=r"save: leaf \[0\] is the int -9223372036854775809, outside the int64 range"):
        save(tmp_path / "c.safetensors", [-(2**63) - 1])
    assert not (tmp_path / "c.safetensors").exists()
    save(tmp_path / "c.safetensors", {"edge": 2**63 - 1})
    assert restore(tmp_path / "c.safetensors", like={"edge": 0})["edge"] == 2**63 - 1
