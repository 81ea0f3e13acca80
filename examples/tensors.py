"""Tensors: the article's first section, spelled with ``jax.numpy``.

For a PyTorch user, ``torch.tensor(...)`` is ``jnp.array(...)``, and arithmetic,
indexing and broadcasting read the same. Four things differ:

* defaults are 32-bit: ``jnp.array([1, 2])`` is ``int32`` and floats are ``float32``
  (PyTorch: ``int64``/``float32``) unless ``jax_enable_x64`` is switched on;
* JAX places arrays on its default device (a GPU when there is one); ``jax.device_put``
  plays the role of ``.to(device)``;
* ``jnp.array(numpy_array)`` copies, like ``torch.tensor(numpy_array)`` (there is no
  ``torch.from_numpy`` that shares a buffer you could change behind JAX's back);
* arrays are immutable: ``x[0] = 10`` becomes ``x = x.at[0].set(10)``, which returns
  a new array (under ``jit`` XLA updates in place when it can).

Run it: ``python -m examples.tensors`` or ``python -m examples run tensors``.
"""

from __future__ import annotations

import argparse
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._cli import section


def creation() -> jax.Array:
    """The article's ``torch.tensor([[1, 2], [3, 4], [5, 6]])``; returns the int32 (3, 2) array."""
    section("Creating an array")
    x = jnp.array([[1, 2], [3, 4], [5, 6]])
    print("x = jnp.array([[1, 2], [3, 4], [5, 6]])")
    print(x)
    print(f"repr: {x!r}")
    print(f"shape {x.shape}, dtype {x.dtype}, ndim {x.ndim}, size {x.size}")
    print(f"jnp.zeros((2, 3)):\n{jnp.zeros((2, 3))}")
    print(f"jnp.arange(5): {jnp.arange(5)}")
    print(f"jnp.linspace(0, 1, 5): {jnp.linspace(0, 1, 5)}")
    return x


def arithmetic() -> tuple[jax.Array, jax.Array]:
    """Elementwise ``+`` and ``*`` of ``[1, 2, 3]`` and ``[4, 5, 6]``; returns both int32 (3,) results."""
    section("Elementwise arithmetic")
    x = jnp.array([1, 2, 3])
    y = jnp.array([4, 5, 6])
    added = x + y
    multiplied = x * y
    print(f"x + y = {added}")  # torch: tensor([5, 7, 9])
    print(f"x * y = {multiplied}")  # torch: tensor([ 4, 10, 18])
    print(f"x @ y = {x @ y}  (dot product)")
    print(f"x.sum() = {x.sum()}, x.mean() = {x.mean()}, jnp.sqrt(x) = {jnp.sqrt(x)}")
    print(f"broadcasting: x[:, None] * y[None, :] =\n{x[:, None] * y[None, :]}")
    return added, multiplied


def dtypes() -> jax.Array:
    """Default dtypes, explicit dtypes, casting and promotion; returns ``x`` cast to float32."""
    section("Data types and casting")
    ints = jnp.array([1, 2, 3])
    floats = jnp.array([1.0, 2.0, 3.0])
    print(f"jnp.array([1, 2, 3]).dtype = {ints.dtype}  (torch: int64; JAX uses 32 bits unless jax_enable_x64 is on)")
    print(f"jnp.array([1.0, 2.0, 3.0]).dtype = {floats.dtype}")
    cast = ints.astype(jnp.float32)
    print(f"ints.astype(jnp.float32) = {cast}  (torch: x.float() or x.to(torch.float32))")
    print(f"jnp.array([1, 2], dtype=jnp.bfloat16).dtype = {jnp.array([1, 2], dtype=jnp.bfloat16).dtype}")
    print(f"promotion: int32 + float32 -> {(ints + floats).dtype}; int32 / 2 -> {(ints / 2).dtype}")
    print(f"jax_enable_x64 is {'on' if jax.config.read('jax_enable_x64') else 'off'}")
    return cast


def devices() -> jax.Array:
    """Where arrays live and how to move them; returns an array placed with ``jax.device_put``."""
    section("Devices")
    print(f"jax.devices() = {jax.devices()}")
    print(f"jax.default_backend() = {jax.default_backend()!r}")
    x = jnp.ones(3)
    print(f"a new array lives on {x.devices()}")
    target = jax.devices()[-1]
    moved = jax.device_put(x, target)  # torch: x.to("cuda:0")
    print(f"jax.device_put(x, {target}) -> on {moved.devices()}")
    host = jax.device_get(moved)  # torch: x.cpu().numpy()
    print(f"jax.device_get(...) -> {type(host).__module__}.{type(host).__name__} {host}")
    if jax.default_backend() == "cpu":
        print("no accelerator found: everything runs on the CPU (install jax[cuda12] for NVIDIA GPUs)")
    return moved


def numpy_round_trip() -> np.ndarray:
    """NumPy to JAX and back; returns the NumPy copy of the JAX array."""
    section("NumPy round trip")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = jnp.array(a)  # a copy on the default device, like torch.tensor(a)
    print(f"jnp.array(numpy (2, 3) float32) -> jax.Array: {isinstance(x, jax.Array)}, {x.dtype} {x.shape}")
    a[0, 0] = 100.0
    print(f"changing the NumPy array afterwards leaves the JAX array alone: x[0, 0] = {x[0, 0]}")
    back = np.asarray(x)  # read-only when it shares JAX's buffer
    print(f"np.asarray(x) -> numpy.ndarray {back.dtype} {back.shape}, writeable={back.flags.writeable}")
    copy = np.array(x)  # an ordinary, writable NumPy array
    print(
        f"np.array(x) -> writeable={copy.flags.writeable}; equal to the original: {bool((copy == np.asarray(x)).all())}"
    )
    print(f"NumPy float64 input becomes {jnp.array(np.zeros(2)).dtype} while jax_enable_x64 is off")
    return copy


def immutability() -> jax.Array:
    """``x[0] = 10`` fails; ``x.at[0].set(10)`` returns a new array (int32 (3,)), which is returned."""
    section("Immutability")
    x = jnp.array([1, 2, 3])
    try:
        x[0] = 10  # type: ignore[index]
    except TypeError as error:
        print(f"x[0] = 10 -> TypeError: {str(error).split('.')[0]}")
    y = x.at[0].set(10)
    print(f"y = x.at[0].set(10) -> y = {y}, x is still {x}")
    print(f"x.at[1].add(5) = {x.at[1].add(5)}, x.at[::2].multiply(2) = {x.at[::2].multiply(2)}")
    print("pure updates are what make jit, grad and vmap safe; inside jit XLA reuses the buffer when it can")
    return y


def build_parser() -> argparse.ArgumentParser:
    """The command line of this example (no options besides ``--help``)."""
    return argparse.ArgumentParser(prog="python -m examples.tensors", description=(__doc__ or "").partition("\n")[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part of the tensors example; returns the exit status 0."""
    build_parser().parse_args(argv)
    creation()
    arithmetic()
    dtypes()
    devices()
    numpy_round_trip()
    immutability()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
