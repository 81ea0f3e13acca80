"""Transfer learning: `trainable_mask`, freezing in `make_train_step`/`fit`, `param_labels`, `load_pretrained`."""

from __future__ import annotations

from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn
import funcnn.nn.functional as F
from funcnn import data, nn, train

KEY = jax.random.key(0)
_rng = np.random.default_rng(0)
X = jnp.asarray(_rng.normal(size=(8, 4)), jnp.float32)
Y = jnp.asarray(_rng.normal(size=(8, 2)), jnp.float32)


def _net(classes: int = 2) -> nn.Sequential:
    return nn.Sequential(features=nn.Sequential(nn.Linear(4, 8), nn.ReLU()), head=nn.Linear(8, classes))


MODEL = _net()
PARAMS = MODEL.init(KEY)


def _mse(p, x, y):
    return F.mse_loss(MODEL.apply(p, x), y)


def _dots(step, *args) -> int:
    return step.lower(*args).as_text().count("dot_general")


# ------------------------------------------------------------------- selection


def test_trainable_mask_patterns_prefixes_and_predicates() -> None:
    assert train.trainable_mask(PARAMS) == {
        "features": {"0": {"weight": True, "bias": True}},
        "head": {"weight": True, "bias": True},
    }
    frozen_body = {"features": {"0": {"weight": False, "bias": False}}, "head": {"weight": True, "bias": True}}
    for exclude in ("features", "features.*", ["features.0"], "features.0.*"):
        assert train.trainable_mask(PARAMS, exclude=exclude) == frozen_body
    assert train.trainable_mask(PARAMS, include="head.*") == frozen_body
    biases = train.trainable_mask(PARAMS, include="*.bias")
    assert biases == {"features": {"0": {"weight": False, "bias": True}}, "head": {"weight": False, "bias": True}}
    by_rank = train.trainable_mask(PARAMS, include=lambda name, w: w.ndim == 2, exclude="head")
    assert by_rank["features"]["0"] == {"weight": True, "bias": False} and by_rank["head"] == {
        "weight": False,
        "bias": False,
    }
    assert list(train.trainable_mask(PARAMS)) == list(PARAMS)  # the parameters' key order


def test_trainable_mask_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"trainable_mask: `exclude` pattern 'feature\.\*' matches no parameter; the names are \['features.0.weight'",
    ):
        train.trainable_mask(PARAMS, exclude="feature.*")
    with pytest.raises(
        TypeError,
        match=r"trainable_mask: `include` must be a glob pattern such as 'features.\*', a sequence of patterns, or a predicate",
    ):
        train.trainable_mask(PARAMS, include=3)


def test_trainable_params_view() -> None:
    view = train.trainable_params(PARAMS, {"features": False, "head": True})  # a prefix mask is spread
    assert view["features"]["0"] == {"weight": None, "bias": None}
    assert view["head"]["weight"] is PARAMS["head"]["weight"]
    with pytest.raises(
        ValueError,
        match=r"trainable_params: the `trainable` mask does not fit the parameters at the top level: the mask has keys \['body'\], the parameters have \['features', 'head'\]",
    ):
        train.trainable_params(PARAMS, {"body": False})
    with pytest.raises(
        ValueError,
        match=r"trainable_params: the `trainable` mask freezes every parameter, so there is nothing to train",
    ):
        train.trainable_params(PARAMS, {"features": False, "head": False})


# --------------------------------------------------------------------- freezing


def test_frozen_params_are_unchanged_and_have_no_optimizer_state() -> None:
    opt = optax.adam(1e-2)
    mask = train.trainable_mask(PARAMS, exclude="features")
    params = jax.tree.map(jnp.copy, PARAMS)
    opt_state = opt.init(train.trainable_params(params, mask))
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(opt_state)[0]]
    assert paths and not any("features" in p for p in paths)
    assert len(jax.tree.leaves(opt_state)) == 1 + 2 * 2  # count, and mu/nu of head.weight and head.bias
    step = train.make_train_step(_mse, opt, trainable=mask)
    for _ in range(3):
        params, opt_state, loss = step(params, opt_state, X, Y)
    np.testing.assert_array_equal(params["features"]["0"]["weight"], PARAMS["features"]["0"]["weight"])
    np.testing.assert_array_equal(params["features"]["0"]["bias"], PARAMS["features"]["0"]["bias"])
    assert not np.array_equal(params["head"]["weight"], PARAMS["head"]["weight"])


def test_frozen_gradients_are_not_computed() -> None:
    opt = optax.sgd(0.1)
    mask = train.trainable_mask(PARAMS, exclude="features")
    full = train.make_train_step(_mse, opt, donate=False)
    frozen = train.make_train_step(_mse, opt, trainable=mask, donate=False)
    n_full = _dots(full, PARAMS, opt.init(PARAMS), X, Y)
    n_frozen = _dots(frozen, PARAMS, opt.init(train.trainable_params(PARAMS, mask)), X, Y)
    # forward: 2 matmuls; backward: the head's weight gradient, plus (unfrozen only) the
    # gradient flowing into the features and the features' weight gradient.
    assert (n_full, n_frozen) == (5, 3)
    flops = [
        step.lower(PARAMS, o, X, Y).compile().cost_analysis()["flops"]
        for step, o in ((full, opt.init(PARAMS)), (frozen, opt.init(train.trainable_params(PARAMS, mask))))
    ]
    assert flops[1] < flops[0]


def test_frozen_train_state_and_stateful_step() -> None:
    opt = optax.sgd(0.1, momentum=0.9)
    ts = train.TrainState.create(MODEL, opt, KEY, trainable="head")
    assert ts.opt_state[0].trace["features"]["0"]["weight"] is None
    step = train.make_train_step(
        train.model_loss(MODEL, F.mse_loss), opt, stateful=True, has_aux=True, trainable="head", donate=False
    )
    new, _, _ = step(ts, X, Y)
    np.testing.assert_array_equal(new.params["features"]["0"]["weight"], ts.params["features"]["0"]["weight"])
    assert not np.array_equal(new.params["head"]["bias"], ts.params["head"]["bias"])


def test_freezing_errors() -> None:
    opt = optax.sgd(0.1)
    mask = train.trainable_mask(PARAMS, exclude="features")
    step = train.make_train_step(_mse, opt, trainable=mask, donate=False)
    with pytest.raises(
        ValueError,
        match=r"make_train_step\(trainable=...\): the optimizer state does not match the trainable parameters",
    ):
        step(PARAMS, optax.sgd(0.1, momentum=0.9).init(PARAMS), X, Y)
    bad = train.make_train_step(_mse, opt, trainable={"body": True}, donate=False)
    with pytest.raises(
        ValueError, match=r"make_train_step: the `trainable` mask does not fit the parameters at the top level"
    ):
        bad(PARAMS, opt.init(PARAMS), X, Y)


def test_fit_with_frozen_features() -> None:
    x = np.asarray(_rng.normal(size=(16, 4)), np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    loader = data.DataLoader((x, y), batch_size=8)
    result = train.fit(
        MODEL,
        optax.adam(1e-2),
        loader,
        loss=nn.CrossEntropyLoss(),
        epochs=2,
        key=KEY,
        params=PARAMS,
        trainable=train.trainable_mask(PARAMS, exclude="features.*"),
        progress=False,
    )
    np.testing.assert_array_equal(result.params["features"]["0"]["weight"], PARAMS["features"]["0"]["weight"])
    assert not np.array_equal(result.params["head"]["weight"], PARAMS["head"]["weight"])
    assert not any(
        "features" in jax.tree_util.keystr(p)
        for p, _ in jax.tree_util.tree_flatten_with_path(result.train_state.opt_state)[0]
    )
    assert not PARAMS["head"]["weight"].is_deleted()  # fit copies the parameters it is given


# ------------------------------------------------------------ per-group rates


def test_param_labels_give_each_group_its_rate() -> None:
    labels = train.param_labels(PARAMS, {"head.*": "head"}, default="body")
    assert labels == {"features": {"0": {"weight": "body", "bias": "body"}}, "head": {"weight": "head", "bias": "head"}}
    opt = optax.multi_transform({"head": optax.sgd(1.0), "body": optax.sgd(0.1)}, labels)
    step = train.make_train_step(_mse, opt, donate=False)
    new, _, _ = step(PARAMS, opt.init(PARAMS), X, Y)
    grads = jax.grad(_mse)(PARAMS, X, Y)
    for group, lr in (("head", 1.0), ("features", 0.1)):
        delta = jax.tree.map(lambda a, b: a - b, new[group], PARAMS[group])
        want = jax.tree.map(lambda g: -lr * g, grads[group])
        jax.tree.map(lambda d, w: np.testing.assert_allclose(d, w, rtol=1e-5, atol=1e-7), delta, want)


def test_param_labels_with_a_frozen_group() -> None:
    model = nn.Sequential(a=nn.Linear(4, 4), b=nn.Linear(4, 4), head=nn.Linear(4, 2))
    params = model.init(KEY)
    labels = train.param_labels(params, {"head": "head"}, default="body")
    opt = optax.multi_transform({"head": optax.sgd(1.0), "body": optax.sgd(0.1)}, labels)
    mask = train.trainable_mask(params, exclude="a")
    step = train.make_train_step(lambda p, x, y: F.mse_loss(model.apply(p, x), y), opt, trainable=mask, donate=False)
    new, _, _ = step(params, opt.init(train.trainable_params(params, mask)), X, Y)
    np.testing.assert_array_equal(new["a"]["weight"], params["a"]["weight"])
    assert not np.array_equal(new["b"]["weight"], params["b"]["weight"])


def test_param_labels_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"param_labels: no rule selects \['features.0.weight', 'features.0.bias'\] \(2 names\) and there is no `default`",
    ):
        train.param_labels(PARAMS, {"head.*": "head"})
    with pytest.raises(ValueError, match=r"param_labels: `rules` pattern 'heads' matches no parameter"):
        train.param_labels(PARAMS, {"heads": "head"}, default="body")
    with pytest.raises(TypeError, match=r"param_labels: `rules` must be a mapping \{pattern: label\} of strings"):
        train.param_labels(PARAMS, ["head"])


# ------------------------------------------------------- partial loading, head swap


def test_load_pretrained_swaps_the_head() -> None:
    old = _net(10).init(jax.random.key(5))
    new_model = _net(3)
    params, state, report = train.load_pretrained(new_model, funcnn.state_dict(old), jax.random.key(1))
    assert report.loaded == ("features.0.weight", "features.0.bias")
    assert report.initialized == ("head.weight", "head.bias") and report.excluded == () and report.unused == ()
    assert report.mismatched == (
        "head.weight: pretrained (10, 8), model (3, 8)",
        "head.bias: pretrained (10,), model (3,)",
    )
    np.testing.assert_array_equal(params["features"]["0"]["weight"], old["features"]["0"]["weight"])
    fresh = new_model.init(jax.random.key(1))
    np.testing.assert_array_equal(params["head"]["weight"], fresh["head"]["weight"])
    assert state == {} and "loaded 2 of 4 weights" in str(report)
    # Excluded names are not copied even when they fit; a nested params tree works as a source too.
    same = _net(2)
    params, _, report = train.load_pretrained(same, PARAMS, jax.random.key(1), exclude=("head.*",))
    assert report.excluded == ("head.weight", "head.bias") and report.mismatched == ()
    np.testing.assert_array_equal(params["head"]["bias"], same.init(jax.random.key(1))["head"]["bias"])


def test_load_pretrained_from_torch_with_buffers() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(
        OrderedDict(
            features=torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU()),
            head=torch.nn.Linear(8, 10),
            extra=torch.nn.Linear(2, 2),
        )
    )
    tmodel.train()
    tmodel.features(torch.randn(16, 4))  # move the running statistics away from their initial values
    model = nn.Sequential(features=nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU()), head=nn.Linear(8, 3))
    params, state, report = train.load_pretrained(model, tmodel.state_dict(), KEY)
    sd = tmodel.state_dict()
    np.testing.assert_array_equal(params["features"]["1"]["weight"], sd["features.1.weight"].numpy())
    np.testing.assert_array_equal(state["features"]["1"]["running_mean"], sd["features.1.running_mean"].numpy())
    assert int(state["features"]["1"]["num_batches_tracked"]) == 1
    assert (
        state["features"]["1"]["num_batches_tracked"].dtype
        == model.init_state()["features"]["1"]["num_batches_tracked"].dtype
    )
    assert report.unused == ("extra.weight", "extra.bias")
    assert set(report.initialized) == {"head.weight", "head.bias"}


def test_load_pretrained_errors() -> None:
    with pytest.raises(
        TypeError,
        match=r"load_pretrained: `pretrained` must be a state_dict mapping of dotted names to arrays, got list",
    ):
        train.load_pretrained(MODEL, [1, 2], KEY)
    with pytest.raises(TypeError, match=r"load_pretrained: `model` must be a funcnn.nn.Module, got dict"):
        train.load_pretrained({}, {}, KEY)
    wrapped = {f"module.{k}": v for k, v in funcnn.state_dict(PARAMS).items()}
    with pytest.raises(
        ValueError,
        match=r"load_pretrained: none of the 4 pretrained weights fits Sequential: the pretrained names are \['module.features.0.weight'.*strip prefixes such as 'module.'",
    ):
        train.load_pretrained(MODEL, wrapped, KEY)
    with pytest.raises(ValueError, match=r"load_pretrained: `exclude` pattern 'classifier.\*' matches no parameter"):
        train.load_pretrained(MODEL, funcnn.state_dict(PARAMS), KEY, exclude="classifier.*")
