"""The public API keeps the project's documentation rules.

Walks every public module's ``__all__`` and checks, for each public callable:

* it has a docstring;
* every parameter and the return of each function and public method is annotated
  (``self``/``cls`` excepted; ``*args``/``**kwargs`` may be ``Any``);
* it has a runnable example (``>>>``) in its own docstring or, for a class, in the
  class's or its defining module's docstring (those run as doctests in the suite).

Also checks that every name in ``__all__`` exists and that ``__all__`` is sorted.
Each check collects every offender and fails once with the whole list.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from typing import Any, Iterator

PUBLIC_MODULES = (
    "funcnn",
    "funcnn.nn",
    "funcnn.nn.functional",
    "funcnn.nn.init",
    "funcnn.nn.utils",
    "funcnn.nn.utils.parametrizations",
    "funcnn.nn.utils.rnn",
    "funcnn.train",
    "funcnn.data",
    "funcnn.checkpoint",
    "funcnn.parallel",
)

# Modules whose public names are exempt from these checks (none today); an entry
# must still import, so a stale one fails loudly.
SKIPPED_DEFINING_MODULES: frozenset[str] = frozenset()

# Public names whose own docstrings still lack an example (none today).
EXAMPLE_PENDING: frozenset[str] = frozenset()

# Dunder methods that are part of a class's public surface and so must be annotated.
_CHECKED_DUNDERS = ("__init__", "__call__")


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _public_objects() -> Iterator[tuple[str, Any]]:
    """Yields ``(qualified name, object)`` for every public callable, each once."""
    seen: set[int] = set()
    for mod_name in PUBLIC_MODULES:
        mod = _module(mod_name)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name, None)
            if obj is None or isinstance(obj, types.ModuleType) or not callable(obj):
                continue
            if getattr(obj, "__module__", None) in SKIPPED_DEFINING_MODULES:
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{mod_name}.{name}", obj


def _own_methods(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods (and ``__init__``/``__call__``) written in ``cls``'s own body."""
    for name, value in vars(cls).items():
        if name.startswith("_") and name not in _CHECKED_DUNDERS:
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value) and value.__qualname__.startswith(cls.__qualname__ + "."):
            yield name, value


def _annotation_gaps(fn: Any) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ["(no inspectable signature)"]
    gaps = []
    for i, (pname, p) in enumerate(sig.parameters.items()):
        if i == 0 and pname in ("self", "cls"):
            continue
        if p.annotation is inspect.Parameter.empty:
            gaps.append(f"parameter `{pname}`")
    if sig.return_annotation is inspect.Signature.empty:
        gaps.append("return")
    return gaps


def _has_example(doc: str | None) -> bool:
    return bool(doc) and ">>>" in doc


PUBLIC = list(_public_objects())


def test_all_lists_exist_and_are_sorted() -> None:
    failures = []
    for mod_name in PUBLIC_MODULES:
        mod = _module(mod_name)
        names = getattr(mod, "__all__", None)
        if names is None:
            failures.append(f"{mod_name}: no __all__")
            continue
        missing = [n for n in names if not hasattr(mod, n)]
        if missing:
            failures.append(f"{mod_name}.__all__ names that do not exist: {missing}")
        if list(names) != sorted(names):
            failures.append(f"{mod_name}.__all__ is not sorted; expected {sorted(names)}")
        if len(set(names)) != len(names):
            failures.append(f"{mod_name}.__all__ has duplicates")
    assert not failures, "\n".join(failures)


def test_public_callables_have_docstrings() -> None:
    failures = [qual for qual, obj in PUBLIC if not inspect.getdoc(obj)]
    for qual, obj in PUBLIC:
        if inspect.isclass(obj):
            for mname, meth in _own_methods(obj):
                if not mname.startswith("_") and not inspect.getdoc(meth) and not _inherits_doc(obj, mname):
                    failures.append(f"{qual}.{mname}")
    assert not failures, f"{len(failures)} public callables without a docstring:\n  " + "\n  ".join(failures)


def _inherits_doc(cls: type, name: str) -> bool:
    """An override of a documented base method (e.g. ``Module.forward``) inherits its doc."""
    return any(inspect.getdoc(getattr(base, name, None)) for base in cls.__mro__[1:] if name in vars(base))


def test_public_signatures_are_annotated() -> None:
    failures = []
    for qual, obj in PUBLIC:
        if inspect.isclass(obj):
            targets = [(f"{qual}.{m}", fn) for m, fn in _own_methods(obj)]
        else:
            targets = [(qual, obj)]
        for where, fn in targets:
            gaps = _annotation_gaps(fn)
            if gaps:
                failures.append(f"{where}: missing {', '.join(gaps)}")
    assert not failures, f"{len(failures)} signatures not fully annotated:\n  " + "\n  ".join(failures)


def test_public_callables_have_examples() -> None:
    failures = []
    for qual, obj in PUBLIC:
        if qual in EXAMPLE_PENDING or _has_example(obj.__doc__):
            continue
        if inspect.isclass(obj) and _has_example(getattr(sys.modules.get(obj.__module__), "__doc__", None)):
            continue
        failures.append(qual)
    assert not failures, f"{len(failures)} public callables without a `>>>` example:\n  " + "\n  ".join(failures)


def test_skipped_modules_still_exist() -> None:
    # A stale allow-list entry would silently skip nothing; keep it honest.
    for mod_name in sorted(SKIPPED_DEFINING_MODULES):
        _module(mod_name)


def test_example_pending_entries_are_still_pending() -> None:
    # Once a pending name gains an example, its entry must go (so the list only shrinks).
    public = dict(PUBLIC)
    stale = [q for q in sorted(EXAMPLE_PENDING) if q not in public or _has_example(public[q].__doc__)]
    assert not stale, f"remove these from EXAMPLE_PENDING (they have examples or are gone): {stale}"
