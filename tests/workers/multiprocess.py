"""Worker for tests/test_parallel.py: one process of a multi-process data-parallel run.

``python multiprocess.py COORDINATOR NUM_PROCESSES PROCESS_ID OUT.npz`` joins JAX's
distributed runtime, trains an MLP on its own shard of a fixed global batch, and
(process 0) writes the final parameters. ``NUM_PROCESSES == 0`` trains the same
model in this single process for reference.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

import funcnn
from funcnn import nn, parallel, train


def data():
    g = np.random.default_rng(0)
    return g.standard_normal((32, 5)).astype(np.float32), g.standard_normal((32, 2)).astype(np.float32)


def main() -> None:
    coordinator, nproc, pid, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if nproc:
        parallel.initialize(coordinator, nproc, pid, timeout_s=60)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = optax.adam(1e-2)
    params = model.init(jax.random.key(0))
    x, y = data()

    def loss_fn(p, xb, yb):
        return jnp.mean((model.apply(p, xb) - yb) ** 2)

    if nproc:
        mesh = parallel.data_mesh()
        params = parallel.replicate(params, mesh)
        opt_state = parallel.replicate(opt.init(params), mesh)
        step = parallel.make_train_step(loss_fn, opt, mesh)
        batch = parallel.global_batch(parallel.process_shard((x, y)), mesh)
    else:
        opt_state = opt.init(params)
        step = train.make_train_step(loss_fn, opt)
        batch = (jnp.asarray(x), jnp.asarray(y))
    for _ in range(5):
        params, opt_state, loss = step(params, opt_state, *batch)
    flat = funcnn.state_dict(
        jax.tree.map(lambda a: np.asarray(a.addressable_data(0)) if nproc else np.asarray(a), params)
    )
    if pid == 0:
        np.savez(out, **flat)
    if nproc:
        jax.distributed.shutdown()


if __name__ == "__main__":
    main()
