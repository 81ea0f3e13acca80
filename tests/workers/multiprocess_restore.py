"""Worker for tests/test_parallel.py: restore a checkpoint into a tree spread over two processes.

``python multiprocess_restore.py COORDINATOR NUM_PROCESSES PROCESS_ID CHECKPOINT``
restores into ``like`` leaves replicated over every device of every process and
prints what this process holds as JSON.
"""

from __future__ import annotations

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from funcnn import checkpoint, parallel


def main() -> None:
    coordinator, nproc, pid, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    parallel.initialize(coordinator, nproc, pid, timeout_s=60)
    mesh = parallel.data_mesh()
    like = {"w": parallel.replicate(jnp.zeros((2, 3)), mesh), "k": parallel.replicate(jax.random.key(0), mesh), "s": 0}
    out = checkpoint.restore(path, like=like)
    print(
        json.dumps(
            {
                "replicated": bool(out["w"].sharding.is_fully_replicated),
                "w": np.asarray(out["w"].addressable_data(0)).tolist(),
                "k": np.asarray(jax.random.key_data(out["k"]).addressable_data(0)).tolist(),
                "s": out["s"],
            }
        ),
        flush=True,
    )
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
