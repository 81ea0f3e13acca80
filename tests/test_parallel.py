"""Data-parallel and multi-process training give single-device results.

Device counts are fixed when JAX starts, so each check runs a worker script in a
subprocess (``tests/workers/``) with ``--xla_force_host_platform_device_count``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from funcnn import parallel

WORKERS = Path(__file__).parent / "workers"
ROOT = Path(__file__).parent.parent


def _env(devices: int | None = None) -> dict[str, str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _run(args: list[str], devices: int | None = None, timeout: float = 240) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=_env(devices), capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("model", ["mlp", "cnn_bn"])
def test_data_parallel_equals_single_device(model: str) -> None:
    out = json.loads(_run([str(WORKERS / "data_parallel.py"), model], devices=4).strip().splitlines()[-1])
    assert out["devices"] == 4
    # Same global batch, same parameters within float32 round-off (the gradient
    # all-reduce sums in a different order). BatchNorm statistics are global, as SyncBatchNorm's.
    assert out["replicated"] < 1e-5 and out["fsdp"] < 1e-5, out
    assert out["replicated_loss_diff"] < 1e-5 and out["fsdp_loss_diff"] < 1e-5, out


def test_sharding_errors_and_fsdp_spec() -> None:
    out = json.loads(_run([str(WORKERS / "data_parallel.py"), "errors"], devices=4).strip().splitlines()[-1])
    assert "global batch size 6" in out["indivisible"] and "not divisible by the 4 devices" in out["indivisible"]
    assert "mesh has no axis 'model'" in out["axis"] and "['data']" in out["axis"]
    assert out["fsdp_spec"] == ["data"]


def test_missing_axis_name_in_process() -> None:
    mesh = parallel.data_mesh()
    with pytest.raises(ValueError, match=r"mesh has no axis 'batch'; its axes are \['data'\]"):
        parallel.shard_batch(np.zeros((4, 2)), mesh, axis_name="batch")
    with pytest.raises(ValueError, match="mesh has no axis 'batch'"):
        parallel.make_train_step(lambda p: 0.0, __import__("optax").sgd(0.1), mesh, axis_name="batch")


def test_two_processes_train_like_one(tmp_path: Path) -> None:
    port = _free_port()
    worker = str(WORKERS / "multiprocess.py")
    procs = [
        subprocess.Popen(
            [sys.executable, worker, f"127.0.0.1:{port}", "2", str(pid), str(tmp_path / "multi.npz")],
            env=_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in (0, 1)
    ]
    try:
        for p in procs:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0, err[-3000:]
    finally:  # a failed or hung peer must not outlive the test
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    _run([worker, "unused", "0", "0", str(tmp_path / "single.npz")])
    multi, single = np.load(tmp_path / "multi.npz"), np.load(tmp_path / "single.npz")
    assert sorted(multi) == sorted(single)
    for k in single:
        np.testing.assert_allclose(multi[k], single[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_restore_into_a_tree_spread_over_two_processes(tmp_path: Path) -> None:
    import jax

    from funcnn import checkpoint

    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "k": jax.random.key(3), "s": 5})
    port = _free_port()
    worker = str(WORKERS / "multiprocess_restore.py")
    procs = [
        subprocess.Popen(
            [sys.executable, worker, f"127.0.0.1:{port}", "2", str(pid), str(path)],
            env=_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in (0, 1)
    ]
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=180)
            assert p.returncode == 0, err[-3000:]
            outs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    want_key = np.asarray(jax.random.key_data(jax.random.key(3))).tolist()
    for got in outs:
        assert got == {"replicated": True, "w": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], "k": want_key, "s": 5}


def test_unreachable_coordinator_is_a_timeout_not_a_hang() -> None:
    code = (
        "from funcnn import parallel\n"
        "try:\n"
        f"    parallel.initialize('127.0.0.1:{_free_port()}', 2, 1, timeout_s=2)\n"
        "except TimeoutError as e:\n"
        "    print('TimeoutError:', e)\n"
    )
    out = _run(["-c", code], timeout=60)
    assert "TimeoutError: initialize: process 1 of 2 could not reach the coordinator" in out
    assert "within 2 s" in out


def test_initialize_needs_an_address(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FUNCNN_COORDINATOR", "FUNCNN_NUM_PROCESSES", "FUNCNN_PROCESS_ID"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="expected coordinator_address, num_processes and process_id"):
        parallel.initialize()


def test_process_shard_splits_evenly() -> None:
    x = np.arange(10)
    parts = [parallel.process_shard(x, process_index=i, process_count=3) for i in range(3)]
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match=r"process_index must be in \[0, 3\), got 3"):
        parallel.process_shard(x, process_index=3, process_count=3)
