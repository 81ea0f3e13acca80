"""Worker for tests/test_parallel.py: runs in a subprocess with forced host devices.

Trains the same model for a few steps on one device and data-parallel over every
device (replicated and FSDP-sharded), then prints the largest parameter difference
as JSON. Usage: ``python data_parallel.py MODEL`` with MODEL in {mlp, cnn_bn}.
"""

from __future__ import annotations

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

import funcnn.nn.functional as F
from funcnn import nn, parallel, train


def build(name: str):
    if name == "mlp":
        model = nn.Sequential(nn.Linear(6, 256), nn.ReLU(), nn.Linear(256, 3))
        x = np.random.default_rng(0).standard_normal((16, 6)).astype(np.float32)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
        )
        x = np.random.default_rng(0).standard_normal((16, 1, 6, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 16).astype(np.int32)
    return model, x, y


def run(name: str, mesh, fsdp: bool = False):
    model, x, y = build(name)
    opt = optax.sgd(0.1, momentum=0.9)
    ts = train.TrainState.create(model, opt, jax.random.key(0))
    loss_fn = train.model_loss(model, lambda out, t: F.cross_entropy(out, t))
    if mesh is None:
        step = train.make_train_step(loss_fn, opt, stateful=True, has_aux=True)
        batch = (jnp.asarray(x), jnp.asarray(y))
    else:
        step = parallel.make_train_step(loss_fn, opt, mesh, stateful=True, has_aux=True, fsdp=fsdp)
        place = parallel.shard_params if fsdp else parallel.replicate
        ts = ts._replace(params=place(ts.params, mesh), opt_state=place(ts.opt_state, mesh))
        ts = ts._replace(state=parallel.replicate(ts.state, mesh), key=parallel.replicate(ts.key, mesh))
        batch = parallel.shard_batch((x, y), mesh)
    for _ in range(4):
        ts, loss, _ = step(ts, *batch)
    return jax.device_get((ts.params, ts.state)), float(loss)


def errors() -> dict:
    mesh = parallel.data_mesh()
    out = {}
    try:
        parallel.shard_batch(np.zeros((6, 2), np.float32), mesh)
    except ValueError as err:
        out["indivisible"] = str(err)
    try:
        parallel.shard_batch(np.zeros((8, 2), np.float32), mesh, axis_name="model")
    except ValueError as err:
        out["axis"] = str(err)
    sharded = parallel.shard_params({"w": np.zeros((64, 32), np.float32)}, mesh)
    out["fsdp_spec"] = list(sharded["w"].sharding.spec)
    return out


def main() -> None:
    name = sys.argv[1]
    if name == "errors":
        print(json.dumps(errors()))
        return
    ref, ref_loss = run(name, None)
    mesh = parallel.data_mesh()
    out = {"devices": len(jax.devices())}
    for label, fsdp in (("replicated", False), ("fsdp", True)):
        got, loss = run(name, mesh, fsdp)
        diffs = jax.tree.leaves(
            jax.tree.map(
                lambda a, b: (
                    float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) if np.size(a) else 0.0
                ),
                ref,
                got,
            )
        )
        out[label] = max(diffs)
        out[label + "_loss_diff"] = abs(loss - ref_loss)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
