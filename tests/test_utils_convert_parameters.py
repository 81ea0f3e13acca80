"""nn.utils.parameters_to_vector / vector_to_parameters against torch.nn.utils."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
from funcnn import nn

torch.set_num_threads(1)


def _pair():
    torch.manual_seed(0)
    tmod = torch.nn.Sequential(
        torch.nn.Conv1d(2, 3, 2), torch.nn.BatchNorm1d(3), torch.nn.Flatten(), torch.nn.Linear(6, 2)
    )
    model = nn.Sequential(nn.Conv1d(2, 3, 2), nn.BatchNorm1d(3), nn.Flatten(), nn.Linear(6, 2))
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    return model, tmod, params


def test_parameters_to_vector_is_torchs_order_and_round_trips() -> None:
    model, tmod, params = _pair()
    vec = nn.utils.parameters_to_vector(params, model=model)
    want = torch.nn.utils.parameters_to_vector(tmod.parameters()).detach().numpy()
    np.testing.assert_array_equal(vec, want)  # buffers are not parameters, in both
    new = np.random.default_rng(0).standard_normal(vec.shape).astype(np.float32)
    tree = nn.utils.vector_to_parameters(jnp.asarray(new), params, model=model)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), tmod.parameters())
    sd = funcnn.state_dict(tree)
    for k, v in tmod.named_parameters():
        np.testing.assert_array_equal(sd[k], v.detach().numpy(), err_msg=k)
    assert jax.tree.structure(tree) == jax.tree.structure(params)
    assert list(funcnn.serialization.flatten_dict(tree)) == list(funcnn.serialization.flatten_dict(params))
    # without the model, the dict's own order: PyTorch's for a tree straight from init
    fresh = model.init(jax.random.key(0))
    np.testing.assert_array_equal(
        nn.utils.parameters_to_vector(fresh), nn.utils.parameters_to_vector(fresh, model=model)
    )


def test_gradient_through_the_vector_and_jit_and_dtypes() -> None:
    model, _, params = _pair()
    vec = nn.utils.parameters_to_vector(params, model=model)
    g = jax.grad(lambda v: jnp.sum(nn.utils.vector_to_parameters(v, params, model=model)["3"]["weight"] ** 2))(vec)
    np.testing.assert_array_equal(g[-14:-2], 2 * vec[-14:-2])  # Linear(6, 2).weight sits before its bias
    assert float(jnp.abs(g[:-14]).max()) == 0.0
    jitted = jax.jit(lambda p: nn.utils.parameters_to_vector(p, model=model))(params)
    np.testing.assert_array_equal(jitted, vec)
    mixed = {"a": jnp.ones(2, jnp.bfloat16), "b": {"c": jnp.zeros((1, 2))}, "frozen": None}
    flat = nn.utils.parameters_to_vector(mixed)
    assert flat.dtype == jnp.float32 and flat.tolist() == [1.0, 1.0, 0.0, 0.0]
    back = nn.utils.vector_to_parameters(flat + 1, mixed)
    assert back["a"].dtype == jnp.bfloat16 and back["b"]["c"].shape == (1, 2) and back["frozen"] is None
    assert nn.utils.parameters_to_vector({}).shape == (0,)


def test_tied_parameters_appear_once_as_in_torch() -> None:
    torch.manual_seed(0)
    tmod = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3))
    tmod[1].weight = tmod[0].weight
    model = nn.Tied(nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3)), {"1.weight": "0.weight"})
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    want = torch.nn.utils.parameters_to_vector(tmod.parameters()).detach().numpy()
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(params, model=model), want)


def test_errors() -> None:
    model, _, params = _pair()
    with pytest.raises(
        ValueError,
        match=r"parameters_to_vector: `params` do not belong to Sequential: its parameters are \['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias'\], got \['0.weight', '0.bias', '1.weight', '1.bias', '3.bias'\]; pass the model whose init made them",
    ):
        nn.utils.parameters_to_vector({**params, "3": {"bias": params["3"]["bias"]}}, model=model)
    with pytest.raises(
        ValueError,
        match=r"vector_to_parameters: expected a 1-D `vec` of length 35 \(the number of parameter entries\), got shape \(34,\); make it with parameters_to_vector\(params\) of the same model",
    ):
        nn.utils.vector_to_parameters(jnp.zeros(34), params)
    with pytest.raises(ValueError, match=r"got shape \(35, 1\)"):
        nn.utils.vector_to_parameters(jnp.zeros((35, 1)), params)
    with pytest.raises(
        TypeError,
        match=r"parameters_to_vector: expected `params` as the nested dict of arrays from `init`, got list; pass model.init\(key\)",
    ):
        nn.utils.parameters_to_vector([jnp.zeros(2)])
