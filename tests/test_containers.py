"""ModuleList, ModuleDict, ChildRunner, Residual and Parallel; hand-written models trained against torch.

The generic checks (forward, gradients, buffers, jit, vmap, state_dict) of these
containers and of the hand-written models run from `tests/cases/containers.py`; here
are their errors, the key and state rules, and short training runs compared with the
equivalent torch modules.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from cases.containers import ConvLSTM, ResNetBlock, TorchConvLSTM, TorchResNetBlock

import funcnn
import funcnn.nn.functional as F
from funcnn import nn, train

torch.set_num_threads(1)


class KeyEcho(nn.Module):
    """Returns the raw data of the key it was given (to observe the key rule)."""

    def forward(self, params, x, *, key=None, train=False):
        return jax.random.key_data(key)


def key_data(key):
    return np.asarray(jax.random.key_data(key))


# ------------------------------------------------------------------ ModuleList / Dict
def test_module_list_keys_match_torch_and_behave_like_a_list() -> None:
    layers = nn.ModuleList([nn.Linear(3, 4), nn.ReLU()])
    layers.append(nn.Linear(4, 2)).extend([nn.Tanh(), nn.Linear(2, 1)])
    theirs = torch.nn.ModuleList(
        [torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)]
    )
    assert list(funcnn.state_dict(layers.init(jax.random.key(0)))) == list(theirs.state_dict())
    assert len(layers) == 5 and isinstance(layers[1], nn.ReLU) and isinstance(layers[-1], nn.Linear)
    assert [type(m).__name__ for m in layers[1:3]] == ["ReLU", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList)
    assert repr(nn.ModuleList([nn.ReLU()])) == repr(torch.nn.ModuleList([torch.nn.ReLU()]))


def test_module_dict_keys_match_torch() -> None:
    heads = nn.ModuleDict([("cls", nn.Linear(4, 3)), ("act", nn.ReLU()), ("box", nn.Linear(4, 2))])
    theirs = torch.nn.ModuleDict({"cls": torch.nn.Linear(4, 3), "act": torch.nn.ReLU(), "box": torch.nn.Linear(4, 2)})
    assert list(funcnn.state_dict(heads.init(jax.random.key(0)))) == list(theirs.state_dict())
    assert list(heads) == list(heads.keys()) == ["cls", "act", "box"]
    assert "box" in heads and "nope" not in heads and len(heads) == 3
    assert [n for n, _ in heads.items()] == ["cls", "act", "box"] and len(list(heads.values())) == 3
    with pytest.raises(KeyError, match=r"ModuleDict has no child 'nope'; its children are \['cls', 'act', 'box'\]"):
        heads["nope"]


@pytest.mark.parametrize(
    "holder", [nn.ModuleList([nn.Linear(2, 2)]), nn.ModuleDict({"a": nn.Linear(2, 2)})], ids=["list", "dict"]
)
def test_holders_have_no_forward(holder) -> None:
    params = holder.init(jax.random.key(0))
    for call in (
        lambda: holder.apply(params, jnp.ones(2)),
        lambda: holder.apply_with_state(params, {}, jnp.ones(2)),
        lambda: holder.forward(params, jnp.ones(2)),
    ):
        with pytest.raises(
            TypeError,
            match=f"{type(holder).__name__} holds children for a custom model and has no "
            r"forward of its own: .*nn.ChildRunner",
        ):
            call()


def test_holder_errors() -> None:
    with pytest.raises(TypeError, match=r"ModuleList: expected an iterable of modules, got a Linear"):
        nn.ModuleList(nn.Linear(2, 2))
    with pytest.raises(
        TypeError,
        match=r"ModuleList: child '1' must be a funcnn.nn.Module, got "
        r"builtin_function_or_method; wrap plain functions with nn.Lambda",
    ):
        nn.ModuleList([nn.ReLU(), abs])
    with pytest.raises(TypeError, match=r"ModuleDict: expected a mapping of names to modules .* got a int"):
        nn.ModuleDict(3)
    with pytest.raises(ValueError, match=r"ModuleDict: child names must be non-empty strings without '.', got 'a.b'"):
        nn.ModuleDict({"a.b": nn.ReLU()})


def test_holders_thread_state_through_children() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2), nn.BatchNorm1d(2)])
    assert layers.has_state and not nn.ModuleList([nn.ReLU()]).has_state
    assert sorted(layers.init_state()) == ["1"]


# -------------------------------------------------------------------------- ChildRunner
def test_child_runner_key_rule() -> None:
    children = {"a": KeyEcho(), "b": KeyEcho(), "holder": nn.ModuleList([KeyEcho(), KeyEcho()])}
    key = jax.random.key(7)
    run = nn.ChildRunner(children, {}, key=key)
    np.testing.assert_array_equal(run("a", 0), key_data(jax.random.fold_in(key, 0)))
    np.testing.assert_array_equal(run("b", 0), key_data(jax.random.fold_in(key, 1)))
    np.testing.assert_array_equal(run("holder.1", 0), key_data(jax.random.fold_in(jax.random.fold_in(key, 2), 1)))
    # a second call of the same child folds in the repeat number: a new mask for dropout
    np.testing.assert_array_equal(run("a", 0), key_data(jax.random.fold_in(jax.random.fold_in(key, 0), 1)))
    # the rule is Sequential's: child i of a container gets fold_in(key, i)
    np.testing.assert_array_equal(
        nn.Sequential(nn.Identity(), KeyEcho()).apply({}, 0, key=key), key_data(jax.random.fold_in(key, 1))
    )


def test_child_runner_threads_state_and_keeps_uncalled_children() -> None:
    children = {"bn1": nn.BatchNorm1d(3), "bn2": nn.BatchNorm1d(3), "fc": nn.Linear(3, 3)}
    params = nn.init_children(children, jax.random.key(0))
    state = nn.init_children_state(children)
    run = nn.ChildRunner(children, params, state, train=True)
    run("bn1", jnp.arange(12.0).reshape(4, 3))
    run("fc", jnp.ones((4, 3)))
    new = run.state
    assert jax.tree.structure(new) == jax.tree.structure(state)
    assert int(new["bn1"]["num_batches_tracked"]) == 1 and not np.allclose(new["bn1"]["running_mean"], 0.0)
    assert new["bn2"] is state["bn2"]  # untouched child: the very same buffers
    assert int(state["bn1"]["num_batches_tracked"]) == 0  # the input tree is not mutated


def test_child_runner_unknown_child() -> None:
    run = nn.ChildRunner(ResNetBlock(2, 2), {}, {})
    with pytest.raises(
        ValueError,
        match=r"ResNetBlock: no child 'conv3' to run: ResNetBlock has children "
        r"\['conv1', 'bn1', 'conv2', 'bn2'\]",
    ):
        run("conv3", jnp.ones((1, 2, 4, 4)))
    run = nn.ChildRunner({"layers": nn.ModuleList([nn.ReLU()])}, {})
    with pytest.raises(ValueError, match=r"no child 'layers.4' to run: layers has children \['0'\]"):
        run("layers.4", jnp.ones(2))


# --------------------------------------------------------------------- Residual, Parallel
def test_residual_shape_mismatch() -> None:
    block = nn.Residual(nn.Linear(4, 6))
    with pytest.raises(
        ValueError,
        match=r"Residual: the module's output has shape \(2, 6\) but the shortcut's has "
        r"shape \(2, 4\) \(input shape \(2, 4\)\); give a shortcut",
    ):
        block.apply(block.init(jax.random.key(0)), jnp.ones((2, 4)))


def test_residual_with_batch_norm_threads_state() -> None:
    block = nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)), shortcut=nn.BatchNorm1d(3))
    params, state = block.init(jax.random.key(0)), block.init_state()
    assert list(funcnn.state_dict(params, state)) == [
        "module.0.weight",
        "module.0.bias",
        "module.1.weight",
        "module.1.bias",
        "module.1.running_mean",
        "module.1.running_var",
        "module.1.num_batches_tracked",
        "shortcut.weight",
        "shortcut.bias",
        "shortcut.running_mean",
        "shortcut.running_var",
        "shortcut.num_batches_tracked",
    ]
    _, new = block.apply_with_state(params, state, jnp.arange(12.0).reshape(4, 3), train=True)
    assert int(new["module"]["1"]["num_batches_tracked"]) == 1 and int(new["shortcut"]["num_batches_tracked"]) == 1
    with pytest.raises(TypeError, match="use `y, state = model.apply_with_state"):
        block.apply(params, jnp.ones((4, 3)))


def test_parallel_combinations() -> None:
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    x = jnp.ones((4, 3))
    for combine, shape in (("tuple", None), ("sum", (4, 2)), (lambda outs: jnp.stack(outs), (2, 4, 2))):
        par = nn.Parallel({"a": a, "b": b}, combine=combine)
        params = par.init(jax.random.key(0))
        out = par.apply(params, x)
        ya, yb = a.apply(params["a"], x), b.apply(params["b"], x)
        if shape is None:
            assert isinstance(out, tuple) and len(out) == 2
            np.testing.assert_allclose(out[1], yb)
        else:
            assert out.shape == shape
    np.testing.assert_allclose(nn.Parallel(a, b, combine="sum").apply({"0": params["a"], "1": params["b"]}, x), ya + yb)
    assert repr(nn.Parallel(a, combine="cat", dim=1)).startswith("Parallel(\n  combine='cat', dim=1\n  (0): Linear")


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda: nn.Parallel(nn.ReLU(), combine="mean"),
            ValueError,
            r"`combine` must be one of \['tuple', 'sum', 'cat'\] or a callable, got 'mean'",
        ),
        (lambda: nn.Parallel(nn.ReLU(), combine="cat"), ValueError, "combine='cat' needs the concatenation axis"),
        (lambda: nn.Parallel(nn.ReLU(), dim=1), ValueError, r"`dim` \(=1\) only applies to combine='cat'"),
        (lambda: nn.Parallel(), ValueError, "expected at least one child module, got none"),
        (lambda: nn.Parallel(nn.ReLU(), b=nn.ReLU()), TypeError, "either positionally or by name, not both"),
        (lambda: nn.Parallel(nn.ReLU(), "x"), TypeError, "child '1' must be a funcnn.nn.Module, got str"),
    ],
    ids=["combine", "cat-dim", "dim", "empty", "mixed", "not-module"],
)
def test_parallel_constructor_errors(make, error, match) -> None:
    with pytest.raises(error, match="Parallel.*" + match):
        make()


@pytest.mark.parametrize(
    "combine, dim, match",
    [
        (
            "sum",
            None,
            r"Parallel\(combine='sum'\): expected the children's outputs to have one shape, got "
            r"\[\(4, 2\), \(4, 5\)\]",
        ),
        (
            "cat",
            0,
            r"Parallel\(combine='cat', dim=0\): expected outputs of one rank that agree on every axis but 0, "
            r"got shapes \[\(4, 2\), \(4, 5\)\]",
        ),
    ],
    ids=["sum", "cat"],
)
def test_parallel_output_shape_errors(combine, dim, match) -> None:
    par = nn.Parallel(nn.Linear(3, 2), nn.Linear(3, 5), combine=combine, dim=dim)
    with pytest.raises(ValueError, match=match):
        par.apply(par.init(jax.random.key(0)), jnp.ones((4, 3)))


# ------------------------------------------------- hand-written models trained vs torch
def _torch_sgd(tmod, loss_fn, batches, lr):
    opt = torch.optim.SGD(tmod.parameters(), lr=lr)
    losses = []
    for batch in batches:
        opt.zero_grad()
        loss = loss_fn(tmod, *[torch.from_numpy(b) for b in batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _funcnn_sgd(model, tmod, loss, batches, lr):
    params, state = funcnn.load_state_dict(model, tmod.state_dict())
    opt = optax.sgd(lr)
    ts = train.TrainState.create(model, opt, jax.random.key(0), params=params, state=state)
    step = train.make_train_step(train.model_loss(model, loss), opt, stateful=True, has_aux=True)
    losses = []
    for batch in batches:
        ts, value, _ = step(ts, *batch)
        losses.append(float(value))
    return ts, losses


def _compare(ts, tmod, losses, tlosses):
    np.testing.assert_allclose(losses, tlosses, rtol=1e-4, atol=1e-5)
    expected = tmod.state_dict()
    for k, v in funcnn.state_dict(ts.params, ts.state).items():
        np.testing.assert_allclose(v, expected[k].numpy(), rtol=1e-4, atol=1e-4, err_msg=k)


def test_resnet_block_trains_like_torch(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    tmod = TorchResNetBlock(3, 4, stride=2).train()
    model = ResNetBlock(3, 4, stride=2)
    batches = [
        (rng.standard_normal((4, 3, 6, 6)).astype(np.float32), rng.standard_normal((4, 4, 3, 3)).astype(np.float32))
        for _ in range(3)
    ]
    ts, losses = _funcnn_sgd(model, tmod, F.mse_loss, batches, 0.1)
    tlosses = _torch_sgd(tmod, lambda m, x, y: torch.nn.functional.mse_loss(m(x), y), batches, 0.1)
    _compare(ts, tmod, losses, tlosses)
    assert int(ts.state["bn1"]["num_batches_tracked"]) == 3


def test_cnn_lstm_trains_like_torch(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    tmod = TorchConvLSTM()
    model = ConvLSTM()
    batches = [(rng.standard_normal((4, 3, 7)).astype(np.float32), rng.integers(0, 2, 4)) for _ in range(3)]
    ts, losses = _funcnn_sgd(model, tmod, F.cross_entropy, batches, 0.5)
    tlosses = _torch_sgd(tmod, lambda m, x, y: torch.nn.functional.cross_entropy(m(x), y), batches, 0.5)
    _compare(ts, tmod, losses, tlosses)
