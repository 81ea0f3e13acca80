"""Jit-compiled training and evaluation steps.

Two forms share one implementation:

* the simple form, for models without buffers or dropout (the seed's loop)::

      step = make_train_step(loss_fn, optimizer)          # loss_fn(params, *batch)
      params, opt_state, loss = step(params, opt_state, x, y)

* the stateful form, threading buffers and a dropout key through a `TrainState`::

      step = make_train_step(loss_fn, optimizer, stateful=True)
      # loss_fn(params, state, key, *batch) -> (loss, new_state)
      ts, loss = step(ts, x, y)

  The key for step ``n`` is ``jax.random.fold_in(ts.key, n)``: a new dropout mask every
  step, and a resumed run draws exactly the masks of an uninterrupted one.

Both compile once per input shape and donate the buffers they replace
(``params``/``opt_state``, or the whole `TrainState`), so an update happens in place.
Do not reuse the arrays you passed in after a call; use the returned ones (calling
the step again with donated arrays is an error that says so; ``donate=False`` keeps
them). `TrainState.create` copies the ``params``/``state`` it is given, so those stay
yours. The step is the ``jax.jit`` object behind a thin wrapper that only rewrites
that error (``step.lower(...)`` and the rest of the jit API pass through).

The optimizer is any optax ``GradientTransformation``, or ``optax.MultiSteps``
(gradient accumulation). With `funcnn.train.dynamic_loss_scale` anywhere the
gradients reach it first (around the whole optimizer, first in a ``chain``, inside
``MultiSteps``), the step scales the loss by the current scale.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .._memory import release_memory_after_compiles
from ..nn.module import Module, Params, State
from ._compile import in_place_jit
from .freeze import _combine, _partition, _resolve_mask
from .loss_scale import find_loss_scale


class TrainState(NamedTuple):
    """Everything a stateful training step changes, as one pytree.

    Attributes:
      params: model parameters.
      state: model buffers (``{}`` when the model has none).
      opt_state: the optax optimizer state.
      key: the run's base PRNG key; step ``n`` uses ``fold_in(key, n)``.
      step: number of completed steps, an int32 scalar array of shape ``()``.

    Examples:
      >>> import jax, optax
      >>> from funcnn import nn, train
      >>> ts = train.TrainState.create(nn.BatchNorm1d(2), optax.sgd(0.1), jax.random.key(0))
      >>> sorted(ts.state), ts.step.shape, ts.step.dtype
      (['num_batches_tracked', 'running_mean', 'running_var'], (), dtype('int32'))
    """

    params: Params
    state: State
    opt_state: Any
    key: jax.Array
    step: jax.Array

    @classmethod
    def create(
        cls,
        model: Module,
        optimizer: optax.GradientTransformation,
        key: jax.Array,
        *,
        params: Params | None = None,
        state: State | None = None,
        trainable: Any = None,
    ) -> TrainState:
        """Initialise params (unless given), buffers and optimizer state from one key.

        Given ``params``/``state`` are copied: the train step donates (deletes) the
        arrays of the `TrainState`, and yours stay usable. With ``trainable`` (a mask
        from `funcnn.train.trainable_mask`, or a pattern it accepts), the optimizer
        state covers the trainable parameters only; pass the same ``trainable`` to
        `make_train_step`.

        Examples:
          >>> import jax, optax
          >>> from funcnn import nn, train
          >>> ts = train.TrainState.create(nn.Linear(3, 1), optax.sgd(0.1), jax.random.key(0))
          >>> int(ts.step)
          0
        """
        optimizer = as_optimizer("TrainState.create", optimizer)
        init_key, run_key = jax.random.split(check_key("TrainState.create", key))
        params = model.init(init_key) if params is None else jax.device_put(params, may_alias=False)
        state = model.init_state() if state is None else jax.device_put(state, may_alias=False)
        if trainable is None:
            opt_state = optimizer.init(params)
        else:
            opt_state = optimizer.init(_partition(_resolve_mask("TrainState.create", trainable, params), params)[0])
        return cls(params, state, opt_state, run_key, jnp.zeros((), jnp.int32))


def as_optimizer(owner: str, optimizer: Any) -> optax.GradientTransformation:
    """``optimizer`` as an optax transformation (``optax.MultiSteps`` unwrapped), or a TypeError."""
    if isinstance(optimizer, optax.MultiSteps):
        return optimizer.gradient_transformation()
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"{owner}: expected an optax optimizer such as optax.sgd(0.01), got {type(optimizer).__name__}")
    return optimizer


def check_key(owner: str, key: Any) -> jax.Array:
    """``key`` if it is a PRNG key (typed, or a legacy ``uint32[2]``), else a TypeError naming the fix."""
    if isinstance(key, jax.Array) and (
        jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) or (key.dtype == jnp.uint32 and key.shape == (2,))
    ):
        return key
    hint = f"jax.random.key({key})" if isinstance(key, int) and not isinstance(key, bool) else "jax.random.key(0)"
    raise TypeError(
        f"{owner}: `key` must be a PRNG key such as jax.random.key(0), got {type(key).__name__} {key!r}; pass {hint}"
    )


def _check_loss(owner: str, loss: Any) -> Any:
    """``loss`` if it is a float scalar (at trace time), else the error that says how to make it one."""
    if isinstance(loss, (tuple, list)):
        raise TypeError(
            f"{owner}: the loss must be a float scalar, got a {type(loss).__name__} of {len(loss)} items; pass "
            f"has_aux=True when loss_fn returns (loss, aux), or return the loss alone"
        )
    shape, dtype = jnp.shape(loss), jnp.result_type(loss)
    if shape != ():
        raise ValueError(
            f"{owner}: the loss must be a scalar, got shape {shape} ({dtype}); reduce it to one number: a loss "
            f"with reduction='mean' (the default, e.g. nn.MSELoss()), or .mean() of the per-sample losses"
        )
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{owner}: the loss must be floating to be differentiated, got {dtype}; compute it from the model's "
            f"float outputs (an int loss, e.g. a count of errors, has no gradient)"
        )
    return loss


def _split(owner: str, out: Any, what: str) -> tuple[Any, Any]:
    """``out`` as the pair ``what`` names, or a TypeError."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = f"a {type(out).__name__} of {len(out)} items" if isinstance(out, (tuple, list)) else type(out).__name__
        raise TypeError(f"{owner}: loss_fn must return {what}, got {got}")
    return out[0], out[1]


def _donation_error(owner: str, donated: str) -> str:
    return (
        f"{owner}: the step was called with arrays that an earlier call donated (deleted): the step donates "
        f"{donated} so that the update runs in place. Pass what the previous call returned "
        f"(params, opt_state, loss = step(params, opt_state, x, y); ts, loss = step(ts, x, y)), copy what you "
        f"keep first (jax.tree.map(jnp.copy, params)), or build the step with donate=False"
    )


class _Step:
    """A jitted step that explains the error of a call with donated arrays; the jit API passes through."""

    __slots__ = ("_jitted", "_message")

    def __init__(self, jitted: Any, message: str) -> None:
        self._jitted, self._message = jitted, message

    def __call__(self, *args: Any) -> Any:
        try:
            return self._jitted(*args)
        except (ValueError, RuntimeError) as e:
            if "deleted or donated" not in str(e) and "has been deleted" not in str(e):
                raise
            raise ValueError(self._message) from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jitted, name)


def _scaled(loss: jax.Array, scale: jax.Array | None) -> jax.Array:
    return loss if scale is None else loss.astype(jnp.float32) * scale


def _split_aux(owner: str, out: Any, has_aux: bool) -> tuple[Any, Any]:
    loss, aux = _split(owner, out, "(loss, aux) with has_aux=True") if has_aux else (out, None)
    return _check_loss(owner, loss), aux


def _check_opt_state(optimizer: optax.GradientTransformation, opt_state: Any, view: Params) -> None:
    want = jax.tree.structure(jax.eval_shape(optimizer.init, view))
    if jax.tree.structure(opt_state) != want:
        raise ValueError(
            "make_train_step(trainable=...): the optimizer state does not match the trainable parameters (it "
            "has entries for frozen ones, or for another mask); create it with "
            "`optimizer.init(train.trainable_params(params, mask))` or `TrainState.create(..., trainable=mask)`"
        )


def _apply_gradients(
    objective: Callable[[Params], tuple[jax.Array, Any]],
    optimizer: optax.GradientTransformation,
    params: Params,
    opt_state: Any,
    trainable: Any,
    place: Callable[[Any], Any],
) -> tuple[Params, Any, Any]:
    """Differentiate ``objective(params) -> (scaled_loss, rest)`` and apply the update.

    With ``trainable``, only the trainable leaves are differentiated: the frozen ones
    are closed over as constants, so no gradient is computed for them.
    """
    if trainable is None:
        (_, rest), grads = jax.value_and_grad(objective, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (*place((optax.apply_updates(params, updates), opt_state)), rest)
    mask = _resolve_mask("make_train_step", trainable, params)
    train_p, frozen = _partition(mask, params)
    _check_opt_state(optimizer, opt_state, train_p)
    (_, rest), grads = jax.value_and_grad(lambda t: objective(_combine(mask, t, frozen)), has_aux=True)(train_p)
    updates, opt_state = optimizer.update(grads, opt_state, train_p)
    params = _combine(mask, optax.apply_updates(train_p, updates), frozen)
    return (*place((params, opt_state)), rest)


def _stateful_update(
    loss_fn: Callable[..., Any],
    optimizer: optax.GradientTransformation,
    *,
    has_aux: bool = False,
    place: Callable[[Any], Any] | None = None,
    trainable: Any = None,
    owner: str = "make_train_step",
) -> Callable[..., tuple[TrainState, jax.Array, Any]]:
    """The pure (not jitted) stateful step ``(ts, *batch) -> (ts, loss, aux)``.

    `make_train_step` jits it; `funcnn.train.fit` builds its guarded and fused steps on
    it. ``aux`` is None without ``has_aux``. Arguments as in `make_train_step`.
    """
    place = place or (lambda tree: tree)
    optimizer = as_optimizer(owner, optimizer)
    pair = "(loss, (new_state, aux)) with has_aux=True" if has_aux else "(loss, new_state) in the stateful form"

    def update(ts: TrainState, *batch: Any) -> tuple[TrainState, jax.Array, Any]:
        key = jax.random.fold_in(ts.key, ts.step)
        scale = find_loss_scale(owner, ts.opt_state)

        def objective(p: Params) -> tuple[jax.Array, tuple[jax.Array, State, Any]]:
            loss, rest = _split(owner, loss_fn(p, ts.state, key, *batch), pair)
            new_state, aux = _split(owner, rest, pair) if has_aux else (rest, None)
            loss = _check_loss(owner, loss)
            return _scaled(loss, scale), (loss, new_state, aux)

        params, opt_state, (loss, new_state, aux) = _apply_gradients(
            objective, optimizer, ts.params, ts.opt_state, trainable, place
        )
        return TrainState(params, new_state, opt_state, ts.key, ts.step + 1), loss, aux

    return update


def make_train_step(
    loss_fn: Callable[..., Any],
    optimizer: optax.GradientTransformation,
    *,
    has_aux: bool = False,
    stateful: bool = False,
    donate: bool = True,
    place: Callable[[Any], Any] | None = None,
    trainable: Any = None,
) -> Callable[..., Any]:
    """Build a jit-compiled step: gradients by ``jax.grad``, update by ``optimizer``.

    Args:
      loss_fn: simple form ``loss_fn(params, *batch) -> loss`` (or ``(loss, aux)`` with
        ``has_aux``); stateful form ``loss_fn(params, state, key, *batch) ->
        (loss, new_state)`` (or ``(loss, (new_state, aux))`` with ``has_aux``). The loss
        is a float scalar.
      optimizer: any optax gradient transformation, e.g. ``optax.sgd(0.01)``, or
        ``optax.MultiSteps`` (gradient accumulation); with
        `funcnn.train.dynamic_loss_scale` around it (or first in a ``chain``, or inside
        ``MultiSteps``), the loss is scaled before differentiation.
      has_aux: whether ``loss_fn`` also returns auxiliary outputs (returned last).
      stateful: use the `TrainState` form.
      donate: donate the replaced buffers so the update runs in place.
      place: applied to the new params and optimizer state inside the step (e.g.
        sharding constraints, see `funcnn.parallel`); identity by default.
      trainable: freeze parameters: a bool tree from `funcnn.train.trainable_mask`
        (or a pattern it accepts, e.g. ``"head.*"``). Only trainable parameters are
        differentiated and updated; frozen ones pass through bit for bit. The
        optimizer state must cover the trainable ones only: create it with
        ``optimizer.init(train.trainable_params(params, mask))`` or
        ``TrainState.create(..., trainable=mask)``.

    Returns:
      simple form ``step(params, opt_state, *batch) -> (params, opt_state, loss[, aux])``;
      stateful form ``step(ts, *batch) -> (ts, loss[, aux])``.

    Raises:
      TypeError: ``optimizer`` is not an optax optimizer; at the first call, a loss
        that is a tuple without ``has_aux``, or not floating.
      ValueError: at the first call, a loss that is not a scalar, or a
        `dynamic_loss_scale` placed where other transformations see the scaled
        gradients first; at any call, arrays that an earlier call donated.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from funcnn import nn, train
      >>> import funcnn.nn.functional as F
      >>> model = nn.Linear(3, 1)
      >>> opt = optax.sgd(0.1)
      >>> params = model.init(jax.random.key(0)); opt_state = opt.init(params)
      >>> step = train.make_train_step(lambda p, x, y: F.mse_loss(model.apply(p, x), y), opt)
      >>> params, opt_state, loss = step(params, opt_state, jnp.ones((4, 3)), jnp.zeros((4, 1)))
      >>> loss.shape
      ()
    """
    owner = "make_train_step"
    optimizer = as_optimizer(owner, optimizer)
    place = place or (lambda tree: tree)

    if not stateful:

        def simple_step(params: Params, opt_state: Any, *batch: Any) -> tuple[Any, ...]:
            scale = find_loss_scale(owner, opt_state)

            def objective(p: Params) -> tuple[jax.Array, tuple[jax.Array, Any]]:
                loss, aux = _split_aux(owner, loss_fn(p, *batch), has_aux)
                return _scaled(loss, scale), (loss, aux)

            params, opt_state, (loss, aux) = _apply_gradients(objective, optimizer, params, opt_state, trainable, place)
            return (params, opt_state, loss, aux) if has_aux else (params, opt_state, loss)

        jitted = in_place_jit(simple_step, donate_argnums=(0, 1) if donate else ())
        return _Step(jitted, _donation_error(owner, "`params` and `opt_state`"))

    update = _stateful_update(loss_fn, optimizer, has_aux=has_aux, place=place, trainable=trainable)

    def stateful_step(ts: TrainState, *batch: Any) -> tuple[Any, ...]:
        ts, loss, aux = update(ts, *batch)
        return (ts, loss, aux) if has_aux else (ts, loss)

    jitted = in_place_jit(stateful_step, donate_argnums=(0,) if donate else ())
    return _Step(jitted, _donation_error(owner, "the whole TrainState"))


def make_eval_step(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Jit-compile an evaluation function (no gradients, nothing donated).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import train
      >>> ev = train.make_eval_step(lambda p, x: (p * x).sum())
      >>> float(ev(jnp.float32(2.0), jnp.ones(3)))
      6.0
    """
    release_memory_after_compiles()
    return jax.jit(fn)


def model_loss(model: Module, criterion: Callable[[jax.Array, jax.Array], jax.Array]) -> Callable[..., Any]:
    """The stateful-form loss of ``model`` under ``criterion(output, target)``.

    Returns ``loss_fn(params, state, key, x, y) -> (loss, (new_state, output))`` for
    ``make_train_step(..., stateful=True, has_aux=True)``; it runs the model with
    ``train=True`` so dropout samples and batch norm updates its statistics.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from funcnn import nn, train
      >>> model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.1), nn.Linear(8, 2))
      >>> opt = optax.adam(1e-3)
      >>> ts = train.TrainState.create(model, opt, jax.random.key(0))
      >>> step = train.make_train_step(train.model_loss(model, nn.CrossEntropyLoss()), opt, stateful=True, has_aux=True)
      >>> ts, loss, logits = step(ts, jnp.ones((4, 3)), jnp.array([0, 1, 0, 1]))
      >>> int(ts.step), logits.shape
      (1, (4, 2))
    """

    def loss_fn(params: Params, state: State, key: jax.Array, x: Any, y: Any) -> tuple[jax.Array, tuple[State, Any]]:
        out, new_state = model.apply_with_state(params, state, x, key=key, train=True)
        return criterion(out, y), (new_state, out)

    return loss_fn
