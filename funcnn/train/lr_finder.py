"""A learning-rate range test: train briefly while the rate grows, and see where the loss falls fastest.

`lr_find` trains a fresh model with the learning rate rising exponentially from
``min_lr`` to ``max_lr`` over ``steps`` steps (Smith, "Cyclical Learning Rates", 2017;
fastai's ``lr_find``), records each step's loss, and stops early once the smoothed
loss exceeds ``diverge`` times its best. It is `fit` with an
``optax.inject_hyperparams`` schedule and a per-step callback (`LRRecorder`), so the
same model, loader and loss work unchanged; the model's weights are thrown away.

Read the curve (``result.lrs`` against ``result.smoothed``, log-x) or take
``result.suggestion``: the rate where the smoothed loss falls fastest, a tenth of
the rate at its minimum if that is smaller (a cautious pick that also trains).

Examples:
  >>> import jax, numpy as np, optax
  >>> from funcnn import data, nn, train
  >>> rng = np.random.default_rng(0)
  >>> x = rng.normal(size=(256, 4)).astype(np.float32)
  >>> y = (x[:, 0] > 0).astype(np.int32)
  >>> loader = data.DataLoader((x, y), batch_size=32, shuffle=True, key=jax.random.key(1))
  >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
  >>> found = train.lr_find(model, optax.sgd, loader, loss=nn.CrossEntropyLoss(), key=jax.random.key(0),
  ...                       min_lr=1e-4, max_lr=10.0, steps=40)
  >>> found.lrs[0] <= found.suggestion < found.min_loss_lr, len(found.lrs) == len(found.losses) <= 40
  (True, True)
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import numpy as np
import optax

from ..nn.module import Module
from .callbacks import Callback
from .fit import fit


class LRFinderResult(NamedTuple):
    """What `lr_find` measured.

    Attributes:
      lrs: the learning rate of each step.
      losses: each step's training loss (its batch's).
      smoothed: the losses under exponential smoothing (debiased), the curve to read.
      suggestion: where the smoothed loss falls fastest, capped at a tenth of the
        rate at its minimum (and no lower than the first rate tried).
      min_loss_lr: the rate at the smoothed loss's minimum.

    Examples:
      >>> from funcnn import train
      >>> train.LRFinderResult._fields
      ('lrs', 'losses', 'smoothed', 'suggestion', 'min_loss_lr')
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    min_loss_lr: float


class LRRecorder(Callback):
    """Record each step's learning rate and loss; stop when the smoothed loss diverges.

    Needs the optimizer to come from ``optax.inject_hyperparams`` (so the logs carry
    ``lr``). Reads each step's loss as it arrives (one host sync per step), which a
    range test of a few hundred steps can afford.

    Args:
      diverge: stop once the smoothed loss exceeds this many times its best (> 1).
      beta: the smoothing factor of the exponential average, in ``[0, 1)``.
      max_steps: stop after this many steps (None: no limit).

    Examples:
      >>> from funcnn import train
      >>> rec = train.LRRecorder(diverge=4.0)
      >>> [rec.on_step_end(s, {"lr": 0.1 * s, "loss": v}, None) for s, v in [(1, 1.0), (2, 0.5), (3, 9.0)]]
      [False, False, True]
    """

    def __init__(self, *, diverge: float = 4.0, beta: float = 0.98, max_steps: int | None = None) -> None:
        if not isinstance(diverge, (int, float)) or isinstance(diverge, bool) or not diverge > 1:
            raise ValueError(f"LRRecorder: `diverge` must be a number > 1, e.g. 4.0, got {diverge!r}")
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not 0 <= beta < 1:
            raise ValueError(f"LRRecorder: `beta` must be a number in [0, 1), e.g. 0.98, got {beta!r}")
        self.diverge, self.beta, self.max_steps = float(diverge), float(beta), max_steps
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self._avg = 0.0

    def on_step_end(self, step: int, logs: Mapping[str, Any], train_state: Any) -> bool:
        """Record the step; True (stop) when the loss diverged, is not finite, or ``max_steps`` is reached."""
        if "lr" not in logs:
            raise ValueError(
                "LRRecorder: the step logs have no 'lr'; build the optimizer with optax.inject_hyperparams, e.g. "
                "optax.inject_hyperparams(optax.sgd)(learning_rate=schedule), or use train.lr_find"
            )
        loss = float(logs["loss"])
        self.lrs.append(float(logs["lr"]))
        self.losses.append(loss)
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        smooth = self._avg / (1 - self.beta ** len(self.losses))
        self.smoothed.append(smooth)
        best = min(self.smoothed)
        done = self.max_steps is not None and len(self.losses) >= self.max_steps
        return done or not math.isfinite(smooth) or smooth > self.diverge * best

    def result(self) -> LRFinderResult:
        """The recorded curve and the suggested rate."""
        return _suggest(self.lrs, self.losses, self.smoothed)


def _suggest(lrs: Sequence[float], losses: Sequence[float], smoothed: Sequence[float]) -> LRFinderResult:
    curve = np.asarray(smoothed, np.float64)
    finite = np.isfinite(curve)
    if finite.sum() < 3:
        raise ValueError(
            f"lr_find: only {int(finite.sum())} finite losses were recorded, too few to read a curve; lower min_lr, "
            f"or give more steps"
        )
    log_lr = np.log(np.asarray(lrs, np.float64))
    lowest = int(np.nanargmin(np.where(finite, curve, np.nan)))
    slope = np.gradient(np.where(finite, curve, np.nan)[: lowest + 1], log_lr[: lowest + 1]) if lowest >= 2 else None
    steepest = float(lrs[int(np.nanargmin(slope))]) if slope is not None else float(lrs[0])
    min_loss_lr = float(lrs[lowest])
    suggestion = max(min(steepest, min_loss_lr / 10), float(lrs[0]))
    return LRFinderResult(list(lrs), list(losses), list(smoothed), suggestion, min_loss_lr)


def lr_find(
    model: Module,
    make_optimizer: Callable[..., optax.GradientTransformation],
    train_loader: Any,
    *,
    loss: Callable[[Any, Any], jax.Array],
    key: jax.Array,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    diverge: float = 4.0,
    **fit_kwargs: Any,
) -> LRFinderResult:
    """Run a learning-rate range test (see the module docstring).

    Args:
      model: a funcnn model, trained from fresh weights (or ``params=``).
      make_optimizer: an optax optimizer factory taking ``learning_rate``, e.g.
        ``optax.sgd`` or ``lambda learning_rate: optax.adam(learning_rate, b1=0.5)``.
      train_loader: as for `fit`; it is cycled when ``steps`` exceeds one epoch.
      loss: as for `fit`.
      key: PRNG key for the fresh weights and dropout.
      min_lr: the rate of the first step (``0 < min_lr < max_lr``).
      max_lr: the rate of the last step.
      steps: the number of steps (the test stops earlier when the loss diverges).
      diverge: stop once the smoothed loss exceeds this many times its best.
      **fit_kwargs: more arguments for `fit` (``params``, ``trainable``, ...).

    Returns:
      an `LRFinderResult` with the curve and ``suggestion``.

    Raises:
      ValueError: bad bounds or ``steps``, or too few finite losses to read a curve.

    Examples:
      >>> from funcnn import train
      >>> train.lr_find.__name__
      'lr_find'
    """
    if not (isinstance(min_lr, (int, float)) and isinstance(max_lr, (int, float)) and 0 < min_lr < max_lr):
        raise ValueError(f"lr_find: need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
        raise ValueError(f"lr_find: `steps` must be an int >= 3, got {steps!r}")
    ratio = max_lr / min_lr

    def schedule(count: jax.Array) -> jax.Array:
        return min_lr * ratio ** (count / (steps - 1))

    optimizer = optax.inject_hyperparams(make_optimizer)(learning_rate=schedule)
    recorder = LRRecorder(diverge=diverge, max_steps=steps)
    per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else steps
    epochs = max(1, math.ceil(steps / max(per_epoch, 1)))
    fit_kwargs.setdefault("progress", False)
    fit(model, optimizer, train_loader, loss=loss, key=key, epochs=epochs, callbacks=[recorder], **fit_kwargs)
    return recorder.result()
