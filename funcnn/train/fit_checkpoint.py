"""Reading what `fit(checkpoint=...)` wrote: `load_fit_checkpoint`, and the checkpoint helpers `fit` uses.

A fit checkpoint is one `funcnn.checkpoint` file per save holding the whole run:
``{"train_state": TrainState, "acc": the epoch's running sums, "loader": position}``,
with the history in its metadata. `load_fit_checkpoint` needs only the model and the
optimizer (the same objects, or ones built the same way) to give back the trained
weights and the `TrainState`, in a fresh process too::

    result = train.load_fit_checkpoint("runs/mnist", model, optax.adam(1e-3))
    logits = model.apply_with_state(result.params, result.state, x)[0]
    funcnn.checkpoint.save_weights("mnist.safetensors", result.params, result.state)  # weights only

Examples:
  >>> import os, tempfile
  >>> import jax, numpy as np, optax
  >>> from funcnn import nn, train
  >>> import funcnn.nn.functional as F
  >>> x = np.ones((4, 2), np.float32)
  >>> model, opt = nn.Linear(2, 1), optax.sgd(0.1)
  >>> with tempfile.TemporaryDirectory() as d:
  ...     fitted = train.fit(model, opt, [(x, x[:, :1])], loss=F.mse_loss, key=jax.random.key(0), checkpoint=d,
  ...                        progress=False)
  ...     back = train.load_fit_checkpoint(d, model, opt)
  >>> bool((back.params["weight"] == fitted.params["weight"]).all()), int(back.train_state.step)
  (True, 1)
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import jax
import optax

from ..checkpoint import CheckpointManager, load_metadata, restore
from ..checkpoint._io import atomic_write
from ..checkpoint.safetensors import read_header
from ..nn.module import Module
from ._fit_steps import _zeros
from .fit_result import FitResult
from .step import TrainState

_HISTORY_KEY = "fit.history"
_OWNER = "fit"
_SUMS = re.compile(r"^\['acc'\]\['sums'\]\['(.*)'\]$")


def load_fit_checkpoint(
    checkpoint: Any,
    model: Module,
    optimizer: optax.GradientTransformation,
    *,
    step: int | None = None,
    trainable: Any = None,
) -> FitResult:
    """The weights, buffers, history and `TrainState` saved by ``fit(checkpoint=...)``.

    Args:
      checkpoint: the directory given to `fit` (or its
        `funcnn.checkpoint.CheckpointManager`), or one checkpoint file in it.
      model: the model that was trained (or one built the same way).
      optimizer: the optimizer `fit` was given (or one built the same way): the
        optimizer state is restored into its structure.
      step: which saved step to read from a directory (default: the latest).
      trainable: the ``trainable`` mask given to `fit`, if any.

    Returns:
      a `FitResult` ``(params, state, history, train_state)``, bit for bit as saved;
      ``train_state`` continues training with `make_train_step` or `fit`.

    Raises:
      FileNotFoundError: no checkpoint there (or none for ``step``).
      ValueError: the file does not hold a fit run of this model and optimizer
        (the message names every mismatched path), or is corrupted.
      TypeError: ``checkpoint`` is neither a path nor a CheckpointManager.

    Examples:
      >>> from funcnn import train
      >>> train.load_fit_checkpoint.__name__
      'load_fit_checkpoint'
    """
    owner = "load_fit_checkpoint"
    if isinstance(checkpoint, CheckpointManager) or (
        isinstance(checkpoint, (str, os.PathLike)) and os.path.isdir(checkpoint)
    ):
        manager = _manager(checkpoint)
        chosen = manager.latest_step() if step is None else step
        if chosen is None or chosen not in manager.all_steps():
            raise FileNotFoundError(
                f"{owner}: {manager.directory!r} holds no checkpoint"
                + (f" for step {step} (saved steps: {manager.all_steps()})" if step is not None else "")
                + "; pass the directory given to fit(checkpoint=...)"
            )
        path = manager.path(chosen)
    elif isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
    else:
        raise TypeError(
            f"{owner}: `checkpoint` must be the directory given to fit(checkpoint=...), a CheckpointManager or a "
            f"checkpoint file, got {type(checkpoint).__name__}"
        )
    names = [m.group(1) for name in read_header(owner, path).entries if (m := _SUMS.match(name))]
    shapes = jax.eval_shape(lambda k: TrainState.create(model, optimizer, k, trainable=trainable), jax.random.key(0))
    like = {"train_state": shapes, "acc": _zeros(names, train=True), "loader": {"epoch": 0, "batch": 0}}
    try:
        tree = restore(path, like=like)
    except ValueError as e:
        raise ValueError(
            f"{owner}: {path!r} is not a fit checkpoint of this model and optimizer (or of another trainable mask); "
            f"pass the model and optimizer the run was trained with.\n{e}"
        ) from None
    ts = tree["train_state"]
    history = json.loads(load_metadata(path).get(_HISTORY_KEY, "[]"))
    return FitResult(ts.params, ts.state, history, ts)


def _manager(checkpoint: Any) -> CheckpointManager | None:
    if checkpoint is None or isinstance(checkpoint, CheckpointManager):
        return checkpoint
    if isinstance(checkpoint, (str, os.PathLike)):
        return CheckpointManager(checkpoint)
    raise TypeError(
        f"{_OWNER}: `checkpoint` must be a directory path or a funcnn.checkpoint.CheckpointManager, got "
        f"{type(checkpoint).__name__}"
    )


def _check_writable(manager: CheckpointManager) -> None:
    """Fail before training, not after the first epoch, when the directory cannot be written."""
    probe = os.path.join(manager.directory, f".fit-write-check-{os.getpid()}")
    atomic_write(f"{_OWNER}(checkpoint={manager.directory!r})", probe, [b""])
    os.remove(probe)


def _restore(manager: CheckpointManager, like: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    step = manager.latest_step()
    path = manager.path(step)
    try:
        tree = manager.restore(step, like=like)
    except ValueError as e:
        # The reader's message says which: a file that is not a sound checkpoint (a special file,
        # corrupted or truncated bytes), or a sound one whose tree differs from this run's.
        mismatch = "does not match `like`" in str(e)
        reason = (
            "it does not match this run (a different model, optimizer, trainable mask or metrics); pass a new "
            "checkpoint directory, or resume=False with an empty one"
            if mismatch
            else "the file cannot be read as a checkpoint; remove it to resume from the step before, or pass "
            "resume=False with a new directory"
        )
        raise ValueError(f"{_OWNER}: cannot resume from {path!r}: {reason}.\n{e}") from None
    history = json.loads(load_metadata(path).get(_HISTORY_KEY, "[]"))
    return tree, history
