"""`funcnn.state_dict` / `funcnn.load_state_dict` against torch's ``state_dict``."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
from funcnn import nn
from funcnn.nn.module import Module
from funcnn.serialization import flatten_dict, to_numpy, unflatten_dict

torch.set_num_threads(1)

KEY = jax.random.key(0)
X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)


def _pair_positional() -> tuple[Module, torch.nn.Module]:
    return (
        nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1, bias=False)),
        torch.nn.Sequential(
            torch.nn.Linear(3, 4),
            torch.nn.ReLU(),
            torch.nn.Linear(4, 2),
            torch.nn.Tanh(),
            torch.nn.Linear(2, 1, bias=False),
        ),
    )


def _pair_named() -> tuple[Module, torch.nn.Module]:
    return (
        nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1)),
        torch.nn.Sequential(
            OrderedDict(hidden=torch.nn.Linear(3, 10), relu=torch.nn.ReLU(), output=torch.nn.Linear(10, 1))
        ),
    )


def _pair_mapping() -> tuple[Module, torch.nn.Module]:
    return (
        nn.Sequential(OrderedDict(hidden=nn.Linear(3, 10), act=nn.Sigmoid(), output=nn.Linear(10, 1))),
        torch.nn.Sequential(
            OrderedDict(hidden=torch.nn.Linear(3, 10), act=torch.nn.Sigmoid(), output=torch.nn.Linear(10, 1))
        ),
    )


def _pair_nested() -> tuple[Module, torch.nn.Module]:
    return (
        nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Identity(), nn.Sequential(body=nn.Linear(4, 2))),
        torch.nn.Sequential(
            torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()),
            torch.nn.Identity(),
            torch.nn.Sequential(OrderedDict(body=torch.nn.Linear(4, 2))),
        ),
    )


PAIRS = [("positional", _pair_positional), ("named", _pair_named), ("mapping", _pair_mapping), ("nested", _pair_nested)]


@pytest.mark.parametrize("make", [p[1] for p in PAIRS], ids=[p[0] for p in PAIRS])
def test_state_dict_keys_and_shapes_equal_torch(make) -> None:
    model, tmod = make()
    sd = funcnn.state_dict(model.init(KEY))
    tsd = tmod.state_dict()
    assert list(sd) == list(tsd)  # same keys, in the same order
    assert {k: v.shape for k, v in sd.items()} == {k: tuple(v.shape) for k, v in tsd.items()}
    assert all(isinstance(v, np.ndarray) for v in sd.values())


@pytest.mark.parametrize("make", [p[1] for p in PAIRS], ids=[p[0] for p in PAIRS])
def test_torch_loads_funcnn_weights_strictly_and_agrees(make) -> None:
    model, tmod = make()
    params = model.init(KEY)
    result = tmod.load_state_dict({k: torch.from_numpy(v) for k, v in funcnn.state_dict(params).items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    with torch.no_grad():
        want = tmod(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.apply(params, X), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [p[1] for p in PAIRS], ids=[p[0] for p in PAIRS])
def test_funcnn_loads_torch_weights_and_agrees(make) -> None:
    model, tmod = make()
    params, state = funcnn.load_state_dict(model, tmod.state_dict())
    assert state == {}
    with torch.no_grad():
        want = tmod(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.apply(params, X), want, rtol=1e-5, atol=1e-6)
    # The round trip gives torch's values back exactly.
    for k, v in funcnn.state_dict(params).items():
        np.testing.assert_array_equal(v, tmod.state_dict()[k].numpy())


def _values(kind: str, sd: dict[str, np.ndarray]) -> dict[str, Any]:
    if kind == "numpy":
        return sd
    if kind == "jax":
        return {k: jnp.asarray(v) for k, v in sd.items()}
    if kind == "torch":
        return {k: torch.from_numpy(v) for k, v in sd.items()}
    if kind == "torch-requires-grad":
        return {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in sd.items()}
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["numpy", "jax", "torch", "torch-requires-grad"])
def test_load_accepts_numpy_jax_and_torch_values(kind) -> None:
    model, _ = _pair_named()
    sd = funcnn.state_dict(model.init(KEY))
    params, _ = funcnn.load_state_dict(model, _values(kind, sd))
    for k, v in flatten_dict(params).items():
        assert isinstance(v, jax.Array) and v.dtype == jnp.float32
        np.testing.assert_array_equal(v, sd[k])


def test_load_casts_dtypes() -> None:
    model, _ = _pair_named()
    sd64 = {k: v.astype(np.float64) + 1e-12 for k, v in funcnn.state_dict(model.init(KEY)).items()}
    params, _ = funcnn.load_state_dict(model, sd64)
    for k, v in flatten_dict(params).items():
        assert v.dtype == jnp.float32
        np.testing.assert_array_equal(v, sd64[k].astype(np.float32))
    # torch bfloat16 tensors arrive through float32.
    bf = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in funcnn.state_dict(model.init(KEY)).items()}
    params, _ = funcnn.load_state_dict(model, bf)
    np.testing.assert_array_equal(params["hidden"]["bias"], bf["hidden.bias"].float().numpy())
    # and into a bfloat16 model.
    half = nn.Linear(3, 2, dtype=jnp.bfloat16)
    params, _ = funcnn.load_state_dict(half, {"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    assert params["weight"].dtype == params["bias"].dtype == jnp.bfloat16


def test_all_problems_reported_at_once() -> None:
    model, _ = _pair_named()
    sd = dict(funcnn.state_dict(model.init(KEY)))
    del sd["output.bias"], sd["hidden.bias"]
    sd["hidden.weight"] = np.zeros((10, 4), np.float32)
    sd["extra.weight"] = np.zeros(3, np.float32)
    sd["output.scale"] = np.zeros(1, np.float32)
    with pytest.raises(
        ValueError, match=r"load_state_dict for Sequential: expected the 4 keys of the model, got 4:"
    ) as info:
        funcnn.load_state_dict(model, sd)
    msg = str(info.value)
    assert re.search(r"mis-shaped keys: hidden\.weight: expected shape \(10, 3\), got \(10, 4\)", msg)
    assert re.search(r"missing keys: 'hidden\.bias', 'output\.bias'", msg)
    assert re.search(r"unexpected keys: 'extra\.weight', 'output\.scale'", msg)
    assert "pass strict=False" in msg


def test_strict_false_keeps_given_params_for_missing_keys() -> None:
    model, _ = _pair_named()
    base = model.init(KEY)
    new = funcnn.state_dict(model.init(jax.random.key(1)))
    partial = {"hidden.weight": new["hidden.weight"], "ignored.weight": np.zeros(2)}
    params, state = funcnn.load_state_dict(model, partial, strict=False, params=base)
    np.testing.assert_array_equal(params["hidden"]["weight"], new["hidden.weight"])
    np.testing.assert_array_equal(params["hidden"]["bias"], base["hidden"]["bias"])
    np.testing.assert_array_equal(params["output"]["weight"], base["output"]["weight"])
    assert "ignored" not in params and state == {}
    # Without `params`, missing keys come from a fresh init with jax.random.key(0).
    params, _ = funcnn.load_state_dict(model, partial, strict=False)
    np.testing.assert_array_equal(params["output"]["weight"], model.init(jax.random.key(0))["output"]["weight"])


def test_strict_false_still_rejects_mis_shaped_keys() -> None:
    model, _ = _pair_named()
    bad = {"output.weight": np.zeros((1, 9), np.float32), "unknown": np.zeros(1)}
    with pytest.raises(ValueError, match=r"output\.weight: expected shape \(1, 10\), got \(1, 9\)") as info:
        funcnn.load_state_dict(model, bad, strict=False)
    msg = str(info.value)
    assert "missing keys" not in msg and "unexpected keys" not in msg and "pass strict=False" not in msg


@pytest.mark.parametrize("value", [[("weight", np.zeros((2, 3)))], np.zeros(3), None], ids=["list", "array", "none"])
def test_non_mapping_is_a_type_error(value) -> None:
    with pytest.raises(TypeError, match=r"load_state_dict: expected a mapping of dotted keys to arrays, got "):
        funcnn.load_state_dict(nn.Linear(3, 2), value)


class _Buffered(Module):
    """A layer with one parameter and one buffer, like a tiny batch norm."""

    def init(self, key: jax.Array) -> dict[str, Any]:
        return {"weight": jnp.ones(3)}

    def init_state(self) -> dict[str, Any]:
        return {"running_mean": jnp.zeros(3), "num_batches_tracked": jnp.zeros((), jnp.int32)}

    @property
    def has_state(self) -> bool:
        return True

    def apply_with_state(self, params, state, input, *, key=None, train=False):
        return input * params["weight"], {**state, "num_batches_tracked": state["num_batches_tracked"] + 1}


def test_state_dict_includes_buffers_and_load_returns_them() -> None:
    model = nn.Sequential(nn.Linear(3, 3), _Buffered())
    params, state = model.init(KEY), model.init_state()
    sd = funcnn.state_dict(params, state)
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.running_mean", "1.num_batches_tracked"]
    sd["1.running_mean"] = np.full(3, 2.0)
    sd["1.num_batches_tracked"] = np.array(5)  # int64 from torch becomes the model's int32
    params2, state2 = funcnn.load_state_dict(model, sd)
    assert set(params2["1"]) == {"weight"} and set(state2["1"]) == {"running_mean", "num_batches_tracked"}
    np.testing.assert_array_equal(state2["1"]["running_mean"], np.full(3, 2.0))
    assert state2["1"]["num_batches_tracked"].dtype == jnp.int32 and int(state2["1"]["num_batches_tracked"]) == 5
    with pytest.raises(ValueError, match=r"missing keys: '1\.running_mean'"):
        funcnn.load_state_dict(model, {k: v for k, v in sd.items() if k != "1.running_mean"})
    params3, state3 = funcnn.load_state_dict(
        model, {k: v for k, v in sd.items() if k != "1.running_mean"}, strict=False, state=state
    )
    np.testing.assert_array_equal(state3["1"]["running_mean"], np.zeros(3))


def test_flatten_unflatten_round_trip() -> None:
    tree = {"a": {"b": 1, "c": {"d": 2}}, "e": 3, "empty": {}}
    flat = flatten_dict(tree)
    assert flat == {"a.b": 1, "a.c.d": 2, "e": 3}
    assert unflatten_dict(flat) == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    assert flatten_dict({}) == {} and unflatten_dict({}) == {}


def test_to_numpy() -> None:
    assert to_numpy(2.5).dtype == np.float64 and to_numpy(2.5) == 2.5
    t = torch.ones(2, requires_grad=True)
    out = to_numpy(t)
    out[0] = 5.0  # a copy: the tensor is unchanged
    assert float(t.detach()[0]) == 1.0
    j = jnp.arange(3.0)
    np.testing.assert_array_equal(to_numpy(j), [0.0, 1.0, 2.0])
    assert to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32


def test_load_state_dict_and_state_dict_keep_torch_key_order() -> None:
    import torch

    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, affine=False), torch.nn.Linear(4, 2))
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 2))
    params, state = funcnn.load_state_dict(model, tmodel.state_dict())
    assert list(funcnn.state_dict(params, state, model=model)) == list(tmodel.state_dict())
    assert list(params["0"]) == ["weight", "bias"]  # init's order, not sorted
    trained = jax.jit(lambda p: p)(params)  # jax returns sorted dicts
    assert list(funcnn.state_dict(trained, state, model=model)) == list(tmodel.state_dict())
    assert funcnn.state_dict(params, state)["1.num_batches_tracked"].dtype == np.int64
