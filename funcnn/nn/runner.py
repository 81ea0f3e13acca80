"""`ChildRunner`: calls a model's children, threading parameters, buffers and keys.

A model written in the attribute style receives a runner as the first argument of its
``forward`` (see `funcnn.nn.Module`); ``run.fc(x)`` (or ``run("fc", x)``) runs child
``fc`` on its own parameters, buffers, key and ``train`` flag, and collects its new
buffers. ``run.layers[0](x)`` and ``for layer in run.layers`` reach into a
`ModuleList` (or a plain list of modules); ``run.heads["cls"](x)`` into a `ModuleDict`;
``run.cls_token`` is the array of a `Parameter` or `Buffer` the model holds.

Keys (`child_key`): the child at position ``i`` of ``children()`` receives
``fold_in(key, i)``, folded once per level of a dotted path; the n-th repeated call of
one child (n = 1, 2, ...) folds in ``n`` once more, so a dropout layer used twice draws
two masks. ``run.key`` is the model's own key (for sampling in ``forward`` itself),
``run.train`` its training flag, ``run.state`` the buffers so far, with the structure
of the ``state`` given (children not called keep theirs). A child named ``key``,
``train`` or ``state`` is reached as ``run("key", x)``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> children = {"fc": nn.Linear(3, 2), "act": nn.Tanh()}
  >>> params = nn.init_children(children, jax.random.key(0))
  >>> run = nn.ChildRunner(children, params)
  >>> run.act(run.fc(jnp.ones((4, 3)))).shape
  (4, 2)
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import jax

from .parameter import Buffer, Parameter


def child_key(key: jax.Array | None, index: int) -> jax.Array | None:
    """The key a container hands to its child number ``index``: ``fold_in(key, index)``.

    This is the documented key-splitting rule: masks differ per layer (different
    ``index``) and per step (the caller passes a new key each step).

    Args:
      key: the container's key, or None.
      index: the child's position.

    Returns:
      ``jax.random.fold_in(key, index)``, or None when ``key`` is None.

    Examples:
      >>> import jax
      >>> from funcnn.nn.module import child_key
      >>> child_key(None, 3) is None
      True
    """
    if key is None:
        return None
    return jax.random.fold_in(key, index)


def _set_path(tree: Mapping[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``tree`` with ``tree[p0][p1]... = value`` (copying only along the path)."""
    out = dict(tree)
    if len(parts) == 1:
        out[parts[0]] = value
    else:
        out[parts[0]] = _set_path(tree.get(parts[0], {}), parts[1:], value)
    return out


class ChildRunner:
    """Runs the children of a model inside its ``forward``; see the module docstring.

    Args:
      module: the model (its ``children()`` are used) or a mapping ``{name: module}``.
      params: the model's parameter tree.
      state: the model's buffers (``{}`` or None for none).
      key: the model's PRNG key, or None.
      train: training mode, passed to every child.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> layers = {"layers": nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])}
      >>> run = nn.ChildRunner(layers, nn.init_children(layers, jax.random.key(0)))
      >>> x = jnp.ones((3, 2))
      >>> for layer in run.layers:
      ...     x = layer(x)
      >>> x.shape, run("layers.1", jnp.ones((3, 2))).shape
      ((3, 1), (3, 1))
    """

    def __init__(
        self,
        module: Any,
        params: Mapping[str, Any],
        state: Mapping[str, Any] | None = None,
        *,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> None:
        is_module = hasattr(module, "named_modules")
        self._module = module if is_module else None
        self._children = dict(module.children() if is_module else module)
        self._owner = type(module).__name__ if is_module else "ChildRunner"
        self._params, self._state = params, dict(state or {})
        self._key, self._train = key, train
        self._calls: dict[str, int] = {}

    @property
    def state(self) -> dict[str, Any]:
        """The buffers after the calls so far, with the structure of the ``state`` given."""
        return self._state

    @property
    def key(self) -> jax.Array | None:
        """The model's own PRNG key (None when none was given)."""
        return self._key

    @property
    def train(self) -> bool:
        """Whether the model runs in training mode."""
        return self._train

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._lookup([name])

    def _fail(self, name: str, where: str, names: list[str]) -> ValueError:
        return ValueError(f"{self._owner}: no child {name!r} to run: {where} has children {names}")

    def _walk(self, parts: list[str]) -> tuple[Any, Any, Any, Any]:
        """``(module, params, state, key)`` of the child at ``parts``."""
        children, key, module = self._children, self._key, None
        params, state = self._params, self._state
        for depth, part in enumerate(parts):
            if not isinstance(part, str) or part not in children:
                where = ".".join(parts[:depth]) or self._owner
                raise self._fail(".".join(map(str, parts)), where, list(children))
            key = child_key(key, list(children).index(part))
            module = children[part]
            params, state = params.get(part, {}), state.get(part, {})
            children = dict(module.children())
        return module, params, state, key

    def _lookup(self, parts: list[str]) -> Any:
        """A callable for a child module; the array for a `Parameter` or `Buffer`."""
        *parents, last = parts
        owner = self._walk(parents)[0] if parents else self._module
        arrays = owner._arrays() if owner is not None else {}
        if last in arrays:
            params, state = self._params, self._state
            for part in parents:
                params, state = params.get(part, {}), state.get(part, {})
            if isinstance(arrays[last], Parameter):
                return params[last]
            buffer: Buffer = arrays[last]
            return state.get(last, buffer.value)
        self._walk(parts)  # raises for an unknown name
        return _Bound(self, parts)

    def __call__(self, name: str, *inputs: Any, **kwargs: Any) -> Any:
        """Run child ``name`` (a dotted path for nested holders) on ``inputs``; returns its output."""
        parts = name.split(".") if isinstance(name, str) else [name]
        module, params, state, key = self._walk(parts)
        repeat = self._calls.get(name, 0)
        self._calls[name] = repeat + 1
        if repeat:
            key = child_key(key, repeat)
        out, new_state = module._run(params, state, inputs, kwargs, key, self._train, parts[-1])
        if new_state or state:
            self._state = _set_path(self._state, parts, new_state)
        return out


class _Bound:
    """A child of a running model: call it, index it (holders), or read its arrays."""

    def __init__(self, runner: ChildRunner, parts: list[str]) -> None:
        self._runner, self._parts = runner, parts

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        return self._runner(".".join(self._parts), *inputs, **kwargs)

    def _names(self) -> list[str]:
        module = self._runner._walk(self._parts)[0]
        return list(module.children()) or list(module._arrays())

    def __getitem__(self, index: int | str) -> Any:
        if not isinstance(index, str):
            index = self._names()[index]
        return self._runner._lookup([*self._parts, index])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._runner._lookup([*self._parts, name])

    def __iter__(self) -> Iterator[Any]:
        return (self[name] for name in self._names())

    def __len__(self) -> int:
        return len(self._names())
