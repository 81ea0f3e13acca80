"""Models written like PyTorch's: attribute children plus ``forward(self, run, x)``, against torch twins.

Each funcnn model here has only ``__init__`` and ``forward``; its torch twin, written
in the test with torch's attribute names, gives the weights. The checks: the
``state_dict`` keys (in order) equal torch's, outputs (and gradients) agree, buffers
thread through ``apply_with_state``, and ``apply`` works where no buffer changes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
from funcnn import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cases.attribute_models import (  # noqa: E402
    ResidualMLP,
    TokenModel,
    TorchBasicBlock,
    TorchResidualMLP,
    TorchTokenModel,
    TorchTransformerLM,
    TransformerLM,
)

from examples.resnet import ResNet18  # noqa: E402

KEY = jax.random.key(0)


def _torch_sd(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


# ------------------------------------------------------------------- ResNet-18
class TorchResNet18(torch.nn.Module):
    """torchvision.models.resnet18's layout (``width`` 64 there)."""

    def __init__(self, num_classes=10, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = torch.nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, 2)
        self.layer2 = self._make_layer(2 * width, 2, 2)
        self.layer3 = self._make_layer(4 * width, 2, 2)
        self.layer4 = self._make_layer(8 * width, 2, 2)
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(8 * width, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = torch.nn.Sequential(
                torch.nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), torch.nn.BatchNorm2d(planes)
            )
        layers = [TorchBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TorchBasicBlock(planes, planes) for _ in range(1, blocks)]
        return torch.nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@pytest.fixture(scope="module")
def resnet_pair():
    torch.manual_seed(0)
    twin = TorchResNet18(num_classes=5, width=8)
    with torch.no_grad():  # non-trivial running statistics, so eval mode tests them
        for m in twin.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    model = ResNet18(num_classes=5, width=8)
    return model, twin


def test_resnet18_keys_equal_torchvision_layout_in_order(resnet_pair) -> None:
    model, twin = resnet_pair
    params, state = model.init(KEY), model.init_state()
    assert list(funcnn.state_dict(params, state, model=model)) == list(twin.state_dict())
    sorted_params = jax.jit(lambda p: p)(params)  # jax returns dicts with sorted keys
    assert list(funcnn.state_dict(sorted_params, state, model=model)) == list(twin.state_dict())
    assert "layer1.0.conv1.weight" in twin.state_dict() and "layer2.0.downsample.1.running_mean" in twin.state_dict()
    assert model.has_state and not nn.Sequential(nn.ReLU()).has_state


def test_resnet18_loads_torch_weights_and_matches_logits(resnet_pair, rng: np.random.Generator) -> None:
    model, twin = resnet_pair
    params, state = funcnn.load_state_dict(model, twin.state_dict())
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    twin.eval()
    with torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
    got, same_state = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x))(params, state, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # training mode updates the running statistics exactly as torch does
    twin.train()
    with torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
    got, new_state = model.apply_with_state(params, state, x, train=True)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    sd = funcnn.state_dict(params, new_state, model=model)
    for name, value in twin.state_dict().items():
        np.testing.assert_allclose(sd[name], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert sd["bn1.num_batches_tracked"].dtype == np.int64  # torch's dtype


def test_resnet18_apply_refuses_and_names_a_running_statistic(resnet_pair) -> None:
    model, _ = resnet_pair
    with pytest.raises(
        TypeError,
        match=r"^ResNet18 has buffers that change as it runs \(in 'bn1', "
        r"'layer1\.0\.bn1', 'layer1\.0\.bn2', \.\.\.\), so `apply` cannot",
    ):
        model.apply(model.init(KEY), jnp.ones((1, 3, 32, 32)))


# ------------------------------------------------------------ Transformer LM
@pytest.mark.parametrize("persistent", [False, True], ids=["buffer", "persistent-buffer"])
def test_transformer_lm_with_positional_buffer_matches_torch_and_apply_works(persistent, rng) -> None:
    torch.manual_seed(1)
    twin, model = TorchTransformerLM(persistent=persistent), TransformerLM(persistent=persistent)
    assert not model.has_state
    state = model.init_state()
    assert list(funcnn.state_dict(model.init(KEY), state, model=model)) == list(twin.state_dict())
    assert ("pe" in state) == persistent
    params, state = funcnn.load_state_dict(model, twin.state_dict())
    tokens = rng.integers(0, 11, size=(3, 7)).astype(np.int32)
    with torch.no_grad():
        want = twin.eval()(torch.from_numpy(tokens).long()).numpy()
    np.testing.assert_allclose(model.apply(params, tokens), want, rtol=1e-4, atol=1e-5)
    got, out_state = model.apply_with_state(params, state, tokens)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert jax.tree.structure(out_state) == jax.tree.structure(state)
    # gradients agree too
    t_tokens = torch.from_numpy(tokens).long()
    twin(t_tokens).square().mean().backward()
    grads = jax.grad(lambda p: jnp.mean(model.apply(p, tokens) ** 2))(params)
    flat = funcnn.state_dict(grads)
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(flat[name], p.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_a_loaded_persistent_buffer_wins_over_the_module_constant() -> None:
    model = TransformerLM(persistent=True)
    params, state = model.init(KEY), model.init_state()
    tokens = jnp.zeros((1, 4), jnp.int32)
    shifted = {**state, "pe": state["pe"] + 1.0}
    a, _ = model.apply_with_state(params, state, tokens)
    b, _ = model.apply_with_state(params, shifted, tokens)
    np.testing.assert_allclose(a, model.apply(params, tokens), rtol=1e-6)
    assert not np.allclose(a, b)


# ---------------------------------------------------------------- residual MLP
def test_residual_mlp_keys_outputs_and_gradients_match_torch(rng) -> None:
    torch.manual_seed(2)
    twin, model = TorchResidualMLP(), ResidualMLP()
    with torch.no_grad():
        twin.scale.uniform_(0.5, 1.5)
    params = model.init(KEY)
    assert list(funcnn.state_dict(params)) == list(twin.state_dict())
    assert model.init_state() == {} and not model.has_state
    params, _ = funcnn.load_state_dict(model, twin.state_dict())
    x = rng.standard_normal((5, 6)).astype(np.float32)
    tx = torch.from_numpy(x)
    twin(tx).sum().backward()
    np.testing.assert_allclose(model.apply(params, x), twin(tx).detach().numpy(), rtol=1e-5, atol=1e-5)
    grads = funcnn.state_dict(jax.grad(lambda p: model.apply(p, x).sum())(params))
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    # torch tensors are accepted as inputs, as load_state_dict accepts torch values
    np.testing.assert_allclose(model.apply(params, tx), model.apply(params, x), rtol=1e-6)
    lstm = nn.LSTM(6, 3)
    lp = lstm.init(KEY)
    h = (torch.zeros(1, 5, 3), torch.ones(1, 5, 3))
    out_t, _ = lstm.apply(lp, tx[None], h)
    out_j, _ = lstm.apply(lp, x[None], (jnp.zeros((1, 5, 3)), jnp.ones((1, 5, 3))))
    np.testing.assert_allclose(out_t, out_j, rtol=1e-6)


def test_init_gives_every_member_its_own_key_in_attribute_order() -> None:
    model = ResidualMLP()
    params = model.init(KEY)
    keys = funcnn._rng.split(KEY, 4)
    np.testing.assert_array_equal(params["out"]["weight"], nn.Linear(6, 4).init(keys[3])["weight"])
    np.testing.assert_array_equal(
        params["blocks"]["0"]["1"]["weight"], nn.ModuleList(model.blocks).init(keys[1])["0"]["1"]["weight"]
    )


def test_plain_lists_and_dicts_of_modules_are_holders_with_torch_keys() -> None:
    class Heads(nn.Module):
        def __init__(self):
            self.trunk = [nn.Linear(3, 3), nn.ReLU()]
            self.heads = {"cls": nn.Linear(3, 2), "box": nn.Linear(3, 4)}
            self.sizes = (3, 3)  # not modules: configuration

        def forward(self, run, x):
            h = run.trunk[1](run.trunk[0](x))
            return run.heads["cls"](h), run.heads.box(h)

    model = Heads()
    params = model.init(KEY)
    assert list(funcnn.state_dict(params)) == [
        "trunk.0.weight",
        "trunk.0.bias",
        "heads.cls.weight",
        "heads.cls.bias",
        "heads.box.weight",
        "heads.box.bias",
    ]
    cls, box = model.apply(params, jnp.ones((2, 3)))
    assert cls.shape == (2, 2) and box.shape == (2, 4)
    assert model.children()["trunk"] is model.children()["trunk"]  # one holder while the list is unchanged
    model.trunk.append(nn.Linear(3, 3))
    assert "2" in model.init(KEY)["trunk"]
    assert "trunk.2.weight" in funcnn.state_dict(model.init(KEY))


# ------------------------------------------------------- Parameter, ParameterList
def test_bare_parameters_have_torch_keys_values_and_gradients(rng) -> None:
    torch.manual_seed(3)
    twin, model = TorchTokenModel(), TokenModel()
    params = model.init(KEY)
    assert list(funcnn.state_dict(params)) == list(twin.state_dict())
    for name, value in funcnn.state_dict(params).items():
        if not name.startswith("proj"):
            np.testing.assert_array_equal(value, twin.state_dict()[name].numpy(), err_msg=name)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    params, _ = funcnn.load_state_dict(model, twin.state_dict())
    x = rng.standard_normal((2, 2, 4)).astype(np.float32)
    tx = torch.from_numpy(x)
    twin(tx).square().sum().backward()
    np.testing.assert_allclose(model.apply(params, x), twin(tx).detach().numpy(), rtol=1e-5, atol=1e-6)
    grads = funcnn.state_dict(jax.grad(lambda p: jnp.sum(model.apply(p, x) ** 2))(params))
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_parameter_and_buffer_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"Parameter: an initializer needs the shape to draw, got shape=None"):
        nn.Parameter(nn.init.zeros)
    with pytest.raises(ValueError, match=r"Parameter: `shape` must be a tuple of non-negative integers, got \(2, -1\)"):
        nn.Parameter(nn.init.zeros, (2, -1))
    with pytest.raises(ValueError, match=r"Parameter: the initial value has shape \(2,\) but `shape` is \(3,\)"):
        nn.Parameter(jnp.zeros(2), (3,))
    with pytest.raises(TypeError, match=r"Buffer: `persistent` must be True or False, got 'no'"):
        nn.Buffer(jnp.zeros(2), persistent="no")
    with pytest.raises(TypeError, match=r"ParameterList: expected an iterable of modules, got a Parameter"):
        nn.ParameterList(nn.Parameter(jnp.zeros(2)))


# ----------------------------------------------------------- runner and scopes
class _KeyEcho(nn.Module):
    def forward(self, params, x, *, key=None, train=False):
        return jax.random.key_data(key)


def test_runner_keys_follow_the_container_rule_and_repeat_calls_differ() -> None:
    class Twice(nn.Module):
        def __init__(self):
            self.a, self.b = _KeyEcho(), _KeyEcho()

        def forward(self, run, x):
            return run.a(x), run.b(x), run.b(x), run.key

    a, b1, b2, own = Twice().apply({}, jnp.ones(1), key=KEY)
    data = jax.random.key_data
    np.testing.assert_array_equal(a, data(jax.random.fold_in(KEY, 0)))
    np.testing.assert_array_equal(b1, data(jax.random.fold_in(KEY, 1)))
    np.testing.assert_array_equal(b2, data(jax.random.fold_in(jax.random.fold_in(KEY, 1), 1)))
    np.testing.assert_array_equal(data(own), data(KEY))


def test_runner_names_an_unknown_child() -> None:
    class Typo(nn.Module):
        def __init__(self):
            self.norm = nn.LayerNorm(2)

        def forward(self, run, x):
            return run.nrom(x)

    with pytest.raises(ValueError, match=re.escape("Typo: no child 'nrom' to run: Typo has children ['norm']")):
        Typo().apply(Typo().init(KEY), jnp.ones((1, 2)))


def test_each_layer_runs_in_a_named_scope_visible_in_the_hlo(resnet_pair) -> None:
    model, _ = resnet_pair
    params, state = model.init(KEY), model.init_state()
    fn = jax.jit(lambda p, s, x: model.apply_with_state(p, s, x))
    text = fn.lower(params, state, jnp.ones((1, 3, 32, 32))).as_text(debug_info=True)
    assert "ResNet18/layer1/0/conv1/" in text and "ResNet18/layer2/0/downsample/0/" in text and "ResNet18/fc/" in text


def test_the_entry_checks_add_nothing_to_the_compiled_step() -> None:
    model = ResidualMLP()
    params, x = model.init(KEY), jnp.ones((2, 6))
    checked = jax.make_jaxpr(model.apply)(params, x)
    unchecked = jax.make_jaxpr(lambda p, x: model._apply_with_state(p, {}, (x,), {}, None, False)[0])(params, x)
    assert len(checked.eqns) == len(unchecked.eqns)
    assert str(checked).replace(" ", "") == str(unchecked).replace(" ", "")


def test_vmap_over_stacked_ensemble_params_passes_the_check() -> None:
    model = ResidualMLP()
    stacked = jax.vmap(model.init)(jax.random.split(KEY, 3))
    out = jax.vmap(model.apply, in_axes=(0, None))(stacked, jnp.ones((2, 6)))
    assert out.shape == (3, 2, 4)


def test_nested_children_are_not_checked_again(monkeypatch) -> None:
    from funcnn.nn import module as module_py

    calls = []
    original = module_py.check_call
    monkeypatch.setattr(module_py, "check_call", lambda m, *a: calls.append(type(m).__name__) or original(m, *a))
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.Residual(nn.Linear(2, 2)), nn.BatchNorm1d(2))
    model.apply_with_state(model.init(KEY), model.init_state(), jnp.ones((3, 2)))
    assert calls == ["Sequential"]
