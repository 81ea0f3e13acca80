"""W2: MLP 784-512-512-10 with ReLU, softmax cross-entropy, SGD(lr=0.01, momentum=0.9).

Batch 128 (4096 with ``--gpu``) of standard-normal inputs and uniform class labels;
the steps cycle through 4 preloaded batches.
"""

from __future__ import annotations

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

NAME = "W2"
TITLE = "MLP 784-512-512-10, cross-entropy, SGD(lr=0.01, momentum=0.9)"
VARIANTS = ("step",)
_MLP = {"in": 784, "hidden": 512, "out": 10}
SIZES = {
    "smoke": Size(steps=2, repeats=1, warmup=1, shape={**_MLP, "batch": 16}),
    "quick": Size(steps=20, repeats=11, warmup=2, shape={**_MLP, "batch": 128}),
    "full": Size(steps=50, repeats=21, warmup=3, shape={**_MLP, "batch": 128}),
    "gpu": Size(steps=100, repeats=11, warmup=3, shape={**_MLP, "batch": 4096}),
}
BARS = {"step": {"torch": 1.4, "jax": 0.97}}
LR, MOMENTUM = 0.01, 0.9


def flops_per_step(size: Size) -> float:
    """Three matmuls ``2 B (784*512 + 512*512 + 512*10)``, times 3 for forward + backward."""
    i, h, o = size["in"], size["hidden"], size["out"]
    return 3.0 * 2 * size["batch"] * (i * h + h * h + h * o)


def _weights(size: Size) -> dict[str, np.ndarray]:
    i, h, o = size["in"], size["hidden"], size["out"]
    return uniform_weights({**linear_spec("0", i, h), **linear_spec("2", h, h), **linear_spec("4", h, o)}, seed=0)


def _data(size: Size) -> list[tuple[np.ndarray, ...]]:
    b = size["batch"]
    return batches(1, 4, lambda r: (r.standard_normal((b, size["in"]), np.float32), r.integers(0, size["out"], b)))


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` training loop of ``size.steps`` steps."""
    return {"torch": _torch, "jax": _jax, "funcnn": _funcnn}[impl](size, device)


def _torch(size: Size, device: str) -> Bench:
    import torch
    import torch.nn as nn

    i, h, o = size["in"], size["hidden"], size["out"]
    model = nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o)).to(device)
    model.load_state_dict(torch_state(_weights(size), device))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return torch_loop(model, nn.CrossEntropyLoss(), optimizer, torch_batches(_data(size), device), size.steps, device)


def _jax(size: Size, device: str) -> Bench:
    import jax
    import optax

    optimizer = optax.sgd(LR, momentum=MOMENTUM)

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        h = jax.nn.relu(x @ p["0"]["weight"].T + p["0"]["bias"])
        h = jax.nn.relu(h @ p["2"]["weight"].T + p["2"]["bias"])
        logits = h @ p["4"]["weight"].T + p["4"]["bias"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return raw_jax_bench(loss_fn, optimizer, _weights(size), _data(size), size.steps)


def _funcnn(size: Size, device: str) -> Bench:
    import jax
    import optax

    import funcnn
    import funcnn.nn.functional as F
    from funcnn import nn

    i, h, o = size["in"], size["hidden"], size["out"]
    model = nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))
    params, _ = funcnn.load_state_dict(model, _weights(size))
    optimizer = optax.sgd(LR, momentum=MOMENTUM)

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.cross_entropy(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    return jax_loop(step, params, optimizer.init(params), jax_batches(_data(size)), size.steps)
