"""Every name of torch.nn exists in funcnn, or is listed with its reason in funcnn.nn._torch_coverage.

Each check reports every offending name at once.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as TF

import funcnn.nn as fnn
import funcnn.nn.functional as F
from funcnn.nn._torch_coverage import NOT_PROVIDED

# torch.nn.functional's plumbing, not ops: the __torch_function__ dispatch helpers, the
# builder of the ``return_indices`` dispatchers, and an argument checker.
_NOT_OPS = frozenset(
    {
        "assert_int_or_pair",
        "boolean_dispatch",
        "handle_torch_function",
        "has_torch_function",
        "has_torch_function_unary",
        "has_torch_function_variadic",
    }
)


def _torch_modules() -> list[str]:
    return sorted(n for n in torch.nn.modules.__all__ if not n.startswith("Lazy"))


def _torch_functional() -> list[str]:
    names = []
    for n in dir(TF):
        obj = getattr(TF, n)
        if n.startswith("_") or n.endswith("_") or n in _NOT_OPS:  # private, in-place, plumbing
            continue
        if not callable(obj) or inspect.isclass(obj) or inspect.ismodule(obj):
            continue
        if getattr(obj, "__module__", None) == "typing":  # e.g. Optional
            continue
        names.append(n)
    return sorted(names)


def _expected() -> dict[str, bool]:
    """``{torch qualified name: whether funcnn has it}``."""
    out = {f"torch.nn.{n}": hasattr(fnn, n) for n in _torch_modules()}
    out.update({f"torch.nn.functional.{n}": hasattr(F, n) for n in _torch_functional()})
    return out


def test_the_torch_lists_are_what_we_think() -> None:
    modules, ops = _torch_modules(), _torch_functional()
    assert {"Linear", "LSTM", "TransformerDecoderLayer", "Module"} <= set(modules) and len(modules) > 120
    assert not any(n.startswith("Lazy") for n in modules)
    assert {"conv2d", "interpolate", "scaled_dot_product_attention", "ctc_loss"} <= set(ops) and len(ops) > 100
    assert not {"relu_", "handle_torch_function", "Optional"} & set(ops)


def test_every_torch_nn_name_exists_in_funcnn_or_has_a_reason() -> None:
    missing = [name for name, present in _expected().items() if not present and name not in NOT_PROVIDED]
    assert not missing, (
        f"{len(missing)} names of torch.nn are neither in funcnn nor listed with a reason in "
        f"funcnn/nn/_torch_coverage.py:\n  " + "\n  ".join(missing)
    )


def test_every_exception_is_a_torch_name_that_funcnn_lacks_with_a_real_reason() -> None:
    expected = _expected()
    problems = []
    for name, reason in NOT_PROVIDED.items():
        if name not in expected:
            problems.append(f"{name}: not a public torch.nn name (stale entry)")
        elif expected[name]:
            problems.append(f"{name}: funcnn has it now, so remove the entry")
        if len(reason) < 40 or any(w in reason.lower() for w in ("todo", "not yet", "not done", "later")):
            problems.append(f"{name}: the reason must explain why funcnn has no such name, got {reason!r}")
    assert not problems, "\n".join(problems)
    assert list(NOT_PROVIDED) == sorted(NOT_PROVIDED)
