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
  (a last partial batch runs as one ordinary step), so the parameters agree: bit for
  bit for the MLPs tested; for a CNN on CPU the convolutions compiled inside the loop
  round differently, and Adam amplifies that (the digits CNN's weights differed by up
  to 0.011 after 2 epochs).
  Which to use: ``fused="auto"`` picks for you. On CPU, XLA compiles a step's
  convolutions in the channels-last layout of its fast convolution kernel when the
  step is a call of its own, but inside the scan's loop they keep PyTorch's NCHW
  layout and run as a generic loop nest (seen in the optimized HLO), 3-30x slower
  (measured: the digits CNN 3.5x slower per step fused; a lone 16->32 channel conv
  30x; a one-channel conv, pooling and MLPs are faster fused, an MLP 3x). So "auto"
  runs models with convolutions unfused on CPU and everything else fused; on GPU
  it fuses.
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
  larger ``epochs`` trains the difference. `funcnn.train.load_fit_checkpoint` reads
  such a checkpoint back (weights, buffers, history, `TrainState`), in another process
  too, given the model and the optimizer.

Epochs count from 1 in the history, in messages and in callbacks; batch indices count
from 0 within an epoch, like ``DataLoader.state()``; the step is ``TrainState.step``
(updates done so far).

Learning-rate schedules: see `funcnn.train.callbacks`; the history logs ``lr`` when the
optimizer comes from ``optax.inject_hyperparams``, or when ``schedule=`` names the
schedule given to the optimizer.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..nn.module import Module, Params, State
from ._fit_data import _check_labels, _metrics, _Source
from ._fit_loop import _Loop
from ._fit_steps import _compiled, _zeros
from ._progress import _Progress
from .callbacks import _check_callbacks
from .fit_checkpoint import _check_writable, _manager, _restore
from .fit_result import FitResult as FitResult
from .fit_result import NonFiniteLossError as NonFiniteLossError
from .freeze import _resolve_mask
from .step import TrainState, check_key

_OWNER = "fit"


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{_OWNER}: `{name}` must be an int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{_OWNER}: `{name}` must be >= 1, got {value}")
    return int(value)


def _check_types(model: Any, optimizer: Any, loss: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{_OWNER}: `model` must be a funcnn.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, (optax.GradientTransformation, optax.MultiSteps)):
        raise TypeError(
            f"{_OWNER}: `optimizer` must be an optax optimizer such as optax.adam(1e-3), got {type(optimizer).__name__}"
        )
    if not callable(loss):
        raise TypeError(
            f"{_OWNER}: `loss` must be a function loss(output, target) such as nn.CrossEntropyLoss(), got {loss!r}"
        )


def _chunk(fused: Any) -> str | int | None:
    """Steps per compiled call: None (unfused), ``"epoch"``, or a count."""
    if fused is False:
        return None
    if isinstance(fused, str) and fused == "auto":
        return "auto"
    if fused is True or (isinstance(fused, str) and fused == "epoch"):
        return "epoch"
    if isinstance(fused, (int, np.integer)) and not isinstance(fused, bool) and fused >= 1:
        return int(fused)
    raise ValueError(f"{_OWNER}: `fused` must be False, True, 'epoch', 'auto' or a number of steps >= 1, got {fused!r}")


def _sources(train_loader: Any, val_loader: Any, fused: Any, chunk: str | int | None) -> tuple[_Source, _Source | None]:
    source = _Source("train_loader", train_loader)
    val = None if val_loader is None else _Source("val_loader", val_loader)
    if chunk not in (None, "auto") and not source.is_loader:
        raise TypeError(
            f"{_OWNER}: fused={fused!r} needs a funcnn.data.DataLoader (the data set goes to the device once), got "
            f"{type(train_loader).__name__}; pass fused=False"
        )
    return source, val


def _primitives(jaxpr: Any) -> set[str]:
    """The names of every primitive in ``jaxpr``, nested jaxprs (jit, custom_vjp, scan, ...) included."""
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    names |= _primitives(inner)
    return names


def _auto_chunk(model: Module, ts: TrainState, source: _Source) -> str | None:
    """``fused="auto"``: a scan per epoch, except where it is slower (see issue 10 in the module docstring).

    XLA:CPU runs a convolution with several input channels 3-30x slower inside the
    scan's loop (NCHW, a generic loop nest) than as its own compiled call (relaid
    channels-last for its convolution kernel), so on CPU a model with a convolution
    runs unfused; everything else (and every model on GPU) runs fused.
    """
    if not source.is_loader:
        return None
    device = source.loader.device
    platform = device.platform if device is not None and hasattr(device, "platform") else jax.default_backend()
    if platform != "cpu":
        return "epoch"
    x0 = source.xy(source.first)[0]
    jaxpr = jax.make_jaxpr(lambda p, s, x: model.apply_with_state(p, s, x, train=False)[0])(ts.params, ts.state, x0)
    return None if "conv_general_dilated" in _primitives(jaxpr.jaxpr) else "epoch"


def _initial_state(
    model: Module, optimizer: optax.GradientTransformation, key: Any, params: Any, state: Any, trainable: Any
) -> tuple[TrainState, Any]:
    """The fresh `TrainState` (it copies ``params``/``state``) and the resolved trainable mask (None: all train)."""
    ts = TrainState.create(model, optimizer, check_key(_OWNER, key), params=params, state=state, trainable=trainable)
    return ts, None if trainable is None else _resolve_mask(_OWNER, trainable, ts.params)


def _extras(
    model: Module, loss: Any, metrics: Any, ts: TrainState, source: _Source, val: _Source | None
) -> dict[str, Any]:
    """The metrics besides the loss; class labels are checked against the model's outputs."""
    x0, y0 = source.xy(source.first)
    out = jax.eval_shape(lambda p, s, x: model.apply_with_state(p, s, x, train=False)[0], ts.params, ts.state, x0)
    y_dtype = y0.dtype if hasattr(y0, "dtype") else np.asarray(y0).dtype
    y_rank = len(getattr(y0, "shape", np.shape(y0)))
    classify = hasattr(out, "shape") and jnp.issubdtype(y_dtype, jnp.integer) and len(out.shape) == y_rank + 1 >= 2
    if classify:
        ignore = int(getattr(loss, "ignore_index", -100))
        for s in (source, val) if val is not None else (source,):
            _check_labels(s, int(out.shape[1]), ignore, tuple(out.shape))
    return _metrics(metrics, bool(classify))


def _start(manager: Any, resume: bool, ts: TrainState, acc: Any) -> tuple[TrainState, Any, dict[str, int], list[Any]]:
    """``(train_state, acc, position, history)``: fresh, or restored from the checkpoint directory."""
    position = {"epoch": 0, "batch": 0}
    if manager is None:
        return ts, acc, position, []
    _check_writable(manager)  # fail early, not after the first epoch
    steps = manager.all_steps()
    if steps and resume:
        tree, history = _restore(manager, {"train_state": ts, "acc": acc, "loader": position})
        return tree["train_state"], tree["acc"], tree["loader"], history
    if steps:
        raise ValueError(
            f"{_OWNER}: {manager.directory!r} already holds checkpoints (steps {steps}) and resume=False; pass "
            f"resume=True to continue that run, or a new directory to start another"
        )
    return ts, acc, position, []


def _run(loop: _Loop, callbacks: tuple[Any, ...], epochs: int, position: dict[str, int]) -> dict[str, int]:
    """Train the remaining epochs, with callbacks and a checkpoint after each; the final loader position."""
    history = loop.history
    stop = any([bool(cb.on_train_begin(history, loop.ts)) for cb in callbacks if hasattr(cb, "on_train_begin")])
    try:
        while not stop and position["epoch"] < epochs:
            logs = loop.epoch(position["epoch"], position["batch"])
            if loop.stopped_at is not None:  # a per-step hook stopped mid-epoch (checkpoint saved there)
                position = {"epoch": position["epoch"], "batch": loop.stopped_at}
            else:
                position = {"epoch": position["epoch"] + 1, "batch": 0}
                loop.acc = _zeros(loop.names, train=True)
                loop.save(position)
            loop.bar.end(logs)
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end") and cb.on_epoch_end(logs["epoch"], logs, loop.ts):
                    stop = True
            stop = stop or loop.stop
    finally:
        loop.bar.close()
    return position


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
      optimizer: any optax optimizer, e.g. ``optax.adam(1e-3)``, or ``optax.MultiSteps``
        (gradient accumulation), or one wrapped in `funcnn.train.dynamic_loss_scale`.
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
      params, state: starting parameters / buffers (copied, so they stay usable;
        default: fresh).
      progress: show a tqdm bar per epoch (one line per epoch without tqdm).
      callbacks: objects with ``on_epoch_end`` etc. (see `funcnn.train.Callback`).
      checkpoint: a directory or `funcnn.checkpoint.CheckpointManager` to save the
        run to at the end of each epoch (a directory keeps the last 3). Read it
        back with ``train.load_fit_checkpoint(checkpoint, model, optimizer)``.
      checkpoint_every: also save every this many steps (mid-epoch).
      resume: continue from the latest checkpoint in ``checkpoint``, if any.
      fused: ``True``/``"epoch"``: one compiled scan per epoch; an int K: K steps per
        compiled call; needs a `funcnn.data.DataLoader` over ``(x, y)``.
        ``"auto"``: fused where it is faster (not for convolutions on CPU, not for
        a list of batches), else unfused. Per-step callbacks run after each compiled
        chunk when fused (see `funcnn.train.callbacks`).
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
    _check_types(model, optimizer, loss)
    epochs = _positive("epochs", epochs)
    every = None if checkpoint_every is None else _positive("checkpoint_every", checkpoint_every)
    chunk = _chunk(fused)
    source, val = _sources(train_loader, val_loader, fused, chunk)
    callbacks = _check_callbacks(_OWNER, callbacks)
    manager = _manager(checkpoint)
    if every is not None and manager is None:
        raise ValueError(f"{_OWNER}: checkpoint_every={every} needs `checkpoint=` (a directory) to save to")

    ts, mask = _initial_state(model, optimizer, key, params, state, trainable)
    chunk = _auto_chunk(model, ts, source) if chunk == "auto" else chunk
    extras = _extras(model, loss, metrics, ts, source, val)
    names = ["loss", *extras]
    steps = _compiled(model, optimizer, loss, extras, mask)
    ts, acc, position, history = _start(manager, resume, ts, _zeros(names, train=True))

    loop = _Loop(source, val, steps, names, manager, every, chunk, schedule, callbacks)
    loop.bar = _Progress(progress, epochs)
    loop.ts, loop.acc, loop.history = ts, acc, history
    position = _run(loop, callbacks, epochs, position)
    if source.is_loader:
        source.loader.load_state(position)
    ts = loop.ts
    for cb in callbacks:
        replaced = cb.on_train_end(ts) if hasattr(cb, "on_train_end") else None
        if replaced is not None:
            ts = replaced
    return FitResult(ts.params, ts.state, loop.history, ts)
