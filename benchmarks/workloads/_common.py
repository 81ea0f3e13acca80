"""What every timed workload shares: sizes, the `Bench` record, shared initial weights.

All three implementations of a workload start from the same weights and see the same
batches: the weights are drawn here with NumPy from PyTorch's default initialisation
(``U(-b, b)`` with ``b = 1/sqrt(fan_in)`` for Linear and Conv, ``1/sqrt(hidden)`` for
LSTM), and the batches are NumPy arrays. So after the same number of steps the three
report the same loss (up to float32 round-off), which `run` prints as a check that they
did the same work.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping

import numpy as np

IMPLS = ("torch", "jax", "funcnn")
"""PyTorch eager, hand-written jax+optax, funcnn: the order of every table."""


@dataclasses.dataclass(frozen=True)
class Size:
    """The shapes and repetition counts of one workload in one mode.

    Attributes:
      steps: training steps per timed call (the time reported is per step).
      repeats: timed, interleaved calls per implementation (the median is reported).
      warmup: untimed calls per implementation first (compilation, caches).
      shape: the workload's own sizes (batch, widths, ...).
    """

    steps: int
    repeats: int
    warmup: int
    shape: Mapping[str, int]

    def __getitem__(self, name: str) -> int:
        return self.shape[name]


@dataclasses.dataclass
class Bench:
    """One implementation of one workload, ready to time.

    Attributes:
      run: does ``steps`` training steps and waits for them to finish.
      steps: steps per call of ``run``.
      last_loss: the loss of the most recent step, as a Python float.
    """

    run: Callable[[], None]
    steps: int
    last_loss: Callable[[], float]


def uniform_weights(spec: Mapping[str, tuple[tuple[int, ...], float]], seed: int) -> dict[str, np.ndarray]:
    """Float32 arrays ``U(-bound, bound)`` of the given shapes, in ``spec``'s order.

    Args:
      spec: dotted key -> ``(shape, bound)``.
      seed: NumPy seed.

    Returns:
      dotted key -> float32 array: a ``state_dict`` for torch and funcnn alike.
    """
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-b, b, size=shape).astype(np.float32) for k, (shape, b) in spec.items()}


def linear_spec(prefix: str, fan_in: int, fan_out: int) -> dict[str, tuple[tuple[int, ...], float]]:
    """``weight (out, in)`` and ``bias (out,)`` of a PyTorch ``Linear``, bound ``1/sqrt(in)``."""
    b = 1.0 / math.sqrt(fan_in)
    return {f"{prefix}.weight": ((fan_out, fan_in), b), f"{prefix}.bias": ((fan_out,), b)}


def batches(
    seed: int, count: int, make: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
) -> list[tuple[np.ndarray, ...]]:
    """``count`` batches drawn by ``make(rng)``; steps cycle through them."""
    rng = np.random.default_rng(seed)
    return [make(rng) for _ in range(count)]


def torch_device(device: str) -> Any:
    """The torch device for ``device`` (``"cpu"`` or ``"cuda"``)."""
    import torch

    return torch.device(device)


def torch_sync(device: str) -> None:
    """Wait for queued CUDA work (eager CPU work is already done)."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def torch_state(flat: Mapping[str, np.ndarray], device: str) -> dict[str, Any]:
    """NumPy ``state_dict`` -> torch tensors on ``device``."""
    import torch

    return {k: torch.from_numpy(np.array(v)).to(device) for k, v in flat.items()}


def jax_tree(flat: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """NumPy ``state_dict`` -> nested dict of JAX arrays (the funcnn parameter layout)."""
    import jax

    tree: dict[str, Any] = {}
    for k, v in flat.items():
        *path, leaf = k.split(".")
        node = tree
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = jax.device_put(np.asarray(v))
    return tree


def jax_batches(data: list[tuple[np.ndarray, ...]]) -> list[tuple[Any, ...]]:
    """The batches as JAX arrays on the default device."""
    import jax

    # Integer labels go in as int32, JAX's default integer type.
    return [tuple(jax.device_put(a.astype(np.int32) if a.dtype == np.int64 else a) for a in b) for b in data]


def torch_batches(data: list[tuple[np.ndarray, ...]], device: str) -> list[tuple[Any, ...]]:
    """The batches as torch tensors on ``device``."""
    import torch

    return [tuple(torch.from_numpy(np.array(a)).to(device) for a in b) for b in data]


def torch_loop(
    model: Any, criterion: Any, optimizer: Any, data: list[tuple[Any, ...]], steps: int, device: str
) -> Bench:
    """The PyTorch eager training loop over ``data`` as a `Bench`."""
    last: list[Any] = [None]

    def run() -> None:
        for i in range(steps):
            x, y = data[i % len(data)]
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        torch_sync(device)
        last[0] = loss

    return Bench(run, steps, lambda: float(last[0].item()))


def jax_loop(step: Callable[..., Any], params: Any, opt_state: Any, data: list[tuple[Any, ...]], steps: int) -> Bench:
    """A loop over a compiled ``step(params, opt_state, x, y) -> (params, opt_state, loss)``.

    The step is dispatched ``steps`` times without waiting (JAX runs asynchronously, as
    CUDA does); the call waits once for the last loss, like ``torch.cuda.synchronize``.
    """
    import jax

    carry: list[Any] = [params, opt_state, None]

    def run() -> None:
        p, s, loss = carry
        for i in range(steps):
            x, y = data[i % len(data)]
            p, s, loss = step(p, s, x, y)
        jax.block_until_ready(loss)
        carry[:] = p, s, loss

    return Bench(run, steps, lambda: float(carry[2]))


def raw_train_step(loss_fn: Callable[..., Any], optimizer: Any) -> Callable[..., Any]:
    """The hand-written jax+optax step of every raw-JAX version, not yet compiled:
    ``step(params, opt_state, x, y) -> (params, opt_state, loss)``."""
    import jax
    import optax

    def train_step(p: Any, s: Any, x: Any, y: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, s = optimizer.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    return train_step


def raw_jax_bench(
    loss_fn: Callable[..., Any],
    optimizer: Any,
    weights: Mapping[str, np.ndarray],
    data: list[tuple[np.ndarray, ...]],
    steps: int,
) -> Bench:
    """A raw-JAX version as a `Bench`: `raw_train_step` jit-compiled with params and
    optimizer state donated, from ``weights`` (a ``state_dict``), over ``data``."""
    import jax

    params = jax_tree(weights)
    step = jax.jit(raw_train_step(loss_fn, optimizer), donate_argnums=(0, 1))
    return jax_loop(step, params, optimizer.init(params), jax_batches(data), steps)
