"""Cases for TransformerDecoderLayer, TransformerDecoder and Transformer.

Inputs are ``(tgt, memory)`` (``(src, tgt)`` for Transformer), both differentiated;
masks go in ``kwargs`` (the two masks of one attention share a type, as torch asks). Sizes are tiny (d_model 8, 2 heads, 1-2 layers) to keep the
suite fast. torch's encoder may take its inference fast path under ``no_grad``, whose
fused kernels round differently; `_no_fastpath` runs its reference path.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn

E, H, N, T, S, FF = 8, 2, 3, 4, 5, 16


def _randn(g, *shape):
    return g.standard_normal(shape).astype(np.float32)


def _pair(a, b):
    return lambda g: (_randn(g, *a), _randn(g, *b))


def _padding(n, s, lengths):
    return np.arange(s)[None, :] >= np.asarray(lengths)[:, None]


def _no_fastpath(tmod, *args, **kwargs):
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        return tmod(*args, **kwargs)
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def _quiet(make):
    # torch warns that enable_nested_tensor is unused with norm_first; that is torch-internal.
    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return make()

    return build


_CAUSAL_F = np.triu(np.full((T, T), -np.inf, np.float32), k=1)
_CAUSAL_B = np.triu(np.ones((T, T), bool), k=1)
_MEM_F = np.random.default_rng(7).standard_normal((T, S)).astype(np.float32)
_MEM_3D = np.random.default_rng(8).random((N * H, T, S)) < 0.4
_MEM_3D[..., 0] = False  # every query keeps a key
_MEM_B = _MEM_F > 1.0
_MEM_B[:, 0] = False
_TGT_KPM = _padding(N, T, [4, 2, 3])
_MEM_KPM = _padding(N, S, [5, 3, 4])
_SEQ = _pair((T, N, E), (S, N, E))
_BATCH = _pair((N, T, E), (N, S, E))


def _dec(**options):
    return lambda: nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, **options)


def _tdec(**options):
    return lambda: torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, **options)


def _layer_case(name, options, inputs, kwargs, torch_options=None, **kw):
    return LayerCase(
        f"transformer-decoder-layer-{name}",
        _dec(**options),
        _tdec(**(torch_options or options)),
        inputs,
        kwargs=kwargs,
        tol="loose",  # three LayerNorms divide by per-token stds
        **kw,
    )


def _model(**options):
    return nn.Transformer(E, H, dim_feedforward=FF, **options)


def _tmodel(**options):
    return _quiet(lambda: torch.nn.Transformer(E, H, dim_feedforward=FF, **options))


CASES = [
    _layer_case(
        "post-norm-causal-memory-padding",
        {},
        _SEQ,
        dict(tgt_mask=_CAUSAL_F, tgt_is_causal=True, memory_key_padding_mask=_MEM_KPM),
    ),
    _layer_case(
        "norm-first-batch-first-gelu-bool-masks",
        dict(activation="gelu", norm_first=True, batch_first=True),
        _BATCH,
        dict(tgt_mask=_CAUSAL_B, tgt_key_padding_mask=_TGT_KPM, memory_mask=_MEM_F),
    ),
    _layer_case(
        "3d-memory-mask-float-padding",
        dict(layer_norm_eps=1e-3),
        _SEQ,
        dict(
            memory_mask=np.where(_MEM_3D, -np.inf, 0.0).astype(np.float32),
            memory_key_padding_mask=np.where(_MEM_KPM, -1e4, 0.25).astype(np.float32),
        ),
        grad_check=False,  # the float64 check is the slowest; the first two layer cases run it
    ),
    _layer_case(
        "unbatched-gelu-module-no-bias",
        dict(activation=nn.GELU(), bias=False),
        _pair((T, E), (S, E)),
        dict(tgt_mask=_CAUSAL_B, memory_key_padding_mask=_MEM_KPM[1]),
        torch_options=dict(activation=torch.nn.GELU(), bias=False),
        grad_check=False,  # as above
    ),
    LayerCase(
        "transformer-decoder-layer-train",
        _dec(dropout=0.2, batch_first=True),
        _tdec(dropout=0.2, batch_first=True),
        _BATCH,
        kwargs=dict(tgt_mask=_CAUSAL_F, memory_key_padding_mask=_MEM_KPM),
        train=True,
        random=True,
        vmap=False,  # vmap of eleven dropout draws compiles slowly; dropout's own cases check vmap
    ),
    LayerCase(
        "transformer-decoder-2-layers-norm",
        lambda: nn.TransformerDecoder(
            nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, batch_first=True, norm_first=True),
            2,
            norm=nn.LayerNorm(E),
        ),
        lambda: torch.nn.TransformerDecoder(
            torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, batch_first=True, norm_first=True),
            2,
            norm=torch.nn.LayerNorm(E),
        ),
        _BATCH,
        kwargs=dict(tgt_mask=_CAUSAL_B, tgt_key_padding_mask=_TGT_KPM, memory_key_padding_mask=_MEM_KPM),
        tol="loose",  # seven LayerNorms in a row divide by per-token stds
        grad_check=False,  # slow in float64 and adds nothing over the per-layer cases; torch gradients still compared
        vmap=False,  # vmap == loop is checked on the layers; the stack adds a slow compile only
    ),
    LayerCase(
        "transformer-seq-first-all-masks",
        lambda: _model(num_encoder_layers=1, num_decoder_layers=1),
        _tmodel(num_encoder_layers=1, num_decoder_layers=1),
        _pair((S, N, E), (T, N, E)),
        kwargs=dict(
            src_key_padding_mask=_MEM_KPM,
            tgt_mask=_CAUSAL_B,
            tgt_is_causal=True,
            memory_mask=_MEM_B,
            tgt_key_padding_mask=_TGT_KPM,
            memory_key_padding_mask=_MEM_KPM,
        ),
        torch_forward=_no_fastpath,
        tol="loose",  # five LayerNorms in a row
        grad_check=False,  # slow in float64; the layer cases run check_grads, torch gradients are compared here
    ),
    LayerCase(
        "transformer-batch-first-norm-first-gelu-2-layers",
        lambda: _model(
            num_encoder_layers=2, num_decoder_layers=1, batch_first=True, norm_first=True, activation="gelu"
        ),
        _tmodel(num_encoder_layers=2, num_decoder_layers=1, batch_first=True, norm_first=True, activation="gelu"),
        _pair((N, S, E), (N, T, E)),
        kwargs=dict(src_mask=np.triu(np.ones((S, S), bool), k=1), src_is_causal=True, tgt_mask=_CAUSAL_B),
        torch_forward=_no_fastpath,
        tol="loose",
        grad_check=False,  # as above
        vmap=False,  # checked on the seq-first model and on the layers
    ),
    LayerCase(
        "transformer-unbatched-no-bias",
        lambda: _model(num_encoder_layers=1, num_decoder_layers=1, bias=False, layer_norm_eps=1e-4),
        _tmodel(num_encoder_layers=1, num_decoder_layers=1, bias=False, layer_norm_eps=1e-4),
        _pair((S, E), (T, E)),
        kwargs=dict(tgt_mask=_CAUSAL_F),
        torch_forward=_no_fastpath,
        tol="loose",
        grad_check=False,  # as above
        vmap=False,  # checked on the seq-first model and on the layers
    ),
    LayerCase(
        "transformer-custom-decoder-eval",
        lambda: _model(
            num_encoder_layers=1,
            dropout=0.3,
            custom_decoder=nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, dropout=0.3), 1),
        ),
        _tmodel(
            num_encoder_layers=1,
            dropout=0.3,
            custom_decoder=torch.nn.TransformerDecoder(
                torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, dropout=0.3), 1
            ),
        ),
        _pair((S, N, E), (T, N, E)),
        kwargs=dict(tgt_mask=_CAUSAL_F, src_key_padding_mask=_MEM_KPM, memory_key_padding_mask=_MEM_KPM),
        torch_forward=_no_fastpath,
        tol="loose",
        grad_check=False,  # as above
        vmap=False,  # as above
    ),
]
