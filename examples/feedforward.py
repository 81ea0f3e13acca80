"""Creating a neural network: the article's ``FeedforwardNN``, two ways.

In PyTorch the model is an object that owns its weights; ``model(x)`` runs it. In
funcnn a model holds only its configuration: ``params = model.init(key)`` creates the
weights as a nested dict, and ``model.apply(params, x)`` runs the forward pass as a pure
function. The dict's dotted keys and shapes are exactly those of the PyTorch model's
``state_dict()`` (``hidden.weight`` is ``(10, 3)``), so weights move between the two.

1. Compose: ``nn.Sequential(hidden=..., relu=..., output=...)``, the shortest way.
2. Write it yourself, like the article's class: a `funcnn.nn.Module` subclass that
   assigns its layers as attributes in ``__init__`` and calls them in ``forward``. The
   only difference from PyTorch: ``forward`` receives a runner, ``run``, and calls a
   child as ``run.hidden(x)`` (it hands the child its weights, key and train flag),
   where PyTorch writes ``self.hidden(x)``. ``init`` is derived from the attributes.

Both give the same parameter tree, so each one's ``apply`` runs the other's weights.

Run it: ``python -m examples.feedforward`` or ``python -m examples run feedforward``.
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

import jax
import jax.numpy as jnp

import funcnn
from funcnn import nn
from funcnn.nn import Params

from ._cli import positive_int, section


def FeedforwardNN(input_size: int, hidden_size: int, output_size: int) -> nn.Sequential:
    """The article's network as a named `nn.Sequential`: Linear -> ReLU -> Linear.

    Shapes: ``(*, input_size) float32 -> (*, output_size) float32``.
    """
    return nn.Sequential(
        hidden=nn.Linear(input_size, hidden_size),
        relu=nn.ReLU(),
        output=nn.Linear(hidden_size, output_size),
    )


class CustomFeedforwardNN(nn.Module):
    """The same network written like the article's class: layers as attributes, a ``forward``.

    The attribute names become the parameter keys (``params["hidden"]["weight"]`` is
    ``hidden.weight``), in assignment order, and each layer gets its own derived key by
    the rule `nn.Sequential` uses, so both versions initialise identically.

    Shapes: ``(*, input_size) float32 -> (*, output_size) float32``.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        self.hidden = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, run: nn.ChildRunner, x: Any) -> jax.Array:
        # torch: return self.output(self.relu(self.hidden(x)))
        return run.output(run.relu(run.hidden(x)))


def show_sequential(seed: int = 0, batch: int = 4) -> tuple[nn.Sequential, Params, jax.Array, jax.Array]:
    """Build, print and run the `Sequential` version.

    Returns:
      ``(model, params, x, y)`` with ``x`` float32 ``(batch, 3)`` and ``y`` float32
      ``(batch, 1)``.
    """
    section("FeedforwardNN as nn.Sequential")
    model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
    print("model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)")
    print(model)
    params = model.init(jax.random.key(seed))
    print("params = model.init(jax.random.key(seed)); its keys and shapes are torch's state_dict():")
    for name, value in funcnn.state_dict(params).items():
        print(f"  {name:15s} {str(value.shape):8s} {value.dtype}")
    count = sum(v.size for v in jax.tree.leaves(params))
    print(f"{count} parameters")
    x = jax.random.normal(jax.random.key(seed + 1), (batch, 3))
    y = model.apply(params, x)  # torch: y = model(x)
    print(f"y = model.apply(params, x) with x {x.shape} -> y {y.shape}:\n{y}")
    fast = jax.jit(model.apply)  # compiled once per input shape
    print(f"jax.jit(model.apply) gives the same: {bool(jnp.allclose(fast(params, x), y, atol=1e-6))}")
    return model, params, x, y


def show_custom(params: Params, x: jax.Array, y: jax.Array, seed: int = 0) -> jax.Array:
    """Build and run `CustomFeedforwardNN`; check it against the `Sequential` results.

    Args:
      params: the `Sequential` version's parameters.
      x: float32 ``(batch, 3)`` input.
      y: float32 ``(batch, 1)``, the `Sequential` version's output for ``x``.
      seed: the seed the `Sequential` version was initialised with.

    Returns:
      float32 ``(batch, 1)``: the custom model's output for ``x``.
    """
    section("FeedforwardNN written by hand (attributes + forward)")
    custom = CustomFeedforwardNN(input_size=3, hidden_size=10, output_size=1)
    print(custom)
    custom_params = custom.init(jax.random.key(seed))
    same_tree = jax.tree.structure(custom_params) == jax.tree.structure(params)
    same_values = all(
        bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(custom_params), jax.tree.leaves(params))
    )
    print(f"same keys as the Sequential version: {same_tree}; same initial values: {same_values}")
    out = custom.apply(params, x)  # the Sequential's weights, run by the hand-written forward
    print(f"custom.apply(sequential_params, x) equals the Sequential's output: {bool(jnp.allclose(out, y, atol=1e-6))}")
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.feedforward", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs (default: 0)")
    parser.add_argument("--batch", type=positive_int, default=4, help="number of example inputs (default: 4)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run both versions of the feedforward example; returns the exit status 0."""
    args = build_parser().parse_args(argv)
    _, params, x, y = show_sequential(args.seed, args.batch)
    show_custom(params, x, y, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
