"""A parameter tree as one flat vector and back, as ``torch.nn.utils.parameters_to_vector``.

The order is PyTorch's ``module.parameters()`` order, which is the order of the keys of
``state_dict()`` (buffers left out). Pass ``model=`` to get it for sure: it is the
order in which ``model.init`` creates the parameters. Without a model the insertion
order of the nested ``params`` dict is used; that is PyTorch's for a tree straight from
``init``, but JAX rebuilds dicts with sorted keys (``jax.tree.map``, an optax update,
``jit`` outputs), after which ``bias`` comes before ``weight``. A tied parameter
(`funcnn.nn.Tied`) is stored once and appears once, as in PyTorch.

Examples:
  >>> import jax
  >>> from funcnn import nn
  >>> model = nn.Linear(3, 2)
  >>> params = model.init(jax.random.key(0))
  >>> vec = nn.utils.parameters_to_vector(params, model=model)
  >>> vec.shape
  (8,)
  >>> back = nn.utils.vector_to_parameters(vec, params, model=model)
  >>> bool((back["weight"] == params["weight"]).all())
  True
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import shape_of
from ..module import Module

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def init_shapes(model: Module) -> dict[str, jax.ShapeDtypeStruct]:
    """``{dotted key: shape and dtype}`` of ``model.init``'s parameters, in the order ``init`` creates them.

    ``jax.eval_shape`` runs ``init`` without computing anything; its own output would
    come back with sorted keys, so the order is read inside the traced call.
    """
    shapes: dict[str, jax.ShapeDtypeStruct] = {}

    def record(key: jax.Array) -> Any:
        p = model.init(key)
        shapes.update((path, jax.ShapeDtypeStruct(np.shape(v), v.dtype)) for path, v in _leaves("init_shapes", p))
        return p

    jax.eval_shape(record, jax.random.key(0))
    return shapes


def init_order(model: Module) -> list[str]:
    """The dotted keys of ``model.init``'s parameters in the order ``init`` creates them."""
    return list(init_shapes(model))


def _ordered(owner: str, params: Any, model: Module | None) -> list[tuple[str, Any]]:
    leaves = _leaves(owner, params)
    if model is None:
        return leaves
    found = dict(leaves)
    order = init_order(model)
    if set(order) != set(found):
        raise ValueError(
            f"{owner}: `params` do not belong to {type(model).__name__}: its parameters are {order}, got "
            f"{list(found)}; pass the model whose init made them"
        )
    return [(k, found[k]) for k in order]


def _leaves(owner: str, params: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, leaf)`` in insertion order; ``None`` leaves (frozen) are skipped."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{owner}: expected `params` as the nested dict of arrays from `init`, got "
            f"{type(params).__name__}; pass model.init(key) or a tree of the same form"
        )
    out: list[tuple[str, Any]] = []
    for name, value in params.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, Mapping):
            out.extend(_leaves(owner, value, path))
        elif value is not None:
            out.append((path, value))
    return out


def parameters_to_vector(params: Mapping[str, Any], *, model: Module | None = None) -> jax.Array:
    """Flatten every parameter, in ``state_dict`` order, into one vector.

    Args:
      params: a nested dict of arrays (``None`` leaves, i.e. frozen ones, are skipped).
      model: the module ``params`` belong to, whose ``init`` gives PyTorch's order;
        without it, the dict's insertion order (see the module docstring).

    Returns:
      ``(P,)`` with ``P`` the total number of entries, in the leaves' promoted dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.utils.parameters_to_vector({"weight": jnp.ones((2, 2)), "bias": jnp.zeros(2)}).tolist()
      [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    leaves = [v for _, v in _ordered("parameters_to_vector", params, model)]
    if not leaves:
        return jnp.zeros((0,), jnp.float32)
    return jnp.concatenate([jnp.ravel(v) for v in leaves])


def vector_to_parameters(
    vec: jax.typing.ArrayLike, params: Mapping[str, Any], *, model: Module | None = None
) -> dict[str, Any]:
    """Cut a vector into a tree shaped like ``params``, in ``state_dict`` order.

    PyTorch's ``vector_to_parameters`` overwrites the parameters in place; this returns
    a new tree and leaves ``params`` alone. Each leaf keeps the dtype of its
    counterpart in ``params``.

    Args:
      vec: ``(P,)``, ``P`` being the number of entries of ``params``.
      params: the tree that gives the structure, shapes and dtypes.
      model: as in `parameters_to_vector` (pass the same).

    Returns:
      A nested dict with ``params``'s keys (``None`` leaves stay ``None``).

    Raises:
      ValueError: ``vec`` is not 1-D or has the wrong length, or ``params`` do not
        belong to ``model``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> like = {"weight": jnp.zeros((2, 1)), "bias": jnp.zeros(1)}
      >>> tree = nn.utils.vector_to_parameters(jnp.arange(3.0), like)
      >>> tree["weight"].tolist(), tree["bias"].tolist()
      ([[0.0], [1.0]], [2.0])
    """
    owner = "vector_to_parameters"
    leaves = _ordered(owner, params, model)
    total = sum(int(np.prod(shape_of(v))) for _, v in leaves)
    if shape_of(vec) != (total,):
        raise ValueError(
            f"{owner}: expected a 1-D `vec` of length {total} (the number of parameter entries), got shape "
            f"{shape_of(vec)}; make it with parameters_to_vector(params) of the same model"
        )
    vec = jnp.asarray(vec)
    values: dict[str, Any] = {}
    start = 0
    for path, leaf in leaves:
        size = int(np.prod(shape_of(leaf)))
        values[path] = vec[start : start + size].reshape(shape_of(leaf)).astype(jnp.result_type(leaf))
        start += size

    def rebuild(tree: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in tree.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            out[name] = rebuild(value, path) if isinstance(value, Mapping) else values.get(path)
        return out

    return rebuild(params, "")
