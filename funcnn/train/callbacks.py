"""Callbacks for `funcnn.train.fit`: code that runs between steps and epochs.

A callback is any object with some of these methods (`Callback` supplies no-op
defaults); epochs count from 1, as in the history:

* ``on_train_begin(history, train_state) -> bool | None``: before the first epoch of a
  `fit` call. ``history`` holds the epochs already done (restored from a checkpoint
  when resuming), so a callback can rebuild its own state from it. Return True to
  stop before training.
* ``on_epoch_end(epoch, logs, train_state) -> bool | None``: after each epoch, once
  its checkpoint is saved. ``logs`` is the epoch's history entry (``loss``,
  ``val_loss``, ``lr``, ...). Return True to stop training.
* ``on_train_end(train_state) -> TrainState | None``: after the last epoch; a returned
  `TrainState` replaces the one `fit` returns (e.g. the best epoch's weights).
* ``on_step_end(step, logs, train_state) -> bool | None``: after every training step.
  ``step`` is the number of updates done (``TrainState.step`` after this one, from 1);
  ``logs`` holds ``epoch`` (from 1), ``batch`` (from 0), this batch's ``loss`` and
  metrics, and ``lr`` when the optimizer comes from ``optax.inject_hyperparams``.
  Return True to stop training after this step: the epoch's history entry covers the
  batches done, and a checkpoint (with ``checkpoint=``) is saved there, so a resume
  finishes the epoch exactly as an uninterrupted run would.

  In the unfused loop the values are JAX scalars of shape ``()``, not yet fetched:
  reading one (``float(logs["loss"])``) waits for that step, so a hook that reads
  every step costs one host sync per step; buffer them and fetch in bulk, as
  `funcnn.train.CSVLogger` does. With ``fit(fused=...)`` the steps run inside one
  compiled ``lax.scan``: the hooks run after each compiled chunk (with
  ``fused=True``, after the epoch's full batches), once per step of it, with that
  step's exact values (NumPy scalars, fetched once per chunk); ``train_state`` is the
  state at the end of the chunk, and a stop takes effect there. Use the unfused loop
  (the default) or ``fused=1`` when a hook needs each step's train state.

Learning-rate schedules are optax's, not callbacks: give the optimizer a schedule over
the total number of steps, and wrap it in ``optax.inject_hyperparams`` so `fit` can
log the rate it used::

    steps = epochs * len(train_loader)
    schedule = optax.cosine_decay_schedule(0.1, decay_steps=steps)
    optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)  # history logs "lr"

Examples:
  >>> from funcnn import train
  >>> stop = train.EarlyStopping(monitor="val_loss", patience=1)
  >>> stop.on_train_begin([], None)  # no epochs done yet: no reason to stop
  False
  >>> [stop.on_epoch_end(e, {"epoch": e, "val_loss": v}, None) for e, v in [(1, 0.5), (2, 0.4), (3, 0.45)]]
  [False, False, True]
  >>> stop.best, stop.best_epoch
  (0.4, 2)
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import jax

_HOOKS = ("on_train_begin", "on_epoch_end", "on_train_end", "on_step_end")


class Callback:
    """Base class with no-op hooks; override the ones you need (see the module docstring).

    Examples:
      >>> from funcnn import train
      >>> class PrintLoss(train.Callback):
      ...     def on_epoch_end(self, epoch, logs, train_state):
      ...         print(f"epoch {epoch}: {logs['loss']:.3f}")
      >>> PrintLoss().on_epoch_end(1, {"loss": 0.25}, None)
      epoch 1: 0.250
    """

    def on_train_begin(self, history: Sequence[Mapping[str, Any]], train_state: Any) -> bool | None:
        """Called before the first epoch; ``history`` holds the epochs done before this call."""
        return None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> bool | None:
        """Called after each epoch; return True to stop training."""
        return None

    def on_train_end(self, train_state: Any) -> Any:
        """Called after the last epoch; a returned `TrainState` replaces the result."""
        return None

    def on_step_end(self, step: int, logs: Mapping[str, Any], train_state: Any) -> bool | None:
        """Called after every training step; return True to stop training."""
        return None


def _check_callbacks(owner: str, callbacks: Any) -> tuple[Any, ...]:
    """The callbacks as a tuple, each checked to have at least one hook."""
    if callbacks is None:
        return ()
    if not isinstance(callbacks, (list, tuple)):
        callbacks = (callbacks,)
    for cb in callbacks:
        if isinstance(cb, type) or not any(callable(getattr(cb, h, None)) for h in _HOOKS):
            raise TypeError(
                f"{owner}: each callback needs at least one of the methods {list(_HOOKS)}, got "
                f"{cb!r}; subclass funcnn.train.Callback (pass an instance, e.g. EarlyStopping())"
            )
    return tuple(callbacks)


class EarlyStopping(Callback):
    """Stop when a monitored value stops improving, and (optionally) keep the best weights.

    An epoch improves on the best so far when the value is lower by more than
    ``min_delta`` (``mode="min"``) or higher by more than ``min_delta``
    (``mode="max"``); a NaN never improves. Training stops after ``patience`` epochs in
    a row without improvement. With ``restore_best``, `fit` returns the train state of
    the best epoch (the checkpoint on disk keeps the last epoch, for resuming).

    When `fit` resumes from a checkpoint, the counters are rebuilt from the restored
    history, so the run stops where an uninterrupted one would; the best weights can
    only be restored when the best epoch happened in the resumed call (check
    `restored` after training).

    Args:
      monitor: the history key to watch, e.g. ``"val_loss"``, ``"val_accuracy"``, ``"loss"``.
      patience: epochs without improvement before stopping (>= 0).
      mode: ``"min"`` or ``"max"``.
      min_delta: the smallest change that counts as improvement (>= 0).
      restore_best: return the best epoch's train state instead of the last.

    Attributes:
      best: the best value seen (None before the first epoch).
      best_epoch: the epoch (from 1) that reached it.
      stopped_epoch: the epoch after which training stopped (None if it ran to the end).
      restored: whether the best train state was returned.

    Examples:
      >>> from funcnn import train
      >>> train.EarlyStopping(monitor="val_accuracy", mode="max", patience=2)
      EarlyStopping(monitor='val_accuracy', patience=2, mode='max', min_delta=0.0, restore_best=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 3,
        mode: str = "min",
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: `monitor` must be a history key such as 'val_loss', got {monitor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: `patience` must be an int >= 0, got {patience!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: `mode` must be 'min' or 'max', got {mode!r}")
        if not isinstance(min_delta, (int, float)) or isinstance(min_delta, bool) or not min_delta >= 0:
            raise ValueError(f"EarlyStopping: `min_delta` must be a number >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta, self.restore_best = float(min_delta), bool(restore_best)
        self._reset()

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, mode={self.mode!r}, "
            f"min_delta={self.min_delta}, restore_best={self.restore_best})"
        )

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.restored = False
        self.wait = 0
        self._snapshot: Any = None
        self._last_epoch: int | None = None

    def _improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def _observe(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> bool:
        if self.monitor not in logs:
            raise ValueError(
                f"{self!r}: the epoch's logs have no {self.monitor!r}; they have {sorted(logs)}; monitor one of "
                f"these (val_* keys need fit(..., val_loader=...))"
            )
        value = float(logs[self.monitor])
        self._last_epoch = epoch
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            # A copy: the next training step donates (deletes) the arrays of `train_state`.
            keep = self.restore_best and train_state is not None
            self._snapshot = jax.device_put(train_state, may_alias=False) if keep else None
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_begin(self, history: Sequence[Mapping[str, Any]], train_state: Any) -> bool:
        """Reset, then replay ``history`` (epochs done before a resume); True if it already says stop."""
        self._reset()
        stop = False
        for logs in history:
            stop = self._observe(int(logs.get("epoch", 0)), logs, None)
        if stop:
            self.stopped_epoch = self._last_epoch
        return stop

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> bool:
        """Track the monitored value; True once ``patience`` epochs passed without improvement."""
        stop = self._observe(epoch, logs, train_state)
        if stop:
            self.stopped_epoch = epoch
        return stop

    def on_train_end(self, train_state: Any) -> Any:
        """The best epoch's train state, when ``restore_best`` and it is not the last epoch."""
        if self.restore_best and self._snapshot is not None and self.best_epoch != self._last_epoch:
            self.restored = True
            return self._snapshot
        return None
