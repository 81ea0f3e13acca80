"""Smoke test of the benchmark suite: ``python -m benchmarks.run --smoke`` and its JSON.

Checks the plumbing and the shape of the results, never the timings (speed belongs in
``benchmarks/``, not in unit tests). The run happens in a subprocess with the
persistent compilation cache off and ``HOME``/``XDG_CACHE_HOME`` in ``tmp_path``, so
nothing is written outside it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402
from benchmarks.workloads import TIMED, get  # noqa: E402
from benchmarks.workloads._common import IMPLS  # noqa: E402

W5_CASES = ["torch", "funcnn", "funcnn, cold cache", "funcnn, warm cache"]


def _run_suite(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "results.json"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "benchmarks.run", *args, "--no-cache", "--json", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def _check_timed(name: str, wl: dict) -> None:
    module = get(name)
    assert set(wl["variants"]) == set(module.VARIANTS)
    assert wl["flops_per_step"] > 0
    for variant, row in wl["variants"].items():
        assert list(row["per_step"]) == list(IMPLS), (name, variant)
        for impl, stats in row["per_step"].items():
            assert stats["median_s"] > 0 and len(stats["times_s"]) == module.SIZES["smoke"].repeats
        assert set(row["speedup"]) == {"torch", "jax"}
        assert row["losses_agree"], (name, variant, row["final_loss"])  # the three did the same work
        assert row["traces_during_timing"] == 0, (name, variant)  # compiled once, in the warm-up
        assert row["met"] in (True, False) and set(row["bars"]) <= {"torch", "jax"}
        assert set(row["flops_per_s"]) == set(IMPLS)


# W6 (ResNet-18) compiles three large programs per variant: its plumbing is checked on
# its own below, in-process, so the suite's smoke run stays short.
SMOKE = [name for name in run.ALL if name != "W6"]


def test_smoke_run_writes_every_workload(tmp_path: Path) -> None:
    proc, results = _run_suite(tmp_path, "--smoke", "--only", ",".join(SMOKE))
    assert results["mode"] == "smoke"
    assert {"cpu", "cores_available", "jax", "torch", "python"} <= set(results["machine"])
    assert list(results["workloads"]) == ["W1", "W2", "W3", "W4", "W7", "W5"]
    for name in TIMED:
        if name in SMOKE:
            _check_timed(name, results["workloads"][name])
    memory = results["workloads"]["W1"]["memory"]  # --smoke measures the first workload's memory only
    for impl in IMPLS:
        assert memory[impl]["peak_mb"] >= 0 and memory[impl]["steady_mb"] is not None
    assert memory["met"] in (True, False) and memory["met_including_compilation"] in (True, False)
    assert "memory" not in results["workloads"]["W2"]
    w5 = results["workloads"]["W5"]
    assert list(w5["per_run"]) == W5_CASES
    assert all(w5["per_run"][c]["median_s"] > 0 for c in W5_CASES)
    assert w5["verdict"]["met"] in (True, False)
    assert "Summary (speed-up = time(other) / time(funcnn)" in proc.stdout
    assert "machine: " in proc.stdout


def test_gpu_flag_reports_flops_against_peaks(tmp_path: Path) -> None:
    # The CPU fallback of benchmarks/gpu.sh: no CUDA torch here, so PyTorch is skipped.
    proc, results = _run_suite(tmp_path, "--smoke", "--gpu", "--only", "W2", "--no-memory", "--peak-flops", "fp32=1e12")
    row = results["workloads"]["W2"]["variants"]["step"]
    assert list(row["per_step"]) == ["jax", "funcnn"]
    assert set(row["fraction_of_peak"]["funcnn"]) == {"fp32"}
    assert "Achieved FLOP/s" in proc.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--only", "W9"], r"--only: unknown workloads \['W9'\]"),
        (["--peak-flops", "fp32=fast"], r"--peak-flops: expected NAME=FLOPS pairs"),
        (["--quick", "--smoke"], r"not allowed with argument"),
        (["--torch-threads", "0"], r"--torch-threads: expected a positive number of threads, got 0"),
        (["--warm-in", "-1"], r"--warm-in: expected seconds >= 0, got -1.0"),
    ],
    ids=["unknown-workload", "bad-peak", "two-modes", "no-threads", "negative-warm-in"],
)
def test_bad_arguments_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(argv)
    assert re.search(message, capsys.readouterr().err)


def test_only_keeps_the_suite_order() -> None:
    assert run.parse_args(["--only", "w3,W1"]).only == ["W1", "W3"]


def test_unknown_workload_module() -> None:
    with pytest.raises(ValueError, match=r"unknown workload 'W9'; expected one of"):
        get("W9")


def test_resnet_workload_versions_agree() -> None:
    # W6's three versions start from the same torchvision-layout weights: the same logits.
    module = get("W6")
    size = module.SIZES["smoke"]
    losses = {}
    for impl in IMPLS:
        bench = module.build(impl, "eval", size)
        bench.run()
        losses[impl] = bench.last_loss()
    assert run._agree(losses.values()), losses
    assert module.flops_per_step(size, "step32") != module.flops_per_step(size, "step")


def _run_profile(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "benchmarks.profile", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_profile_attributes_xla_time_to_operations(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    proc = _run_profile(tmp_path, "W4", "--mode", "smoke", "--calls", "1", "--top", "5", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["workload"] == "W4" and report["impl"] == "funcnn" and report["ops_us_per_step"] > 0
    assert sum(report["by_kind"].values()) == pytest.approx(report["ops_us_per_step"])
    kinds = {op["kind"] for op in report["ops"]}
    assert "matmul/conv (library)" in kinds or "matmul/conv (Eigen)" in kinds
    # the LSTM's recurrent matmul runs once per time step (5 in the smoke sizes)
    assert any(op["calls_per_step"] == 5 and "while/body" in op["op_name"] for op in report["ops"])
    assert "by kind" in proc.stdout and "top 5 operations" in proc.stdout


def test_profile_refuses_an_unknown_variant(tmp_path: Path) -> None:
    proc = _run_profile(tmp_path, "W2", "--mode", "smoke", "--variant", "fused")
    assert proc.returncode == 2
    assert "W2 has the variants ('step',), got 'fused'" in proc.stderr and "Traceback" not in proc.stderr


def test_profile_refuses_an_unknown_workload(tmp_path: Path) -> None:
    proc = _run_profile(tmp_path, "W9", "--mode", "smoke")
    assert proc.returncode == 2
    assert "unknown workload 'W9'; expected one of" in proc.stderr and "Traceback" not in proc.stderr


def test_profile_needs_its_own_process() -> None:
    from benchmarks import profile

    with pytest.raises(RuntimeError, match=r"run it as its own process \(`python -m benchmarks.profile \.\.\.`\)"):
        profile.main(["W1"])


def test_profile_reports_a_missing_trace(tmp_path: Path) -> None:
    from benchmarks import profile

    with pytest.raises(RuntimeError, match=r"the profiler wrote no trace under .*"):
        profile.read_trace(str(tmp_path))


def test_reuse_heap_reaches_only_funcnns_memory_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, bool] = {}

    def fake(name: str, impl: str, mode: str, device: str, *, reuse_heap: bool = False) -> dict:
        calls[impl] = reuse_heap
        return {"peak_mb": 1.0, "steady_mb": 1.0}

    monkeypatch.setattr(run.memory, "in_subprocess", fake)
    run.memory_workload("W1", "smoke", "cpu", False, True)
    assert calls == {"torch": False, "jax": False, "funcnn": True}


def test_the_memory_process_takes_reuse_heap(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "benchmarks.memory", "W1", "funcnn", "--mode", "smoke", "--reuse-heap"]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"] >= 0


def test_measure_warms_each_case_in_before_timing_it() -> None:
    from benchmarks._timing import measure

    calls: list[str] = []
    cases = {name: (lambda name=name: calls.append(name)) for name in ("a", "b")}
    times = measure(cases, repeats=3, warmup=1, warm_in=1e-9)
    assert {name: len(ts) for name, ts in times.items()} == {"a": 3, "b": 3}
    rounds = calls[2:]  # after one warm-up call each: (warm-in, timed) pairs, rotated per round
    assert rounds == ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]
    calls.clear()
    measure(cases, repeats=3, warmup=1)  # no warm-in: one call per case and round
    assert calls[2:] == ["a", "b", "b", "a", "a", "b"]
