"""The `Module` contract: a layer is a pair of pure functions over plain pytrees.

Every module offers

* ``init(key) -> params``: a nested dict of arrays whose dotted keys and shapes equal
  the equivalent ``torch.nn`` module's ``state_dict()`` (buffers excluded).
* ``init_state() -> state``: the buffers (BatchNorm running statistics, persistent
  constant buffers) under the same keys; ``{}`` for modules without buffers.
* ``apply(params, *inputs, key=None, train=False, **kwargs) -> y``: the forward pass,
  following the PyTorch layer's ``forward``. Pure: safe under ``jit``, ``grad`` and
  ``vmap``.
* ``apply_with_state(params, state, *inputs, key=None, train=False, **kwargs) ->
  (y, new_state)``: the same, threading buffers. Generic code (training loops) uses it.

**Writing a model: the attribute style.** Assign child modules (and `Parameter` /
`Buffer` arrays) as attributes in ``__init__`` and write ``forward(self, run, x)``;
everything else is derived::

    class Block(nn.Module):
        def __init__(self, c):
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        def forward(self, run, x):
            return jax.nn.relu(run.bn1(run.conv1(x)) + x)

* The children are the attributes holding a `Module` (or a non-empty list/tuple of
  modules, which acts as an `nn.ModuleList`, or a dict of them, an `nn.ModuleDict`),
  in assignment order (``vars(self)``, Python's insertion order). Names starting with
  ``_`` are private and not children. So ``params`` keys are ``conv1.weight``,
  ``bn1.running_mean``, ... exactly as in the torch module with those attributes.
* ``init`` gives member ``i`` (the `Parameter` s and children, in order) the key
  ``split(key, n)[i]``; ``init_state`` collects persistent buffers and the children's
  state; ``has_state`` is true when a child keeps running statistics; ``apply`` and
  ``apply_with_state`` call ``forward``. Constant buffers never make a model stateful.
* ``forward``'s first argument, which must be named ``run``, is a `ChildRunner`: the
  one helper that runs a child with its parameters, buffers, key (``fold_in(key, i)``
  for child ``i``) and the ``train`` flag, and collects new buffers. ``run.fc(x)``,
  ``run.layers[0](x)``, ``run.cls_token`` (a `Parameter`'s array), ``run.train``.
  The runner is passed explicitly: no hidden state, no metaclass.

**The explicit form** stays: a layer may override ``init`` (and ``init_state``,
``has_state``) and write ``forward(self, params, x, *, key=None, train=False)`` from
`funcnn.nn.functional` ops, or ``apply_with_state`` when it updates buffers. Built-in
layers are written this way.

**Checks at the entry.** ``apply`` and the derived ``apply_with_state`` check, at trace
time (so for free under ``jit``), that ``params`` has this model's keys and shapes
(`funcnn.nn.check_params`; dtypes are free, so `MixedPrecision` and ``vmap`` over
stacked params work), that ``key`` is a PRNG key, and convert torch tensors among the
inputs. Children called through the runner are not checked again. Each module runs in
a ``jax.named_scope`` named after its attribute (``layer1/0/conv1``), so profiles and
HLO name the layer every operation came from.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from funcnn import nn
    >>> class MLP(nn.Module):
    ...     def __init__(self):
    ...         self.hidden, self.output = nn.Linear(3, 8), nn.Linear(8, 1)
    ...     def forward(self, run, x):
    ...         return run.output(jax.nn.relu(run.hidden(x)))
    >>> model = MLP()
    >>> params = model.init(jax.random.key(0))
    >>> list(params), model.apply(params, jnp.ones((4, 3))).shape
    (['hidden', 'output'], (4, 1))
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import jax

from .. import _rng
from ._params_check import check_call
from .parameter import Buffer, Parameter
from .runner import ChildRunner, child_key

Params = dict[str, Any]
State = dict[str, Any]

__all__ = ["Module", "Params", "State", "check_train_key", "child_key", "init_children", "init_children_state"]


def _holder(value: Any) -> Any:
    """A plain list/tuple (dict) of modules as an `nn.ModuleList` (`nn.ModuleDict`), else None."""
    from .holders import ModuleDict, ModuleList  # the holders are modules themselves

    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value):
        return ModuleList(value)
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and isinstance(v, Module) for k, v in value.items())
    ):
        return ModuleDict(value)
    return None


class Module:
    """Base class of every funcnn layer, container and model. Holds configuration only.

    See the module docstring for the two ways to write one.
    """

    # ----------------------------------------------------------------- structure
    def _members(self) -> dict[str, Any]:
        """Children, `Parameter` s and `Buffer` s, in attribute order (containers override)."""
        out: dict[str, Any] = {}
        holders = self.__dict__.get("_holders", {})
        for name, value in list(vars(self).items()):  # a new holder is cached in vars(self)
            if name.startswith("_"):
                continue
            if isinstance(value, (Module, Parameter, Buffer)):
                out[name] = value
            elif isinstance(value, (list, tuple, dict)):
                snapshot = tuple(value.items()) if isinstance(value, dict) else tuple(value)
                cached = holders.get(name)
                if cached is not None and cached[0] is value and cached[1] == snapshot:
                    out[name] = cached[2]  # the same wrapper while the list is unchanged
                elif (wrapped := _holder(value)) is not None:
                    holders = {**holders, name: (value, snapshot, wrapped)}
                    self.__dict__["_holders"] = holders
                    out[name] = wrapped
        return out

    def _arrays(self) -> dict[str, Parameter | Buffer]:
        """The `Parameter` s and `Buffer` s this module holds itself, by name."""
        return {n: m for n, m in self._members().items() if isinstance(m, (Parameter, Buffer))}

    def children(self) -> Mapping[str, Module]:
        """Named direct children, in order: the attributes holding modules.

        Returns:
          ``{name: module}``; empty for a leaf layer.

        Examples:
          >>> from funcnn import nn
          >>> list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).children())
          ['0', '1']
        """
        return {n: m for n, m in self._members().items() if isinstance(m, Module)}

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for this module and every descendant, pre-order.

        Examples:
          >>> from funcnn import nn
          >>> [name for name, _ in nn.Sequential(nn.Linear(2, 2)).named_modules()]
          ['', '0']
        """
        yield prefix, self
        for name, child in self.children().items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    # ------------------------------------------------------------------ contract
    def init(self, key: jax.Array) -> Params:
        """Create the parameters from a PRNG key: the `Parameter` s, then the children's.

        Args:
          key: a PRNG key; member ``i`` (parameters and children in attribute order)
            receives ``split(key, n)[i]``.

        Returns:
          The parameter tree (``{}`` when there are none).

        Examples:
          >>> import jax
          >>> from funcnn import nn
          >>> nn.ReLU().init(jax.random.key(0))
          {}
        """
        members = {n: m for n, m in self._members().items() if not isinstance(m, Buffer)}
        if not members:
            return {}
        own = {n: m for n, m in members.items() if isinstance(m, Parameter)}
        keys = _rng.split(key, len(members))
        drawn = {n: m.initialize(keys[i]) if n in own else m.init(keys[i]) for i, (n, m) in enumerate(members.items())}
        return {**{n: drawn[n] for n in own}, **{n: p for n, p in drawn.items() if n not in own and p}}

    def init_state(self) -> State:
        """Create the buffers: persistent `Buffer` s, then the children's (``{}`` for none).

        Examples:
          >>> from funcnn import nn
          >>> nn.Linear(2, 2).init_state()
          {}
        """
        own = {n: b.value for n, b in self._arrays().items() if isinstance(b, Buffer) and b.persistent}
        return {**own, **init_children_state(self.children())}

    @property
    def has_state(self) -> bool:
        """Whether a child keeps buffers that change as it runs, so `apply_with_state` is needed."""
        return any(c.has_state for c in self.children().values())

    def _takes_runner(self) -> bool:
        code = getattr(type(self).forward, "__code__", None)
        return code is not None and code.co_argcount >= 2 and code.co_varnames[1] == "run"

    def forward(
        self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any
    ) -> Any:
        """The forward pass; subclasses override it (with ``run`` or ``params`` first).

        Examples:
          >>> import jax.numpy as jnp
          >>> from funcnn import nn
          >>> nn.ReLU().forward({}, jnp.array([-1.0, 2.0])).tolist()
          [0.0, 2.0]
        """
        name = type(self).__name__
        if type(self).apply_with_state is not Module.apply_with_state:
            buffers = self.init_state()
            if not buffers:
                return self.apply_with_state(params, {}, *inputs, key=key, train=train, **kwargs)[0]
            raise TypeError(
                f"{name} implements apply_with_state() and has buffers {list(buffers)}, but its `has_state` is "
                f"False, so `apply` cannot know whether they change: add `has_state = True` to the class and "
                f"call `y, state = model.apply_with_state(params, state, x)`"
            )
        raise NotImplementedError(
            f"{name} must implement forward() or apply_with_state(): e.g. `def forward(self, run, x)` calling "
            f"its children as `run.name(x)`, or `def forward(self, params, x, *, key=None, train=False)`"
        )

    def _stateful_where(self) -> str:
        """`` (in '1', 'layer1.0.bn1', ...)``: the descendants whose buffers change; empty for itself."""
        paths = [
            repr(path)
            for path, m in self.named_modules()
            if path and m.has_state and not any(c.has_state for c in m.children().values())
        ]
        return f" (in {', '.join(paths[:3])}{', ...' if len(paths) > 3 else ''})" if paths else ""

    def apply(
        self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any
    ) -> Any:
        """Run the forward pass: ``y = module.apply(params, x)``.

        Args:
          params: the tree returned by `init` (or `funcnn.load_state_dict`).
          *inputs: the inputs of the PyTorch layer's ``forward`` (JAX or NumPy arrays,
            or torch tensors, which are converted).
          key: PRNG key, needed when ``train=True`` and the module samples (dropout).
          train: training behaviour for dropout and batch norm.
          **kwargs: further keyword arguments of the PyTorch layer's ``forward``.

        Returns:
          What the PyTorch layer's ``forward`` returns.

        Raises:
          TypeError: for a model whose buffers change as it runs (use
            `apply_with_state`), params that are not a dict, or a key that is not a
            PRNG key.
          ValueError: params whose keys or shapes are not this model's.

        Examples:
          >>> import jax, jax.numpy as jnp
          >>> from funcnn import nn
          >>> layer = nn.Linear(3, 2)
          >>> layer.apply(layer.init(jax.random.key(0)), jnp.ones((4, 3))).shape
          (4, 2)
        """
        inputs, kwargs = check_call(self, params, inputs, kwargs, key, train)
        if self.has_state:
            raise TypeError(
                f"{type(self).__name__} has buffers that change as it runs{self._stateful_where()}, "
                f"so `apply` cannot return them: use "
                f"`y, state = model.apply_with_state(params, state, x, train={train})` "
                f"with `state = model.init_state()`"
            )
        with jax.named_scope(type(self).__name__):
            if self._takes_runner():
                return self._apply_with_state(params, {}, inputs, kwargs, key, train)[0]
            return self.forward(params, *inputs, key=key, train=train, **kwargs)

    def apply_with_state(
        self,
        params: Params,
        state: State,
        *inputs: Any,
        key: jax.Array | None = None,
        train: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        """Run the forward pass and return ``(y, new_state)``.

        Args:
          params: the tree returned by `init`.
          state: the tree returned by `init_state` (or by the previous call).
          *inputs: as for `apply`.
          key: as for `apply`.
          train: as for `apply`; ``True`` updates running statistics.
          **kwargs: as for `apply`.

        Returns:
          ``(y, new_state)``; a module without changing buffers returns ``state``.

        Examples:
          >>> import jax, jax.numpy as jnp
          >>> from funcnn import nn
          >>> bn = nn.Sequential(nn.BatchNorm1d(2))
          >>> y, state = bn.apply_with_state(bn.init(jax.random.key(0)), bn.init_state(), jnp.ones((3, 2)), train=True)
          >>> int(state["0"]["num_batches_tracked"])
          1
        """
        inputs, kwargs = check_call(self, params, inputs, kwargs, key, train)
        with jax.named_scope(type(self).__name__):
            return self._apply_with_state(params, state, inputs, kwargs, key, train)

    def _apply_with_state(
        self, params: Params, state: State, inputs: tuple[Any, ...], kwargs: dict[str, Any], key: Any, train: bool
    ) -> tuple[Any, State]:
        """The derived forward pass, unchecked: ``forward`` with a runner, or with ``params``."""
        if self._takes_runner():
            run = ChildRunner(self, params, state, key=key, train=train)
            return self.forward(run, *inputs, **kwargs), run.state
        return self.forward(params, *inputs, key=key, train=train, **kwargs), state

    def _run(
        self,
        params: Params,
        state: State,
        inputs: tuple[Any, ...],
        kwargs: dict[str, Any],
        key: Any,
        train: bool,
        scope: str,
    ) -> tuple[Any, State]:
        """How a parent runs this module: no second check, inside a scope named after it."""
        with jax.named_scope(scope):
            if type(self).apply_with_state is Module.apply_with_state:
                return self._apply_with_state(params, state, inputs, kwargs, key, train)
            return self.apply_with_state(params, state, *inputs, key=key, train=train, **kwargs)

    # ------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Name(...)``, as in PyTorch.

        Examples:
          >>> from funcnn import nn
          >>> nn.Linear(3, 2).extra_repr()
          'in_features=3, out_features=2, bias=True'
        """
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: a one-line extra_repr stays inline when there are no
        # children; otherwise every line (extra_repr's, then children's) is indented.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.children().items()]
        lines = extra_lines + child_lines
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        else:
            body = ""
        return f"{type(self).__name__}({body})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} is a pure function pair, not a stateful object: call "
            f"`params = model.init(jax.random.key(0))` once, then `y = model.apply(params, x)`; inside a "
            f"model's `forward(self, run, x)`, call a child as `run.name(x)`"
        )


def init_children(children: Mapping[str, Module], key: jax.Array) -> Params:
    """Initialise each child from its own derived key; omit children without parameters.

    For a hand-written ``init``: child ``i`` gets the ``i``-th key of
    ``split(key, len(children))``, the rule every container follows.

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
    return {name: p for i, (name, child) in enumerate(children.items()) if (p := child.init(keys[i]))}


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


def check_train_key(owner: str, key: jax.Array | None, train: bool) -> None:
    """Raise the standard error when a sampling layer runs in training mode without a key.

    Examples:
      >>> from funcnn.nn.module import check_train_key
      >>> check_train_key("Dropout(p=0.5)", None, train=False)
    """
    if train and key is None:
        raise ValueError(
            f"{owner}: train=True samples random numbers and needs a PRNG key, got key=None; "
            f"call `model.apply(params, x, key=jax.random.key(step), train=True)` "
            f"(a new key each step)"
        )
