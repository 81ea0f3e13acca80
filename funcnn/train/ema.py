"""An exponential moving average (EMA) of the weights, kept in the optimizer state.

``with_ema(optimizer, decay)`` wraps any optax optimizer: after each update it moves
an average of the new parameters, ``ema += (1 - decay) * (params - ema)``, started
at the parameters after the first update, as ``torch.optim.swa_utils.AveragedModel``
with ``get_ema_multi_avg_fn(decay)`` does when ``update_parameters`` follows every
``optimizer.step()``. Buffers (BatchNorm statistics) are not averaged, as in
``AveragedModel``'s default.

Kept in the optimizer state, the average runs inside the compiled step (fused epochs
included), is checkpointed and resumed bit for bit, and composes with the rest of
optax (put `funcnn.train.dynamic_loss_scale` around it, and it inside
``optax.MultiSteps`` to average once per accumulated update). `fit` finds it: with a
``val_loader`` it also evaluates the EMA weights each epoch (``val_ema_loss``,
``val_ema_<metric>`` in the history). `ema_params` reads the weights out.

Examples:
  >>> import jax, jax.numpy as jnp, optax
  >>> from funcnn import train
  >>> opt = train.with_ema(optax.sgd(1.0), decay=0.5)
  >>> params = {"w": jnp.zeros(2)}
  >>> state = opt.init(params)
  >>> for g in (1.0, 1.0):  # params go 0 -> -1 -> -2
  ...     updates, state = opt.update({"w": jnp.full(2, g)}, state, params)
  ...     params = optax.apply_updates(params, updates)
  >>> train.ema_params(state, params)["w"].tolist()  # -1, then -1 + 0.5 * (-2 - -1)
  [-1.5, -1.5]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class EMAState(NamedTuple):
    """State of `with_ema`: the inner optimizer's state, the average, and the updates averaged so far."""

    inner: Any
    ema: Any
    count: jax.Array


def with_ema(optimizer: optax.GradientTransformation, decay: float = 0.999) -> optax.GradientTransformation:
    """Wrap ``optimizer`` so that its state also keeps an EMA of the parameters.

    Args:
      optimizer: any optax optimizer.
      decay: the average's decay in ``[0, 1)``; 0.999 averages over about the last
        1,000 steps.

    Returns:
      an optax transformation whose state is an `EMAState` (``ema`` a tree shaped
      like the parameters, ``count`` an int32 of shape ``()``). Its ``update`` needs
      ``params``, as every funcnn train step passes them.

    Raises:
      ValueError: ``decay`` is outside ``[0, 1)``.
      TypeError: ``optimizer`` is not an optax optimizer.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> from funcnn import train
      >>> state = train.with_ema(optax.adam(1e-3), decay=0.99).init({"w": jnp.ones(3)})
      >>> int(state.count), state.ema["w"].shape
      (0, (3,))
    """
    if isinstance(optimizer, optax.MultiSteps):
        optimizer = optimizer.gradient_transformation()
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"with_ema: expected an optax optimizer such as optax.adam(1e-3), got {type(optimizer).__name__}"
        )
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
        raise ValueError(f"with_ema: `decay` must be a number in [0, 1), e.g. 0.999, got {decay!r}")

    def init(params: Any) -> EMAState:
        return EMAState(optimizer.init(params), jax.tree.map(jnp.copy, params), jnp.zeros((), jnp.int32))

    def update(grads: Any, state: EMAState, params: Any = None) -> tuple[Any, EMAState]:
        if params is None:
            raise ValueError("with_ema: update needs `params` to average them; call opt.update(grads, state, params)")
        updates, inner = optimizer.update(grads, state.inner, params)
        new = optax.apply_updates(params, updates)
        first = state.count == 0

        def move(avg: jax.Array, p: jax.Array) -> jax.Array:
            step = (1 - decay) * (p - avg)  # torch's lerp: avg + weight * (p - avg)
            return jnp.where(first, p, avg + step.astype(avg.dtype))

        ema = jax.tree.map(move, state.ema, new)
        return updates, EMAState(inner, ema, state.count + 1)

    return optax.GradientTransformation(init, update)


def _is_ema(node: Any) -> bool:
    return isinstance(node, EMAState)


def find_ema(opt_state: Any) -> Any:
    """The `EMAState` inside ``opt_state``, or None."""
    for node in jax.tree.leaves(opt_state, is_leaf=_is_ema):
        if _is_ema(node):
            return node
    return None


def ema_params(opt_state: Any, params: Any) -> Any:
    """The EMA weights kept by `with_ema` in ``opt_state`` (a `TrainState`'s, or an optimizer's).

    Frozen parameters (``trainable=``) have no average: their value comes from ``params``.

    Args:
      opt_state: the optimizer state, or a `funcnn.train.TrainState` (its
        ``opt_state`` is used).
      params: the current parameters, for the structure and frozen leaves.

    Returns:
      a tree like ``params`` holding the averaged weights.

    Raises:
      ValueError: the optimizer was not wrapped in `with_ema`.

    Examples:
      >>> import jax, optax
      >>> from funcnn import nn, train
      >>> model = nn.Linear(2, 1)
      >>> ts = train.TrainState.create(model, train.with_ema(optax.sgd(0.1)), jax.random.key(0))
      >>> train.ema_params(ts, ts.params)["weight"].shape
      (1, 2)
    """
    state = find_ema(getattr(opt_state, "opt_state", opt_state))
    if state is None:
        raise ValueError(
            "ema_params: the optimizer state holds no EMA of the weights; build the optimizer with "
            "train.with_ema(optimizer, decay=0.999)"
        )
    return jax.tree.map(lambda p, e: p if e is None else e, params, state.ema, is_leaf=lambda x: x is None)
