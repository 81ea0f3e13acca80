"""What `make_train_step`, `TrainState` and `fit` accept from optax and from the user, and the errors otherwise.

* `dynamic_loss_scale` found wherever the gradients reach it first (``chain``,
  ``multi_transform``, ``MultiSteps``), refused where they do not;
* ``optax.MultiSteps`` (gradient accumulation) accepted;
* losses that are not float scalars, donated arrays reused, keys that are not keys.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn.nn.functional as F
from funcnn import data, nn, train

KEY = jax.random.key(0)
_rng = np.random.default_rng(0)
X = jnp.asarray(_rng.normal(size=(8, 3)), jnp.float32)
Y = jnp.asarray(_rng.normal(size=(8, 1)), jnp.float32)
MODEL = nn.Linear(3, 1)
PARAMS = MODEL.init(KEY)
LABELS = {"weight": "w", "bias": "b"}


def _mse(p, x, y):
    return F.mse_loss(MODEL.apply(p, x), y)


def _copy(tree):
    return jax.tree.map(jnp.copy, tree)


def _one_step(opt, steps: int = 1):
    params = _copy(PARAMS)
    opt_state = opt.init(params)
    step = train.make_train_step(_mse, opt)
    for _ in range(steps):
        params, opt_state, _ = step(params, opt_state, X, Y)
    return params


ls = train.dynamic_loss_scale

# (id, with the loss scale, the same optimizer without it): one step of each must agree.
COMPOSED = [
    ("around-sgd", lambda: ls(optax.sgd(0.1)), lambda: optax.sgd(0.1)),
    ("first-in-chain", lambda: optax.chain(ls(optax.sgd(0.1))), lambda: optax.sgd(0.1)),
    (
        "first-in-chain-then-more",
        lambda: optax.chain(ls(optax.sgd(0.1)), optax.scale(0.5)),
        lambda: optax.chain(optax.sgd(0.1), optax.scale(0.5)),
    ),
    (
        "around-chain-with-clip",
        lambda: ls(optax.chain(optax.clip_by_global_norm(0.05), optax.sgd(0.1))),
        lambda: optax.chain(optax.clip_by_global_norm(0.05), optax.sgd(0.1)),
    ),
    (
        "around-multi-transform",
        lambda: ls(optax.multi_transform({"w": optax.sgd(0.1), "b": optax.adam(0.01)}, LABELS)),
        lambda: optax.multi_transform({"w": optax.sgd(0.1), "b": optax.adam(0.01)}, LABELS),
    ),
    ("inside-multisteps", lambda: optax.MultiSteps(ls(optax.sgd(0.1)), 2), lambda: optax.MultiSteps(optax.sgd(0.1), 2)),
    (
        "around-multisteps",
        lambda: ls(optax.MultiSteps(optax.sgd(0.1), 2).gradient_transformation()),
        lambda: optax.MultiSteps(optax.sgd(0.1), 2),
    ),
]


@pytest.mark.parametrize("make_scaled, make_plain", [c[1:] for c in COMPOSED], ids=[c[0] for c in COMPOSED])
def test_loss_scale_is_found_inside_compositions(make_scaled, make_plain) -> None:
    want = _one_step(make_plain(), steps=2)
    got = _one_step(make_scaled(), steps=2)
    moved = float(jnp.abs(want["weight"] - PARAMS["weight"]).max())
    assert moved > 1e-3  # the reference really moved (MultiSteps: on its second step)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7), got, want)


def test_loss_scale_in_a_chain_moves_the_weight_as_much_as_without() -> None:
    # The reported bug: chain(dynamic_loss_scale(sgd)) moved a weight by 4.44e-6 instead of 0.1455.
    plain = _one_step(optax.sgd(0.1))
    chained = _one_step(optax.chain(ls(optax.sgd(0.1))))
    want = float(jnp.abs(plain["weight"] - PARAMS["weight"]).max())
    got = float(jnp.abs(chained["weight"] - PARAMS["weight"]).max())
    assert got == pytest.approx(want, rel=1e-6) and want > 0.05


def test_loss_scale_in_a_chain_in_the_stateful_form_and_fit() -> None:
    opt = optax.chain(ls(optax.sgd(0.1)))
    step = train.make_train_step(train.model_loss(MODEL, F.mse_loss), opt, stateful=True, has_aux=True)
    ts, _, _ = step(train.TrainState.create(MODEL, opt, KEY, params=PARAMS), X, Y)
    np.testing.assert_allclose(ts.params["weight"], _one_step(optax.sgd(0.1))["weight"], rtol=1e-6)
    fitted = train.fit(MODEL, opt, [(X, Y)], loss=F.mse_loss, key=KEY, params=PARAMS, progress=False)
    np.testing.assert_allclose(fitted.params["weight"], ts.params["weight"], rtol=1e-6)


REFUSED = [
    (
        "after-a-clip",
        lambda: optax.chain(optax.clip_by_global_norm(1.0), ls(optax.sgd(0.1))),
        r"make_train_step: dynamic_loss_scale sits at opt_state\[1\], inside optax.chain \(not as its first transformation\), where other transformations see "
        r"the scaled gradients before it",
    ),
    (
        "one-group-of-multi-transform",
        lambda: optax.multi_transform({"w": ls(optax.sgd(0.1)), "b": optax.sgd(0.1)}, LABELS),
        r"make_train_step: dynamic_loss_scale sits at opt_state.inner_states\['w'\].inner_state, inside "
        r"one group of optax.multi_transform, .*wrap the whole optimizer once instead, e.g. train.dynamic_loss_scale\(optax.chain",
    ),
    (
        "two-scales",
        lambda: optax.chain(ls(optax.sgd(0.1)), ls(optax.scale(1.0))),
        r"make_train_step: the optimizer holds 2 dynamic_loss_scale wrappers \(at opt_state\[0\], opt_state\[1\]\), "
        r"but one loss can be scaled by one factor only",
    ),
]


@pytest.mark.parametrize("make_opt, match", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_loss_scale_where_gradients_reach_something_else_first_is_refused(make_opt, match) -> None:
    with pytest.raises(ValueError, match=match):
        _one_step(make_opt())


# ------------------------------------------------------------------- MultiSteps


def test_multisteps_accumulates_in_make_train_step_and_fit() -> None:
    halves = [(X[:4], Y[:4]), (X[4:], Y[4:])]
    acc = optax.MultiSteps(optax.sgd(0.1), every_k_schedule=2)
    params, opt_state = _copy(PARAMS), acc.init(PARAMS)
    step = train.make_train_step(_mse, acc)
    params, opt_state, _ = step(params, opt_state, *halves[0])
    jax.tree.map(np.testing.assert_array_equal, params, PARAMS)  # accumulating: no update yet
    params, opt_state, _ = step(params, opt_state, *halves[1])
    want = _one_step(optax.sgd(0.1))  # one step on the whole batch: the mean of the two halves' gradients
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), params, want)
    fitted = train.fit(MODEL, acc, halves, loss=F.mse_loss, key=KEY, params=PARAMS, progress=False)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), fitted.params, want)
    assert fitted.history[0]["step"] == 2  # TrainState.step counts micro-steps


def test_multisteps_with_a_frozen_group() -> None:
    acc = optax.MultiSteps(optax.sgd(0.1), every_k_schedule=1)
    mask = {"weight": True, "bias": False}
    fitted = train.fit(MODEL, acc, [(X, Y)], loss=F.mse_loss, key=KEY, params=PARAMS, trainable=mask, progress=False)
    np.testing.assert_array_equal(fitted.params["bias"], PARAMS["bias"])
    assert not np.array_equal(fitted.params["weight"], PARAMS["weight"])


# ------------------------------------------------------------------------ losses


def _first_call(loss_fn, **kw):
    opt = optax.sgd(0.1)
    return train.make_train_step(loss_fn, opt, **kw)(_copy(PARAMS), opt.init(PARAMS), X, Y)


def test_a_loss_that_is_not_a_float_scalar() -> None:
    with pytest.raises(
        ValueError,
        match=r"make_train_step: the loss must be a scalar, got shape \(8, 1\) \(float32\); reduce it to one number: a loss with reduction='mean'",
    ):
        _first_call(lambda p, x, y: F.mse_loss(MODEL.apply(p, x), y, reduction="none"))
    with pytest.raises(TypeError, match=r"make_train_step: the loss must be floating to be differentiated, got int32"):
        _first_call(lambda p, x, y: jnp.sum(MODEL.apply(p, x) > y).astype(jnp.int32))
    with pytest.raises(
        TypeError, match=r"make_train_step: the loss must be a float scalar, got a tuple of 2 items; pass has_aux=True"
    ):
        _first_call(lambda p, x, y: (_mse(p, x, y), MODEL.apply(p, x)))
    with pytest.raises(
        TypeError,
        match=r"make_train_step: loss_fn must return \(loss, aux\) with has_aux=True, got ArrayImpl|make_train_step: loss_fn must return \(loss, aux\) with has_aux=True, got .*Tracer",
    ):
        _first_call(_mse, has_aux=True)


def test_a_stateful_loss_that_returns_no_state() -> None:
    opt = optax.sgd(0.1)
    step = train.make_train_step(lambda p, s, k, x, y: _mse(p, x, y), opt, stateful=True)
    with pytest.raises(
        TypeError, match=r"make_train_step: loss_fn must return \(loss, new_state\) in the stateful form, got"
    ):
        step(train.TrainState.create(MODEL, opt, KEY), X, Y)


def test_fit_checks_the_loss_at_its_first_step() -> None:
    with pytest.raises(ValueError, match=r"fit: the loss must be a scalar, got shape \(8, 1\)"):
        train.fit(MODEL, optax.sgd(0.1), [(X, Y)], loss=nn.MSELoss(reduction="none"), key=KEY, progress=False)
    with pytest.raises(TypeError, match=r"fit: the loss must be floating to be differentiated, got int32"):
        train.fit(MODEL, optax.sgd(0.1), [(X, Y)], loss=lambda o, t: jnp.sum(o > t), key=KEY, progress=False)
    with pytest.raises(TypeError, match=r"fit: the loss must be a float scalar, got a tuple of 2 items"):
        train.fit(MODEL, optax.sgd(0.1), [(X, Y)], loss=lambda o, t: (F.mse_loss(o, t), o), key=KEY, progress=False)


# --------------------------------------------------------------- donated arrays


def test_calling_a_step_again_with_donated_params() -> None:
    opt = optax.sgd(0.1)
    params, opt_state = _copy(PARAMS), opt.init(PARAMS)
    step = train.make_train_step(_mse, opt)
    step(params, opt_state, X, Y)  # the results are dropped: params were donated
    with pytest.raises(
        ValueError,
        match=r"make_train_step: the step was called with arrays that an earlier call donated \(deleted\): the step donates `params` and `opt_state`.*or build the step with donate=False",
    ):
        step(params, opt_state, X, Y)
    assert step.lower(_copy(PARAMS), opt.init(PARAMS), X, Y) is not None  # the jit API passes through


def test_calling_a_stateful_step_again_with_a_donated_train_state() -> None:
    opt = optax.sgd(0.1)
    step = train.make_train_step(train.model_loss(MODEL, F.mse_loss), opt, stateful=True, has_aux=True)
    ts = train.TrainState.create(MODEL, opt, KEY)
    step(ts, X, Y)
    with pytest.raises(
        ValueError, match=r"make_train_step: .*the step donates the whole TrainState so that the update runs in place"
    ):
        step(ts, X, Y)


def test_train_state_create_copies_the_params_it_is_given() -> None:
    opt = optax.sgd(0.1)
    params = _copy(PARAMS)
    ts = train.TrainState.create(MODEL, opt, KEY, params=params)
    step = train.make_train_step(train.model_loss(MODEL, F.mse_loss), opt, stateful=True, has_aux=True)
    ts, _, _ = step(ts, X, Y)
    np.testing.assert_array_equal(params["weight"], PARAMS["weight"])  # still usable, unchanged
    assert not np.array_equal(ts.params["weight"], params["weight"])


# -------------------------------------------------------------------------- keys


@pytest.mark.parametrize("key", [0, 3, "seed", None], ids=["int-0", "int-3", "str", "none"])
def test_fit_and_train_state_need_a_prng_key(key) -> None:
    hint = f"jax.random.key\\({key}\\)" if isinstance(key, int) else r"jax.random.key\(0\)"
    with pytest.raises(
        TypeError,
        match=rf"fit: `key` must be a PRNG key such as jax.random.key\(0\), got {type(key).__name__} .*; pass {hint}",
    ):
        train.fit(MODEL, optax.sgd(0.1), [(X, Y)], loss=F.mse_loss, key=key, progress=False)
    with pytest.raises(TypeError, match=r"TrainState.create: `key` must be a PRNG key"):
        train.TrainState.create(MODEL, optax.sgd(0.1), key)


def test_a_legacy_uint32_key_is_accepted() -> None:
    ts = train.TrainState.create(MODEL, optax.sgd(0.1), jax.random.PRNGKey(0))
    assert int(ts.step) == 0


def test_fused_fit_with_multisteps() -> None:
    loader = data.DataLoader((np.asarray(X), np.asarray(Y)), batch_size=4)
    acc = optax.MultiSteps(optax.sgd(0.1), every_k_schedule=2)
    a = train.fit(MODEL, acc, loader, loss=F.mse_loss, key=KEY, params=PARAMS, progress=False, fused=True)
    b = train.fit(MODEL, acc, loader, loss=F.mse_loss, key=KEY, params=PARAMS, progress=False)
    jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
