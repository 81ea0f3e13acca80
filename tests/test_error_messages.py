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

import funcnn
import funcnn.nn.functional as F
from funcnn import nn, train
from funcnn.checkpoint import load_file, restore, save
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
        load_file,
        (_File(b"\x01\x02"),),
        {},
        ValueError,
        _CORRUPT.format(r"the file has 2 bytes, fewer than the 8-byte header length"),
    ),
    (
        "safetensors-header-length",
        load_file,
        (_File(struct.pack("<Q", 1000) + b"{}"),),
        {},
        ValueError,
        _CORRUPT.format(r"the header length 1000 exceeds the 2 bytes after it"),
    ),
    (
        "safetensors-invalid-json",
        load_file,
        (_safetensors(None, raw_header=b"{not json"),),
        {},
        ValueError,
        _CORRUPT.format(r"the header is not valid JSON \(.*\)"),
    ),
    (
        "safetensors-not-an-object",
        load_file,
        (_safetensors([]),),
        {},
        ValueError,
        _CORRUPT.format(r"the header is not a JSON object"),
    ),
    (
        "safetensors-repeated-name",
        load_file,
        (_safetensors(None, raw_header=b'{"a": 1, "a": 2}'),),
        {},
        ValueError,
        _CORRUPT.format(r"the header repeats a name"),
    ),
    (
        "safetensors-metadata-not-strings",
        load_file,
        (_safetensors({"__metadata__": {"epoch": 3}}),),
        {},
        ValueError,
        _CORRUPT.format(r"the __metadata__ entry is not a map of strings"),
    ),
    (
        "safetensors-malformed-record",
        load_file,
        (_safetensors({"w": {"dtype": "F32"}}),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has a malformed record"),
    ),
    (
        "safetensors-unknown-dtype",
        load_file,
        (_safetensors({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has unknown dtype 'Q7'"),
    ),
    (
        "safetensors-invalid-shape",
        load_file,
        (_safetensors({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has an invalid shape \[-1\]"),
    ),
    (
        "safetensors-invalid-offsets",
        load_file,
        (_safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has invalid data offsets \[4, 0\]"),
    ),
    (
        "safetensors-size-mismatch",
        load_file,
        (_safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' of shape \(2,\) F32 does not fill its 4 bytes"),
    ),
    (
        "safetensors-gap",
        load_file,
        (_safetensors({"w": _f32([1], begin=4)}, b"\0" * 8),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' starts at byte 4, expected 0 \(a gap or an overlap\)"),
    ),
    (
        "safetensors-checksum-missing",
        load_file,
        (_safetensors({"__metadata__": {"funcnn.other": "x"}, "w": _f32([1])}, b"\0" * 4),),
        {},
        ValueError,
        _CORRUPT.format(r"its funcnn checksum entry is missing or damaged"),
    ),
    # ------------------------------------------------------------------------- data
    (
        "dataloader-scalar-array",
        DataLoader,
        ((np.arange(4.0), np.array(1.0)),),
        {"batch_size": 2},
        ValueError,
        r"DataLoader: array .* is a scalar \(shape \(\)\); every array needs a first dimension .* x\.reshape\(-1, 1\)",
    ),
    (
        "dataloader-load-state-past-end",
        DataLoader(np.arange(6), batch_size=2).load_state,
        ({"epoch": 0, "batch": 5},),
        {},
        ValueError,
        r"DataLoader\(.*\): position batch 5 is past the 3 batches of an epoch; the state was saved by a loader with a different",
    ),
    # ------------------------------------------------------------------ nn layers
    (
        "parallel-cat-without-dim",
        nn.Parallel,
        (nn.Linear(3, 2), nn.Linear(3, 2)),
        {"combine": "cat"},
        ValueError,
        r"Parallel: combine='cat' needs the concatenation axis, e.g\. `dim=1` for NCHW channels",
    ),
    (
        "unflatten-minus-one-next-to-zero",
        nn.Unflatten,
        (1, (-1, 0)),
        {},
        ValueError,
        r"Unflatten\(dim=1, unflattened_size=\(-1, 0\)\): a -1 next to a size 0 is ambiguous; give every size explicitly",
    ),
    (
        "init-bad-mode",
        init.kaiming_uniform,
        (_KEY, (3, 4)),
        {"mode": "fan_avg"},
        ValueError,
        r"kaiming_uniform: `mode` must be 'fan_in' or 'fan_out', got 'fan_avg'",
    ),
    # ------------------------------------------------------------------- attention
    (
        "sdpa-mismatched-embed",
        F.scaled_dot_product_attention,
        (jnp.ones((2, 3, 4)), jnp.ones((2, 5, 6)), jnp.ones((2, 5, 6))),
        {},
        ValueError,
        r"scaled_dot_product_attention: expected query \(\*, L, E\), key \(\*, S, E\) and value \(\*, S, Ev\) "
        r"with matching E and S, got shapes \(2, 3, 4\), \(2, 5, 6\), \(2, 5, 6\)",
    ),
    (
        "sdpa-gqa-heads",
        F.scaled_dot_product_attention,
        (jnp.ones((1, 3, 2, 4)), jnp.ones((1, 2, 2, 4)), jnp.ones((1, 2, 2, 4))),
        {"enable_gqa": True},
        ValueError,
        r"scaled_dot_product_attention: enable_gqa=True needs heads on axis -3 with query heads a multiple "
        r"of key/value heads, got shapes \(1, 3, 2, 4\), \(1, 2, 2, 4\), \(1, 2, 2, 4\)",
    ),
    (
        "sdpa-mask-not-broadcastable",
        F.scaled_dot_product_attention,
        (jnp.ones((2, 3, 4)), jnp.ones((2, 5, 4)), jnp.ones((2, 5, 4))),
        {"attn_mask": jnp.zeros((4, 4))},
        ValueError,
        r"scaled_dot_product_attention: expected attn_mask broadcastable to \(\*, L, S\) = \(\*, 3, 5\), got shape \(4, 4\)",
    ),
    (
        "mha-key-padding-mask-shape",
        _mha,
        (),
        {"key_padding_mask": jnp.zeros((2, 4), bool)},
        ValueError,
        r"multi_head_attention_forward: expected key_padding_mask of shape \(N, S\) = \(2, 5\), got \(2, 4\)",
    ),
    (
        "mha-bias-k-without-bias-v",
        _mha,
        (),
        {"bias_k": jnp.zeros((1, 1, 4))},
        ValueError,
        r"multi_head_attention_forward: pass both `bias_k` and `bias_v` or neither, got only one",
    ),
    (
        "mha-in-proj-weight-shape",
        _mha,
        (),
        {"in_proj_weight": jnp.ones((8, 4))},
        ValueError,
        r"multi_head_attention_forward: expected in_proj_weight of shape \(3 \* E, E\) = \(12, 4\), got \(8, 4\)",
    ),
    (
        "mha-separate-q-proj-shape",
        _mha,
        (),
        {
            "in_proj_weight": None,
            "use_separate_proj_weight": True,
            "q_proj_weight": jnp.ones((3, 4)),
            "k_proj_weight": jnp.ones((4, 4)),
            "v_proj_weight": jnp.ones((4, 4)),
        },
        ValueError,
        r"multi_head_attention_forward: expected a query projection of shape \(E, E\) = \(4, 4\), got \(3, 4\)",
    ),
    # ------------------------------------------------------------------------- rnn
    (
        "rnn-hx-shape",
        F.rnn_tanh,
        (jnp.ones((2, 1, 3)), _RNN_PARAMS, jnp.zeros((1, 1, 5))),
        {},
        ValueError,
        r"rnn_tanh: expected h_0 of shape \(1, 1, 4\), got shape \(1, 1, 5\)",
    ),
    (
        "rnn-cell-one-bias",
        F.rnn_tanh_cell,
        (jnp.ones((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4)), jnp.zeros(4), None),
        {},
        ValueError,
        r"rnn_tanh_cell: pass both `bias_ih` and `bias_hh` or neither",
    ),
    # ----------------------------------------------------------------------- train
    (
        "loss-scale-period",
        train.dynamic_loss_scale,
        (optax.sgd(0.1),),
        {"period": 0},
        ValueError,
        r"dynamic_loss_scale: `period` must be >= 1, got 0",
    ),
    (
        "fit-epochs-zero",
        train.fit,
        (nn.Linear(3, 1), optax.sgd(0.1), DataLoader((np.ones((4, 3)), np.ones((4, 1))), batch_size=2)),
        {"loss": nn.MSELoss(), "epochs": 0, "key": _KEY},
        ValueError,
        r"fit: `epochs` must be >= 1, got 0",
    ),
    # ----------------------------------------------------------------- activations
    (
        "leaky-relu-slope-type",
        nn.LeakyReLU,
        ("a",),
        {},
        TypeError,
        r"LeakyReLU: `negative_slope` must be a real number, got 'a' of type str; pass a Python float",
    ),
    ("elu-alpha-type", nn.ELU, (None,), {}, TypeError, r"ELU: `alpha` must be a real number, got None"),
    ("softplus-beta-type", nn.Softplus, (), {"beta": "2"}, TypeError, r"Softplus: `beta` must be a real number"),
    ("hardtanh-max-type", nn.Hardtanh, (-1.0, [1.0]), {}, TypeError, r"Hardtanh: `max_val` must be a real number"),
    (
        "relu-inplace-type",
        nn.ReLU,
        ("yes",),
        {},
        TypeError,
        r"ReLU: `inplace` must be a bool, got 'yes' of type str; it is accepted for PyTorch "
        r"compatibility and has no effect \(JAX arrays are immutable\)",
    ),
    ("selu-inplace-type", nn.SELU, (1,), {}, TypeError, r"SELU: `inplace` must be a bool, got 1 of type int"),
    ("softmax-dim-type", nn.Softmax, (1.0,), {}, TypeError, r"Softmax: `dim` must be an int, got 1.0 of type float"),
    ("softmin-dim-type", nn.Softmin, ("1",), {}, TypeError, r"Softmin: `dim` must be an int, got '1'"),
    ("glu-dim-type", nn.GLU, (None,), {}, TypeError, r"GLU: `dim` must be an int, got None"),
    ("threshold-value-type", nn.Threshold, (0.1, "x"), {}, TypeError, r"Threshold: `value` must be a real number"),
    (
        "hardshrink-lambd-type",
        nn.Hardshrink,
        (True,),
        {},
        TypeError,
        r"Hardshrink: `lambd` must be a real number, got True",
    ),
    (
        "softshrink-lambd-negative",
        nn.Softshrink,
        (-0.5,),
        {},
        ValueError,
        r"Softshrink: `lambd` must be >= 0, got -0.5; it is the width shrunk off both sides",
    ),
    (
        "softshrink-functional-negative",
        F.softshrink,
        (jnp.ones(2), -1.0),
        {},
        ValueError,
        r"softshrink: `lambd` must be >= 0, got -1.0",
    ),
    ("celu-alpha-zero", nn.CELU, (0.0,), {}, ValueError, r"CELU: `alpha` must not be 0 \(the input is divided by it\)"),
    ("celu-functional-alpha-zero", F.celu, (jnp.ones(2), 0), {}, ValueError, r"celu: `alpha` must not be 0"),
    (
        "prelu-num-parameters",
        nn.PReLU,
        (0,),
        {},
        ValueError,
        r"PReLU: `num_parameters` must be a positive integer .*, got 0",
    ),
    ("prelu-num-parameters-type", nn.PReLU, (2.0,), {}, TypeError, r"PReLU: `num_parameters` must be an int, got 2.0"),
    ("prelu-init-type", nn.PReLU, (1, "0.25"), {}, TypeError, r"PReLU: `init` must be a real number"),
    (
        "prelu-channels",
        F.prelu,
        (jnp.ones((2, 3, 4)), jnp.ones(2)),
        {},
        ValueError,
        r"prelu: expected `weight` of shape \(1,\) or \(3,\), one slope per channel of the input's axis 1, "
        r"got shape \(2,\) for input of shape \(2, 3, 4\); use PReLU\(num_parameters=3\)",
    ),
    (
        "prelu-layer-channels",
        nn.PReLU(4).apply,
        ({"weight": jnp.ones(4)}, jnp.ones((2, 3))),
        {},
        ValueError,
        r"prelu: expected `weight` of shape \(1,\) or \(3,\)",
    ),
    (
        "rrelu-bounds",
        nn.RReLU,
        (0.5, 0.1),
        {},
        ValueError,
        r"RReLU: `lower` \(=0.5\) must not exceed `upper` \(=0.1\); they bound the random negative slope",
    ),
    (
        "rrelu-functional-bounds",
        F.rrelu,
        (jnp.ones(2), 0.5, 0.1),
        {},
        ValueError,
        r"rrelu: `lower` \(=0.5\) must not exceed",
    ),
    ("rrelu-upper-type", nn.RReLU, (0.1, "1/3"), {}, TypeError, r"RReLU: `upper` must be a real number"),
    (
        "rrelu-train-no-key",
        nn.RReLU().apply,
        ({}, jnp.ones(2)),
        {"train": True},
        ValueError,
        r"RReLU\(lower=0.125, upper=0.3333333333333333\): train=True samples random numbers and needs a "
        r"PRNG key, got key=None",
    ),
    (
        "rrelu-functional-train-no-key",
        F.rrelu,
        (jnp.ones(2),),
        {"training": True},
        ValueError,
        r"rrelu: training=True draws a random slope per element and needs a PRNG key, got key=None; "
        r"call `F.rrelu\(x, lower, upper, training=True, key=jax.random.key\(step\)\)`",
    ),
    (
        "glu-odd",
        F.glu,
        (jnp.ones((3, 5)),),
        {},
        ValueError,
        r"glu: the size along `dim` \(=-1\) must be even to halve, got shape \(3, 5\); pad or slice",
    ),
    ("glu-scalar", F.glu, (jnp.ones(()),), {}, ValueError, r"glu: expected an input with at least one dimension"),
    ("glu-dim-range", nn.GLU(2).apply, ({}, jnp.ones((3, 4))), {}, ValueError, r"glu: `dim` \(=2\) is out of range"),
    ("softmin-dim-range", F.softmin, (jnp.ones((3, 4)), 2), {}, ValueError, r"softmin: `dim` \(=2\) is out of range"),
    (
        "softmax2d-rank",
        nn.Softmax2d().apply,
        ({}, jnp.ones((2, 3))),
        {},
        ValueError,
        r"Softmax2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(2, 3\); "
        r"for other ranks use nn.Softmax\(dim=...\)",
    ),
    # ---------------------------------------------------------------------- losses
    (
        "poisson-log-input-type",
        nn.PoissonNLLLoss,
        ("yes",),
        {},
        TypeError,
        r"PoissonNLLLoss: `log_input` must be a bool, got 'yes' of type str",
    ),
    (
        "poisson-shape",
        F.poisson_nll_loss,
        (jnp.ones(3), jnp.ones(2)),
        {},
        ValueError,
        r"poisson_nll_loss: expected target of the same shape as input \(3,\), got target shape \(2,\)",
    ),
    (
        "poisson-reduction",
        F.poisson_nll_loss,
        (jnp.ones(3), jnp.ones(3)),
        {"reduction": "avg"},
        ValueError,
        r"poisson_nll_loss: `reduction` must be one of \['none', 'mean', 'sum'\], got 'avg'",
    ),
    (
        "gaussian-var-negative-float",
        F.gaussian_nll_loss,
        (jnp.ones(3), jnp.ones(3), -1.0),
        {},
        ValueError,
        r"gaussian_nll_loss: `var` must be non-negative, got -1.0",
    ),
    (
        "gaussian-var-negative",
        F.gaussian_nll_loss,
        (jnp.ones(3), jnp.ones(3), np.array([1.0, -2.0, 1.0])),
        {},
        ValueError,
        r"gaussian_nll_loss: `var` must be non-negative, got a value -2.0",
    ),
    (
        "gaussian-var-shape",
        nn.GaussianNLLLoss(),
        (jnp.ones((2, 3)), jnp.ones((2, 3)), jnp.ones((3, 2))),
        {},
        ValueError,
        r"GaussianNLLLoss\(reduction='mean'\): expected `var` of the input's shape \(2, 3\), of \(2,\) \(one variance per "
        r"sample\), or with exactly one dimension of size 1 in place of the input's; got shape \(3, 2\)",
    ),
    ("gaussian-full-type", nn.GaussianNLLLoss, (), {"full": 1}, TypeError, r"GaussianNLLLoss: `full` must be a bool"),
    (
        "margin-ranking-shapes",
        F.margin_ranking_loss,
        (jnp.ones(3), jnp.ones(3), jnp.ones(2)),
        {},
        ValueError,
        r"margin_ranking_loss: expected input1, input2, target of one shape, got input1 \(3,\), input2 \(3,\), "
        r"target \(2,\); reshape them to match",
    ),
    (
        "margin-ranking-margin-type",
        nn.MarginRankingLoss,
        ("0.1",),
        {},
        TypeError,
        r"MarginRankingLoss: `margin` must be a Python number, got '0.1' of type str",
    ),
    (
        "hinge-int-input",
        F.hinge_embedding_loss,
        (jnp.ones(3, jnp.int32), jnp.ones(3)),
        {},
        TypeError,
        r"hinge_embedding_loss: expected a floating-point input, got dtype int32",
    ),
    (
        "soft-margin-reduction",
        nn.SoftMarginLoss,
        (),
        {"reduction": "batchmean"},
        ValueError,
        r"SoftMarginLoss: `reduction` must be one of",
    ),
    (
        "cosine-target-shape",
        nn.CosineEmbeddingLoss(),
        (jnp.ones((3, 4)), jnp.ones((3, 4)), jnp.ones(4)),
        {},
        ValueError,
        r"CosineEmbeddingLoss\(reduction='mean'\): expected inputs of shape \(N, D\) or \(D,\) and target of shape \(N,\) "
        r"or \(\), got inputs \(3, 4\) and target \(4,\)",
    ),
    (
        "multi-margin-p",
        nn.MultiMarginLoss,
        (3,),
        {},
        ValueError,
        r"MultiMarginLoss: `p` must be 1 or 2, as in PyTorch, got 3",
    ),
    (
        "multi-margin-weight",
        nn.MultiMarginLoss,
        (1, 1.0, np.ones((2, 2))),
        {},
        ValueError,
        r"MultiMarginLoss: expected `weight` of shape \(C,\), one per class, got shape \(2, 2\)",
    ),
    (
        "multi-margin-weight-classes",
        F.multi_margin_loss,
        (jnp.ones((2, 3)), jnp.array([0, 1])),
        {"weight": jnp.ones(4)},
        ValueError,
        r"multi_margin_loss: expected `weight` of shape \(3,\), one per class, got shape \(4,\)",
    ),
    (
        "multi-margin-target",
        F.multi_margin_loss,
        (jnp.ones((2, 3)), jnp.array([0, 3])),
        {},
        ValueError,
        r"multi_margin_loss: target holds class index 3, out of range for C=3 classes; class indices must lie in \[0, 3\)",
    ),
    (
        "multi-margin-float-target",
        F.multi_margin_loss,
        (jnp.ones((2, 3)), jnp.array([0.0, 1.0])),
        {},
        ValueError,
        r"multi_margin_loss: expected integer class indices of shape \(2,\), got a float32 target of shape \(2,\)",
    ),
    (
        "multi-margin-input-rank",
        F.multi_margin_loss,
        (jnp.ones((2, 3, 4)), jnp.zeros((2, 3), jnp.int32)),
        {},
        ValueError,
        r"multi_margin_loss: expected input of shape \(N, C\) or \(C,\), got shape \(2, 3, 4\)",
    ),
    (
        "multilabel-margin-target",
        F.multilabel_margin_loss,
        (jnp.ones((2, 3)), jnp.array([[0, 5, -1], [1, -1, 0]])),
        {},
        ValueError,
        r"multilabel_margin_loss: target holds class index 5, out of range for C=3 classes; class indices "
        r"must lie in \[0, 3\) \(or -1\)",
    ),
    (
        "multilabel-soft-margin-weight",
        F.multilabel_soft_margin_loss,
        (jnp.ones((2, 3)), jnp.ones((2, 3)), jnp.ones(2)),
        {},
        ValueError,
        r"multilabel_soft_margin_loss: expected `weight` broadcastable to the input shape \(2, 3\), got shape \(2,\)",
    ),
    (
        "triplet-margin",
        nn.TripletMarginLoss,
        (0.0,),
        {},
        ValueError,
        r"TripletMarginLoss: `margin` must be > 0, as in PyTorch, got 0.0",
    ),
    (
        "triplet-p",
        F.triplet_margin_loss,
        (jnp.ones(3), jnp.ones(3), jnp.ones(3)),
        {"p": -1},
        ValueError,
        r"triplet_margin_loss: `p` must be > 0 for the p-norm distance, got -1",
    ),
    (
        "triplet-swap-type",
        nn.TripletMarginLoss,
        (),
        {"swap": "no"},
        TypeError,
        r"TripletMarginLoss: `swap` must be a bool",
    ),
    (
        "triplet-ndims",
        F.triplet_margin_loss,
        (jnp.ones((2, 3)), jnp.ones(3), jnp.ones((2, 3))),
        {},
        ValueError,
        r"triplet_margin_loss: expected anchor, positive and negative with the same number of dimensions, got anchor "
        r"\(2, 3\), positive \(3,\) and negative \(2, 3\)",
    ),
    (
        "triplet-shapes",
        F.triplet_margin_loss,
        (jnp.ones((2, 3)), jnp.ones((2, 4)), jnp.ones((2, 3))),
        {},
        ValueError,
        r"triplet_margin_loss: expected anchor, positive, negative of one shape",
    ),
    (
        "triplet-distance-margin",
        nn.TripletMarginWithDistanceLoss,
        (),
        {"margin": -1.0},
        ValueError,
        r"TripletMarginWithDistanceLoss: `margin` must be > 0, as in PyTorch, got -1.0",
    ),
    (
        "triplet-distance-function",
        nn.TripletMarginWithDistanceLoss,
        (),
        {"distance_function": "l2"},
        TypeError,
        r"TripletMarginWithDistanceLoss: `distance_function` must be a callable \(x1, x2\) -> distances, got 'l2'",
    ),
    ("ctc-blank-type", nn.CTCLoss, (0.0,), {}, TypeError, r"CTCLoss: `blank` must be an int, got 0.0 of type float"),
    ("ctc-blank-negative", nn.CTCLoss, (-1,), {}, ValueError, r"CTCLoss: `blank` must be a class index >= 0, got -1"),
    (
        "ctc-zero-infinity-type",
        nn.CTCLoss,
        (),
        {"zero_infinity": None},
        TypeError,
        r"CTCLoss: `zero_infinity` must be a bool, got None",
    ),
    (
        "ctc-log-probs-rank",
        F.ctc_loss,
        (jnp.zeros(5), jnp.ones(1, jnp.int32), 5, 1),
        {},
        ValueError,
        r"ctc_loss: expected `log_probs` of shape \(T, N, C\) or \(T, C\), got shape \(5,\)",
    ),
    (
        "ctc-blank-range",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 1), jnp.int32), [5, 5], [1, 1]),
        {"blank": 3},
        ValueError,
        r"ctc_loss: `blank` \(=3\) must be a class index in \[0, 3\) for C=3 classes",
    ),
    (
        "ctc-input-lengths",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 1), jnp.int32), [5, 6], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: `input_lengths` holds 6, outside \[0, 5\] \(the input length T\); each length must fit",
    ),
    (
        "ctc-input-lengths-shape",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 1), jnp.int32), [5], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: expected `input_lengths` as integers of shape \(2,\), got a int\d+ array of shape \(1,\)",
    ),
    (
        "ctc-lengths-float",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 1), jnp.int32), [5.0, 5.0], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: expected `input_lengths` as integers of shape \(2,\), got a float\d+ array",
    ),
    (
        "ctc-target-lengths",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 2), jnp.int32), [5, 5], [1, 3]),
        {},
        ValueError,
        r"ctc_loss: `target_lengths` holds 3, outside \[0, 2\] \(the padded targets' length S\)",
    ),
    (
        "ctc-concatenated-sum",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones(3, jnp.int32), [5, 5], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: concatenated `targets` hold 3 labels but `target_lengths` sum to 2; they must agree",
    ),
    (
        "ctc-targets-float",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((2, 1)), [5, 5], [1, 1]),
        {},
        TypeError,
        r"ctc_loss: expected integer `targets`, got dtype float32; use `targets.astype\(jnp.int32\)`",
    ),
    (
        "ctc-targets-batch",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.ones((3, 1), jnp.int32), [5, 5], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: expected padded `targets` of shape \(2, S\), got shape \(3, 1\)",
    ),
    (
        "ctc-targets-range",
        F.ctc_loss,
        (jnp.zeros((5, 2, 3)), jnp.array([[1], [3]]), [5, 5], [1, 1]),
        {},
        ValueError,
        r"ctc_loss: `targets` hold class index 3, out of range for C=3 classes",
    ),
    (
        "ctc-targets-blank",
        nn.CTCLoss(),
        (jnp.zeros((5, 2, 3)), jnp.array([[1, 0], [2, 0]]), [5, 5], [1, 2]),
        {},
        ValueError,
        r"CTCLoss\(reduction='mean'\): `targets` hold the blank index 0 within their lengths; a target label "
        r"is never the blank",
    ),
    (
        "ctc-unbatched-targets",
        F.ctc_loss,
        (jnp.zeros((5, 3)), jnp.ones((1, 2), jnp.int32), 5, 2),
        {},
        ValueError,
        r"ctc_loss: expected unbatched `targets` of shape \(S,\), got shape \(1, 2\)",
    ),
    (
        "lce-input-rank",
        F.linear_cross_entropy,
        (jnp.ones((2, 3, 4)), jnp.ones((5, 4)), jnp.zeros(2, jnp.int32)),
        {},
        ValueError,
        r"linear_cross_entropy: expected input of shape \(in_features,\) or \(N, in_features\), got shape \(2, 3, 4\)",
    ),
    (
        "lce-weight-features",
        F.linear_cross_entropy,
        (jnp.ones((2, 4)), jnp.ones((5, 3)), jnp.zeros(2, jnp.int32)),
        {},
        ValueError,
        r"linear_cross_entropy: expected `linear_weight` of shape \(C, \*out_features, 4\) for input of shape "
        r"\(2, 4\), got shape \(5, 3\)",
    ),
    (
        "lce-bias",
        F.linear_cross_entropy,
        (jnp.ones((2, 4)), jnp.ones((5, 4)), jnp.zeros(2, jnp.int32)),
        {"linear_bias": jnp.ones(4)},
        ValueError,
        r"linear_cross_entropy: expected `linear_bias` of shape \(5,\), got shape \(4,\)",
    ),
    (
        "lce-kdim-unbatched",
        F.linear_cross_entropy,
        (jnp.ones(4), jnp.ones((5, 2, 4)), jnp.zeros(2, jnp.int32)),
        {},
        ValueError,
        r"linear_cross_entropy: a K-dimensional loss \(linear_weight of shape \(5, 2, 4\)\) needs batched "
        r"input \(N, 4\), got shape \(4,\); use `input\[None\]`",
    ),
    (
        "lce-probs-ignore",
        F.linear_cross_entropy,
        (jnp.ones((2, 4)), jnp.ones((5, 4)), jnp.ones((2, 5))),
        {"ignore_index": 0},
        ValueError,
        r"linear_cross_entropy: `ignore_index` cannot be given with class-probability "
        r"targets \(target of the logits' shape \(2, 5\)\); leave it None",
    ),
    (
        "lce-options-type",
        F.linear_cross_entropy,
        (jnp.ones((2, 4)), jnp.ones((5, 4)), jnp.zeros(2, jnp.int32)),
        {"options": {"batch_chunk_size": 2}},
        TypeError,
        r"linear_cross_entropy: `options` must be a LinearCrossEntropyOptions or None",
    ),
    (
        "lce-chunked-label",
        F.linear_cross_entropy,
        (jnp.ones((2, 4)), jnp.ones((5, 4)), jnp.array([0, 7])),
        {"options": nn.LinearCrossEntropyOptions()},
        ValueError,
        r"linear_cross_entropy: target holds class index 7, out of range for C=5 classes",
    ),
    (
        "lce-module-weight",
        nn.LinearCrossEntropyLoss,
        (4, 5),
        {"weight": np.ones(4)},
        ValueError,
        r"LinearCrossEntropyLoss: expected `weight` of shape \(5,\), got shape \(4,\)",
    ),
    (
        "lce-module-classes",
        nn.LinearCrossEntropyLoss,
        (4, 0),
        {},
        ValueError,
        r"LinearCrossEntropyLoss: `num_classes` must be a positive integer, got 0",
    ),
    (
        "lce-module-smoothing",
        nn.LinearCrossEntropyLoss,
        (4, 5),
        {"label_smoothing": 2.0},
        ValueError,
        r"LinearCrossEntropyLoss: `label_smoothing` must be a probability in \[0, 1\], got 2.0",
    ),
    (
        "lce-module-call",
        nn.LinearCrossEntropyLoss(4, 5).apply,
        ({"linear": {"weight": jnp.ones((5, 4))}}, jnp.ones((2, 3)), jnp.zeros(2, jnp.int32)),
        {},
        ValueError,
        r"LinearCrossEntropyLoss\(in_features=4, num_classes=5\): expected "
        r"`linear_weight` of shape",
    ),
    (
        "lce-options-policy",
        nn.LinearCrossEntropyOptions,
        (),
        {"acc_policy": "fast"},
        ValueError,
        r"LinearCrossEntropyOptions: `acc_policy` must be one of \['auto', 'accurate', 'balanced', 'compact'\], got 'fast'",
    ),
    (
        "lce-options-method",
        nn.LinearCrossEntropyOptions,
        (),
        {"chunking_method": "aspect_ratio:0"},
        ValueError,
        r"LinearCrossEntropyOptions: `chunking_method` must be 'auto', 'aspect_ratio', 'aspect_ratio:N' \(N >= 1\) or None, "
        r"got 'aspect_ratio:0'",
    ),
    (
        "lce-options-chunk",
        nn.LinearCrossEntropyOptions,
        (),
        {"batch_chunk_size": 0},
        ValueError,
        r"LinearCrossEntropyOptions: `batch_chunk_size` must be a positive int or None, got 0",
    ),
    (
        "lce-options-dtype",
        nn.LinearCrossEntropyOptions,
        (),
        {"acc_dtype": jnp.int32},
        ValueError,
        r"LinearCrossEntropyOptions: `acc_dtype` must be a floating dtype or None",
    ),
    (
        "lce-options-conflict",
        nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio").chunk_size,
        (64, 8, 32),
        {},
        ValueError,
        r"LinearCrossEntropyOptions: `batch_chunk_size` \(=3\) and `chunking_method` "
        r"\('aspect_ratio'\) give different chunk sizes \(3 vs 16\); pass only one",
    ),
    # ------------------------------------- spatial: 3-D pools, fractional, fold, conv_transpose3d
    (
        "max-pool3d-too-small",
        F.max_pool3d,
        (jnp.ones((1, 1, 2, 4, 4)), 3),
        {},
        ValueError,
        r"max_pool3d: input of shape \(1, 1, 2, 4, 4\) is too small for kernel \(3, 3, 3\)",
    ),
    (
        "avg-pool3d-divisor",
        F.avg_pool3d,
        (jnp.ones((1, 4, 4, 4)), 2),
        {"divisor_override": 0},
        ValueError,
        r"avg_pool3d: `divisor_override` must be a non-zero int or None, got 0",
    ),
    (
        "adaptive-max-pool3d-output-size",
        F.adaptive_max_pool3d_with_indices,
        (jnp.ones((1, 4, 4, 4)), (2, 2)),
        {},
        TypeError,
        r"adaptive_max_pool3d_with_indices: `output_size` must be an int or a tuple of 3 ints \(or None\)",
    ),
    (
        "fractional-neither-size-nor-ratio",
        F.fractional_max_pool2d,
        (jnp.ones((1, 4, 4)), 2),
        {"key": _KEY},
        ValueError,
        r"fractional_max_pool2d: give exactly one of `output_size` and `output_ratio`",
    ),
    (
        "fractional-functional-needs-key",
        F.fractional_max_pool3d_with_indices,
        (jnp.ones((1, 5, 5, 5)), 2, 2),
        {},
        ValueError,
        r"fractional_max_pool3d_with_indices: .* needs a PRNG key, got key=None",
    ),
    (
        "fold-output-size-type",
        F.fold,
        (jnp.ones((1, 4, 9)), 2.5, 2),
        {},
        TypeError,
        r"fold: `output_size` must be an int or a tuple of 2 ints, got 2.5",
    ),
    (
        "conv-transpose3d-weight-rank",
        F.conv_transpose3d,
        (jnp.ones((1, 2, 3, 3, 3)), jnp.ones((2, 2, 3, 3))),
        {},
        ValueError,
        r"conv_transpose3d: expected a 5-D weight \(in_channels, out_channels / groups, D, H, W\)",
    ),
    (
        "lp-pool2d-kernel-type",
        F.lp_pool2d,
        (jnp.ones((1, 4, 4)), 2, (2, 2, 2)),
        {},
        TypeError,
        r"lp_pool2d: `kernel_size` must be an int or a tuple of 2 ints, got \(2, 2, 2\)",
    ),
]


# Normalisation, dropout, embedding and transformer additions.
CASES += [
    (
        "embedding-bag-weight-rank",
        F.embedding_bag,
        (jnp.array([[0, 1]]), jnp.ones(4)),
        {},
        ValueError,
        r"embedding_bag: expected a 2-D weight of shape \(num_embeddings, embedding_dim\), got shape \(4,\)",
    ),
    (
        "embedding-bag-padding-idx",
        F.embedding_bag,
        (jnp.array([[0, 1]]), jnp.ones((4, 2))),
        {"padding_idx": 4},
        ValueError,
        r"embedding_bag: `padding_idx` \(=4\) must be within \[-4, 4\) for num_embeddings=4",
    ),
    (
        "local-response-norm-beta-type",
        F.local_response_norm,
        (jnp.ones((1, 2, 3)), 2),
        {"beta": None},
        TypeError,
        r"local_response_norm: `beta` must be a real number, got NoneType",
    ),
    (
        "rms-norm-normalized-shape",
        F.rms_norm,
        (jnp.ones((2, 3)), (3, 0)),
        {},
        ValueError,
        r"rms_norm: `normalized_shape` must be a positive int or a non-empty sequence of positive ints, got \(3, 0\)",
    ),
    (
        "dropout3d-p",
        F.dropout3d,
        (jnp.ones((1, 2, 1, 1, 1)), 1.5),
        {},
        ValueError,
        r"dropout3d: `p` must be a probability in \[0, 1\], got 1.5",
    ),
    (
        "transformer-num-encoder-layers",
        nn.Transformer,
        (8, 2),
        {"num_encoder_layers": 0},
        ValueError,
        r"Transformer: `num_encoder_layers` must be a positive integer, got 0",
    ),
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    exc: type[Exception],
    match: str,
    tmp_path: Path,
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


# ------------------------------------------- hostile and careless inputs (checkpoint, data, values)


def _funcnn_file(tensors: dict[str, Any], metadata: dict[str, str]) -> _File:
    """A file as funcnn's writer makes it (valid checksum), with any metadata."""
    from funcnn.checkpoint import safetensors as st

    return _File(b"".join(bytes(memoryview(c)) for c in st.encode("test", tensors, metadata)))


def _manifest_file(version: Any) -> _File:
    manifest = {
        "format": "funcnn.checkpoint",
        "version": version,
        "leaves": [{"path": "['w']", "shape": [2], "dtype": "float64"}],
    }
    return _funcnn_file({"['w']": np.zeros(2)}, {"funcnn.manifest": json.dumps(manifest)})


def _first_tensor(path: Any, name: str) -> Any:
    from funcnn.checkpoint import safe_open

    with safe_open(path) as f:
        return f.get_tensor(name)


def _bn_state_dict(**values: Any) -> dict[str, Any]:
    sd = {
        "weight": np.ones(2),
        "bias": np.zeros(2),
        "running_mean": np.zeros(2),
        "running_var": np.ones(2),
        "num_batches_tracked": np.array(0),
    }
    return {**sd, **values}


_UNFIT = r"load_state_dict for BatchNorm1d: expected the 5 keys of the model, got 5:\n  values that do not fit the model's dtypes \(convert them first; 64-bit ints need jax_enable_x64\): "

HARDENING_CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    (
        "safetensors-zero-dim-huge",
        load_file,
        (_safetensors({"w": {"dtype": "F32", "shape": [0, 2**63], "data_offsets": [0, 0]}}),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has a shape \[0, 9223372036854775808\] too large for any array"),
    ),
    (
        "safetensors-65-dims",
        load_file,
        (_safetensors({"w": {"dtype": "F32", "shape": [0] * 65, "data_offsets": [0, 0]}}),),
        {},
        ValueError,
        _CORRUPT.format(r"tensor 'w' has 65 dimensions, more than the 64 NumPy supports"),
    ),
    (
        "safetensors-deep-nesting",
        load_file,
        (_safetensors(None, raw_header=b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"),),
        {},
        ValueError,
        _CORRUPT.format(
            r"the header is not valid JSON \(it nests deeper than 3 levels or its brackets do not balance\)"
        ),
    ),
    (
        "safetensors-too-many-values",
        load_file,
        (_safetensors(None, raw_header=b'{"a":[' + b"0," * 600_000 + b"0]}"),),
        {},
        ValueError,
        _CORRUPT.format(
            r"the header is not valid JSON \(it holds about 600004 values, more than the limit of 250000\)"
        ),
    ),
    (
        "safe-open-unknown-tensor",
        _first_tensor,
        (_funcnn_file({"w": np.zeros(2)}, {}), "v"),
        {},
        ValueError,
        r"safe_open\('.*bad.safetensors'\): no tensor named 'v'; the file holds 1: 'w'; pass one of f.keys\(\)",
    ),
    (
        "manifest-version-string",
        restore,
        (_manifest_file("1"),),
        {"like": {"w": np.zeros(2)}},
        ValueError,
        r"restore: '.*bad.safetensors' has a malformed manifest \(version '1' is not a positive integer\); it was not written by funcnn",
    ),
    (
        "manifest-deep-nesting",
        restore,
        (_funcnn_file({"['w']": np.zeros(2)}, {"funcnn.manifest": "[" * 50}),),
        {"like": {"w": np.zeros(2)}},
        ValueError,
        r"has a malformed manifest \(not valid JSON: it nests deeper than 4 levels or its brackets do not balance\)",
    ),
    (
        "save-int-beyond-int64",
        save,
        (_File(b""), {"a": 2**70}),
        {},
        ValueError,
        r"save: leaf \['a'\] is the int 1180591620717411303424, outside the int64 range \[-2\*\*63, 2\*\*63 - 1\] .*; store it as a float",
    ),
    (
        "data-loader-int64-wraps",
        DataLoader,
        (np.array([1, 2**40]),),
        {"batch_size": 1},
        ValueError,
        r"DataLoader: array \[0\] holds 1099511627776, outside the range \[-2147483648, 2147483647\] of int32; JAX holds int64 data as int32 while 64-bit mode is off. Enable it with jax.config.update\('jax_enable_x64', True\)",
    ),
    (
        "data-loader-uint64-wraps",
        DataLoader,
        ({"ids": np.array([2**63], np.uint64)},),
        {"batch_size": 1},
        ValueError,
        r"DataLoader: array 'ids' holds 9223372036854775808, outside the range \[0, 4294967295\] of uint32",
    ),
    (
        "load-state-dict-counter-wraps",
        funcnn.load_state_dict,
        (nn.BatchNorm1d(2), _bn_state_dict(num_batches_tracked=np.array(2**40))),
        {},
        ValueError,
        _UNFIT + r"num_batches_tracked: holds 1099511627776, outside the range \[-2147483648, 2147483647\] of int32",
    ),
    (
        "load-state-dict-complex",
        funcnn.load_state_dict,
        (nn.BatchNorm1d(2), _bn_state_dict(weight=np.array([1j, 1]))),
        {},
        ValueError,
        _UNFIT
        + r"weight: holds complex values; float32 would drop the imaginary part \(pass np.real\(x\) to drop it\)",
    ),
    (
        "load-state-dict-none",
        funcnn.load_state_dict,
        (nn.BatchNorm1d(2), _bn_state_dict(running_var=np.array([None, None]))),
        {},
        ValueError,
        _UNFIT + r"running_var: holds Python objects \(e.g. None\) \(object\), not numbers",
    ),
    (
        "load-state-dict-string",
        funcnn.load_state_dict,
        (nn.BatchNorm1d(2), _bn_state_dict(bias="zeros")),
        {},
        ValueError,
        _UNFIT + r"bias: holds strings \(<U5\), not numbers \(a str\)",
    ),
    (
        "state-dict-not-a-dict",
        funcnn.state_dict,
        ([1, 2],),
        {},
        TypeError,
        r"state_dict: `params` must be the nested dict of arrays from model.init, got list; pass e.g. funcnn.state_dict\(model.init\(key\)\)",
    ),
]


# ----------------------------------------------------------- train (issues 12, 13)
_X3, _Y1 = np.ones((4, 3), np.float32), np.ones((4, 1), np.float32)

TRAIN_CASES = [
    (
        "fit-key-int",
        train.fit,
        (nn.Linear(3, 1), optax.sgd(0.1), [(_X3, _Y1)]),
        {"loss": F.mse_loss, "key": 3},
        TypeError,
        r"fit: `key` must be a PRNG key such as jax.random.key\(0\), got int 3; pass jax.random.key\(3\)",
    ),
    (
        "train-state-key-int",
        train.TrainState.create,
        (nn.Linear(3, 1), optax.sgd(0.1), 0),
        {},
        TypeError,
        r"TrainState.create: `key` must be a PRNG key such as jax.random.key\(0\), got int 0",
    ),
    (
        "with-ema-decay",
        train.with_ema,
        (optax.sgd(0.1),),
        {"decay": 1.5},
        ValueError,
        r"with_ema: `decay` must be a number in \[0, 1\), e.g. 0.999, got 1.5",
    ),
    (
        "with-ema-not-optax",
        train.with_ema,
        (0.1,),
        {},
        TypeError,
        r"with_ema: expected an optax optimizer such as optax.adam\(1e-3\), got float",
    ),
    (
        "csv-logger-flush-every",
        train.CSVLogger,
        ("steps.csv",),
        {"flush_every": 0},
        ValueError,
        r"CSVLogger: `flush_every` must be an int >= 1, got 0",
    ),
    (
        "tensorboard-logger-logdir",
        train.TensorBoardLogger,
        (None,),
        {},
        TypeError,
        r"TensorBoardLogger: `logdir` must be a directory path such as 'runs/tb', got NoneType",
    ),
    (
        "lr-recorder-beta",
        train.LRRecorder,
        (),
        {"beta": 1.0},
        ValueError,
        r"LRRecorder: `beta` must be a number in \[0, 1\), e.g. 0.98, got 1.0",
    ),
    (
        "lr-find-steps",
        train.lr_find,
        (nn.Linear(3, 1), optax.sgd, [(_X3, _Y1)]),
        {"loss": F.mse_loss, "key": _KEY, "steps": 2},
        ValueError,
        r"lr_find: `steps` must be an int >= 3, got 2",
    ),
    (
        "load-fit-checkpoint-type",
        train.load_fit_checkpoint,
        (None, nn.Linear(3, 1), optax.sgd(0.1)),
        {},
        TypeError,
        r"load_fit_checkpoint: `checkpoint` must be the directory given to fit\(checkpoint=...\)",
    ),
    (
        "fit-fused-name",
        train.fit,
        (nn.Linear(3, 1), optax.sgd(0.1), [(_X3, _Y1)]),
        {"loss": F.mse_loss, "key": _KEY, "fused": "fast"},
        ValueError,
        r"fit: `fused` must be False, True, 'epoch', 'auto' or a number of steps >= 1, got 'fast'",
    ),
]


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="the narrowing cases assume 64-bit mode is off")
@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in HARDENING_CASES], ids=[c[0] for c in HARDENING_CASES]
)
def test_hardening_error_message(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    exc: type[Exception],
    match: str,
    tmp_path: Path,
) -> None:
    test_error_message(fn, args, kwargs, exc, match, tmp_path)


def test_hardening_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES + HARDENING_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES]
)
def test_train_error_message(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


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


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in UTILS_CASES], ids=[c[0] for c in UTILS_CASES]
)
def test_utils_error_message(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


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
    ("train-string", nn.Dropout(0.5).apply, ({}, jnp.ones(3)), {"train": "no"},
     TypeError, r"Dropout\(p=0.5, inplace=False\): `train` must be True or False, got str 'no'; pass train=True"),
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


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"), [c[1:] for c in CORE_CASES], ids=[c[0] for c in CORE_CASES]
)
def test_core_error_message(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ------------------------------------------------------- resampling and distances
_R3 = jnp.ones((1, 2, 4))
_R4 = jnp.ones((1, 2, 4, 4))

RESAMPLING_CASES = [
    ("interp-mode", F.interpolate, (_R3,), {"size": 3, "mode": "cubic"},
     ValueError, r"interpolate: `mode` must be one of \[.*'bicubic'.*\], got 'cubic'"),
    ("interp-align-nearest", F.interpolate, (_R3,), {"size": 3, "align_corners": True},
     ValueError, r"interpolate: align_corners can only be set with the interpolating modes .* got align_corners=True "
                 r"with mode='nearest'; leave it None"),
    ("interp-ndim", F.interpolate, (jnp.ones((2, 4)),), {"size": 3},
     ValueError, r"interpolate: expected a 3-D, 4-D or 5-D input \(N, C, \*spatial\), got shape \(2, 4\); add a batch axis"),
    ("interp-both", F.interpolate, (_R3,), {"size": 3, "scale_factor": 2},
     ValueError, r"interpolate: pass only one of `size` or `scale_factor`, got size=3 and scale_factor=2"),
    ("interp-neither", F.interpolate, (_R3,), {},
     ValueError, r"interpolate: pass one of `size` or `scale_factor`, got neither"),
    ("interp-size-len", F.interpolate, (_R4,), {"size": (3, 4, 5)},
     ValueError, r"interpolate: expected `size` with one entry per spatial dimension \(2 for an input of shape "
                 r"\(1, 2, 4, 4\)\), got \(3, 4, 5\); pass 2 values"),
    ("interp-scale-len", F.interpolate, (_R4,), {"scale_factor": (2.0,)},
     ValueError, r"interpolate: expected `scale_factor` with one entry per spatial dimension \(2 .*got \(2.0,\)"),
    ("interp-size-type", F.interpolate, (_R3,), {"size": 2.5},
     TypeError, r"interpolate: expected `size` to be an int or a tuple of ints, got 2.5"),
    ("interp-scale-type", F.interpolate, (_R3,), {"scale_factor": "2"},
     TypeError, r"interpolate: expected `scale_factor` to be a number or a tuple of numbers, got '2'"),
    ("interp-recompute-size", F.interpolate, (_R3,), {"size": 3, "recompute_scale_factor": True},
     ValueError, r"interpolate: recompute_scale_factor=True is not meaningful with an explicit size, got size=3"),
    ("interp-empty", F.interpolate, (_R3,), {"scale_factor": 0.1},
     ValueError, r"interpolate: input and output spatial sizes must be > 0, got input shape \(1, 2, 4\) and output "
                 r"size \(0,\); use a larger size or scale_factor"),
    ("interp-antialias-mode", F.interpolate, (_R4,), {"size": 2, "antialias": True},
     ValueError, r"interpolate: antialias=True needs mode 'bilinear', 'bicubic' or 'lanczos' and a 4-D input, got "
                 r"mode='nearest' and shape \(1, 2, 4, 4\); pass antialias=False"),
    ("interp-mode-ndim", F.interpolate, (_R3,), {"size": 2, "mode": "bilinear"},
     ValueError, r"interpolate: mode='bilinear' needs a 4-D input, got shape \(1, 2, 4\); use 'linear' or 'nearest'"),
    ("interp-lanczos-antialias", F.interpolate, (_R4,), {"size": 2, "mode": "lanczos"},
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
    ("grid-sample-mode", F.grid_sample, (_R4, jnp.zeros((1, 2, 2, 2))), {"mode": "area"},
     ValueError, r"grid_sample: `mode` must be one of \['bilinear', 'nearest', 'bicubic'\], got 'area'"),
    ("grid-sample-padding", F.grid_sample, (_R4, jnp.zeros((1, 2, 2, 2))), {"padding_mode": "wrap"},
     ValueError, r"grid_sample: `padding_mode` must be one of \['zeros', 'border', 'reflection'\], got 'wrap'"),
    ("grid-sample-ndim", F.grid_sample, (_R3, jnp.zeros((1, 2, 1))), {},
     ValueError, r"grid_sample: expected a 4-D \(N, C, H, W\) or 5-D \(N, C, D, H, W\) input, got shape \(1, 2, 4\)"),
    ("grid-sample-grid-shape", F.grid_sample, (_R4, jnp.zeros((2, 2, 2, 2))), {},
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


def test_utils_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES + UTILS_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_resampling_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES + RESAMPLING_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_module_without_has_state_and_without_buffers_runs_through_apply() -> None:
    class OnlyApplyWithState(nn.Module):
        def apply_with_state(self, params, state, x, *, key=None, train=False):
            return x * 2, state

    np.testing.assert_array_equal(OnlyApplyWithState().apply({}, jnp.ones(2)), [2.0, 2.0])
