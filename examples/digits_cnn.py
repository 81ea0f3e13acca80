"""A convolutional network on scikit-learn's handwritten digits, trained with ``fit``.

The article's next step after the feedforward network is a CNN. Here one classifies
the 1,797 8x8 digit images bundled with scikit-learn (``funcnn.data.load_digits``, no
download), the way a PyTorch user would:

* the data: ``random_split`` into fixed train / validation / test sets (a PRNG key
  fixes the split, as ``torch.Generator().manual_seed`` does), and a shuffling
  ``DataLoader`` over the training set;
* the model: ``Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d`` twice, then ``Flatten``,
  ``Dropout`` and two ``Linear`` layers, named like torchvision's models
  (``features.*``, ``classifier.*``). Batch norm keeps running statistics, so the
  model has ``state`` besides ``params``;
* the training: ``funcnn.train.fit`` with ``optax.adam`` and ``nn.CrossEntropyLoss()``,
  evaluating on the validation set after every epoch (``train=False``: dropout off,
  batch norm on its running statistics). ``--fused`` runs each epoch as one compiled
  ``lax.scan``, with the same batches and the same result;
* the result: accuracy on the held-out test set, the weights saved with
  ``funcnn.checkpoint.save_weights`` (a safetensors file with PyTorch's
  ``state_dict`` keys) and loaded back, and the loss and accuracy curves as a PNG.

At the defaults (15 epochs) the test accuracy is 98-99.7% (seeds 0-4; 99.7% at seed 0).

Run it: ``python -m examples run digits_cnn`` or ``python -m examples.digits_cnn --epochs 15``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

import funcnn
from funcnn import checkpoint, data, nn, train
from funcnn.nn import Params, State

from ._cli import positive_int, section

Split = tuple[np.ndarray, np.ndarray]


def load_split(seed: int = 0, fractions: Sequence[float] = (0.7, 0.1, 0.2)) -> list[Split]:
    """The digits, split at random into disjoint subsets (train, validation, test).

    Args:
      seed: fixes the split (the same seed always gives the same subsets).
      fractions: the share of each subset, summing to 1.

    Returns:
      one ``(images, labels)`` pair per fraction: float32 ``(n, 1, 8, 8)`` images in
      ``[0, 1]`` and int32 ``(n,)`` labels in ``0..9``.
    """
    images, labels = data.load_digits()
    return data.random_split((images, labels), list(fractions), key=jax.random.key(seed))


def DigitsCNN(num_classes: int = 10, *, batchnorm: bool = True, dropout: float = 0.25) -> nn.Sequential:
    """A small CNN for 8x8 single-channel images: two conv blocks and a two-layer classifier.

    Args:
      num_classes: outputs of the last layer.
      batchnorm: put a ``BatchNorm2d`` after each convolution.
      dropout: dropout probability before each ``Linear`` of the classifier (0: none).

    Returns:
      ``nn.Sequential(features=..., classifier=...)`` mapping float32 ``(N, 1, 8, 8)``
      images to float32 ``(N, num_classes)`` logits.
    """

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        norm = [nn.BatchNorm2d(c_out)] if batchnorm else []
        return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), *norm, nn.ReLU(), nn.MaxPool2d(2)]

    drop = [nn.Dropout(dropout)] if dropout > 0 else []
    features = nn.Sequential(*block(1, 16), *block(16, 32), nn.Flatten())  # (N, 32, 2, 2) -> (N, 128)
    classifier = nn.Sequential(*drop, nn.Linear(32 * 2 * 2, 64), nn.ReLU(), *drop, nn.Linear(64, num_classes))
    return nn.Sequential(features=features, classifier=classifier)


class EpochPrinter(train.Callback):
    """A `funcnn.train.fit` callback printing one line per epoch: ``Epoch 3/15: loss ...``."""

    def __init__(self, epochs: int, every: int = 1) -> None:
        self.epochs, self.every = epochs, every

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> bool:
        if epoch % self.every == 0 or epoch == self.epochs:
            shown = " - ".join(f"{k} {v:.4f}" for k, v in logs.items() if k not in ("epoch", "step", "seconds"))
            print(f"Epoch {epoch}/{self.epochs}: {shown} ({logs['seconds']:.2f} s)", flush=True)
        return False


def accuracy(model: nn.Module, params: Params, state: State, images: Any, labels: Any) -> float:
    """The fraction of ``images`` (float32 ``(N, ...)``) whose argmax class equals ``labels`` (int ``(N,)``)."""
    logits, _ = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x, train=False))(params, state, images)
    return float(jnp.mean(jnp.argmax(logits, axis=1) == jnp.asarray(labels)))


def plot_curves(
    runs: Mapping[str, Sequence[Mapping[str, Any]]], path: str | os.PathLike[str], title: str = ""
) -> Path | None:
    """Plot the loss and accuracy of `fit` histories (one line per run and metric) to a PNG.

    Args:
      runs: ``{label: history}`` where each history is `FitResult.history`.
      path: the PNG file to write (its directory is created).
      title: the figure's title.

    Returns:
      the path written, or None when matplotlib is not installed (a message says so).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print(f"(matplotlib is not installed, so no plot was written to {path}; pip install matplotlib)")
        return None
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg (PNG) renderer; no GUI and no pyplot state
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for i, (label, history) in enumerate(runs.items()):
            epochs = [h["epoch"] for h in history]
            for prefix, style in (("", "--"), ("val_", "-")):  # one colour per run: dashed train, solid validation
                if f"{prefix}{metric}" in history[0]:
                    name = f"{label} {'validation' if prefix else 'train'}".strip()
                    ax.plot(epochs, [h[f"{prefix}{metric}"] for h in history], style, color=f"C{i}", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out


def train_digits(
    epochs: int = 15,
    *,
    seed: int = 0,
    batch_size: int = 32,
    lr: float = 2e-3,
    batchnorm: bool = True,
    dropout: float = 0.25,
    fused: bool = False,
    verbose: bool = True,
) -> tuple[nn.Sequential, train.FitResult, list[Split]]:
    """Train `DigitsCNN` on the training split with validation after each epoch.

    Returns:
      ``(model, result, (train_set, val_set, test_set))``.
    """
    train_set, val_set, test_set = load_split(seed)
    data_key, fit_key = jax.random.split(jax.random.key(seed + 1))
    # drop_last: every batch has one shape, so the step compiles once (a new shape would compile again).
    train_loader = data.DataLoader(train_set, batch_size=batch_size, shuffle=True, key=data_key, drop_last=True)
    val_loader = data.DataLoader(val_set, batch_size=512)
    model = DigitsCNN(batchnorm=batchnorm, dropout=dropout)
    result = train.fit(
        model,
        optax.adam(lr),
        train_loader,
        loss=nn.CrossEntropyLoss(),
        epochs=epochs,
        key=fit_key,
        val_loader=val_loader,
        progress=False,
        callbacks=[EpochPrinter(epochs)] if verbose else [],
        fused=fused,
    )
    return model, result, [train_set, val_set, test_set]


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.digits_cnn", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--epochs", type=positive_int, default=15, help="training epochs (default: 15)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights and batch order (default: 0)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="training batch size (default: 32)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 0.002)")
    parser.add_argument(
        "--dropout", type=float, default=0.25, help="dropout probability in the classifier (default: 0.25)"
    )
    parser.add_argument(
        "--no-batchnorm", dest="batchnorm", action="store_false", help="leave out the BatchNorm2d layers"
    )
    parser.add_argument("--fused", action="store_true", help="run each epoch as one compiled lax.scan (same result)")
    parser.add_argument(
        "--out",
        default=os.path.join("runs", "digits_cnn"),
        help="where the weights and plot go (default: runs/digits_cnn)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Train, evaluate on the test set, save and reload the weights, plot the curves."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.dropout < 1:
        parser.error(f"argument --dropout: expected a probability in [0, 1), got {args.dropout}")
    out = Path(args.out)

    section("The data: 8x8 digits, split into train / validation / test")
    train_set, val_set, test_set = load_split(args.seed)
    print(f"train {train_set[0].shape}, validation {val_set[0].shape}, test {test_set[0].shape}; labels 0..9")

    section("The model")
    model = DigitsCNN(batchnorm=args.batchnorm, dropout=args.dropout)
    print(nn.summary(model, jax.ShapeDtypeStruct((args.batch_size, 1, 8, 8), jnp.float32)))

    mode = "one compiled lax.scan per epoch" if args.fused else "one compiled step per batch"
    section(f"Training with funcnn.train.fit: {args.epochs} epochs, Adam lr={args.lr}, {mode}")
    start = time.perf_counter()
    model, result, (train_set, val_set, test_set) = train_digits(
        args.epochs,
        seed=args.seed,
        batch_size=args.batch_size,
        lr=args.lr,
        batchnorm=args.batchnorm,
        dropout=args.dropout,
        fused=args.fused,
    )
    print(f"trained in {time.perf_counter() - start:.2f} s (including compilation)")

    section("Held-out accuracy")
    test_acc = accuracy(model, result.params, result.state, *test_set)
    print(f"test accuracy: {test_acc:.4f} ({round(test_acc * len(test_set[1]))}/{len(test_set[1])} images)")
    print(f"chance level: {1 / 10:.4f}")

    section("Saving and reloading the weights")
    path = out / "digits_cnn.safetensors"
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.save_weights(path, result.params, result.state)
    keys = funcnn.state_dict(result.params, result.state)
    examples = ("features.0.weight", "features.1.running_mean", "classifier.4.weight")
    shown = ", ".join(f"{k} {keys[k].shape}" for k in examples if k in keys)
    print(f"wrote {path}: {len(keys)} tensors with PyTorch's state_dict keys, e.g. {shown}")
    params, state = checkpoint.load_weights(path, model)
    reloaded = accuracy(model, params, state, *test_set)
    same = reloaded == test_acc
    print(f"reloaded weights give the same test accuracy: {same}")

    section("Curves")
    written = plot_curves({"": result.history}, out / "curves.png", title=f"DigitsCNN, test accuracy {test_acc:.3f}")
    if written is not None:
        print(f"wrote {written}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
