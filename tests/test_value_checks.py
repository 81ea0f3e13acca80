"""Values that do not fit are refused, never wrapped, truncated or made up.

DataLoader's narrowing to JAX's canonical dtypes, `funcnn.load_state_dict` casting to
the model's dtypes, and `funcnn.state_dict`'s argument checks.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import funcnn
from funcnn import nn
from funcnn._casting import cast
from funcnn.data import DataLoader, random_split

_X64 = jax.config.jax_enable_x64


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize(
    ("value", "dtype", "why"),
    [
        (
            np.array([1, 2**40]),
            np.int32,
            r"holds 1099511627776, outside the range \[-2147483648, 2147483647\] of int32",
        ),
        (np.array([-(2**31) - 1]), np.int32, r"holds -2147483649, outside the range"),
        (
            np.array([0, 2**63], np.uint64),
            np.uint32,
            r"holds 9223372036854775808, outside the range \[0, 4294967295\] of uint32",
        ),
        (
            np.array([2**63], np.uint64),
            np.int64,
            r"holds 9223372036854775808, outside the range \[-9223372036854775808, 9223372036854775807\] of int64",
        ),
        (np.array([-1]), np.uint8, r"holds -1, outside the range \[0, 255\] of uint8"),
        (np.array([1.5]), np.int32, r"holds 1.5, which is not a whole number, so it does not fit int32"),
        (np.array([np.nan]), np.int32, r"holds nan, which is not a whole number"),
        (np.array([2.0**40]), np.int32, r"holds 1099511627776.0, outside the range"),
        (np.array([1e300, 1.0]), np.float32, r"holds 1e\+300, beyond the largest float32 \(3.40282\d*e\+38\)"),
        (np.array([-1e39]), jnp.bfloat16, r"holds -1e\+39, beyond the largest bfloat16"),
        (np.array([70000]), np.float16, r"holds 70000, beyond the largest float16 \(65504.0\)"),
        (np.array([1 + 1e300j]), np.complex64, r"holds 1e\+300, beyond the largest complex64"),
        (
            np.array([1 + 2j]),
            np.float32,
            r"holds complex values; float32 would drop the imaginary part \(pass np.real\(x\) to drop it\)",
        ),
        (np.array([None, None]), np.float32, r"holds Python objects \(e.g. None\) \(object\), not numbers"),
        (np.array(["ab"]), np.float32, r"holds strings \(<U2\), not numbers"),
        (np.array([b"ab"]), np.int32, r"holds bytes \(\|S2\), not numbers"),
        (np.array([2]), np.bool_, r"holds 2, which is not 0 or 1, so it does not fit bool"),
    ],
    ids=[
        "int64-2**40",
        "int64-low",
        "uint64-2**63",
        "uint64-to-int64",
        "negative-unsigned",
        "fraction",
        "nan-to-int",
        "float-2**40",
        "float-overflow",
        "bfloat16-overflow",
        "int-to-float16",
        "complex-overflow",
        "complex-to-real",
        "none-objects",
        "strings",
        "bytes",
        "two-to-bool",
    ],
)
def test_values_that_do_not_fit_are_named(value: np.ndarray, dtype: object, why: str) -> None:
    out, reason = cast(value, dtype)
    assert out is None and reason is not None
    assert __import__("re").fullmatch(why + ".*", reason), reason


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array([0, 2**31 - 1, -(2**31)]), np.int32),
        (np.array([3.0, -2.0]), np.int32),
        (np.array([0.1, np.inf, -np.inf, np.nan]), np.float32),  # rounding is expected; inf and nan stay
        (np.array([1, 0]), np.bool_),
        (np.array([True]), np.int8),
        (np.array([2**24 + 1]), np.float32),  # rounds, fits
        (np.array([1 + 2j]), np.complex64),
        (np.zeros((0, 3), np.int64), np.int8),
    ],
    ids=[
        "int-edges",
        "whole-floats",
        "float-specials",
        "zero-one-to-bool",
        "bool-to-int",
        "int-to-float",
        "complex",
        "empty",
    ],
)
def test_values_that_fit_are_cast(value: np.ndarray, dtype: object) -> None:
    out, reason = cast(value, dtype)
    assert reason is None and out.dtype == np.dtype(dtype) and out.shape == value.shape
    np.testing.assert_array_equal(out.astype(value.dtype) if value.dtype.kind != "f" else out, value.astype(dtype))


# ---------------------------------------------------------------- DataLoader
@pytest.mark.skipif(_X64, reason="with x64 on, 64-bit arrays are kept as they are")
@pytest.mark.parametrize(
    ("column", "match"),
    [
        (
            np.array([1, 2**40]),
            r"array \[1\] holds 1099511627776, outside the range \[-2147483648, 2147483647\] of int32; JAX holds int64 data as int32 while 64-bit mode is off",
        ),
        (
            np.array([0, 2**63], np.uint64),
            r"array \[1\] holds 9223372036854775808, outside the range \[0, 4294967295\] of uint32; JAX holds uint64 data as uint32",
        ),
        (
            np.array([1e300, 0.0]),
            r"array \[1\] holds 1e\+300, beyond the largest float32 .*; JAX holds float64 data as float32",
        ),
    ],
    ids=["int64", "uint64", "float64"],
)
def test_data_loader_refuses_values_narrowing_would_corrupt(column: np.ndarray, match: str) -> None:
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"DataLoader: " + match + r".*jax_enable_x64"):
        DataLoader((x, column), batch_size=1)
    with pytest.raises(ValueError, match=r"random_split: " + match):
        random_split((x, column), [1, 1], key=jax.random.key(0))


def test_data_loader_keeps_values_that_fit() -> None:
    ids = np.array([0, 2**31 - 1, -(2**31)], np.int64)
    loader = DataLoader((ids, np.array([0.5, 1e30, -np.inf])), batch_size=3)
    ((a, b),) = list(loader)
    assert a.tolist() == ids.tolist() and b.dtype == (jnp.float64 if _X64 else jnp.float32)
    assert np.isinf(np.asarray(b)[2])
    with pytest.raises(TypeError, match=r"DataLoader: array \[0\] has dtype object, which JAX cannot hold"):
        DataLoader(np.array([None, None]), batch_size=1)


# ----------------------------------------------------------- load_state_dict
def _bn_sd() -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in torch.nn.BatchNorm1d(2).state_dict().items()}


_HEAD = r"load_state_dict for BatchNorm1d: expected the 5 keys of the model, got 5:\n  values that do not fit the model's dtypes \(convert them first; 64-bit ints need jax_enable_x64\): "


@pytest.mark.skipif(_X64, reason="with x64 on, the model's counter is int64")
@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        (
            "num_batches_tracked",
            np.array(2**40),
            r"num_batches_tracked: holds 1099511627776, outside the range \[-2147483648, 2147483647\] of int32",
        ),
        (
            "num_batches_tracked",
            torch.tensor(2**40),
            r"num_batches_tracked: holds 1099511627776, outside the range .* \(a Tensor\)",
        ),
        ("num_batches_tracked", "abc", r"num_batches_tracked: holds strings \(<U3\), not numbers \(a str\)"),
        ("weight", np.array([1 + 2j, 1]), r"weight: holds complex values; float32 would drop the imaginary part"),
        ("weight", np.array([None, None]), r"weight: holds Python objects \(e.g. None\) \(object\), not numbers"),
        ("weight", "ab", r"weight: holds strings \(<U2\), not numbers \(a str\)"),
        ("weight", [[1], [2, 3]], r"weight: is a list, not an array"),
        ("running_var", np.array([1e300, 1.0]), r"running_var: holds 1e\+300, beyond the largest float32"),
    ],
    ids=["counter-2**40", "torch-counter", "counter-string", "complex", "none", "string", "ragged", "float-overflow"],
)
def test_load_state_dict_refuses_values_that_do_not_fit(key: str, value: object, why: str) -> None:
    with pytest.raises(ValueError, match=_HEAD + why):
        funcnn.load_state_dict(nn.BatchNorm1d(2), {**_bn_sd(), key: value})


def test_load_state_dict_names_every_unfit_value_and_still_checks_shapes() -> None:
    sd = {**_bn_sd(), "weight": np.array([None, None]), "bias": np.zeros(3), "num_batches_tracked": np.array(7.5)}
    with pytest.raises(ValueError) as info:
        funcnn.load_state_dict(nn.BatchNorm1d(2), sd)
    msg = str(info.value)
    assert (
        "weight: holds Python objects" in msg and "num_batches_tracked: holds 7.5, which is not a whole number" in msg
    )
    assert "mis-shaped keys: bias: expected shape (2,), got (3,)" in msg


def test_load_state_dict_casts_values_that_fit() -> None:
    sd = {**_bn_sd(), "num_batches_tracked": np.array(2**31 - 1), "weight": np.array([0.5, 2.0])}
    _, state = funcnn.load_state_dict(nn.BatchNorm1d(2), sd)
    assert int(state["num_batches_tracked"]) == 2**31 - 1
    params, _ = funcnn.load_state_dict(nn.BatchNorm1d(2), {**sd, "num_batches_tracked": 12.0})
    assert params["weight"].dtype == jnp.float32


# ---------------------------------------------------------------- state_dict
@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        (
            ([1, 2],),
            TypeError,
            r"state_dict: `params` must be the nested dict of arrays from model.init, got list; pass e.g. funcnn.state_dict\(model.init\(key\)\)",
        ),
        (
            ({"w": np.zeros(2)}, [3]),
            TypeError,
            r"state_dict: `state` must be the nested dict of arrays from model.init_state, got list",
        ),
        (
            ({"a": {"b": "x"}},),
            TypeError,
            r"state_dict: `params` leaf 'a.b' is a str, not a numeric array; a state_dict holds arrays only",
        ),
        (({"a": None},), TypeError, r"state_dict: `params` leaf 'a' is a NoneType, not a numeric array"),
        (
            ({"w": np.zeros(2)}, {"c": np.array(["s"])}),
            TypeError,
            r"state_dict: `state` leaf 'c' is a ndarray of dtype <U1, not a numeric array",
        ),
    ],
    ids=["list-params", "list-state", "string-leaf", "none-leaf", "string-array"],
)
def test_state_dict_argument_errors(args: tuple, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        funcnn.state_dict(*args)


def test_state_dict_accepts_numbers_and_low_precision_leaves() -> None:
    sd = funcnn.state_dict({"a": 1.5, "b": jnp.ones(2, jnp.bfloat16), "c": {"d": np.int8(3)}})
    assert sd["a"] == 1.5 and sd["b"].dtype == jnp.bfloat16 and sd["c.d"] == 3
