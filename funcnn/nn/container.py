"""`Sequential`: children applied in order, with PyTorch's ``state_dict`` naming.

Parameters and buffers of child ``name`` live under ``params[name]`` and
``state[name]``; children without parameters contribute no key, exactly as in
``torch.nn.Sequential.state_dict()``. Children are named ``"0"``, ``"1"``, ... when
given positionally, or by keyword (``Sequential(hidden=..., relu=...)``) or by a
mapping (``Sequential(OrderedDict(...))``).

Keys: when ``key`` is given, child number ``i`` (counting every child, in order)
receives ``jax.random.fold_in(key, i)``, so every dropout layer draws its own mask.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
  >>> params = model.init(jax.random.key(0))
  >>> sorted(params)
  ['hidden', 'output']
  >>> model.apply(params, jnp.ones((5, 3))).shape
  (5, 1)
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import jax

from .. import _rng
from .module import Module, Params, State, child_key


def _check_children(owner: str, children: Mapping[str, Any]) -> dict[str, Module]:
    out: dict[str, Module] = {}
    for name, child in children.items():
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"{owner}: child names must be non-empty strings without '.', got {name!r}")
        if not isinstance(child, Module):
            raise TypeError(
                f"{owner}: child {name!r} must be a funcnn.nn.Module, got {type(child).__name__}; "
                f"wrap plain functions with nn.Lambda(fn)"
            )
        out[name] = child
    return out


def init_children(children: Mapping[str, Module], key: jax.Array) -> Params:
    """Initialise each child from its own derived key; omit children without parameters."""
    keys = _rng.split(key, len(children))
    params: Params = {}
    for i, (name, child) in enumerate(children.items()):
        p = child.init(keys[i])
        if p:
            params[name] = p
    return params


def init_children_state(children: Mapping[str, Module]) -> State:
    """Collect each child's buffers; omit children without buffers."""
    return {name: s for name, child in children.items() if (s := child.init_state())}


class Sequential(Module):
    """Applies children in order: ``y = c_n(...c_1(c_0(x)))``.

    Args:
      *modules: children named ``"0"``, ``"1"``, ...; or a single mapping of names.
      **named: children named by keyword, in the order given.

    Shapes: whatever the first child takes to whatever the last child returns.
    """

    def __init__(self, *modules: Module | Mapping[str, Module], **named: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            if named:
                raise TypeError("Sequential: pass either a mapping of children or keyword children, not both")
            children = dict(modules[0])
        elif modules and named:
            raise TypeError("Sequential: pass children either positionally or by name, not both")
        elif named:
            children = dict(named)
        else:
            children = {str(i): m for i, m in enumerate(modules)}
        self._children = _check_children("Sequential", children)

    def children(self) -> Mapping[str, Module]:
        return self._children

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._children.values())

    def __getitem__(self, index: int | slice | str) -> Module:
        if isinstance(index, str):
            return self._children[index]
        items = list(self._children.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[index][1]

    @property
    def has_state(self) -> bool:
        return any(c.has_state for c in self._children.values())

    def init(self, key: jax.Array) -> Params:
        return init_children(self._children, key)

    def init_state(self) -> State:
        return init_children_state(self._children)

    def forward(self, params: Params, input: Any, *, key: jax.Array | None = None, train: bool = False) -> Any:
        return self.apply_with_state(params, {}, input, key=key, train=train)[0]

    def apply_with_state(
        self,
        params: Params,
        state: State,
        input: Any,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> tuple[Any, State]:
        new_state: State = {}
        x = input
        for i, (name, child) in enumerate(self._children.items()):
            x, s = child.apply_with_state(
                params.get(name, {}), state.get(name, {}), x, key=child_key(key, i), train=train
            )
            if s:
                new_state[name] = s
        return x, new_state


class Lambda(Module):
    """Wraps a parameter-free function ``fn(x) -> y`` as a module (e.g. a reshape).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Lambda(lambda x: x * 2).apply({}, jnp.ones(2)).tolist()
      [2.0, 2.0]
    """

    def __init__(self, fn: Any) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))

    def forward(self, params: Params, input: Any, *, key: jax.Array | None = None, train: bool = False) -> Any:
        return self.fn(input)
