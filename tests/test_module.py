"""The `Module` contract: calling, repr, Sequential structure, input checks, errors."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn.nn.functional as F
from funcnn import nn
from funcnn.nn.module import Module, check_train_key, child_key

KEY = jax.random.key(0)


class _Buffered(Module):
    """A layer with a buffer: counts its training calls."""

    def init_state(self) -> dict[str, Any]:
        return {"count": jnp.zeros((), jnp.int32)}

    @property
    def has_state(self) -> bool:
        return True

    def apply_with_state(self, params, state, input, *, key=None, train=False):
        return input, {"count": state["count"] + int(train)}


class _KeyRecorder(Module):
    """Returns the key it was given (as raw words), to observe key threading."""

    def forward(self, params, input, *, key=None, train=False):
        return jax.random.key_data(key)


# ------------------------------------------------------------------------ calling


def test_calling_a_module_points_to_apply() -> None:
    model = nn.Sequential(nn.Linear(3, 1))
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Sequential is a pure function pair, not a stateful object: call "
            "`params = model.init(jax.random.key(0))` once, then `y = model.apply(params, x)`"
        ),
    ):
        model(jnp.ones((2, 3)))
    with pytest.raises(TypeError, match=r"^Linear is a pure function pair"):
        nn.Linear(3, 1)(jnp.ones((2, 3)))


def test_base_module_defaults() -> None:
    m = Module()
    assert m.init(KEY) == {} and m.init_state() == {} and not m.has_state
    assert dict(m.children()) == {} and repr(m) == "Module()"
    with pytest.raises(NotImplementedError, match=r"Module must implement forward\(\) or apply_with_state\(\)"):
        m.apply({}, jnp.ones(2))


def test_apply_with_state_passes_state_through_for_stateless_modules() -> None:
    layer = nn.Linear(3, 2)
    params = layer.init(KEY)
    x = jnp.ones((4, 3))
    y, state = layer.apply_with_state(params, {}, x)
    np.testing.assert_array_equal(y, layer.apply(params, x))
    assert state == {}


def test_apply_on_a_module_with_buffers_names_apply_with_state() -> None:
    msg = re.escape(
        "_Buffered has buffers that change as it runs, so `apply` cannot return them: use "
        "`y, state = model.apply_with_state(params, state, x, train=True)` with `state = model.init_state()`"
    )
    with pytest.raises(TypeError, match=msg):
        _Buffered().apply({}, jnp.ones(2), train=True)
    model = nn.Sequential(nn.Linear(2, 2), _Buffered())
    assert model.has_state
    with pytest.raises(
        TypeError,
        match=r"^Sequential has buffers that change as it runs \(in '1'\), .* use `y, state = model\.apply_with_state\(",
    ):
        model.apply(model.init(KEY), jnp.ones((1, 2)))
    y, state = model.apply_with_state(model.init(KEY), model.init_state(), jnp.ones((1, 2)), train=True)
    assert set(state) == {"1"} and int(state["1"]["count"]) == 1


def test_check_train_key() -> None:
    check_train_key("Dropout(p=0.5)", None, train=False)
    check_train_key("Dropout(p=0.5)", KEY, train=True)
    msg = re.escape(
        "Dropout(p=0.5): train=True samples random numbers and needs a PRNG key, got key=None; "
        "call `model.apply(params, x, key=jax.random.key(step), train=True)` (a new key each step)"
    )
    with pytest.raises(ValueError, match=msg):
        check_train_key("Dropout(p=0.5)", None, train=True)


def test_child_key_rule() -> None:
    assert child_key(None, 3) is None
    np.testing.assert_array_equal(
        jax.random.key_data(child_key(KEY, 3)), jax.random.key_data(jax.random.fold_in(KEY, 3))
    )


def test_sequential_hands_child_i_fold_in_key_i() -> None:
    model = nn.Sequential(nn.Identity(), nn.Identity(), _KeyRecorder())
    got = model.apply({}, jnp.ones(1), key=KEY)
    np.testing.assert_array_equal(got, jax.random.key_data(jax.random.fold_in(KEY, 2)))


# --------------------------------------------------------------------------- repr

REPRS = [
    ("linear", lambda m: m.Linear(3, 10)),
    ("linear-nobias", lambda m: m.Linear(3, 10, bias=False)),
    ("relu", lambda m: m.ReLU()),
    ("leaky_relu", lambda m: m.LeakyReLU(0.2)),
    ("elu", lambda m: m.ELU()),
    ("gelu", lambda m: m.GELU()),
    ("gelu-tanh", lambda m: m.GELU(approximate="tanh")),
    ("silu", lambda m: m.SiLU()),
    ("sigmoid", lambda m: m.Sigmoid()),
    ("tanh", lambda m: m.Tanh()),
    ("softplus", lambda m: m.Softplus(beta=2.0)),
    ("hardtanh", lambda m: m.Hardtanh(-2.0, 2.0)),
    ("softmax", lambda m: m.Softmax(dim=1)),
    ("softmax-none", lambda m: m.Softmax()),
    ("log_softmax", lambda m: m.LogSoftmax(dim=-1)),
    ("identity", lambda m: m.Identity()),
    ("flatten", lambda m: m.Flatten()),
    ("unflatten", lambda m: m.Unflatten(1, (3, 20))),
    ("sequential", lambda m: m.Sequential(m.Linear(3, 10), m.ReLU(), m.Linear(10, 1))),
    ("sequential-empty", lambda m: m.Sequential()),
    (
        "sequential-named-nested",
        lambda m: m.Sequential(
            OrderedDict(body=m.Sequential(m.Linear(3, 4), m.Tanh()), head=m.Sequential(), out=m.Linear(4, 1))
        ),
    ),
]


@pytest.mark.parametrize("make", [r[1] for r in REPRS], ids=[r[0] for r in REPRS])
def test_repr_matches_torch(make) -> None:
    assert repr(make(nn)) == repr(make(torch.nn))


def _block_class(base: type) -> type:
    """A Sequential subclass named ``Block`` with a one-line extra_repr, for either library."""
    return type("Block", (base,), {"extra_repr": lambda self: "scale=2"})


def test_repr_with_extra_and_children_follows_torch_layout() -> None:
    Block, TorchBlock = _block_class(nn.Sequential), _block_class(torch.nn.Sequential)
    assert repr(Block(nn.ReLU(), nn.Linear(2, 3))) == repr(TorchBlock(torch.nn.ReLU(), torch.nn.Linear(2, 3)))
    assert repr(Block()) == repr(TorchBlock()) == "Block(scale=2)"


# --------------------------------------------------------------------- Sequential


def test_sequential_indexing_slicing_len_iter() -> None:
    a, b, c = nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3 and list(model) == [a, b, c]
    assert model[0] is a and model[-1] is c and model["1"] is b and model[np.int64(2)] is c
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(tail.children()) == ["1", "2"]  # names kept, as in torch
    assert list(model[::2]) == [a, c]
    assert len(model[5:]) == 0
    params = model.init(KEY)
    # A slice applies with the matching sub-tree of params.
    h = model[:2].apply({"0": params["0"]}, jnp.ones((2, 3)))
    np.testing.assert_array_equal(model[2:].apply({"2": params["2"]}, h), model.apply(params, jnp.ones((2, 3))))
    named = nn.Sequential(hidden=a, relu=b, output=c)
    assert named["output"] is c and named[0] is a and list(named.children()) == ["hidden", "relu", "output"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "2"]


def test_sequential_index_errors() -> None:
    model = nn.Sequential(nn.ReLU(), nn.Tanh())
    with pytest.raises(IndexError, match=r"Sequential: index 2 is out of range for 2 children"):
        model[2]
    with pytest.raises(IndexError, match=r"Sequential: index -3 is out of range for 2 children"):
        model[-3]
    with pytest.raises(KeyError, match=r"Sequential: no child named 'relu'; children are \['0', '1'\]"):
        model["relu"]
    with pytest.raises(TypeError, match=r"Sequential: indices must be integers, slices or child names, got float"):
        model[1.0]


def test_sequential_positional_vs_named() -> None:
    with pytest.raises(TypeError, match=r"Sequential: pass children either positionally or by name, not both"):
        nn.Sequential(nn.ReLU(), act=nn.Tanh())
    with pytest.raises(TypeError, match=r"Sequential: pass either a mapping of children or keyword children, not both"):
        nn.Sequential(OrderedDict(a=nn.ReLU()), act=nn.Tanh())


@pytest.mark.parametrize(
    "child, got",
    [(lambda x: x, "function"), (torch.nn.ReLU(), "ReLU"), (OrderedDict(a=nn.ReLU()), "OrderedDict")],
    ids=["function", "torch-module", "mapping-with-others"],
)
def test_sequential_child_must_be_a_module(child, got) -> None:
    with pytest.raises(
        TypeError,
        match=rf"Sequential: child '1' must be a funcnn.nn.Module, got {got}; wrap plain functions with nn.Lambda\(fn\)",
    ):
        nn.Sequential(nn.ReLU(), child)


@pytest.mark.parametrize("name", ["a.b", ""], ids=["dot", "empty"])
def test_sequential_bad_child_names(name) -> None:
    with pytest.raises(
        ValueError,
        match=rf"Sequential: child names must be non-empty strings without '\.', got {re.escape(repr(name))}",
    ):
        nn.Sequential({name: nn.ReLU()})


def test_lambda() -> None:
    assert repr(nn.Lambda(jnp.tanh)) == "Lambda(tanh)"
    with pytest.raises(TypeError, match=r"Lambda: expected a callable, got int"):
        nn.Lambda(3)


# ------------------------------------------------------------------------- Linear


def test_linear_wrong_last_dimension_message() -> None:
    layer = nn.Linear(3, 10)
    params = layer.init(KEY)
    with pytest.raises(ValueError) as info:
        layer.apply(params, jnp.ones((100, 4)))
    assert (
        str(info.value)
        == "Linear(in_features=3, out_features=10): expected input with last dimension 3, got shape (100, 4)"
    )
    with pytest.raises(ValueError, match=r"expected input with last dimension 3, got shape \(\)"):
        layer.apply(params, jnp.float32(1.0))
    # The same check fires at trace time under jit.
    with pytest.raises(ValueError, match=r"got shape \(2, 5\)"):
        jax.jit(layer.apply)(params, jnp.ones((2, 5)))


def test_linear_integer_input() -> None:
    layer = nn.Linear(3, 10)
    with pytest.raises(
        TypeError,
        match=r"Linear\(in_features=3, out_features=10\): expected a floating-point input, got dtype int32; "
        r"convert it with `x.astype\(jnp.float32\)`",
    ):
        layer.apply(layer.init(KEY), jnp.ones((2, 3), jnp.int32))


@pytest.mark.parametrize(
    "args, name, value",
    [
        ((0, 3), "in_features", "0"),
        ((3, -1), "out_features", "-1"),
        ((2.5, 3), "in_features", "2.5"),
        ((True, 3), "in_features", "True"),
    ],
    ids=["zero", "negative", "float", "bool"],
)
def test_linear_bad_sizes(args, name, value) -> None:
    with pytest.raises(ValueError, match=rf"Linear: `{name}` must be a positive integer, got {value}"):
        nn.Linear(*args)


def test_linear_batch_shapes_and_no_bias() -> None:
    layer = nn.Linear(3, 2, bias=False)
    params = layer.init(KEY)
    assert set(params) == {"weight"}
    assert layer.apply(params, jnp.ones(3)).shape == (2,)
    assert layer.apply(params, jnp.ones((4, 5, 3))).shape == (4, 5, 2)


def test_functional_linear_shape_error() -> None:
    with pytest.raises(
        ValueError,
        match=r"linear: expected input with last dimension 3 to match weight of shape \(2, 3\), got input shape \(4, 5\)",
    ):
        F.linear(jnp.ones((4, 5)), jnp.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"linear: expected input with last dimension \? to match weight of shape \(3,\)"
    ):
        F.linear(jnp.ones((4, 3)), jnp.ones(3))
    with pytest.raises(TypeError, match=r"linear: expected a floating-point input, got dtype int32"):
        F.linear(jnp.ones((4, 3), jnp.int32), jnp.ones((2, 3)))


# ----------------------------------------------------------- activations, reshapes


def test_softmax_dim_none_warns_and_uses_legacy_dim() -> None:
    x = jnp.arange(6.0).reshape(2, 3)
    for layer, fn in [(nn.Softmax(), F.softmax), (nn.LogSoftmax(), F.log_softmax)]:
        name = type(layer).__name__
        with pytest.warns(
            UserWarning, match=rf"{name}\(dim=None\) picks the dimension from the input's rank .* pass `dim` explicitly"
        ):
            y = layer.apply({}, x)
        np.testing.assert_allclose(y, fn(x, 1))  # 2-D input: dim 1, as torch's legacy rule
        with pytest.warns(UserWarning):
            np.testing.assert_allclose(layer.apply({}, x[0]), fn(x[0], 0))


def test_softmax_dim_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"softmax: `dim` \(=2\) is out of range for an input of shape \(2, 3\)"):
        nn.Softmax(dim=2).apply({}, jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"log_softmax: `dim` \(=-3\) is out of range for an input of shape \(2, 3\)"):
        F.log_softmax(jnp.ones((2, 3)), -3)


def test_activation_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"Hardtanh: `min_val` \(=1.0\) must not exceed `max_val` \(=-1.0\)"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match=r"hardtanh: `min_val` \(=1.0\) must not exceed `max_val` \(=0.0\)"):
        F.hardtanh(jnp.ones(2), 1.0, 0.0)
    with pytest.raises(ValueError, match=r"gelu: `approximate` must be one of \['none', 'tanh'\], got 'erf'"):
        nn.GELU(approximate="erf")


def test_flatten_and_unflatten_shapes() -> None:
    x = jnp.zeros((2, 3, 4, 5))
    assert nn.Flatten().apply({}, x).shape == (2, 60)
    assert nn.Flatten(0, 2).apply({}, x).shape == (24, 5)
    assert nn.Flatten(-2).apply({}, x).shape == (2, 3, 20)
    assert nn.Flatten(0).apply({}, jnp.float32(1.0)).shape == (1,)  # 0-D counts as 1-D, as in torch
    assert nn.Unflatten(1, (3, -1)).apply({}, jnp.zeros((2, 12))).shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, 2, 3)).apply({}, jnp.zeros((2, 12))).shape == (2, 2, 2, 3)


def test_flatten_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"Flatten\(start_dim=1, end_dim=-1\): `start_dim` \(=1\) is out of range for an input of shape \(\)",
    ):
        nn.Flatten().apply({}, jnp.float32(1.0))
    with pytest.raises(
        ValueError,
        match=r"Flatten\(start_dim=4, end_dim=-1\): `start_dim` \(=4\) is out of range for an input of shape \(2, 3\)",
    ):
        nn.Flatten(4).apply({}, jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`end_dim` \(=-4\) is out of range"):
        nn.Flatten(0, -4).apply({}, jnp.zeros((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"Flatten\(start_dim=2, end_dim=1\): `start_dim` must not come after `end_dim` for an input of shape \(2, 3, 4\)",
    ):
        nn.Flatten(2, 1).apply({}, jnp.zeros((2, 3, 4)))


def test_unflatten_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"Unflatten\(dim=1, unflattened_size=\(-1, -1\)\): `unflattened_size` may contain at most one -1",
    ):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(
        ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(0, -1\)\): a -1 next to a size 0 is ambiguous"
    ):
        nn.Unflatten(1, (0, -1))
    with pytest.raises(
        ValueError,
        match=r"Unflatten\(dim=1, unflattened_size=\(4, 5\)\): expected dimension 1 with size 20 to unflatten into \(4, 5\), got shape \(2, 12\)",
    ):
        nn.Unflatten(1, (4, 5)).apply({}, jnp.zeros((2, 12)))
    with pytest.raises(
        ValueError,
        match=r"expected dimension 1 with a size divisible by 5 to unflatten into \(5, -1\), got shape \(2, 12\)",
    ):
        nn.Unflatten(1, (5, -1)).apply({}, jnp.zeros((2, 12)))
    with pytest.raises(
        ValueError,
        match=r"Unflatten\(dim=3, unflattened_size=\(2, 2\)\): `dim` \(=3\) is out of range for an input of shape \(2, 4\)",
    ):
        nn.Unflatten(3, (2, 2)).apply({}, jnp.zeros((2, 4)))


# ------------------------------------------------------------- attribute children


def test_children_are_the_module_attributes_in_assignment_order() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            self.b = nn.Linear(2, 2)
            self._private = nn.Linear(2, 2)  # not a child
            self.nothing = None  # like torch's `downsample = None`
            self.a = nn.BatchNorm1d(2)
            self.size = 3

        def forward(self, run, x):
            return run.a(run.b(x))

    model = Model()
    assert list(model.children()) == ["b", "a"] and list(model.init(KEY)) == ["b", "a"]
    assert model.has_state and list(model.init_state()) == ["a"]
    y, state = model.apply_with_state(model.init(KEY), model.init_state(), jnp.ones((3, 2)), train=True)
    assert y.shape == (3, 2) and int(state["a"]["num_batches_tracked"]) == 1
    assert "(b): Linear(in_features=2, out_features=2, bias=True)" in repr(model) and "_private" not in repr(model)


def test_attribute_children_with_an_explicit_params_forward() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(3, 2)

        def forward(self, params, x, *, key=None, train=False):
            return self.fc.apply(params["fc"], x) * 2

    model = Model()
    params = model.init(KEY)
    np.testing.assert_allclose(
        model.apply(params, jnp.ones((1, 3))), 2 * nn.Linear(3, 2).apply(params["fc"], jnp.ones((1, 3)))
    )


def test_init_matches_sequential_for_the_same_children() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            self.hidden, self.relu, self.output = nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)

        def forward(self, run, x):
            return run.output(run.relu(run.hidden(x)))

    seq = nn.Sequential(hidden=nn.Linear(3, 4), relu=nn.ReLU(), output=nn.Linear(4, 1))
    a, b = Model().init(KEY), seq.init(KEY)
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)
