"""`fit`'s compiled functions: the guarded train step, its fused ``lax.scan``, the eval step, and their cache."""

from __future__ import annotations

import collections
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..nn.module import Module, Params, State
from ._compile import in_place_jit
from .freeze import _named_leaves
from .loss_scale import all_finite
from .step import TrainState, _stateful_update


def _zeros(names: list[str], train: bool) -> dict[str, Any]:
    acc: dict[str, Any] = {"sums": {n: np.float32(0) for n in names}, "count": np.int32(0)}
    if train:
        acc.update(batches=np.int32(0), bad=np.bool_(False), bad_batch=np.int32(0), bad_step=np.int32(0))
        acc.update(bad_loss=np.float32(0))
    return jax.device_put(acc)


# -------------------------------------------------------------------- compiled steps


def _train_step(update: Callable[..., Any]) -> Callable[..., tuple[TrainState, dict[str, Any], dict[str, Any]]]:
    """The guarded step ``(ts, acc, x, y) -> (ts, acc, values)``: a non-finite update is not applied.

    ``values`` holds the step's own float32 scalars for the per-step hooks: ``loss``, the
    metrics, and ``lr`` when ``optax.inject_hyperparams`` keeps one in the state.
    """

    def step(ts: TrainState, acc: dict[str, Any], x: Any, y: jax.Array) -> tuple[TrainState, dict[str, Any], Any]:
        new, loss, extras = update(ts, x, y)
        finite = jnp.isfinite(loss) & all_finite((new.params, new.state))
        ok = finite & ~acc["bad"]
        first_bad = ~finite & ~acc["bad"]

        def keep(tree_new: Any, tree_old: Any) -> Any:
            return jax.tree.map(lambda a, b: jnp.where(ok, a, b), tree_new, tree_old)

        failed_step = ts.step
        ts = TrainState(
            keep(new.params, ts.params),
            keep(new.state, ts.state),
            keep(new.opt_state, ts.opt_state),
            ts.key,
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
        values = {k: v.astype(jnp.float32) for k, v in values.items()}
        lr = _find_lr(new.opt_state)
        if lr is not None:
            values["lr"] = jnp.asarray(lr, jnp.float32)
        return ts, acc, values

    return step


def _fused(step: Callable[..., Any]) -> Callable[..., tuple[TrainState, dict[str, Any]]]:
    """K steps in one ``lax.scan``; ``idx`` is ``int32[K, batch_size]`` rows of the on-device data.

    Returns ``(ts, acc, values)`` with each of the step's values stacked to shape ``(K,)``.
    """

    def run(ts: TrainState, acc: dict[str, Any], data: tuple[jax.Array, jax.Array], idx: jax.Array) -> Any:
        def body(carry: Any, rows: jax.Array) -> Any:
            ts, acc, values = step(*carry, data[0][rows], data[1][rows])
            return (ts, acc), values

        (ts, acc), values = jax.lax.scan(body, (ts, acc), idx)
        return ts, acc, values

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

    step = _train_step(_stateful_update(loss_fn, optimizer, has_aux=True, trainable=mask, owner="fit"))
    fns = (
        in_place_jit(step, donate_argnums=(0, 1)),
        in_place_jit(_fused(step), donate_argnums=(0, 1)),
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
