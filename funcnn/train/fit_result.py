"""What `fit` returns, and the error it raises when training produces NaN or inf."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..nn.module import Params, State
from .step import TrainState


class FitResult(NamedTuple):
    """What `fit` returns.

    Attributes:
      params: the trained parameters.
      state: the model's buffers (``{}`` without BatchNorm).
      history: one dict per epoch: ``epoch`` (from 1), ``step``, ``loss`` and the train
        metrics, ``val_loss`` and ``val_<metric>`` with a ``val_loader``, ``lr`` when
        known, ``seconds``.
      train_state: the full `TrainState`, to continue training.

    Examples:
      >>> from funcnn import train
      >>> train.FitResult._fields
      ('params', 'state', 'history', 'train_state')
    """

    params: Params
    state: State
    history: list[dict[str, Any]]
    train_state: TrainState


class NonFiniteLossError(FloatingPointError):
    """Training produced a non-finite loss (or non-finite parameters); nothing was lost.

    Attributes:
      epoch: the epoch (from 1) where it first happened.
      batch: the batch index (from 0) within that epoch.
      step: the global step of the failed update, equal to ``train_state.step``.
      loss: the loss of that step (NaN, inf, or finite when the update itself overflowed).
      train_state: the `TrainState` after the last good step.
      checkpoint: the path of the last (good) checkpoint, or None.

    Examples:
      >>> import jax, numpy as np, optax
      >>> from funcnn import nn, train
      >>> import funcnn.nn.functional as F
      >>> x = np.ones((4, 2), np.float32)
      >>> batches = [(x, x[:, :1]), (x * np.nan, x[:, :1])]  # the second batch holds NaN
      >>> try:
      ...     train.fit(nn.Linear(2, 1), optax.sgd(0.1), batches, loss=F.mse_loss, key=jax.random.key(0),
      ...               progress=False)
      ... except train.NonFiniteLossError as err:
      ...     print(err.epoch, err.batch, err.step, int(err.train_state.step))
      1 1 1 1
    """

    def __init__(
        self,
        message: str,
        *,
        epoch: int,
        batch: int,
        step: int,
        loss: float,
        train_state: TrainState,
        checkpoint: str | None,
    ) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.step, self.loss = epoch, batch, step, loss
        self.train_state, self.checkpoint = train_state, checkpoint
