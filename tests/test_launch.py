"""The multi-process launcher (``python -m examples launch``) and the data_parallel example.

Each process is a fresh interpreter on this machine's CPU, joined through JAX's
distributed runtime on 127.0.0.1. Checkpoints written by process 0 of a two-process run
restore in a single process, and the reverse.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `examples` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from examples import _launch, _runner  # noqa: E402
from examples.data_parallel import forced_devices_env  # noqa: E402

TINY = ["--epochs", "1", "--batch-size", "32"]
ACCURACY = re.compile(r"test accuracy (?:\S+) \((\d+)/359 images\)|test accuracy: (?:\S+) \((\d+)/359 images\)")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu", XDG_CACHE_HOME=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    for name in ("FUNCNN_COORDINATOR", "FUNCNN_NUM_PROCESSES", "FUNCNN_PROCESS_ID", "XLA_FLAGS"):
        env.pop(name, None)
    return env


def _python(args: list[str], tmp_path: Path, timeout: float = 240) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def _correct(line_prefix: str, out: str) -> list[int]:
    """The image counts of the accuracy lines that start with ``line_prefix`` (e.g. ``"[0] "``)."""
    found = []
    for line in out.splitlines():
        m = ACCURACY.search(line)
        if m and line.startswith(line_prefix):
            found.append(int(m.group(1) or m.group(2)))
    return found


def test_two_processes_train_and_checkpoints_cross_over(tmp_path: Path) -> None:
    multi, single = tmp_path / "multi.safetensors", tmp_path / "single.safetensors"
    out = _python(
        ["-m", "examples", "launch", "-n", "2", "--timeout", "200", "data_parallel", *TINY, "--save", str(multi)],
        tmp_path,
    )
    assert "[0] process 0 of 2: 1 local device(s)" in out and "[1] process 1 of 2: 1 local device(s)" in out, out
    assert "2 in all" in out
    assert "launch: all 2 process(es) succeeded" in out
    assert re.search(r"^\[0\] Epoch 1: loss \d+\.\d+", out, re.MULTILINE), out
    assert "[1] Epoch" not in out and "[1] test accuracy" not in out  # process 0 reports
    assert "[1] wrote" not in out and f"[0] wrote the training state (step 39) to {multi}" in out  # one writer
    (trained_multi,) = _correct("[0] ", out)

    # Written by 2 processes, read by 1 process with 2 forced host devices (the example re-runs
    # itself with the flag): the same weights give the same test accuracy, and training goes on.
    out = _python(
        ["-m", "examples.data_parallel", *TINY, "--devices", "2", "--restore", str(multi), "--save", str(single)],
        tmp_path,
    )
    assert "process 0 of 1: 2 local device(s)" in out and "re-running with XLA_FLAGS=" in out
    assert f"restored {multi} at step 39" in out
    restored, trained_single = _correct("", out)
    assert restored == trained_multi
    assert "Epoch 2: loss" in out

    # Written by 1 process, read by 2.
    out = _python(
        ["-m", "examples", "launch", "-n", "2", "--timeout", "200", "data_parallel", *TINY, "--restore", str(single)],
        tmp_path,
    )
    assert f"[0] restored {single} at step 78" in out, out
    assert _correct("[0] ", out)[0] == trained_single
    assert "[0] Epoch 3: loss" in out and "launch: all 2 process(es) succeeded" in out


FAILING_PEER = """
import os, sys, time
rank = int(os.environ["FUNCNN_PROCESS_ID"])
open(sys.argv[1] + str(rank), "w").write(str(os.getpid()))
if rank == 1:
    # Fail only once rank 0 has printed, so both lines reach the launcher.
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[1] + "ready") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    print("rank 1 gives up", flush=True)
    sys.exit(3)
print("rank 0 waits for its peer", flush=True)
open(sys.argv[1] + "ready", "w").close()
time.sleep(600)
"""


def test_a_failing_process_stops_the_others(tmp_path: Path) -> None:
    printed = io.StringIO()
    start = time.monotonic()
    code = _launch.launch(
        [sys.executable, "-c", FAILING_PEER, str(tmp_path / "pid")], 2, timeout=120, env=_env(tmp_path), out=printed
    )
    elapsed = time.monotonic() - start
    out = printed.getvalue()
    assert code == 3, out
    assert elapsed < 60, elapsed  # the waiting peer was stopped, not waited for
    assert "[1] rank 1 gives up" in out and "[0] rank 0 waits for its peer" in out
    assert "launch: process 1 exited with status 3; stopping the other 1 process(es)" in out
    waiting = int((tmp_path / "pid0").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(waiting, 0)  # gone (and reaped)


def test_the_time_limit_stops_every_process(tmp_path: Path) -> None:
    printed = io.StringIO()
    code = _launch.launch([sys.executable, "-c", "import time; time.sleep(600)"], 2, timeout=1, out=printed)
    assert code == _launch.TIMED_OUT == 124
    assert "launch: timed out after 1 s; stopping all 2 process(es)" in printed.getvalue()


def test_each_process_gets_its_rank() -> None:
    printed = io.StringIO()
    code = "import os; print(os.environ['FUNCNN_PROCESS_ID'], os.environ['FUNCNN_NUM_PROCESSES'], os.environ['FUNCNN_COORDINATOR'])"
    assert _launch.launch([sys.executable, "-c", code], 3, timeout=60, out=printed) == 0
    lines = sorted(line for line in printed.getvalue().splitlines() if not line.startswith("launch:"))
    assert [line.split()[:3] for line in lines] == [["[0]", "0", "3"], ["[1]", "1", "3"], ["[2]", "2", "3"]]
    assert len({line.split()[3] for line in lines}) == 1 and lines[0].split()[3].startswith("127.0.0.1:")
    assert "launch: all 3 process(es) succeeded" in printed.getvalue()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_processes=0), r"launch: expected at least 1 process, got num_processes=0"),
        (dict(num_processes=2, timeout=0), r"launch: expected a timeout > 0 seconds, got 0"),
    ],
    ids=["no-processes", "no-time"],
)
def test_launch_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _launch.launch([sys.executable, "-c", "pass"], **kwargs)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["launch", "nope"], "python -m examples launch: unknown example 'nope'; expected one of tensors,"),
        (
            ["launch", "--timeout", "0", "data_parallel"],
            "python -m examples launch: --timeout must be > 0 seconds, got 0",
        ),
    ],
    ids=["unknown-name", "zero-timeout"],
)
def test_launch_command_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _runner.main(argv) == 2
    assert message in capsys.readouterr().err


def test_launch_command_needs_a_positive_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _runner.main(["launch", "-n", "0", "data_parallel"])
    assert "argument -n/--num-processes: expected a positive whole number, got 0" in capsys.readouterr().err


def test_forced_devices_env_replaces_the_flag() -> None:
    env = forced_devices_env(8, {"XLA_FLAGS": "--xla_dump_to=/x --xla_force_host_platform_device_count=2"})
    assert env["XLA_FLAGS"] == "--xla_dump_to=/x --xla_force_host_platform_device_count=8"
    assert env["JAX_PLATFORMS"] == "cpu"
