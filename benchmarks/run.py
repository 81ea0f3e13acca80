"""The benchmark suite: every workload in funcnn, PyTorch eager and raw jax+optax, in one run.

Workloads (training steps: forward, backward, optimizer update; see `benchmarks.workloads`):

* W1 the article's loop (MLP 3-10-1, MSE, SGD), per step with the per-epoch print, and
  its 100 epochs fused into one compiled program;
* W2 MLP 784-512-512-10, cross-entropy, SGD with momentum, batch 128;
* W3 small CNN on 8x8 images, batch 128;
* W4 LSTM (sequence 50, batch 64, input 32, hidden 128) with a linear head;
* W5 time to first result: whole processes, the article's script in PyTorch and funcnn;
* and the peak memory of W1-W4 for each implementation, each in a fresh process.

For each workload the three implementations are built from the same initial weights
and batches, warmed up (compilation is excluded), then timed *interleaved*: every
repetition runs each implementation's batch of steps in turn, in an order rotated
from one repetition to the next. The medians over repetitions, per step, are reported
with the speed-ups ``time(torch) / time(funcnn)`` and ``time(jax) / time(funcnn)``
(> 1 means funcnn is faster), and the final losses of the three (which must agree:
the same work was done).

JAX's persistent compilation cache is on (``--cache-dir``, default
``~/.cache/funcnn/jax-cache``; ``--no-cache`` turns it off): it only shortens the
warm-up of a second run. W5 and the memory runs set up their own processes.

Usage::

    python -m benchmarks.run --quick                 # a few minutes on 2 CPU cores
    python -m benchmarks.run                         # more repetitions
    python -m benchmarks.run --only W1,W3 --json out.json
    python -m benchmarks.run --smoke                 # seconds: tiny sizes, checks the plumbing
    python -m benchmarks.run --gpu                   # larger batches, FLOP/s (see gpu.sh)
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax

import funcnn
from benchmarks import memory
from benchmarks._timing import environment, measure, print_table, summarize, write_json
from benchmarks.workloads import TIMED, w5_cold_start
from benchmarks.workloads._common import IMPLS
from funcnn._cache import default_cache_dir, disable_compilation_cache, enable_compilation_cache

ALL = (*TIMED, w5_cold_start.NAME)
CONVENTION = "speed-up = time(other) / time(funcnn): > 1 means funcnn is faster"


# --------------------------------------------------------------------------- setup


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--quick", action="store_true", help="fewer repetitions: a few minutes on 2 CPU cores")
    modes.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one repetition: checks the plumbing in seconds"
    )
    parser.add_argument(
        "--gpu", action="store_true", help="larger batches, PyTorch on CUDA (skipped without it), FLOP/s"
    )
    parser.add_argument(
        "--only", metavar="W1,W3", help=f"comma-separated workloads to run (default: all of {','.join(ALL)})"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument(
        "--cpu-sync-dispatch",
        action="store_true",
        help="run JAX CPU computations on the calling thread (jax_cpu_enable_async_dispatch=False), for jax and funcnn",
    )
    parser.add_argument(
        "--reuse-heap",
        action="store_true",
        help="call funcnn.train.reuse_heap_for_step_buffers() first (opt-in; the whole timing process "
        "shares it, and funcnn's memory subprocesses call it too)",
    )
    parser.add_argument(
        "--warm-in",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="untimed calls of an implementation right before each of its timed calls, for at least this long "
        "(default 0: none; see benchmarks._timing.measure)",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        metavar="N",
        help="torch.set_num_threads(N) for the timed runs (default: torch's own)",
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="persistent compilation cache directory (default: ~/.cache/funcnn/jax-cache)"
    )
    parser.add_argument("--no-cache", action="store_true", help="turn the persistent compilation cache off")
    parser.add_argument(
        "--peak-flops",
        metavar="NAME=FLOPS,...",
        help="device peaks to report FLOP/s against, e.g. fp32=67e12,bf16=989e12",
    )
    args = parser.parse_args(argv)
    if args.warm_in < 0:
        parser.error(f"--warm-in: expected seconds >= 0, got {args.warm_in}")
    if args.torch_threads is not None and args.torch_threads < 1:
        parser.error(f"--torch-threads: expected a positive number of threads, got {args.torch_threads}")
    args.only = _parse_only(parser, args.only)
    args.peaks = _parse_peaks(parser, args.peak_flops)
    args.mode = "smoke" if args.smoke else "gpu" if args.gpu else "quick" if args.quick else "full"
    return args


def _parse_only(parser: argparse.ArgumentParser, only: str | None) -> list[str]:
    if not only:
        return list(ALL)
    names = [n.strip().upper() for n in only.split(",") if n.strip()]
    bad = [n for n in names if n not in ALL]
    if bad or not names:
        parser.error(f"--only: unknown workloads {bad or only!r}; choose from {','.join(ALL)}, e.g. --only W1,W3")
    return [n for n in ALL if n in names]


def _parse_peaks(parser: argparse.ArgumentParser, text: str | None) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, _, value = item.partition("=")
        try:
            peaks[name.strip()] = float(value)
        except ValueError:
            parser.error(f"--peak-flops: expected NAME=FLOPS pairs such as fp32=67e12, got {item!r}")
    return peaks


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name", platform.machine())
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def machine(torch_device: str | None) -> dict[str, Any]:
    """What the numbers were measured on."""
    import optax
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    devices = jax.devices()
    return {
        **environment(),
        "cpu": _cpu_model(),
        "cores_available": cores,
        "jax": jax.__version__,
        "jax_backend": jax.default_backend(),
        "jax_devices": [d.device_kind for d in devices],
        "optax": optax.__version__,
        "funcnn": funcnn.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_device": torch_device or "skipped (no CUDA)",
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_cpu_async_dispatch": bool(jax.config.read("jax_cpu_enable_async_dispatch")),
    }


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (a busy machine distorts every ratio)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _torch_device(gpu: bool) -> str | None:
    if not gpu:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else None


# ------------------------------------------------------------------------- timing


class _TraceCounter:
    """Counts JAX traces (each new compilation starts with one) via `jax.monitoring`."""

    def __init__(self) -> None:
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, event: str, duration: float, **kwargs: Any) -> None:
        if event == "/jax/core/compile/jaxpr_trace_duration":
            self.count += 1


_TRACES = _TraceCounter()


def _flops(module: Any, size: Any, variant: str) -> float:
    """A variant's model FLOPs per step (workloads whose variants differ in size take the variant)."""
    try:
        return module.flops_per_step(size, variant)
    except TypeError:
        return module.flops_per_step(size)


def time_workload(
    module: Any, mode: str, torch_device: str | None, peaks: dict[str, float], warm_in: float = 0.0
) -> dict[str, Any]:
    """Build, warm up and time the three implementations of every variant, interleaved
    (with ``warm_in`` seconds of untimed calls before each timed one: `measure`)."""
    size = module.SIZES[mode]
    impls = [i for i in IMPLS if i != "torch" or torch_device]
    out: dict[str, Any] = {
        "title": module.TITLE,
        "shape": dict(size.shape),
        "steps_per_call": size.steps,
        "repeats": size.repeats,
        "warmup": size.warmup,
        "warm_in_s": warm_in,
        "flops_per_step": module.flops_per_step(size),
        "variants": {},
    }
    for variant in module.VARIANTS:
        benches = {impl: module.build(impl, variant, size, torch_device or "cpu") for impl in impls}
        start = time.perf_counter()
        for bench in benches.values():  # warm-up (compilation), in the order `measure` would use
            for _ in range(size.warmup):
                bench.run()
        traced = _TRACES.count
        raw = measure({i: b.run for i, b in benches.items()}, repeats=size.repeats, warmup=0, warm_in=warm_in)
        traces = _TRACES.count - traced
        per_step = summarize({i: [t / benches[i].steps for t in ts] for i, ts in raw.items()})
        losses = {i: b.last_loss() for i, b in benches.items()}
        row = {
            "per_step": per_step,
            "speedup": {i: per_step[i]["median_s"] / per_step["funcnn"]["median_s"] for i in impls if i != "funcnn"},
            "final_loss": losses,
            "losses_agree": _agree(losses.values()),
            "flops_per_step": _flops(module, size, variant),
            "flops_per_s": {i: _flops(module, size, variant) / per_step[i]["median_s"] for i in impls},
            "traces_during_timing": traces,
            "seconds": time.perf_counter() - start,
        }
        if peaks:
            row["fraction_of_peak"] = {
                i: {name: f / peak for name, peak in peaks.items()} for i, f in row["flops_per_s"].items()
            }
        bars = module.BARS.get(variant, {})
        row["bars"] = {i: bar for i, bar in bars.items() if i in row["speedup"]}
        row["met"] = all(row["speedup"][i] >= bar for i, bar in row["bars"].items()) if row["bars"] else None
        out["variants"][variant] = row
        title = f"{module.NAME} {variant}: {module.TITLE}; {_shape_text(size)}; time per step"
        reference = "torch" if "torch" in per_step else "jax"
        print_table(title, per_step, reference, notes={i: f"final loss {loss:.6g}" for i, loss in losses.items()})
        sys.stdout.flush()
    return out


def _agree(losses: Any) -> bool:
    """Whether the final losses agree to 1% (float32 round-off drifts over many steps)."""
    values = list(losses)
    if not all(math.isfinite(v) for v in values):
        return False
    return max(values) - min(values) <= 1e-2 * max(1.0, max(abs(v) for v in values))


def _shape_text(size: Any) -> str:
    shape = ", ".join(f"{k} {v}" for k, v in size.shape.items())
    return f"{shape}; {size.steps} steps x {size.repeats} repetitions, medians"


# ------------------------------------------------------------------------- memory


def memory_workload(
    name: str, mode: str, torch_device: str | None, gpu: bool, reuse_heap: bool = False
) -> dict[str, Any]:
    """Peak memory of each implementation of one workload, each in a fresh process."""
    results: dict[str, Any] = {}
    for impl in IMPLS:
        if impl == "torch" and not torch_device:
            continue
        opt_in = reuse_heap and impl == "funcnn"
        results[impl] = memory.in_subprocess(name, impl, mode, "cuda" if gpu else "cpu", reuse_heap=opt_in)
    if "torch" in results:
        # Judged on the training steps (steady); the whole-run peak, which includes XLA
        # compiling in the process, is reported next to it.
        steady = results["funcnn"]["steady_mb"], results["torch"]["steady_mb"]
        results["met"] = steady[0] <= steady[1] if None not in steady else None
        results["met_including_compilation"] = results["funcnn"]["peak_mb"] <= results["torch"]["peak_mb"]
    return results


# --------------------------------------------------------------------------- output


def _fmt(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary_table(results: dict[str, Any]) -> str:
    """The one table: per-step medians, speed-ups, bars; then memory and W5."""
    lines = [f"\nSummary ({CONVENTION})"]
    if any(wl.get("variants") for wl in results["workloads"].values()):
        head = f"  {'workload':<10} {'torch':>10} {'raw jax':>10} {'funcnn':>10} {'torch/funcnn':>13} {'jax/funcnn':>11}  bar"
        lines.append(head)
    for name, wl in results["workloads"].items():
        for variant, row in wl.get("variants", {}).items():
            med = {i: _fmt(s["median_s"]) for i, s in row["per_step"].items()}
            sp = row["speedup"]
            bar = ", ".join(f"{i}/funcnn >= {b:g}x" for i, b in row["bars"].items())
            met = {True: "met", False: "NOT met", None: ""}[row["met"]]
            if row["traces_during_timing"]:
                met += f" ({row['traces_during_timing']} recompilations while timing!)"
            label = f"{name} {variant}"
            lines.append(
                f"  {label:<10} {med.get('torch', '-'):>10} {med['jax']:>10} {med['funcnn']:>10} "
                f"{_ratio(sp.get('torch')):>13} {_ratio(sp.get('jax')):>11}  {bar} {met}".rstrip()
            )
    mem = {n: wl["memory"] for n, wl in results["workloads"].items() if wl.get("memory")}
    if mem:
        lines.append(
            "\nPeak memory (RSS) above the post-import baseline, MB: measured training steps / whole run incl. "
            "compilation"
        )
        lines.append(
            f"  {'workload':<10} {'torch':>15} {'raw jax':>15} {'funcnn':>15}  funcnn <= torch: steps / whole run"
        )
        for name, m in mem.items():
            cell = {i: f"{_mb(m[i]['steady_mb'])} / {_mb(m[i]['peak_mb'])}" for i in IMPLS if i in m}
            met = " / ".join(
                {True: "met", False: "NOT met", None: "-"}[m.get(k)] for k in ("met", "met_including_compilation")
            )
            lines.append(f"  {name:<10} {cell.get('torch', '-'):>15} {cell['jax']:>15} {cell['funcnn']:>15}  {met}")
    w5 = results["workloads"].get("W5")
    if w5:
        lines.append(f"\nW5 {w5['title']} ({w5['repeats']} runs each, medians)")
        ref = w5["per_run"]["torch"]["median_s"]
        for case, s in w5["per_run"].items():
            lines.append(f"  {case:<20} {_fmt(s['median_s']):>10}   torch/this {ref / s['median_s']:.2f}x")
        for impl, rows in w5["phases"].items():
            text = ", ".join(f"{phase} {_fmt(r['median_s'])}" for phase, r in rows.items())
            lines.append(f"  inside {impl}: {text}")
        v = w5["verdict"]
        lines.append(f"  bar: {v['bar']}: {'met' if v['met'] else 'NOT met'}")
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def flops_table(results: dict[str, Any], peaks: dict[str, float]) -> str:
    """Achieved FLOP/s (model FLOPs counted analytically) and fractions of the peaks."""
    lines = ["\nAchieved FLOP/s (model FLOPs per step / median time per step)"]
    for name, wl in results["workloads"].items():
        for variant, row in wl.get("variants", {}).items():
            cells = []
            for impl, f in row["flops_per_s"].items():
                frac = "".join(
                    f" {100 * x:.2f}% of {p}" for p, x in row.get("fraction_of_peak", {}).get(impl, {}).items()
                )
                cells.append(f"{impl} {f / 1e9:.2f} GFLOP/s{frac}")
            lines.append(f"  {name} {variant}: " + "; ".join(cells))
    if not peaks:
        lines.append("  (no --peak-flops given: fractions of peak not reported)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch_device = _torch_device(args.gpu)
    if args.no_cache:
        disable_compilation_cache()
        cache = None
    else:
        cache = str(enable_compilation_cache(args.cache_dir or default_cache_dir()))
    load_start = _load()
    if args.cpu_sync_dispatch:  # before the CPU backend starts: the flag is read when the client is made
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    heap = "glibc's defaults"
    if args.reuse_heap:
        from funcnn import train

        heap = (
            "reused (--reuse-heap)"
            if train.reuse_heap_for_step_buffers()
            else "glibc's defaults (--reuse-heap refused)"
        )
    info = machine(torch_device)
    command = "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"$ {command}")
    print(
        f"machine: {info['cpu']}, {info['cores_available']} cores; python {info['python']}; "
        f"jax {info['jax']} ({info['jax_backend']}: {', '.join(info['jax_devices'])}), optax {info['optax']}, "
        f"funcnn {info['funcnn']}; torch {info['torch']} ({info['torch_threads']} threads, {info['torch_device']})"
    )
    dispatch = "async (JAX's default)" if info["jax_cpu_async_dispatch"] else "synchronous (--cpu-sync-dispatch)"
    print(
        f"mode: {args.mode}; persistent compilation cache: {cache or 'off'}; JAX CPU dispatch: {dispatch}; "
        f"step buffers: {heap}; warm-in before each timed call: {f'{args.warm_in} s' if args.warm_in else 'none'}"
    )
    print(f"load average at the start: {load_start}")
    print(f"{CONVENTION}. Prints in W1 go to io.StringIO in all three implementations.")
    results: dict[str, Any] = {"command": command, "mode": args.mode, "machine": info, "workloads": {}}
    started = time.perf_counter()
    memory_for = [n for n in args.only if n in TIMED]
    if args.smoke:
        memory_for = memory_for[:1]  # seconds, not minutes: one workload's memory checks the plumbing
    if args.no_memory:
        memory_for = []
    for name in args.only:
        if name == w5_cold_start.NAME:
            device = "cpu"  # the article's script runs on the CPU, so W5 does on every machine
            times = w5_cold_start.measure(args.mode, device)
            per_run = summarize(times)
            phases = {impl: summarize(p) for impl, p in w5_cold_start.phases(args.mode, device).items()}
            results["workloads"][name] = {
                "title": w5_cold_start.TITLE,
                "repeats": w5_cold_start.REPEATS[args.mode],
                "per_run": per_run,
                "phases": phases,
                "verdict": w5_cold_start.verdict({c: s["median_s"] for c, s in per_run.items()}),
            }
            print_table(f"W5: {w5_cold_start.TITLE} (wall time per run)", per_run, "torch")
            for impl, rows in phases.items():
                text = ", ".join(f"{phase} {_fmt(r['median_s'])}" for phase, r in rows.items())
                print(f"  inside the {impl} process (medians): {text}")
            continue
        wl = time_workload(TIMED[name], args.mode, torch_device, args.peaks, args.warm_in)
        if name in memory_for:
            wl["memory"] = memory_workload(name, args.mode, torch_device, args.gpu, args.reuse_heap)
        results["workloads"][name] = wl
    results["seconds"] = time.perf_counter() - started
    results["load_average"] = {"start": load_start, "end": _load()}
    print(summary_table(results))
    if args.gpu or args.peaks:
        print(flops_table(results, args.peaks))
    print(f"\ntotal {results['seconds']:.0f} s; load average at the start {load_start}, at the end {_load()}")
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
