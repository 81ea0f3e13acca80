"""Small timing helpers shared by the benchmarks.

* `measure` times several cases *interleaved*: after untimed warm-up calls, each round
  runs every case once, in an order rotated from round to round, so slow drifts of the
  machine (other processes, frequency changes) hit all cases alike. With ``warm_in``,
  each timed call follows untimed calls of the same case, so that no case pays for the
  threads another one left busy (see `measure`).
* `summarize` reduces the repetitions to medians (robust to the odd slow run).
* `print_table` prints medians with ratios against a reference case.
* `fresh_python` runs a snippet in a new interpreter, for cold-start timings.
* `write_json` stores the results with enough context to compare runs.

A case is a zero-argument callable that does the work *and waits for it* (for JAX:
``jax.block_until_ready``), so that wall time measures the work, not its dispatch.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Mapping, Sequence

__all__ = ["environment", "fresh_python", "measure", "print_table", "summarize", "write_json"]


def measure(
    cases: Mapping[str, Callable[[], Any]],
    *,
    repeats: int = 5,
    warmup: int = 1,
    number: int = 1,
    warm_in: float = 0.0,
) -> dict[str, list[float]]:
    """Wall time per call of each case, interleaved across cases.

    Args:
      cases: name -> zero-argument callable.
      repeats: timed rounds; each round times every case once.
      warmup: untimed calls of each case before the first round (compilation, caches).
      number: calls per timing; the time recorded is their mean.
      warm_in: seconds of untimed calls of a case right before each of its timings (at
        least one call when positive). PyTorch's OpenMP workers keep spinning for a few
        milliseconds after each parallel operation (on 2 cores, 5.4 ms of CPU burned
        during a sleep that followed one ``torch.mm``; after an XLA call, under 0.3 ms),
        taking a core from whatever runs next: a millisecond-long JAX case timed right
        after a PyTorch case ran at about one core's speed. A warm-in of 20 ms times each
        case as it runs in a loop of its own, PyTorch's with its threads awake.

    Returns:
      name -> list of ``repeats`` seconds-per-call.
    """
    names = list(cases)
    for name in names:
        for _ in range(warmup):
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = cases[name]
            if warm_in > 0:
                until = time.perf_counter() + warm_in
                fn()
                while time.perf_counter() < until:
                    fn()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number)
    return times


def summarize(times: Mapping[str, Sequence[float]]) -> dict[str, dict[str, Any]]:
    """name -> ``{"median_s", "min_s", "max_s", "times_s"}``."""
    return {
        name: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "times_s": list(ts)}
        for name, ts in times.items()
    }


def _fmt_seconds(s: float) -> str:
    if s >= 1.0:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r >= 0.1 else f"1/{1 / r:.0f}x"


def print_table(
    title: str,
    summary: Mapping[str, Mapping[str, Any]],
    reference: str,
    *,
    file: Any = None,
    notes: Mapping[str, str] | None = None,
) -> None:
    """Print median times and ``reference / case`` speed ratios (> 1: faster than the reference).

    Args:
      title: the table's heading.
      summary: the output of `summarize`.
      reference: the case the ratios are taken against.
      file: stream to print to (default stdout).
      notes: optional name -> short remark printed in the last column.
    """
    file = file or sys.stdout
    notes = notes or {}
    ref = summary[reference]["median_s"]
    width = max(len(n) for n in summary)
    print(f"\n{title}", file=file)
    print(
        f"  {'case':<{width}}  {'median':>10}  {'min':>10}  {'speed vs ' + reference:>{12 + len(reference)}}", file=file
    )
    for name, row in summary.items():
        ratio = ref / row["median_s"] if row["median_s"] > 0 else float("inf")
        note = f"  {notes[name]}" if name in notes else ""
        print(
            f"  {name:<{width}}  {_fmt_seconds(row['median_s']):>10}  {_fmt_seconds(row['min_s']):>10}  "
            f"{_fmt_ratio(ratio):>{12 + len(reference)}}{note}",
            file=file,
        )


def fresh_python(code: str, *, env: Mapping[str, str] | None = None, timeout: float = 300.0) -> Any:
    """Run ``code`` in a new interpreter and return the JSON value of its last stdout line.

    The snippet measures itself (e.g. ``time.perf_counter()`` around an import) and
    prints ``json.dumps(result)`` last.
    """
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"fresh_python: the snippet failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def environment() -> dict[str, Any]:
    """Python, platform and CPU count, for the JSON record."""
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


def write_json(path: str | os.PathLike[str], results: Mapping[str, Any]) -> None:
    """Write ``results`` (plus `environment`) as indented JSON to ``path``."""
    with open(path, "w") as f:
        json.dump({"environment": environment(), **results}, f, indent=2, sort_keys=False)
        f.write("\n")
