"""Where the time of one workload's XLA training step goes: a per-operation profile.

Runs one timed workload (funcnn or the raw-JAX version) under JAX's profiler with
XLA:CPU's per-operation trace events switched on, and prints

* the step's wall time, and the summed time of XLA's operations (the "thunks" the CPU
  runtime executes: a library matmul, a fused elementwise kernel, a copy, ...);
* that time by kind of operation (matmuls and convolutions, fused elementwise and
  reduction kernels, copies, per-step slices of loops, ...);
* the operations that take the most time, each with its time per step, its calls per
  step and its time per call, the optimized HLO that produced it and the JAX operation
  it came from (``op_name``), so a slow line can be traced to the code that asked for it.

Tracing adds a little time to every operation (about a microsecond), so the times here
are somewhat above `benchmarks.run`'s; the shares are what matter. XLA's trace events and
its optimized HLO are switched on through ``XLA_FLAGS`` before JAX starts, which is why
this tool runs as its own process and times one implementation at a time.

Usage::

    python -m benchmarks.profile W4                      # funcnn's LSTM step
    python -m benchmarks.profile W4 --impl jax --top 15  # the raw-JAX version
    python -m benchmarks.profile W1 --variant fused
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_INSTRUCTION = re.compile(r"\s*(?:ROOT )?%([\w.\-]+) = (\S+) (\S+?)\((.*)")
_OP_NAME = re.compile(r'op_name="([^"]*)"')
# Operations that only run others (their time is their children's): not counted.
_CONTAINERS = ("while", "conditional", "call")


def kind_of(opcode: str, rest: str) -> str:
    """The kind of an XLA:CPU operation, from its optimized HLO opcode and attributes."""
    if opcode == "fusion":
        if "kind=kCustom" in rest:  # a library call: YNNPACK/XNNPACK matmul or convolution
            return "matmul/conv (library)"
        if "dynamic-update-slice" in rest or "dynamic_update_slice" in rest:
            return "loop outputs (dynamic-update-slice)"
        return "fused elementwise/reduction"
    if opcode in ("dot", "convolution"):
        return "matmul/conv (Eigen)"
    if opcode in ("copy", "transpose"):
        return "copy/transpose"
    if opcode in ("dynamic-slice", "dynamic-update-slice", "slice", "concatenate", "pad"):
        return "slice/concatenate"
    if opcode in ("custom-call",):
        return "custom call"
    return "other"


def read_hlo(dump_dir: str) -> dict[str, tuple[str, str, str]]:
    """Instruction name -> ``(kind, short HLO text, op_name)`` over the optimized modules."""
    table: dict[str, tuple[str, str, str]] = {}
    for path in sorted(Path(dump_dir).glob("*after_optimizations.txt")):
        for line in path.read_text().splitlines():
            m = _INSTRUCTION.match(line)
            if not m:
                continue
            name, shape, opcode, rest = m.groups()
            if opcode in _CONTAINERS:
                continue
            op_name = _OP_NAME.search(rest)
            text = re.sub(r", metadata=\{.*", "", f"{shape} {opcode}({rest}")
            text = re.sub(r", backend_config=.*", "", text)
            table[name] = (kind_of(opcode, rest), text[:110], op_name.group(1)[-70:] if op_name else "")
    return table


def read_trace(trace_dir: str) -> list[dict[str, Any]]:
    """The complete ("X") events of the Perfetto trace JAX's profiler wrote."""
    files = sorted(Path(trace_dir).rglob("*.trace.json.gz"))
    if not files:
        raise RuntimeError(f"benchmarks.profile: the profiler wrote no trace under {trace_dir}")
    with gzip.open(files[-1]) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    return [e for e in events if e.get("ph") == "X"]


def summarize(events: list[dict[str, Any]], hlo: dict[str, tuple[str, str, str]], steps: int) -> dict[str, Any]:
    """Per-operation and per-kind times (microseconds per training step)."""
    total: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    for e in events:
        if e["name"] in hlo:
            total[e["name"]] += e["dur"]
            calls[e["name"]] += 1
    by_kind: collections.Counter[str] = collections.Counter()
    for name, us in total.items():
        by_kind[hlo[name][0]] += us
    ops = [
        {
            "name": name,
            "us_per_step": us / steps,
            "calls_per_step": calls[name] / steps,
            "us_per_call": us / calls[name],
            "kind": hlo[name][0],
            "hlo": hlo[name][1],
            "op_name": hlo[name][2],
        }
        for name, us in total.most_common()
    ]
    return {
        "ops_us_per_step": sum(total.values()) / steps,
        "by_kind": {k: v / steps for k, v in by_kind.most_common()},
        "ops": ops,
    }


def print_report(title: str, wall_us: float, report: dict[str, Any], top: int) -> None:
    ops_us = report["ops_us_per_step"]
    print(title)
    print(f"wall time per step (traced): {wall_us:,.1f} us; XLA operations: {ops_us:,.1f} us")
    print("\nby kind                                  us/step   share")
    for kind, us in report["by_kind"].items():
        print(f"  {kind:36s} {us:10,.1f}  {us / ops_us:6.1%}")
    print(f"\ntop {top} operations")
    print(f"  {'us/step':>9s} {'calls':>6s} {'us/call':>8s}  operation")
    for op in report["ops"][:top]:
        print(
            f"  {op['us_per_step']:9,.1f} {op['calls_per_step']:6.1f} {op['us_per_call']:8.1f}  {op['name']}: {op['hlo']}"
        )
        if op["op_name"]:
            print(f"  {'':26s}  from {op['op_name']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="W1, W2, W3 or W4")
    parser.add_argument(
        "--impl", choices=("funcnn", "jax"), default="funcnn", help="which XLA version (default funcnn)"
    )
    parser.add_argument("--variant", default="step", help="the workload's variant (W1 also has 'fused')")
    parser.add_argument("--mode", choices=("smoke", "quick", "full"), default="quick", help="sizes (default quick)")
    parser.add_argument("--calls", type=int, default=3, help="traced calls of the workload's loop (default 3)")
    parser.add_argument("--top", type=int, default=20, help="operations to list (default 20)")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if "jax" in sys.modules:
        raise RuntimeError("benchmarks.profile: run it as its own process (`python -m benchmarks.profile ...`)")
    work = tempfile.mkdtemp(prefix="funcnn-profile-")
    try:
        dump = os.path.join(work, "hlo")
        os.environ["XLA_FLAGS"] = " ".join(
            [os.environ.get("XLA_FLAGS", ""), "--xla_cpu_enable_xprof_traceme=true", f"--xla_dump_to={dump}"]
        ).strip()
        import jax

        from benchmarks.workloads import get

        try:
            module = get(args.workload.upper())
        except ValueError as error:
            print(f"python -m benchmarks.profile: {error}", file=sys.stderr)
            return 2
        if args.variant not in module.VARIANTS:
            print(
                f"python -m benchmarks.profile: {module.NAME} has the variants {module.VARIANTS}, got {args.variant!r}",
                file=sys.stderr,
            )
            return 2
        bench = module.build(args.impl, args.variant, module.SIZES[args.mode])
        bench.run()  # compile
        bench.run()
        trace = os.path.join(work, "trace")
        jax.profiler.start_trace(trace, create_perfetto_trace=True)
        start = time.perf_counter()
        for _ in range(args.calls):
            bench.run()
        wall = time.perf_counter() - start
        jax.profiler.stop_trace()
        steps = args.calls * bench.steps
        report = summarize(read_trace(trace), read_hlo(dump), steps)
        report.update(
            workload=args.workload,
            impl=args.impl,
            variant=args.variant,
            mode=args.mode,
            wall_us_per_step=wall / steps * 1e6,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    title = f"{args.workload} {args.variant} ({args.impl}, {args.mode} sizes): {module.TITLE}"
    print_report(title, report["wall_us_per_step"], report, args.top)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
