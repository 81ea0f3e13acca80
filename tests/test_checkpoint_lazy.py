"""funcnn.checkpoint.safe_open: one tensor without reading the file, what it verifies, hostile files."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

from funcnn.checkpoint import SafetensorsFile, load_file, safe_open, save, save_file


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.arange(-3, 3, dtype=np.int64),
        "u8": np.array([0, 255], np.uint8),
        "bool": np.array([[True, False]]),
        "scalar": np.array(2.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
    }


@pytest.mark.parametrize("writer", ["funcnn", "safetensors"])
def test_each_tensor_equals_load_file(tmp_path: Path, writer: str) -> None:
    path = tmp_path / "t.safetensors"
    tensors = _tensors()
    (save_file if writer == "funcnn" else safetensors.numpy.save_file)(tensors, path, metadata={"m": "1"})
    with safe_open(path, verify=True) as f:
        assert f.keys() == sorted(tensors) and f.metadata()["m"] == "1"
        assert f.verified is (writer == "funcnn")  # only funcnn's files carry a checksum
        for name, value in tensors.items():
            got = f.get_tensor(name)
            assert (
                got.dtype == value.dtype and got.shape == value.shape == f.shape(name) and f.dtype(name) == value.dtype
            )
            np.testing.assert_array_equal(got, value)
    with safetensors.safe_open(str(path), "np") as theirs, safe_open(path) as ours:
        assert theirs.keys() == ours.keys()


def test_bfloat16_from_torch(tmp_path: Path) -> None:
    t = torch.linspace(-1, 1, 6, dtype=torch.bfloat16).reshape(2, 3)
    safetensors.torch.save_file({"b": t, "c": torch.zeros(2)}, tmp_path / "t.safetensors")
    with safe_open(tmp_path / "t.safetensors") as f:
        b = f.get_tensor("b")
    assert b.dtype == jnp.bfloat16
    np.testing.assert_array_equal(b.astype(np.float32), t.float().numpy())


def test_a_checkpoint_leaf_by_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "c.safetensors"
    save(path, {"params": {"w": jnp.arange(3.0)}, "step": 4, "key": jax.random.key(0)})
    with safe_open(path, verify=True) as f:
        assert f.get_tensor("['params']['w']").tolist() == [0.0, 1.0, 2.0]
        assert int(f.get_tensor("['step']")) == 4


def test_one_small_tensor_costs_its_own_size_only(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    save_file({"big": np.zeros(16 << 20, np.uint8), "small": np.arange(4, dtype=np.int32)}, path)
    tracemalloc.start()
    try:
        with safe_open(path) as f:
            small = f.get_tensor("small")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert small.tolist() == [0, 1, 2, 3]
    assert peak < 1 << 20  # the 16 MB tensor was never read
    tracemalloc.start()
    try:
        with safe_open(path, verify=True) as f:  # streams the whole file, keeps none of it
            f.get_tensor("small")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 << 20


def test_verify_catches_a_flipped_bit_the_fast_path_does_not(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_file({"a": np.zeros(8, np.float32), "b": np.ones(8, np.float32)}, path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # inside "b" (tensors are stored in name order here)
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError,
        match=r"safe_open\('.*w.safetensors'\): '.*w.safetensors' is not a valid safetensors file \(its SHA-256 checksum does not match the contents\)",
    ):
        safe_open(path, verify=True)
    with safe_open(path) as f:  # documented: tensor bytes are not checked without verify
        assert f.get_tensor("a").tolist() == [0.0] * 8
        assert f.get_tensor("b")[-1] != 1.0


def test_hostile_and_careless_uses(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_file({"a": np.zeros(1000, np.float32)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(
        ValueError,
        match=r"is not a valid safetensors file \(the header describes 4000 bytes of tensor data, the file holds 3999\)",
    ):
        safe_open(path)
    path.write_bytes(data)
    f = safe_open(path)
    with pytest.raises(
        ValueError, match=r"safe_open\('.*'\): no tensor named 'b'; the file holds 1: 'a'; pass one of f.keys\(\)"
    ):
        f.get_tensor("b")
    with open(path, "r+b") as g:
        g.truncate(len(data) - 100)  # truncated while open
    with pytest.raises(
        ValueError, match=r"tensor 'a' needs 4000 bytes but the file ended after 3900; it was truncated while open"
    ):
        f.get_tensor("a")
    f.close()
    with pytest.raises(ValueError, match=r"the file is closed; read tensors inside the `with safe_open\(...\)` block"):
        f.get_tensor("a")
    assert repr(f).endswith("closed)")
    with pytest.raises(FileNotFoundError, match=r"safe_open\('.*nope'\): no file at '.*nope'; check the path"):
        safe_open(tmp_path / "nope")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match=r"is a named pipe \(FIFO\), not a regular file"):
            safe_open(tmp_path / "pipe")


def test_safetensors_file_is_the_type_safe_open_returns(tmp_path: Path) -> None:
    save_file({"a": np.zeros(2)}, tmp_path / "w.safetensors")
    with safe_open(tmp_path / "w.safetensors") as f:
        assert (
            isinstance(f, SafetensorsFile)
            and repr(f) == f"SafetensorsFile({str(tmp_path / 'w.safetensors')!r}, 1 tensors)"
        )
    np.testing.assert_array_equal(load_file(tmp_path / "w.safetensors")["a"], np.zeros(2))
