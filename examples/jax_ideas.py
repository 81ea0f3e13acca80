"""What "dynamic computation graph" and "GPU acceleration" mean in JAX.

PyTorch builds its graph on the fly: every operation runs as Python reaches it, so
ordinary ``if`` and ``for`` statements decide the graph. JAX runs that way too when you
call it directly ("eager"). ``jax.jit`` is different: it *traces* your Python function
once per input signature (shapes, dtypes, static arguments), records the operations in
a *jaxpr*, compiles that with XLA and replays the compiled program on later calls. This
example shows what follows from that:

* Python side effects (``print``) run once, while tracing; ``jax.debug.print`` runs on
  every call. ``jax.make_jaxpr`` shows the recorded program.
* A new shape or dtype means a new trace and a new compilation.
* ``if x > 0`` cannot look at a traced value: use ``jnp.where`` or ``lax.cond``, or
  mark the argument static (one compilation per value).
* A Python ``for`` loop is unrolled into the program; ``lax.fori_loop``/``lax.scan``
  keep one loop however many steps it runs.
* Arrays live on devices (``jax.devices()``; a GPU when JAX finds one) and move with
  ``jax.device_put``; calls return before the device finishes (asynchronous dispatch),
  and ``block_until_ready()`` waits, which is what timing code must do.

Run it: ``python -m examples.jax_ideas`` or ``python -m examples run jax_ideas``.
"""

from __future__ import annotations

import argparse
import time
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from ._cli import positive_int, section


def tracing() -> int:
    """Trace-time ``print`` versus ``jax.debug.print``; returns the number of traces (3)."""
    section("Tracing: jit runs your Python once per input signature")
    traces = []

    def scaled_sum(x: jax.Array) -> jax.Array:
        traces.append(f"{x.dtype}{list(x.shape)}")
        print(f"  (Python print while tracing: x is abstract, {x.dtype}{list(x.shape)})")
        total = (2 * x).sum()
        jax.debug.print("  (jax.debug.print on every call: total = {t})", t=total)
        return total

    fast = jax.jit(scaled_sum)
    calls = [
        ("call 1, float32[3]:", jnp.ones(3)),
        ("call 2, float32[3] again, so the compiled program is reused:", jnp.arange(3.0)),
        ("call 3, float32[4], a new shape, so a new trace and compilation:", jnp.ones(4)),
        ("call 4, int32[4], a new dtype, so traced again:", jnp.ones(4, jnp.int32)),
    ]
    for title, x in calls:
        print(title)
        fast(x).block_until_ready()  # wait, so the debug print appears before the next line
    print(f"traced {len(traces)} times for {len(calls)} calls: {traces}")
    print("jax.make_jaxpr(lambda x: (2 * x).sum())(jnp.ones(3)) shows a program without running it:")
    print(jax.make_jaxpr(lambda x: (2 * x).sum())(jnp.ones(3)))
    return len(traces)


def control_flow() -> jax.Array:
    """Python ``if`` eagerly and under ``jit``, and the fixes; returns ``lax.cond``'s float32 results (2,)."""
    section("Python control flow: eager versus jit")

    def relu_if(x: jax.Array) -> jax.Array:
        if x > 0:  # needs the actual value of x
            return x
        return jnp.zeros_like(x)

    print(f"eager: relu_if(-2.0) = {relu_if(jnp.float32(-2.0))}, relu_if(3.0) = {relu_if(jnp.float32(3.0))}")
    try:
        jax.jit(relu_if)(jnp.float32(-2.0))
    except jax.errors.TracerBoolConversionError as error:
        print(f"jit:   {type(error).__name__}: {str(error).splitlines()[0]}")

    where = jax.jit(lambda x: jnp.where(x > 0, x, 0.0))
    cond = jax.jit(lambda x: lax.cond(x > 0, lambda v: v, jnp.zeros_like, x))
    results = jnp.stack([cond(jnp.float32(-2.0)), cond(jnp.float32(3.0))])
    print(f"fix 1, jnp.where (computes both sides, selects): {where(jnp.float32(-2.0))}, {where(jnp.float32(3.0))}")
    print(f"fix 2, lax.cond (runs one branch):                {results[0]}, {results[1]}")

    compiled_for = []

    def power(x: jax.Array, n: int) -> jax.Array:
        compiled_for.append(n)
        y = jnp.ones_like(x)
        for _ in range(n):  # n is a plain Python int here
            y = y * x
        return y

    fast_power = jax.jit(power, static_argnames="n")
    values = [float(fast_power(jnp.float32(2.0), n=n)) for n in (3, 3, 5)]
    print(f"fix 3, static argument: power(2, n) for n = 3, 3, 5 -> {values}; traced for n in {compiled_for}")
    return results


def loops(steps: int = 50) -> tuple[int, int]:
    """An unrolled Python loop versus ``lax.fori_loop``; returns both jaxprs' equation counts."""
    section("Loops: unrolled by tracing, or one compiled loop")

    def unrolled(x: jax.Array) -> jax.Array:
        for _ in range(steps):
            x = jnp.sin(x)
        return x

    def rolled(x: jax.Array) -> jax.Array:
        return lax.fori_loop(0, steps, lambda i, x: jnp.sin(x), x)

    x = jnp.float32(1.0)
    n_unrolled = len(jax.make_jaxpr(unrolled)(x).eqns)
    n_rolled = len(jax.make_jaxpr(rolled)(x).eqns)
    same = bool(jnp.allclose(jax.jit(unrolled)(x), jax.jit(rolled)(x)))
    print(
        f"{steps} x sin: Python for loop -> {n_unrolled} equations; lax.fori_loop -> {n_rolled} equation(s); same result: {same}"
    )
    print("(lax.scan is the loop that also collects per-step outputs: see the training example)")
    return n_unrolled, n_rolled


def devices() -> jax.Array:
    """Devices, the default backend and ``jax.device_put``; returns the array placed there."""
    section("Devices: where arrays live")
    print(
        f"JAX {jax.__version__}, default backend {jax.default_backend()!r}, {jax.device_count()} device(s): {jax.devices()}"
    )
    x = jnp.arange(4.0)
    print(f"jnp.arange(4.0) was created on {x.devices()} (the default device; torch would use the CPU)")
    placed = jax.device_put(x, jax.devices()[0])  # torch: x.to(device)
    print(f"jax.device_put(x, jax.devices()[0]) -> on {placed.devices()}")
    if jax.default_backend() != "cpu":
        try:
            on_cpu = jax.device_put(x, jax.devices("cpu")[0])
            print(f"jax.device_put(x, jax.devices('cpu')[0]) -> on {on_cpu.devices()}")
        except RuntimeError as error:
            print(f"no CPU backend in this process: {error}")
    else:
        print("no accelerator here: the same code runs unchanged on a GPU when jax[cuda12] finds one")
    return placed


def async_dispatch(size: int = 512, repeats: int = 4) -> tuple[float, float]:
    """Time a compiled matmul chain: dispatch returns early, ``block_until_ready`` waits.

    Args:
      size: side of the float32 ``(size, size)`` matrices.
      repeats: number of chained matmuls.

    Returns:
      ``(dispatch_ms, ready_ms)``: milliseconds until the call returned and until
      the result was ready.
    """
    section("Asynchronous dispatch and block_until_ready")

    @jax.jit
    def chain(a: jax.Array) -> jax.Array:
        for _ in range(repeats):
            a = jnp.tanh(a @ a) / size
        return a

    a = jax.random.normal(jax.random.key(0), (size, size))
    chain(a).block_until_ready()  # compile first, so the timings below are pure run time
    start = time.perf_counter()
    result = chain(a)  # returns a future-like array at once
    dispatch_ms = 1e3 * (time.perf_counter() - start)
    result.block_until_ready()  # wait for the device
    ready_ms = 1e3 * (time.perf_counter() - start)
    print(f"{repeats} chained ({size}, {size}) matmuls on {result.devices()}:")
    print(f"  the call returned after {dispatch_ms:.3f} ms; the result was ready after {ready_ms:.3f} ms")
    print("  time JAX code with .block_until_ready() (or jax.block_until_ready(tree)), else you time the dispatch")
    return dispatch_ms, ready_ms


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.jax_ideas", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--size", type=positive_int, default=512, help="matrix side for the async demo (default: 512)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part of the JAX ideas example; returns the exit status 0."""
    args = build_parser().parse_args(argv)
    tracing()
    control_flow()
    loops()
    devices()
    async_dispatch(args.size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
