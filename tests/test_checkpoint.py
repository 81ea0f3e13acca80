"""funcnn.checkpoint: safetensors interop, full-state save/restore, atomicity, corruption, manager."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import funcnn
from funcnn import nn
from funcnn.checkpoint import (
    CheckpointManager,
    _io,
    load_file,
    load_metadata,
    load_weights,
    restore,
    save,
    save_file,
    save_weights,
)
from funcnn.checkpoint import safetensors as st
from funcnn.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------ helpers
def _mlp(hidden: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def _torch_mlp(hidden: int = 4) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))


def _training_state() -> dict[str, Any]:
    """Params and adam state after two real steps, keys, a step counter, a loader position."""
    model = _mlp()
    opt = optax.adam(1e-2)
    params = model.init(jax.random.key(0))
    opt_state = opt.init(params)
    step = funcnn.train.make_train_step(lambda p, x, y: ((model.apply(p, x) - y) ** 2).mean(), opt)
    for _ in range(2):  # one compilation
        params, opt_state, _ = step(params, opt_state, np.ones((5, 3), np.float32), np.zeros((5, 2), np.float32))
    loader = DataLoader((np.zeros((10, 1)), np.arange(10)), 3)
    loader.load_state({"epoch": 2, "batch": 1})
    return {
        "params": params,
        "opt_state": opt_state,
        "key": jax.random.key(42),
        "keys": jax.random.split(jax.random.key(1), 3),
        "rbg_key": jax.random.key(5, impl="rbg"),
        "step": jnp.asarray(2, jnp.int32),
        "loader": loader.state(),
        "lr": 0.01,
        "done": False,
        "host": np.arange(6, dtype=np.int64).reshape(2, 3),
        "half": jnp.linspace(0, 1, 5, dtype=jnp.bfloat16),
        "empty": (),
        "none": None,
    }


def _bits(leaf: Any) -> tuple[str, Any, bytes]:
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return ("key:" + str(jax.random.key_impl(leaf)), leaf.shape, np.asarray(jax.random.key_data(leaf)).tobytes())
    if isinstance(leaf, (bool, int, float)):
        return (type(leaf).__name__, (), repr(leaf).encode())
    a = np.asarray(leaf)
    return (f"{type(leaf).__name__}:{a.dtype}", a.shape, a.tobytes())


def assert_bit_identical(a: Any, b: Any) -> None:
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for (path, x), y in zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree_util.tree_leaves(b)):
        assert _bits(x) == _bits(y), jax.tree_util.keystr(path)


def _small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.safetensors"
    save(path, {"w": jnp.arange(6.0).reshape(2, 3), "step": 3, "key": jax.random.key(0)}, metadata={"run": "a"})
    return path


LIKE_SMALL = {"w": jnp.zeros((2, 3)), "step": 0, "key": jax.random.key(1)}


# --------------------------------------------------------- safetensors interop
def _mixed_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "f16": rng.standard_normal((2, 2)).astype(np.float16),
        "i64": np.arange(-3, 3, dtype=np.int64),
        "i32": np.arange(7, dtype=np.int32).reshape(7, 1),
        "i16": np.array([-2, 9], np.int16),
        "i8": np.array([-1, 1, 3], np.int8),
        "u8": np.array([0, 255], np.uint8),
        "bool": np.array([[True, False]]),
        "scalar": np.array(2.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
    }


def test_save_file_reads_back_with_the_safetensors_package(tmp_path: Path) -> None:
    tensors = _mixed_tensors()
    path = tmp_path / "mixed.safetensors"
    save_file(tensors, path, metadata={"note": "x"})
    for theirs in (
        safetensors.numpy.load_file(path),
        {k: v.numpy() for k, v in safetensors.torch.load_file(path).items()},
    ):
        assert set(theirs) == set(tensors)
        for name, value in tensors.items():
            assert theirs[name].dtype == value.dtype and theirs[name].shape == value.shape, name
            np.testing.assert_array_equal(theirs[name], value)
    with safetensors.safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta["note"] == "x" and len(meta["funcnn.sha256"]) == 64
    assert load_metadata(path) == meta


def test_load_file_reads_files_written_by_the_safetensors_package(tmp_path: Path) -> None:
    tensors = _mixed_tensors()
    path = tmp_path / "theirs.safetensors"
    safetensors.numpy.save_file(tensors, path, metadata={"format": "np"})
    ours = load_file(path)
    assert set(ours) == set(tensors)
    for name, value in tensors.items():
        assert ours[name].dtype == value.dtype and ours[name].shape == value.shape, name
        np.testing.assert_array_equal(ours[name], value)
    assert load_metadata(path) == {"format": "np"}


def test_bfloat16_both_ways_with_torch(tmp_path: Path) -> None:
    t = torch.linspace(-2, 2, 7, dtype=torch.bfloat16).reshape(7, 1)
    safetensors.torch.save_file({"b": t}, tmp_path / "t.safetensors")
    ours = load_file(tmp_path / "t.safetensors")["b"]
    assert ours.dtype == jnp.bfloat16
    np.testing.assert_array_equal(ours.astype(np.float32), t.float().numpy())
    save_file({"b": ours}, tmp_path / "o.safetensors")
    back = safetensors.torch.load_file(tmp_path / "o.safetensors")["b"]
    assert back.dtype == torch.bfloat16 and torch.equal(back, t)


def test_save_weights_loads_into_torch_and_gives_the_same_outputs(tmp_path: Path) -> None:
    model = _mlp()
    params = model.init(jax.random.key(3))
    path = tmp_path / "mlp.safetensors"
    save_weights(path, params, metadata={"arch": "mlp"})
    module = _torch_mlp()
    module.load_state_dict(safetensors.torch.load_file(path))  # strict
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        module(torch.from_numpy(x)).detach().numpy(), model.apply(params, x), rtol=1e-6, atol=1e-6
    )
    assert load_metadata(path)["arch"] == "mlp"


def test_load_weights_reads_a_torch_file_and_gives_the_same_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = _torch_mlp()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(module.state_dict(), path)
    model = _mlp()
    params, state = load_weights(path, model)
    assert state == {}
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        model.apply(params, x), module(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6
    )
    # round trip through funcnn is exact
    save_weights(tmp_path / "again.safetensors", params)
    again = load_file(tmp_path / "again.safetensors")
    for k, v in module.state_dict().items():
        np.testing.assert_array_equal(again[k], v.numpy())


def test_load_weights_for_another_model_names_the_mismatched_keys(tmp_path: Path) -> None:
    path = tmp_path / "mlp.safetensors"
    save_weights(path, _mlp().init(jax.random.key(0)))
    other = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 1))
    with pytest.raises(
        ValueError,
        match=r"(?s)load_weights: the weights in .*mlp.safetensors' do not fit the model: .*"
        r"0.weight: expected shape \(5, 3\), got \(4, 3\).*missing keys: '3.weight', '3.bias'",
    ):
        load_weights(path, other)
    params, _ = load_weights(path, _mlp(hidden=4), strict=False)
    assert params["0"]["weight"].shape == (4, 3)


def test_load_weights_refuses_a_full_checkpoint(tmp_path: Path) -> None:
    path = _small_file(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"is a full training checkpoint written by funcnn.checkpoint.save, not a weights file; read it with funcnn.checkpoint.restore",
    ):
        load_weights(path, _mlp())


# ------------------------------------------------------------ full state, bit for bit
def test_full_training_state_round_trips_bit_for_bit(tmp_path: Path) -> None:
    tree = _training_state()
    path = tmp_path / "state.safetensors"
    save(path, tree, metadata={"epoch": "2"})
    back = restore(path, like=tree)
    assert_bit_identical(tree, back)
    assert type(back["loader"]["epoch"]) is int and type(back["lr"]) is float and back["done"] is False
    assert isinstance(back["host"], np.ndarray) and isinstance(back["params"]["0"]["weight"], jax.Array)
    assert load_metadata(path)["epoch"] == "2"
    resumed = DataLoader((np.zeros((10, 1)), np.arange(10)), 3, start=back["loader"])
    assert resumed.state() == {"epoch": 2, "batch": 1}


def test_restore_accepts_an_abstract_like_tree(tmp_path: Path) -> None:
    tree = {k: v for k, v in _training_state().items() if k in ("params", "opt_state", "key", "step")}
    save(tmp_path / "s.safetensors", tree)
    back = restore(tmp_path / "s.safetensors", like=jax.eval_shape(lambda: tree))
    assert_bit_identical(tree, back)


def test_restored_state_continues_training_identically(tmp_path: Path) -> None:
    model = _mlp()
    opt = optax.adam(1e-2)
    loss = lambda p, x, y: ((model.apply(p, x) - y) ** 2).mean()  # noqa: E731
    step = funcnn.train.make_train_step(loss, opt, donate=False)
    x, y = jnp.ones((5, 3)), jnp.zeros((5, 2))
    params = model.init(jax.random.key(0))
    opt_state = opt.init(params)
    params, opt_state, _ = step(params, opt_state, x, y)
    save(tmp_path / "c.safetensors", {"params": params, "opt_state": opt_state})
    back = restore(tmp_path / "c.safetensors", like={"params": params, "opt_state": opt_state})
    a = step(params, opt_state, x, y)
    b = step(back["params"], back["opt_state"], x, y)
    assert_bit_identical(a, b)


# ------------------------------------------------------------- mismatches refused
def test_restore_for_another_model_names_every_mismatched_path(tmp_path: Path) -> None:
    tree = {"params": _mlp().init(jax.random.key(0)), "step": 1}
    save(tmp_path / "m.safetensors", tree)
    other = {
        "params": nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 1)).init(jax.random.key(0)),
        "step": 1,
    }
    with pytest.raises(ValueError) as info:
        restore(tmp_path / "m.safetensors", like=other)
    msg = str(info.value)
    assert "does not match `like` (5 paths differ); nothing was restored" in msg
    for line in (
        "['params']['0']['weight']: the checkpoint has float32[4, 3], `like` expects float32[5, 3]",
        "['params']['0']['bias']: the checkpoint has float32[4], `like` expects float32[5]",
        "['params']['2']['weight']: the checkpoint has float32[2, 4], `like` expects float32[2, 5]",
        "['params']['3']['weight']: missing from the checkpoint (`like` expects float32[1, 2])",
        "['params']['3']['bias']: missing from the checkpoint (`like` expects float32[1])",
    ):
        assert line in msg
    save(tmp_path / "e.safetensors", {"w": jnp.zeros(2), "extra": jnp.zeros(2)})
    with pytest.raises(ValueError, match=r"\['extra'\]: in the checkpoint \(float32\[2\]\) but not in `like`"):
        restore(tmp_path / "e.safetensors", like={"w": jnp.zeros(2)})


def test_restore_refuses_dtype_and_key_mismatches(tmp_path: Path) -> None:
    path = _small_file(tmp_path)
    like = {"w": jnp.zeros((2, 3), jnp.bfloat16), "step": 0.0, "key": jax.random.key_data(jax.random.key(0))}
    with pytest.raises(ValueError) as info:
        restore(path, like=like)
    msg = str(info.value)
    assert "['w']: the checkpoint has float32[2, 3], `like` expects bfloat16[2, 3]" in msg
    assert "['step']: the checkpoint has int64[], `like` expects float64[]" in msg
    assert "['key']: the checkpoint has PRNG key (threefry2x32) with data uint32[2], `like` expects uint32[2]" in msg
    with pytest.raises(
        ValueError,
        match=r"PRNG key \(threefry2x32\) with data uint32\[2\], `like` expects PRNG key \(rbg\) with data uint32\[4\]",
    ):
        restore(path, like={**LIKE_SMALL, "key": jax.random.key(0, impl="rbg")})


# ------------------------------------------------------------------- corruption
def test_every_truncation_is_refused(tmp_path: Path) -> None:
    data = _small_file(tmp_path).read_bytes()
    bad = tmp_path / "bad.safetensors"
    for n in range(len(data)):
        bad.write_bytes(data[:n])
        with pytest.raises(
            ValueError, match=r"bad.safetensors' is not a valid safetensors file \(.*\); nothing was loaded"
        ):
            restore(bad, like=LIKE_SMALL)


def test_every_single_bit_flip_is_refused(tmp_path: Path) -> None:
    data = _small_file(tmp_path).read_bytes()
    bad = tmp_path / "bad.safetensors"
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        bad.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=r"is not a valid safetensors file"):
            restore(bad, like=LIKE_SMALL)


def test_trailing_bytes_and_a_bad_checksum_are_refused(tmp_path: Path) -> None:
    path = _small_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data + b"\0")
    with pytest.raises(ValueError, match=r"the header describes 40 bytes of tensor data, the file holds 41"):
        restore(path, like=LIKE_SMALL)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(
        ValueError,
        match=r"its SHA-256 checksum does not match the contents\); nothing was loaded. The file is truncated or corrupted",
    ):
        restore(path, like=LIKE_SMALL)


def test_truncated_torch_written_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_file(_torch_mlp().state_dict(), path)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(
        ValueError,
        match=r"load_weights: .* is not a valid safetensors file \(the header describes \d+ bytes of tensor data, the file holds \d+\)",
    ):
        load_weights(path, _mlp())


def test_a_torch_pickle_is_refused_with_the_conversion_fix(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_torch_mlp().state_dict(), path)
    with pytest.raises(
        ValueError,
        match=r"looks like a torch.save pickle, which funcnn never loads .* safetensors.torch.save_file\(module.state_dict\(\)",
    ):
        load_weights(path, _mlp())


def test_reading_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"load_file: no file at .*nope.safetensors'; check the path"):
        load_file(tmp_path / "nope.safetensors")
    with pytest.raises(
        IsADirectoryError, match=r"load_metadata: .* is a directory; pass the path of a .safetensors file"
    ):
        load_metadata(tmp_path)
    save_file({"w": np.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(
        ValueError, match=r"has no funcnn manifest, so it is a plain safetensors file, not a checkpoint"
    ):
        restore(tmp_path / "plain.safetensors", like={"w": np.zeros(2)})


def _write_with_manifest(path: Path, tensors: dict, manifest: Any) -> None:
    st.write("test", path, tensors, {"funcnn.manifest": json.dumps(manifest)})


def test_manifest_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    leaves = [{"path": "['w']", "shape": [2], "dtype": "float64"}]
    _write_with_manifest(
        path, {"['w']": np.zeros(2)}, {"format": "funcnn.checkpoint", "version": 2, "funcnn": "9.0", "leaves": leaves}
    )
    with pytest.raises(
        ValueError,
        match=r"uses checkpoint format version 2, newer than this funcnn reads \(1\); upgrade funcnn \(it was written by funcnn 9.0\)",
    ):
        restore(path, like={"w": np.zeros(2)})
    _write_with_manifest(path, {"['w']": np.zeros(2)}, {"format": "other"})
    with pytest.raises(ValueError, match=r"has a malformed manifest \(.*\); it was not written by funcnn"):
        restore(path, like={"w": np.zeros(2)})
    _write_with_manifest(path, {"['w']": np.zeros(3)}, {"format": "funcnn.checkpoint", "version": 1, "leaves": leaves})
    with pytest.raises(
        ValueError, match=r"has a manifest that disagrees with its tensors; it was not written by funcnn"
    ):
        restore(path, like={"w": np.zeros(2)})


# ------------------------------------------------------------ atomic writes
_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from funcnn import checkpoint
    from funcnn.checkpoint import _io

    def write_half_then_die(f, chunks):
        chunks = list(chunks)
        for chunk in chunks[:-1]:
            f.write(chunk)
        last = memoryview(chunks[-1])
        f.write(last[: len(last) // 2])
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    _io._write_all = write_half_then_die
    checkpoint.CheckpointManager(sys.argv[1]).save(1, {"w": np.full(1_000_000, 2.0, np.float32), "step": 2})
    """
)


def test_a_process_killed_mid_save_leaves_the_previous_checkpoint_loadable(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    old = {"w": np.full(1_000_000, 1.0, np.float32), "step": 1}
    manager.save(1, old)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".step_00000001.safetensors.")
    assert (tmp_path / leftovers[0]).stat().st_size > 0
    assert manager.all_steps() == [1]
    assert_bit_identical(manager.restore(like=old), old)
    manager.save(2, old)  # the next save removes the dead writer's temporary
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_write_failing_halfway_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _small_file(tmp_path)
    before = path.read_bytes()

    def fail_halfway(f: Any, chunks: Any) -> None:
        f.write(next(iter(chunks)))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io, "_write_all", fail_halfway)
    with pytest.raises(
        OSError,
        match=r"save: writing .*small.safetensors' failed \(No space left on device\); the previous file at that path, if any, is unchanged",
    ):
        save(path, {"w": jnp.ones((2, 3)), "step": 4, "key": jax.random.key(2)})
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["small.safetensors"]

    def interrupted(f: Any, chunks: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_io, "_write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(path, {"w": jnp.ones((2, 3))})
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["small.safetensors"]


def test_unwritable_directory_errors_name_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(
        OSError,
        match=r"save: cannot write to directory .*file' \(.*\); choose a writable directory, or make this one writable",
    ):
        save(blocker / "ckpt.safetensors", {"w": jnp.zeros(2)})

    real_open = os.open

    def denied(path: Any, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(
        PermissionError,
        match=rf"save_weights: cannot write to directory '{tmp_path}' \(Permission denied\); .* `chmod u\+w {tmp_path}`",
    ):
        save_weights(tmp_path / "w.safetensors", _mlp().init(jax.random.key(0)))


def test_saved_files_get_ordinary_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    path = _small_file(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ----------------------------------------------------------------- writer errors
def test_save_and_restore_type_errors(tmp_path: Path) -> None:
    out = tmp_path / "out.safetensors"
    with pytest.raises(TypeError, match=r"save: leaf \['name'\] is a str, which a checkpoint cannot hold"):
        save(out, {"name": "run-1"})
    with pytest.raises(TypeError, match=r"save: leaf \['z'\] has dtype complex128, which safetensors cannot store"):
        save(out, {"z": np.zeros(2, np.complex128)})
    with pytest.raises(TypeError, match=r"save: `metadata` must map strings to strings, got \{'epoch': 3\}"):
        save(out, {}, metadata={"epoch": 3})
    with pytest.raises(
        ValueError, match=r"save: metadata keys starting with 'funcnn.' are reserved, got \['funcnn.manifest'\]"
    ):
        save(out, {}, metadata={"funcnn.manifest": "{}"})
    assert not out.exists()
    with pytest.raises(TypeError, match=r"restore: `like` leaf \['w'\] is a str; leaves must be arrays"):
        restore(_small_file(tmp_path), like={**LIKE_SMALL, "w": "x"})


def test_save_file_and_save_weights_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"save_file: expected a mapping of names to arrays, got list"):
        save_file([np.zeros(2)], tmp_path / "x.safetensors")
    with pytest.raises(
        ValueError, match=r"save_file: tensor names must be strings other than '__metadata__', got '__metadata__'"
    ):
        save_file({"__metadata__": np.zeros(2)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match=r"save_file: tensor 'z' has dtype complex128, which safetensors cannot store"):
        save_file({"z": np.zeros(2, np.complex128)}, tmp_path / "x.safetensors")
    with pytest.raises(
        TypeError, match=r"save_weights: `params` must be the nested dict from model.init/init_state, got list"
    ):
        save_weights(tmp_path / "x.safetensors", [np.zeros(2)])
    assert not list(tmp_path.iterdir())


# -------------------------------------------------------------------- manager
def test_manager_keeps_the_last_n(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path / "ckpt", max_to_keep=2)
    assert manager.all_steps() == [] and manager.latest_step() is None
    for step in (0, 5, 10, 15):
        assert manager.save(step, {"w": jnp.full(2, step, jnp.float32)}) == manager.path(step)
    assert manager.all_steps() == [10, 15] and manager.latest_step() == 15
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["step_00000010.safetensors", "step_00000015.safetensors"]
    like = {"w": jnp.zeros(2)}
    assert manager.restore(like=like)["w"].tolist() == [15.0, 15.0]
    assert manager.restore(10, like=like)["w"].tolist() == [10.0, 10.0]
    manager.save(15, {"w": jnp.full(2, -1.0)})  # the same step is replaced
    assert manager.restore(like=like)["w"].tolist() == [-1.0, -1.0]


def test_manager_without_limit_keeps_all_and_ignores_other_files(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, max_to_keep=None)
    for step in range(5):
        manager.save(step, {"s": step})
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".step_00000009.safetensors.abc.tmp").write_bytes(b"partial")
    (tmp_path / "step_12.safetensors.bak").write_bytes(b"")
    assert manager.all_steps() == [0, 1, 2, 3, 4]
    assert repr(manager) == f"CheckpointManager({str(tmp_path)!r}, max_to_keep=None)"


def test_manager_errors(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    owner = rf"CheckpointManager\('{tmp_path}', max_to_keep=3\)"
    with pytest.raises(
        FileNotFoundError,
        match=rf"{owner}.restore: no checkpoints in '{tmp_path}' yet; save one with manager.save\(step, tree\)",
    ):
        manager.restore(like={})
    manager.save(10, {"s": 1})
    with pytest.raises(FileNotFoundError, match=rf"{owner}.restore: no checkpoint for step 3; saved steps are \[10\]"):
        manager.restore(3, like={"s": 0})
    with pytest.raises(
        ValueError,
        match=rf"{owner}.save: step 5 is below the saved steps \[10\], which would shadow it; pass a step >= 10",
    ):
        manager.save(5, {"s": 1})
    with pytest.raises(ValueError, match=rf"{owner}.save: `step` must be a non-negative int, got -1"):
        manager.save(-1, {"s": 1})
    with pytest.raises(
        TypeError, match=rf"{owner}.save: `step` must be an int, got float 1.5; pass e.g. int\(ts.step\)"
    ):
        manager.save(1.5, {"s": 1})
    manager.save(jnp.int32(11), {"s": 2})  # a step counter straight from a TrainState
    assert manager.latest_step() == 11
    with pytest.raises(ValueError, match=r"CheckpointManager: `max_to_keep` must be a positive int or None, got 0"):
        CheckpointManager(tmp_path, max_to_keep=0)
