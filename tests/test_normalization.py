"""Normalisation layers and ops: errors, state handling and behaviour beyond the generic registry."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn, train

KEY = jax.random.key(0)


def _x(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- reprs


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.BatchNorm1d(3),
        lambda m: m.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
        lambda m: m.BatchNorm1d(2, bias=False, track_running_stats=False),
        lambda m: m.InstanceNorm1d(3),
        lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True),
        lambda m: m.LayerNorm(4),
        lambda m: m.LayerNorm((2, 3), bias=False),
        lambda m: m.LayerNorm([5], elementwise_affine=False),
        lambda m: m.GroupNorm(2, 4),
        lambda m: m.GroupNorm(1, 3, affine=False),
    ],
    ids=["bn1d", "bn2d", "bn1d-nobias", "in1d", "in2d", "ln", "ln-2", "ln-list", "gn", "gn-noaffine"],
)
def test_repr_matches_torch(make) -> None:
    assert repr(make(nn)) == repr(make(torch.nn))


# ---------------------------------------------------------------------- batch norm


def test_apply_on_a_stateful_layer_names_apply_with_state() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match=r"apply_with_state\(params, state, x, train=True\)"):
        bn.apply(bn.init(KEY), jnp.ones((4, 3)), train=True)


def test_batchnorm_without_tracking_has_no_state_and_plain_apply(rng) -> None:
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert not bn.has_state and bn.init_state() == {}
    x = _x(rng, 5, 3)
    y = bn.apply(bn.init(KEY), x)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)
    _, state = bn.apply_with_state(bn.init(KEY), {}, x, train=True)
    assert state == {}


def test_batchnorm_eval_keeps_state_and_train_updates_it(rng) -> None:
    bn = nn.BatchNorm2d(2)
    params, state = bn.init(KEY), bn.init_state()
    assert state["num_batches_tracked"].dtype == jnp.int32 and state["num_batches_tracked"].shape == ()
    x = _x(rng, 3, 2, 2, 2)
    _, same = bn.apply_with_state(params, state, x)
    assert all(same[k] is state[k] for k in state)
    _, new = bn.apply_with_state(params, state, x, train=True)
    assert int(new["num_batches_tracked"]) == 1
    np.testing.assert_allclose(new["running_mean"], 0.1 * x.mean((0, 2, 3)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(new["running_var"], 0.9 + 0.1 * x.var((0, 2, 3), ddof=1), rtol=1e-5)


def test_momentum_none_is_the_cumulative_average(rng) -> None:
    bn = nn.BatchNorm1d(3, momentum=None)
    params, state = bn.init(KEY), bn.init_state()
    batches = [_x(rng, 4, 3) + i for i in range(3)]
    for x in batches:
        _, state = bn.apply_with_state(params, state, x, train=True)
    np.testing.assert_allclose(state["running_mean"], np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(state["running_var"], np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)


def test_torch_int64_buffer_loads_as_default_int() -> None:
    tmod = torch.nn.BatchNorm1d(3)
    tmod.num_batches_tracked.fill_(5)
    _, state = funcnn.load_state_dict(nn.BatchNorm1d(3), tmod.state_dict())
    assert state["num_batches_tracked"].dtype == jnp.int32 and int(state["num_batches_tracked"]) == 5


def test_batchnorm_in_a_jitted_train_step_updates_state_and_compiles_once(rng) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    opt = optax.sgd(0.1)
    ts = train.TrainState.create(model, opt, KEY)
    traces = []

    def criterion(out, y):
        traces.append(1)  # runs once per trace
        return jnp.mean((out - y) ** 2)

    step = train.make_train_step(train.model_loss(model, criterion), opt, stateful=True, has_aux=True)
    for _ in range(2):
        ts, loss, _ = step(ts, jnp.asarray(_x(rng, 8, 3)), jnp.asarray(_x(rng, 8, 1)))
    assert len(traces) == 1
    assert int(ts.state["1"]["num_batches_tracked"]) == 2
    assert float(jnp.abs(ts.state["1"]["running_mean"]).sum()) > 0


@pytest.mark.parametrize(
    "layer, x, match",
    [
        (
            nn.BatchNorm1d(3),
            np.ones((1, 3), np.float32),
            r"BatchNorm1d\(3, .*more than 1 value per channel when training, got input shape \(1, 3\)",
        ),
        (nn.BatchNorm2d(3), np.ones((1, 3, 1, 1), np.float32), r"more than 1 value per channel"),
        (
            nn.BatchNorm1d(3),
            np.ones((4, 2), np.float32),
            r"BatchNorm1d\(3, .*expected 3 channels \(num_features\) at dimension 1, got shape \(4, 2\)",
        ),
        (
            nn.BatchNorm1d(3),
            np.ones((4, 3, 2, 2), np.float32),
            r"expected a 2 or 3-D input \(\(N, C\) or \(N, C, L\)\), got shape \(4, 3, 2, 2\)",
        ),
        (
            nn.BatchNorm2d(3),
            np.ones((4, 3, 2), np.float32),
            r"BatchNorm2d\(3, .*expected a 4-D input \(\(N, C, H, W\)\), got shape \(4, 3, 2\)",
        ),
    ],
    ids=["single-value", "single-value-2d", "channels", "rank-1d", "rank-2d"],
)
def test_batchnorm_input_errors(layer, x, match) -> None:
    with pytest.raises(ValueError, match=match):
        layer.apply_with_state(layer.init(KEY), layer.init_state(), x, train=True)


def test_single_value_per_channel_is_fine_in_eval() -> None:
    bn = nn.BatchNorm1d(3)
    y, _ = bn.apply_with_state(bn.init(KEY), bn.init_state(), jnp.ones((1, 3)))
    assert y.shape == (1, 3)


def test_batchnorm_integer_input_is_a_type_error() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match=r"BatchNorm1d\(3, .*expected a floating-point input, got dtype int32"):
        bn.apply_with_state(bn.init(KEY), bn.init_state(), jnp.ones((4, 3), jnp.int32))


def test_missing_state_is_a_clear_error() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(
        ValueError,
        match=r"`state` lacks the buffers \['running_mean', 'running_var', 'num_batches_tracked'\]; pass `state = model.init_state\(\)`",
    ):
        bn.apply_with_state(bn.init(KEY), {}, jnp.ones((4, 3)), train=True)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.BatchNorm1d(0), r"BatchNorm1d: `num_features` must be a positive integer, got 0"),
        (lambda: nn.BatchNorm2d(3.0), r"BatchNorm2d: `num_features` must be a positive integer, got 3.0"),
        (lambda: nn.BatchNorm1d(3, eps=-1.0), r"BatchNorm1d: `eps` must be a non-negative number, got -1.0"),
        (
            lambda: nn.BatchNorm1d(3, momentum=1.5),
            r"BatchNorm1d: `momentum` must be a probability in \[0, 1\], got 1.5",
        ),
        (lambda: nn.InstanceNorm1d(-2), r"InstanceNorm1d: `num_features` must be a positive integer, got -2"),
        (lambda: nn.LayerNorm(0), r"LayerNorm: `normalized_shape` must be a positive int or a non-empty sequence"),
        (lambda: nn.LayerNorm(()), r"LayerNorm: `normalized_shape` must be .*, got \(\)"),
        (lambda: nn.LayerNorm(2.5), r"LayerNorm: `normalized_shape` must be .*, got 2.5"),
        (lambda: nn.LayerNorm(4, eps="x"), r"LayerNorm: `eps` must be a non-negative number, got 'x'"),
        (lambda: nn.GroupNorm(3, 4), r"GroupNorm: `num_channels` \(=4\) must be divisible by `num_groups` \(=3\)"),
        (lambda: nn.GroupNorm(0, 4), r"GroupNorm: `num_groups` must be a positive integer, got 0"),
        (lambda: nn.GroupNorm(2, 0), r"GroupNorm: `num_channels` must be a positive integer, got 0"),
        (lambda: nn.GroupNorm(2, 4, eps=-0.1), r"GroupNorm: `eps` must be a non-negative number, got -0.1"),
    ],
    ids=[
        "bn-zero",
        "bn-float",
        "bn-eps",
        "bn-momentum",
        "in-neg",
        "ln-zero",
        "ln-empty",
        "ln-float",
        "ln-eps",
        "gn-div",
        "gn-groups",
        "gn-channels",
        "gn-eps",
    ],
)
def test_constructor_errors(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------- F.batch_norm


def test_functional_batch_norm_matches_torch_and_returns_updated_stats(rng) -> None:
    x = _x(rng, 4, 3, 5)
    rm, rv, w, b = _x(rng, 3), np.abs(_x(rng, 3)) + 0.5, _x(rng, 3), _x(rng, 3)
    y, nm, nv = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-3)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w), torch.tensor(b), True, 0.2, 1e-3)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nm, trm.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(nv, trv.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(rm, np.asarray(rm))  # inputs untouched
    y2, m2, v2 = F.batch_norm(x, rm, rv, training=False)
    assert m2 is rm and v2 is rv
    ty2 = torch.nn.functional.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv))
    np.testing.assert_allclose(y2, ty2.numpy(), rtol=1e-5, atol=1e-5)
    y3, m3, v3 = F.batch_norm(x, None, None, training=True)
    assert m3 is None and v3 is None and y3.shape == x.shape


def test_batch_norm_half_precision_keeps_dtype_and_reduces_in_float32(rng) -> None:
    x = _x(rng, 8, 3) * 10 + 100
    y16, m, _ = F.batch_norm(jnp.asarray(x, jnp.bfloat16), jnp.zeros(3), jnp.ones(3), training=True)
    y32, m32, _ = F.batch_norm(x, jnp.zeros(3), jnp.ones(3), training=True)
    assert y16.dtype == jnp.bfloat16 and m.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(y16, np.float32), y32, atol=0.1)
    np.testing.assert_allclose(m, m32, rtol=1e-2)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: F.batch_norm(jnp.ones((4, 3)), None, None),
            ValueError,
            r"batch_norm: training=False normalises with the running statistics, so `running_mean` and `running_var` are needed, got None",
        ),
        (
            lambda: F.batch_norm(jnp.ones((4, 3)), jnp.zeros(3), None, training=True),
            ValueError,
            r"batch_norm: pass both `running_mean` and `running_var` or neither",
        ),
        (
            lambda: F.batch_norm(jnp.ones((4, 3)), jnp.zeros(2), jnp.ones(2)),
            ValueError,
            r"batch_norm: expected `running_mean` of shape \(3,\), one entry per channel \(dimension 1\) of the input, got shape \(2,\)",
        ),
        (
            lambda: F.batch_norm(jnp.ones((4, 3)), None, None, jnp.ones(4), training=True),
            ValueError,
            r"expected `weight` of shape \(3,\)",
        ),
        (
            lambda: F.batch_norm(jnp.ones(3), None, None, training=True),
            ValueError,
            r"batch_norm: expected an input of shape \(N, C, \*\) with at least 2 dimensions, got shape \(3,\)",
        ),
        (
            lambda: F.batch_norm(jnp.ones((1, 3)), None, None, training=True),
            ValueError,
            r"batch_norm: expected more than 1 value per channel when training",
        ),
        (
            lambda: F.batch_norm(np.ones((4, 3), np.int64), None, None, training=True),
            TypeError,
            r"batch_norm: expected a floating-point input",
        ),
        (
            lambda: F.instance_norm(jnp.ones((4, 3))),
            ValueError,
            r"instance_norm: expected an input of shape \(N, C, \*spatial\) with at least 3 dimensions, got shape \(4, 3\)",
        ),
        (
            lambda: F.instance_norm(jnp.ones((4, 3, 1))),
            ValueError,
            r"instance_norm: expected more than 1 spatial element when training, got input shape \(4, 3, 1\)",
        ),
        (
            lambda: F.instance_norm(jnp.ones((4, 3, 2)), use_input_stats=False),
            ValueError,
            r"instance_norm: use_input_stats=False normalises with the running statistics",
        ),
        (
            lambda: F.layer_norm(jnp.ones((3, 5)), 4),
            ValueError,
            r"layer_norm: expected an input of shape \(\*, 4\) ending in normalized_shape=\(4,\), got shape \(3, 5\)",
        ),
        (lambda: F.layer_norm(jnp.ones(4), (2, 4)), ValueError, r"layer_norm: expected an input of shape \(\*, 2, 4\)"),
        (
            lambda: F.layer_norm(jnp.ones((3, 4)), 4, jnp.ones(3)),
            ValueError,
            r"layer_norm: expected `weight` of shape \(4,\) \(normalized_shape\), got shape \(3,\)",
        ),
        (
            lambda: F.layer_norm(jnp.ones((3, 4)), [0]),
            ValueError,
            r"layer_norm: `normalized_shape` must be a positive int",
        ),
        (
            lambda: F.group_norm(jnp.ones((2, 4, 3)), 3),
            ValueError,
            r"group_norm: expected the input's channels \(dimension 1\) to be divisible by num_groups=3, got shape \(2, 4, 3\)",
        ),
        (
            lambda: F.group_norm(jnp.ones(4), 2),
            ValueError,
            r"group_norm: expected an input of shape \(N, C, \*\) with at least 2 dimensions, got shape \(4,\)",
        ),
        (
            lambda: F.group_norm(jnp.ones((2, 4)), 0),
            ValueError,
            r"group_norm: `num_groups` must be a positive integer, got 0",
        ),
        (
            lambda: F.group_norm(jnp.ones((2, 4)), 2, jnp.ones(2)),
            ValueError,
            r"group_norm: expected `weight` of shape \(4,\)",
        ),
    ],
    ids=[
        "bn-eval-no-stats",
        "bn-one-stat",
        "bn-stat-shape",
        "bn-weight-shape",
        "bn-rank",
        "bn-single",
        "bn-int",
        "in-rank",
        "in-spatial",
        "in-eval-no-stats",
        "ln-shape",
        "ln-rank",
        "ln-weight",
        "ln-bad-shape",
        "gn-div",
        "gn-rank",
        "gn-groups",
        "gn-weight",
    ],
)
def test_functional_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()


# ------------------------------------------------------------------- instance norm


def test_functional_instance_norm_matches_torch_with_running_stats(rng) -> None:
    x = _x(rng, 3, 2, 4)
    rm, rv = _x(rng, 2), np.abs(_x(rng, 2)) + 0.5
    y, nm, nv = F.instance_norm(x, rm, rv, momentum=0.3)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ty = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nm, trm.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(nv, trv.numpy(), rtol=1e-6, atol=1e-6)


def test_instancenorm_tracking_leaves_num_batches_tracked_and_momentum_none_freezes_stats(rng) -> None:
    layer = nn.InstanceNorm1d(2, track_running_stats=True, momentum=None)
    state = layer.init_state()
    _, new = layer.apply_with_state({}, state, _x(rng, 3, 2, 4), train=True)
    assert int(new["num_batches_tracked"]) == 0  # as torch: instance norm never counts batches
    np.testing.assert_array_equal(new["running_mean"], state["running_mean"])
    np.testing.assert_array_equal(new["running_var"], state["running_var"])


def test_instancenorm_channel_mismatch_warns_without_params_like_torch(rng) -> None:
    x = _x(rng, 2, 5, 4)
    with pytest.warns(
        UserWarning, match=r"InstanceNorm1d\(3, .*input's size at dimension 1 \(5\) does not match num_features"
    ):
        y = nn.InstanceNorm1d(3).apply({}, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ty = torch.nn.InstanceNorm1d(3)(torch.tensor(x))
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (
            nn.InstanceNorm1d(3, affine=True),
            (2, 5, 4),
            r"InstanceNorm1d\(3, .*expected 3 channels \(num_features\) at dimension 1, got shape \(2, 5, 4\)",
        ),
        (
            nn.InstanceNorm2d(3, affine=True),
            (5, 4, 4),
            r"InstanceNorm2d\(3, .*expected 3 channels \(num_features\) at dimension 0, got shape \(5, 4, 4\)",
        ),
        (
            nn.InstanceNorm1d(3),
            (2, 3, 4, 4),
            r"InstanceNorm1d\(3, .*expected a 2 or 3-D input \(\(C, L\) or \(N, C, L\)\), got shape \(2, 3, 4, 4\)",
        ),
        (nn.InstanceNorm2d(3), (3, 4), r"InstanceNorm2d\(3, .*expected a 3 or 4-D input"),
        (nn.InstanceNorm1d(3), (2, 3, 1), r"InstanceNorm1d\(3, .*expected more than 1 spatial element when training"),
    ],
    ids=["channels", "channels-unbatched", "rank-1d", "rank-2d", "spatial"],
)
def test_instancenorm_input_errors(layer, shape, match) -> None:
    with pytest.raises(ValueError, match=match):
        layer.apply_with_state(layer.init(KEY), layer.init_state(), jnp.ones(shape))


# ---------------------------------------------------------------- layer/group norm


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (
            nn.LayerNorm(4),
            (3, 5),
            r"LayerNorm\(\(4,\), eps=1e-05, elementwise_affine=True, bias=True\): expected an input of shape \(\*, 4\) ending in normalized_shape=\(4,\), got shape \(3, 5\)",
        ),
        (nn.LayerNorm((2, 3)), (3, 2), r"LayerNorm\(\(2, 3\), .*got shape \(3, 2\)"),
        (
            nn.GroupNorm(2, 4),
            (2, 6, 3),
            r"GroupNorm\(2, 4, eps=1e-05, affine=True, bias=True\): expected an input of shape \(N, 4, \*\) with num_channels at dimension 1, got shape \(2, 6, 3\)",
        ),
        (nn.GroupNorm(2, 4), (4,), r"GroupNorm\(2, 4, .*got shape \(4,\)"),
    ],
    ids=["ln", "ln-2", "gn", "gn-rank"],
)
def test_layer_and_group_norm_input_errors(layer, shape, match) -> None:
    with pytest.raises(ValueError, match=match):
        layer.apply(layer.init(KEY), jnp.ones(shape))


def test_layer_and_group_norm_ignore_train(rng) -> None:
    x = _x(rng, 2, 4, 3)
    for layer in (nn.LayerNorm(3), nn.GroupNorm(2, 4)):
        p = layer.init(KEY)
        np.testing.assert_array_equal(layer.apply(p, x), layer.apply(p, x, train=True))


# ------------------------------------- BatchNorm3d, SyncBatchNorm, InstanceNorm3d, RMSNorm, LRN


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.BatchNorm3d(3, momentum=None),
        lambda m: m.SyncBatchNorm(4, eps=1e-3, affine=False),
        lambda m: m.InstanceNorm3d(3, affine=True),
        lambda m: m.RMSNorm(4),
        lambda m: m.RMSNorm([2, 3], eps=1e-4, elementwise_affine=False),
        lambda m: m.LocalResponseNorm(3),
        lambda m: m.LocalResponseNorm(2, alpha=0.5, beta=1.0, k=2.0),
        lambda m: m.CrossMapLRN2d(5, alpha=1e-3),
    ],
    ids=["bn3d", "syncbn", "in3d", "rms", "rms-2", "lrn", "lrn-args", "crossmap"],
)
def test_new_norm_reprs_match_torch(make) -> None:
    assert repr(make(nn)) == repr(make(torch.nn))


def test_syncbatchnorm_equals_batchnorm_and_convert_keeps_params_and_state(rng) -> None:
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Sequential(nn.Flatten(), nn.BatchNorm1d(12)))
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(model, process_group="group")
    kinds = [type(m).__name__ for _, m in synced.named_modules()]
    assert kinds.count("SyncBatchNorm") == 2 and "BatchNorm2d" not in kinds and "BatchNorm1d" not in kinds
    assert [type(m).__name__ for _, m in model.named_modules()].count("SyncBatchNorm") == 0  # the original is kept
    assert synced[1].process_group == "group"
    params, state = model.init(KEY), model.init_state()
    x = jnp.asarray(_x(rng, 4, 2, 2, 2))
    want, want_state = model.apply_with_state(params, state, x, train=True)
    got, got_state = synced.apply_with_state(params, state, x, train=True)
    np.testing.assert_array_equal(got, want)
    for a, b in zip(jax.tree.leaves(got_state), jax.tree.leaves(want_state)):
        np.testing.assert_array_equal(a, b)


def test_rms_norm_default_eps_is_the_machine_epsilon_of_the_computation_type() -> None:
    x = jnp.full((1, 3), 1e-4, jnp.float32)
    eps = float(jnp.finfo(jnp.float32).eps)
    np.testing.assert_allclose(F.rms_norm(x, 3), x / np.sqrt(1e-8 + eps), rtol=1e-6)
    half = F.rms_norm(x.astype(jnp.bfloat16), 3)
    assert half.dtype == jnp.bfloat16  # reduced in float32 with float32's eps, returned in the input dtype
    np.testing.assert_allclose(half.astype(jnp.float32), x / np.sqrt(1e-8 + eps), rtol=1e-2)
    want = torch.nn.functional.rms_norm(torch.full((1, 3), 1e-4), (3,))
    np.testing.assert_allclose(F.rms_norm(x, (3,)), want.numpy(), rtol=1e-6)


def test_local_response_norm_functional_matches_torch(rng) -> None:
    for shape, size in (((2, 6, 3), 3), ((1, 4, 2, 3), 2), ((2, 5, 2, 2, 2), 4)):
        x = _x(rng, *shape)
        want = torch.nn.functional.local_response_norm(torch.from_numpy(x), size, 0.3, 0.6, 1.5)
        np.testing.assert_allclose(
            F.local_response_norm(jnp.asarray(x), size, 0.3, 0.6, 1.5), want.numpy(), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize(
    "call, err, match",
    [
        (
            lambda: nn.BatchNorm3d(2).apply_with_state({}, nn.BatchNorm3d(2).init_state(), jnp.ones((2, 2, 3, 3))),
            ValueError,
            r"BatchNorm3d\(2, .*\): expected a 5-D input \(\(N, C, D, H, W\)\), got shape \(2, 2, 3, 3\)",
        ),
        (
            lambda: nn.SyncBatchNorm(2).apply_with_state({}, nn.SyncBatchNorm(2).init_state(), jnp.ones(2)),
            ValueError,
            r"SyncBatchNorm\(2, .*\): expected an input of shape \(N, C, \*\) with at least 2 dimensions, got shape \(2,\)",
        ),
        (
            lambda: nn.SyncBatchNorm(3).apply_with_state({}, nn.SyncBatchNorm(3).init_state(), jnp.ones((2, 2, 5))),
            ValueError,
            r"SyncBatchNorm\(3, .*\): expected 3 channels \(num_features\) at dimension 1, got shape \(2, 2, 5\)",
        ),
        (
            lambda: nn.InstanceNorm3d(2).apply({}, jnp.ones((2, 2, 3))),
            ValueError,
            r"InstanceNorm3d\(2, .*\): expected a 4 or 5-D input \(\(C, D, H, W\) or \(N, C, D, H, W\)\), got shape \(2, 2, 3\)",
        ),
        (
            lambda: nn.RMSNorm(0),
            ValueError,
            r"RMSNorm: `normalized_shape` must be a positive int or a non-empty sequence of positive ints, got 0",
        ),
        (
            lambda: nn.RMSNorm(3, eps=-1.0),
            ValueError,
            r"RMSNorm: `eps` must be None \(machine epsilon\) or a non-negative number, got -1.0",
        ),
        (
            lambda: nn.RMSNorm(3).apply({"weight": jnp.ones(3)}, jnp.ones((2, 4))),
            ValueError,
            r"RMSNorm\(\(3,\), eps=None, elementwise_affine=True\): expected an input of shape \(\*, 3\) ending in normalized_shape=\(3,\), got shape \(2, 4\)",
        ),
        (
            lambda: F.rms_norm(jnp.ones((2, 3)), 3, weight=jnp.ones(2)),
            ValueError,
            r"rms_norm: expected `weight` of shape \(3,\) \(normalized_shape\), got shape \(2,\)",
        ),
        (
            lambda: F.rms_norm(jnp.ones((2, 3), jnp.int32), 3),
            TypeError,
            r"rms_norm: expected a floating-point input, got dtype int32",
        ),
        (lambda: nn.LocalResponseNorm(0), ValueError, r"LocalResponseNorm: `size` must be a positive integer, got 0"),
        (
            lambda: nn.LocalResponseNorm(2, alpha="big"),
            TypeError,
            r"LocalResponseNorm: `alpha` must be a real number, got str",
        ),
        (
            lambda: nn.LocalResponseNorm(2).apply({}, jnp.ones((2, 3))),
            ValueError,
            r"LocalResponseNorm\(2, alpha=0.0001, beta=0.75, k=1.0\): expected an input of shape \(N, C, \*\) with at least 3 dimensions, got shape \(2, 3\); add a length-1 axis",
        ),
        (
            lambda: F.local_response_norm(jnp.ones((2, 3, 4), jnp.int32), 2),
            TypeError,
            r"local_response_norm: expected a floating-point input, got dtype int32",
        ),
        (
            lambda: nn.CrossMapLRN2d(3).apply({}, jnp.ones((2, 3, 4))),
            ValueError,
            r"CrossMapLRN2d\(3, alpha=0.0001, beta=0.75, k=1\): expected a 4-D input \(N, C, H, W\), got shape \(2, 3, 4\)",
        ),
    ],
    ids=[
        "bn3d-rank",
        "syncbn-rank",
        "syncbn-channels",
        "in3d-rank",
        "rms-shape",
        "rms-eps",
        "rms-input",
        "rms-weight",
        "rms-int",
        "lrn-size",
        "lrn-alpha",
        "lrn-rank",
        "lrn-int",
        "crossmap-rank",
    ],
)
def test_new_norm_errors(call, err, match) -> None:
    with pytest.raises(err, match=match):
        call()
