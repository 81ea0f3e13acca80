"""Dynamic loss scaling for float16 training, as an optax wrapper.

``dynamic_loss_scale(optimizer)`` returns an optimizer whose state carries the current
loss scale. `funcnn.train.make_train_step` recognises it: the step multiplies the loss
by the scale before differentiating, and the wrapper divides the gradients by it.
The wrapper must see the gradients first: wrap the whole optimizer
(``dynamic_loss_scale(optax.chain(clip, adam))``, ``dynamic_loss_scale(optax.multi_transform(...))``);
it may also be the first transformation of a ``chain`` or sit inside ``optax.MultiSteps``
(gradient accumulation sums scaled gradients, and the sum divides exactly). Anywhere
else (after a clip, inside one group of ``multi_transform``) other transformations
would see scaled gradients, so the step refuses it with an error. When
any gradient is not finite the update is skipped (parameters and inner optimizer state
unchanged) and the scale is divided by ``factor``; after ``period`` finite steps in a
row it is multiplied by ``factor``. The reported loss is always unscaled.

Examples:
  >>> import jax.numpy as jnp, optax
  >>> from funcnn import train
  >>> opt = train.dynamic_loss_scale(optax.sgd(0.1), initial_scale=2.0 ** 10)
  >>> state = opt.init({"w": jnp.ones(2)})
  >>> float(state.scale)
  1024.0
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class LossScaleState(NamedTuple):
    """State of `dynamic_loss_scale`: the inner state, the scale, finite steps in a row, skipped steps."""

    inner: Any
    scale: jax.Array
    good_steps: jax.Array
    skipped: jax.Array


class LossScaledOptimizer(optax.GradientTransformation):
    """An optax transformation that `make_train_step` knows to scale the loss for."""


def all_finite(tree: Any) -> jax.Array:
    """True when every leaf of ``tree`` is finite.

    Args:
      tree: a pytree of arrays of any shapes and floating dtypes.

    Returns:
      A bool array of shape ``()``; True for a tree without leaves.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import train
      >>> bool(train.all_finite({"a": jnp.ones(3), "b": jnp.array([1.0, jnp.inf])}))
      False
    """
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def dynamic_loss_scale(
    optimizer: optax.GradientTransformation,
    *,
    initial_scale: float = 2.0**15,
    period: int = 2000,
    factor: float = 2.0,
    min_scale: float = 1.0,
) -> LossScaledOptimizer:
    """Wrap ``optimizer`` with dynamic loss scaling (see the module docstring).

    Args:
      optimizer: the inner optax optimizer.
      initial_scale: starting loss scale.
      period: finite steps in a row before the scale grows by ``factor``.
      factor: growth and back-off factor (> 1).
      min_scale: the scale never drops below this.

    Returns:
      An optax transformation whose state is a `LossScaleState` (``scale`` a float32
      array of shape ``()``). Its ``update`` takes gradients of the scaled loss (any
      shapes and floating dtypes) and returns updates of the same shapes and dtypes.

    Raises:
      ValueError: if ``factor <= 1`` or ``period < 1``.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> from funcnn import train
      >>> opt = train.dynamic_loss_scale(optax.sgd(1.0), initial_scale=4.0)
      >>> params = {"w": jnp.ones(2)}
      >>> state = opt.init(params)
      >>> updates, state = opt.update({"w": jnp.array([4.0, jnp.inf])}, state, params)
      >>> updates["w"].tolist(), float(state.scale), int(state.skipped)
      ([0.0, 0.0], 2.0, 1)
    """
    if factor <= 1:
        raise ValueError(f"dynamic_loss_scale: `factor` must be > 1, got {factor}")
    if period < 1:
        raise ValueError(f"dynamic_loss_scale: `period` must be >= 1, got {period}")

    def init(params: Any) -> LossScaleState:
        return LossScaleState(
            optimizer.init(params),
            jnp.asarray(initial_scale, jnp.float32),
            jnp.zeros((), jnp.int32),
            jnp.zeros((), jnp.int32),
        )

    def update(scaled_grads: Any, state: LossScaleState, params: Any = None) -> tuple[Any, LossScaleState]:
        grads = jax.tree.map(lambda g: (g.astype(jnp.float32) / state.scale).astype(g.dtype), scaled_grads)
        finite = all_finite(grads)
        safe = jax.tree.map(lambda g: jnp.where(finite, g, jnp.zeros_like(g)), grads)
        updates, inner = optimizer.update(safe, state.inner, params)
        updates = jax.tree.map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)), updates)
        inner = jax.tree.map(lambda new, old: jnp.where(finite, new, old), inner, state.inner)
        grow = finite & (state.good_steps + 1 >= period)
        scale = jnp.where(
            finite, jnp.where(grow, state.scale * factor, state.scale), jnp.maximum(state.scale / factor, min_scale)
        )
        good = jnp.where(finite & ~grow, state.good_steps + 1, 0)
        skipped = state.skipped + (~finite).astype(jnp.int32)
        return updates, LossScaleState(inner, scale, good, skipped)

    return LossScaledOptimizer(init, update)


# What holds a state of each type, for the error of a misplaced loss scale.
_NAMES = {
    "tuple": "optax.chain (not as its first transformation)",
    "PartitionState": "one group of optax.multi_transform",
    "MultiTransformState": "one group of optax.multi_transform",
    "MaskedState": "optax.masked",
}


def _is_scale_state(node: Any) -> bool:
    return isinstance(node, LossScaleState)


def _container(node: Any, key: Any) -> str | None:
    """How ``node`` holds its child at ``key``, when gradients reach that child first; None otherwise."""
    if type(node) is tuple and isinstance(key, jax.tree_util.SequenceKey) and key.idx == 0:
        return "the first transformation of a chain"
    if isinstance(node, optax.MultiStepsState) and getattr(key, "name", None) == "inner_opt_state":
        return "inside optax.MultiSteps"
    return None


def find_loss_scale(owner: str, opt_state: Any) -> jax.Array | None:
    """The scale of the `dynamic_loss_scale` in ``opt_state`` (None without one), wherever it may sit.

    Raises a ValueError when there are several, or when one sits where other
    transformations see the gradients before it (see the module docstring).
    """
    found = [
        (path, node)
        for path, node in jax.tree_util.tree_flatten_with_path(opt_state, is_leaf=_is_scale_state)[0]
        if _is_scale_state(node)
    ]
    if not found:
        return None
    fix = (
        "wrap the whole optimizer once instead, e.g. train.dynamic_loss_scale(optax.chain(optax.clip_by_global_norm(1.0), "
        "optax.adam(1e-3))) or train.dynamic_loss_scale(optax.multi_transform(...))"
    )
    if len(found) > 1:
        where = ", ".join(f"opt_state{jax.tree_util.keystr(p)}" for p, _ in found)
        raise ValueError(
            f"{owner}: the optimizer holds {len(found)} dynamic_loss_scale wrappers (at {where}), but one loss can "
            f"be scaled by one factor only; {fix}"
        )
    path, state = found[0]
    node = opt_state
    for key in path:
        if _container(node, key) is None:
            raise ValueError(
                f"{owner}: dynamic_loss_scale sits at opt_state{jax.tree_util.keystr(path)}, inside "
                f"{_NAMES.get(type(node).__name__, type(node).__name__)}, where other transformations see the scaled gradients before it divides "
                f"them by the scale (or never see them divided): the update would be wrong; {fix}"
            )
        node = _child(node, key)
    return state.scale


def _child(node: Any, key: Any) -> Any:
    if isinstance(key, jax.tree_util.SequenceKey):
        return node[key.idx]
    return getattr(node, key.name)
