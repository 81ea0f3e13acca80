"""What `Module.apply` checks at its entry, at trace time: params, key and inputs.

The expected parameter shapes come from ``jax.eval_shape(module.init, key)``, computed
once per module and cached on it (keyed by the identity of every module in its tree,
so replacing or appending a child recomputes them); comparing them with the given
tree's static shapes costs nothing inside a compiled step. Only shapes and keys are
compared: dtypes are free (mixed precision) and so are batch axes that ``vmap``
removes (stacked ensemble params).
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import numpy as np

from .parameter import as_array


def _owner(module: Any) -> str:
    text = repr(module)
    return text if "\n" not in text and len(text) <= 100 else type(module).__name__


def _shapes(tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: _shapes(v) for k, v in tree.items()}
    return jax.ShapeDtypeStruct(np.shape(tree), getattr(tree, "dtype", np.float32))


def _expected(module: Any) -> Any:
    fingerprint = tuple((path, id(m)) for path, m in module.named_modules())
    cached = module.__dict__.get("_expected_params")
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    box: dict[str, Any] = {}

    def trace() -> Any:  # keeps init's key order (torch's), which eval_shape's sorted output loses
        params = module.init(jax.random.key(0))  # the key, too, stays abstract
        box["tree"] = _shapes(params)
        return params

    try:
        jax.eval_shape(trace)
        tree = box["tree"]
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        tree = None  # a hand-written init that needs concrete values: nothing to compare with
    module.__dict__["_expected_params"] = (fingerprint, tree)
    return tree


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, Mapping):
        return f"a dict with keys {list(value)}"
    shape = getattr(value, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"


def _mismatch(want: Any, got: Any, path: str) -> str | None:
    """The first place where ``got`` differs from the expected tree, or None."""
    where = f"'{path}'" if path else "the top level"
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            return f"at {where}: expected a dict with keys {list(want)}, got {_describe(got)}"
        for name in want:
            if name not in got:
                sub = want[name]
                what = f"shape {tuple(sub.shape)}" if hasattr(sub, "shape") else f"keys {list(sub)}"
                return f"missing key '{path + '.' if path else ''}{name}' (expected {what})"
        for name in got:
            if name not in want:
                return f"unexpected key '{path + '.' if path else ''}{name}' ({_describe(got[name])}); expected keys {list(want)}"
        for name, sub in want.items():
            problem = _mismatch(sub, got[name], f"{path}.{name}" if path else name)
            if problem:
                return problem
        return None
    shape = getattr(got, "shape", None) if got is not None and not isinstance(got, Mapping) else None
    if shape is None and got is not None and not isinstance(got, Mapping):
        shape = np.shape(got)
    if shape is None or tuple(shape) != tuple(want.shape):
        return f"at {where}: expected shape {tuple(want.shape)}, got {_describe(got) if shape is None else f'shape {tuple(shape)}'}"
    return None


def check_params(model: Any, params: Any) -> None:
    """Raise unless ``params`` has exactly ``model``'s keys and shapes (dtypes are free).

    `Module.apply` runs this at its entry; call it yourself to check a tree early.

    Args:
      model: a funcnn module.
      params: a parameter tree.

    Raises:
      TypeError: when ``params`` is not a dict.
      ValueError: naming the first missing, unexpected or mis-shaped key.

    Examples:
      >>> import jax
      >>> from funcnn import nn
      >>> nn.check_params(nn.Linear(3, 4), nn.Linear(3, 4).init(jax.random.key(0)))
      >>> try:
      ...     nn.check_params(nn.Linear(3, 4), nn.Linear(3, 7).init(jax.random.key(0)))
      ... except ValueError as e:
      ...     print(str(e).split(";")[0])
      Linear(in_features=3, out_features=4, bias=True): params do not match this model: at 'weight': expected shape (4, 3), got shape (7, 3)
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{_owner(model)}: expected params as a dict of arrays, got {_describe(params)}; "
            f"create them with `params = model.init(jax.random.key(0))`"
        )
    want = _expected(model)
    problem = None if want is None else _mismatch(want, params, "")
    if problem:
        raise ValueError(
            f"{_owner(model)}: params do not match this model: {problem}; pass the params of this model "
            f"(`model.init(key)`, or `funcnn.load_state_dict(model, state_dict)` for saved weights)"
        )


def check_call(
    module: Any, params: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any], key: Any, train: Any = False
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Check an ``apply`` call's params, key, ``train`` flag and first input; torch tensors become JAX arrays."""
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(
            f"{_owner(module)}: `train` must be True or False, got {type(train).__name__} {train!r}; "
            f"pass train=True for training behaviour (dropout, batch statistics), train=False to evaluate"
        )
    check_params(module, params)
    if key is not None and not hasattr(key, "dtype"):  # arrays of the wrong dtype are the layers' to explain
        example = f"jax.random.key({key})" if isinstance(key, int) else "jax.random.key(step)"
        raise TypeError(
            f"{_owner(module)}: `key` must be a PRNG key, got {type(key).__name__} {key!r}; pass key={example}"
        )
    if inputs and not getattr(module, "_any_input", False):
        first = inputs[0]
        if first is None or isinstance(first, list):
            got = "None" if first is None else "a Python list"
            raise TypeError(
                f"{_owner(module)}: expected an array as input, got {got}; pass an array, e.g. jnp.asarray(x)"
            )
    leaves = jax.tree.leaves((inputs, kwargs))
    if any(hasattr(x, "detach") and not isinstance(x, jax.Array) for x in leaves):
        inputs, kwargs = jax.tree.map(as_array, (inputs, kwargs))
    return inputs, kwargs
