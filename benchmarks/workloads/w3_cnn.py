"""W3: a small CNN on 8x8 single-channel images, cross-entropy, Adam(lr=1e-3).

``Conv2d(1, 32, 3) -> ReLU -> Conv2d(32, 64, 3) -> ReLU -> MaxPool2d(2) -> Flatten ->
Linear(256, 128) -> ReLU -> Linear(128, 10)`` in PyTorch's NCHW layout (8x8 -> 6x6 ->
4x4 -> 2x2), batch 128 (4096 with ``--gpu``); the steps cycle through 4 preloaded
batches of standard-normal images and uniform labels. The raw-JAX version uses
``lax.conv_general_dilated`` with the same NCHW/OIHW layout and ``lax.reduce_window``.
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

NAME = "W3"
TITLE = "CNN conv(1->32, 3x3), conv(32->64, 3x3), max-pool 2, linear 256-128-10 on 8x8 images, Adam"
VARIANTS = ("step",)
_CNN = {"hw": 8, "c1": 32, "c2": 64, "fc": 128, "out": 10}
SIZES = {
    "smoke": Size(steps=2, repeats=1, warmup=1, shape={**_CNN, "batch": 8}),
    "quick": Size(steps=20, repeats=11, warmup=2, shape={**_CNN, "batch": 128}),
    "full": Size(steps=50, repeats=21, warmup=3, shape={**_CNN, "batch": 128}),
    "gpu": Size(steps=100, repeats=11, warmup=3, shape={**_CNN, "batch": 4096}),
}
BARS = {"step": {"torch": 1.0}}
LR = 1e-3


def _dims(size: Size) -> tuple[int, int, int, int]:
    """Spatial sizes after conv1, conv2, pool, and the flattened width."""
    h1 = size["hw"] - 2
    h2 = h1 - 2
    hp = h2 // 2
    return h1, h2, hp, size["c2"] * hp * hp


def flops_per_step(size: Size) -> float:
    """Forward convolutions and matmuls (``2 * MACs``), times 3 for forward + backward."""
    h1, h2, _, flat = _dims(size)
    c1, c2, fc, out = size["c1"], size["c2"], size["fc"], size["out"]
    macs = h1 * h1 * c1 * 9 + h2 * h2 * c2 * c1 * 9 + flat * fc + fc * out
    return 3.0 * 2 * size["batch"] * macs


def _weights(size: Size) -> dict[str, np.ndarray]:
    c1, c2 = size["c1"], size["c2"]
    b1, b2 = 1 / math.sqrt(1 * 9), 1 / math.sqrt(c1 * 9)
    spec = {
        "0.weight": ((c1, 1, 3, 3), b1),
        "0.bias": ((c1,), b1),
        "2.weight": ((c2, c1, 3, 3), b2),
        "2.bias": ((c2,), b2),
        **linear_spec("6", _dims(size)[3], size["fc"]),
        **linear_spec("8", size["fc"], size["out"]),
    }
    return uniform_weights(spec, seed=0)


def _data(size: Size) -> list[tuple[np.ndarray, ...]]:
    b, hw = size["batch"], size["hw"]
    return batches(1, 4, lambda r: (r.standard_normal((b, 1, hw, hw), np.float32), r.integers(0, size["out"], b)))


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` training loop of ``size.steps`` steps."""
    return {"torch": _torch, "jax": _jax, "funcnn": _funcnn}[impl](size, device)


def _torch(size: Size, device: str) -> Bench:
    import torch
    import torch.nn as nn

    c1, c2, flat = size["c1"], size["c2"], _dims(size)[3]
    model = nn.Sequential(
        nn.Conv2d(1, c1, 3), nn.ReLU(), nn.Conv2d(c1, c2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(flat, size["fc"]), nn.ReLU(), nn.Linear(size["fc"], size["out"]),
    ).to(device)  # fmt: skip
    model.load_state_dict(torch_state(_weights(size), device))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    return torch_loop(model, nn.CrossEntropyLoss(), optimizer, torch_batches(_data(size), device), size.steps, device)


def _jax(size: Size, device: str) -> Bench:
    import jax
    import optax
    from jax import lax

    optimizer = optax.adam(LR)
    nchw = ("NCHW", "OIHW", "NCHW")

    def conv(x: jax.Array, p: Any) -> jax.Array:
        y = lax.conv_general_dilated(x, p["weight"], (1, 1), "VALID", dimension_numbers=nchw)
        return y + p["bias"][None, :, None, None]

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        h = jax.nn.relu(conv(x, p["0"]))
        h = jax.nn.relu(conv(h, p["2"]))
        h = lax.reduce_window(h, -jax.numpy.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        h = h.reshape(h.shape[0], -1)
        h = jax.nn.relu(h @ p["6"]["weight"].T + p["6"]["bias"])
        logits = h @ p["8"]["weight"].T + p["8"]["bias"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return raw_jax_bench(loss_fn, optimizer, _weights(size), _data(size), size.steps)


def _funcnn(size: Size, device: str) -> Bench:
    import jax
    import optax

    import funcnn
    import funcnn.nn.functional as F
    from funcnn import nn

    c1, c2, flat = size["c1"], size["c2"], _dims(size)[3]
    model = nn.Sequential(
        nn.Conv2d(1, c1, 3), nn.ReLU(), nn.Conv2d(c1, c2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(flat, size["fc"]), nn.ReLU(), nn.Linear(size["fc"], size["out"]),
    )  # fmt: skip
    params, _ = funcnn.load_state_dict(model, _weights(size))
    optimizer = optax.adam(LR)

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.cross_entropy(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    return jax_loop(step, params, optimizer.init(params), jax_batches(_data(size)), size.steps)
