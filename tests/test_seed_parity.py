"""The introductory article's training loop, in PyTorch and in funcnn, step for step.

PyTorch runs the article's code as written (``FeedforwardNN(3, 10, 1)``, ``MSELoss``,
``SGD(lr=0.01)``, 100 epochs on ``randn`` data). funcnn starts from the same initial
weights (loaded with `funcnn.load_state_dict`) and the same data, and must reproduce
every per-epoch loss and the final weights to float32 round-off.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import torch
import torch.nn as tnn
import torch.optim as optim

import funcnn
import funcnn.nn.functional as F
from funcnn import nn

torch.set_num_threads(1)

EPOCHS = 100
ATOL = 1e-5


class FeedforwardNN(tnn.Module):
    """The article's model."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden = tnn.Linear(input_size, hidden_size)
        self.relu = tnn.ReLU()
        self.output = tnn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.hidden(x)
        x = self.relu(x)
        x = self.output(x)
        return x


def run_torch() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[float], dict[str, np.ndarray]]:
    """The article's loop; returns initial weights, data, per-epoch losses, final weights."""
    torch.manual_seed(0)
    input_data = torch.randn(100, 3)
    target_data = torch.randn(100, 1)
    model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    loss_function = tnn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(EPOCHS):
        output = model(input_data)
        loss = loss_function(output, target_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return initial, input_data.numpy(), target_data.numpy(), losses, final


def funcnn_feedforward(input_size: int, hidden_size: int, output_size: int) -> nn.Module:
    return nn.Sequential(
        hidden=nn.Linear(input_size, hidden_size), relu=nn.ReLU(), output=nn.Linear(hidden_size, output_size)
    )


def run_funcnn(
    initial: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[float], dict[str, np.ndarray]]:
    model = funcnn_feedforward(input_size=3, hidden_size=10, output_size=1)
    params, _ = funcnn.load_state_dict(model, initial)
    optimizer = optax.sgd(0.01)
    opt_state = optimizer.init(params)

    def loss_fn(params, x, y):
        return F.mse_loss(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    input_data, target_data = jnp.asarray(x), jnp.asarray(y)
    losses = []
    for epoch in range(EPOCHS):
        params, opt_state, loss = step(params, opt_state, input_data, target_data)
        losses.append(loss)
    return [float(v) for v in losses], funcnn.state_dict(params)


def test_article_loop_matches_pytorch() -> None:
    initial, x, y, torch_losses, torch_final = run_torch()
    losses, final = run_funcnn(initial, x, y)
    assert len(losses) == len(torch_losses) == EPOCHS
    np.testing.assert_allclose(losses, torch_losses, rtol=0, atol=ATOL)
    assert losses[-1] < losses[0]  # the loop trains
    # Same keys; jax returns dicts from jit with sorted keys, so the order may differ.
    assert sorted(final) == sorted(torch_final)
    for k in final:
        np.testing.assert_allclose(final[k], torch_final[k], rtol=0, atol=ATOL, err_msg=k)
