"""Models written in the attribute style (children as attributes, ``forward(self, run, x)``).

Each has a torch twin with the same attribute names; the harness checks keys, values,
gradients, jit, vmap and buffers for them as for any layer.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import torch
from layer_harness import LayerCase

from funcnn import nn

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `examples` is a top-level folder
    sys.path.insert(0, str(ROOT))

from examples.resnet import BasicBlock  # noqa: E402


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


class TorchBasicBlock(torch.nn.Module):
    """torchvision.models.resnet.BasicBlock, with its attribute names."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(planes)
        self.relu = torch.nn.ReLU(inplace=True)
        self.conv2 = torch.nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


def _positional_table(length: int, d_model: int) -> np.ndarray:
    position = np.arange(length)[:, None]
    div = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = np.zeros((length, d_model), np.float32)
    pe[:, 0::2], pe[:, 1::2] = np.sin(position * div), np.cos(position * div)
    return pe


class TransformerLM(nn.Module):
    """Embedding + sinusoidal positions (a buffer) + encoder + head, causal."""

    def __init__(self, vocab=11, d_model=8, nhead=2, layers=2, max_len=16, persistent=False):
        self.embed = nn.Embedding(vocab, d_model)
        self.pe = nn.Buffer(_positional_table(max_len, d_model), persistent=persistent)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d_model, vocab)
        self.d_model = d_model

    def forward(self, run, tokens):
        length = tokens.shape[1]
        x = run.embed(tokens) * math.sqrt(self.d_model)
        x = x + jnp.broadcast_to(run.pe[:length], x.shape)
        mask = nn.generate_square_subsequent_mask(length)
        return run.head(run.encoder(x, mask=mask))


class TorchTransformerLM(torch.nn.Module):
    def __init__(self, vocab=11, d_model=8, nhead=2, layers=2, max_len=16, persistent=False):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.register_buffer("pe", torch.from_numpy(_positional_table(max_len, d_model)), persistent=persistent)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, 16, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, vocab)
        self.d_model = d_model

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.embed(tokens) * math.sqrt(self.d_model) + self.pe[:length]
        mask = torch.nn.Transformer.generate_square_subsequent_mask(length)
        return self.head(self.encoder(x, mask=mask, is_causal=True))


class ResidualMLP(nn.Module):
    """Blocks in a plain Python list (a ModuleList in torch), a learned scale parameter."""

    def __init__(self, features=6, depth=3, classes=4):
        self.scale = nn.Parameter(nn.init.ones, (features,))
        self.blocks = [
            nn.Sequential(nn.LayerNorm(features), nn.Linear(features, features), nn.GELU()) for _ in range(depth)
        ]
        self.dropout = nn.Dropout(0.0)
        self.out = nn.Linear(features, classes)

    def forward(self, run, x):
        for block in run.blocks:
            x = x + run.dropout(block(x))
        return run.out(x * jnp.broadcast_to(run.scale, x.shape))


class TorchResidualMLP(torch.nn.Module):
    def __init__(self, features=6, depth=3, classes=4):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features))
        self.blocks = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.LayerNorm(features), torch.nn.Linear(features, features), torch.nn.GELU())
            for _ in range(depth)
        )
        self.dropout = torch.nn.Dropout(0.0)
        self.out = torch.nn.Linear(features, classes)

    def forward(self, x):
        for block in self.blocks:
            x = x + self.dropout(block(x))
        return self.out(x * self.scale)


class TokenModel(nn.Module):
    def __init__(self):
        self.cls_token = nn.Parameter(nn.init.zeros, (1, 1, 4))
        self.pos_embedding = nn.Parameter(jnp.full((1, 3, 4), 0.5))
        self.proj = nn.Linear(4, 4)
        self.extras = nn.ParameterList([nn.Parameter(nn.init.ones, (4,)), jnp.zeros(4)])
        self.named = nn.ParameterDict({"gain": nn.Parameter(nn.init.ones, (4,))})

    def forward(self, run, x):
        x = jnp.concatenate([jnp.broadcast_to(run.cls_token, (x.shape[0], 1, 4)), x], axis=1)
        x = run.proj(x + run.pos_embedding)
        lift = lambda a: jnp.broadcast_to(a, x.shape)  # noqa: E731
        return x * lift(run.extras[0]) + lift(run.extras[1]) + lift(run.named["gain"])


class TorchTokenModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, 4))
        self.pos_embedding = torch.nn.Parameter(torch.full((1, 3, 4), 0.5))
        self.proj = torch.nn.Linear(4, 4)
        self.extras = torch.nn.ParameterList([torch.ones(4), torch.zeros(4)])
        self.named = torch.nn.ParameterDict({"gain": torch.ones(4)})

    def forward(self, x):
        x = torch.cat([self.cls_token.expand(x.shape[0], 1, 4), x], dim=1)
        x = self.proj(x + self.pos_embedding)
        return x * self.extras[0] + self.extras[1] + self.named["gain"]


def _block():
    return BasicBlock(3, 4, 2, nn.Sequential(nn.Conv2d(3, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4)))


def _torch_block():
    down = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1, 2, bias=False), torch.nn.BatchNorm2d(4))
    return TorchBasicBlock(3, 4, 2, down)


CASES = [
    LayerCase(
        "attr-basic-block-downsample-train", _block, _torch_block, _x(2, 3, 6, 6), train=True, steps=2, tol="loose"
    ),  # batch norm divides by per-channel batch stds
    LayerCase("attr-residual-mlp-list-parameter", ResidualMLP, TorchResidualMLP, _x(3, 6)),
    LayerCase("attr-parameters-lists-dicts", TokenModel, TorchTokenModel, _x(2, 2, 4)),
    LayerCase(
        "attr-transformer-lm-buffer",
        TransformerLM,
        TorchTransformerLM,
        lambda g: (g.integers(0, 11, size=(2, 5)).astype(np.int32),),
        tol="loose",
    ),  # attention softmax
]
