"""Generic checks run on every registered layer case (see `tests/layer_harness.py`)."""

from __future__ import annotations

import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from jax.test_util import check_grads

import funcnn
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


def _setup(case: LayerCase):
    torch.manual_seed(0)
    tmod = case.make_torch()
    model = case.make()
    params, state = funcnn.load_state_dict(model, tmod.state_dict())
    inputs = case.inputs(np.random.default_rng(0))
    return model, tmod, params, state, inputs


def _jnp_inputs(inputs):
    return [None if x is None else jnp.asarray(x) for x in inputs]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_init_matches_torch_state_dict(case: LayerCase) -> None:
    torch.manual_seed(0)
    expected = {k: tuple(v.shape) for k, v in case.make_torch().state_dict().items()}
    model = case.make()
    got = {k: tuple(v.shape) for k, v in funcnn.state_dict(model.init(KEY), model.init_state()).items()}
    assert got == expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forward_and_state_match_torch(case: LayerCase) -> None:
    model, tmod, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    for _ in range(case.steps):
        leaves, state = f(params, state, KEY, *_jnp_inputs(inputs))
        with torch.no_grad():
            _, tleaves = run_torch(case, tmod, inputs)
    assert len(leaves) == len(tleaves)
    tol = TOLERANCES[case.tol]
    if not case.random:
        for i, (a, e) in enumerate(zip(leaves, tleaves)):
            assert_close(a, e.detach().numpy(), tol, f"{case.id} output {i}")
    else:
        for a, e in zip(leaves, tleaves):
            assert a.shape == tuple(e.shape)
    for k, v in funcnn.state_dict({}, state).items():
        assert_close(v, tmod.state_dict()[k].numpy(), tol, f"{case.id} buffer {k}")


@pytest.mark.parametrize("case", [c for c in CASES if not c.random], ids=lambda c: c.id)
def test_gradients_match_torch(case: LayerCase) -> None:
    model, tmod, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    argnums = diff_argnums(case, inputs)
    jin = _jnp_inputs(inputs)
    leaves, _ = f(params, state, KEY, *jin)
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


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_jit_matches_eager_and_compiles_once(case: LayerCase) -> None:
    model, _, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    traces = []

    def counted(*args):
        traces.append(1)
        return f(*args)

    jf = jax.jit(counted)
    eager, _ = f(params, state, KEY, *_jnp_inputs(inputs))
    jitted, _ = jf(params, state, KEY, *_jnp_inputs(inputs))
    for a, e in zip(jitted, eager):
        assert_close(a, e, TOLERANCES["accum"], f"{case.id} jit vs eager")
    fresh = case.inputs(np.random.default_rng(1))
    jf(params, state, jax.random.key(7), *_jnp_inputs(fresh))
    assert len(traces) == 1, "second call with same shapes retraced"


@pytest.mark.parametrize("case", [c for c in CASES if c.vmap], ids=lambda c: c.id)
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


@pytest.mark.parametrize("case", [c for c in CASES if c.grad_check and not c.random], ids=lambda c: c.id)
def test_check_grads_float64(case: LayerCase) -> None:
    model, _, params, state, inputs = _setup(case)
    f = funcnn_fn(case, model)
    argnums = diff_argnums(case, inputs)
    with jax.enable_x64(True):
        p64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, params)
        s64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, state)
        xs = [None if x is None else jnp.asarray(x, jnp.float64 if i in argnums else None) for i, x in enumerate(inputs)]

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


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_torch_loads_funcnn_weights(case: LayerCase) -> None:
    model = case.make()
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
    # the reverse direction: funcnn reloads its own state_dict bit for bit
    p2, s2 = funcnn.load_state_dict(model, funcnn.state_dict(params, state))
    for a, b in zip(jax.tree.leaves((params, state)), jax.tree.leaves((p2, s2))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_registry_is_not_empty() -> None:
    assert len(CASES) >= 10
    assert all(isinstance(c.make(), funcnn.nn.Module) for c in CASES)

