"""Data-parallel training of the digits CNN over every device, on one or several processes.

One script, three ways to run it:

* on whatever devices this process sees (one CPU, or every local GPU)::

      python -m examples.data_parallel --epochs 10

* on N *forced host devices*: XLA splits the CPU into N devices. The flag
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` must be set before JAX
  starts, so ``--devices N`` re-runs this script in a new interpreter with it set::

      python -m examples.data_parallel --devices 4

* as one of N processes, started by the launcher (one process per host or per GPU in
  a real cluster)::

      python -m examples launch -n 2 data_parallel --epochs 3

  The launcher sets ``FUNCNN_COORDINATOR``, ``FUNCNN_NUM_PROCESSES`` and
  ``FUNCNN_PROCESS_ID``; the script sees them and calls `funcnn.parallel.initialize`
  before anything else touches the devices.

How it trains: the model's parameters, buffers and optimizer state are replicated on
every device of the mesh (`funcnn.parallel.replicate`); each step's global batch is
split along the mesh's ``data`` axis. Every process draws the same shuffled order
(the same key), takes its own contiguous slice of each global batch
(`funcnn.parallel.process_shard`), reads only those samples, and hands them to
`funcnn.parallel.global_batch`, which assembles the global array without copying data
between processes. XLA inserts the gradient all-reduce, and ``BatchNorm2d`` sees the
statistics of the whole global batch, like ``SyncBatchNorm``. So the run computes the
same thing on 1 device, 4 devices or 2 processes, up to float round-off.

``--save PATH`` writes the whole training state with `funcnn.checkpoint.save` (process
0 only: the replicated arrays are the same everywhere); ``--restore PATH`` continues
from such a file, written by a run with any number of processes or devices.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from funcnn import checkpoint, data, nn, parallel, train

from ._cli import positive_int, section
from .digits_cnn import DigitsCNN, accuracy, load_split

_DEVICE_FLAG = "--xla_force_host_platform_device_count"
_ENV = ("FUNCNN_COORDINATOR", "FUNCNN_NUM_PROCESSES", "FUNCNN_PROCESS_ID")


def forced_devices_env(count: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CPU-only interpreter that sees ``count`` host devices.

    Args:
      count: the number of devices XLA splits the host into.
      environ: the environment to start from (default: this process's).

    Returns:
      a copy of ``environ`` with ``JAX_PLATFORMS=cpu`` and ``XLA_FLAGS`` holding the
      device-count flag (replacing any earlier one).

    Examples:
      >>> forced_devices_env(4, {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"})["XLA_FLAGS"]
      '--xla_force_host_platform_device_count=4'
    """
    env = dict(os.environ if environ is None else environ)
    kept = re.sub(rf"{_DEVICE_FLAG}=\S*", "", env.get("XLA_FLAGS", "")).strip()
    env["XLA_FLAGS"] = f"{kept} {_DEVICE_FLAG}={count}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _rerun_with_devices(count: int, argv: Sequence[str]) -> int:
    """Run this script again in a new interpreter with ``count`` forced host devices; relay its output."""
    root = Path(__file__).resolve().parents[1]
    env = forced_devices_env(count)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "examples.data_parallel", *argv]
    print(
        f"(devices are fixed when JAX starts: re-running with XLA_FLAGS={env['XLA_FLAGS']} JAX_PLATFORMS=cpu)",
        flush=True,
    )
    with subprocess.Popen(
        command, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:  # line by line, so a launcher or a captured stdout sees it as it comes
            print(line, end="", flush=True)
    return proc.returncode


def _on_host(tree: Any) -> Any:
    """NumPy copies of replicated arrays (each process reads its own devices' copy)."""

    def one(a: Any) -> Any:
        if not isinstance(a, jax.Array):
            return a
        local = a.addressable_data(0)
        return local if jnp.issubdtype(a.dtype, jax.dtypes.prng_key) else np.asarray(local)

    return jax.tree.map(one, tree)


def train_data_parallel(
    epochs: int = 10,
    *,
    seed: int = 0,
    batch_size: int = 64,
    lr: float = 2e-3,
    initial: train.TrainState | None = None,
    verbose: bool = True,
) -> tuple[nn.Sequential, train.TrainState, list[float]]:
    """Train `DigitsCNN` data-parallel over every device of every process.

    Args:
      epochs: epochs to train (after the restored ones, with ``restore``).
      seed: fixes the split, the initial weights, the dropout keys and the batch order.
      batch_size: the global batch (all devices together); a multiple of the device
        count. Each process feeds ``batch_size / process_count`` samples per step.
      lr: Adam's learning rate.
      initial: a training state to continue from (e.g. `restore_state`), else a fresh one.
      verbose: print one line per epoch (process 0).

    Returns:
      ``(model, train_state, losses)``: the `TrainState` replicated over the mesh, and
      the global mean training loss of each epoch.
    """
    mesh = parallel.data_mesh()
    if batch_size % mesh.size:
        raise ValueError(
            f"train_data_parallel: --batch-size {batch_size} is not divisible by the {mesh.size} devices; pass a "
            f"multiple of {mesh.size}, e.g. --batch-size {mesh.size * max(1, batch_size // mesh.size)}"
        )
    lead = jax.process_index() == 0
    train_set, _, _ = load_split(seed)
    data_key, fit_key = jax.random.split(jax.random.key(seed + 1))
    # Only the order is drawn from the loader: the same on every process (same key).
    loader = data.DataLoader(train_set, batch_size=batch_size, shuffle=True, key=data_key, drop_last=True)
    images, labels = loader.arrays
    model = DigitsCNN()
    optimizer = optax.adam(lr)
    ts = train.TrainState.create(model, optimizer, fit_key) if initial is None else initial
    ts = parallel.replicate(ts, mesh)  # every process holds the same values
    step = parallel.make_train_step(
        train.model_loss(model, nn.CrossEntropyLoss()), optimizer, mesh, stateful=True, has_aux=True
    )
    first_epoch = int(ts.step) // len(loader)
    losses = []
    for epoch in range(first_epoch, first_epoch + epochs):
        start = time.perf_counter()
        order = loader.epoch_indices(epoch)
        total = jnp.zeros(())
        for b in range(len(loader)):
            mine = parallel.process_shard(order[b * batch_size : (b + 1) * batch_size])  # this process's samples
            x, y = parallel.global_batch((images[mine], labels[mine]), mesh)
            ts, loss, _ = step(ts, x, y)
            total = total + loss  # summed on the devices: no host sync per step
        losses.append(float(total) / len(loader))
        if verbose and lead:
            print(f"Epoch {epoch + 1}: loss {losses[-1]:.4f} ({time.perf_counter() - start:.2f} s)", flush=True)
    return model, ts, losses


def restore_state(path: str | os.PathLike[str], *, seed: int = 0, lr: float = 2e-3) -> train.TrainState:
    """Read a training state written by ``--save``, by a run with any number of processes.

    Every process reads the file into a plain (one-device) tree shaped like a fresh
    state; `train_data_parallel` then replicates it over the mesh.
    """
    like = train.TrainState.create(DigitsCNN(), optax.adam(lr), jax.random.key(seed))
    return checkpoint.restore(path, like=like)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.data_parallel", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--epochs", type=positive_int, default=10, help="training epochs (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights and batch order (default: 0)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="global batch size, all devices together (default: 64)"
    )
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 0.002)")
    parser.add_argument("--devices", type=positive_int, default=None, help="run on this many forced host (CPU) devices")
    parser.add_argument(
        "--save", default=None, metavar="PATH", help="write the training state here at the end (process 0)"
    )
    parser.add_argument(
        "--restore", default=None, metavar="PATH", help="continue from a training state written by --save"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Join the other processes (if launched), train, print the test accuracy (process 0)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.devices is not None and f"{_DEVICE_FLAG}={args.devices}" not in os.environ.get("XLA_FLAGS", "").split():
        return _rerun_with_devices(args.devices, argv)
    if all(name in os.environ for name in _ENV):
        parallel.initialize()  # before anything touches the devices
    lead = jax.process_index() == 0

    section("Devices and processes")
    print(
        f"process {jax.process_index()} of {jax.process_count()}: {len(jax.local_devices())} local device(s) "
        f"{[str(d) for d in jax.local_devices()]}, {jax.device_count()} in all",
        flush=True,
    )
    if args.devices is not None and len(jax.local_devices()) != args.devices:
        print(f"expected {args.devices} local devices, got {len(jax.local_devices())}", file=sys.stderr)
        return 1

    section(f"Training: global batch {args.batch_size} over {jax.device_count()} device(s), {args.epochs} epoch(s)")
    initial = None
    if args.restore is not None:
        initial = restore_state(args.restore, seed=args.seed, lr=args.lr)
        if lead:
            test_set = load_split(args.seed)[2]
            acc = accuracy(DigitsCNN(), initial.params, initial.state, *test_set)
            print(
                f"restored {args.restore} at step {int(initial.step)}: test accuracy {acc:.4f} "
                f"({round(acc * len(test_set[1]))}/{len(test_set[1])} images)"
            )
    start = time.perf_counter()
    model, ts, _ = train_data_parallel(
        args.epochs, seed=args.seed, batch_size=args.batch_size, lr=args.lr, initial=initial
    )
    if lead:
        print(f"trained to step {int(ts.step)} in {time.perf_counter() - start:.2f} s (including compilation)")

    host = _on_host(ts)
    if args.save is not None and lead:  # the replicated state is the same on every process: one writer
        checkpoint.save(args.save, host)
        print(f"wrote the training state (step {int(host.step)}) to {args.save}")

    section("Held-out accuracy")
    if lead:
        _, _, test_set = load_split(args.seed)
        test_acc = accuracy(model, host.params, host.state, *test_set)
        print(f"test accuracy: {test_acc:.4f} ({round(test_acc * len(test_set[1]))}/{len(test_set[1])} images)")
    if jax.process_count() > 1:
        jax.distributed.shutdown()  # waits for every process: none exits while another still needs it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
