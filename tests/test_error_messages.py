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


# --------------------------------------------------------------------------- nn.utils
# Errors of funcnn.nn.utils, nn.Tied and LSTM projections that their own test files do
# not match (same row format as CASES).
_LSTM_PROJ = nn.LSTM(3, 4, proj_size=2).init(_KEY)

UTILS_CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    (
        "clip_grad_norm-max_norm-type",
        nn.utils.clip_grad_norm, ("1.0",), {},
        TypeError, r"clip_grad_norm: `max_norm` must be a real number \(or 'inf'\), got '1.0' \(str\)",
    ),
    (
        "clip_grad_norm-norm_type-type",
        nn.utils.clip_grad_norm, (1.0,), {"norm_type": None},
        TypeError, r"clip_grad_norm: `norm_type` must be a real number \(or 'inf'\), got None \(NoneType\)",
    ),
    (
        "clip_grad_value-type",
        nn.utils.clip_grad_value, (True,), {},
        TypeError, r"clip_grad_value: `clip_value` must be a real number \(or 'inf'\), got True \(bool\)",
    ),
    (
        "get_total_norm-norm_type",
        nn.utils.get_total_norm, ({"w": jnp.ones(2)},), {"norm_type": "two"},
        TypeError, r"get_total_norm: `norm_type` must be a real number \(or 'inf'\), got 'two' \(str\)",
    ),
    (
        "unpad_sequence-ndim",
        nn.utils.unpad_sequence, (jnp.ones(3), [3]), {},
        ValueError, r"unpad_sequence: expected input of at least 2 dimensions \(L, N, \*\), got shape \(3,\)",
    ),
    (
        "unpad_sequence-lengths",
        nn.utils.unpad_sequence, (jnp.ones((3, 2)), [3, 4]), {},
        ValueError, r"unpad_sequence: every entry of `lengths` must be in \[1, 3\] \(the padded length\), got \[3, 4\]",
    ),
    (
        "lstm-proj-weights",
        F.lstm, (jnp.ones((5, 2, 3)), {**_LSTM_PROJ, "weight_hr_l0": jnp.ones((2, 5))}), {},
        ValueError, r"lstm: expected weight_ih_l0 of shape \(4\*hidden_size, input_size\), weight_hh_l0 of shape "
        r"\(4\*hidden_size, proj_size\) and weight_hr_l0 of shape \(proj_size, hidden_size\) with proj_size < "
        r"hidden_size, got \(16, 3\), \(16, 2\) and \(2, 5\)",
    ),
    (
        "lstm-proj-hx-type",
        F.lstm, (jnp.ones((5, 2, 3)), _LSTM_PROJ, jnp.zeros((1, 2, 2))), {},
        TypeError, r"lstm: expected `hx` as a tuple \(h_0, c_0\), got ArrayImpl; pass `\(h_0, c_0\)` with shapes \(1, 2, 2\) and \(1, 2, 4\)",
    ),
    (
        "lstm-proj-h0-shape",
        F.lstm, (jnp.ones((5, 2, 3)), _LSTM_PROJ, (jnp.zeros((1, 2, 4)), jnp.zeros((1, 2, 4)))), {},
        ValueError, r"lstm: expected h_0 of shape \(1, 2, 2\), got shape \(1, 2, 4\)",
    ),
    (
        "lstm-proj_size-type",
        nn.LSTM, (3, 4), {"proj_size": 1.5},
        ValueError, r"LSTM: `proj_size` must be a non-negative integer \(0 disables projections\), got 1.5",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in UTILS_CASES], ids=[c[0] for c in UTILS_CASES])
def test_utils_error_message(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_utils_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES + UTILS_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
