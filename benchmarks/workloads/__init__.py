"""The benchmark workloads, one module each (W1 to W7).

Every timed workload module (``w1_seed``, ``w2_mlp``, ``w3_cnn``, ``w4_lstm``, ``w6_resnet``, ``w7_transformer``) defines

* ``NAME``, ``TITLE``: its id (``"W2"``) and a one-line description;
* ``VARIANTS``: the measurements it makes (``("step",)``; W1 adds ``"fused"``);
* ``SIZES``: mode (``"smoke"``, ``"quick"``, ``"full"``, ``"gpu"``) -> a `Size`;
* ``BARS``: variant -> the speed-ups funcnn must reach against ``torch`` / ``jax``;
* ``flops_per_step(size)``: the model FLOPs of one training step, counted analytically
  (``flops_per_step(size, variant)`` where the variants differ in size);
* ``build(impl, variant, size, device)``: a `Bench` for ``impl`` in ``IMPLS``.

The modules import torch, JAX and funcnn only inside ``build``, so a memory
measurement of one implementation loads only that implementation's libraries.
W5 (``w5_cold_start``) times whole processes and has its own entry point.
"""

from __future__ import annotations

from types import ModuleType

from . import w1_seed, w2_mlp, w3_cnn, w4_lstm, w6_resnet, w7_transformer

__all__ = ["TIMED", "get"]

TIMED: dict[str, ModuleType] = {m.NAME: m for m in (w1_seed, w2_mlp, w3_cnn, w4_lstm, w6_resnet, w7_transformer)}


def get(name: str) -> ModuleType:
    """The timed workload module called ``name`` (``"W1"`` ... ``"W7"``, W5 excepted)."""
    if name not in TIMED:
        raise ValueError(f"benchmarks: unknown workload {name!r}; expected one of {sorted(TIMED)}")
    return TIMED[name]
