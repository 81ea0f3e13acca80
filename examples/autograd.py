"""Autograd: the article's second section, as function transformations.

PyTorch records operations on tensors marked ``requires_grad=True`` and fills
``x.grad`` when you call ``y.backward()``. JAX has no tape and no ``.grad`` attribute:
``jax.grad(f)`` is a new function that returns the derivative of ``f``. Because
derivatives are functions, they compose: ``grad(grad(f))`` is the second derivative,
``jacfwd``/``jacrev`` give Jacobians, and ``vmap(grad(loss))`` gives one gradient per
example in a single vectorised call, which PyTorch only offers through ``torch.func``.

Run it: ``python -m examples.autograd`` or ``python -m examples run autograd``.
"""

from __future__ import annotations

import argparse
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._cli import section


def square(x: jax.Array) -> jax.Array:
    """``x ** 2``; any shape and float dtype in, the same out."""
    return x**2


def first_derivative() -> jax.Array:
    """The article's example: d(x**2)/dx at 2.0; returns the float32 scalar 4.0."""
    section("The gradient of x ** 2 at 2.0")
    # torch: x = torch.tensor(2.0, requires_grad=True); y = x ** 2; y.backward(); x.grad
    grad = jax.grad(square)(2.0)
    print("jax.grad(lambda x: x ** 2)(2.0)")
    print(grad)  # torch prints tensor(4.)
    value, grad_again = jax.value_and_grad(square)(2.0)
    print(f"jax.value_and_grad gives both: value {value}, gradient {grad_again}")
    return grad


def higher_order() -> list[float]:
    """Derivatives of ``x ** 3`` at 2.0 by nesting ``jax.grad``; returns ``[12.0, 12.0, 6.0]``."""
    section("Higher-order derivatives: grad of grad")

    def cube(x: jax.Array) -> jax.Array:
        return x**3

    d1 = jax.grad(cube)
    d2 = jax.grad(d1)
    d3 = jax.grad(d2)
    # Each derivative is an ordinary function, so jit compiles it into one program
    # (called eagerly, JAX dispatches the derivative's primitives one at a time).
    values = [float(jax.jit(d)(2.0)) for d in (d1, d2, d3)]
    print(f"f(x) = x ** 3 at x = 2: f' = 3x^2 = {values[0]}, f'' = 6x = {values[1]}, f''' = 6 = {values[2]}")
    hessian = jax.jit(jax.hessian(lambda v: (v**3).sum()))(jnp.array([1.0, 2.0]))
    print(f"jax.hessian(lambda v: (v ** 3).sum())([1., 2.]) =\n{hessian}")
    return values


def jacobian() -> jax.Array:
    """The (3, 2) Jacobian of ``R^2 -> R^3`` at ``[1, 2]`` by forward and reverse mode; returns it."""
    section("Jacobians: jacfwd and jacrev")

    def f(v: jax.Array) -> jax.Array:
        return jnp.stack([v[0] * v[1], jnp.sin(v[0]), v[1] ** 2])

    point = jnp.array([1.0, 2.0])
    forward = jax.jit(jax.jacfwd(f))(point)  # one forward pass per input: best for few inputs
    reverse = jax.jit(jax.jacrev(f))(point)  # one backward pass per output: best for few outputs
    print("f(v) = [v0 * v1, sin(v0), v1 ** 2] at v = [1, 2]")
    print(f"jax.jacfwd(f)(v) =\n{forward}")
    print(f"jacfwd and jacrev agree: {bool(jnp.allclose(forward, reverse))}")
    return forward


def per_example_gradients(seed: int = 0, batch: int = 8) -> jax.Array:
    """Per-example gradients of a squared error with ``vmap(grad(...))``.

    Args:
      seed: seeds the generated data and weights.
      batch: number of examples.

    Returns:
      float32 array of shape ``(batch, 3)``: the gradient for each example.
    """
    section("Per-example gradients: vmap(grad(loss))")
    rng = np.random.default_rng(seed)
    w = jnp.asarray(rng.standard_normal(3, dtype=np.float32))
    xs = jnp.asarray(rng.standard_normal((batch, 3), dtype=np.float32))
    ys = jnp.asarray(rng.standard_normal(batch, dtype=np.float32))

    def loss(w: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
        return (x @ w - y) ** 2  # one example: x (3,), y () -> scalar

    per_example = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))(w, xs, ys)

    def mean_loss(w: jax.Array, xs: jax.Array, ys: jax.Array) -> jax.Array:
        return jax.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys).mean()

    batch_grad = jax.jit(jax.grad(mean_loss))(w, xs, ys)
    print(f"weights (3,), data ({batch}, 3) -> per-example gradients {per_example.shape}")
    print(per_example)
    print(
        f"their mean equals the gradient of the mean loss: {bool(jnp.allclose(per_example.mean(0), batch_grad, atol=1e-6))}"
    )
    print(
        "(in PyTorch, loss.backward() gives one gradient for the whole batch; per-example ones need torch.func or a loop)"
    )
    return per_example


def gradients_of_trees() -> dict[str, jax.Array]:
    """Gradients follow the structure of the parameters; returns ``{"weight": (1, 3), "bias": (1,)}``."""
    section("Gradients of parameter trees")
    params = {"weight": jnp.ones((1, 3)), "bias": jnp.zeros((1,))}

    def loss(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
        return ((x @ params["weight"].T + params["bias"][None, :]) ** 2).mean()

    grads = jax.jit(jax.grad(loss))(params, jnp.ones((4, 3)))
    print(f"params {{name: shape}}: { {k: v.shape for k, v in params.items()} }")
    print(f"grads  {{name: shape}}: { {k: grads[k].shape for k in params} }  (what torch keeps in p.grad)")
    return grads


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(prog="python -m examples.autograd", description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data (default: 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part of the autograd example; returns the exit status 0."""
    args = build_parser().parse_args(argv)
    first_derivative()
    higher_order()
    jacobian()
    per_example_gradients(args.seed)
    gradients_of_trees()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
