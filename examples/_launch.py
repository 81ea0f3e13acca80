"""``python -m examples launch -n N NAME [ARGS]``: run an example as N local processes.

Each process gets the environment `funcnn.parallel.initialize` reads:
``FUNCNN_COORDINATOR=127.0.0.1:<free port>`` (process 0 serves it),
``FUNCNN_NUM_PROCESSES=N`` and ``FUNCNN_PROCESS_ID=0..N-1``. Their output (stdout and
stderr together) is printed line by line with the rank in front, ``[0] ...``.

The launcher waits at most ``timeout`` seconds. When a process fails, the others are
stopped at once (a peer left waiting in a collective would otherwise hang) and the
launcher exits with the failing status; at the time limit every process is stopped and
the status is 124. It exits 0 only when every process exited 0.

On a real cluster the same variables are set by the job scheduler instead, one process
per host (or per GPU), with ``FUNCNN_COORDINATOR`` pointing at process 0's host.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Mapping, Sequence

TIMED_OUT = 124  # the exit status of `timeout(1)`
_GRACE_S = 5.0  # between SIGTERM and SIGKILL when stopping a process


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now (the OS picks it).

    Examples:
      >>> 0 < free_port() < 65536
      True
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def rank_env(rank: int, num_processes: int, coordinator: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of process ``rank``: ``base`` plus the three ``FUNCNN_*`` variables.

    Examples:
      >>> env = rank_env(1, 2, "127.0.0.1:1234", {})
      >>> env["FUNCNN_COORDINATOR"], env["FUNCNN_NUM_PROCESSES"], env["FUNCNN_PROCESS_ID"]
      ('127.0.0.1:1234', '2', '1')
    """
    env = dict(os.environ if base is None else base)
    env.update(
        FUNCNN_COORDINATOR=coordinator,
        FUNCNN_NUM_PROCESSES=str(num_processes),
        FUNCNN_PROCESS_ID=str(rank),
        PYTHONUNBUFFERED="1",  # lines arrive as they are printed, not when a buffer fills
    )
    return env


def _pump(rank: int, stream: IO[str], lines: queue.Queue[tuple[int, str | None]]) -> None:
    for line in stream:
        lines.put((rank, line.rstrip("\n")))
    lines.put((rank, None))


def _stop(procs: Sequence[subprocess.Popen]) -> None:
    """SIGTERM every running process's group, then SIGKILL what is left after a grace period."""
    running = [p for p in procs if p.poll() is None]
    for p in running:
        try:
            os.killpg(p.pid, signal.SIGTERM)  # its own session: children (a re-run) go too
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + _GRACE_S
    for p in running:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def launch(
    command: Sequence[str],
    num_processes: int,
    *,
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """Run ``command`` as ``num_processes`` processes of one distributed job; return the job's status.

    Args:
      command: the program and its arguments, e.g. ``[sys.executable, "-m", "examples.data_parallel"]``.
      num_processes: how many processes (ranks 0..N-1).
      timeout: seconds to wait for all of them before stopping them.
      env: the base environment (default: this process's); the ``FUNCNN_*`` variables are added.
      cwd: the working directory of the processes.
      out: where the rank-prefixed lines go (default: ``sys.stdout``).

    Returns:
      0 when every process exited 0; otherwise the first failing process's status (1
      when it was killed by a signal), or 124 at the time limit.

    Raises:
      ValueError: ``num_processes`` < 1 or ``timeout`` <= 0.
    """
    if num_processes < 1:
        raise ValueError(f"launch: expected at least 1 process, got num_processes={num_processes}")
    if timeout <= 0:
        raise ValueError(f"launch: expected a timeout > 0 seconds, got {timeout}")
    out = out or sys.stdout
    coordinator = f"127.0.0.1:{free_port()}"
    print(f"launch: {num_processes} process(es), coordinator {coordinator}: {' '.join(command)}", file=out, flush=True)
    lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
    procs: list[subprocess.Popen] = []
    pumps: list[threading.Thread] = []
    status: int | None = None
    try:
        for rank in range(num_processes):
            p = subprocess.Popen(
                list(command),
                env=rank_env(rank, num_processes, coordinator, env),
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            procs.append(p)
            assert p.stdout is not None
            pumps.append(threading.Thread(target=_pump, args=(rank, p.stdout, lines), daemon=True))
            pumps[-1].start()
        deadline = time.monotonic() + timeout
        open_streams = num_processes
        while status is None:
            try:
                rank, line = lines.get(timeout=0.1)
                if line is None:
                    open_streams -= 1
                else:
                    print(f"[{rank}] {line}", file=out, flush=True)
            except queue.Empty:
                pass
            failed = [(r, p.returncode) for r, p in enumerate(procs) if p.poll() is not None and p.returncode != 0]
            if failed:
                rank, code = failed[0]
                pumps[rank].join(timeout=2.0)  # its last lines (a traceback) come before the verdict
                while not lines.empty():
                    r, text = lines.get_nowait()
                    if text is not None:
                        print(f"[{r}] {text}", file=out, flush=True)
                others = sum(p.poll() is None for p in procs)
                print(
                    f"launch: process {rank} exited with status {code}; stopping the other {others} process(es)",
                    file=out,
                    flush=True,
                )
                status = code if code > 0 else 1
            elif open_streams == 0 and all(p.poll() is not None for p in procs):
                status = 0
            elif time.monotonic() > deadline:
                print(
                    f"launch: timed out after {timeout:g} s; stopping all {num_processes} process(es)",
                    file=out,
                    flush=True,
                )
                status = TIMED_OUT
    finally:
        _stop(procs)
        for t in pumps:
            t.join(timeout=_GRACE_S)
        for p in procs:
            if p.stdout is not None:
                p.stdout.close()
        while not lines.empty():  # what was printed before the end
            rank, line = lines.get_nowait()
            if line is not None:
                print(f"[{rank}] {line}", file=out, flush=True)
    if status == 0:
        print(f"launch: all {num_processes} process(es) succeeded", file=out, flush=True)
    return status if status is not None else 1


def example_command(module: str) -> list[str]:
    """The command that runs example ``module`` (e.g. ``"examples.data_parallel"``) as a script."""
    return [sys.executable, "-m", module]


def root() -> Path:
    """The folder holding the ``examples`` package (the processes' working directory)."""
    return Path(__file__).resolve().parents[1]


def launch_example(module: str, argv: Sequence[str], num_processes: int, *, timeout: float = 300.0) -> int:
    """`launch` an example module with ``argv``, from `root`, with `root` on ``PYTHONPATH``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root()), env.get("PYTHONPATH", "")) if p)
    return launch([*example_command(module), *argv], num_processes, timeout=timeout, env=env, cwd=root())
