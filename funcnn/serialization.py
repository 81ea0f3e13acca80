"""Weights in and out as flat, PyTorch-compatible ``state_dict`` mappings.

``funcnn.state_dict(params, state)`` gives ``{"hidden.weight": ndarray, ...}`` with
exactly the keys and shapes of the equivalent ``torch.nn`` module's ``state_dict()``;
``funcnn.load_state_dict(model, sd)`` checks a mapping against the model and returns
``(params, state)``. Values may be NumPy arrays, JAX arrays or torch tensors.

Examples:
  >>> import jax
  >>> import funcnn
  >>> from funcnn import nn
  >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
  >>> params = model.init(jax.random.key(0))
  >>> sd = funcnn.state_dict(params)
  >>> list(sd)
  ['0.weight', '0.bias', '2.weight', '2.bias']
  >>> params2, state = funcnn.load_state_dict(model, sd)
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ._casting import cast
from .nn.module import Module, Params, State
from .nn.tied import expand_tied, tied_keys


def flatten_dict(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": x}} -> {"a.b": x}``; empty sub-dicts vanish."""
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, Mapping):
            flat.update(flatten_dict(value, path))
        else:
            flat[path] = value
    return flat


def unflatten_dict(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": x} -> {"a": {"b": x}}``."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def _merge(params: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = list(params) + [n for n in state if n not in params]
    nested = [n for n in names if isinstance(params.get(n), Mapping) or isinstance(state.get(n), Mapping)]
    for name in [n for n in names if n not in nested] + nested:  # a module's own arrays, then its children
        p, s = params.get(name), state.get(name)
        if isinstance(p, Mapping) or isinstance(s, Mapping):
            out[name] = _merge(p or {}, s or {})
        else:
            out[name] = p if name in params else s
    return out


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a NumPy array, JAX array, Python number or torch tensor."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy().copy()
    return np.array(value)


def _torch_order(model: Module) -> list[str]:
    """``model``'s ``state_dict`` keys in torch's order: per module (pre-order), its own
    parameters, then its own buffers, then its children's keys."""
    want_p, want_s = _expected(model)
    if tied_keys(model):  # the aliases, in the places the wrapped modules' init gives them
        want_p = flatten_dict(expand_tied(model, unflatten_dict(want_p)))
    owner = {k: k.rpartition(".")[0] for k in [*want_p, *want_s]}
    order: list[str] = []
    for path, _ in model.named_modules():
        order += [k for k in want_p if owner[k] == path] + [k for k in want_s if owner[k] == path]
    return order + [k for k in [*want_p, *want_s] if k not in set(order)]


def state_dict(params: Params, state: State | None = None, *, model: Module | None = None) -> dict[str, np.ndarray]:
    """Flatten ``params`` (and buffers) into a PyTorch-style ``state_dict``.

    Args:
      params: a parameter tree from ``init``.
      state: optional buffers from ``init_state``/``apply_with_state``.
      model: the model the ``params`` belong to. It gives the keys torch's order (each
        module's parameters, its buffers, then its children's; without it the keys follow
        the trees' order, which ``init`` makes torch's but ``jit``, ``grad`` and
        optimizers return sorted), and reports each parameter shared through
        `funcnn.nn.Tied` under every name that holds it, as PyTorch's ``state_dict()`` does.

    Returns:
      ``{dotted_key: numpy array}``, the keys and shapes of ``torch_module.state_dict()``;
      each array keeps its leaf's shape and dtype (bfloat16 stays bfloat16), except
      ``num_batches_tracked``, int64 as in torch.

    Raises:
      TypeError: ``params`` (or ``state``) is not a nested dict, or a leaf is not a
        numeric array or number (naming its dotted key).

    Examples:
      >>> import jax
      >>> import funcnn
      >>> from funcnn import nn
      >>> sd = funcnn.state_dict(nn.Linear(3, 2).init(jax.random.key(0)))
      >>> {k: (v.shape, str(v.dtype)) for k, v in sd.items()}
      {'weight': ((2, 3), 'float32'), 'bias': ((2,), 'float32')}
      >>> model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
      >>> trained = jax.jit(lambda p: p)(model.init(jax.random.key(0)))  # sorted keys
      >>> list(funcnn.state_dict(trained, model.init_state(), model=model))[:4]
      ['0.weight', '0.bias', '1.weight', '1.bias']
    """
    _check_state_dict_args(params, state)
    if model is not None:
        params = expand_tied(model, params)
    flat = flatten_dict(_merge(params, state or {}))
    if model is not None:
        order = _torch_order(model)
        flat = {**{k: flat[k] for k in order if k in flat}, **flat}
    out = {k: to_numpy(v) for k, v in flat.items()}
    for k, v in out.items():
        if k.rpartition(".")[2] == "num_batches_tracked" and np.issubdtype(v.dtype, np.integer):
            out[k] = v.astype(np.int64)  # torch's dtype; JAX without x64 has int32
    return out


def _loadable_value(value: Any, spec: Any) -> tuple[Any, str | None]:
    """``(array of spec's dtype, None)``, or a problem: ``(None, why)`` for a value that does
    not fit spec's dtype (it would be wrapped, truncated or made up), ``(array, why)`` for a
    shape mismatch."""
    try:
        array = to_numpy(value)
    except (TypeError, ValueError):
        return None, f"is a {type(value).__name__}, not an array"
    if tuple(array.shape) != tuple(spec.shape) and array.dtype.kind in "biufc":
        return array, f"expected shape {tuple(spec.shape)}, got {tuple(array.shape)}"
    out, why = cast(array, spec.dtype)
    if out is None:
        return None, why if isinstance(value, np.ndarray) else f"{why} (a {type(value).__name__})"
    if tuple(array.shape) != tuple(spec.shape):
        return array, f"expected shape {tuple(spec.shape)}, got {tuple(array.shape)}"
    return out, None


def _check_state_dict_args(params: Any, state: Any) -> None:
    """`state_dict`'s arguments must be nested mappings whose leaves are numeric arrays or numbers."""
    for name, source, tree in (("params", "model.init", params), ("state", "model.init_state", state)):
        if name == "state" and tree is None:
            continue
        if not isinstance(tree, Mapping):
            raise TypeError(
                f"state_dict: `{name}` must be the nested dict of arrays from {source}, got {type(tree).__name__}; "
                f"pass e.g. funcnn.state_dict(model.init(key))"
            )
        for key, leaf in flatten_dict(tree).items():
            dtype = getattr(leaf, "dtype", None)
            if dtype is None and isinstance(leaf, (bool, int, float, complex)):
                continue
            if dtype is None or np.dtype(dtype).kind not in "biufcV":  # V: bfloat16 and float8
                what = type(leaf).__name__ if dtype is None else f"{type(leaf).__name__} of dtype {dtype}"
                raise TypeError(
                    f"state_dict: `{name}` leaf {key!r} is a {what}, not a numeric array; a state_dict holds "
                    f"arrays only (keep other values elsewhere)"
                )


def _accept_tied(model: Module, state_dict: Mapping[str, Any]) -> Mapping[str, Any]:
    """``state_dict`` with each tied alias key folded into its source key (`funcnn.nn.Tied`).

    PyTorch reports a shared parameter under every name; the two values must agree.
    """
    ties = tied_keys(model)
    if not ties or not any(a in state_dict for a in ties):
        return state_dict
    out = dict(state_dict)
    for alias, source in ties.items():
        if alias not in out:
            continue
        value = out.pop(alias)
        if source not in out:
            out[source] = value
            continue
        a, s = to_numpy(value), to_numpy(out[source])
        if a.shape != s.shape or not np.array_equal(a, s, equal_nan=True):
            diff = (
                f"shapes {a.shape} and {s.shape}"
                if a.shape != s.shape
                else f"largest difference {np.max(np.abs(a - s))}"
            )
            raise ValueError(
                f"load_state_dict for {type(model).__name__}: {alias!r} is tied to {source!r} (stored once), "
                f"but the state_dict holds different values under the two keys ({diff}); load weights saved "
                f"from a model where they are one parameter, or drop the tie"
            )
    return out


def _expected(model: Module) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat ``{key: ShapeDtypeStruct}`` of params and state, in ``init``'s key order."""
    flat: dict[str, dict[str, Any]] = {}

    def trace() -> Any:  # records the trees' insertion order, which eval_shape's sorted output loses
        params, state = model.init(jax.random.key(0)), model.init_state()
        for name, tree in (("params", params), ("state", state)):
            flat[name] = {
                k: jax.ShapeDtypeStruct(jnp.shape(v), jnp.result_type(v)) for k, v in flatten_dict(tree).items()
            }
        return params, state

    jax.eval_shape(trace)
    return flat["params"], flat["state"]


def load_state_dict(
    model: Module,
    state_dict: Mapping[str, Any],
    strict: bool = True,
    *,
    params: Params | None = None,
    state: State | None = None,
) -> tuple[Params, State]:
    """Check a flat ``state_dict`` against ``model`` and build ``(params, state)``.

    Every key's shape is checked; all missing, unexpected and mis-shaped keys are
    reported together in one error. Values are cast to the model's dtypes, and only
    when every value fits: an int outside the model's integer range (e.g. a 64-bit
    ``num_batches_tracked`` into int32), a fraction or NaN into an integer, a finite
    value beyond the largest float, complex values into a real dtype, strings and
    objects (``None``) are refused, by key and value, in the same error.

    Args:
      model: the funcnn module the weights are for.
      state_dict: ``{dotted_key: array}`` (NumPy, JAX or torch values).
      strict: when False, missing keys keep the values of ``params``/``state`` (or a
        fresh ``model.init(jax.random.key(0))``) and unexpected keys are ignored.
        Mis-shaped keys are an error either way.
      params: the parameter values that missing keys keep when ``strict=False``.
      state: the state values that missing keys keep when ``strict=False``.

    Returns:
      ``(params, state)`` trees for ``model.apply_with_state``: each leaf has the shape
      and dtype ``model.init``/``model.init_state`` would give it.

    Raises:
      TypeError: if ``state_dict`` is not a mapping.
      ValueError: naming every missing, unexpected and mis-shaped key and every
        value that does not fit the model's dtype.

    Examples:
      >>> import numpy as np
      >>> import funcnn
      >>> from funcnn import nn
      >>> sd = {"weight": np.ones((2, 3)), "bias": np.zeros(2)}
      >>> params, state = funcnn.load_state_dict(nn.Linear(3, 2), sd)
      >>> params["weight"].shape, params["weight"].dtype, state
      ((2, 3), dtype('float32'), {})
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"load_state_dict: expected a mapping of dotted keys to arrays, got {type(state_dict).__name__}; "
            f"pass torch_module.state_dict() or funcnn.state_dict(params, state)"
        )
    state_dict = _accept_tied(model, state_dict)
    want_p, want_s = _expected(model)
    want = {**want_p, **want_s}
    missing = [k for k in want if k not in state_dict]
    unexpected = [k for k in state_dict if k not in want]
    values: dict[str, Any] = {}
    mismatched: list[str] = []
    unloadable: list[str] = []
    for k, spec in want.items():
        if k not in state_dict:
            continue
        v, why = _loadable_value(state_dict[k], spec)
        if why is not None:
            (unloadable if v is None else mismatched).append(f"{k}: {why}")
            continue
        values[k] = jnp.asarray(v)
    problems = []
    if unloadable:
        problems.append(
            "values that do not fit the model's dtypes (convert them first; 64-bit ints need jax_enable_x64): "
            + "; ".join(unloadable)
        )
    if mismatched:
        problems.append("mis-shaped keys: " + "; ".join(mismatched))
    if strict and missing:
        problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
    if problems:
        fix = "fix: load weights saved from the same architecture" + (
            "" if not strict else ", or pass strict=False to keep missing entries and skip unexpected ones"
        )
        raise ValueError(
            f"load_state_dict for {type(model).__name__}: expected the {len(want)} keys of the model, "
            f"got {len(state_dict)}:\n  " + "\n  ".join(problems) + f"\n{fix}"
        )
    if missing:
        base_p = flatten_dict(params if params is not None else model.init(jax.random.key(0)))
        base_s = flatten_dict(state if state is not None else model.init_state())
        for k in missing:
            values[k] = base_p[k] if k in base_p else base_s[k]
    return (
        unflatten_dict({k: values[k] for k in want_p}),
        unflatten_dict({k: values[k] for k in want_s}),
    )
