"""Training a neural network: the article's loop, then the same run as one program.

The article trains ``FeedforwardNN(3, 10, 1)`` on 100 random inputs and targets with
``nn.MSELoss()`` and ``optim.SGD(lr=0.01)`` for 100 epochs, printing the loss of each.
Here the same loop reads:

* the loss is a function of the parameters: ``loss_fn(params, x, y)``;
* ``funcnn.train.make_train_step(loss_fn, optax.sgd(0.01))`` returns one compiled step
  that computes the loss, its gradient (``jax.grad`` in place of ``loss.backward()``;
  there is no ``zero_grad`` because nothing accumulates) and the SGD update, and
  returns the new parameters and optimizer state;
* the Python loop calls the step once per epoch, exactly as in the article.

Then the whole run becomes one compiled program: ``jax.lax.scan`` repeats the same step
100 times inside XLA, with no Python between epochs. Both runs start from the same
weights and end with the same loss.

Run it: ``python -m examples.training --epochs 100 --seed 0``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np
import optax

import funcnn
import funcnn.nn.functional as F
from funcnn import nn
from funcnn.nn import Params

from ._cli import positive_int, section
from .feedforward import FeedforwardNN

Step = Callable[..., tuple[Params, Any, jax.Array]]


def make_data(seed: int = 0) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The article's synthetic data: ``torch.randn(100, 3)`` and ``torch.randn(100, 1)``.

    Args:
      seed: seeds the data and the model's initial weights.

    Returns:
      ``(input_data, target_data, model_key)``: float32 ``(100, 3)`` and ``(100, 1)``
      standard normal arrays, and a PRNG key for ``model.init``.
    """
    input_key, target_key, model_key = jax.random.split(jax.random.key(seed), 3)
    input_data = jax.random.normal(input_key, (100, 3))
    target_data = jax.random.normal(target_key, (100, 1))
    return input_data, target_data, model_key


def setup(
    model_key: jax.Array, lr: float = 0.01
) -> tuple[nn.Sequential, Params, optax.GradientTransformation, Any, Step]:
    """The model, its parameters, the optimizer, its state and the compiled step.

    Returns:
      ``(model, params, optimizer, opt_state, step)`` where
      ``step(params, opt_state, x, y) -> (params, opt_state, loss)``.
    """
    model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
    params = model.init(model_key)
    optimizer = optax.sgd(lr)
    opt_state = optimizer.init(params)

    def loss_fn(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.mse_loss(model.apply(params, x), y)

    step = funcnn.train.make_train_step(loss_fn, optimizer)  # compiled once, reused every epoch
    return model, params, optimizer, opt_state, step


def train_loop(
    step: Step, params: Params, opt_state: Any, input_data: jax.Array, target_data: jax.Array, epochs: int = 100
) -> tuple[Params, list[float]]:
    """The article's loop: one step per epoch, printing ``Epoch N, Loss: ...``.

    The step donates ``params`` and ``opt_state``: use the returned ones afterwards.

    Returns:
      ``(params, losses)``: the trained parameters and each epoch's loss (computed
      before that epoch's update, as in the article).
    """
    losses = []
    for epoch in range(epochs):
        # Forward pass, loss, gradients and the SGD update, all in one compiled call.
        params, opt_state, loss = step(params, opt_state, input_data, target_data)
        # Print loss for the current epoch (.item() waits for the result, as in PyTorch).
        print(f"Epoch {epoch + 1}, Loss: {loss.item()}")
        losses.append(loss.item())
    return params, losses


def make_fused_train(step: Step, epochs: int) -> Callable[..., tuple[Params, Any, jax.Array]]:
    """``epochs`` calls of ``step`` fused into one compiled program with `jax.lax.scan`.

    Returns:
      ``run(params, opt_state, x, y) -> (params, opt_state, losses)`` where ``losses``
      is float32 ``(epochs,)``; ``params`` and ``opt_state`` are donated.
    """

    def run(params: Params, opt_state: Any, x: jax.Array, y: jax.Array) -> tuple[Params, Any, jax.Array]:
        def one_epoch(carry: tuple[Params, Any], _: None) -> tuple[tuple[Params, Any], jax.Array]:
            params, opt_state = carry
            params, opt_state, loss = step(params, opt_state, x, y)
            return (params, opt_state), loss

        (params, opt_state), losses = jax.lax.scan(one_epoch, (params, opt_state), length=epochs)
        return params, opt_state, losses

    return jax.jit(run, donate_argnums=(0, 1))


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(prog="python -m examples.training", description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--epochs", type=positive_int, default=100, help="number of training epochs (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and initial weights (default: 0)")
    parser.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default: 0.01)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Train with the Python loop, then with one fused program, and compare."""
    args = build_parser().parse_args(argv)
    input_data, target_data, model_key = make_data(args.seed)

    section(f"The article's loop: {args.epochs} epochs, one compiled step per epoch")
    model, params, optimizer, opt_state, step = setup(model_key, args.lr)
    start = time.perf_counter()
    params, losses = train_loop(step, params, opt_state, input_data, target_data, args.epochs)
    loop_s = time.perf_counter() - start

    section(f"The same {args.epochs} epochs as one compiled program (jax.lax.scan)")
    fresh = model.init(model_key)  # the same initial weights (the loop consumed its copy)
    fused = make_fused_train(step, args.epochs)
    start = time.perf_counter()
    fused_params, _, fused_losses = fused(fresh, optimizer.init(fresh), input_data, target_data)
    fused_losses = np.asarray(fused_losses)
    fused_s = time.perf_counter() - start
    print(f"Epoch 1, Loss: {fused_losses[0].item()}")
    print(f"Epoch {args.epochs}, Loss: {fused_losses[-1].item()}")
    again = model.init(model_key)
    start = time.perf_counter()
    jax.block_until_ready(fused(again, optimizer.init(again), input_data, target_data))
    print(f"run again, already compiled: {args.epochs} epochs in {1e3 * (time.perf_counter() - start):.2f} ms")

    section("Final loss of both")
    print(f"Python loop: {losses[-1]}  ({loop_s:.3f} s including compilation)")
    print(f"lax.scan:    {fused_losses[-1].item()}  ({fused_s:.3f} s including compilation)")
    agree = np.allclose(losses, fused_losses, rtol=1e-5, atol=1e-6)
    same_params = all(
        np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(fused_params))
    )
    print(f"losses agree at every epoch: {agree}; final weights agree: {same_params}")
    return 0 if agree and same_params else 1


if __name__ == "__main__":
    raise SystemExit(main())
