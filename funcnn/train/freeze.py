"""Freezing and parameter groups: select parameters by name, freeze them, give groups their own rates.

Parameters are selected by their dotted ``state_dict`` names (``"features.0.weight"``)
with glob patterns (`fnmatch` rules: ``*`` also crosses dots). A pattern selects a
name when it matches the whole name or the name of a module holding it, so
``"features"``, ``"features.*"`` and ``"features.**"`` all select every parameter
under ``features``. A predicate ``(name, array) -> bool`` selects by anything else
(shape, dtype). A string pattern that selects nothing is an error: it is a typo.

* `trainable_mask` gives a bool tree for ``make_train_step(..., trainable=mask)``,
  ``TrainState.create(..., trainable=mask)`` and ``fit(..., trainable=mask)``. Frozen
  parameters are never differentiated (the gradient is taken with respect to the
  trainable ones only, the frozen ones enter as constants, so XLA computes no
  gradient for them), never updated, and have no optimizer state: the optimizer is
  initialised on `trainable_params`, the parameter tree with ``None`` in place of
  every frozen leaf.
* `param_labels` gives the labels of ``optax.multi_transform`` (per-group learning
  rates) from name patterns.

Starting a new model from pretrained weights is `funcnn.train.load_pretrained`
(in ``pretrained.py``); the two together make the head-swap pattern shown there.

Examples:
  >>> import jax
  >>> from funcnn import nn, train
  >>> model = nn.Sequential(features=nn.Linear(4, 8), relu=nn.ReLU(), head=nn.Linear(8, 2))
  >>> params = model.init(jax.random.key(0))
  >>> train.trainable_mask(params, exclude="features")
  {'features': {'weight': False, 'bias': False}, 'head': {'weight': True, 'bias': True}}
  >>> train.param_labels(params, {"head": "head"}, default="body")["features"]
  {'weight': 'body', 'bias': 'body'}
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable, Mapping, Sequence

import jax

from ..nn.module import Params

Selector = str | Sequence[str] | Callable[[str, Any], bool]

_SHOW = 12  # names listed in an error before "..."


def _map_named(fn: Callable[[str, Any], Any], tree: Any, prefix: str = "") -> Any:
    """Apply ``fn(dotted_name, leaf)`` to every leaf of a nested dict, keeping its key order."""
    if isinstance(tree, Mapping):
        return {k: _map_named(fn, v, f"{prefix}.{k}" if prefix else str(k)) for k, v in tree.items()}
    return fn(prefix, tree)


def _named_leaves(tree: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``[(dotted_name, leaf), ...]`` of a nested dict, in order (``None`` leaves skipped)."""
    if isinstance(tree, Mapping):
        return [x for k, v in tree.items() for x in _named_leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    return [] if tree is None else [(prefix, tree)]


def _shown(names: Sequence[str]) -> str:
    head = ", ".join(repr(n) for n in names[:_SHOW])
    return f"[{head}{', ...' if len(names) > _SHOW else ''}] ({len(names)} names)"


def _matches(name: str, pattern: str) -> bool:
    """Whether ``pattern`` matches ``name`` or the name of a module holding it."""
    parts = name.split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[:i]), pattern) for i in range(len(parts), 0, -1))


def _selector(owner: str, arg: str, select: Selector, names: Sequence[str]) -> Callable[[str, Any], bool]:
    """A predicate from a pattern, a sequence of patterns or a predicate; unmatched patterns raise."""
    if callable(select):
        return select
    patterns = [select] if isinstance(select, str) else select
    if not isinstance(patterns, Sequence) or not all(isinstance(p, str) for p in patterns):
        raise TypeError(
            f"{owner}: `{arg}` must be a glob pattern such as 'features.*', a sequence of patterns, or a "
            f"predicate (name, array) -> bool, got {type(select).__name__} {select!r}"
        )
    for p in patterns:
        if not any(_matches(n, p) for n in names):
            raise ValueError(
                f"{owner}: `{arg}` pattern {p!r} matches no parameter; the names are {_shown(names)}; "
                f"fix the pattern (patterns are globs on dotted state_dict names, e.g. 'features.*')"
            )
    return lambda name, leaf: any(_matches(name, p) for p in patterns)


def trainable_mask(params: Params, include: Selector | None = None, exclude: Selector | None = None) -> Any:
    """Which parameters train: a bool tree with the structure of ``params``.

    A parameter is trainable when ``include`` selects it (None: every parameter) and
    ``exclude`` does not. Patterns are globs on dotted names (see the module
    docstring); a predicate receives ``(name, array)``.

    Args:
      params: the model's parameter tree.
      include: what trains; a pattern, a sequence of patterns, or a predicate.
      exclude: what is frozen among ``include``; same forms.

    Returns:
      a nested dict of Python bools mirroring ``params``.

    Raises:
      ValueError: a pattern matches no parameter.
      TypeError: ``include``/``exclude`` is of another type.

    Examples:
      >>> import jax
      >>> from funcnn import nn, train
      >>> params = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)).init(jax.random.key(0))
      >>> train.trainable_mask(params, include="1.*")
      {'0': {'weight': False, 'bias': False}, '1': {'weight': True, 'bias': True}}
      >>> train.trainable_mask(params, exclude=lambda name, w: name.endswith("bias"))["1"]
      {'weight': True, 'bias': False}
    """
    owner = "trainable_mask"
    names = [n for n, _ in _named_leaves(params)]
    inc = _selector(owner, "include", include, names) if include is not None else (lambda n, a: True)
    exc = _selector(owner, "exclude", exclude, names) if exclude is not None else (lambda n, a: False)
    return _map_named(lambda name, leaf: bool(inc(name, leaf)) and not bool(exc(name, leaf)), params)


def _resolve_mask(owner: str, trainable: Any, params: Params) -> Any:
    """``trainable`` as a full bool tree over ``params``.

    ``trainable`` is a bool tree (or a prefix of ``params``' structure, e.g.
    ``{"0": False, "2": True}``), or anything `trainable_mask` takes as ``include``.
    """
    if trainable is None:
        return jax.tree.map(lambda _: True, params)
    if not isinstance(trainable, Mapping):
        mask = trainable_mask(params, include=trainable)
    else:
        mask = _broadcast(owner, trainable, params, "")
    if not any(jax.tree.leaves(mask)):
        raise ValueError(
            f"{owner}: the `trainable` mask freezes every parameter, so there is nothing to train; "
            f"select at least one parameter, e.g. train.trainable_mask(params, include='head.*')"
        )
    return mask


def _broadcast(owner: str, mask: Any, params: Any, prefix: str) -> Any:
    """A bool (or a bool tree over a prefix of ``params``' dicts) spread over every leaf below it."""
    if not isinstance(mask, Mapping):
        return _map_named(lambda name, leaf: bool(mask), params, prefix)
    if not isinstance(params, Mapping) or set(mask) != set(params):
        where = f"under {prefix!r}" if prefix else "at the top level"
        got = list(params) if isinstance(params, Mapping) else "a parameter"
        raise ValueError(
            f"{owner}: the `trainable` mask does not fit the parameters {where}: the mask has keys {list(mask)}, "
            f"the parameters have {got}; build the mask with train.trainable_mask(params, include=..., exclude=...)"
        )
    return {k: _broadcast(owner, mask[k], v, f"{prefix}.{k}" if prefix else k) for k, v in params.items()}


def trainable_params(params: Params, trainable: Any) -> Params:
    """``params`` with ``None`` in place of every frozen leaf: what the optimizer sees.

    Initialise the optimizer on this view (``optimizer.init(trainable_params(params,
    mask))``) so its state holds entries for trainable leaves only; `TrainState.create`
    does this when given ``trainable=``.

    Args:
      params: the model's parameter tree.
      trainable: a mask from `trainable_mask` (a prefix such as ``{"features":
        False, "head": True}`` is spread over each subtree), or a pattern it takes.

    Returns:
      the tree of ``params`` with ``None`` at every frozen leaf.

    Examples:
      >>> import jax
      >>> from funcnn import nn, train
      >>> params = nn.Linear(2, 1).init(jax.random.key(0))
      >>> train.trainable_params(params, {"weight": False, "bias": True})["weight"] is None
      True
    """
    mask = _resolve_mask("trainable_params", trainable, params)
    return jax.tree.map(lambda m, p: p if m else None, mask, params)


def _partition(mask: Any, params: Params) -> tuple[Params, Params]:
    """``(trainable, frozen)`` views of ``params``: each has ``None`` where the other has the leaf."""
    return (
        jax.tree.map(lambda m, p: p if m else None, mask, params),
        jax.tree.map(lambda m, p: None if m else p, mask, params),
    )


def _combine(mask: Any, trainable: Params, frozen: Params) -> Params:
    """Undo `partition`: the full parameter tree."""
    return jax.tree.map(lambda m, a, b: a if m else b, mask, trainable, frozen)


def param_labels(params: Params, rules: Mapping[str, str], default: str | None = None) -> Any:
    """Labels for ``optax.multi_transform`` from name patterns: per-group learning rates.

    Each parameter gets the label of the first rule (in order) whose pattern selects
    it, else ``default``.

    Args:
      params: the model's parameter tree.
      rules: ``{pattern: label}``, e.g. ``{"head.*": "head"}``.
      default: the label of parameters no rule selects (None: each must be selected).

    Returns:
      a nested dict of labels mirroring ``params``.

    Raises:
      ValueError: a pattern selects nothing, or a parameter gets no label.

    Examples:
      >>> import jax, optax
      >>> from funcnn import nn, train
      >>> params = nn.Sequential(body=nn.Linear(2, 3), head=nn.Linear(3, 1)).init(jax.random.key(0))
      >>> labels = train.param_labels(params, {"head.*": "head"}, default="body")
      >>> labels["head"]
      {'weight': 'head', 'bias': 'head'}
      >>> opt = optax.multi_transform({"head": optax.adam(1e-2), "body": optax.adam(1e-4)}, labels)
    """
    owner = "param_labels"
    if not isinstance(rules, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in rules.items()):
        raise TypeError(
            f"{owner}: `rules` must be a mapping {{pattern: label}} of strings, e.g. {{'head.*': 'head'}}, got {rules!r}"
        )
    leaves = _named_leaves(params)
    names = [n for n, _ in leaves]
    for pattern in rules:
        _selector(owner, "rules", pattern, names)
    unlabelled = []

    def label(name: str, leaf: Any) -> str | None:
        for pattern, lab in rules.items():
            if _matches(name, pattern):
                return lab
        if default is None:
            unlabelled.append(name)
        return default

    labels = _map_named(label, params)
    if unlabelled:
        raise ValueError(
            f"{owner}: no rule selects {_shown(unlabelled)} and there is no `default`; add a rule for them "
            f"or pass default='label'"
        )
    return labels
