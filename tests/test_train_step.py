"""`funcnn.train.make_train_step` / `make_eval_step` / `TrainState` / `model_loss`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from funcnn import nn, train
from funcnn.nn import init
from funcnn.nn.module import Module, check_train_key

KEY = jax.random.key(0)
_data = np.random.default_rng(0)
X = jnp.asarray(_data.standard_normal((16, 3)), jnp.float32)
Y = X @ jnp.array([[1.0], [-2.0], [0.5]]) + 0.5  # a linear target, so the loss can fall far


def mse(out: jax.Array, target: jax.Array) -> jax.Array:
    return jnp.mean((out - target) ** 2)


class _Noisy(Module):
    """``y = x @ weight.T`` plus N(0, 0.1^2) noise drawn from ``key`` in training mode."""

    def init(self, key: jax.Array) -> dict[str, Any]:
        return {"weight": init.normal(key, (1, 3))}

    def forward(self, params, input, *, key=None, train=False):
        y = input @ params["weight"].T
        if train:
            check_train_key("_Noisy()", key, train)
            y = y + 0.1 * jax.random.normal(key, y.shape)
        return y


def _setup(optimizer: optax.GradientTransformation = optax.sgd(0.1)):
    model = nn.Linear(3, 1)
    params = model.init(KEY)
    return model, params, optimizer.init(params)


# ---------------------------------------------------------------------- simple form


def test_simple_form_reduces_the_loss() -> None:
    model, params, opt_state = _setup()
    step = train.make_train_step(lambda p, x, y: mse(model.apply(p, x), y), optax.sgd(0.1))
    losses = []
    for _ in range(20):
        params, opt_state, loss = step(params, opt_state, X, Y)
        losses.append(float(loss))
    assert losses[-1] < 0.2 * losses[0]
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # full-batch GD with a small rate descends


def test_simple_form_matches_a_hand_written_update() -> None:
    model, params, opt_state = _setup()
    loss_fn = lambda p, x, y: mse(model.apply(p, x), y)  # noqa: E731
    loss, grads = jax.value_and_grad(loss_fn)(params, X, Y)
    want = jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)
    step = train.make_train_step(loss_fn, optax.sgd(0.1), donate=False)
    new_params, _, got_loss = step(params, opt_state, X, Y)
    np.testing.assert_allclose(got_loss, loss, rtol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7), new_params, want)


def test_compiles_once_per_input_shape() -> None:
    model, params, opt_state = _setup()
    traces = []

    def loss_fn(p, x, y):
        traces.append(x.shape)
        return mse(model.apply(p, x), y)

    step = train.make_train_step(loss_fn, optax.sgd(0.1))
    params, opt_state, _ = step(params, opt_state, X, Y)
    params, opt_state, _ = step(params, opt_state, X + 1.0, Y)  # new values, same shape
    assert len(traces) == 1
    params, opt_state, _ = step(params, opt_state, X[:8], Y[:8])  # new batch shape
    assert traces == [(16, 3), (8, 3)]
    params, opt_state, _ = step(params, opt_state, X[8:], Y[8:])
    assert len(traces) == 2


def test_buffers_are_donated() -> None:
    model, params, opt_state = _setup(optax.sgd(0.1, momentum=0.9))
    step = train.make_train_step(lambda p, x, y: mse(model.apply(p, x), y), optax.sgd(0.1, momentum=0.9))
    old_leaves = jax.tree.leaves((params, opt_state))
    params, opt_state, _ = step(params, opt_state, X, Y)
    assert all(leaf.is_deleted() for leaf in old_leaves)
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves((params, opt_state)))
    assert not X.is_deleted() and not Y.is_deleted()  # the batch is never donated


def _parameter_copies(compiled: Any) -> list[str]:
    """The entry computation's ``copy`` instructions whose operand is a parameter."""
    import re

    text = compiled.as_text()
    entry = text[text.index("ENTRY") :]
    params = set(re.findall(r"%([\w.\-]+) = \S+ parameter\(", entry))
    return [m.group(0) for m in re.finditer(r"%[\w.\-]+ = \S+ copy\(%([\w.\-]+)\)", entry) if m.group(1) in params]


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the copy-insertion option is XLA:CPU's")
def test_donated_weights_are_updated_without_a_copy() -> None:
    # A conv net's backward pass reads each weight on a path its update does not depend
    # on; XLA's default analysis copied such weights every step (49 of ResNet-18's 62).
    from funcnn.train._compile import _in_place_options

    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.Flatten())
    opt = optax.sgd(0.1, momentum=0.9)
    params = model.init(KEY)
    x = jnp.asarray(_data.standard_normal((2, 3, 6, 6)), jnp.float32)
    y = jnp.zeros((2, 8 * 36))
    step = train.make_train_step(lambda p, x, y: mse(model.apply(p, x), y), opt)
    args = (params, opt.init(params), x, y)
    plain = jax.jit(step._jitted.__wrapped__, donate_argnums=(0, 1)).lower(*args).compile()
    assert _parameter_copies(plain), "the default analysis no longer copies: the test shows nothing"
    if not _in_place_options():
        pytest.skip("this XLA has no region-based copy insertion")
    assert _parameter_copies(step.lower(*args).compile()) == []
    # and the same numbers as the default compile
    copy = lambda tree: jax.tree.map(jnp.copy, tree)  # noqa: E731
    got = step(copy(args[0]), copy(args[1]), x, y)
    want = plain(copy(args[0]), copy(args[1]), x, y)
    jax.tree.map(np.testing.assert_array_equal, got, want)


def test_the_step_runs_inside_a_users_jit_and_scan() -> None:
    # The step is compiled with compile options at top level; nested in another trace
    # (the article's fused epochs: lax.scan over the step) JAX refuses those options.
    model, params, opt_state = _setup(optax.sgd(0.1, momentum=0.9))
    opt = optax.sgd(0.1, momentum=0.9)
    step = train.make_train_step(lambda p, x, y: mse(model.apply(p, x), y), opt)

    @jax.jit
    def epochs(params, opt_state):
        def body(carry, _):
            p, o, loss = step(*carry, X, Y)
            return (p, o), loss

        return jax.lax.scan(body, (params, opt_state), None, length=3)

    copy = lambda tree: jax.tree.map(jnp.copy, tree)  # noqa: E731
    (fused_params, _), losses = epochs(copy(params), copy(opt_state))
    p, o = copy(params), copy(opt_state)
    for i in range(3):
        p, o, loss = step(p, o, X, Y)
        np.testing.assert_allclose(losses[i], loss, rtol=1e-6)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), fused_params, p)
    assert float(jax.vmap(lambda x: step(copy(params), copy(opt_state), x, Y)[2])(X[None])[0]) > 0


def test_donate_false_keeps_inputs() -> None:
    model, params, opt_state = _setup(optax.sgd(0.1, momentum=0.9))
    step = train.make_train_step(lambda p, x, y: mse(model.apply(p, x), y), optax.sgd(0.1, momentum=0.9), donate=False)
    before = jax.tree.map(np.asarray, params)
    new_params, _, _ = step(params, opt_state, X, Y)
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves((params, opt_state)))
    jax.tree.map(np.testing.assert_array_equal, params, before)
    assert not np.array_equal(new_params["weight"], before["weight"])


def test_has_aux() -> None:
    model, params, opt_state = _setup()

    def loss_fn(p, x, y):
        out = model.apply(p, x)
        return mse(out, y), {"out": out, "max": out.max()}

    step = train.make_train_step(loss_fn, optax.sgd(0.1), has_aux=True, donate=False)
    new_params, _, loss, aux = step(params, opt_state, X, Y)
    np.testing.assert_allclose(aux["out"], model.apply(params, X), rtol=1e-6)  # aux of the params before the update
    np.testing.assert_allclose(loss, mse(aux["out"], Y), rtol=1e-6)
    assert set(aux) == {"out", "max"}


def test_non_optax_optimizer() -> None:
    msg = r"make_train_step: expected an optax optimizer such as optax.sgd\(0.01\), got "
    with pytest.raises(TypeError, match=msg + "function"):
        train.make_train_step(lambda p: 0.0, lambda g: g)
    with pytest.raises(TypeError, match=msg + "float"):
        train.make_train_step(lambda p: 0.0, 0.01)


# -------------------------------------------------------------------- stateful form


def _stateful(donate: bool = True):
    model = _Noisy()
    opt = optax.sgd(0.05)
    step = train.make_train_step(train.model_loss(model, mse), opt, stateful=True, has_aux=True, donate=donate)
    return model, opt, step


def test_train_state_create() -> None:
    model, opt, _ = _stateful()
    ts = train.TrainState.create(model, opt, KEY)
    init_key, run_key = jax.random.split(KEY)
    np.testing.assert_array_equal(ts.params["weight"], model.init(init_key)["weight"])
    np.testing.assert_array_equal(jax.random.key_data(ts.key), jax.random.key_data(run_key))
    assert ts.state == {} and ts.step.dtype == jnp.int32 and int(ts.step) == 0
    given = {"weight": jnp.ones((1, 3))}
    made = train.TrainState.create(model, opt, KEY, params=given).params
    assert made["weight"] is not given["weight"]  # a copy: the step donates it, `given` stays usable
    np.testing.assert_array_equal(made["weight"], given["weight"])


def test_stateful_form_threads_a_new_key_each_step() -> None:
    model, opt, step = _stateful(donate=False)
    ts0 = train.TrainState.create(model, opt, KEY)
    ts1, loss0, out0 = step(ts0, X, Y)
    ts2, loss1, out1 = step(ts1, X, Y)
    assert int(ts1.step) == 1 and int(ts2.step) == 2
    # Step n runs the model with fold_in(ts.key, n).
    for ts, out, n in [(ts0, out0, 0), (ts1, out1, 1)]:
        want = model.apply(ts.params, X, key=jax.random.fold_in(ts0.key, n), train=True)
        np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
    # Different keys, so different noise on the same params.
    noise0 = out0 - model.apply(ts0.params, X)
    noise1 = out1 - model.apply(ts1.params, X)
    assert not np.allclose(noise0, noise1)
    np.testing.assert_allclose(loss0, mse(out0, Y), rtol=1e-6)
    np.testing.assert_array_equal(jax.random.key_data(ts2.key), jax.random.key_data(ts0.key))  # the base key stays


def test_stateful_form_is_deterministic() -> None:
    model, opt, step = _stateful()

    def run() -> tuple[train.TrainState, list[float]]:
        ts = train.TrainState.create(model, opt, KEY)
        losses = []
        for _ in range(3):
            ts, loss, _ = step(ts, X, Y)
            losses.append(float(loss))
        return ts, losses

    (ts_a, losses_a), (ts_b, losses_b) = run(), run()
    assert losses_a == losses_b
    np.testing.assert_array_equal(ts_a.params["weight"], ts_b.params["weight"])
    assert int(ts_a.step) == 3


def test_stateful_form_donates_the_train_state() -> None:
    model, opt, step = _stateful()
    ts = train.TrainState.create(model, opt, KEY)
    old = ts.params["weight"]
    ts, _, _ = step(ts, X, Y)
    assert old.is_deleted() and not ts.params["weight"].is_deleted()


def test_stateful_form_without_aux_threads_state() -> None:
    class Counter(Module):
        def init_state(self) -> dict[str, Any]:
            return {"seen": jnp.zeros((), jnp.int32)}

        @property
        def has_state(self) -> bool:
            return True

        def apply_with_state(self, params, state, input, *, key=None, train=False):
            return input, {"seen": state["seen"] + input.shape[0]}

    model = nn.Sequential(nn.Linear(3, 1), Counter())
    opt = optax.sgd(0.1)

    def loss_fn(params, state, key, x, y):
        out, new_state = model.apply_with_state(params, state, x, key=key, train=True)
        return mse(out, y), new_state

    step = train.make_train_step(loss_fn, opt, stateful=True)
    ts = train.TrainState.create(model, opt, KEY)
    for _ in range(2):
        ts, loss = step(ts, X, Y)
    assert int(ts.state["1"]["seen"]) == 32 and loss.shape == ()


def test_missing_key_in_train_mode_is_reported() -> None:
    with pytest.raises(
        ValueError, match=r"_Noisy\(\): train=True samples random numbers and needs a PRNG key, got key=None"
    ):
        _Noisy().apply({"weight": jnp.ones((1, 3))}, X, train=True)


# ------------------------------------------------------------------------ eval step


def test_make_eval_step() -> None:
    model, params, _ = _setup()
    traces = []

    def evaluate(p, x, y):
        traces.append(1)
        return mse(model.apply(p, x), y)

    ev = train.make_eval_step(evaluate)
    a = ev(params, X, Y)
    b = ev(params, X * 2, Y)
    assert len(traces) == 1
    np.testing.assert_allclose(a, mse(model.apply(params, X), Y), rtol=1e-6)
    assert float(a) != float(b)
    assert not any(leaf.is_deleted() for leaf in jax.tree.leaves(params))  # nothing donated
