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
import numpy as np

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
    """Initialise each child from its own derived key; omit children without parameters.

    For a custom container's ``init``: child ``i`` gets the ``i``-th key of
    ``_rng.split(key, len(children))``, so results match `Sequential`'s.

    Args:
      children: ``{name: module}`` in order.
      key: a PRNG key.

    Returns:
      ``{name: child params}`` for every child that has parameters.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> params = nn.init_children({"fc": nn.Linear(3, 2), "act": nn.ReLU()}, jax.random.key(0))
      >>> {k: v.shape for k, v in params["fc"].items()}, "act" in params
      ({'weight': (2, 3), 'bias': (2,)}, False)
    """
    keys = _rng.split(key, len(children))
    params: Params = {}
    for i, (name, child) in enumerate(children.items()):
        p = child.init(keys[i])
        if p:
            params[name] = p
    return params


def init_children_state(children: Mapping[str, Module]) -> State:
    """Collect each child's buffers; omit children without buffers.

    Args:
      children: ``{name: module}`` in order.

    Returns:
      ``{name: child state}`` for every child that has buffers.

    Examples:
      >>> from funcnn import nn
      >>> state = nn.init_children_state({"bn": nn.BatchNorm1d(4), "fc": nn.Linear(4, 2)})
      >>> {k: v.shape for k, v in state["bn"].items()}
      {'running_mean': (4,), 'running_var': (4,), 'num_batches_tracked': ()}
    """
    return {name: s for name, child in children.items() if (s := child.init_state())}


class _Composite(Module):
    """A module whose parameters and buffers are exactly its children's (``self._children``).

    Subclasses set ``self._children`` and implement ``apply_with_state``; ``forward``
    runs it without buffers.
    """

    _children: dict[str, Module]

    def children(self) -> Mapping[str, Module]:
        return self._children

    @property
    def has_state(self) -> bool:
        return any(c.has_state for c in self._children.values())

    def init(self, key: jax.Array) -> Params:
        return init_children(self._children, key)

    def init_state(self) -> State:
        return init_children_state(self._children)

    def forward(self, params: Params, input: Any, *, key: jax.Array | None = None, train: bool = False) -> Any:
        return self.apply_with_state(params, {}, input, key=key, train=train)[0]


class Sequential(_Composite):
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

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._children.values())

    def __getitem__(self, index: int | slice | str) -> Module:
        """A child by position or name; a slice is a `Sequential` keeping the children's names."""
        if isinstance(index, str):
            if index not in self._children:
                raise KeyError(f"Sequential: no child named {index!r}; children are {list(self._children)}")
            return self._children[index]
        items = list(self._children.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Sequential: indices must be integers, slices or child names, got {type(index).__name__}")
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential: index {index} is out of range for {len(items)} children")
        return items[index][1]

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


# ----------------------------------------------------------------------------------
# Containers for hand-written models (`ModuleList`, `ModuleDict`), composition
# (`Residual`, `Parallel`), and `ChildRunner`, which calls the children of a custom
# model while threading their parameters, buffers and keys.


def _parse_children(owner: str, modules: tuple[Any, ...], named: Mapping[str, Any]) -> dict[str, Module]:
    """Children given positionally (``"0"``, ``"1"``, ...), by keyword, or as one mapping."""
    if len(modules) == 1 and isinstance(modules[0], Mapping):
        if named:
            raise TypeError(f"{owner}: pass either a mapping of children or keyword children, not both")
        children = dict(modules[0])
    elif modules and named:
        raise TypeError(f"{owner}: pass children either positionally or by name, not both")
    elif named:
        children = dict(named)
    else:
        children = {str(i): m for i, m in enumerate(modules)}
    return _check_children(owner, children)


class _ChildHolder(_Composite):
    """A module that only holds children: parameters and buffers, but no forward."""

    def __len__(self) -> int:
        return len(self._children)

    def _no_forward(self) -> TypeError:
        name = type(self).__name__
        return TypeError(
            f"{name} holds children for a custom model and has no forward of its own: call its children from "
            f"the model's `apply_with_state`, e.g. `run = nn.ChildRunner(self, params, state, key=key, train=train)` "
            f"then `h = run('layers.0', x)`; or use nn.Sequential to apply them in order"
        )

    def apply(self, params: Params, *inputs: Any, key: Any = None, train: bool = False, **kwargs: Any) -> Any:
        raise self._no_forward()

    def forward(self, params: Params, *inputs: Any, key: Any = None, train: bool = False, **kwargs: Any) -> Any:
        raise self._no_forward()

    def apply_with_state(
        self, params: Params, state: State, *inputs: Any, key: Any = None, train: bool = False, **kwargs: Any
    ) -> tuple[Any, State]:
        raise self._no_forward()


class ModuleList(_ChildHolder):
    """Children ``"0"``, ``"1"``, ... held for a custom model, like ``torch.nn.ModuleList``.

    Parameters and buffers of child ``i`` live under ``params[str(i)]`` /
    ``state[str(i)]`` (children without any contribute no key), so a model attribute
    ``layers = nn.ModuleList([...])`` gives ``state_dict`` keys ``layers.0.weight``, ...
    exactly as in PyTorch. There is no forward: the model calls the children itself
    (see `ChildRunner`).

    Args:
      modules: the children, in order.

    Examples:
      >>> import jax
      >>> import funcnn
      >>> from funcnn import nn
      >>> layers = nn.ModuleList([nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)])
      >>> list(funcnn.state_dict(layers.init(jax.random.key(0))))
      ['0.weight', '0.bias', '2.weight', '2.bias']
      >>> len(layers), layers[-1]
      (3, Linear(in_features=4, out_features=2, bias=True))
    """

    def __init__(self, modules: Any = ()) -> None:
        if isinstance(modules, (Module, Mapping)):
            raise TypeError(
                f"ModuleList: expected an iterable of modules, got a {type(modules).__name__}; "
                f"pass a list, e.g. nn.ModuleList([layer]), or use nn.ModuleDict for named children"
            )
        self._children = _check_children("ModuleList", {str(i): m for i, m in enumerate(modules)})

    def __iter__(self) -> Iterator[Module]:
        return iter(self._children.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._children.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` as the next child; returns this list."""
        self._children.update(_check_children("ModuleList", {str(len(self._children)): module}))
        return self

    def extend(self, modules: Any) -> "ModuleList":
        """Append every module of an iterable; returns this list."""
        for m in modules:
            self.append(m)
        return self


class ModuleDict(_ChildHolder):
    """Children held by name for a custom model, like ``torch.nn.ModuleDict``.

    Parameters and buffers of child ``name`` live under ``params[name]`` /
    ``state[name]``, in insertion order. There is no forward (see `ChildRunner`).

    Args:
      modules: a mapping ``{name: module}`` or an iterable of ``(name, module)`` pairs.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "box": nn.Linear(8, 4)})
      >>> list(heads), "cls" in heads, heads["box"]
      (['cls', 'box'], True, Linear(in_features=8, out_features=4, bias=True))
    """

    def __init__(self, modules: Any = None) -> None:
        if modules is None:
            modules = {}
        if isinstance(modules, Module) or not hasattr(modules, "__iter__"):
            raise TypeError(
                f"ModuleDict: expected a mapping of names to modules or (name, module) pairs, "
                f"got a {type(modules).__name__}; e.g. nn.ModuleDict({{'head': layer}})"
            )
        self._children = _check_children("ModuleDict", dict(modules))

    def __getitem__(self, name: str) -> Module:
        if name not in self._children:
            raise KeyError(f"ModuleDict has no child {name!r}; its children are {list(self._children)}")
        return self._children[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._children)

    def __contains__(self, name: object) -> bool:
        return name in self._children

    def keys(self) -> Any:
        """The child names, in order."""
        return self._children.keys()

    def values(self) -> Any:
        """The children, in order."""
        return self._children.values()

    def items(self) -> Any:
        """``(name, child)`` pairs, in order."""
        return self._children.items()


class ChildRunner:
    """Calls the children of a hand-written model, threading parameters, buffers and keys.

    The recommended custom model is a plain `Module` subclass that

    * names its sub-modules in ``children()``, with the attribute names of the PyTorch
      module it mirrors (so ``state_dict`` keys match: ``conv.weight``, ``bn.running_mean``);
    * builds ``init`` / ``init_state`` / ``has_state`` from those children with
      `init_children` and `init_children_state` (each child gets its own key);
    * calls the children in ``apply_with_state`` (or ``forward`` when no child keeps
      buffers) through a runner, which passes each child its parameters, buffers,
      ``train`` flag and key, and collects the new buffers.

    Keys follow the container rule (`funcnn.nn.module.child_key`): the child at
    position ``i`` of ``children()`` receives ``fold_in(key, i)``, folded once per level
    of a dotted path (``run("layers.1", x)`` reaches into a `ModuleList` or
    `ModuleDict`); the n-th repeated call of one child (n = 1, 2, ...) folds in ``n``
    once more, so a dropout layer used twice draws two masks. ``run.state`` has the
    structure of the ``state`` given: children not called keep their buffers.

    Args:
      module: the model (its ``children()`` are used) or a mapping of children.
      params: the model's parameter tree.
      state: the model's buffers (``{}`` or None for none).
      key: the model's PRNG key, or None.
      train: training mode, passed to every child.

    Examples:
      A residual MLP block with batch norm, equal to the torch module with attributes
      ``fc`` and ``bn`` and ``forward(x) = x + relu(bn(fc(x)))``:

      >>> import jax, jax.numpy as jnp
      >>> import funcnn
      >>> from funcnn import nn
      >>> class Block(nn.Module):
      ...     def __init__(self, features):
      ...         self.fc, self.bn = nn.Linear(features, features), nn.BatchNorm1d(features)
      ...     def children(self):
      ...         return {"fc": self.fc, "bn": self.bn}
      ...     def init(self, key):
      ...         return nn.init_children(self.children(), key)
      ...     def init_state(self):
      ...         return nn.init_children_state(self.children())
      ...     @property
      ...     def has_state(self):
      ...         return True
      ...     def apply_with_state(self, params, state, x, *, key=None, train=False):
      ...         run = nn.ChildRunner(self, params, state, key=key, train=train)
      ...         return x + jax.nn.relu(run("bn", run("fc", x))), run.state
      >>> block = Block(4)
      >>> params, state = block.init(jax.random.key(0)), block.init_state()
      >>> list(funcnn.state_dict(params, state))
      ['fc.weight', 'fc.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']
      >>> y, state = block.apply_with_state(params, state, jnp.ones((8, 4)), train=True)
      >>> y.shape, int(state["bn"]["num_batches_tracked"])
      ((8, 4), 1)
    """

    def __init__(
        self,
        module: Module | Mapping[str, Module],
        params: Params,
        state: State | None = None,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> None:
        self._children = dict(module.children() if isinstance(module, Module) else module)
        self._owner = type(module).__name__ if isinstance(module, Module) else "ChildRunner"
        self._params, self._state = params, dict(state or {})
        self._key, self._train = key, train
        self._calls: dict[str, int] = {}

    @property
    def state(self) -> State:
        """The buffers after the calls so far, with the structure of the ``state`` given."""
        return self._state

    def __call__(self, name: str, *inputs: Any, **kwargs: Any) -> Any:
        """Run child ``name`` (a dotted path for nested holders) on ``inputs``; returns its output."""
        parts = name.split(".") if isinstance(name, str) else [name]
        children, key, module = self._children, self._key, Module()
        params, state = self._params, self._state
        for depth, part in enumerate(parts):
            if not isinstance(part, str) or part not in children:
                where = ".".join(parts[:depth]) or self._owner
                raise ValueError(
                    f"{self._owner}: no child {name!r} to run: {where} has children {list(children)}"
                )
            key = child_key(key, list(children).index(part))
            module = children[part]
            params, state = params.get(part, {}), state.get(part, {})
            children = dict(module.children())
        repeat = self._calls.get(name, 0)
        self._calls[name] = repeat + 1
        if repeat:
            key = child_key(key, repeat)
        out, new_state = module.apply_with_state(params, state, *inputs, key=key, train=self._train, **kwargs)
        if new_state or state:
            self._state = _set_path(self._state, parts, new_state)
        return out


def _set_path(tree: State, parts: list[str], value: State) -> State:
    """A copy of ``tree`` with ``tree[p0][p1]... = value`` (copying only along the path)."""
    out = dict(tree)
    if len(parts) == 1:
        out[parts[0]] = value
    else:
        out[parts[0]] = _set_path(tree.get(parts[0], {}), parts[1:], value)
    return out


class Residual(_Composite):
    """``module(x) + shortcut(x)``, with the identity as the default shortcut.

    Parameters live under ``params["module"]`` and ``params["shortcut"]``, so the
    ``state_dict`` keys are ``module.*`` and ``shortcut.*``: those of this PyTorch
    module, which a user would write by hand::

        class Residual(torch.nn.Module):
            def __init__(self, module, shortcut=None):
                super().__init__()
                self.module, self.shortcut = module, shortcut
            def forward(self, x):
                return self.module(x) + (x if self.shortcut is None else self.shortcut(x))

    A ResNet basic block is ``Sequential(Residual(Sequential(conv, bn, relu, conv, bn),
    shortcut=Sequential(conv1x1, bn)), ReLU())``. Keys: ``module`` gets
    ``fold_in(key, 0)``, ``shortcut`` ``fold_in(key, 1)``.

    Args:
      module: the residual branch.
      shortcut: the skip branch; ``None`` is the identity.

    Shapes: the two branches must give the same shape.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> block = nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh()))
      >>> params = block.init(jax.random.key(0))
      >>> list(params), block.apply(params, jnp.ones((2, 4))).shape
      (['module'], (2, 4))
    """

    def __init__(self, module: Module, shortcut: Module | None = None) -> None:
        children = {"module": module} if shortcut is None else {"module": module, "shortcut": shortcut}
        self._children = _check_children("Residual", children)
        self.module, self.shortcut = module, shortcut

    def apply_with_state(
        self, params: Params, state: State, input: Any, *, key: jax.Array | None = None, train: bool = False
    ) -> tuple[Any, State]:
        run = ChildRunner(self._children, params, state, key=key, train=train)
        y = run("module", input)
        skip = input if self.shortcut is None else run("shortcut", input)
        ys, ss = tuple(jax.numpy.shape(y)), tuple(jax.numpy.shape(skip))
        if ys != ss:
            fix = "give a shortcut that maps the input to the module's output shape"
            raise ValueError(
                f"Residual: the module's output has shape {ys} but the shortcut's has shape {ss} "
                f"(input shape {tuple(jax.numpy.shape(input))}); {fix}, e.g. a 1x1 convolution with stride"
            )
        return y + skip, run.state


_COMBINE = ("tuple", "sum", "cat")


class Parallel(_Composite):
    """Applies every child to the same input and combines the outputs.

    Args:
      *modules: children named ``"0"``, ``"1"``, ...; or one mapping of names.
      combine: ``"tuple"`` (the outputs as a tuple, in order), ``"sum"`` (elementwise
        sum; equal shapes), ``"cat"`` (concatenated along ``dim``), or a callable taking
        the tuple of outputs.
      dim: the concatenation axis for ``combine="cat"`` (required there; e.g. 1 for
        NCHW channels).
      **named: children named by keyword (``combine`` and ``dim`` are reserved).

    Parameters of child ``name`` live under ``params[name]``, as in a PyTorch module
    with those child attributes (or a ``ModuleList`` for ``"0"``, ``"1"``, ...). Child
    ``i`` receives ``fold_in(key, i)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> branches = nn.Parallel(nn.Linear(3, 2), nn.Linear(3, 5), combine="cat", dim=-1)
      >>> branches.apply(branches.init(jax.random.key(0)), jnp.ones((4, 3))).shape
      (4, 7)
    """

    def __init__(self, *modules: Any, combine: Any = "tuple", dim: int | None = None, **named: Module) -> None:
        self._children = _parse_children("Parallel", modules, named)
        if not self._children:
            raise ValueError("Parallel: expected at least one child module, got none")
        if not callable(combine) and combine not in _COMBINE:
            raise ValueError(f"Parallel: `combine` must be one of {list(_COMBINE)} or a callable, got {combine!r}")
        if combine == "cat" and dim is None:
            raise ValueError("Parallel: combine='cat' needs the concatenation axis, e.g. `dim=1` for NCHW channels")
        if dim is not None and combine != "cat":
            raise ValueError(f"Parallel: `dim` (={dim}) only applies to combine='cat', got combine={combine!r}")
        self.combine, self.dim = combine, dim

    def extra_repr(self) -> str:
        combine = repr(self.combine)
        if callable(self.combine):
            combine = getattr(self.combine, "__name__", combine)
        return f"combine={combine}" + (f", dim={self.dim}" if self.dim is not None else "")

    def apply_with_state(
        self, params: Params, state: State, input: Any, *, key: jax.Array | None = None, train: bool = False
    ) -> tuple[Any, State]:
        run = ChildRunner(self._children, params, state, key=key, train=train)
        outs = tuple(run(name, input) for name in self._children)
        return self._combine(outs), run.state

    def _combine(self, outs: tuple[Any, ...]) -> Any:
        if callable(self.combine):
            return self.combine(outs)
        if self.combine == "tuple":
            return outs
        shapes = [tuple(jax.numpy.shape(o)) for o in outs]
        if self.combine == "sum":
            if len(set(shapes)) != 1:
                raise ValueError(
                    f"Parallel(combine='sum'): expected the children's outputs to have one shape, got {shapes}"
                )
            total = outs[0]
            for o in outs[1:]:
                total = total + o
            return total
        ranks = {len(s) for s in shapes}
        dim = int(self.dim)  # set: __init__ requires `dim` with combine='cat'
        ok = len(ranks) == 1 and -len(shapes[0]) <= dim < len(shapes[0])
        if ok:
            axis = dim % len(shapes[0])
            ok = len({s[:axis] + s[axis + 1 :] for s in shapes}) == 1
        if not ok:
            raise ValueError(
                f"Parallel(combine='cat', dim={dim}): expected outputs of one rank that agree on every axis but "
                f"{dim}, got shapes {shapes}"
            )
        return jax.numpy.concatenate(outs, axis=dim)
