"""A learning-rate range test on the 8x8 digits: find a rate, then train with it.

``funcnn.train.lr_find`` trains a fresh copy of the model for a few dozen steps while
the learning rate grows exponentially from ``--min-lr`` to ``--max-lr``, records the
loss of every step through a per-step ``fit`` callback, and stops once the loss blows
up. The rate where the (smoothed) loss falls fastest is a good one to train with;
this script prints the curve as a table, then trains a small CNN for a few epochs at
the suggested rate and at rates 100x below and 10x above it, and compares them.
Every step's loss of the final run goes to a CSV file (``train.CSVLogger``).

Run it: ``python -m examples run lr_finder`` or ``python -m examples.lr_finder --epochs 3``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from typing import Sequence

import jax
import numpy as np
import optax

from funcnn import data, nn, train

from ._cli import positive_int, section


def SmallCNN(num_classes: int = 10) -> nn.Sequential:
    """``Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear``: float32 ``(N, 1, 8, 8)`` images to ``(N, 10)`` logits."""
    return nn.Sequential(
        features=nn.Sequential(nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()),
        classifier=nn.Linear(8 * 4 * 4, num_classes),
    )


def curve_table(found: train.LRFinderResult, rows: int = 12) -> str:
    """Every few steps of the range test as ``lr  loss  smoothed`` lines, with the suggestion marked."""
    picks = sorted(set(np.linspace(0, len(found.lrs) - 1, min(rows, len(found.lrs))).round().astype(int).tolist()))
    lines = [f"{'lr':>10s}  {'loss':>8s}  {'smoothed':>8s}"]
    for i in picks:
        mark = "  <- lowest" if found.lrs[i] == found.min_loss_lr else ""
        lines.append(f"{found.lrs[i]:10.2e}  {found.losses[i]:8.4f}  {found.smoothed[i]:8.4f}{mark}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.lr_finder", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--epochs", type=positive_int, default=3, help="epochs of each comparison run (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights and batch order (default: 0)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size (default: 64)")
    parser.add_argument("--steps", type=positive_int, default=60, help="steps of the range test (default: 60)")
    parser.add_argument("--min-lr", type=float, default=1e-4, help="first rate of the range test (default: 1e-4)")
    parser.add_argument("--max-lr", type=float, default=10.0, help="last rate of the range test (default: 10)")
    parser.add_argument(
        "--out", default=os.path.join("runs", "lr_finder"), help="where the per-step CSV goes (default: runs/lr_finder)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the range test, then compare short trainings at the suggested rate and around it."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.min_lr < args.max_lr:
        parser.error(f"argument --min-lr/--max-lr: expected 0 < min-lr < max-lr, got {args.min_lr} and {args.max_lr}")
    if args.steps < 3:
        parser.error(f"argument --steps: expected at least 3 steps, got {args.steps}")

    section("The data: 8x8 digits, 80% to train, 20% to validate")
    train_set, val_set = data.random_split(data.load_digits(), [0.8, 0.2], key=jax.random.key(args.seed))

    def loader() -> data.DataLoader:
        return data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, key=jax.random.key(args.seed + 1))

    print(f"train {train_set[0].shape}, validation {val_set[0].shape}; SGD with momentum 0.9")
    model, loss = SmallCNN(), nn.CrossEntropyLoss()

    def sgd(learning_rate: float) -> optax.GradientTransformation:
        return optax.sgd(learning_rate, momentum=0.9)

    section(f"The range test: {args.steps} steps, lr from {args.min_lr:g} to {args.max_lr:g}")
    start = time.perf_counter()
    found = train.lr_find(
        model, sgd, loader(), loss=loss, key=jax.random.key(args.seed), min_lr=args.min_lr, max_lr=args.max_lr,
        steps=args.steps,
    )  # fmt: skip
    stopped = "the loss diverged" if len(found.lrs) < args.steps else "all steps ran"
    print(f"{len(found.lrs)} steps in {time.perf_counter() - start:.2f} s ({stopped})")
    print(curve_table(found))
    print(f"suggested learning rate: {found.suggestion:.3g} (lowest smoothed loss at {found.min_loss_lr:.3g})")

    section(f"Training {args.epochs} epoch(s) at the suggestion and around it")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    val = data.DataLoader(val_set, batch_size=len(val_set[1]))
    results = {}
    for name, lr in (
        ("suggested", found.suggestion),
        ("100x lower", found.suggestion / 100),
        ("10x higher", found.suggestion * 10),
    ):
        callbacks = [train.CSVLogger(out / "steps.csv")] if name == "suggested" else []
        try:
            result = train.fit(
                model, sgd(lr), loader(), loss=loss, epochs=args.epochs, key=jax.random.key(args.seed), val_loader=val,
                callbacks=callbacks, progress=False,
            )  # fmt: skip
            last = result.history[-1]
            results[name] = last["val_accuracy"]
            print(f"{name:>10s} lr {lr:9.3g}: val loss {last['val_loss']:.4f}, val accuracy {last['val_accuracy']:.4f}")
        except train.NonFiniteLossError as err:  # too high a rate: the guard stops the run
            results[name] = math.nan
            print(f"{name:>10s} lr {lr:9.3g}: diverged at epoch {err.epoch}, batch {err.batch}")
    rows = (out / "steps.csv").read_text().splitlines()
    print(f"every step of the 'suggested' run: {out / 'steps.csv'} ({len(rows) - 1} rows: {rows[0]})")
    best = max(results, key=lambda k: -1.0 if math.isnan(results[k]) else results[k])
    print(f"best of the three: {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
