"""W1, the article's loop: MLP 3-10-1, MSE, SGD lr 0.01, 100 samples, 100 epochs.

Two variants:

* ``step``: one training step per epoch from Python, with the article's per-epoch
  ``print(f"Epoch {epoch + 1}, Loss: {loss.item()}")``: one host sync per step in all
  three implementations. The prints go to an in-memory ``io.StringIO`` sink, so the
  terminal's speed does not dominate.
* ``fused``: the 100 epochs as one compiled program (``lax.scan`` over the step), the
  100 losses printed afterwards. PyTorch eager has no such program: its row is the
  article's per-step loop again, so the ratio is against what a PyTorch user runs.

The time reported is per epoch (= per step).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ._common import (
    Bench,
    Size,
    batches,
    jax_tree,
    linear_spec,
    raw_train_step,
    torch_state,
    torch_sync,
    uniform_weights,
)

NAME = "W1"
TITLE = "the article's loop: MLP 3-10-1, MSE, SGD(lr=0.01), 100 samples"
VARIANTS = ("step", "fused")
EPOCHS = 100
SIZES = {
    "smoke": Size(steps=10, repeats=1, warmup=1, shape={"n": 100}),
    "quick": Size(steps=EPOCHS, repeats=15, warmup=3, shape={"n": 100}),
    "full": Size(steps=EPOCHS, repeats=41, warmup=5, shape={"n": 100}),
    "gpu": Size(steps=EPOCHS, repeats=15, warmup=3, shape={"n": 100}),
}
BARS = {"step": {"torch": 8.0}, "fused": {"torch": 60.0}}
LR = 0.01


def flops_per_step(size: Size) -> float:
    """Forward matmuls ``2 n (3*10 + 10*1)``, times 3 for forward + backward."""
    return 3.0 * 2 * size["n"] * (3 * 10 + 10 * 1)


def _weights() -> dict[str, np.ndarray]:
    return uniform_weights({**linear_spec("hidden", 3, 10), **linear_spec("output", 10, 1)}, seed=0)


def _data(size: Size) -> tuple[np.ndarray, np.ndarray]:
    ((x, y),) = batches(
        1, 1, lambda r: (r.standard_normal((size["n"], 3), np.float32), r.standard_normal((size["n"], 1), np.float32))
    )
    return x, y


def build(impl: str, variant: str, size: Size, device: str = "cpu") -> Bench:
    """The ``impl`` version of ``variant`` (see the module docstring)."""
    epochs = size.steps
    if impl == "torch":
        return _torch(epochs, size, device)
    return (_funcnn if impl == "funcnn" else _jax)(variant, epochs, size)


# --------------------------------------------------------------------------- torch


def _torch(epochs: int, size: Size, device: str) -> Bench:
    import torch
    import torch.nn as nn
    import torch.optim as optim

    class FeedforwardNN(nn.Module):
        def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
            super().__init__()
            self.hidden = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.output = nn.Linear(hidden_size, output_size)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.output(self.relu(self.hidden(x)))

    model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1).to(device)
    model.load_state_dict(torch_state(_weights(), device))
    x, y = _data(size)
    input_data, target_data = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    loss_function = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=LR)
    last = [0.0]

    def run() -> None:
        sink = io.StringIO()
        for epoch in range(epochs):
            output = model(input_data)
            loss = loss_function(output, target_data)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            print(f"Epoch {epoch + 1}, Loss: {loss.item()}", file=sink)
        torch_sync(device)
        last[0] = loss.item()

    return Bench(run, epochs, lambda: last[0])


# ------------------------------------------------------------------ jax and funcnn


def _loop_or_fused(
    variant: str, epochs: int, step: Any, fused: Any, params: Any, opt_state: Any, x: Any, y: Any
) -> Bench:
    carry: list[Any] = [params, opt_state]
    last = [0.0]

    def per_step() -> None:
        sink = io.StringIO()
        params, opt_state = carry
        for epoch in range(epochs):
            params, opt_state, loss = step(params, opt_state, x, y)
            print(f"Epoch {epoch + 1}, Loss: {loss.item()}", file=sink)
        carry[:] = params, opt_state
        last[0] = loss.item()

    def all_at_once() -> None:
        sink = io.StringIO()
        params, opt_state, losses = fused(*carry, x, y)
        losses = np.asarray(losses).tolist()  # one transfer for the 100 losses
        for epoch in range(epochs):
            print(f"Epoch {epoch + 1}, Loss: {losses[epoch]}", file=sink)
        carry[:] = params, opt_state
        last[0] = losses[-1]

    return Bench(per_step if variant == "step" else all_at_once, epochs, lambda: last[0])


def _scan(step: Any, epochs: int) -> Any:
    """``epochs`` calls of ``step`` as one compiled program (params, opt_state donated)."""
    import jax

    def run(params: Any, opt_state: Any, x: Any, y: Any) -> Any:
        def body(carry: Any, _: None) -> Any:
            params, opt_state, loss = step(*carry, x, y)
            return (params, opt_state), loss

        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), None, length=epochs)
        return params, opt_state, losses

    return jax.jit(run, donate_argnums=(0, 1))


def _jax(variant: str, epochs: int, size: Size) -> Bench:
    import jax
    import jax.numpy as jnp
    import optax

    optimizer = optax.sgd(LR)

    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        h = jax.nn.relu(x @ p["hidden"]["weight"].T + p["hidden"]["bias"])
        out = h @ p["output"]["weight"].T + p["output"]["bias"]
        return jnp.mean((out - y) ** 2)

    train_step = raw_train_step(loss_fn, optimizer)
    step = jax.jit(train_step, donate_argnums=(0, 1))
    fused = _scan(train_step, epochs) if variant == "fused" else None
    params = jax_tree(_weights())
    x, y = (jax.device_put(a) for a in _data(size))
    return _loop_or_fused(variant, epochs, step, fused, params, optimizer.init(params), x, y)


def _funcnn(variant: str, epochs: int, size: Size) -> Bench:
    import jax
    import optax

    import funcnn
    import funcnn.nn.functional as F
    from funcnn import nn

    model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
    params, _ = funcnn.load_state_dict(model, _weights())
    optimizer = optax.sgd(LR)

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.mse_loss(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    fused = (
        _scan(funcnn.train.make_train_step(loss_fn, optimizer, donate=False), epochs) if variant == "fused" else None
    )
    x, y = (jax.device_put(a) for a in _data(size))
    return _loop_or_fused(variant, epochs, step, fused, params, optimizer.init(params), x, y)
