"""W7: a small causal Transformer language model, cross-entropy, Adam(lr=1e-3).

``tok`` = ``Embedding(vocab, d)`` plus a learned position table ``pos`` ``(seq, d)``,
then ``TransformerEncoder`` of 2 post-norm ``TransformerEncoderLayer`` (d 128, 4 heads,
feed-forward 512, ReLU, ``batch_first=True``, dropout 0 so the three versions do the
same arithmetic) under a causal mask, then ``head`` = ``Linear(d, vocab)``; next-token
prediction over sequences of 64 tokens, batch 16, vocabulary 256. The ``state_dict``
keys are PyTorch's (``encoder.layers.0.self_attn.in_proj_weight``, ...).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import (
    Bench,
    Size,
    batches,
    jax_batches,
    jax_loop,
    linear_spec,
    raw_jax_bench,
    torch_batches,
    torch_loop,
    torch_state,
    uniform_weights,
)

NAME = "W7"
TITLE = "Transformer LM: embedding + 2 encoder layers (d 128, 4 heads, ff 512) under a causal mask, Adam"
VARIANTS = ("step",)
_LM = {"vocab": 256, "d": 128, "heads": 4, "ff": 512, "layers": 2, "seq": 64}
SIZES = {
    # smoke checks the plumbing: one narrow layer compiles in half the time of two
    "smoke": Size(
        steps=2,
        repeats=1,
        warmup=1,
        shape={**_LM, "vocab": 32, "d": 16, "heads": 2, "ff": 32, "layers": 1, "batch": 2, "seq": 8},
    ),
    "quick": Size(steps=10, repeats=11, warmup=2, shape={**_LM, "batch": 16}),
    "full": Size(steps=20, repeats=21, warmup=3, shape={**_LM, "batch": 16}),
    "gpu": Size(steps=50, repeats=11, warmup=3, shape={**_LM, "batch": 512}),
}
BARS = {"step": {"torch": 1.0}}
LR = 1e-3


def flops_per_step(size: Size) -> float:
    """Forward matmuls (projections, attention scores and values, feed-forward, head) x 3."""
    b, t, d, ff, v = size["batch"], size["seq"], size["d"], size["ff"], size["vocab"]
    per_layer = t * (4 * d * d + 2 * d * ff) + 2 * t * t * d
    return 3.0 * 2 * b * (size["layers"] * per_layer + t * d * v)


def _weights(size: Size) -> dict[str, np.ndarray]:
    d, ff, v = size["d"], size["ff"], size["vocab"]
    spec: dict[str, tuple[tuple[int, ...], float]] = {"tok.weight": ((v, d), 1.0), "pos": ((size["seq"], d), 0.02)}
    for i in range(size["layers"]):
        p = f"encoder.layers.{i}"
        spec[f"{p}.self_attn.in_proj_weight"] = ((3 * d, d), math.sqrt(6 / (4 * d)))
        spec[f"{p}.self_attn.in_proj_bias"] = ((3 * d,), 0.0)
        spec.update(linear_spec(f"{p}.self_attn.out_proj", d, d))
        spec.update(linear_spec(f"{p}.linear1", d, ff))
        spec.update(linear_spec(f"{p}.linear2", ff, d))
        for n in ("norm1", "norm2"):
            spec[f"{p}.{n}.weight"] = ((d,), 0.0)
            spec[f"{p}.{n}.bias"] = ((d,), 0.0)
    spec.update(linear_spec("head", d, v))
    out = uniform_weights(spec, seed=0)
    for k in out:
        if k.endswith(("norm1.weight", "norm2.weight")):
            out[k] = np.ones_like(out[k])
    return out


def _data(size: Size) -> list[tuple[np.ndarray, ...]]:
    b, t, v = size["batch"], size["seq"], size["vocab"]

    def make(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        tokens = r.integers(0, v, (b, t + 1))
        return tokens[:, :-1], tokens[:, 1:]

    return batches(7, 4, make)


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` training loop of ``size.steps`` steps."""
    return {"torch": _torch, "jax": _jax, "funcnn": _funcnn}[impl](size, device)


def _torch(size: Size, device: str) -> Bench:
    import torch
    import torch.nn as nn

    d, v, t = size["d"], size["vocab"], size["seq"]

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(v, d)
            self.pos = nn.Parameter(torch.zeros(t, d))
            layer = nn.TransformerEncoderLayer(d, size["heads"], size["ff"], 0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, size["layers"], enable_nested_tensor=False)
            self.head = nn.Linear(d, v)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(t), persistent=False)

        def forward(self, x: Any) -> Any:
            h = self.tok(x) + self.pos
            h = self.encoder(h, mask=self.mask, is_causal=True)
            return self.head(h).reshape(-1, v)

    model = LM().to(device)
    model.load_state_dict(torch_state(_weights(size), device))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    data = [(x, y.reshape(-1)) for x, y in torch_batches(_data(size), device)]
    return torch_loop(model, nn.CrossEntropyLoss(), optimizer, data, size.steps, device)


def _jax(size: Size, device: str) -> Bench:
    import jax
    import jax.numpy as jnp
    import optax

    d, h, t = size["d"], size["heads"], size["seq"]
    causal = jnp.tril(jnp.ones((t, t), bool))

    def layer_norm(x: jax.Array, p: Any) -> jax.Array:
        mean = x.mean(-1, keepdims=True)
        var = jnp.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * p["weight"] + p["bias"]

    def attention(x: jax.Array, p: Any) -> jax.Array:
        b = x.shape[0]
        q, k, v = jnp.split(x @ p["in_proj_weight"].T + p["in_proj_bias"], 3, axis=-1)
        q, k, v = (a.reshape(b, t, h, d // h).transpose(0, 2, 1, 3) for a in (q, k, v))
        scores = jnp.where(causal, q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h), -jnp.inf)
        out = (jax.nn.softmax(scores, -1) @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
        return out @ p["out_proj"]["weight"].T + p["out_proj"]["bias"]

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        a = p["tok"]["weight"][x] + p["pos"]
        for i in range(size["layers"]):
            lp = p["encoder"]["layers"][str(i)]
            a = layer_norm(a + attention(a, lp["self_attn"]), lp["norm1"])
            f = jax.nn.relu(a @ lp["linear1"]["weight"].T + lp["linear1"]["bias"])
            a = layer_norm(a + f @ lp["linear2"]["weight"].T + lp["linear2"]["bias"], lp["norm2"])
        logits = a @ p["head"]["weight"].T + p["head"]["bias"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return raw_jax_bench(loss_fn, optax.adam(LR), _weights(size), _data(size), size.steps)


def _funcnn(size: Size, device: str) -> Bench:
    import jax
    import jax.numpy as jnp
    import optax

    import funcnn
    import funcnn.nn.functional as F
    from funcnn import nn

    d, v, t = size["d"], size["vocab"], size["seq"]
    tok = nn.Embedding(v, d)
    layer = nn.TransformerEncoderLayer(d, size["heads"], size["ff"], 0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, size["layers"], enable_nested_tensor=False)
    head = nn.Linear(d, v)
    model = nn.ModuleDict({"tok": tok, "encoder": encoder, "head": head})
    weights = _weights(size)
    params, _ = funcnn.load_state_dict(model, {k: w for k, w in weights.items() if k != "pos"})
    params["pos"] = jnp.asarray(weights["pos"])
    mask = jnp.triu(jnp.full((t, t), -jnp.inf), 1)

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        h = tok.apply(p["tok"], x) + p["pos"]
        h = encoder.apply(p["encoder"], h, mask=mask, is_causal=True)
        return F.cross_entropy(head.apply(p["head"], h).reshape(-1, v), y.reshape(-1))

    optimizer = optax.adam(LR)
    step = funcnn.train.make_train_step(loss_fn, optimizer)
    return jax_loop(step, params, optimizer.init(params), jax_batches(_data(size)), size.steps)
