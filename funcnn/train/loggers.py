"""Per-step loggers for `funcnn.train.fit`: a CSV file, and TensorBoard event files.

Both are callbacks built on ``on_step_end`` (see `funcnn.train.callbacks`). They never
read a value when it arrives: each step's values stay on the device and are fetched
in one transfer every ``flush_every`` steps and at each epoch's end, so logging every
step does not make the loop wait for every step.

Examples:
  >>> import os, tempfile
  >>> import jax, numpy as np, optax
  >>> from funcnn import nn, train
  >>> import funcnn.nn.functional as F
  >>> x = np.ones((8, 2), np.float32)
  >>> with tempfile.TemporaryDirectory() as d:
  ...     log = train.CSVLogger(os.path.join(d, "steps.csv"))
  ...     _ = train.fit(nn.Linear(2, 1), optax.sgd(0.1), [(x[:4], x[:4, :1]), (x[4:], x[4:, :1])],
  ...                   loss=F.mse_loss, epochs=2, key=jax.random.key(0), callbacks=[log], progress=False)
  ...     with open(os.path.join(d, "steps.csv")) as f:
  ...         lines = f.read().splitlines()
  >>> lines[0], len(lines)
  ('step,epoch,batch,loss', 5)
"""

from __future__ import annotations

import csv
import os
from typing import Any, Mapping, Sequence

import jax

from .callbacks import Callback

_FIRST = ("step", "epoch", "batch")


def _positive(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: `{name}` must be an int >= 1, got {value!r}")
    return value


class _Buffered(Callback):
    """Keeps every ``every``-th step's logs on the device; ``_write`` gets them fetched, in bulk."""

    def __init__(self, owner: str, every: int, flush_every: int) -> None:
        self.every = _positive(owner, "every", every)
        self.flush_every = _positive(owner, "flush_every", flush_every)
        self._rows: list[tuple[int, tuple[str, ...], tuple[Any, ...]]] = []

    def on_step_end(self, step: int, logs: Mapping[str, Any], train_state: Any) -> None:
        """Keep this step's logs (every ``every``-th step); flush every ``flush_every`` kept steps."""
        if step % self.every == 0:
            self._rows.append((step, tuple(logs), tuple(logs.values())))
            if len(self._rows) >= self.flush_every:
                self.flush()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> None:
        """Write what is buffered."""
        self.flush()

    def on_train_end(self, train_state: Any) -> None:
        """Write what is buffered and close the file."""
        self.flush()
        self.close()

    def flush(self) -> None:
        """Fetch the buffered steps' values (one transfer) and write them."""
        if self._rows:
            values, keys = jax.device_get([v for _, _, v in self._rows]), [(s, k) for s, k, _ in self._rows]
            self._rows = []  # (fetched as lists: a fetched dict would come back with its keys sorted)
            self._write([(step, dict(zip(names, row))) for (step, names), row in zip(keys, values)])

    def _write(self, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (reopened by the next `fit` call)."""


class CSVLogger(_Buffered):
    """Write one CSV row per training step: ``step,epoch,batch,loss,<metrics>[,lr]``.

    The columns are fixed by the first step written. A `fit` call that starts afresh
    truncates the file; one that resumes from a checkpoint keeps the rows up to the
    checkpoint's step (dropping any written after it by the interrupted run) and
    appends, so the file of a resumed run reads like that of an uninterrupted one.
    The file is opened for each flush only, so none stays open if training fails.

    Args:
      path: the CSV file to write.
      every: log every this many steps (steps whose number divides by it).
      flush_every: write the buffered rows every this many logged steps (and at
        each epoch's end); the values are fetched from the device then, in one go.

    Examples:
      >>> from funcnn import train
      >>> train.CSVLogger("steps.csv", every=10)
      CSVLogger('steps.csv', every=10, flush_every=100)
    """

    def __init__(self, path: str | os.PathLike[str], *, every: int = 1, flush_every: int = 100) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"CSVLogger: `path` must be a file path such as 'runs/steps.csv', got {type(path).__name__}"
            )
        super().__init__("CSVLogger", every, flush_every)
        self.path = os.fspath(path)
        self._columns: list[str] | None = None
        self._append = False

    def __repr__(self) -> str:
        return f"CSVLogger({self.path!r}, every={self.every}, flush_every={self.flush_every})"

    def on_train_begin(self, history: Sequence[Mapping[str, Any]], train_state: Any) -> None:
        """Start a new file, or, when resuming (``history`` not empty), keep its rows up to the resumed step."""
        self._rows, self._columns = [], None
        self._append = bool(history) and os.path.exists(self.path)
        if self._append:
            with open(self.path, newline="") as f:
                kept = list(csv.reader(f))
            if train_state is not None:
                done = int(jax.device_get(train_state.step))
                kept = kept[:1] + [row for row in kept[1:] if row and int(row[0]) <= done]
            self._columns = kept[0] if kept else None
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerows(kept)

    def _write(self, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        with open(self.path, "a" if self._append else "w", newline="") as f:
            writer = csv.writer(f)
            for step, logs in rows:
                if self._columns is None:
                    self._columns = [*_FIRST, *(k for k in logs if k not in _FIRST)]
                    writer.writerow(self._columns)
                values = {"step": step, **logs}
                writer.writerow([_text(values.get(k, "")) for k in self._columns])
        self._append = True


def _text(value: Any) -> str:
    """A value as CSV text: ints as ints, floats with full float32 precision."""
    if isinstance(value, str):
        return value
    number = value.item() if hasattr(value, "item") else value
    return repr(number) if isinstance(number, int) else f"{float(number):.9g}"


class TensorBoardLogger(_Buffered):
    """Write each step's loss, metrics and learning rate as TensorBoard scalars.

    Tags are ``train/loss``, ``train/<metric>`` and ``train/lr`` per step, and every
    history entry's numbers (``val_loss``, ...) as ``epoch/<key>`` at the epoch's last
    step. Uses the optional dependency ``tensorboardX`` (``pip install tensorboardX``;
    view with ``tensorboard --logdir``).

    Args:
      logdir: the directory for the event files.
      every: log every this many steps.
      flush_every: write the buffered steps every this many logged steps.

    Raises:
      ImportError: ``tensorboardX`` is not installed (at the first `fit` call).

    Examples:
      >>> from funcnn import train
      >>> train.TensorBoardLogger("runs/tb", every=5)
      TensorBoardLogger('runs/tb', every=5, flush_every=100)
    """

    def __init__(self, logdir: str | os.PathLike[str], *, every: int = 1, flush_every: int = 100) -> None:
        if not isinstance(logdir, (str, os.PathLike)):
            raise TypeError(
                f"TensorBoardLogger: `logdir` must be a directory path such as 'runs/tb', got {type(logdir).__name__}"
            )
        super().__init__("TensorBoardLogger", every, flush_every)
        self.logdir = os.fspath(logdir)
        self._writer: Any = None

    def __repr__(self) -> str:
        return f"TensorBoardLogger({self.logdir!r}, every={self.every}, flush_every={self.flush_every})"

    def on_train_begin(self, history: Sequence[Mapping[str, Any]], train_state: Any) -> None:
        """Open the event file writer (fails here, before training, without tensorboardX)."""
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoardLogger: writing TensorBoard event files needs the optional package tensorboardX, which is "
                "not installed; run `pip install tensorboardX`, or log to a CSV file with train.CSVLogger"
            ) from None
        self.close()
        self._rows = []
        self._writer = SummaryWriter(self.logdir)

    def _write(self, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        for step, logs in rows:
            for key, value in logs.items():
                if key not in _FIRST:
                    self._writer.add_scalar(f"train/{key}", float(value), step)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any], train_state: Any) -> None:
        """Write the buffered steps, then the epoch's history entry."""
        self.flush()
        step = int(logs.get("step", epoch))
        for key, value in logs.items():
            if key not in ("epoch", "step", "seconds") and isinstance(value, (int, float)):
                self._writer.add_scalar(f"epoch/{key}", float(value), step)
        self._writer.flush()

    def close(self) -> None:
        """Close the event file."""
        if self._writer is not None:
            self._writer.close()
        self._writer = None
