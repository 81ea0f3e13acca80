"""Data-parallel training on JAX's own sharding and distributed runtime.

funcnn does not run its own collective layer: a training step is an ordinary
``jax.jit`` program whose batch is sharded along a mesh axis and whose parameters are
replicated (or, with ``fsdp=True``, sharded along the same axis). XLA's partitioner
inserts the gradient all-reduce, and every reduction over the batch axis is global —
so ``BatchNorm`` statistics are the statistics of the whole global batch, exactly as
PyTorch's ``SyncBatchNorm`` computes them, with no special layer.

The same code runs on one device, on several local devices, and on several processes
(one per host or per GPU, after `initialize`), where each process feeds its own shard
of the global batch (`global_batch`).

Example (any number of devices; one works too):
  >>> import jax, jax.numpy as jnp, optax
  >>> from funcnn import nn, parallel
  >>> import funcnn.nn.functional as F
  >>> mesh = parallel.data_mesh()
  >>> model = nn.Linear(3, 1)
  >>> opt = optax.sgd(0.1)
  >>> params = parallel.replicate(model.init(jax.random.key(0)), mesh)
  >>> opt_state = parallel.replicate(opt.init(params), mesh)
  >>> step = parallel.make_train_step(lambda p, x, y: F.mse_loss(model.apply(p, x), y), opt, mesh)
  >>> x, y = parallel.shard_batch((jnp.ones((8, 3)), jnp.zeros((8, 1))), mesh)
  >>> params, opt_state, loss = step(params, opt_state, x, y)
  >>> loss.shape
  ()
"""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .train.step import make_train_step as _make_train_step

__all__ = [
    "data_mesh",
    "fsdp_specs",
    "global_batch",
    "initialize",
    "make_train_step",
    "process_shard",
    "replicate",
    "shard_batch",
    "shard_params",
]


def data_mesh(devices: Sequence[jax.Device] | None = None, axis_name: str = "data") -> Mesh:
    """A one-axis mesh over ``devices`` (default: every device of every process).

    Returns:
      ``Mesh`` of shape ``{axis_name: len(devices)}``.

    Examples:
      >>> from funcnn import parallel
      >>> mesh = parallel.data_mesh()
      >>> mesh.axis_names
      ('data',)
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("data_mesh: expected at least one device, got an empty list")
    return Mesh(np.asarray(devices), (axis_name,))


def _axis_size(mesh: Mesh, axis_name: str, owner: str) -> int:
    if axis_name not in mesh.shape:
        raise ValueError(
            f"{owner}: mesh has no axis {axis_name!r}; its axes are {list(mesh.shape)}; "
            f"pass axis_name= one of those or build the mesh with data_mesh(axis_name={axis_name!r})"
        )
    return int(mesh.shape[axis_name])


def _place(a: Any, sharding: NamedSharding) -> Any:
    """``jax.device_put(a, sharding)``, also when ``sharding`` spans other processes' devices.

    ``jax.device_put`` refuses to move an array held by this process's devices to a
    sharding with devices of other processes; there every process passes the same
    value and this process fills its own devices from a host copy.
    """
    if sharding.is_fully_addressable or (isinstance(a, jax.Array) and not a.is_fully_addressable):
        return jax.device_put(a, sharding)
    if jax.dtypes.issubdtype(getattr(a, "dtype", None), jax.dtypes.prng_key):
        data = _place(jax.random.key_data(a), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(a))
    host = np.asarray(a)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place every leaf of ``tree`` on every device of ``mesh`` (parameters, optimizer state).

    With several processes, every process calls it with the same values (e.g. from
    the same ``init`` key, or restored from the same checkpoint).

    Examples:
      >>> import jax.numpy as jnp
      >>> from funcnn import parallel
      >>> tree = parallel.replicate({"w": jnp.ones((2, 3))}, parallel.data_mesh())
      >>> tree["w"].sharding.is_fully_replicated
      True
    """
    sharding = NamedSharding(mesh, P())
    return jax.tree.map(lambda a: _place(a, sharding), tree)


def _batch_spec(mesh: Mesh, axis_name: str, x: Any, owner: str) -> NamedSharding:
    n = _axis_size(mesh, axis_name, owner)
    shape = np.shape(x)
    if not shape or shape[0] % n:
        raise ValueError(
            f"{owner}: global batch size {shape[0] if shape else 'of a scalar'} (shape {shape}) is not divisible by the "
            f"{n} devices of mesh axis {axis_name!r}; use a batch size that is a multiple of {n} "
            f"(e.g. DataLoader(..., drop_last=True) with batch_size={n * max(1, (shape[0] if shape else 1) // n)})"
        )
    return NamedSharding(mesh, P(axis_name))


def shard_batch(batch: Any, mesh: Mesh, axis_name: str = "data") -> Any:
    """Split every array of ``batch`` along its first axis over mesh axis ``axis_name``.

    Single-process only (every process would need the whole batch); with several
    processes use `global_batch`.

    Raises:
      ValueError: when a batch size is not divisible by the number of devices.

    Examples:
      >>> import numpy as np
      >>> from funcnn import parallel
      >>> x, y = parallel.shard_batch((np.zeros((8, 3)), np.zeros(8)), parallel.data_mesh())
      >>> x.shape, y.shape
      ((8, 3), (8,))
    """
    return jax.tree.map(lambda x: jax.device_put(x, _batch_spec(mesh, axis_name, x, "shard_batch")), batch)


def global_batch(local_batch: Any, mesh: Mesh, axis_name: str = "data") -> Any:
    """Assemble a global batch from each process's local shard (multi-process data parallel).

    Each process passes its own ``local_batch`` (shape ``(B_local, ...)``); the result
    is one global array of shape ``(B_local * process_count, ...)`` sharded over
    ``axis_name``. With one process this equals `shard_batch`.

    Examples:
      >>> import numpy as np
      >>> from funcnn import parallel
      >>> xb = parallel.global_batch(np.zeros((4, 3), np.float32), parallel.data_mesh())
      >>> xb.shape  # 4 samples per process x 1 process
      (4, 3)
    """
    n = _axis_size(mesh, axis_name, "global_batch")

    def one(x: Any) -> jax.Array:
        x = np.asarray(x)
        total = x.shape[0] * jax.process_count()
        if total % n:
            raise ValueError(
                f"global_batch: global batch size {total} ({x.shape[0]} per process x {jax.process_count()} "
                f"processes) is not divisible by the {n} devices of mesh axis {axis_name!r}"
            )
        return jax.make_array_from_process_local_data(NamedSharding(mesh, P(axis_name)), x, (total, *x.shape[1:]))

    return jax.tree.map(one, local_batch)


def process_shard(arrays: Any, *, process_index: int | None = None, process_count: int | None = None) -> Any:
    """This process's contiguous slice of a data set (first axis), for per-host loaders.

    Every process gets ``len // process_count`` samples (the remainder is dropped so
    that all processes run the same number of steps).

    Examples:
      >>> import numpy as np
      >>> from funcnn import parallel
      >>> parallel.process_shard(np.arange(10), process_index=1, process_count=3).tolist()
      [3, 4, 5]
    """
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    if not 0 <= index < count:
        raise ValueError(f"process_shard: process_index must be in [0, {count}), got {index}")
    leaves = jax.tree.leaves(arrays)
    n = min(np.shape(a)[0] for a in leaves)
    per = n // count
    if per == 0:
        raise ValueError(f"process_shard: {n} samples cannot be split over {count} processes")
    return jax.tree.map(lambda a: a[index * per : (index + 1) * per], arrays)


def fsdp_specs(tree: Any, mesh: Mesh, axis_name: str = "data", min_size: int = 2**10) -> Any:
    """FSDP-style partition specs: each leaf sharded along its largest axis divisible by the device count.

    Leaves smaller than ``min_size`` elements, or with no divisible axis, stay replicated.

    Examples:
      >>> import numpy as np
      >>> from funcnn import parallel
      >>> specs = parallel.fsdp_specs({"w": np.zeros((64, 32)), "b": np.zeros(32)}, parallel.data_mesh())
      >>> tuple(specs["b"])  # small leaves stay replicated
      ()
    """
    n = _axis_size(mesh, axis_name, "fsdp_specs")

    def spec(a: Any) -> P:
        shape = np.shape(a)
        if n == 1 or math.prod(shape) < min_size:
            return P()
        for axis in sorted(range(len(shape)), key=lambda i: -shape[i]):
            if shape[axis] % n == 0:
                return P(*([None] * axis + [axis_name]))
        return P()

    return jax.tree.map(spec, tree)


def shard_params(tree: Any, mesh: Mesh, axis_name: str = "data", min_size: int = 2**10) -> Any:
    """Place ``tree`` with `fsdp_specs` (parameters and optimizer state for models that do not fit one device).

    Examples:
      >>> import numpy as np
      >>> from funcnn import parallel
      >>> parallel.shard_params({"w": np.zeros((64, 32), np.float32)}, parallel.data_mesh())["w"].shape
      (64, 32)
    """
    specs = fsdp_specs(tree, mesh, axis_name, min_size)
    return jax.tree.map(lambda a, s: _place(a, NamedSharding(mesh, s)), tree, specs)


def make_train_step(
    loss_fn: Callable[..., Any],
    optimizer: optax.GradientTransformation,
    mesh: Mesh,
    *,
    axis_name: str = "data",
    fsdp: bool = False,
    **kwargs: Any,
) -> Callable[..., Any]:
    """`funcnn.train.make_train_step` over a mesh: the same step, sharded by data.

    Inputs must already be placed: parameters and optimizer state with `replicate`
    (or `shard_params` when ``fsdp=True``), batches with `shard_batch` or
    `global_batch`. Outputs keep the same placement, so the step compiles once.

    Args:
      loss_fn: as for `funcnn.train.make_train_step`.
      optimizer: as for `funcnn.train.make_train_step`.
      **kwargs: as for `funcnn.train.make_train_step` (``has_aux``, ``stateful``,
        ``donate``).
      mesh: the device mesh, e.g. `data_mesh()`.
      axis_name: the mesh axis the batch is split along.
      fsdp: keep parameters and optimizer state sharded along ``axis_name`` (see
        `fsdp_specs`) instead of replicated.

    Returns:
      the step, with the signature of the single-device step.

    Examples:
      >>> import jax, jax.numpy as jnp, optax
      >>> from funcnn import nn, parallel
      >>> mesh = parallel.data_mesh()
      >>> model, opt = nn.Linear(2, 1), optax.sgd(0.1)
      >>> params = parallel.replicate(model.init(jax.random.key(0)), mesh)
      >>> opt_state = parallel.replicate(opt.init(params), mesh)
      >>> step = parallel.make_train_step(lambda p, x: model.apply(p, x).mean(), opt, mesh)
      >>> params, opt_state, loss = step(params, opt_state, parallel.shard_batch(jnp.ones((4, 2)), mesh))
      >>> loss.shape
      ()
    """
    _axis_size(mesh, axis_name, "parallel.make_train_step")

    def placed(tree: Any) -> Any:
        if not fsdp:
            return jax.tree.map(lambda a: jax.lax.with_sharding_constraint(a, NamedSharding(mesh, P())), tree)
        specs = fsdp_specs(tree, mesh, axis_name)
        return jax.tree.map(lambda a, s: jax.lax.with_sharding_constraint(a, NamedSharding(mesh, s)), tree, specs)

    if kwargs.get("stateful", False):

        def sharded_loss(params: Any, state: Any, key: Any, *batch: Any) -> Any:
            return loss_fn(placed(params), state, key, *batch)

    else:

        def sharded_loss(params: Any, *batch: Any) -> Any:
            return loss_fn(placed(params), *batch)

    return _make_train_step(sharded_loss, optimizer, place=placed, **kwargs)


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout_s: int = 60,
    local_device_ids: Sequence[int] | None = None,
) -> None:
    """Start JAX's distributed runtime for multi-process (multi-host) training.

    Arguments default to the environment variables ``FUNCNN_COORDINATOR``
    (``host:port`` of process 0), ``FUNCNN_NUM_PROCESSES`` and ``FUNCNN_PROCESS_ID``,
    which ``python -m examples launch`` sets. On CPU, JAX's gloo collectives are
    selected. A process that cannot reach the coordinator fails after ``timeout_s``
    seconds with an error naming the address, instead of hanging.

    Examples:
      >>> from funcnn import parallel
      >>> parallel.initialize("127.0.0.1:1", 2, 1, timeout_s=0)  # nobody listens there
      Traceback (most recent call last):
      ...
      TimeoutError: initialize: process 1 of 2 could not reach the coordinator at 127.0.0.1:1 within 0 s ...
    """
    coordinator_address = coordinator_address or os.environ.get("FUNCNN_COORDINATOR")
    if num_processes is None and "FUNCNN_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["FUNCNN_NUM_PROCESSES"])
    if process_id is None and "FUNCNN_PROCESS_ID" in os.environ:
        process_id = int(os.environ["FUNCNN_PROCESS_ID"])
    if coordinator_address is None or num_processes is None or process_id is None:
        raise ValueError(
            "initialize: expected coordinator_address, num_processes and process_id (or the environment "
            f"variables FUNCNN_COORDINATOR, FUNCNN_NUM_PROCESSES, FUNCNN_PROCESS_ID), got "
            f"coordinator_address={coordinator_address!r}, num_processes={num_processes!r}, process_id={process_id!r}"
        )
    if process_id != 0:
        # JAX's runtime aborts the whole process when it cannot register with the
        # coordinator; probe the address first so the failure is a Python error.
        _wait_for_coordinator(coordinator_address, timeout_s, process_id, num_processes)
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception:  # pragma: no cover - older JAX without the option
        pass
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator_address,
            num_processes=num_processes,
            process_id=process_id,
            local_device_ids=local_device_ids,
            initialization_timeout=timeout_s,
        )
    except Exception as err:  # the runtime raises XlaRuntimeError/RuntimeError with a terse text
        raise TimeoutError(
            f"initialize: process {process_id} of {num_processes} could not join the coordinator at "
            f"{coordinator_address} within {timeout_s} s ({type(err).__name__}: {err}); check that process 0 "
            f"is running and the address is reachable"
        ) from err


def _wait_for_coordinator(address: str, timeout_s: float, process_id: int, num_processes: int) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"initialize: coordinator_address must be 'host:port', got {address!r}")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except OSError as err:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"initialize: process {process_id} of {num_processes} could not reach the coordinator at "
                    f"{address} within {timeout_s} s ({err}); start process 0 first and check the address and port"
                ) from err
            time.sleep(0.2)
