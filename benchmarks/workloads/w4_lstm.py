"""W4: a one-layer LSTM (input 32, hidden 128) with a linear head, cross-entropy, Adam.

Sequences of length 50, batch 64 (2048 with ``--gpu``), PyTorch's default
``batch_first=False`` layout ``(L, N, H_in)``; the head ``Linear(128, 10)`` reads the
last time step's output. The steps cycle through 4 preloaded batches. The raw-JAX
version is the usual ``lax.scan`` over time with the input projection hoisted out of
the loop (one matmul for all time steps) and PyTorch's gate order (i, f, g, o).
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

NAME = "W4"
TITLE = "LSTM(32, 128) over 50 steps + Linear(128, 10) on the last output, cross-entropy, Adam"
VARIANTS = ("step",)
_LSTM = {"seq": 50, "input": 32, "hidden": 128, "out": 10}
SIZES = {
    "smoke": Size(steps=2, repeats=1, warmup=1, shape={**_LSTM, "seq": 5, "batch": 4}),
    "quick": Size(steps=10, repeats=9, warmup=2, shape={**_LSTM, "batch": 64}),
    "full": Size(steps=20, repeats=21, warmup=3, shape={**_LSTM, "batch": 64}),
    "gpu": Size(steps=50, repeats=11, warmup=3, shape={**_LSTM, "batch": 2048}),
}
BARS = {"step": {"torch": 1.5}}
LR = 1e-3


def flops_per_step(size: Size) -> float:
    """Gate matmuls ``2 L N (I + H) 4H`` plus the head, times 3 for forward + backward."""
    i, h = size["input"], size["hidden"]
    gates = size["seq"] * (i + h) * 4 * h
    return 3.0 * 2 * size["batch"] * (gates + h * size["out"])


def _weights(size: Size) -> dict[str, np.ndarray]:
    i, h = size["input"], size["hidden"]
    b = 1 / math.sqrt(h)
    spec = {
        "lstm.weight_ih_l0": ((4 * h, i), b),
        "lstm.weight_hh_l0": ((4 * h, h), b),
        "lstm.bias_ih_l0": ((4 * h,), b),
        "lstm.bias_hh_l0": ((4 * h,), b),
        **linear_spec("head", h, size["out"]),
    }
    return uniform_weights(spec, seed=0)


def _data(size: Size) -> list[tuple[np.ndarray, ...]]:
    shape = (size["seq"], size["batch"], size["input"])
    return batches(1, 4, lambda r: (r.standard_normal(shape, np.float32), r.integers(0, size["out"], size["batch"])))


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` training loop of ``size.steps`` steps."""
    return {"torch": _torch, "jax": _jax, "funcnn": _funcnn}[impl](size, device)


def _torch(size: Size, device: str) -> Bench:
    import torch
    import torch.nn as nn

    class LSTMClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(size["input"], size["hidden"])
            self.head = nn.Linear(size["hidden"], size["out"])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, _ = self.lstm(x)
            return self.head(out[-1])

    model = LSTMClassifier().to(device)
    model.load_state_dict(torch_state(_weights(size), device))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    return torch_loop(model, nn.CrossEntropyLoss(), optimizer, torch_batches(_data(size), device), size.steps, device)


def _jax(size: Size, device: str) -> Bench:
    import jax
    import jax.numpy as jnp
    import optax

    optimizer = optax.adam(LR)

    def lstm(p: Any, x: jax.Array) -> jax.Array:
        xw = x @ p["weight_ih_l0"].T + (p["bias_ih_l0"] + p["bias_hh_l0"])  # (L, N, 4H), all steps at once
        h0 = jnp.zeros((x.shape[1], p["weight_hh_l0"].shape[1]), x.dtype)

        def cell(carry: Any, xw_t: jax.Array) -> Any:
            h, c = carry
            i, f, g, o = jnp.split(xw_t + h @ p["weight_hh_l0"].T, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h

        (h, _), _ = jax.lax.scan(cell, (h0, h0), xw)
        return h  # the last step's output

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = lstm(p["lstm"], x) @ p["head"]["weight"].T + p["head"]["bias"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return raw_jax_bench(loss_fn, optimizer, _weights(size), _data(size), size.steps)


def _funcnn(size: Size, device: str) -> Bench:
    import jax
    import optax

    import funcnn
    import funcnn.nn.functional as F
    from funcnn import nn

    class LSTMClassifier(nn.Module):
        """The PyTorch model above as a funcnn module: same children, same state_dict keys."""

        def __init__(self) -> None:
            self.lstm = nn.LSTM(size["input"], size["hidden"])
            self.head = nn.Linear(size["hidden"], size["out"])

        def children(self) -> dict[str, nn.Module]:
            return {"lstm": self.lstm, "head": self.head}

        def init(self, key: jax.Array) -> Any:
            return nn.init_children(self.children(), key)

        def forward(self, params: Any, x: jax.Array, *, key: Any = None, train: bool = False) -> jax.Array:
            out, _ = self.lstm.apply(params["lstm"], x)
            return self.head.apply(params["head"], out[-1])

    model = LSTMClassifier()
    params, _ = funcnn.load_state_dict(model, _weights(size))
    optimizer = optax.adam(LR)

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.cross_entropy(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    return jax_loop(step, params, optimizer.init(params), jax_batches(_data(size)), size.steps)
