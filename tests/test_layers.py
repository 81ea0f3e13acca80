"""Generic checks run on every registered layer case (see `tests/layer_harness.py`).

Every case goes through `test_layer_matches_torch`: ``state_dict`` keys and shapes,
forward and buffer parity with torch, gradient parity with torch, ``jit`` == eager with
one trace for two calls, and torch loading funcnn's weights (and funcnn reloading its
own bit for bit). The two checks that only exercise JAX's transformations of the same
code, ``vmap`` == loop and the float64 ``check_grads``, run on one case per layer class
(the first registered, or any case marked ``full=True``): a second configuration of the
same layer adds compile time, not coverage of a different code path in funcnn.
"""

from __future__ import annotations

import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from jax.test_util import check_grads
from layer_harness import (
    TOLERANCES,
    LayerCase,
    assert_close,
    cotangents,
    diff_argnums,
    funcnn_fn,
    grad_tol,
    run_torch,
)

import funcnn

torch.set_num_threads(1)


def _collect() -> list[LayerCase]:
    import cases

    found: list[LayerCase] = []
    for info in sorted(pkgutil.iter_modules(cases.__path__), key=lambda m: m.name):
        found.extend(importlib.import_module(f"cases.{info.name}").CASES)
    ids = [c.id for c in found]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate case ids: {sorted(dupes)}"
    return found


CASES = _collect()
KEY = jax.random.key(42)


def _representatives(eligible: list[LayerCase]) -> list[LayerCase]:
    """The first eligible case of each layer class, plus every case marked ``full``."""
    seen: set[type] = set()
    out = []
    for case in eligible:
        kind = type(case.make())
        if case.full or kind not in seen:
            out.append(case)
        seen.add(kind)
    return out


VMAP_CASES = _representatives([c for c in CASES if c.vmap])
GRAD_CHECK_CASES = _representatives([c for c in CASES if c.grad_check and not c.random])


def _setup(case: LayerCase):
    torch.manual_seed(0)
    tmod = case.make_torch()
    model = case.make()
    params, state = funcnn.load_state_dict(model, tmod.state_dict())
    inputs = case.inputs(np.random.default_rng(0))
    return model, tmod, params, state, inputs


def _jnp_inputs(inputs):
    return [None if x is None else jnp.asarray(x) for x in inputs]


def _check_keys(case: LayerCase) -> None:
    torch.manual_seed(0)
    expected = {k: tuple(v.shape) for k, v in case.make_torch().state_dict().items()}
    model = case.make()
    got = {k: tuple(v.shape) for k, v in funcnn.state_dict(model.init(KEY), model.init_state()).items()}
    assert got == expected, f"{case.id}: state_dict keys/shapes differ from torch's"


def _check_forward(case: LayerCase, model, tmod, params, state, inputs) -> list:
    """Eager forward (and buffers after ``case.steps`` passes) against torch; returns the outputs."""
    f = funcnn_fn(case, model)
    for _ in range(case.steps):
        leaves, state = f(params, state, KEY, *_jnp_inputs(inputs))
        with torch.no_grad():
            _, tleaves = run_torch(case, tmod, inputs)
    assert len(leaves) == len(tleaves)
    tol = TOLERANCES[case.tol]
    for i, (a, e) in enumerate(zip(leaves, tleaves)):
        if case.random:
            assert a.shape == tuple(e.shape)
        else:
            assert_close(a, e.detach().numpy(), tol, f"{case.id} output {i}")
    for k, v in funcnn.state_dict({}, state).items():
        assert_close(v, tmod.state_dict()[k].numpy(), tol, f"{case.id} buffer {k}")
    return leaves


def _check_jit(case: LayerCase, model, params, state, inputs, eager) -> None:
    """``jit`` == eager, and a second call with new values (and a new key) does not retrace."""
    f = funcnn_fn(case, model)
    traces = []

    def counted(*args):
        traces.append(1)
        return f(*args)

    jf = jax.jit(counted)
    jitted, _ = jf(params, state, KEY, *_jnp_inputs(inputs))
    for a, e in zip(jitted, eager):
        assert_close(a, e, TOLERANCES["accum"], f"{case.id} jit vs eager")
    fresh = case.inputs(np.random.default_rng(1))
    jf(params, state, jax.random.key(7), *_jnp_inputs(fresh))
    assert len(traces) == 1, f"{case.id}: second call with same shapes retraced"


def _check_gradients(case: LayerCase, model, tmod, params, state, inputs, leaves) -> None:
    f = funcnn_fn(case, model)
    argnums = diff_argnums(case, inputs)
    jin = _jnp_inputs(inputs)
    cts = cotangents(leaves)

    def scalar(p, *diff):
        xs = list(jin)
        for i, d in zip(argnums, diff):
            xs[i] = d
        out, _ = f(p, state, KEY, *xs)
        return sum(jnp.vdot(o.astype(jnp.float32), c) for o, c in zip(out, cts))

    grads = jax.jit(jax.grad(scalar, argnums=tuple(range(1 + len(argnums)))))(params, *[jin[i] for i in argnums])

    targs, tleaves = run_torch(case, tmod, inputs, requires_grad=True)
    tscalar = sum((o.float() * torch.from_numpy(c)).sum() for o, c in zip(tleaves, cts))
    tscalar.backward()
    tol = grad_tol(case)
    tgrads = {name: p.grad for name, p in tmod.named_parameters()}
    for name, g in funcnn.state_dict(grads[0]).items():
        tg = tgrads[name]
        assert_close(g, np.zeros(g.shape) if tg is None else tg.numpy(), tol, f"{case.id} d/d{name}")
    for i, g in zip(argnums, grads[1:]):
        assert_close(g, targs[i].grad.numpy(), tol, f"{case.id} d/dinput{i}")


def _check_torch_loads(case: LayerCase, model) -> None:
    """torch loads funcnn's freshly initialised weights and agrees; funcnn reloads them bit for bit."""
    params, state = model.init(jax.random.key(3)), model.init_state()
    torch.manual_seed(1)
    tmod = case.make_torch()
    tmod.load_state_dict({k: torch.from_numpy(v) for k, v in funcnn.state_dict(params, state).items()})
    inputs = case.inputs(np.random.default_rng(0))
    leaves, _ = funcnn_fn(case, model)(params, state, KEY, *_jnp_inputs(inputs))
    with torch.no_grad():
        _, tleaves = run_torch(case, tmod, inputs)
    if not case.random:
        for a, e in zip(leaves, tleaves):
            assert_close(a, e.numpy(), TOLERANCES[case.tol], f"{case.id} torch-loaded")
    p2, s2 = funcnn.load_state_dict(model, funcnn.state_dict(params, state))
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves((p2, s2))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer_matches_torch(case: LayerCase) -> None:
    _check_keys(case)
    model, tmod, params, state, inputs = _setup(case)
    leaves = _check_forward(case, model, tmod, params, state, inputs)
    # the forward above may have advanced torch's buffers: compare jit and gradients from the start
    model, tmod, params, state, inputs = _setup(case)
    _check_jit(
        case, model, params, state, inputs, leaves if case.steps == 1 else _eager(case, model, params, state, inputs)
    )
    if not case.random:
        _check_gradients(case, model, tmod, params, state, inputs, leaves)
    _check_torch_loads(case, model)


def _eager(case: LayerCase, model, params, state, inputs) -> list:
    return funcnn_fn(case, model)(params, state, KEY, *_jnp_inputs(inputs))[0]


@pytest.mark.parametrize("case", VMAP_CASES, ids=lambda c: c.id)
def test_vmap_matches_loop(case: LayerCase) -> None:
    model, _, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    g = np.random.default_rng(3)
    stacked = [None if x is None else np.stack([x, case.inputs(g)[i]]) for i, x in enumerate(inputs)]
    axes = tuple(None if x is None else 0 for x in stacked)
    # Both sides compiled (jit == eager is checked elsewhere); op-by-op vmap is slow.
    batched, _ = jax.jit(jax.vmap(lambda *xs: f(params, state, KEY, *xs), in_axes=axes))(*_jnp_inputs(stacked))
    one = jax.jit(lambda *xs: f(params, state, KEY, *xs))
    for b in range(2):
        single, _ = one(*_jnp_inputs([None if x is None else x[b] for x in stacked]))
        for a, e in zip(batched, single):
            assert_close(a[b], e, TOLERANCES["accum"], f"{case.id} vmap[{b}]")


@pytest.mark.parametrize("case", GRAD_CHECK_CASES, ids=lambda c: c.id)
def test_check_grads_float64(case: LayerCase) -> None:
    model, _, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    argnums = diff_argnums(case, inputs)
    with jax.enable_x64(True):
        p64 = jax.tree.map(
            lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, params
        )
        s64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, state)
        xs = [
            None if x is None else jnp.asarray(x, jnp.float64 if i in argnums else None) for i, x in enumerate(inputs)
        ]

        def scalar(p, *diff):
            full = list(xs)
            for i, d in zip(argnums, diff):
                full[i] = d
            out, _ = f(p, s64, KEY, *full)
            return sum(jnp.sum(jnp.sin(o)) for o in out if jnp.issubdtype(o.dtype, jnp.floating))

        args = (p64, *[xs[i] for i in argnums])
        # Compiled once: check_grads evaluates the function many times.
        fn = jax.jit(scalar)
        grads = jax.jit(jax.grad(scalar, argnums=tuple(range(len(args)))))(*args)
        assert all(bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(grads)), "non-finite gradient"
        check_grads(fn, args, order=1, modes=["rev"], atol=1e-4, rtol=1e-4)


def test_registry_is_not_empty() -> None:
    assert len(CASES) >= 10
    assert all(isinstance(c.make(), funcnn.nn.Module) for c in CASES)


def test_every_layer_class_gets_every_generic_check() -> None:
    # Each layer class appears among the vmap and float64-gradient cases unless every one of
    # its cases opts out (random layers have no finite-difference gradient to check).
    kinds = {type(c.make()) for c in CASES}
    vmapped = {type(c.make()) for c in VMAP_CASES}
    checked = {type(c.make()) for c in GRAD_CHECK_CASES}
    assert {type(c.make()) for c in CASES if c.vmap} == vmapped
    assert {type(c.make()) for c in CASES if c.grad_check and not c.random} == checked
    assert len(vmapped) > 0.8 * len(kinds) and len(checked) > 0.7 * len(kinds), (len(kinds), len(vmapped), len(checked))
