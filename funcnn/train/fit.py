"""`fit`: the training loop, compiled, checkpointed, resumable and guarded against NaN.

One call trains a model for a number of epochs::

    result = train.fit(model, optax.adam(1e-3), train_loader, loss=nn.CrossEntropyLoss(),
                       epochs=10, key=jax.random.key(0), val_loader=val_loader,
                       checkpoint="runs/mnist")
    result.params, result.history[-1]["val_accuracy"]

How it runs:

* Each step is one call of a jit-compiled function (the stateful step of
  `make_train_step`: buffers and a dropout key ``fold_in(key, step)`` threaded through a
  `TrainState`). Losses and metrics are summed on the device, weighted by batch size,
  and fetched once per epoch (and at most about twice a second for the progress bar):
  no host synchronisation per step.
* ``fused=True`` (or ``"epoch"``) runs a whole epoch as one compiled ``lax.scan`` over
  the loader's batch indices, with the data set copied to the device once; ``fused=K``
  runs K steps per call. The batches and their order are exactly the unfused loop's
  (a last partial batch runs as one ordinary step), so the parameters agree.
* Non-finite protection: inside the compiled step, an update whose loss (or new
  parameters) is not finite is not applied, and a flag carried through the epoch makes
  every later step a no-op. At the end of the epoch `fit` raises `NonFiniteLossError`
  naming the epoch, batch and step; ``err.train_state`` is the state after the last
  good step, and no checkpoint is written over the last good one.
* Checkpoints (``checkpoint=`` a directory or a `funcnn.checkpoint.CheckpointManager`)
  hold the whole run: the `TrainState` (params, buffers, optimizer state, PRNG key,
  step), the loader position, the epoch's running sums, and the history. One is saved
  at the end of every epoch (and every ``checkpoint_every`` steps), keeping the
  manager's last N. With ``resume=True`` a new call with the same directory continues
  from the latest one, mid-epoch included, and ends with bit-for-bit the parameters
  of an uninterrupted run. ``epochs`` is the total, so a finished run resumed with a
  larger ``epochs`` trains the difference.

Epochs count from 1 in the history, in messages and in callbacks; batch indices count
from 0 within an epoch, like ``DataLoader.state()``; the step is ``TrainState.step``
(updates done so far).

Learning-rate schedules: see `funcnn.train.callbacks`; the history logs ``lr`` when the
optimizer comes from ``optax.inject_hyperparams``, or when ``schedule=`` names the
schedule given to the optimizer.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import time
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..checkpoint import CheckpointManager, load_metadata
from ..checkpoint._io import atomic_write
from ..data.loader import DataLoader
from ..nn.module import Module, Params, State
from .callbacks import _check_callbacks
from .loss_scale import all_finite
from .step import TrainState, _stateful_update
from .transfer import _named_leaves, _resolve_mask

_HISTORY_KEY = "fit.history"
_REFRESH_S = 0.5  # progress-bar refresh period (each refresh reads the running loss)
_OWNER = "fit"


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


# --------------------------------------------------------------------------- data


class _Source:
    """A loader as `fit` sees it: a re-iterable of ``(inputs, targets)`` batches."""

    def __init__(self, name: str, loader: Any) -> None:
        self.name, self.loader = name, loader
        self.is_loader = isinstance(loader, DataLoader)
        if self.is_loader:
            self.length: int | None = len(loader)
            size = min(loader.batch_size, loader.num_samples)
            spec = [jax.ShapeDtypeStruct((size, *a.shape[1:]), a.dtype) for a in loader.arrays]
            self.first = loader.pack(spec)
            self.xy(self.first)
            return
        try:
            it = iter(loader)
        except TypeError:
            raise TypeError(
                f"{_OWNER}: `{name}` must be a funcnn.data.DataLoader or a re-iterable of (inputs, targets) "
                f"batches such as a list, got {type(loader).__name__}"
            ) from None
        if it is loader:
            raise TypeError(
                f"{_OWNER}: `{name}` is a one-shot iterator ({type(loader).__name__}), but every epoch iterates it "
                f"again; pass a funcnn.data.DataLoader or a list of batches"
            )
        first = next(it, None)
        if first is None:
            raise ValueError(f"{_OWNER}: `{name}` yields no batches; give it at least one (inputs, targets) batch")
        self.first = first
        self.xy(first)
        self.length = len(loader) if hasattr(loader, "__len__") else None

    def xy(self, batch: Any) -> tuple[Any, Any]:
        if isinstance(batch, (tuple, list)) and len(batch) == 2:
            return batch[0], batch[1]
        if isinstance(batch, Mapping):
            got = f"a dict with keys {sorted(batch)}"
        elif isinstance(batch, (tuple, list)):
            got = f"a {type(batch).__name__} of {len(batch)} items"
        else:
            got = type(batch).__name__
        raise TypeError(
            f"{_OWNER}: each batch of `{self.name}` must be an (inputs, targets) pair, got {got}; build the loader "
            f"as DataLoader((x, y), batch_size=...)"
        )

    def labels(self) -> np.ndarray:
        """Host targets to check: the whole column of a DataLoader, else the first batch's."""
        return np.asarray(self.loader.arrays[1] if self.is_loader else self.xy(self.first)[1])

    def batches(self, epoch: int, first: int) -> Iterator[Any]:
        """The batches of ``epoch`` from index ``first`` on."""
        if self.length is not None and first >= self.length:
            return iter(())
        if self.is_loader:
            self.loader.load_state({"epoch": epoch, "batch": first})
            return iter(self.loader)
        return itertools.islice(iter(self.loader), first, None)


# ------------------------------------------------------------------------ metrics


def _accuracy(out: jax.Array, target: jax.Array) -> jax.Array:
    return jnp.mean((jnp.argmax(out, axis=1) == target).astype(jnp.float32))


def _metrics(metrics: Any, classify: bool) -> dict[str, Callable[[jax.Array, jax.Array], jax.Array]]:
    """The metrics besides the loss (which is always computed), by name."""
    if isinstance(metrics, str) and metrics == "auto":
        return {"accuracy": _accuracy} if classify else {}
    if isinstance(metrics, Mapping):
        for name, fn in metrics.items():
            if not isinstance(name, str) or name == "loss" or not callable(fn):
                raise TypeError(
                    f"{_OWNER}: `metrics` as a mapping must map new names (not 'loss') to functions "
                    f"fn(output, target) -> batch mean, got {name!r}: {fn!r}"
                )
        return dict(metrics)
    names = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(names, (list, tuple)) or any(n not in ("loss", "accuracy") for n in names):
        raise ValueError(
            f"{_OWNER}: `metrics` must be 'auto', a sequence of 'loss' and 'accuracy', or a mapping "
            f"{{name: fn(output, target)}}, got {metrics!r}"
        )
    if "accuracy" in names and not classify:
        raise ValueError(
            f"{_OWNER}: metric 'accuracy' needs integer class targets and outputs with a class axis (N, C, ...); "
            f"these targets or outputs are not; drop 'accuracy' or pass metrics as a mapping of your own functions"
        )
    return {"accuracy": _accuracy} if "accuracy" in names else {}


def _check_labels(source: _Source, n_classes: int, ignore: int, out_shape: tuple[int, ...]) -> None:
    y = source.labels()
    bad = (y >= n_classes) | ((y < 0) & (y != ignore))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        where = f"sample {i}" if y.ndim == 1 else f"flat position {i}"
        raise ValueError(
            f"{_OWNER}: `{source.name}` holds the label {int(y.ravel()[i])} ({where}), outside the {n_classes} classes "
            f"the model outputs (output shape {out_shape}); labels must lie in [0, {n_classes}) or equal "
            f"ignore_index={ignore}: fix the labels, or give the model's last layer more outputs"
        )


def _zeros(names: list[str], train: bool) -> dict[str, Any]:
    acc: dict[str, Any] = {"sums": {n: np.float32(0) for n in names}, "count": np.int32(0)}
    if train:
        acc.update(batches=np.int32(0), bad=np.bool_(False), bad_batch=np.int32(0), bad_step=np.int32(0))
        acc.update(bad_loss=np.float32(0))
    return jax.device_put(acc)


# -------------------------------------------------------------------- compiled steps


def _train_step(update: Callable[..., Any]) -> Callable[..., tuple[TrainState, dict[str, Any]]]:
    """The guarded step ``(ts, acc, x, y) -> (ts, acc)``: a non-finite update is not applied."""

    def step(ts: TrainState, acc: dict[str, Any], x: Any, y: jax.Array) -> tuple[TrainState, dict[str, Any]]:
        new, loss, extras = update(ts, x, y)
        finite = jnp.isfinite(loss) & all_finite((new.params, new.state))
        ok = finite & ~acc["bad"]
        first_bad = ~finite & ~acc["bad"]

        def keep(tree_new: Any, tree_old: Any) -> Any:
            return jax.tree.map(lambda a, b: jnp.where(ok, a, b), tree_new, tree_old)

        failed_step = ts.step
        ts = TrainState(
            keep(new.params, ts.params), keep(new.state, ts.state), keep(new.opt_state, ts.opt_state), ts.key,
            jnp.where(ok, new.step, ts.step),
        )
        n = y.shape[0]
        values = {"loss": loss, **extras}
        acc = {
            "sums": {k: s + jnp.where(ok, values[k].astype(jnp.float32) * n, 0.0) for k, s in acc["sums"].items()},
            "count": acc["count"] + jnp.where(ok, n, 0),
            "batches": acc["batches"] + 1,
            "bad": acc["bad"] | ~finite,
            "bad_batch": jnp.where(first_bad, acc["batches"], acc["bad_batch"]),
            "bad_step": jnp.where(first_bad, failed_step, acc["bad_step"]),
            "bad_loss": jnp.where(first_bad, loss.astype(jnp.float32), acc["bad_loss"]),
        }
        return ts, acc

    return step


def _fused(step: Callable[..., Any]) -> Callable[..., tuple[TrainState, dict[str, Any]]]:
    """K steps in one ``lax.scan``; ``idx`` is ``int32[K, batch_size]`` rows of the on-device data."""

    def run(ts: TrainState, acc: dict[str, Any], data: tuple[jax.Array, jax.Array], idx: jax.Array) -> Any:
        def body(carry: Any, rows: jax.Array) -> Any:
            return step(*carry, data[0][rows], data[1][rows]), None

        return jax.lax.scan(body, (ts, acc), idx)[0]

    return run


def _eval_step(model: Module, loss: Callable[..., Any], extras: Mapping[str, Callable[..., Any]]) -> Callable[..., Any]:
    def step(params: Params, state: State, acc: dict[str, Any], x: Any, y: jax.Array) -> dict[str, Any]:
        out, _ = model.apply_with_state(params, state, x, train=False)
        n = y.shape[0]
        values = {"loss": loss(out, y), **{k: fn(out, y) for k, fn in extras.items()}}
        sums = {k: s + values[k].astype(jnp.float32) * n for k, s in acc["sums"].items()}
        return {"sums": sums, "count": acc["count"] + n}

    return jax.jit(step, donate_argnums=(2,))


# Compiled steps of recent calls, keyed by the identity of what they close over (the
# entry keeps those objects alive, so an id is never reused while cached): calling fit
# again with the same model, optimizer and loss (to continue, resume or compare) does
# not compile again. Modules, optax optimizers and losses are immutable configuration.
_CACHE: collections.OrderedDict[tuple[Any, ...], tuple[Any, ...]] = collections.OrderedDict()
_CACHE_SIZE = 8


def _compiled(
    model: Module, optimizer: optax.GradientTransformation, loss: Callable[..., Any], extras: dict[str, Any], mask: Any
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """``(train_step, fused_run, eval_step)`` for this model, optimizer, loss, metrics and mask."""
    frozen = None if mask is None else tuple(_named_leaves(mask))
    key = (id(model), id(optimizer), id(loss), tuple((k, id(f)) for k, f in extras.items()), frozen)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key][1]

    def loss_fn(p: Params, s: State, k: jax.Array, x: Any, y: Any) -> tuple[jax.Array, Any]:
        output, new_state = model.apply_with_state(p, s, x, key=k, train=True)
        return loss(output, y), (new_state, {name: fn(output, y) for name, fn in extras.items()})

    step = _train_step(_stateful_update(loss_fn, optimizer, has_aux=True, trainable=mask))
    fns = (
        jax.jit(step, donate_argnums=(0, 1)),
        jax.jit(_fused(step), donate_argnums=(0, 1)),
        _eval_step(model, loss, extras),
    )
    _CACHE[key] = ((model, optimizer, loss, extras), fns)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fns


def _find_lr(opt_state: Any) -> jax.Array | None:
    """The learning rate ``optax.inject_hyperparams`` keeps in the state, if any."""

    def has(node: Any) -> bool:
        return isinstance(getattr(node, "hyperparams", None), dict)

    for node in jax.tree.leaves(opt_state, is_leaf=has):
        if has(node) and "learning_rate" in node.hyperparams:
            return node.hyperparams["learning_rate"]
    return None


# ----------------------------------------------------------------------- progress


class _Progress:
    """A tqdm bar per epoch (tqdm imported lazily), else one printed line per epoch, or nothing."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled, self.epochs, self.bar, self.tqdm = enabled, epochs, None, None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            self.tqdm = tqdm

    def start(self, epoch: int, total: int | None, initial: int) -> None:
        self.last = time.monotonic()
        if self.tqdm is not None:
            desc = f"Epoch {epoch + 1}/{self.epochs}"
            self.bar = self.tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True)

    def advance(self, k: int, acc: dict[str, Any]) -> bool:
        """Count ``k`` steps; every ~0.5 s show the running loss. True when a bad step was seen."""
        if self.bar is None:
            return False
        self.bar.update(k)
        now = time.monotonic()
        if now - self.last < _REFRESH_S:
            return False
        self.last = now
        host = jax.device_get({"loss": acc["sums"]["loss"], "count": acc["count"], "bad": acc["bad"]})
        if host["count"]:
            self.bar.set_postfix(loss=f"{host['loss'] / host['count']:.4g}", refresh=False)
        return bool(host["bad"])

    def end(self, logs: Mapping[str, Any]) -> None:
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in logs.items() if k not in ("epoch", "step")}
        if self.bar is not None:
            self.bar.set_postfix(shown)
            self.bar.close()
            self.bar = None
        elif self.enabled:
            line = " - ".join(f"{k} {v}" for k, v in shown.items())
            print(f"Epoch {logs['epoch']}/{self.epochs}: {line}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ------------------------------------------------------------------- checkpoints


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
        raise ValueError(
            f"{_OWNER}: cannot resume from {path!r}: it does not match this run (a different model, optimizer, "
            f"trainable mask or metrics); pass a new checkpoint directory, or resume=False with an empty one.\n{e}"
        ) from None
    history = json.loads(load_metadata(path).get(_HISTORY_KEY, "[]"))
    return tree, history


# --------------------------------------------------------------------------- loop


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
    ) -> None:
        self.source, self.val, self.names, self.manager = source, val, names, manager
        self.train_step, self.fused_run, self.eval_step = steps
        self.every, self.chunk, self.schedule = every, chunk, schedule
        self.data: tuple[jax.Array, ...] | None = None
        self.host_step = self.saved_at = -1

    def save(self, at: dict[str, int]) -> None:
        """Checkpoint the run at loader position ``at`` (the state is good: checked by the caller)."""
        if self.manager is not None:
            tree = {"train_state": self.ts, "acc": self.acc, "loader": at}
            self.manager.save(self.host_step, tree, metadata={_HISTORY_KEY: json.dumps(self.history)})
        self.saved_at = self.host_step

    def _after(self, k: int, epoch: int, b: int) -> bool:
        """Bookkeeping after ``k`` steps ending before batch ``b``; True stops the epoch (a bad step was seen)."""
        self.host_step += k
        if self.bar.advance(k, self.acc):
            return True
        length = self.source.length
        if self.every is None or self.host_step - self.saved_at < self.every or (length is not None and b >= length):
            return False
        if jax.device_get(self.acc["bad"]):
            return True
        self.save({"epoch": epoch, "batch": b})
        return False

    def _unfused(self, epoch: int, first: int) -> None:
        b = first
        for batch in self.source.batches(epoch, first):
            self.ts, self.acc = self.train_step(self.ts, self.acc, *self.source.xy(batch))
            b += 1
            if self._after(1, epoch, b):
                return

    def _fused(self, epoch: int, first: int) -> None:
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
            self.ts, self.acc = self.fused_run(self.ts, self.acc, self.data, idx)
            b += k
            if self._after(k, epoch, b):
                return
        if b < len(loader):  # the last, smaller batch: one ordinary step
            x, y = (jax.device_put(a[order[full * size :]], loader.device) for a in loader.arrays)
            self.ts, self.acc = self.train_step(self.ts, self.acc, x, y)
            self._after(1, epoch, b + 1)

    def epoch(self, epoch: int, first: int) -> dict[str, Any]:
        """Train epoch ``epoch`` (from 0) from batch ``first``, validate, and return its history entry."""
        started = time.perf_counter()
        self.host_step = self.saved_at = int(jax.device_get(self.ts.step))
        self.bar.start(epoch, self.source.length, first)
        (self._unfused if self.chunk is None else self._fused)(epoch, first)
        host = jax.device_get({"acc": self.acc, "lr": _find_lr(self.ts.opt_state), "step": self.ts.step})
        got = host["acc"]
        if got["bad"]:
            raise self._non_finite(epoch, got)
        self.host_step = int(host["step"])
        count = max(int(got["count"]), 1)
        logs: dict[str, Any] = {"epoch": epoch + 1, "step": self.host_step}
        logs.update({k: float(got["sums"][k]) / count for k in self.names})
        if self.val is not None:
            vacc = _zeros(self.names, train=False)
            for batch in self.val.batches(0, 0):
                vacc = self.eval_step(self.ts.params, self.ts.state, vacc, *self.val.xy(batch))
            vgot = jax.device_get(vacc)
            logs.update({f"val_{k}": float(vgot["sums"][k]) / max(int(vgot["count"]), 1) for k in self.names})
        if host["lr"] is not None:
            logs["lr"] = float(host["lr"])
        elif self.schedule is not None and self.host_step > 0:
            logs["lr"] = float(self.schedule(self.host_step - 1))
        logs["seconds"] = time.perf_counter() - started
        self.history.append(logs)
        return logs

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


# ---------------------------------------------------------------------------- fit


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{_OWNER}: `{name}` must be an int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{_OWNER}: `{name}` must be >= 1, got {value}")
    return int(value)


def fit(
    model: Module,
    optimizer: optax.GradientTransformation,
    train_loader: Any,
    *,
    loss: Callable[[Any, Any], jax.Array],
    epochs: int = 1,
    key: jax.Array,
    val_loader: Any = None,
    metrics: Any = "auto",
    params: Params | None = None,
    state: State | None = None,
    progress: bool = True,
    callbacks: Any = (),
    checkpoint: Any = None,
    checkpoint_every: int | None = None,
    resume: bool = True,
    fused: bool | str | int = False,
    trainable: Any = None,
    schedule: Callable[[Any], Any] | None = None,
) -> FitResult:
    """Train ``model`` for ``epochs`` epochs (see the module docstring for how it runs).

    Args:
      model: a funcnn module; it runs with ``apply_with_state(..., train=True)``.
      optimizer: any optax optimizer, e.g. ``optax.adam(1e-3)``.
      train_loader: a `funcnn.data.DataLoader` over ``(x, y)``, or a re-iterable (a
        list) of ``(x, y)`` batches; ``x`` of shape ``(N, ...)`` as the model takes it,
        ``y`` of shape ``(N, ...)`` as ``loss`` takes it.
      loss: ``loss(output, target) -> scalar`` averaged over the batch, e.g.
        ``nn.CrossEntropyLoss()`` or ``F.mse_loss``.
      epochs: total epochs (>= 1), counting those done before a resume.
      key: PRNG key: the initial parameters (unless ``params``) and the dropout keys.
      val_loader: batches to evaluate after each epoch (``train=False``).
      metrics: besides the loss (always computed): ``"auto"`` (accuracy when the
        targets are integer classes and the output has a class axis), a sequence of
        ``"loss"``/``"accuracy"``, or a mapping ``{name: fn(output, target) -> batch
        mean}``. Averages weight each batch by its size.
      params, state: starting parameters / buffers (copied; default: fresh).
      progress: show a tqdm bar per epoch (one line per epoch without tqdm).
      callbacks: objects with ``on_epoch_end`` etc. (see `funcnn.train.Callback`).
      checkpoint: a directory or `funcnn.checkpoint.CheckpointManager` to save the
        run to at the end of each epoch (a directory keeps the last 3).
      checkpoint_every: also save every this many steps (mid-epoch).
      resume: continue from the latest checkpoint in ``checkpoint``, if any.
      fused: ``True``/``"epoch"``: one compiled scan per epoch; an int K: K steps per
        compiled call; needs a `funcnn.data.DataLoader` over ``(x, y)``.
      trainable: freeze parameters: a mask from `funcnn.train.trainable_mask` or a
        pattern it accepts (e.g. ``"head.*"``); frozen ones get no gradient, no
        update and no optimizer state.
      schedule: the learning-rate schedule given to the optimizer, to log ``lr``
        (not needed with ``optax.inject_hyperparams``).

    Returns:
      a `FitResult` ``(params, state, history, train_state)``. When resuming, the
      checkpoint's state replaces ``params``/``state``. The compiled steps of the
      last few calls are kept, so calling `fit` again with the same model,
      optimizer and loss objects (to continue or resume) compiles nothing new.

    Raises:
      NonFiniteLossError: a step produced a non-finite loss or parameters.
      ValueError: ``epochs`` < 1, an empty loader, labels outside the model's
        classes, a checkpoint of another run, or checkpoints present with
        ``resume=False``.
      TypeError: a loader that is not re-iterable, or arguments of the wrong type.
      OSError: the checkpoint directory cannot be written (raised before training).

    Examples:
      >>> import jax, numpy as np, optax
      >>> from funcnn import data, nn, train
      >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
      >>> y = (x[:, 0] > 0).astype(np.int32)
      >>> loader = data.DataLoader((x, y), batch_size=16, shuffle=True, key=jax.random.key(1))
      >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
      >>> result = train.fit(model, optax.adam(1e-2), loader, loss=nn.CrossEntropyLoss(), epochs=3,
      ...                    key=jax.random.key(0), progress=False)
      >>> [sorted(h) for h in result.history][0]
      ['accuracy', 'epoch', 'loss', 'seconds', 'step']
      >>> result.history[-1]["loss"] < result.history[0]["loss"]
      True
    """
    if not isinstance(model, Module):
        raise TypeError(f"{_OWNER}: `model` must be a funcnn.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"{_OWNER}: `optimizer` must be an optax optimizer such as optax.adam(1e-3), got {type(optimizer).__name__}"
        )
    if not callable(loss):
        raise TypeError(
            f"{_OWNER}: `loss` must be a function loss(output, target) such as nn.CrossEntropyLoss(), got {loss!r}"
        )
    epochs = _positive("epochs", epochs)
    every = None if checkpoint_every is None else _positive("checkpoint_every", checkpoint_every)
    if fused is False:
        chunk: str | int | None = None
    elif fused is True or (isinstance(fused, str) and fused == "epoch"):
        chunk = "epoch"
    elif isinstance(fused, (int, np.integer)) and not isinstance(fused, bool) and fused >= 1:
        chunk = int(fused)
    else:
        raise ValueError(f"{_OWNER}: `fused` must be False, True, 'epoch' or a number of steps >= 1, got {fused!r}")
    source = _Source("train_loader", train_loader)
    val = None if val_loader is None else _Source("val_loader", val_loader)
    if chunk is not None and not source.is_loader:
        raise TypeError(
            f"{_OWNER}: fused={fused!r} needs a funcnn.data.DataLoader (the data set goes to the device once), got "
            f"{type(train_loader).__name__}; pass fused=False"
        )
    callbacks = _check_callbacks(_OWNER, callbacks)
    manager = _manager(checkpoint)
    if every is not None and manager is None:
        raise ValueError(f"{_OWNER}: checkpoint_every={every} needs `checkpoint=` (a directory) to save to")

    # Initial state: user arrays are copied, since every step donates the state it replaces.
    if params is not None:
        params = jax.device_put(params, may_alias=False)
    if state is not None:
        state = jax.device_put(state, may_alias=False)
    ts = TrainState.create(model, optimizer, key, params=params, state=state, trainable=trainable)
    mask = None if trainable is None else _resolve_mask(_OWNER, trainable, ts.params)

    # Shapes, classes, metrics.
    x0, y0 = source.xy(source.first)
    out = jax.eval_shape(lambda p, s, x: model.apply_with_state(p, s, x, train=False)[0], ts.params, ts.state, x0)
    y_dtype = y0.dtype if hasattr(y0, "dtype") else np.asarray(y0).dtype
    y_rank = len(getattr(y0, "shape", np.shape(y0)))
    classify = hasattr(out, "shape") and jnp.issubdtype(y_dtype, jnp.integer) and len(out.shape) == y_rank + 1 >= 2
    if classify:
        ignore = int(getattr(loss, "ignore_index", -100))
        for s in (source, val) if val is not None else (source,):
            _check_labels(s, int(out.shape[1]), ignore, tuple(out.shape))
    extras = _metrics(metrics, bool(classify))
    names = ["loss", *extras]

    train_step, fused_run, eval_step = _compiled(model, optimizer, loss, extras, mask)

    # Checkpoint directory: resume, or refuse to mix runs; fail early if it is not writable.
    history: list[dict[str, Any]] = []
    position = {"epoch": 0, "batch": 0}
    acc = _zeros(names, train=True)
    if manager is not None:
        _check_writable(manager)
        steps = manager.all_steps()
        if steps and resume:
            tree, history = _restore(manager, {"train_state": ts, "acc": acc, "loader": position})
            ts, acc, position = tree["train_state"], tree["acc"], tree["loader"]
        elif steps:
            raise ValueError(
                f"{_OWNER}: {manager.directory!r} already holds checkpoints (steps {steps}) and resume=False; pass "
                f"resume=True to continue that run, or a new directory to start another"
            )

    loop = _Loop(source, val, (train_step, fused_run, eval_step), names, manager, every, chunk, schedule)
    loop.bar = _Progress(progress, epochs)
    loop.ts, loop.acc, loop.history = ts, acc, history
    stop = any([bool(cb.on_train_begin(history, ts)) for cb in callbacks if hasattr(cb, "on_train_begin")])
    try:
        while not stop and position["epoch"] < epochs:
            logs = loop.epoch(position["epoch"], position["batch"])
            position = {"epoch": position["epoch"] + 1, "batch": 0}
            loop.acc = _zeros(names, train=True)
            loop.save(position)
            loop.bar.end(logs)
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end") and cb.on_epoch_end(logs["epoch"], logs, loop.ts):
                    stop = True
    finally:
        loop.bar.close()
    if source.is_loader:
        source.loader.load_state(position)
    ts = loop.ts
    for cb in callbacks:
        replaced = cb.on_train_end(ts) if hasattr(cb, "on_train_end") else None
        if replaced is not None:
            ts = replaced
    return FitResult(ts.params, ts.state, loop.history, ts)
