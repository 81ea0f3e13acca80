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


# ------------------------------------------------------- resampling and distances
_X3 = jnp.ones((1, 2, 4))
_X4 = jnp.ones((1, 2, 4, 4))

RESAMPLING_CASES = [
    ("interp-mode", F.interpolate, (_X3,), {"size": 3, "mode": "cubic"},
     ValueError, r"interpolate: `mode` must be one of \[.*'bicubic'.*\], got 'cubic'"),
    ("interp-align-nearest", F.interpolate, (_X3,), {"size": 3, "align_corners": True},
     ValueError, r"interpolate: align_corners can only be set with the interpolating modes .* got align_corners=True "
                 r"with mode='nearest'; leave it None"),
    ("interp-ndim", F.interpolate, (jnp.ones((2, 4)),), {"size": 3},
     ValueError, r"interpolate: expected a 3-D, 4-D or 5-D input \(N, C, \*spatial\), got shape \(2, 4\); add a batch axis"),
    ("interp-both", F.interpolate, (_X3,), {"size": 3, "scale_factor": 2},
     ValueError, r"interpolate: pass only one of `size` or `scale_factor`, got size=3 and scale_factor=2"),
    ("interp-neither", F.interpolate, (_X3,), {},
     ValueError, r"interpolate: pass one of `size` or `scale_factor`, got neither"),
    ("interp-size-len", F.interpolate, (_X4,), {"size": (3, 4, 5)},
     ValueError, r"interpolate: expected `size` with one entry per spatial dimension \(2 for an input of shape "
                 r"\(1, 2, 4, 4\)\), got \(3, 4, 5\); pass 2 values"),
    ("interp-scale-len", F.interpolate, (_X4,), {"scale_factor": (2.0,)},
     ValueError, r"interpolate: expected `scale_factor` with one entry per spatial dimension \(2 .*got \(2.0,\)"),
    ("interp-size-type", F.interpolate, (_X3,), {"size": 2.5},
     TypeError, r"interpolate: expected `size` to be an int or a tuple of ints, got 2.5"),
    ("interp-scale-type", F.interpolate, (_X3,), {"scale_factor": "2"},
     TypeError, r"interpolate: expected `scale_factor` to be a number or a tuple of numbers, got '2'"),
    ("interp-recompute-size", F.interpolate, (_X3,), {"size": 3, "recompute_scale_factor": True},
     ValueError, r"interpolate: recompute_scale_factor=True is not meaningful with an explicit size, got size=3"),
    ("interp-empty", F.interpolate, (_X3,), {"scale_factor": 0.1},
     ValueError, r"interpolate: input and output spatial sizes must be > 0, got input shape \(1, 2, 4\) and output "
                 r"size \(0,\); use a larger size or scale_factor"),
    ("interp-antialias-mode", F.interpolate, (_X4,), {"size": 2, "antialias": True},
     ValueError, r"interpolate: antialias=True needs mode 'bilinear', 'bicubic' or 'lanczos' and a 4-D input, got "
                 r"mode='nearest' and shape \(1, 2, 4, 4\); pass antialias=False"),
    ("interp-mode-ndim", F.interpolate, (_X3,), {"size": 2, "mode": "bilinear"},
     ValueError, r"interpolate: mode='bilinear' needs a 4-D input, got shape \(1, 2, 4\); use 'linear' or 'nearest'"),
    ("interp-lanczos-antialias", F.interpolate, (_X4,), {"size": 2, "mode": "lanczos"},
     ValueError, r"interpolate: mode='lanczos' needs antialias=True and align_corners=False, got antialias=False"),
    ("interp-int-linear", F.interpolate, (jnp.ones((1, 1, 3), jnp.int32),), {"size": 2, "mode": "linear"},
     TypeError, r"interpolate: mode='linear' needs a floating-point input, got dtype int32; convert it"),
    ("upsample-neither", nn.Upsample, (), {},
     ValueError, r"Upsample\(size=None, mode='nearest'\): pass exactly one of `size` or `scale_factor`, got size=None "
                 r"and scale_factor=None"),
    ("upsample-mode", nn.Upsample, (2,), {"mode": "cubic"},
     ValueError, r"Upsample\(size=2, mode='cubic'\): `mode` must be one of \[.*\], got 'cubic'"),
    ("upsample-align-nearest", nn.Upsample, (2,), {"align_corners": False},
     ValueError, r"Upsample\(size=2, mode='nearest'\): align_corners only applies to the modes \['linear', "
                 r"'bilinear', 'bicubic', 'trilinear'\], got align_corners=False with mode='nearest'; leave it None"),
    ("grid-sample-mode", F.grid_sample, (_X4, jnp.zeros((1, 2, 2, 2))), {"mode": "area"},
     ValueError, r"grid_sample: `mode` must be one of \['bilinear', 'nearest', 'bicubic'\], got 'area'"),
    ("grid-sample-padding", F.grid_sample, (_X4, jnp.zeros((1, 2, 2, 2))), {"padding_mode": "wrap"},
     ValueError, r"grid_sample: `padding_mode` must be one of \['zeros', 'border', 'reflection'\], got 'wrap'"),
    ("grid-sample-ndim", F.grid_sample, (_X3, jnp.zeros((1, 2, 1))), {},
     ValueError, r"grid_sample: expected a 4-D \(N, C, H, W\) or 5-D \(N, C, D, H, W\) input, got shape \(1, 2, 4\)"),
    ("grid-sample-grid-shape", F.grid_sample, (_X4, jnp.zeros((2, 2, 2, 2))), {},
     ValueError, r"grid_sample: expected grid of shape \(N, \*out, 2\) = \(1, \*, \*, 2\) for an input of shape "
                 r"\(1, 2, 4, 4\), got \(2, 2, 2, 2\)"),
    ("grid-sample-bicubic-5d", F.grid_sample, (jnp.ones((1, 1, 2, 2, 2)), jnp.zeros((1, 1, 1, 1, 3))), {"mode": "bicubic"},
     ValueError, r"grid_sample: mode='bicubic' supports 4-D inputs only, got shape \(1, 1, 2, 2, 2\); use 'bilinear'"),
    ("grid-sample-int", F.grid_sample, (jnp.ones((1, 1, 2, 2), jnp.int32), jnp.zeros((1, 1, 1, 2))), {},
     TypeError, r"grid_sample: expected a floating-point input, got dtype int32"),
    ("affine-grid-theta-shape", F.affine_grid, (jnp.zeros((1, 3, 4)), (1, 1, 2, 2)), {},
     ValueError, r"affine_grid: expected theta of shape \(N, 2, 3\) = \(1, 2, 3\) for size \(1, 1, 2, 2\), got \(1, 3, 4\)"),
    ("affine-grid-size-len", F.affine_grid, (jnp.zeros((1, 2, 3)), (1, 2)), {},
     ValueError, r"affine_grid: expected a 4-D \(N, C, H, W\) or 5-D \(N, C, D, H, W\) size, got \(1, 2\)"),
    ("affine-grid-size-zero", F.affine_grid, (jnp.zeros((1, 2, 3)), (1, 1, 0, 2)), {},
     ValueError, r"affine_grid: expected a positive size, got \(1, 1, 0, 2\)"),
    ("affine-grid-int", F.affine_grid, (jnp.zeros((1, 2, 3), jnp.int32), (1, 1, 2, 2)), {},
     TypeError, r"affine_grid: expected theta with a floating-point dtype, got int32"),
    ("cosine-broadcast", F.cosine_similarity, (jnp.ones((2, 3)), jnp.ones((4, 3))), {},
     ValueError, r"cosine_similarity: expected x1 and x2 of broadcastable shapes, got \(2, 3\) and \(4, 3\)"),
    ("cosine-dim", F.cosine_similarity, (jnp.ones((2, 3)), jnp.ones((2, 3))), {"dim": 2},
     ValueError, r"cosine_similarity: `dim` must be in \[-2, 1\] for inputs of broadcast shape \(2, 3\), got dim=2"),
    ("pairwise-int", F.pairwise_distance, (jnp.ones((2, 3), jnp.int32), jnp.ones((2, 3))), {},
     TypeError, r"pairwise_distance: expected a floating-point x1, got dtype int32"),
    ("pdist-ndim", F.pdist, (jnp.ones((2, 3, 4)),), {},
     ValueError, r"pdist: expected a 2-D input \(N, M\), got shape \(2, 3, 4\)"),
    ("pdist-p", F.pdist, (jnp.ones((2, 3)),), {"p": -1.0},
     ValueError, r"pdist: `p` must be >= 0, got -1.0"),
    ("normalize-dim", F.normalize, (jnp.ones((2, 3)),), {"dim": 3},
     ValueError, r"normalize: `dim` must be in \[-2, 1\] for an input of shape \(2, 3\), got dim=3"),
    ("one-hot-float", F.one_hot, (jnp.ones(3),), {},
     TypeError, r"one_hot: expected integer class indices, got dtype float32; convert them"),
    ("one-hot-range", F.one_hot, (jnp.array([0, 3]),), {"num_classes": 3},
     ValueError, r"one_hot: class values must be in \[0, 3\), got values in \[0, 3\]; pass a larger num_classes"),
    ("one-hot-num-classes", F.one_hot, (jnp.array([0]),), {"num_classes": -2},
     ValueError, r"one_hot: `num_classes` must be -1 \(infer\) or a non-negative integer, got -2"),
    ("one-hot-empty-infer", F.one_hot, (jnp.zeros((0,), jnp.int32),), {},
     ValueError, r"one_hot: cannot infer num_classes from an empty tensor of shape \(0,\); pass num_classes"),
    ("gumbel-key", F.gumbel_softmax, (jnp.zeros(3),), {},
     ValueError, r"gumbel_softmax: sampling needs a PRNG key, got key=None; pass `key=jax.random.key\(step\)`"),
    ("gumbel-tau", F.gumbel_softmax, (jnp.zeros(3),), {"tau": 0.0, "key": _KEY},
     ValueError, r"gumbel_softmax: `tau` must be > 0, got 0.0"),
    ("gumbel-dim", F.gumbel_softmax, (jnp.zeros(3),), {"dim": 1, "key": _KEY},
     ValueError, r"gumbel_softmax: `dim` must be in \[-1, 0\] for logits of shape \(3,\), got dim=1"),
    ("bilinear-weight", F.bilinear, (jnp.ones((2, 3)), jnp.ones((2, 4)), jnp.ones((5, 3, 3))), {},
     ValueError, r"bilinear: expected input1 \(\*, in1\), input2 \(\*, in2\) and weight \(out, in1, in2\) with matching "
                 r"in1 and in2, got shapes \(2, 3\), \(2, 4\) and \(5, 3, 3\)"),
    ("bilinear-batch", F.bilinear, (jnp.ones((2, 3)), jnp.ones((1, 4)), jnp.ones((5, 3, 4))), {},
     ValueError, r"bilinear: expected input1 and input2 with the same leading dims, got shapes \(2, 3\) and \(1, 4\)"),
    ("bilinear-bias", F.bilinear, (jnp.ones((2, 3)), jnp.ones((2, 4)), jnp.ones((5, 3, 4)), jnp.ones(4)), {},
     ValueError, r"bilinear: expected bias of shape \(5,\), got \(4,\)"),
    ("bilinear-layer-features", nn.Bilinear, (0, 2, 3), {},
     ValueError, r"Bilinear: `in1_features` must be a positive integer, got 0"),
    ("bilinear-layer-input", nn.Bilinear(3, 4, 5).apply, (nn.Bilinear(3, 4, 5).init(_KEY), jnp.ones((2, 3)), jnp.ones((2, 3))), {},
     ValueError, r"Bilinear\(in1_features=3, in2_features=4, out_features=5, bias=True\): expected inputs with last "
                 r"dimensions 3 and 4, got shapes \(2, 3\) and \(2, 3\)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in RESAMPLING_CASES], ids=[c[0] for c in RESAMPLING_CASES]
)
def test_resampling_error_message(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_resampling_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES + RESAMPLING_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
