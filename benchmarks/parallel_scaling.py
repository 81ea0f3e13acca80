"""Step time of data-parallel training against the number of devices, at a fixed global batch.

For each device count (default 1, 2, 4, 8) one fresh interpreter runs the same
training step (an MLP with ``BatchNorm1d``, Adam, cross-entropy) built with
`funcnn.parallel.make_train_step` over a mesh of that many devices, parameters
replicated, the global batch split along the ``data`` axis. The device count of a JAX
process is fixed when it starts, so each count is its own subprocess; on CPU the
devices are *forced host devices* (``--xla_force_host_platform_device_count=N``), on
GPU the first N GPUs (``--platform gpu``). The counts are interleaved: each round runs
every count once, in an order rotated from round to round, so slow drifts of the
machine hit all counts alike; each subprocess times ``--steps`` steps after a warm-up
(compilation) and the table shows the median over all rounds. The 1-device process
also times the plain single-device step (`funcnn.train.make_train_step`, no mesh), so
the first rows show what the mesh machinery itself costs.

What it shows on a machine with few CPU cores (e.g. 2): forced host devices are not
extra hardware; they split the same cores. The global batch is the same for every
count, so the arithmetic is the same, and any time above the 1-device row is the
cost of partitioning: per-device programs, the gradient all-reduce, the global
BatchNorm statistics (SyncBatchNorm semantics) and their synchronisation between
device threads. It is an upper bound on that overhead, not a speed-up measurement;
a speed-up below 1 here is expected. What it does not show: scaling on real
devices (GPUs, TPUs, hosts), where each device brings its own compute and memory
bandwidth and the all-reduce runs over NVLink or the network; run
``benchmarks/gpu_parallel.sh`` on a machine with several GPUs for that.

Usage::

    python -m benchmarks.parallel_scaling                       # 1, 2, 4, 8 forced host devices
    python -m benchmarks.parallel_scaling --devices 1,2 --rounds 2 --json out.json
    python -m benchmarks.parallel_scaling --platform gpu --batch 8192 --devices 1,2,4,8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._timing import environment, print_table, write_json  # noqa: E402

_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def _counts(text: str) -> list[int]:
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated device counts such as 1,2,4,8, got {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected device counts >= 1, got {text!r}")
    return counts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parallel_scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=_counts, default=[1, 2, 4, 8], help="device counts (default: 1,2,4,8)")
    parser.add_argument(
        "--batch", type=int, default=512, help="global batch size, the same for every count (default: 512)"
    )
    parser.add_argument("--width", type=int, default=512, help="hidden width of the MLP (default: 512)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per subprocess and round (default: 20)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over the device counts (default: 3)")
    parser.add_argument("--platform", choices=("cpu", "gpu"), default="cpu", help="forced host devices, or real GPUs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per subprocess (default: 600)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)  # one count, in a subprocess
    args = parser.parse_args(argv)
    for name in ("batch", "width", "steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name}: expected a whole number >= 1, got {getattr(args, name)}")
    bad = [n for n in args.devices if args.batch % n]
    if bad:
        parser.error(
            f"argument --batch: {args.batch} is not divisible by the device counts {bad}; pick a multiple of each"
        )
    return args


# ------------------------------------------------------------------ in the subprocess
def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Time the step on ``args.worker`` devices; returns per-step seconds (one entry per timed step)."""
    import jax
    import numpy as np
    import optax

    from funcnn import nn, parallel, train

    count = args.worker
    devices = jax.devices()
    if len(devices) < count:
        raise SystemExit(f"parallel_scaling: asked for {count} devices, JAX sees {len(devices)}: {devices}")
    mesh = parallel.data_mesh(devices[:count])
    features, classes = 256, 10
    model = nn.Sequential(
        nn.Linear(features, args.width),
        nn.BatchNorm1d(args.width),
        nn.ReLU(),
        nn.Linear(args.width, args.width),
        nn.ReLU(),
        nn.Linear(args.width, classes),
    )
    opt = optax.adam(1e-3)
    g = np.random.default_rng(0)
    x = g.standard_normal((args.batch, features)).astype(np.float32)
    y = g.integers(0, classes, args.batch).astype(np.int32)
    loss_fn = train.model_loss(model, nn.CrossEntropyLoss())

    def timed(step: Any, ts: Any, batch: Any) -> tuple[list[float], float]:
        for _ in range(2):  # compile, then one more untimed call
            ts, loss, _ = step(ts, *batch)
        jax.block_until_ready(loss)
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            ts, loss, _ = step(ts, *batch)
            jax.block_until_ready(loss)
            times.append(time.perf_counter() - start)
        return times, float(loss)

    def fresh() -> Any:  # each step donates its state: never share one between the two
        return train.TrainState.create(model, opt, jax.random.key(0))

    out: dict[str, Any] = {"devices": count, "platform": jax.default_backend(), "device_kind": devices[0].device_kind}
    step = parallel.make_train_step(loss_fn, opt, mesh, stateful=True, has_aux=True)
    out["parallel_s"], out["parallel_loss"] = timed(
        step, parallel.replicate(fresh(), mesh), parallel.shard_batch((x, y), mesh)
    )
    if count == 1:
        plain = train.make_train_step(loss_fn, opt, stateful=True, has_aux=True)
        placed = jax.device_put((fresh(), (x, y)), devices[0])
        out["plain_s"], out["plain_loss"] = timed(plain, *placed)
    return out


# ------------------------------------------------------------------ in the parent
def _env(count: int, platform: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if platform == "cpu":
        kept = re.sub(rf"{_DEVICE_FLAG}=\S*", "", env.get("XLA_FLAGS", "")).strip()
        env["XLA_FLAGS"] = f"{kept} {_DEVICE_FLAG}={count}".strip()
        env["JAX_PLATFORMS"] = "cpu"
    else:
        env["JAX_PLATFORMS"] = "cuda"
    return env


def _run_worker(count: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.parallel_scaling",
        "--worker",
        str(count),
        "--batch",
        str(args.batch),
        "--width",
        str(args.width),
        "--steps",
        str(args.steps),
        "--platform",
        args.platform,
        "--devices",
        str(count),
    ]
    proc = subprocess.run(
        command, cwd=ROOT, env=_env(count, args.platform), capture_output=True, text=True, timeout=args.timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"parallel_scaling: the {count}-device run failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args)))
        return 0
    counts = args.devices
    times: dict[str, list[float]] = {}
    losses: dict[str, list[float]] = {}
    info: dict[str, Any] = {}
    for r in range(args.rounds):
        order = counts[r % len(counts) :] + counts[: r % len(counts)]
        for count in order:
            got = _run_worker(count, args)
            info = {"platform": got["platform"], "device_kind": got["device_kind"]}
            rows = [(f"{count} device{'s' if count > 1 else ''}", "parallel")]
            if "plain_s" in got:
                rows.insert(0, ("1 device, no mesh", "plain"))
            for name, kind in rows:
                times.setdefault(name, []).extend(got[f"{kind}_s"])
                losses.setdefault(name, []).append(got[f"{kind}_loss"])
            print(
                f"round {r + 1}/{args.rounds}: {count} device(s): median step "
                f"{statistics.median(got['parallel_s']) * 1e3:.2f} ms",
                flush=True,
            )
    order = sorted(times, key=lambda n: (int(n.split()[0]), "mesh" not in n))
    summary = {
        n: {
            "median_s": statistics.median(times[n]),
            "min_s": min(times[n]),
            "max_s": max(times[n]),
            "times_s": times[n],
        }
        for n in order
    }
    reference = "1 device, no mesh" if "1 device, no mesh" in summary else order[0]
    title = (
        f"Data-parallel train step, global batch {args.batch}, MLP width {args.width}, on {info['platform']} "
        f"({info['device_kind']}); {args.rounds} interleaved round(s) x {args.steps} steps; cores: {os.cpu_count()}"
    )
    print_table(title, summary, reference)
    every = [loss for v in losses.values() for loss in v]  # same work: the same loss up to round-off
    same = max(every) - min(every) < 1e-4 * max(1.0, abs(every[0]))
    print(f"final losses agree across device counts and rounds: {same}")
    results = {
        "benchmark": "parallel_scaling",
        "config": {k: getattr(args, k) for k in ("devices", "batch", "width", "steps", "rounds", "platform")},
        **info,
        "reference": reference,
        "per_step": summary,
        "speed_vs_reference": {n: summary[reference]["median_s"] / s["median_s"] for n, s in summary.items()},
        "final_loss": {n: v[-1] for n, v in losses.items()},
    }
    print(json.dumps({"environment": environment(), **{k: v for k, v in results.items() if k != "per_step"}}))
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
