"""Error messages that no other test file matches, as one table.

Each row is ``(callable, args, kwargs, exception type, match regex)``: calling
``callable(*args, **kwargs)`` must raise that exception with a message matching the
regex (which names what was expected, what came and, where there is one, the fix).

A `_File` argument stands for a file holding its bytes; the test writes it to a
temporary directory and passes the path instead.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcnn.nn.functional as F
from funcnn import nn, train
from funcnn.checkpoint import load_file
from funcnn.data import DataLoader
from funcnn.nn import init


class _File(NamedTuple):
    """Raw file contents, written to a temporary path before the call."""

    data: bytes


def _safetensors(header: Any, data: bytes = b"", *, raw_header: bytes | None = None) -> _File:
    """A safetensors file: 8-byte little-endian header length, the JSON header, the data."""
    head = raw_header if raw_header is not None else json.dumps(header).encode()
    return _File(struct.pack("<Q", len(head)) + head + data)


def _f32(shape: list[int], begin: int = 0) -> dict[str, Any]:
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, begin + 4 * int(np.prod(shape))]}


_CORRUPT = r"load_file: '.*bad\.safetensors' is not a valid safetensors file \({}\); nothing was loaded"

_KEY = jax.random.key(0)
_RNN_PARAMS = nn.RNN(3, 4).init(_KEY)
_X = jnp.ones((5, 2, 4))  # (L, N, E) for multi-head attention, E=4, 2 heads


def _mha(**overrides: Any) -> tuple[Any, ...]:
    """Calls ``F.multi_head_attention_forward`` on valid inputs with some arguments replaced."""
    kwargs: dict[str, Any] = dict(
        query=_X, key=_X, value=_X, embed_dim_to_check=4, num_heads=2,
        in_proj_weight=jnp.ones((12, 4)), in_proj_bias=jnp.zeros(12), bias_k=None, bias_v=None,
        add_zero_attn=False, dropout_p=0.0, out_proj_weight=jnp.eye(4), out_proj_bias=jnp.zeros(4),
    )  # fmt: skip
    kwargs.update(overrides)
    return F.multi_head_attention_forward(**kwargs)


CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    # ------------------------------------------------------------ safetensors reading
    (
        "safetensors-too-short",
        load_file, (_File(b"\x01\x02"),), {},
        ValueError, _CORRUPT.format(r"the file has 2 bytes, fewer than the 8-byte header length"),
    ),
    (
        "safetensors-header-length",
        load_file, (_File(struct.pack("<Q", 1000) + b"{}"),), {},
        ValueError, _CORRUPT.format(r"the header length 1000 exceeds the 2 bytes after it"),
    ),
    (
        "safetensors-invalid-json",
        load_file, (_safetensors(None, raw_header=b"{not json"),), {},
        ValueError, _CORRUPT.format(r"the header is not valid JSON \(.*\)"),
    ),
    (
        "safetensors-not-an-object",
        load_file, (_safetensors([]),), {},
        ValueError, _CORRUPT.format(r"the header is not a JSON object"),
    ),
    (
        "safetensors-repeated-name",
        load_file, (_safetensors(None, raw_header=b'{"a": 1, "a": 2}'),), {},
        ValueError, _CORRUPT.format(r"the header repeats a name"),
    ),
    (
        "safetensors-metadata-not-strings",
        load_file, (_safetensors({"__metadata__": {"epoch": 3}}),), {},
        ValueError, _CORRUPT.format(r"the __metadata__ entry is not a map of strings"),
    ),
    (
        "safetensors-malformed-record",
        load_file, (_safetensors({"w": {"dtype": "F32"}}),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' has a malformed record"),
    ),
    (
        "safetensors-unknown-dtype",
        load_file, (_safetensors({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' has unknown dtype 'Q7'"),
    ),
    (
        "safetensors-invalid-shape",
        load_file, (_safetensors({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' has an invalid shape \[-1\]"),
    ),
    (
        "safetensors-invalid-offsets",
        load_file, (_safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' has invalid data offsets \[4, 0\]"),
    ),
    (
        "safetensors-size-mismatch",
        load_file, (_safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' of shape \(2,\) F32 does not fill its 4 bytes"),
    ),
    (
        "safetensors-gap",
        load_file, (_safetensors({"w": _f32([1], begin=4)}, b"\0" * 8),), {},
        ValueError, _CORRUPT.format(r"tensor 'w' starts at byte 4, expected 0 \(a gap or an overlap\)"),
    ),
    (
        "safetensors-checksum-missing",
        load_file, (_safetensors({"__metadata__": {"funcnn.other": "x"}, "w": _f32([1])}, b"\0" * 4),), {},
        ValueError, _CORRUPT.format(r"its funcnn checksum entry is missing or damaged"),
    ),
    # ------------------------------------------------------------------------- data
    (
        "dataloader-scalar-array",
        DataLoader, ((np.arange(4.0), np.array(1.0)),), {"batch_size": 2},
        ValueError, r"DataLoader: array .* is a scalar \(shape \(\)\); every array needs a first dimension .* x\.reshape\(-1, 1\)",
    ),
    (
        "dataloader-load-state-past-end",
        DataLoader(np.arange(6), batch_size=2).load_state, ({"epoch": 0, "batch": 5},), {},
        ValueError, r"DataLoader\(.*\): position batch 5 is past the 3 batches of an epoch; the state was saved by a loader with a different",
    ),
    # ------------------------------------------------------------------ nn layers
    (
        "parallel-cat-without-dim",
        nn.Parallel, (nn.Linear(3, 2), nn.Linear(3, 2)), {"combine": "cat"},
        ValueError, r"Parallel: combine='cat' needs the concatenation axis, e.g\. `dim=1` for NCHW channels",
    ),
    (
        "unflatten-minus-one-next-to-zero",
        nn.Unflatten, (1, (-1, 0)), {},
        ValueError, r"Unflatten\(dim=1, unflattened_size=\(-1, 0\)\): a -1 next to a size 0 is ambiguous; give every size explicitly",
    ),
    (
        "init-bad-mode",
        init.kaiming_uniform, (_KEY, (3, 4)), {"mode": "fan_avg"},
        ValueError, r"kaiming_uniform: `mode` must be 'fan_in' or 'fan_out', got 'fan_avg'",
    ),
    # ------------------------------------------------------------------- attention
    (
        "sdpa-mismatched-embed",
        F.scaled_dot_product_attention, (jnp.ones((2, 3, 4)), jnp.ones((2, 5, 6)), jnp.ones((2, 5, 6))), {},
        ValueError, r"scaled_dot_product_attention: expected query \(\*, L, E\), key \(\*, S, E\) and value \(\*, S, Ev\) "
        r"with matching E and S, got shapes \(2, 3, 4\), \(2, 5, 6\), \(2, 5, 6\)",
    ),
    (
        "sdpa-gqa-heads",
        F.scaled_dot_product_attention, (jnp.ones((1, 3, 2, 4)), jnp.ones((1, 2, 2, 4)), jnp.ones((1, 2, 2, 4))),
        {"enable_gqa": True},
        ValueError, r"scaled_dot_product_attention: enable_gqa=True needs heads on axis -3 with query heads a multiple "
        r"of key/value heads, got shapes \(1, 3, 2, 4\), \(1, 2, 2, 4\), \(1, 2, 2, 4\)",
    ),
    (
        "sdpa-mask-not-broadcastable",
        F.scaled_dot_product_attention, (jnp.ones((2, 3, 4)), jnp.ones((2, 5, 4)), jnp.ones((2, 5, 4))),
        {"attn_mask": jnp.zeros((4, 4))},
        ValueError, r"scaled_dot_product_attention: expected attn_mask broadcastable to \(\*, L, S\) = \(\*, 3, 5\), got shape \(4, 4\)",
    ),
    (
        "mha-key-padding-mask-shape",
        _mha, (), {"key_padding_mask": jnp.zeros((2, 4), bool)},
        ValueError, r"multi_head_attention_forward: expected key_padding_mask of shape \(N, S\) = \(2, 5\), got \(2, 4\)",
    ),
    (
        "mha-bias-k-unsupported",
        _mha, (), {"bias_k": jnp.zeros((1, 1, 4))},
        ValueError, r"multi_head_attention_forward: `bias_k` is not supported, got an array; pass bias_k=None",
    ),
    (
        "mha-in-proj-weight-shape",
        _mha, (), {"in_proj_weight": jnp.ones((8, 4))},
        ValueError, r"multi_head_attention_forward: expected in_proj_weight of shape \(3 \* E, E\) = \(12, 4\), got \(8, 4\)",
    ),
    (
        "mha-separate-q-proj-shape",
        _mha, (),
        {"in_proj_weight": None, "use_separate_proj_weight": True,
         "q_proj_weight": jnp.ones((3, 4)), "k_proj_weight": jnp.ones((4, 4)), "v_proj_weight": jnp.ones((4, 4))},
        ValueError, r"multi_head_attention_forward: expected a query projection of shape \(E, E\) = \(4, 4\), got \(3, 4\)",
    ),
    # ------------------------------------------------------------------------- rnn
    (
        "rnn-hx-shape",
        F.rnn_tanh, (jnp.ones((2, 1, 3)), _RNN_PARAMS, jnp.zeros((1, 1, 5))), {},
        ValueError, r"rnn_tanh: expected h_0 of shape \(1, 1, 4\), got shape \(1, 1, 5\)",
    ),
    (
        "rnn-cell-one-bias",
        F.rnn_tanh_cell, (jnp.ones((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4)), jnp.zeros(4), None), {},
        ValueError, r"rnn_tanh_cell: pass both `bias_ih` and `bias_hh` or neither",
    ),
    # ----------------------------------------------------------------------- train
    (
        "loss-scale-period",
        train.dynamic_loss_scale, (optax.sgd(0.1),), {"period": 0},
        ValueError, r"dynamic_loss_scale: `period` must be >= 1, got 0",
    ),
    (
        "fit-epochs-zero",
        train.fit, (nn.Linear(3, 1), optax.sgd(0.1), DataLoader((np.ones((4, 3)), np.ones((4, 1))), batch_size=2)),
        {"loss": nn.MSELoss(), "epochs": 0, "key": _KEY},
        ValueError, r"fit: `epochs` must be >= 1, got 0",
    ),
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str, tmp_path: Path
) -> None:
    real_args = []
    for a in args:
        if isinstance(a, _File):
            path = tmp_path / "bad.safetensors"
            path.write_bytes(a.data)
            a = path
        real_args.append(a)
    with pytest.raises(exc, match=match):
        fn(*real_args, **kwargs)


def test_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# ------------------------------------------------------------- the Module core
class _ForgotHasState(nn.Module):
    """Keeps a counter buffer but does not declare ``has_state``."""

    def init_state(self) -> dict[str, Any]:
        return {"count": jnp.zeros((), jnp.int32)}

    def apply_with_state(self, params, state, x, *, key=None, train=False):
        return x, {"count": state["count"] + 1}


def _fit_with_foreign_params() -> Any:
    model = nn.Sequential(nn.Linear(4, 2))
    data = [(jnp.ones((3, 4)), jnp.zeros(3, jnp.int32))]
    foreign = nn.Sequential(nn.Linear(4, 3)).init(_KEY)
    return train.fit(model, optax.sgd(0.1), data, loss=F.cross_entropy, key=_KEY, params=foreign, progress=False)


_PARAMS_FIX = r"; pass the params of this model \(`model.init\(key\)`, or `funcnn.load_state_dict"
_LINEAR34 = r"Linear\(in_features=3, out_features=4, bias=True\): params do not match this model: "

CORE_CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    ("params-of-another-linear", nn.Linear(3, 4).apply, (nn.Linear(3, 7).init(_KEY), jnp.ones((2, 3))), {},
     ValueError, _LINEAR34 + r"at 'weight': expected shape \(4, 3\), got shape \(7, 3\)" + _PARAMS_FIX),
    ("params-bias-for-no-bias", nn.Linear(3, 4, bias=False).apply, (nn.Linear(3, 4).init(_KEY), jnp.ones((2, 3))), {},
     ValueError, r"bias=False\): params do not match this model: unexpected key 'bias' \(shape \(4,\)\); "
                 r"expected keys \['weight'\]"),
    ("params-missing-bias", nn.Linear(3, 4).apply, ({"weight": jnp.ones((4, 3))}, jnp.ones((2, 3))), {},
     ValueError, _LINEAR34 + r"missing key 'bias' \(expected shape \(4,\)\)"),
    ("params-bias-shape", nn.Linear(3, 4).apply, ({"weight": jnp.ones((4, 3)), "bias": jnp.ones(5)}, jnp.ones((2, 3))),
     {}, ValueError, _LINEAR34 + r"at 'bias': expected shape \(4,\), got shape \(5,\)"),
    ("params-conv-kernel", nn.Conv2d(3, 8, 3).apply, (nn.Conv2d(3, 8, 5).init(_KEY), jnp.ones((1, 3, 6, 6))), {},
     ValueError, r"Conv2d\(3, 8, kernel_size=\(3, 3\).*at 'weight': expected shape \(8, 3, 3, 3\), got shape \(8, 3, 5, 5\)"),
    ("params-lstm-hidden", nn.LSTM(4, 5).apply, (nn.LSTM(4, 6).init(_KEY), jnp.ones((2, 1, 4))), {},
     ValueError, r"LSTM\(4, 5\): params do not match this model: at 'weight_ih_l0': expected shape \(20, 4\), got shape \(24, 4\)"),
    ("params-embedding-rows", nn.Embedding(10, 3).apply, (nn.Embedding(20, 3).init(_KEY), jnp.array([15])), {},
     ValueError, r"Embedding\(10, 3\): params do not match this model: at 'weight': expected shape \(10, 3\), "
                 r"got shape \(20, 3\)"),
    ("params-empty", nn.Linear(3, 4).apply, ({}, jnp.ones((2, 3))), {},
     ValueError, _LINEAR34 + r"missing key 'weight' \(expected shape \(4, 3\)\)"),
    ("params-none", nn.Linear(3, 4).apply, (None, jnp.ones((2, 3))), {},
     TypeError, r"Linear\(in_features=3, out_features=4, bias=True\): expected params as a dict of arrays, got None; "
                r"create them with `params = model.init\(jax.random.key\(0\)\)`"),
    ("params-nested-path", nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)).apply,
     (nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 5)).init(_KEY), jnp.ones((1, 2))), {},
     ValueError, r"Sequential: params do not match this model: at '2.weight': expected shape \(3, 2\), got shape \(5, 2\)"),
    ("params-fit-foreign", _fit_with_foreign_params, (), {},
     ValueError, r"Sequential: params do not match this model: at '0.weight': expected shape \(2, 4\), got shape \(3, 4\)"),
    ("key-int", nn.Dropout(0.5).apply, ({}, jnp.ones(3)), {"key": 3, "train": True},
     TypeError, r"Dropout\(p=0.5, inplace=False\): `key` must be a PRNG key, got int 3; pass key=jax.random.key\(3\)"),
    ("input-list", nn.Linear(3, 4).apply, (nn.Linear(3, 4).init(_KEY), [[1.0, 2.0, 3.0]]), {},
     TypeError, r"Linear\(in_features=3, out_features=4, bias=True\): expected an array as input, got a Python list; "
                r"pass an array, e.g. jnp.asarray\(x\)"),
    ("input-none", nn.ReLU().apply, ({}, None), {},
     TypeError, r"ReLU\(\): expected an array as input, got None"),
    ("forgot-has-state", _ForgotHasState().apply, ({}, jnp.ones(2)), {},
     TypeError, r"_ForgotHasState implements apply_with_state\(\) and has buffers \['count'\], but its `has_state` is "
                r"False, so `apply` cannot know whether they change: add `has_state = True`"),
    ("holder-forward", nn.ModuleList([nn.ReLU()]).apply, ({}, jnp.ones(2)), {},
     TypeError, r"ModuleList holds children for a custom model and has no forward of its own: call them from the "
                r"model's `forward\(self, run, x\)` as `run.layers\[0\]\(x\)`"),
    ("parameter-no-shape", nn.Parameter, (init.normal,), {},
     ValueError, r"Parameter: an initializer needs the shape to draw, got shape=None; pass it, e.g. "
                 r"nn.Parameter\(normal, \(1, 16\)\)"),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in CORE_CASES],
                         ids=[c[0] for c in CORE_CASES])
def test_core_error_message(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                            exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_a_module_without_has_state_and_without_buffers_runs_through_apply() -> None:
    class OnlyApplyWithState(nn.Module):
        def apply_with_state(self, params, state, x, *, key=None, train=False):
            return x * 2, state

    np.testing.assert_array_equal(OnlyApplyWithState().apply({}, jnp.ones(2)), [2.0, 2.0])
