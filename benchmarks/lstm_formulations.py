"""LSTM formulations in JAX, timed as full training steps against PyTorch eager.

The workload: ``LSTM(32, 128)`` over sequences of 50 steps, batch 64, time-major
``(L, N, H_in)``; a ``Linear(128, 10)`` head on the last step's output; MSE against
random targets; SGD (lr 0.01). Every JAX variant is one ``funcnn.train.make_train_step``
(jit-compiled, params and optimizer state donated); PyTorch runs ``torch.nn.LSTM`` in
eager mode on the CPU in the same process. All start from the same weights.

Each variant is one way to write the recurrence with ``lax.scan``:

* ``funcnn`` -- ``funcnn.nn.LSTM`` as shipped: the input projection hoisted and split
  per gate, and a hand-written backward pass (one ``d_gates @ W_hh`` per step; the
  ``W_hh`` gradient as one matmul over all steps afterwards).
* ``funcnn-unrollK`` -- the same with ``lax.scan(..., unroll=K)``.
* ``step-proj`` -- ``x_t @ W_ih.T`` computed inside the scan, one step at a time.
* ``concat-xh`` -- the textbook fused cell: ``[x_t, h] @ [W_ih, W_hh].T`` per step.
* ``hoisted`` -- ``x @ W_ih.T + b`` for all steps as one matmul before the scan; only
  ``h @ W_hh.T`` inside (the gate matmul fused: one ``(N, H) x (H, 4H)`` product).
* ``hoisted-split`` -- as ``hoisted``, the projection split into one array per gate
  before the scan (contiguous per-step slices).
* ``hoisted-pergate`` -- as ``hoisted`` with four per-gate ``(N, H) x (H, H)`` products.
* ``hoisted-wT`` -- as ``hoisted`` with ``W_hh.T`` transposed once outside the loop.
* ``hoisted-highest`` -- as ``hoisted`` with ``precision=HIGHEST`` matmuls.
* ``hoisted-unrollK`` -- as ``hoisted`` with ``lax.scan(..., unroll=K)``.

All but ``funcnn*`` are differentiated by JAX's automatic differentiation of the scan.
Before timing, every variant's loss and gradients are compared with PyTorch's on one
batch ("exact": within 1e-4, float32 round-off); the fastest exact formulation is the
one ``funcnn.nn.functional.rnn`` uses.

Usage::

    python -m benchmarks.lstm_formulations            # full run
    python -m benchmarks.lstm_formulations --quick    # fewer repetitions
    python -m benchmarks.lstm_formulations --json results.json
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
from jax import lax

import funcnn
import funcnn.nn.functional as F
import funcnn.nn.functional.rnn as R
from benchmarks._timing import measure, print_table, summarize, write_json
from funcnn import nn

SEQ, BATCH, INPUT, HIDDEN, OUT = 50, 64, 32, 128, 10
LR = 0.01
EXACT_TOL = 1e-4


# ------------------------------------------------------------------ variants
def _gates(pre: jax.Array, c: jax.Array) -> tuple[jax.Array, jax.Array]:
    i, f, g, o = jnp.split(pre, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def _mm(a: jax.Array, w: jax.Array, precision: Any = None) -> jax.Array:
    """``a @ w.T`` contracting ``w``'s second axis directly."""
    return lax.dot_general(a, w, (((a.ndim - 1,), (1,)), ((), ())), precision=precision)


def lstm_variant(kind: str, unroll: int = 1, precision: Any = None) -> Callable[[Any, jax.Array], jax.Array]:
    """``f(p, x) -> output (L, N, H)`` for one formulation; ``p`` has torch's LSTM keys."""

    def f(p: Any, x: jax.Array) -> jax.Array:
        w_ih, w_hh = p["weight_ih_l0"], p["weight_hh_l0"]
        b = p["bias_ih_l0"] + p["bias_hh_l0"]
        zeros = jnp.zeros((x.shape[1], HIDDEN), x.dtype)
        if kind == "step-proj":

            def body(carry, x_t):
                h, c = _gates(_mm(x_t, w_ih) + b + _mm(carry[0], w_hh), carry[1])
                return (h, c), h

            xs = x
        elif kind == "concat-xh":
            w = jnp.concatenate([w_ih, w_hh], axis=1)

            def body(carry, x_t):
                h, c = _gates(_mm(jnp.concatenate([x_t, carry[0]], axis=-1), w) + b, carry[1])
                return (h, c), h

            xs = x
        elif kind == "hoisted-split":
            xs = tuple(jnp.split(_mm(x, w_ih, precision) + b, 4, axis=-1))

            def body(carry, xp_t):
                hp = jnp.split(_mm(carry[0], w_hh, precision), 4, axis=-1)
                i, f, g, o = (a + b for a, b in zip(xp_t, hp))
                c = jax.nn.sigmoid(f) * carry[1] + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), h

        else:
            xs = _mm(x, w_ih, precision) + b
            if kind == "hoisted-pergate":
                ws = jnp.split(w_hh, 4, axis=0)

                def hh(h):
                    return jnp.concatenate([_mm(h, w) for w in ws], axis=-1)

            elif kind == "hoisted-wT":
                w_t = w_hh.T

                def hh(h):
                    return h @ w_t

            else:

                def hh(h):
                    return _mm(h, w_hh, precision)

            def body(carry, xp_t):
                h, c = _gates(xp_t + hh(carry[0]), carry[1])
                return (h, c), h

        _, out = lax.scan(body, (zeros, zeros), xs, unroll=unroll)
        return out

    return f


def variants(unrolls: Sequence[int]) -> dict[str, Callable[[Any, jax.Array], jax.Array]]:
    out: dict[str, Callable[[Any, jax.Array], jax.Array]] = {}
    lstm = nn.LSTM(INPUT, HIDDEN)
    out["funcnn"] = lambda p, x: lstm.apply(p, x)[0]
    for k in unrolls:
        out[f"funcnn-unroll{k}"] = lambda p, x, k=k: R.rnn_impl(
            "lstm",
            "lstm",
            x,
            p,
            None,
            num_layers=1,
            bidirectional=False,
            batch_first=False,
            dropout=0.0,
            training=False,
            lengths=None,
            key=None,
            unroll=k,
        )[0]
    for kind in ("step-proj", "concat-xh", "hoisted", "hoisted-split", "hoisted-pergate", "hoisted-wT"):
        out[kind] = lstm_variant(kind)
    out["hoisted-highest"] = lstm_variant("hoisted", precision=lax.Precision.HIGHEST)
    for k in unrolls:
        out[f"hoisted-unroll{k}"] = lstm_variant("hoisted", unroll=k)
    return out


# ---------------------------------------------------------------- the steps
def weights(seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation, drawn once with NumPy for every implementation."""
    rng = np.random.default_rng(seed)
    b = 1 / math.sqrt(HIDDEN)  # the LSTM's bound, and the head's (fan_in = HIDDEN)
    shapes = {
        "lstm.weight_ih_l0": ((4 * HIDDEN, INPUT), b),
        "lstm.weight_hh_l0": ((4 * HIDDEN, HIDDEN), b),
        "lstm.bias_ih_l0": ((4 * HIDDEN,), b),
        "lstm.bias_hh_l0": ((4 * HIDDEN,), b),
        "head.weight": ((OUT, HIDDEN), b),
        "head.bias": ((OUT,), b),
    }
    return {k: rng.uniform(-bd, bd, size=s).astype(np.float32) for k, (s, bd) in shapes.items()}


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((SEQ, BATCH, INPUT), np.float32), rng.standard_normal((BATCH, OUT), np.float32)


def jax_loss(lstm: Callable[[Any, jax.Array], jax.Array]) -> Callable[..., jax.Array]:
    def loss_fn(p: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        last = lstm(p["lstm"], x)[-1]
        return F.mse_loss(F.linear(last, p["head"]["weight"], p["head"]["bias"]), y)

    return loss_fn


class TorchModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(INPUT, HIDDEN)
        self.head = torch.nn.Linear(HIDDEN, OUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[-1])


def torch_reference(w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    model = TorchModel()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
    loss = torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return float(loss.detach()), {k: p.grad.numpy() for k, p in model.named_parameters()}


def exactness(lstm: Any, w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, ref: tuple[float, dict]) -> float:
    """Largest absolute difference of loss and gradients from PyTorch's."""
    params = funcnn.serialization.unflatten_dict({k: jnp.asarray(v) for k, v in w.items()})
    loss, grads = jax.jit(jax.value_and_grad(jax_loss(lstm)))(params, jnp.asarray(x), jnp.asarray(y))
    diffs = [abs(float(loss) - ref[0])]
    for k, g in funcnn.state_dict(grads).items():
        diffs.append(float(np.max(np.abs(g - ref[1][k]))))
    return max(diffs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and variants")
    parser.add_argument("--steps", type=int, default=None, help="training steps per timed call")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (medians are reported)")
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for both libraries (default: each library's own default)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        # Read when JAX starts its CPU backend: run as a script, before any computation.
        flags = f"--xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'} intra_op_parallelism_threads={args.threads}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
        torch.set_num_threads(args.threads)
    steps = args.steps or (5 if args.quick else 10)
    repeats = args.repeats or (5 if args.quick else 11)
    unrolls = (2,) if args.quick else (2, 4, 8)

    torch.manual_seed(0)
    w = weights()
    x, y = data()
    ref = torch_reference(w, x, y)

    cases: dict[str, Callable[[], None]] = {}
    errors: dict[str, float] = {}
    for name, lstm in variants(unrolls).items():
        errors[name] = exactness(lstm, w, x, y, ref)
        step = funcnn.train.make_train_step(jax_loss(lstm), optax.sgd(LR))
        params = funcnn.serialization.unflatten_dict({k: jnp.asarray(v) for k, v in w.items()})
        box = [params, optax.sgd(LR).init(params)]
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def run(step=step, box=box, xj=xj, yj=yj) -> None:
            for _ in range(steps):
                box[0], box[1], loss = step(box[0], box[1], xj, yj)
            jax.block_until_ready(loss)

        cases[name] = run

    model = TorchModel()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def run_torch() -> None:
        for _ in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(tx), ty)
            loss.backward()
            opt.step()

    cases = {"torch": run_torch, **cases}
    times = measure(cases, repeats=repeats, warmup=1)
    per_step = {k: [t / steps for t in v] for k, v in times.items()}
    summary = summarize(per_step)
    notes = {k: f"max |diff| vs torch {e:.1e}" + ("" if e <= EXACT_TOL else "  NOT EXACT") for k, e in errors.items()}
    print_table(
        f"LSTM({INPUT}, {HIDDEN}) x {SEQ} steps, batch {BATCH}: one SGD training step "
        f"(jax {jax.__version__} on {jax.default_backend()}, torch {torch.__version__} with {torch.get_num_threads()} threads)",
        summary,
        "torch",
        notes=notes,
    )
    exact = [k for k in errors if errors[k] <= EXACT_TOL]
    best = min(exact, key=lambda k: summary[k]["median_s"])
    print(f"\nfastest exact formulation: {best} ({summary[best]['median_s'] * 1e3:.2f} ms/step)")
    if args.json:
        write_json(args.json, {"per_step": summary, "max_abs_diff_vs_torch": errors, "fastest_exact": best})
    return 0


if __name__ == "__main__":
    sys.exit(main())
