"""`summary`: the module tree with each module's output shape and parameter counts.

The tree reads like ``print(torch_model)``; the shapes come from one abstract trace of
``model.apply_with_state`` under ``jax.eval_shape``, so nothing is computed and no
parameters need to exist (they are shape-only unless ``params`` is given).

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
  >>> print(nn.summary(model, jnp.zeros((100, 3))))
  Module                                                         Output shape  Params  Buffers
  --------------------------------------------------------------------------------------------
  Sequential                                                     (100, 1)          51        0
    (hidden): Linear(in_features=3, out_features=10, bias=True)  (100, 10)         40        0
    (relu): ReLU()                                               (100, 10)          0        0
    (output): Linear(in_features=10, out_features=1, bias=True)  (100, 1)          11        0
  --------------------------------------------------------------------------------------------
  Trainable params: 51 (204 B)
  Buffers: 0 (0 B)
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import jax
import numpy as np

from .module import Module

_METHODS = ("forward", "apply_with_state")


def _describe(out: Any) -> str:
    """``(5, 10)`` for an array; ``[a, b]`` for a tuple or list; ``{k: a}`` for a dict."""
    if out is None:
        return "None"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_describe(o) for o in out) + "]"
    if isinstance(out, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in out.items()) + "}"
    shape = getattr(out, "shape", None)
    if shape is None:
        return type(out).__name__
    dtype = np.dtype(getattr(out, "dtype", np.float32)) if not _is_key(out) else None
    suffix = "" if dtype == np.float32 else f" {dtype or 'key'}"
    return f"{tuple(shape)}{suffix}"


def _is_key(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


@contextlib.contextmanager
def _recording(modules: list[Module], records: dict[int, list[Any]]) -> Iterator[None]:
    """Wrap each module's ``forward``/``apply_with_state`` to record its outermost outputs."""
    added: list[tuple[Module, str, Any]] = []
    depth: dict[int, int] = {}

    def wrap(module: Module, name: str) -> Any:
        original = getattr(module, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            depth[id(module)] = depth.get(id(module), 0) + 1
            try:
                out = original(*args, **kwargs)
            finally:
                depth[id(module)] -= 1
            if depth[id(module)] == 0:
                records.setdefault(id(module), []).append(out[0] if name == "apply_with_state" else out)
            return out

        return recorded

    try:
        for module in modules:
            attrs = getattr(module, "__dict__", None)
            if attrs is None:
                continue  # no instance dict (slots): its shapes show as '?'
            for name in _METHODS:
                added.append((module, name, attrs.get(name, _MISSING)))
                attrs[name] = wrap(module, name)
        yield
    finally:
        for module, name, before in reversed(added):
            if before is _MISSING:
                del module.__dict__[name]
            else:
                module.__dict__[name] = before


_MISSING = object()


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": x}} -> {"a.b": x}`` (as `funcnn.serialization.flatten_dict`)."""
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        flat.update(_flatten(value, path) if isinstance(value, dict) else {path: value})
    return flat


def _count(flat: dict[str, Any], path: str) -> tuple[int, int]:
    """(number of elements, bytes) of the leaves under ``path`` (all leaves for the root)."""
    n = b = 0
    for k, v in flat.items():
        if not path or k == path or k.startswith(path + "."):
            size = math.prod(getattr(v, "shape", ()))
            n += size
            b += size * np.dtype(getattr(v, "dtype", np.float32)).itemsize
    return n, b


def _is_array(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, jax.ShapeDtypeStruct))


class Summary(str):
    """The table `summary` returns: a string that shows itself as the table.

    ``print(nn.summary(model, x))`` prints it in a script; as the last expression of a
    notebook cell (or at the REPL) it displays as the table too, not as a quoted string.

    Examples:
      >>> from funcnn.nn.summary import Summary
      >>> Summary("a | b")
      a | b
    """

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(str(self))


def summary(model: Module, *example_inputs: Any, params: Any = None, **kwargs: Any) -> Summary:
    """The module tree of ``model`` with output shapes and parameter counts, as a string.

    One row per module, indented like ``print(torch_model)``: the module (with its
    constructor arguments for a leaf), the shape of its output for ``example_inputs``
    (``[a, b]`` for tuple outputs; ``-`` for modules not called through their own
    ``apply``, such as `ModuleList` holders), and the number of parameter and buffer
    elements in it and its children. The totals follow.

    Args:
      model: any funcnn module.
      *example_inputs: inputs for ``model.apply_with_state``: arrays or
        ``jax.ShapeDtypeStruct`` (nothing is computed; only shapes and dtypes matter).
      params: the parameters, or None for shapes from ``model.init``.
      **kwargs: further arguments of the forward (e.g. ``key_padding_mask=m``,
        ``train=True``, ``key=...``).

    Returns:
      The table, a `Summary`: a ``str`` that displays as the table when it is the
      value of a notebook cell, and that a script prints with ``print``.

    Raises:
      TypeError: ``model`` is not a funcnn module.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> mha = nn.MultiheadAttention(8, 2)
      >>> x = jax.ShapeDtypeStruct((5, 3, 8), jnp.float32)
      >>> print(nn.summary(mha, x, x, x, average_attn_weights=False))
      Module                                                          Output shape               Params  Buffers
      ----------------------------------------------------------------------------------------------------------
      MultiheadAttention                                              [(5, 3, 8), (3, 2, 5, 5)]     288        0
        (out_proj): Linear(in_features=8, out_features=8, bias=True)  -                              72        0
      ----------------------------------------------------------------------------------------------------------
      Trainable params: 288 (1.1 KiB)
      Buffers: 0 (0 B)
    """
    if not isinstance(model, Module):
        raise TypeError(
            f"summary: expected a funcnn.nn.Module, got {type(model).__name__}; call nn.summary(model, example_input)"
        )
    if params is None:
        params = jax.eval_shape(model.init, jax.random.key(0))
    state = jax.eval_shape(model.init_state)
    dynamic = {k: v for k, v in kwargs.items() if _is_array(v)}
    static = {k: v for k, v in kwargs.items() if k not in dynamic}
    named = list(model.named_modules())
    records: dict[int, list[Any]] = {}

    def run(p: Any, s: Any, xs: Any, kw: Any) -> Any:
        return model.apply_with_state(p, s, *xs, **static, **kw)[0]

    distinct = list({id(m): m for _, m in named}.values())
    with _recording(distinct, records):
        jax.eval_shape(run, params, state, example_inputs, dynamic)

    seen: dict[int, int] = {}
    flat_p, flat_s = _flatten(params), _flatten(state)
    rows = []
    for path, module in named:
        calls = records.get(id(module), [])
        occurrence = seen.get(id(module), 0)
        seen[id(module)] = occurrence + 1
        paths = sum(1 for _, m in named if m is module)
        if not calls:
            shape = "-" if hasattr(module, "__dict__") else "?"
        elif len(calls) == paths:
            shape = _describe(calls[occurrence])
        else:
            shape = " | ".join(dict.fromkeys(_describe(c) for c in calls))
        depth = path.count(".") + 1 if path else 0
        extra = module.extra_repr()
        title = f"{type(module).__name__}({extra})" if extra or not module.children() else type(module).__name__
        label = "  " * depth + (f"({path.rsplit('.', 1)[-1]}): " if path else "") + title
        rows.append((label, shape, f"{_count(flat_p, path)[0]:,}", f"{_count(flat_s, path)[0]:,}"))
    return Summary(_table(rows, _count(flat_p, ""), _count(flat_s, "")))


def _bytes(b: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if b < 1024 or unit == "GiB":
            return f"{b} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024  # type: ignore[assignment]
    return ""  # pragma: no cover


def _table(rows: list[tuple[str, str, str, str]], params: tuple[int, int], buffers: tuple[int, int]) -> str:
    head = ("Module", "Output shape", "Params", "Buffers")
    w0 = max(len(head[0]), *(len(r[0]) for r in rows)) + 2
    w1 = max(len(head[1]), *(len(r[1]) for r in rows)) + 2
    w2 = max(len(head[2]), *(len(r[2]) for r in rows))
    w3 = max(len(head[3]), *(len(r[3]) for r in rows))
    lines = [f"{head[0]:<{w0}}{head[1]:<{w1}}{head[2]:>{w2}}  {head[3]:>{w3}}"]
    rule = "-" * len(lines[0])
    lines.append(rule)
    for label, shape, n, m in rows:
        lines.append(f"{label:<{w0}}{shape:<{w1}}{n:>{w2}}  {m:>{w3}}")
    lines.append(rule)
    lines.append(f"Trainable params: {params[0]:,} ({_bytes(params[1])})")
    lines.append(f"Buffers: {buffers[0]:,} ({_bytes(buffers[1])})")
    return "\n".join(lines)
