"""One registry of layer cases, one set of generic checks for every layer.

A `LayerCase` pairs a funcnn layer with the ``torch.nn`` layer of the same
configuration and says how to make inputs. `tests/test_layers.py` runs every case in
`tests/cases/*.py` (each file defines ``CASES``) through the same checks:

* ``init`` gives exactly torch's ``state_dict`` keys and shapes;
* forward parity on torch's weights (and buffers after the step, for stateful layers);
* gradients with respect to every float input and every parameter, against torch;
* ``jit`` == eager, and no recompilation on a second call with new values;
* ``vmap`` over an extra batch axis == a loop, and finite gradients that agree with
  ``jax.test_util.check_grads`` in float64: on one case per layer class (these check
  JAX's transformations of the same code, so more configurations add only compile time);
* torch loads funcnn's ``state_dict`` and agrees on the output.

Tolerances are data (`TOLERANCES`), each loosening with its reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

TOLERANCES: dict[str, dict[str, float]] = {
    # float32 round-off of short reductions.
    "default": dict(rtol=1e-5, atol=1e-5),
    # Convolutions and matmuls sum hundreds of products in a different order than torch.
    "accum": dict(rtol=1e-4, atol=1e-5),
    # Recurrences compound round-off over the sequence; normalisation divides by small stds.
    "loose": dict(rtol=1e-4, atol=1e-4),
}

# Gradient tolerances are looser: the backward pass sums over the batch too.
GRAD_SLACK = 10.0


@dataclasses.dataclass(frozen=True)
class LayerCase:
    """One configuration of one layer.

    Attributes:
      id: readable test id, e.g. ``"conv2d-groups-dilation"``.
      make: ``() -> funcnn Module``.
      make_torch: ``() -> torch.nn.Module`` with the same configuration.
      inputs: ``(np.random.Generator) -> tuple`` of NumPy inputs (float32 or ints).
      kwargs: forward keyword arguments given to both sides (NumPy values converted).
      torch_forward: ``(torch_module, *torch_inputs, **torch_kwargs) -> output`` when
        torch's call differs from funcnn's (e.g. packed sequences).
      train: run both sides in training mode.
      random: the output depends on the key (dropout): value parity is skipped.
      tol: key into `TOLERANCES`.
      diff_argnums: indices of inputs to differentiate (default: every float input).
      vmap: run the vmap check.
      grad_check: run the float64 ``check_grads`` check.
      steps: train-mode forward passes before comparing buffers (stateful layers).
      full: run the vmap and float64 ``check_grads`` checks on this case even when it is
        not its layer class's first case (those checks run once per class otherwise).
    """

    id: str
    make: Callable[[], Any]
    make_torch: Callable[[], Any]
    inputs: Callable[[np.random.Generator], tuple]
    kwargs: dict = dataclasses.field(default_factory=dict)
    torch_forward: Callable[..., Any] | None = None
    train: bool = False
    random: bool = False
    tol: str = "default"
    diff_argnums: tuple[int, ...] | None = None
    vmap: bool = True
    grad_check: bool = True
    steps: int = 1
    full: bool = False


def is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def diff_argnums(case: LayerCase, inputs: Sequence[Any]) -> tuple[int, ...]:
    if case.diff_argnums is not None:
        return case.diff_argnums
    return tuple(i for i, x in enumerate(inputs) if x is not None and is_float(x))


def to_torch(x: Any, requires_grad: bool = False) -> Any:
    import torch

    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(to_torch(v, requires_grad) for v in x)
    t = torch.from_numpy(np.array(x))
    if requires_grad and t.is_floating_point():
        t.requires_grad_(True)
    return t


def torch_leaves(out: Any) -> list[Any]:
    """Flatten torch outputs (tensors in nested tuples/lists, ``None`` skipped)."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in torch_leaves(o)]
    return [out]


def run_torch(case: LayerCase, tmod: Any, inputs: Sequence[Any], requires_grad: bool = False) -> tuple[Any, list[Any]]:
    """Run the torch layer; returns (torch inputs, output leaves)."""
    tmod.train(case.train)
    targs = [to_torch(x, requires_grad and i in diff_argnums(case, inputs)) for i, x in enumerate(inputs)]
    tkw = {k: to_torch(v) for k, v in case.kwargs.items()}
    out = case.torch_forward(tmod, *targs, **tkw) if case.torch_forward else tmod(*targs, **tkw)
    return targs, torch_leaves(out)


def funcnn_fn(case: LayerCase, model: Any) -> Callable[..., Any]:
    """``f(params, state, key, *inputs) -> (output leaves, new_state)``."""
    kwargs = {k: (jnp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in case.kwargs.items()}

    def f(params: Any, state: Any, key: Any, *inputs: Any) -> tuple[list[Any], Any]:
        out, new_state = model.apply_with_state(params, state, *inputs, key=key, train=case.train, **kwargs)
        return jax.tree.leaves(out), new_state

    return f


def cotangents(leaves: Sequence[Any], seed: int = 1) -> list[np.ndarray]:
    g = np.random.default_rng(seed)
    return [g.standard_normal(np.shape(leaf)).astype(np.float32) for leaf in leaves]


def assert_close(actual: Any, expected: Any, tol: dict[str, float], what: str) -> None:
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch {e.shape}"
    np.testing.assert_allclose(a, e, err_msg=what, **tol)


def grad_tol(case: LayerCase) -> dict[str, float]:
    tol = TOLERANCES[case.tol]
    return {k: v * GRAD_SLACK for k, v in tol.items()}
