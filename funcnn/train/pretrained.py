"""Pretrained weights: start a new model from a ``state_dict`` whose architecture may differ.

`load_pretrained` copies every weight whose name and shape match (funcnn's or
PyTorch's ``state_dict``), initialises the rest, and reports what it did.

The head-swap pattern, with named children (like ``torch.nn.Sequential(OrderedDict(...))``)
and the freezing of `funcnn.train.trainable_mask`::

    def classifier(num_classes):
        return nn.Sequential(features=nn.Sequential(nn.Linear(64, 32), nn.ReLU()),
                             head=nn.Linear(32, num_classes))

    pretrained = funcnn.state_dict(params_10_classes)            # or torch_model.state_dict()
    params, state, report = train.load_pretrained(classifier(3), pretrained, key)
    print(report)                                                # head.* mis-shaped: fresh
    mask = train.trainable_mask(params, exclude="features")       # freeze the backbone
    result = train.fit(classifier(3), optax.adam(1e-3), loader, loss=nn.CrossEntropyLoss(),
                       key=key, params=params, state=state, trainable=mask)

Examples:
  >>> import jax
  >>> import funcnn
  >>> from funcnn import nn, train
  >>> sd = funcnn.state_dict(nn.Linear(4, 8).init(jax.random.key(0)))
  >>> params, state, report = train.load_pretrained(nn.Linear(4, 8), sd, jax.random.key(1))
  >>> report.loaded
  ('weight', 'bias')
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp

from ..nn.module import Module, Params, State
from ..serialization import flatten_dict, to_numpy, unflatten_dict
from .freeze import Selector, _selector, _shown


class LoadReport(NamedTuple):
    """What `load_pretrained` did, by dotted name.

    Attributes:
      loaded: copied from the pretrained weights.
      initialized: given fresh values (missing from the source, mis-shaped, or excluded).
      mismatched: ``"name: pretrained (a, b), model (c, d)"`` for names whose shapes differ.
      excluded: skipped because ``exclude`` selects them.
      unused: in the pretrained weights but not in the model.

    Examples:
      >>> from funcnn import train
      >>> print(train.LoadReport(("a.weight",), ("b.weight",), (), (), ()))
      loaded 1 of 2 weights
      freshly initialised: b.weight
    """

    loaded: tuple[str, ...]
    initialized: tuple[str, ...]
    mismatched: tuple[str, ...]
    excluded: tuple[str, ...]
    unused: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"loaded {len(self.loaded)} of {len(self.loaded) + len(self.initialized)} weights"]
        for title, names in (
            ("freshly initialised", self.initialized),
            ("mis-shaped", self.mismatched),
            ("excluded", self.excluded),
            ("unused pretrained", self.unused),
        ):
            if names:
                lines.append(f"{title}: {('; ' if title == 'mis-shaped' else ', ').join(names)}")
        return "\n".join(lines)


def load_pretrained(
    model: Module, pretrained: Mapping[str, Any], key: jax.Array, *, exclude: Selector = ()
) -> tuple[Params, State, LoadReport]:
    """Start ``model`` from pretrained weights whose architecture may differ (a new head).

    Every parameter and buffer of ``model`` whose dotted name is in ``pretrained`` with
    the same shape is copied (cast to the model's dtype); the rest come from
    ``model.init(key)`` / ``model.init_state()``. Mis-shaped names are not an error:
    they are initialised fresh and listed in the report.

    Args:
      model: the new funcnn model.
      pretrained: a flat ``state_dict`` (``funcnn.state_dict(params, state)``, a
        ``torch_module.state_dict()``, or a loaded safetensors file) or a nested
        funcnn parameter tree. Values: NumPy, JAX or torch arrays.
      key: PRNG key for the fresh parameters.
      exclude: names never copied (e.g. ``"head.*"``), as in `trainable_mask`.

    Returns:
      ``(params, state, report)``: trees for ``model.apply_with_state`` and a
      `LoadReport` (``print(report)`` summarises it).

    Raises:
      TypeError: ``pretrained`` is not a mapping.
      ValueError: no weight could be copied at all, or an ``exclude`` pattern
        matches no name of the model.

    Examples:
      >>> import jax
      >>> import funcnn
      >>> from funcnn import nn, train
      >>> old = nn.Sequential(features=nn.Linear(4, 8), head=nn.Linear(8, 10))
      >>> sd = funcnn.state_dict(old.init(jax.random.key(0)))
      >>> new = nn.Sequential(features=nn.Linear(4, 8), head=nn.Linear(8, 3))
      >>> params, state, report = train.load_pretrained(new, sd, jax.random.key(1))
      >>> print(report)
      loaded 2 of 4 weights
      freshly initialised: head.weight, head.bias
      mis-shaped: head.weight: pretrained (10, 8), model (3, 8); head.bias: pretrained (10,), model (3,)
    """
    owner = "load_pretrained"
    if not isinstance(model, Module):
        raise TypeError(f"{owner}: `model` must be a funcnn.nn.Module, got {type(model).__name__}")
    if not isinstance(pretrained, Mapping):
        raise TypeError(
            f"{owner}: `pretrained` must be a state_dict mapping of dotted names to arrays, got "
            f"{type(pretrained).__name__}; pass funcnn.state_dict(params, state) or torch_module.state_dict()"
        )
    source = flatten_dict(pretrained)
    params, state = model.init(key), model.init_state()
    flat_p, flat_s = flatten_dict(params), flatten_dict(state)
    want = {**flat_p, **flat_s}
    names = list(want)
    excluded_by = _selector(owner, "exclude", exclude, names) if exclude else (lambda n, a: False)
    loaded, fresh, mismatched, excluded = [], [], [], []
    for name, value in want.items():
        if excluded_by(name, value):
            excluded.append(name)
            fresh.append(name)
            continue
        if name not in source:
            fresh.append(name)
            continue
        array = to_numpy(source[name])
        if tuple(array.shape) != tuple(value.shape):
            mismatched.append(f"{name}: pretrained {tuple(array.shape)}, model {tuple(value.shape)}")
            fresh.append(name)
            continue
        new = jnp.asarray(array, dtype=value.dtype)
        (flat_p if name in flat_p else flat_s)[name] = new
        loaded.append(name)
    unused = [n for n in source if n not in want]
    if not loaded:
        raise ValueError(
            f"{owner}: none of the {len(source)} pretrained weights fits {type(model).__name__}: the pretrained "
            f"names are {_shown(list(source))}, the model's are {_shown(names)}"
            + (f"; mis-shaped: {'; '.join(mismatched)}" if mismatched else "")
            + "; load weights of a model with the same layer names (strip prefixes such as 'module.' first)"
        )
    report = LoadReport(tuple(loaded), tuple(fresh), tuple(mismatched), tuple(excluded), tuple(unused))
    return unflatten_dict(flat_p), unflatten_dict(flat_s), report
