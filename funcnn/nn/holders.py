"""Holders for a model's parts: `ModuleList`, `ModuleDict`, `ParameterList`, `ParameterDict`.

Like their torch namesakes they only hold things under the names ``"0"``, ``"1"``, ...
(or the given names), so a model attribute ``layers = nn.ModuleList([...])`` gives
``state_dict`` keys ``layers.0.weight``, ... and ``tokens = nn.ParameterList([...])``
gives ``tokens.0``, ``tokens.1``. They have no forward: the model calls or reads them
through its runner (``run.layers[0](x)``, ``run.tokens[1]``). A plain list (dict) of
modules assigned to a model attribute acts as a `ModuleList` (`ModuleDict`).

Examples:
  >>> import jax
  >>> import funcnn
  >>> from funcnn import nn
  >>> layers = nn.ModuleList([nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)])
  >>> list(funcnn.state_dict(layers.init(jax.random.key(0))))
  ['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .module import Module
from .parameter import Parameter


def check_children(owner: str, children: Mapping[Any, Any], kind: type = Module) -> dict[str, Any]:
    """``children`` as a dict after checking every name and value (modules or parameters)."""
    out: dict[str, Any] = {}
    for name, child in children.items():
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"{owner}: child names must be non-empty strings without '.', got {name!r}")
        if kind is Parameter and not isinstance(child, Parameter):
            child = Parameter(child)  # an initial value, as torch.nn.ParameterList accepts tensors
        if not isinstance(child, kind):
            raise TypeError(
                f"{owner}: child {name!r} must be a funcnn.nn.Module, got {type(child).__name__}; "
                f"wrap plain functions with nn.Lambda(fn)"
            )
        out[name] = child
    return out


class _Holder(Module):
    """Holds named members (``self._children``) and has no forward."""

    _children: dict[str, Any]

    def _members(self) -> dict[str, Any]:
        return self._children

    def __len__(self) -> int:
        return len(self._children)

    def forward(self, run: Any, *inputs: Any, **kwargs: Any) -> Any:
        name = type(self).__name__
        raise TypeError(
            f"{name} holds children for a custom model and has no forward of its own: call them from the "
            f"model's `forward(self, run, x)` as `run.layers[0](x)` (nn.ChildRunner does this), or use "
            f"nn.Sequential to apply them in order"
        )


class ModuleList(_Holder):
    """Children ``"0"``, ``"1"``, ... held for a custom model, like ``torch.nn.ModuleList``.

    Args:
      modules: the children, in order.

    Examples:
      >>> from funcnn import nn
      >>> layers = nn.ModuleList([nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)])
      >>> len(layers), layers[-1]
      (3, Linear(in_features=4, out_features=2, bias=True))
    """

    _kind: type = Module

    def __init__(self, modules: Any = ()) -> None:
        owner = type(self).__name__
        if isinstance(modules, (Module, Parameter, Mapping)) or hasattr(modules, "shape"):
            raise TypeError(
                f"{owner}: expected an iterable of modules, got a {type(modules).__name__}; "
                f"pass a list, e.g. nn.{owner}([item]), or use the dict version for named children"
            )
        self._children = check_children(owner, {str(i): m for i, m in enumerate(modules)}, self._kind)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._children.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._children.values())
        if isinstance(index, slice):
            return type(self)(items[index])
        return items[index]

    def append(self, module: Any) -> ModuleList:
        """Add ``module`` as the next child; returns this list.

        Examples:
          >>> from funcnn import nn
          >>> len(nn.ModuleList().append(nn.ReLU()))
          1
        """
        owner = type(self).__name__
        self._children.update(check_children(owner, {str(len(self._children)): module}, self._kind))
        return self

    def extend(self, modules: Any) -> ModuleList:
        """Append every item of an iterable; returns this list.

        Examples:
          >>> from funcnn import nn
          >>> len(nn.ModuleList().extend([nn.ReLU(), nn.Tanh()]))
          2
        """
        for m in modules:
            self.append(m)
        return self


class ModuleDict(_Holder):
    """Children held by name for a custom model, like ``torch.nn.ModuleDict``.

    Args:
      modules: a mapping ``{name: module}`` or an iterable of ``(name, module)`` pairs.

    Examples:
      >>> from funcnn import nn
      >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "box": nn.Linear(8, 4)})
      >>> list(heads), "cls" in heads, heads["box"]
      (['cls', 'box'], True, Linear(in_features=8, out_features=4, bias=True))
    """

    _kind: type = Module

    def __init__(self, modules: Any = None) -> None:
        owner = type(self).__name__
        if modules is None:
            modules = {}
        if isinstance(modules, (Module, Parameter)) or not hasattr(modules, "__iter__"):
            raise TypeError(
                f"{owner}: expected a mapping of names to modules or (name, module) pairs, "
                f"got a {type(modules).__name__}; e.g. nn.{owner}({{'head': item}})"
            )
        self._children = check_children(owner, dict(modules), self._kind)

    def __getitem__(self, name: str) -> Any:
        if name not in self._children:
            raise KeyError(f"{type(self).__name__} has no child {name!r}; its children are {list(self._children)}")
        return self._children[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._children)

    def __contains__(self, name: object) -> bool:
        return name in self._children

    def keys(self) -> Any:
        """The child names, in order.

        Examples:
          >>> from funcnn import nn
          >>> list(nn.ModuleDict({"a": nn.ReLU()}).keys())
          ['a']
        """
        return self._children.keys()

    def values(self) -> Any:
        """The children, in order.

        Examples:
          >>> from funcnn import nn
          >>> list(nn.ModuleDict({"a": nn.ReLU()}).values())
          [ReLU()]
        """
        return self._children.values()

    def items(self) -> Any:
        """``(name, child)`` pairs, in order.

        Examples:
          >>> from funcnn import nn
          >>> list(nn.ModuleDict({"a": nn.ReLU()}).items())
          [('a', ReLU())]
        """
        return self._children.items()


class ParameterList(ModuleList):
    """Bare parameters ``"0"``, ``"1"``, ... held by a model, like ``torch.nn.ParameterList``.

    Args:
      parameters: `Parameter` s, or initial values (arrays, torch tensors).

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> scales = nn.ParameterList([nn.Parameter(nn.init.ones, (3,)), jnp.zeros(2)])
      >>> {k: v.shape for k, v in scales.init(jax.random.key(0)).items()}
      {'0': (3,), '1': (2,)}
    """

    _kind = Parameter

    def __init__(self, parameters: Any = ()) -> None:
        super().__init__(parameters)

    def extra_repr(self) -> str:
        return "\n".join(f"({name}): {p!r}" for name, p in self._children.items())


class ParameterDict(ModuleDict):
    """Bare parameters held by name, like ``torch.nn.ParameterDict``.

    Args:
      parameters: a mapping ``{name: Parameter or initial value}`` or ``(name, value)`` pairs.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> tokens = nn.ParameterDict({"cls": nn.Parameter(nn.init.zeros, (1, 4))})
      >>> tokens.init(jax.random.key(0))["cls"].shape
      (1, 4)
    """

    _kind = Parameter

    def __init__(self, parameters: Any = None) -> None:
        super().__init__(parameters)

    def extra_repr(self) -> str:
        return "\n".join(f"({name}): {p!r}" for name, p in self._children.items())
