"""`Tied`: parameters shared between layers (``decoder.weight = encoder.weight`` in PyTorch).

PyTorch ties a weight by assigning one ``Parameter`` to two modules; its
``state_dict()`` then reports the tensor under both names, ``parameters()`` yields it
once, and its gradient is the sum of both uses. funcnn says the same with a wrapper:

    model = nn.Tied(RNNModel(...), {"decoder.weight": "encoder.weight"})

* ``model.init(key)`` stores the shared array once, under the source key
  (``params["encoder"]["weight"]``); the alias (``decoder.weight``) is not in
  ``params``. So the optimizer sees one leaf, trains it once with the summed gradient,
  and ``make_train_step``'s buffer donation never meets the same buffer twice.
* ``model.apply``/``apply_with_state`` fill every alias from its source, then run the
  wrapped module on the full tree (`Tied.expand`).
* ``funcnn.state_dict(params, state, model=model)`` reports the array under both
  names, as PyTorch does, so ``torch_module.load_state_dict(..., strict=True)`` accepts
  it; ``funcnn.load_state_dict(model, torch_module.state_dict())`` accepts both keys
  (checking they hold equal values) and ``funcnn.checkpoint.save_weights(..., model=
  model)``/``load_weights`` do the same through a file.

Keys are dotted ``state_dict`` names of the wrapped module. Put `Tied` outermost (or
inside containers that list their children), so `tied_keys` finds it.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn
  >>> from funcnn import nn
  >>> inner = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Tanh(), nn.Linear(4, 4))
  >>> model = nn.Tied(inner, {"2.weight": "0.weight"})
  >>> params = model.init(jax.random.key(0))
  >>> {k: sorted(v) for k, v in params.items()}
  {'0': ['weight'], '2': ['bias']}
  >>> model.apply(params, jnp.ones((3, 4))).shape
  (3, 4)
  >>> list(funcnn.state_dict(params, model=model))
  ['0.weight', '2.weight', '2.bias']
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import jax

from .module import Module, Params, State
from .utils.convert_parameters import init_shapes

__all__ = ["Tied", "tied_keys"]


def _flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in tree.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, Mapping):
            out.update(_flat(value, path))
        else:
            out[path] = value
    return out


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


class Tied(Module):
    """Wraps ``module`` so that each alias parameter is its source parameter, stored once.

    Args:
      module: any funcnn module.
      ties: ``{alias: source}`` dotted parameter keys of ``module`` (e.g.
        ``{"decoder.weight": "encoder.weight"}``); each pair must have the same shape
        and dtype. A source cannot itself be an alias.

    Params: ``module``'s, less every alias key (a sub-dict left empty vanishes).
    State: ``module``'s.

    ``apply(params, *inputs, **kwargs)`` is ``module.apply(self.expand(params), ...)``.

    Raises:
      TypeError: ``module`` is not a Module or ``ties`` is not a mapping of strings.
      ValueError: a key is not a parameter of ``module``, a source is an alias, or the
        shapes or dtypes of a pair differ.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> model = nn.Tied(nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10)), {"1.weight": "0.weight"})
      >>> params = model.init(jax.random.key(0))
      >>> params["0"]["weight"].shape, sorted(params["1"])
      ((10, 4), ['bias'])
    """

    def __init__(self, module: Module, ties: Mapping[str, str]) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Tied: `module` must be a funcnn.nn.Module, got {type(module).__name__}")
        if not isinstance(ties, Mapping) or not all(isinstance(a, str) and isinstance(s, str) for a, s in ties.items()):
            raise TypeError(
                f"Tied: `ties` must map alias keys to source keys, both dotted strings, got {ties!r}; "
                f"e.g. {{'decoder.weight': 'encoder.weight'}}"
            )
        shapes = init_shapes(module)  # in init's order (eval_shape's output alone would sort the keys)
        order = list(shapes)
        for alias, source in ties.items():
            for what, k in (("alias", alias), ("source", source)):
                if k not in shapes:
                    raise ValueError(
                        f"Tied: {what} {k!r} is not a parameter of {type(module).__name__}, whose parameters "
                        f"are {order}; use their dotted state_dict keys"
                    )
            if source in ties or alias == source:
                raise ValueError(
                    f"Tied: source {source!r} of alias {alias!r} is itself an alias; tie every alias to the "
                    f"one key that stores the array"
                )
            a, s = shapes[alias], shapes[source]
            if (a.shape, a.dtype) != (s.shape, s.dtype):
                raise ValueError(
                    f"Tied: alias {alias!r} has shape {a.shape} and dtype {a.dtype}, but its source "
                    f"{source!r} has shape {s.shape} and dtype {s.dtype}; only identical parameters can be tied"
                )
        self.module = module
        self.ties = dict(ties)
        self._order = order

    # ------------------------------------------------------------------ contract
    def init(self, key: jax.Array) -> Params:
        flat = _flat(self.module.init(key))
        return _nest({k: v for k, v in flat.items() if k not in self.ties})

    def init_state(self) -> State:
        return self.module.init_state()

    @property
    def has_state(self) -> bool:
        return self.module.has_state

    def expand(self, params: Params) -> Params:
        """The wrapped module's full parameter tree: every alias filled from its source.

        Args:
          params: this module's params (each shared array once).

        Returns:
          The tree ``module.apply`` takes, in ``module.init``'s key order; an alias
          leaf is the very same array as its source.

        Examples:
          >>> import jax
          >>> from funcnn import nn
          >>> model = nn.Tied(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), {"1.bias": "0.bias"})
          >>> full = model.expand(model.init(jax.random.key(0)))
          >>> full["1"]["bias"] is full["0"]["bias"]
          True
        """
        flat = _flat(params)
        out: dict[str, Any] = {}
        for k in self._order:
            if k in self.ties:
                out[k] = flat.get(self.ties[k])
            elif k in flat:
                out[k] = flat[k]
        out.update((k, v) for k, v in flat.items() if k not in out)
        return _nest(out)

    def forward(
        self, params: Params, *inputs: Any, key: jax.Array | None = None, train: bool = False, **kwargs: Any
    ) -> Any:
        return self.module.apply(self.expand(params), *inputs, key=key, train=train, **kwargs)

    def apply_with_state(
        self,
        params: Params,
        state: State,
        *inputs: Any,
        key: jax.Array | None = None,
        train: bool = False,
        **kwargs: Any,
    ) -> tuple[Any, State]:
        return self.module.apply_with_state(self.expand(params), state, *inputs, key=key, train=train, **kwargs)

    # ----------------------------------------------------------------- structure
    def children(self) -> Mapping[str, Module]:
        # Transparent: the wrapped module's children sit at the same keys.
        return self.module.children()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, m in self.module.named_modules(prefix):
            if m is not self.module:
                yield name, m

    def __repr__(self) -> str:
        inner = repr(self.module).replace("\n", "\n  ")
        ties = ", ".join(f"{a} -> {s}" for a, s in self.ties.items())
        return f"Tied(\n  {inner}\n  ties: {ties}\n)"


def tied_keys(model: Module) -> dict[str, str]:
    """Every ``{alias: source}`` of a model, as full dotted keys (from each `Tied` in it).

    Args:
      model: any funcnn module.

    Returns:
      ``{}`` when nothing is tied.

    Examples:
      >>> from funcnn import nn
      >>> model = nn.Sequential(enc=nn.Tied(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), {"1.weight": "0.weight"}))
      >>> nn.tied_keys(model)
      {'enc.1.weight': 'enc.0.weight'}
    """
    out: dict[str, str] = {}
    for name, m in model.named_modules():
        if isinstance(m, Tied):
            pre = f"{name}." if name else ""
            out.update({pre + a: pre + s for a, s in m.ties.items()})
    return out


def _replace(tree: Mapping[str, Any], parts: list[str], fn: Any) -> dict[str, Any]:
    """A copy of ``tree`` with the sub-tree at ``parts`` replaced by ``fn(sub-tree)`` (if present)."""
    head, *rest = parts
    if head not in tree:
        return dict(tree)
    return {**tree, head: _replace(tree[head], rest, fn) if rest else fn(tree[head])}


def expand_tied(model: Module, params: Params) -> Params:
    """``params`` of ``model`` with every alias of every `Tied` in it filled in (outermost first)."""
    for name, m in model.named_modules():
        if isinstance(m, Tied):
            params = m.expand(params) if not name else _replace(params, name.split("."), m.expand)
    return params
