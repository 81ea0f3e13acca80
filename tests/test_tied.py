"""Tied parameters (`nn.Tied`): pytorch/examples' word-language-model with tied weights against torch.

The torch twin is ``RNNModel`` of pytorch/examples' ``word_language_model`` (embedding,
LSTM, linear decoder whose ``weight`` *is* the embedding's, log-softmax output), trained
as that example trains it: hidden state carried across batches and detached, NLL loss,
``clip_grad_norm_``, plain SGD.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import safetensors.torch
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn
from funcnn.checkpoint import load_weights, save_weights
from funcnn.nn.container import init_children

torch.set_num_threads(1)
NTOKEN, NINP, NLAYERS, SEQ, BATCH = 11, 6, 2, 5, 3


class TorchRNNModel(torch.nn.Module):
    """pytorch/examples word_language_model.RNNModel (LSTM, tied)."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, nlayers: int, dropout: float = 0.0, tie_weights: bool = True):
        super().__init__()
        self.ntoken = ntoken
        self.drop = torch.nn.Dropout(dropout)
        self.encoder = torch.nn.Embedding(ntoken, ninp)
        self.rnn = torch.nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = torch.nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        torch.nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        torch.nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return torch.nn.functional.log_softmax(decoded, dim=1), hidden


class RNNModel(nn.Module):
    """The same model in funcnn (untied; wrap it in nn.Tied to tie)."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, nlayers: int, dropout: float = 0.0, dtype=jnp.float32):
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp, dtype=dtype)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout, dtype=dtype)
        self.decoder = nn.Linear(nhid, ntoken, dtype=dtype)

    def children(self):
        return {"drop": self.drop, "encoder": self.encoder, "rnn": self.rnn, "decoder": self.decoder}

    def init(self, key):
        return init_children(self.children(), key)

    def forward(self, params, input, hidden, *, key=None, train=False):
        emb = self.drop.apply({}, self.encoder.apply(params["encoder"], input), key=key, train=train)
        output, hidden = self.rnn.apply(params["rnn"], emb, hidden, key=key, train=train)
        decoded = self.decoder.apply(params["decoder"], self.drop.apply({}, output, key=key, train=train))
        return F.log_softmax(decoded.reshape(-1, self.ntoken), dim=1), hidden


TIES = {"decoder.weight": "encoder.weight"}


def _tied(dtype=jnp.float32):
    return nn.Tied(RNNModel(NTOKEN, NINP, NINP, NLAYERS, dtype=dtype), TIES)


def _torch_sd(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def test_tied_lstm_language_model_trains_like_torch_in_float64(tmp_path) -> None:
    assert not jax.config.jax_enable_x64
    with jax.enable_x64(True):
        torch.manual_seed(0)
        tmod = TorchRNNModel(NTOKEN, NINP, NINP, NLAYERS).double()
        assert tmod.decoder.weight is tmod.encoder.weight
        tsd = tmod.state_dict()
        assert "decoder.weight" in tsd and "encoder.weight" in tsd

        model = _tied(jnp.float64)
        params, state = funcnn.load_state_dict(model, tsd, strict=True)
        assert "weight" not in params["decoder"] and params["encoder"]["weight"].dtype == jnp.float64

        lr, clip = 2.0, 0.25
        optimizer = optax.chain(nn.utils.clip_grad_norm(clip), optax.sgd(lr))
        opt_state = optimizer.init(params)

        def loss_fn(p, data, targets, hidden):
            output, hidden = model.apply(p, data, hidden)
            return F.nll_loss(output, targets), jax.lax.stop_gradient(hidden)

        step = funcnn.train.make_train_step(loss_fn, optimizer, has_aux=True)  # donates params
        rng = np.random.default_rng(0)
        hidden = (jnp.zeros((NLAYERS, BATCH, NINP)), jnp.zeros((NLAYERS, BATCH, NINP)))
        th = tuple(torch.zeros(NLAYERS, BATCH, NINP, dtype=torch.float64) for _ in range(2))
        losses, tlosses = [], []
        for _ in range(30):
            data = rng.integers(0, NTOKEN, (SEQ, BATCH))
            targets = rng.integers(0, NTOKEN, SEQ * BATCH)
            params, opt_state, loss, hidden = step(params, opt_state, jnp.asarray(data), jnp.asarray(targets), hidden)
            losses.append(float(loss))
            # the torch loop of word_language_model/main.py
            tmod.zero_grad()
            th = tuple(h.detach() for h in th)
            output, th = tmod(torch.from_numpy(data), th)
            tloss = torch.nn.functional.nll_loss(output, torch.from_numpy(targets))
            tloss.backward()
            torch.nn.utils.clip_grad_norm_(tmod.parameters(), clip)
            for p in tmod.parameters():
                p.data.add_(p.grad, alpha=-lr)
            tlosses.append(tloss.item())
        assert step._cache_size() == 1  # one compilation for 30 steps
        np.testing.assert_allclose(losses, tlosses, rtol=1e-10, atol=0)
        assert losses[-1] != losses[0]
        sd = funcnn.state_dict(params, state, model=model)
        assert list(sd) == list(tsd)  # both names, PyTorch's order
        for k, v in _torch_sd(tmod).items():
            np.testing.assert_allclose(sd[k], v, rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(np.asarray(hidden[0]), th[0].detach().numpy(), rtol=1e-10, atol=1e-12)

        # torch loads funcnn's weights strictly, and the tie survives the load
        back = TorchRNNModel(NTOKEN, NINP, NINP, NLAYERS).double()
        back.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
        assert back.decoder.weight is back.encoder.weight
        np.testing.assert_array_equal(back.encoder.weight.detach().numpy(), np.asarray(params["encoder"]["weight"]))

        # and through a weights file, both ways
        path = os.fspath(tmp_path / "lm.safetensors")
        save_weights(path, params, state, model=model)
        back2 = TorchRNNModel(NTOKEN, NINP, NINP, NLAYERS).double()
        back2.load_state_dict(safetensors.torch.load_file(path), strict=True)
        np.testing.assert_array_equal(back2.decoder.bias.detach().numpy(), np.asarray(params["decoder"]["bias"]))
        params2, _ = load_weights(path, model)
        assert jax.tree.structure(params2) == jax.tree.structure(params)
        for a, b in zip(jax.tree.leaves(params2), jax.tree.leaves(params)):
            np.testing.assert_array_equal(a, b)
        tpath = os.fspath(tmp_path / "torch.safetensors")
        safetensors.torch.save_model(tmod, tpath)  # torch's own writer keeps one name of a shared tensor
        params3, _ = load_weights(tpath, model)
        np.testing.assert_array_equal(params3["encoder"]["weight"], tmod.encoder.weight.detach().numpy())
    assert not jax.config.jax_enable_x64


def test_tied_model_float32_forward_and_gradient_match_torch() -> None:
    torch.manual_seed(1)
    tmod = TorchRNNModel(NTOKEN, NINP, NINP, NLAYERS)
    model = _tied()
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    data = np.random.default_rng(1).integers(0, NTOKEN, (SEQ, BATCH))
    targets = np.random.default_rng(2).integers(0, NTOKEN, SEQ * BATCH)

    def loss(p):
        return F.nll_loss(model.apply(p, jnp.asarray(data), None)[0], jnp.asarray(targets))

    value, grads = jax.value_and_grad(loss)(params)
    tloss = torch.nn.functional.nll_loss(tmod(torch.from_numpy(data), None)[0], torch.from_numpy(targets))
    tloss.backward()
    np.testing.assert_allclose(value, tloss.item(), rtol=1e-5)
    # the shared weight's gradient is the sum of both uses, once, as in torch
    np.testing.assert_allclose(grads["encoder"]["weight"], tmod.encoder.weight.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "weight" not in grads["decoder"]
    eager = model.apply(params, jnp.asarray(data), None)[0]
    jitted = jax.jit(lambda p, x: model.apply(p, x, None)[0])(params, jnp.asarray(data))
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-6)


def test_untied_weights_in_a_state_dict_are_refused_for_a_tied_model() -> None:
    torch.manual_seed(0)
    untied = TorchRNNModel(NTOKEN, NINP, NINP, NLAYERS, tie_weights=False)
    with pytest.raises(
        ValueError,
        match=r"load_state_dict for Tied: 'decoder.weight' is tied to 'encoder.weight' \(stored once\), but the "
        r"state_dict holds different values under the two keys \(largest difference .*\); load weights saved from "
        r"a model where they are one parameter, or drop the tie",
    ):
        funcnn.load_state_dict(_tied(), untied.state_dict())
    sd = _torch_sd(untied)
    sd["decoder.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(ValueError, match=r"different values under the two keys \(shapes \(3, 3\) and \(11, 6\)\)"):
        funcnn.load_state_dict(_tied(), sd)
    # the untied model loads the same file as two parameters
    params, _ = funcnn.load_state_dict(RNNModel(NTOKEN, NINP, NINP, NLAYERS), untied.state_dict())
    assert params["decoder"]["weight"].shape == (NTOKEN, NINP)


def test_funcnn_state_dict_without_the_model_and_alias_only_dicts_load() -> None:
    model = _tied()
    params = model.init(jax.random.key(0))
    plain = funcnn.state_dict(params)  # no model: each array once, under its stored name
    assert "decoder.weight" not in plain and "encoder.weight" in plain
    again, _ = funcnn.load_state_dict(model, plain)
    np.testing.assert_array_equal(again["encoder"]["weight"], params["encoder"]["weight"])
    only_alias = {("decoder.weight" if k == "encoder.weight" else k): v for k, v in plain.items()}
    again, _ = funcnn.load_state_dict(model, only_alias)
    np.testing.assert_array_equal(again["encoder"]["weight"], params["encoder"]["weight"])


def test_tied_inside_a_container_and_params_left_untouched() -> None:
    inner = nn.Tied(
        nn.Sequential(nn.Linear(3, 3, bias=False), nn.Tanh(), nn.Linear(3, 3, bias=False)), {"2.weight": "0.weight"}
    )
    model = nn.Sequential(body=inner, head=nn.Linear(3, 1))
    assert nn.tied_keys(model) == {"body.2.weight": "body.0.weight"}
    params = model.init(jax.random.key(0))
    assert list(params["body"]) == ["0"]  # the sub-dict left empty by the tie vanishes
    sd = funcnn.state_dict(params, model=model)
    assert list(sd) == ["body.0.weight", "body.2.weight", "head.weight", "head.bias"]
    assert list(params["body"]) == ["0"]  # state_dict copied, never mutated
    torch_twin = torch.nn.Sequential()
    torch_twin.add_module(
        "body",
        torch.nn.Sequential(torch.nn.Linear(3, 3, bias=False), torch.nn.Tanh(), torch.nn.Linear(3, 3, bias=False)),
    )
    torch_twin.add_module("head", torch.nn.Linear(3, 1))
    torch_twin.body[2].weight = torch_twin.body[0].weight
    torch_twin.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        model.apply(params, jnp.asarray(x)), torch_twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    loaded, _ = funcnn.load_state_dict(model, torch_twin.state_dict())
    np.testing.assert_array_equal(loaded["body"]["0"]["weight"], params["body"]["0"]["weight"])


def test_tied_threads_state_and_reprs() -> None:
    model = nn.Tied(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 2)), {"2.weight": "0.weight"})
    assert model.has_state
    params, state = model.init(jax.random.key(0)), model.init_state()
    y, new_state = model.apply_with_state(params, state, jnp.ones((4, 2)) * jnp.arange(4.0)[:, None], train=True)
    assert y.shape == (4, 2) and int(new_state["1"]["num_batches_tracked"]) == 1
    with pytest.raises(TypeError, match=r"Tied has buffers"):
        model.apply(params, jnp.ones((4, 2)))
    assert repr(model).startswith("Tied(\n  Sequential(") and repr(model).endswith("ties: 2.weight -> 0.weight\n)")
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "2"]


@pytest.mark.parametrize(
    "module, ties, exc, match",
    [
        (
            "linear",
            {"weight": "bias"},
            ValueError,
            r"Tied: alias 'weight' has shape \(2, 3\) and dtype float32, but its source 'bias' has shape \(2,\) and dtype float32; only identical parameters can be tied",
        ),
        (
            "linear",
            {"w": "weight"},
            ValueError,
            r"Tied: alias 'w' is not a parameter of Linear, whose parameters are \['weight', 'bias'\]; use their dotted state_dict keys",
        ),
        ("linear", {"bias": "b"}, ValueError, r"Tied: source 'b' is not a parameter of Linear"),
        (
            "seq",
            {"1.bias": "0.bias", "0.bias": "1.bias"},
            ValueError,
            r"Tied: source '0.bias' of alias '1.bias' is itself an alias; tie every alias to the one key that stores the array",
        ),
        (
            "seq",
            ["0.bias"],
            TypeError,
            r"Tied: `ties` must map alias keys to source keys, both dotted strings, got \['0.bias'\]",
        ),
        ("fn", {"a": "b"}, TypeError, r"Tied: `module` must be a funcnn.nn.Module, got function"),
    ],
    ids=["shape", "alias-missing", "source-missing", "chain", "not-a-mapping", "not-a-module"],
)
def test_tied_constructor_errors(module, ties, exc, match) -> None:
    make = {
        "linear": lambda: nn.Linear(3, 2),
        "seq": lambda: nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)),
        "fn": lambda: lambda x: x,
    }
    with pytest.raises(exc, match=match):
        nn.Tied(make[module](), ties)
