"""Cases for MultiheadAttention, TransformerEncoderLayer and TransformerEncoder.

Masks go in ``kwargs`` (not ``inputs``): they are not differentiated and not vmapped.
A torch layer in eval mode under ``no_grad`` may take its inference "fast path"
(``TransformerEncoderLayer`` with ``batch_first=True``), whose fused kernels round
differently; `_no_fastpath` runs torch's reference path, which has the same meaning.
"""

from __future__ import annotations

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn

E, H, N, L, S = 8, 2, 3, 5, 4


def _randn(g, *shape):
    return g.standard_normal(shape).astype(np.float32)


def _qkv(q_shape, k_shape, v_shape):
    return lambda g: (_randn(g, *q_shape), _randn(g, *k_shape), _randn(g, *v_shape))


def _x(*shape):
    return lambda g: (_randn(g, *shape),)


def _no_fastpath(tmod, *args, **kwargs):
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        return tmod(*args, **kwargs)
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def _padding(n, s, lengths):
    """Boolean key padding mask ``(n, s)``: True past each sequence's length."""
    return np.arange(s)[None, :] >= np.asarray(lengths)[:, None]


_SEQ = _qkv((L, N, E), (S, N, E), (S, N, E))
_BATCH = _qkv((N, L, E), (N, S, E), (N, S, E))
_KPM = _padding(N, S, [4, 2, 3])
_3D_MASK = np.random.default_rng(5).random((N * H, L, S)) < 0.4
_3D_MASK[..., 0] = False  # every query keeps at least one key
_CAUSAL = np.triu(np.full((L, L), -np.inf, np.float32), k=1)


def _mha(name, inputs, kwargs=None, **options):
    return LayerCase(
        f"mha-{name}",
        lambda: nn.MultiheadAttention(E, H, **options),
        lambda: torch.nn.MultiheadAttention(E, H, **options),
        inputs,
        kwargs=kwargs or {},
    )


def _layer(**options):
    return lambda: nn.TransformerEncoderLayer(E, H, dim_feedforward=16, **options)


def _torch_layer(**options):
    return lambda: torch.nn.TransformerEncoderLayer(E, H, dim_feedforward=16, **options)


CASES = [
    _mha("seq-first-key-padding", _SEQ, dict(key_padding_mask=_KPM)),
    _mha(
        "batch-first-per-head-float-masks",
        _BATCH,
        dict(
            attn_mask=np.random.default_rng(2).standard_normal((L, S)).astype(np.float32),
            key_padding_mask=np.where(_KPM, -1e4, 0.5).astype(np.float32),
            average_attn_weights=False,
        ),
        batch_first=True,
    ),
    _mha(
        "kdim-vdim-no-weights-padding",
        _qkv((N, L, E), (N, S, 3), (N, S, 7)),
        dict(key_padding_mask=_KPM, need_weights=False),
        kdim=3,
        vdim=7,
        batch_first=True,
    ),
    _mha(
        "3d-mask-and-padding-per-head",
        _SEQ,
        dict(attn_mask=_3D_MASK, key_padding_mask=_KPM, average_attn_weights=False),
    ),
    _mha(
        "causal-no-weights",
        _qkv((L, N, E), (L, N, E), (L, N, E)),
        dict(attn_mask=_CAUSAL, is_causal=True, need_weights=False),
    ),
    _mha(
        "unbatched-3d-mask-no-bias",
        _qkv((L, E), (S, E), (S, E)),
        dict(attn_mask=_3D_MASK[:H], key_padding_mask=_KPM[1]),
        bias=False,
    ),
    _mha("bias-kv-key-padding", _SEQ, dict(key_padding_mask=_KPM), add_bias_kv=True),
    _mha(
        "bias-kv-zero-attn-3d-mask-per-head-batch-first",
        _BATCH,
        dict(attn_mask=_3D_MASK, key_padding_mask=_KPM, average_attn_weights=False),
        add_bias_kv=True,
        add_zero_attn=True,
        batch_first=True,
    ),
    _mha(
        "zero-attn-float-mask-kdim-vdim",
        _qkv((L, N, E), (S, N, 5), (S, N, 3)),
        dict(attn_mask=np.random.default_rng(4).standard_normal((L, S)).astype(np.float32)),
        add_zero_attn=True,
        kdim=5,
        vdim=3,
    ),
    _mha(
        "bias-kv-unbatched-no-weights-no-bias",
        _qkv((L, E), (S, E), (S, E)),
        dict(key_padding_mask=_KPM[2], need_weights=False),
        add_bias_kv=True,
        bias=False,
    ),
    LayerCase(
        "mha-train-dropout",
        lambda: nn.MultiheadAttention(E, H, dropout=0.3),
        lambda: torch.nn.MultiheadAttention(E, H, dropout=0.3),
        _SEQ,
        train=True,
        random=True,
    ),
    LayerCase(
        "transformer-layer-post-norm-causal",
        _layer(),
        _torch_layer(),
        _x(L, N, E),
        kwargs=dict(src_mask=_CAUSAL, is_causal=True),
        tol="loose",  # two LayerNorms divide by per-token stds
    ),
    LayerCase(
        "transformer-layer-norm-first-gelu-padding",
        _layer(activation="gelu", norm_first=True, batch_first=True),
        _torch_layer(activation="gelu", norm_first=True, batch_first=True),
        _x(N, L, E),
        kwargs=dict(src_key_padding_mask=_padding(N, L, [5, 3, 4])),
        torch_forward=_no_fastpath,
        tol="loose",  # two LayerNorms divide by per-token stds
    ),
    LayerCase(
        "transformer-layer-gelu-module-no-bias-unbatched",
        _layer(activation=nn.GELU(), bias=False, layer_norm_eps=1e-3),
        _torch_layer(activation=torch.nn.GELU(), bias=False, layer_norm_eps=1e-3),
        _x(L, E),
        tol="loose",  # two LayerNorms divide by per-token stds
    ),
    LayerCase(
        "transformer-layer-train",
        _layer(dropout=0.2, batch_first=True),
        _torch_layer(dropout=0.2, batch_first=True),
        _x(N, L, E),
        kwargs=dict(src_key_padding_mask=_padding(N, L, [5, 3, 4])),
        train=True,
        random=True,
    ),
    LayerCase(
        "transformer-encoder-2-layers-norm",
        lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(E, H, dim_feedforward=16, batch_first=True), 2, norm=nn.LayerNorm(E)
        ),
        lambda: torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(E, H, dim_feedforward=16, batch_first=True),
            2,
            norm=torch.nn.LayerNorm(E),
            enable_nested_tensor=False,
        ),
        _x(N, L, E),
        kwargs=dict(src_key_padding_mask=_padding(N, L, [5, 3, 4])),
        torch_forward=_no_fastpath,
        tol="loose",  # five LayerNorms in a row divide by per-token stds
        # The float64 finite-difference check is the slowest check and adds nothing over
        # the per-layer cases above; gradients are still compared with torch's.
        grad_check=False,
    ),
]
