"""The introductory article's training loop: PyTorch eager against funcnn, in one run.

The loop is the article's: ``FeedforwardNN(3, 10, 1)``, ``MSELoss``, ``SGD(lr=0.01)``,
100 epochs on ``randn(100, 3)`` data, printing ``Epoch n, Loss: ...`` every epoch.
Three measurements, each against PyTorch in the same process:

a. **Per step.** Each library runs the 100-epoch loop with one step call per epoch and
   the article's per-epoch print (``loss.item()`` in torch, ``{loss}`` in funcnn: both
   wait for the step to finish). The prints go to an in-memory ``io.StringIO`` in every
   case, so terminal speed does not dominate; rows without prints show the loop alone.
   A hand-written raw-JAX step shows what funcnn's layers cost on top of JAX; a row
   printing ``loss.item()`` (as the article does) shows how much of funcnn's per-step
   time is the formatting of a JAX scalar in ``f"{loss}"``.
b. **Whole run in one call.** funcnn fuses the 100 epochs into one compiled program
   with ``lax.scan`` and prints the 100 losses afterwards. PyTorch has no equivalent,
   so this is compared with the torch loop from (a).
c. **Cold start of init.** In fresh interpreters: ``model.init(key)`` of funcnn (random
   numbers drawn on the host) against the same initialisation written with
   ``jax.random`` (jit-compiled, and eager) and against constructing the torch module.
   Import times are reported separately.

Every case is warmed up (compilation excluded from (a) and (b)), repeated, interleaved
with the others, and summarised by its median.

Usage::

    python -m benchmarks.seed            # full run
    python -m benchmarks.seed --quick    # fewer repetitions
    python -m benchmarks.seed --json results.json
"""

from __future__ import annotations

import argparse
import io
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
import torch.nn as tnn
import torch.optim as optim

import funcnn
import funcnn.nn.functional as F
from benchmarks._timing import fresh_python, measure, print_table, summarize, write_json
from funcnn import nn

EPOCHS = 100


# --------------------------------------------------------------------------- torch


class FeedforwardNN(tnn.Module):
    """The article's model."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden = tnn.Linear(input_size, hidden_size)
        self.relu = tnn.ReLU()
        self.output = tnn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.relu(self.hidden(x)))


def torch_case(printing: bool) -> tuple[Callable[[], None], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The article's loop as a repeatable case; also returns the initial weights and data."""
    torch.manual_seed(0)
    input_data = torch.randn(100, 3)
    target_data = torch.randn(100, 1)
    model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    loss_function = tnn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)

    def run() -> None:
        sink = io.StringIO()
        for epoch in range(EPOCHS):
            output = model(input_data)
            loss = loss_function(output, target_data)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if printing:
                print(f"Epoch {epoch + 1}, Loss: {loss.item()}", file=sink)

    return run, initial, input_data.numpy(), target_data.numpy()


# -------------------------------------------------------------------------- funcnn


def feedforward(input_size: int, hidden_size: int, output_size: int) -> nn.Module:
    return nn.Sequential(
        hidden=nn.Linear(input_size, hidden_size), relu=nn.ReLU(), output=nn.Linear(hidden_size, output_size)
    )


def funcnn_cases(initial: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], None]]:
    model = feedforward(3, 10, 1)
    optimizer = optax.sgd(0.01)
    input_data, target_data = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        return F.mse_loss(model.apply(params, x), y)

    def fresh() -> list[Any]:
        params, _ = funcnn.load_state_dict(model, initial)
        return [params, optimizer.init(params)]

    step = funcnn.train.make_train_step(loss_fn, optimizer)
    carry_print, carry_item, carry_quiet, carry_fused = fresh(), fresh(), fresh(), fresh()

    def per_step_print() -> None:
        sink = io.StringIO()
        params, opt_state = carry_print
        for epoch in range(EPOCHS):
            params, opt_state, loss = step(params, opt_state, input_data, target_data)
            print(f"Epoch {epoch + 1}, Loss: {loss}", file=sink)
        carry_print[:] = params, opt_state

    def per_step_item() -> None:
        sink = io.StringIO()
        params, opt_state = carry_item
        for epoch in range(EPOCHS):
            params, opt_state, loss = step(params, opt_state, input_data, target_data)
            print(f"Epoch {epoch + 1}, Loss: {loss.item()}", file=sink)
        carry_item[:] = params, opt_state

    def per_step_quiet() -> None:
        params, opt_state = carry_quiet
        for _ in range(EPOCHS):
            params, opt_state, loss = step(params, opt_state, input_data, target_data)
        jax.block_until_ready(loss)
        carry_quiet[:] = params, opt_state

    inner = funcnn.train.make_train_step(loss_fn, optimizer, donate=False)

    def run_all(params: Any, opt_state: Any, x: jax.Array, y: jax.Array) -> tuple[Any, Any, jax.Array]:
        def body(carry: tuple[Any, Any], _: None) -> tuple[tuple[Any, Any], jax.Array]:
            p, o, loss = inner(*carry, x, y)
            return (p, o), loss

        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), None, length=EPOCHS)
        return params, opt_state, losses

    fused = jax.jit(run_all, donate_argnums=(0, 1))

    def fused_print() -> None:
        sink = io.StringIO()
        params, opt_state, losses = fused(*carry_fused, input_data, target_data)
        for epoch, loss in enumerate(np.asarray(losses)):
            print(f"Epoch {epoch + 1}, Loss: {loss}", file=sink)
        carry_fused[:] = params, opt_state

    return {
        "per_step_print": per_step_print,
        "per_step_item": per_step_item,
        "per_step_quiet": per_step_quiet,
        "fused_print": fused_print,
    }


def raw_jax_case(initial: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The same loop with a hand-written JAX step: no funcnn, no optax."""
    input_data, target_data = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(p: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
        h = jnp.maximum(x @ p["hidden.weight"].T + p["hidden.bias"], 0.0)
        out = h @ p["output.weight"].T + p["output.bias"]
        return jnp.mean((out - y) ** 2)

    @jax.jit
    def raw_step(p: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        return jax.tree.map(lambda a, g: a - 0.01 * g, p, grads), loss

    carry = [{k: jnp.asarray(v) for k, v in initial.items()}]

    def run() -> None:
        sink = io.StringIO()
        p = carry[0]
        for epoch in range(EPOCHS):
            p, loss = raw_step(p, input_data, target_data)
            print(f"Epoch {epoch + 1}, Loss: {loss}", file=sink)
        carry[0] = p

    return run


# ---------------------------------------------------------------------- cold start

_FUNCNN_INIT = """
import json, time
t0 = time.perf_counter()
import jax
t1 = time.perf_counter()
import funcnn
from funcnn import nn
t2 = time.perf_counter()
model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
key = jax.block_until_ready(jax.random.key(0))  # also starts JAX's backend
t3 = time.perf_counter()
params = jax.block_until_ready(model.init(key))
t4 = time.perf_counter()
print(json.dumps({"import jax": t1 - t0, "import funcnn (after jax)": t2 - t1, "init": t4 - t2, "key made": t4 - t3}))
"""

_JAX_RANDOM_INIT = """
import json, math, time
t0 = time.perf_counter()
import jax
t1 = time.perf_counter()

def init(key):
    k = jax.random.split(key, 4)
    u = lambda k, shape, fan_in: jax.random.uniform(k, shape, minval=-1 / math.sqrt(fan_in), maxval=1 / math.sqrt(fan_in))
    return {"hidden": {"weight": u(k[0], (10, 3), 3), "bias": u(k[1], (10,), 3)},
            "output": {"weight": u(k[2], (1, 10), 10), "bias": u(k[3], (1,), 10)}}

key = jax.block_until_ready(jax.random.key(0))  # also starts JAX's backend
t2 = time.perf_counter()
params = jax.block_until_ready(({JIT})(key))
t3 = time.perf_counter()
print(json.dumps({"import jax": t1 - t0, "init": t3 - t1, "key made": t3 - t2}))
"""

_TORCH_INIT = """
import json, time
t0 = time.perf_counter()
import torch
import torch.nn as nn
t1 = time.perf_counter()

class FeedforwardNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.output = nn.Linear(hidden_size, output_size)

torch.manual_seed(0)
model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
t2 = time.perf_counter()
print(json.dumps({"import torch": t1 - t0, "init": t2 - t1}))
"""

COLD_CASES = {
    "torch FeedforwardNN(...)": _TORCH_INIT,
    "funcnn model.init(key)": _FUNCNN_INIT,
    "jax.random init, jit": _JAX_RANDOM_INIT.replace("{JIT}", "jax.jit(init)"),
    "jax.random init, eager": _JAX_RANDOM_INIT.replace("{JIT}", "init"),
}


def cold_start(repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Interleaved fresh-interpreter runs: init times (with sub-timings), and import times."""
    init_times: dict[str, list[float]] = {}
    import_times: dict[str, list[float]] = {}
    names = list(COLD_CASES)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            for what, seconds in fresh_python(COLD_CASES[name]).items():
                if what.startswith("import"):
                    import_times.setdefault(what, []).append(seconds)
                else:  # "init", or a part of it such as "key made" (init once the key exists)
                    row = name if what == "init" else f"{name} [{what} beforehand]"
                    init_times.setdefault(row, []).append(seconds)
    rows = [n for name in names for n in init_times if n == name or n.startswith(f"{name} [")]
    return {n: init_times[n] for n in dict.fromkeys(rows)}, import_times


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: fastest for this tiny model, and immune to busy cores)",
    )
    args = parser.parse_args(argv)
    repeats, cold_repeats = (3, 2) if args.quick else (15, 5)
    torch.set_num_threads(args.torch_threads)

    print(
        f"funcnn {funcnn.__version__}, jax {jax.__version__} on {jax.default_backend()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); "
        f"{EPOCHS} epochs per case, {repeats} repetitions (medians)"
    )
    torch_print, initial, x, y = torch_case(printing=True)
    torch_quiet, _, _, _ = torch_case(printing=False)
    ours = funcnn_cases(initial, x, y)
    cases = {
        "torch eager, per step + print": torch_print,
        "funcnn, per step + print": ours["per_step_print"],
        "funcnn, per step + print(loss.item())": ours["per_step_item"],
        "raw jax, per step + print": raw_jax_case(initial, x, y),
        "funcnn, lax.scan 100 epochs + print": ours["fused_print"],
        "torch eager, per step, no print": torch_quiet,
        "funcnn, per step, no print": ours["per_step_quiet"],
    }
    loops = summarize(measure(cases, repeats=repeats, warmup=2))
    print_table(
        f"(a, b) {EPOCHS} epochs of the article's loop (prints go to io.StringIO)",
        loops,
        "torch eager, per step + print",
        notes={"funcnn, lax.scan 100 epochs + print": "one compiled call; losses printed after"},
    )
    print(
        "  per epoch (median / epochs): "
        + ", ".join(f"{name} {loops[name]['median_s'] / EPOCHS * 1e6:.0f} us" for name in list(cases)[:4])
    )

    init_times, import_times = cold_start(cold_repeats)
    cold = summarize(init_times)
    print_table(
        f"(c) cold-start init in a fresh interpreter ({cold_repeats} runs each, imports excluded)",
        cold,
        "torch FeedforwardNN(...)",
    )
    imports = summarize(import_times)
    print("  imports (median): " + ", ".join(f"{n} {row['median_s']:.2f} s" for n, row in imports.items()))

    results = {
        "epochs": EPOCHS,
        "repeats": repeats,
        "cold_repeats": cold_repeats,
        "versions": {"funcnn": funcnn.__version__, "jax": jax.__version__, "torch": torch.__version__},
        "backend": jax.default_backend(),
        "torch_threads": torch.get_num_threads(),
        "loops": loops,
        "cold_start_init": cold,
        "imports": imports,
    }
    if args.json:
        write_json(args.json, results)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
