"""W5, time to first result: whole processes, from spawning ``python`` to its exit.

Four cases, each a fresh interpreter running a script whose 100 lines of output go to
a pipe:

* ``torch``: the article's PyTorch script (``benchmarks/scripts/seed_torch.py``);
* ``funcnn``: the same script in funcnn (``benchmarks/scripts/seed_funcnn.py``) with
  no persistent compilation cache: import, initialisation, compilation, 100 epochs;
* ``funcnn, cold cache``: the same with ``--cache-dir`` set to a new, empty directory
  (the run compiles and also writes the cache);
* ``funcnn, warm cache``: run again on that directory: the compiled step is loaded.

A repetition runs the four in turn (the first three in an order rotated from one
repetition to the next, the warm run right after its cold run); medians over the
repetitions are reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .._timing import fresh_python

NAME = "W5"
TITLE = "time to first result: the article's script, whole process from spawn to exit"
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
CASES = ("torch", "funcnn", "funcnn, cold cache", "funcnn, warm cache")
REPEATS = {"smoke": 1, "quick": 5, "full": 11, "gpu": 3}
BAR = 2.0  # time(torch) / time(funcnn) must be at least this


def _spawn(script: str, *args: str, env: dict[str, str]) -> float:
    """Wall seconds from spawning ``python script args`` to its exit; checks its output."""
    cmd = [sys.executable, str(SCRIPTS / script), *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)
    seconds = time.perf_counter() - start
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != 100 or not lines[-1].startswith("Epoch 100, Loss: "):
        raise RuntimeError(f"W5: {' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def measure(mode: str, device: str = "cpu") -> dict[str, list[float]]:
    """Wall seconds of each case, ``REPEATS[mode]`` interleaved repetitions.

    ``device="cpu"`` pins JAX and torch to the CPU (``JAX_PLATFORMS=cpu``,
    ``CUDA_VISIBLE_DEVICES=""``); ``"cuda"`` leaves them the machine's accelerator.
    """
    env = dict(os.environ)
    for var in ("JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE"):
        env.pop(var, None)
    if device == "cpu":
        env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    times: dict[str, list[float]] = {c: [] for c in CASES}
    units = ["torch", "funcnn", "cache"]
    with tempfile.TemporaryDirectory(prefix="funcnn-w5-") as tmp:
        for r in range(REPEATS[mode]):
            for unit in units[r % 3 :] + units[: r % 3]:
                if unit == "torch":
                    times["torch"].append(_spawn("seed_torch.py", env=env))
                elif unit == "funcnn":
                    times["funcnn"].append(_spawn("seed_funcnn.py", env=env))
                else:
                    cache = str(Path(tmp) / f"cache-{r}")
                    times["funcnn, cold cache"].append(_spawn("seed_funcnn.py", "--cache-dir", cache, env=env))
                    times["funcnn, warm cache"].append(_spawn("seed_funcnn.py", "--cache-dir", cache, env=env))
    return times


_FUNCNN_PHASES = """
import json, time
t = [time.perf_counter()]
import jax, optax
t.append(time.perf_counter())
import funcnn
from funcnn import nn
t.append(time.perf_counter())
key = jax.block_until_ready(jax.random.key(0))
t.append(time.perf_counter())
model = nn.Sequential(hidden=nn.Linear(3, 10), relu=nn.ReLU(), output=nn.Linear(10, 1))
params = jax.block_until_ready(model.init(key))
t.append(time.perf_counter())
x, y = funcnn.data.synthetic_regression(100, 3, 1)
optimizer = optax.sgd(0.01)
opt_state = optimizer.init(params)
loss_function = nn.MSELoss()
step = funcnn.train.make_train_step(lambda p, x, y: loss_function(model.apply(p, x), y), optimizer)
lowered = step.trace(params, opt_state, x, y).lower()
t.append(time.perf_counter())
lowered.compile()
t.append(time.perf_counter())
for epoch in range(100):
    params, opt_state, loss = step(params, opt_state, x, y)
    loss.item()
t.append(time.perf_counter())
names = ["import jax, optax", "import funcnn", "jax.random.key(0)", "model.init", "trace + lower step",
         "XLA compile step", "100 epochs (1st call loads the compiled step)"]
print(json.dumps({n: b - a for n, a, b in zip(names, t, t[1:])}))
"""

_TORCH_PHASES = """
import json, time
t = [time.perf_counter()]
import torch
import torch.nn as nn
import torch.optim as optim
t.append(time.perf_counter())
model = nn.Sequential(nn.Linear(3, 10), nn.ReLU(), nn.Linear(10, 1))
input_data, target_data = torch.randn(100, 3), torch.randn(100, 1)
loss_function = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)
t.append(time.perf_counter())
for epoch in range(100):
    loss = loss_function(model(input_data), target_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    loss.item()
t.append(time.perf_counter())
print(json.dumps({n: b - a for n, a, b in zip(["import torch", "model, data, optimizer", "100 epochs"], t, t[1:])}))
"""


def phases(mode: str, device: str = "cpu") -> dict[str, dict[str, list[float]]]:
    """Where the time goes inside each process (excluding interpreter start-up), in seconds.

    The funcnn snippet compiles the step ahead of time (``trace``/``lower``/``compile``)
    to time those phases apart; without the persistent cache, so compilation is real.
    """
    env = {"JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""} if device == "cpu" else {}
    out: dict[str, dict[str, list[float]]] = {"torch": {}, "funcnn": {}}
    for _ in range(REPEATS[mode]):
        for name, code in (("torch", _TORCH_PHASES), ("funcnn", _FUNCNN_PHASES)):
            for phase, seconds in fresh_python(code, env=env).items():
                out[name].setdefault(phase, []).append(seconds)
    return out


def verdict(medians: dict[str, float]) -> dict[str, Any]:
    """The bars: funcnn in at most half torch's time; the warm-cache run faster still."""
    speedup = medians["torch"] / medians["funcnn"]
    return {
        "speedup_vs_torch": speedup,
        "warm_cache_speedup_vs_torch": medians["torch"] / medians["funcnn, warm cache"],
        "bar": f"torch/funcnn >= {BAR}, warm cache faster than no cache",
        "met": speedup >= BAR and medians["funcnn, warm cache"] < medians["funcnn"],
    }
