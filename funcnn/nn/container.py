"""`Sequential`, `Residual`, `Parallel` and `Lambda`: models composed without a class.

Parameters and buffers of child ``name`` live under ``params[name]`` and
``state[name]``; children without parameters contribute no key, exactly as in
``torch.nn.Sequential.state_dict()``. Children are named ``"0"``, ``"1"``, ... when
given positionally, or by keyword (``Sequential(hidden=..., relu=...)``) or by a
mapping (``Sequential(OrderedDict(...))``). Each container is itself an attribute-style
`Module`: its ``forward(self, run, x)`` calls the children through the runner, and
everything else (``init``, ``init_state``, ``has_state``) is derived from them.

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

from .holders import ModuleDict as ModuleDict
from .holders import ModuleList as ModuleList
from .holders import check_children
from .module import Module
from .module import init_children as init_children
from .module import init_children_state as init_children_state
from .runner import ChildRunner as ChildRunner


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
    return check_children(owner, children)


class Sequential(Module):
    """Applies children in order: ``y = c_n(...c_1(c_0(x)))``.

    Args:
      *modules: children named ``"0"``, ``"1"``, ...; or a single mapping of names.
      **named: children named by keyword, in the order given.

    Shapes: whatever the first child takes to whatever the last child returns.
    """

    def __init__(self, *modules: Module | Mapping[str, Module], **named: Module) -> None:
        self._children = _parse_children("Sequential", modules, named)

    def _members(self) -> dict[str, Any]:
        return self._children

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

    def forward(self, run: ChildRunner, input: Any) -> Any:
        """Each child on the previous one's output.

        Examples:
          >>> import jax.numpy as jnp
          >>> from funcnn import nn
          >>> nn.Sequential(nn.ReLU(), nn.Tanh()).apply({}, jnp.zeros(2)).tolist()
          [0.0, 0.0]
        """
        for name in self._children:
            input = run(name, input)
        return input


class Lambda(Module):
    """Wraps a parameter-free function ``fn(x) -> y`` as a module (e.g. a reshape).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import nn
      >>> nn.Lambda(lambda x: x * 2).apply({}, jnp.ones(2)).tolist()
      [2.0, 2.0]
    """

    _any_input = True  # fn decides what it accepts

    def __init__(self, fn: Any) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))

    def forward(self, params: dict[str, Any], input: Any, *, key: jax.Array | None = None, train: bool = False) -> Any:
        return self.fn(input)


class Residual(Module):
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

    Keys: ``module`` gets ``fold_in(key, 0)``, ``shortcut`` ``fold_in(key, 1)``.

    Use it for quick compositions. To load weights of an existing PyTorch model, write
    the block as that model does, with its attribute names: a ``Residual`` of a
    ``Sequential`` names torchvision's ``layer1.0.conv1.weight``
    ``layer1.0.0.module.0.weight`` instead. The attribute style gives torchvision's
    keys in a few lines (``examples/resnet.py`` loads torchvision-layout weights)::

        class BasicBlock(nn.Module):
            def __init__(self, cin, cout, stride=1):
                self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.relu = nn.ReLU()
                self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.downsample = None  # or Sequential(Conv2d(cin, cout, 1, stride), BatchNorm2d(cout))

            def forward(self, run, x):
                out = run.relu(run.bn1(run.conv1(x)))
                out = run.bn2(run.conv2(out))
                return run.relu(out + (x if self.downsample is None else run.downsample(x)))

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
        check_children("Residual", {"module": module} if shortcut is None else {"module": module, "shortcut": shortcut})
        self.module, self.shortcut = module, shortcut

    def forward(self, run: ChildRunner, input: Any) -> Any:
        """``module(input) + shortcut(input)``.

        Examples:
          >>> import jax.numpy as jnp
          >>> from funcnn import nn
          >>> nn.Residual(nn.ReLU()).apply({}, jnp.array([-1.0, 2.0])).tolist()
          [-1.0, 4.0]
        """
        y = run.module(input)
        skip = input if self.shortcut is None else run.shortcut(input)
        ys, ss = tuple(jax.numpy.shape(y)), tuple(jax.numpy.shape(skip))
        if ys != ss:
            fix = "give a shortcut that maps the input to the module's output shape"
            raise ValueError(
                f"Residual: the module's output has shape {ys} but the shortcut's has shape {ss} "
                f"(input shape {tuple(jax.numpy.shape(input))}); {fix}, e.g. a 1x1 convolution with stride"
            )
        return y + skip


_COMBINE = ("tuple", "sum", "cat")


class Parallel(Module):
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

    def _members(self) -> dict[str, Any]:
        return self._children

    def forward(self, run: ChildRunner, input: Any) -> Any:
        """Every child on ``input``, combined.

        Examples:
          >>> import jax.numpy as jnp
          >>> from funcnn import nn
          >>> nn.Parallel(nn.ReLU(), nn.Tanh(), combine="sum").apply({}, jnp.zeros(2)).tolist()
          [0.0, 0.0]
        """
        return self._combine(tuple(run(name, input) for name in self._children))

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
