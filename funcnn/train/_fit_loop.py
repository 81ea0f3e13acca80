"""`fit`'s epoch loop: steps (fused or not), checkpoints, validation, the history entry of each epoch."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import jax
import numpy as np

from ..checkpoint import CheckpointManager
from ._fit_data import _Source
from ._fit_steps import _find_lr, _zeros
from ._progress import _Progress
from .callbacks import Callback
from .ema import ema_params, find_ema
from .fit_checkpoint import _HISTORY_KEY
from .fit_result import NonFiniteLossError
from .step import TrainState

_OWNER = "fit"


def _has_step_hook(cb: Any) -> bool:
    """Whether ``cb`` has its own ``on_step_end`` (Callback's no-op one costs nothing to skip)."""
    hook = getattr(cb, "on_step_end", None)
    return callable(hook) and getattr(type(cb), "on_step_end", None) is not Callback.on_step_end


class _Loop:
    """The epochs of one `fit` call; the train state and running sums live here between steps."""

    ts: TrainState
    acc: dict[str, Any]
    history: list[dict[str, Any]]
    bar: _Progress

    def __init__(
        self,
        source: _Source,
        val: _Source | None,
        steps: tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]],
        names: list[str],
        manager: CheckpointManager | None,
        every: int | None,
        chunk: str | int | None,
        schedule: Callable[[Any], Any] | None,
        callbacks: tuple[Any, ...] = (),
    ) -> None:
        self.source, self.val, self.names, self.manager = source, val, names, manager
        self.train_step, self.fused_run, self.eval_step = steps
        self.every, self.chunk, self.schedule = every, chunk, schedule
        self.data: tuple[jax.Array, ...] | None = None
        self.host_step = self.saved_at = -1
        self.hooks = [cb for cb in callbacks if _has_step_hook(cb)]
        self.stop = False  # a per-step hook asked to stop
        self.stopped_at: int | None = None  # the batch a mid-epoch stop resumes from

    def save(self, at: dict[str, int]) -> None:
        """Checkpoint the run at loader position ``at`` (the state is good: checked by the caller)."""
        if self.manager is not None:
            tree = {"train_state": self.ts, "acc": self.acc, "loader": at}
            self.manager.save(self.host_step, tree, metadata={_HISTORY_KEY: json.dumps(self.history)})
        self.saved_at = self.host_step

    def _step_hooks(self, epoch: int, b: int, values: dict[str, Any], k: int) -> None:
        """Call ``on_step_end`` for the ``k`` steps that ran batches ``b - k .. b - 1``.

        One step (the unfused loop): its values are device scalars, not fetched (no
        sync). A fused chunk: its stacked values are fetched once, then each step's.
        """
        rows = [values] if k == 1 and self.chunk is None else None
        if rows is None:
            host = jax.device_get(values)
            rows = [{n: v[i] for n, v in host.items()} for i in range(k)] if k > 1 or np.ndim(host["loss"]) else [host]
        order = [n for n in (*self.names, "lr") if n in rows[0]]  # loss, metrics, lr (jit sorts dict keys)
        for i, row in enumerate(rows):
            logs = {"epoch": epoch + 1, "batch": b - k + i, **{n: row[n] for n in order}}
            for cb in self.hooks:
                if cb.on_step_end(self.host_step + i + 1, logs, self.ts):
                    self.stop = True

    def _after(self, k: int, epoch: int, b: int, values: dict[str, Any]) -> bool:
        """Bookkeeping after ``k`` steps ending before batch ``b``; True stops the epoch (a bad step, or a hook)."""
        if self.hooks:
            self._step_hooks(epoch, b, values, k)
        self.host_step += k
        if self.bar.advance(k, self.acc) or self.stop:
            return True
        length = self.source.length
        if self.every is None or self.host_step - self.saved_at < self.every or (length is not None and b >= length):
            return False
        if jax.device_get(self.acc["bad"]):
            return True
        self.save({"epoch": epoch, "batch": b})
        return False

    def _unfused(self, epoch: int, first: int) -> int:
        b = first
        for batch in self.source.batches(epoch, first):
            self.ts, self.acc, values = self.train_step(self.ts, self.acc, *self.source.xy(batch))
            b += 1
            if self._after(1, epoch, b, values):
                break
        return b

    def _fused(self, epoch: int, first: int) -> int:
        loader = self.source.loader
        if self.data is None:
            self.data = tuple(jax.device_put(a, loader.device) for a in loader.arrays)
        n, size = loader.num_samples, loader.batch_size
        order = loader.epoch_indices(epoch)
        full = n // size
        chunk = max(full - first, 1) if self.chunk == "epoch" else int(self.chunk)
        b = first
        while b < full:
            k = min(chunk, full - b)
            idx = jax.device_put(order[b * size : (b + k) * size].reshape(k, size).astype(np.int32))
            self.ts, self.acc, values = self.fused_run(self.ts, self.acc, self.data, idx)
            b += k
            if self._after(k, epoch, b, values):
                return b
        if b < len(loader):  # the last, smaller batch: one ordinary step
            x, y = (jax.device_put(a[order[full * size :]], loader.device) for a in loader.arrays)
            self.ts, self.acc, values = self.train_step(self.ts, self.acc, x, y)
            b += 1
            self._after(1, epoch, b, values)
        return b

    def epoch(self, epoch: int, first: int) -> dict[str, Any]:
        """Train epoch ``epoch`` (from 0) from batch ``first``, validate, and return its history entry."""
        started = time.perf_counter()
        self.host_step = self.saved_at = int(jax.device_get(self.ts.step))
        self.bar.start(epoch, self.source.length, first)
        b = (self._unfused if self.chunk is None else self._fused)(epoch, first)
        host = jax.device_get({"acc": self.acc, "lr": _find_lr(self.ts.opt_state), "step": self.ts.step})
        got = host["acc"]
        if got["bad"]:
            raise self._non_finite(epoch, got)
        self.host_step = int(host["step"])
        length = self.source.length
        if self.stop and (length is None or b < length):  # stopped mid-epoch: a resume continues from here
            self.stopped_at = b
            self.save({"epoch": epoch, "batch": b})
        count = max(int(got["count"]), 1)
        logs: dict[str, Any] = {"epoch": epoch + 1, "step": self.host_step}
        logs.update({k: float(got["sums"][k]) / count for k in self.names})
        if self.val is not None:
            logs.update(self._validate(self.ts.params, "val_"))
            if find_ema(self.ts.opt_state) is not None:  # train.with_ema: evaluate the averaged weights too
                logs.update(self._validate(ema_params(self.ts.opt_state, self.ts.params), "val_ema_"))
        if host["lr"] is not None:
            logs["lr"] = float(host["lr"])
        elif self.schedule is not None and self.host_step > 0:
            logs["lr"] = float(self.schedule(self.host_step - 1))
        logs["seconds"] = time.perf_counter() - started
        self.history.append(logs)
        return logs

    def _validate(self, params: Any, prefix: str) -> dict[str, float]:
        """The validation loss and metrics of ``params`` (with the current buffers), keyed ``prefix + name``."""
        vacc = _zeros(self.names, train=False)
        for batch in self.val.batches(0, 0):
            vacc = self.eval_step(params, self.ts.state, vacc, *self.val.xy(batch))
        vgot = jax.device_get(vacc)
        return {f"{prefix}{k}": float(vgot["sums"][k]) / max(int(vgot["count"]), 1) for k in self.names}

    def _non_finite(self, epoch: int, got: dict[str, Any]) -> NonFiniteLossError:
        latest = self.manager.latest_step() if self.manager is not None else None
        where = self.manager.path(latest) if self.manager is not None and latest is not None else None
        value, batch, step = float(got["bad_loss"]), int(got["bad_batch"]), int(got["bad_step"])
        if np.isfinite(value):
            what = f"the update made the parameters or buffers non-finite (its loss was {value:.6g})"
        else:
            what = f"the loss became non-finite ({value})"
        of = f" of {self.source.length}" if self.source.length else ""
        kept = f"; the last checkpoint {where!r} is unchanged" if where else ""
        return NonFiniteLossError(
            f"{_OWNER}: {what} at epoch {epoch + 1}, batch {batch}{of}, step {step}; training stopped without "
            f"applying that update, and `err.train_state` holds the state after the last good step{kept}. Fix: "
            f"lower the learning rate, clip gradients (optax.clip_by_global_norm), or check the inputs and targets "
            f"for NaN/inf",
            epoch=epoch + 1,
            batch=batch,
            step=step,
            loss=value,
            train_state=self.ts,
            checkpoint=where,
        )
