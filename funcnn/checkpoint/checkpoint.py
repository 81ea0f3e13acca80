"""Save and restore any pytree of arrays and scalars: the whole training state.

``save(path, tree)`` writes one safetensors file, atomically. Each leaf is a tensor
named by its key path (``jax.tree_util.keystr``, e.g. ``"['params']['0']['weight']"``);
the header's metadata holds a manifest (every path with its shape and dtype, which
leaves are PRNG keys and their implementation, the funcnn version) and a SHA-256 of
the whole file. Leaves may be JAX arrays, typed PRNG keys (stored as
``jax.random.key_data`` and rebuilt with ``wrap_key_data``), NumPy arrays and scalars,
and Python ``bool``/``int``/``float`` (stored as bool/int64/float64).

``restore(path, like=tree)`` checks the file (header, checksum) and compares its
manifest with ``like``, the tree you expect (real arrays or ``jax.ShapeDtypeStruct``),
before building anything; any missing or extra path, or a shape, dtype or key
mismatch, is refused with one error naming every such path. The result has
``like``'s structure and leaf kinds: JAX arrays where ``like`` has JAX arrays (placed
with ``like``'s sharding when it spans several devices), NumPy where it has NumPy,
Python scalars where it has Python scalars.

Examples:
  >>> import os, tempfile
  >>> import jax, jax.numpy as jnp, optax
  >>> from funcnn import checkpoint, nn
  >>> model = nn.Linear(3, 1)
  >>> params = model.init(jax.random.key(0))
  >>> opt_state = optax.adam(1e-3).init(params)
  >>> tree = {"params": params, "opt_state": opt_state, "key": jax.random.key(1), "step": 10}
  >>> with tempfile.TemporaryDirectory() as d:
  ...     checkpoint.save(os.path.join(d, "ckpt.safetensors"), tree)
  ...     back = checkpoint.restore(os.path.join(d, "ckpt.safetensors"), like=tree)
  >>> back["step"], bool((back["params"]["weight"] == params["weight"]).all())
  (10, True)
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._version import __version__
from . import safetensors
from ._json import JSONLimitError, bounded_loads

MANIFEST_KEY = "funcnn.manifest"
FORMAT = "funcnn.checkpoint"
FORMAT_VERSION = 1
_PY_DTYPES = {bool: "bool", int: "int64", float: "float64"}


class Spec(NamedTuple):
    """What one leaf looks like on disk: data shape and dtype, and its key implementation."""

    shape: tuple[int, ...]
    dtype: str
    key: str | None = None

    def __str__(self) -> str:
        text = f"{self.dtype}{list(self.shape)}"
        return f"PRNG key ({self.key}) with data {text}" if self.key else text


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _key_spec(leaf: Any) -> Spec:
    impl: list[str] = []

    def data(k: jax.Array) -> jax.Array:
        impl.append(str(jax.random.key_impl(k)))
        return jax.random.key_data(k)

    out = jax.eval_shape(data, leaf)
    return Spec(tuple(out.shape), np.dtype(out.dtype).name, impl[0])


def _python_type(leaf: Any) -> type | None:
    for kind in _PY_DTYPES:  # bool before int: True is an int too
        if isinstance(leaf, kind) and not isinstance(leaf, np.generic):
            return kind
    return None


def _expected(path: str, leaf: Any) -> Spec:
    """The spec that ``like``'s leaf asks for."""
    if _is_key(leaf):
        return _key_spec(leaf)
    if isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct, np.ndarray, np.generic)):
        return Spec(tuple(leaf.shape), np.dtype(leaf.dtype).name)
    kind = _python_type(leaf)
    if kind is None:
        raise TypeError(
            f"restore: `like` leaf {path} is a {type(leaf).__name__}; leaves must be arrays, "
            f"jax.ShapeDtypeStruct or Python bool/int/float"
        )
    return Spec((), _PY_DTYPES[kind])


def _python_scalar(owner: str, name: str, leaf: Any, dtype: str) -> np.ndarray:
    """A Python bool/int/float as a 0-d array of ``dtype``; an int outside int64 is refused by name."""
    try:
        return np.asarray(leaf, dtype=dtype)
    except OverflowError:
        raise ValueError(
            f"{owner}: leaf {name} is the int {leaf}, outside the int64 range [-2**63, 2**63 - 1] a checkpoint "
            f"stores Python ints in; store it as a float, split it into several ints, or keep it in `metadata` as "
            f"a string"
        ) from None


def save(path: str | os.PathLike[str], tree: Any, *, metadata: Mapping[str, str] | None = None) -> None:
    """Write a pytree of arrays and scalars to one checkpoint file, atomically.

    Args:
      path: the file to write (conventionally ``*.safetensors``); its directory is
        created if needed. An existing file is replaced only once the new one is
        complete.
      tree: any pytree (dicts, lists, tuples, NamedTuples, optax states) whose leaves
        are JAX or NumPy arrays (any shape and dtype safetensors supports), typed PRNG
        keys, NumPy scalars or Python bool/int/float.
      metadata: optional strings stored in the header (read with `load_metadata`).

    Raises:
      TypeError: a leaf of another type (naming its path).
      ValueError: a Python int outside the int64 range (naming its path).
      OSError: the directory cannot be written.

    Examples:
      >>> import os, tempfile
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import checkpoint
      >>> tree = {"w": jnp.ones((2, 3)), "step": 7, "key": jax.random.key(0)}
      >>> with tempfile.TemporaryDirectory() as d:
      ...     checkpoint.save(os.path.join(d, "ckpt.safetensors"), tree)
      ...     out = checkpoint.restore(os.path.join(d, "ckpt.safetensors"), like=tree)
      >>> out["w"].shape, out["w"].dtype, out["step"]
      ((2, 3), dtype('float32'), 7)
    """
    owner = "save"
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    names = [jax.tree_util.keystr(p) for p, _ in flat]
    specs: list[Spec] = []
    values: list[Any] = []
    for name, (_, leaf) in zip(names, flat):
        if _is_key(leaf):
            specs.append(_key_spec(leaf))
            values.append(jax.random.key_data(leaf))
        elif isinstance(leaf, (jax.Array, np.ndarray, np.generic)):
            specs.append(Spec(tuple(leaf.shape), np.dtype(leaf.dtype).name))
            values.append(leaf)
        elif (kind := _python_type(leaf)) is not None:
            specs.append(Spec((), _PY_DTYPES[kind]))
            values.append(_python_scalar(owner, name, leaf, _PY_DTYPES[kind]))
        else:
            raise TypeError(
                f"{owner}: leaf {name} is a {type(leaf).__name__}, which a checkpoint cannot hold; leaves must be "
                f"arrays, PRNG keys or Python bool/int/float (keep other values in `metadata` as strings)"
            )
        if safetensors.dtype_code(specs[-1].dtype) is None:
            raise TypeError(f"{owner}: leaf {name} has dtype {specs[-1].dtype}, which safetensors cannot store")
    host = jax.device_get(values)  # one batched transfer
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "funcnn": __version__,
        "leaves": [
            {"path": n, "shape": list(s.shape), "dtype": s.dtype, **({"key": s.key} if s.key else {})}
            for n, s in zip(names, specs)
        ],
    }
    meta = safetensors.check_metadata(owner, metadata)
    meta[MANIFEST_KEY] = json.dumps(manifest, separators=(",", ":"))
    safetensors.write(owner, path, dict(zip(names, host)), meta)


def _short(value: Any, *, quote: bool = True) -> str:
    """A value from a file, shown in an error: its repr (or str) cut to 60 characters."""
    text = repr(value) if quote else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _manifest(path: str, text: str, max_values: int) -> tuple[Any, dict[str, Spec]]:
    """Parse and check a manifest: ``(version, {path: Spec})``; refuse anything malformed by name.

    ``max_values`` bounds the JSON values before parsing: an honest manifest has about
    10 plus each leaf's number of dimensions per leaf, one leaf per tensor.
    """

    def malformed(reason: str) -> ValueError:
        return ValueError(f"restore: {path!r} has a malformed manifest ({reason}); it was not written by funcnn")

    try:
        manifest = bounded_loads(text, max_depth=4, max_values=max_values)
    except JSONLimitError as e:
        raise malformed(f"not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise malformed(f"format {_short(got)}, expected {FORMAT!r}")
    version = manifest.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise malformed(f"version {_short(version)} is not a positive integer")
    if version > FORMAT_VERSION:
        written_by = manifest.get("funcnn")
        raise ValueError(
            f"restore: {path!r} uses checkpoint format version {version}, newer than this funcnn reads "
            f"({FORMAT_VERSION}); upgrade funcnn (it was written by funcnn {_short(written_by, quote=False)})"
        )
    leaves = manifest.get("leaves")
    if not isinstance(leaves, list):
        raise malformed("`leaves` is not a list")
    specs: dict[str, Spec] = {}
    for i, m in enumerate(leaves):
        ok = isinstance(m, dict) and set(m) in ({"path", "shape", "dtype"}, {"path", "shape", "dtype", "key"})
        ok = ok and isinstance(m["path"], str) and isinstance(m["dtype"], str) and isinstance(m.get("key", ""), str)
        ok = ok and isinstance(m["shape"], list) and all(type(d) is int and d >= 0 for d in m["shape"])
        if not ok or m["path"] in specs:
            raise malformed(f"leaf {i} is not a unique {{path, shape, dtype[, key]}} record")
        specs[m["path"]] = Spec(tuple(m["shape"]), m["dtype"], m.get("key"))
    return version, specs


def _saved_specs(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> dict[str, Spec]:
    text = metadata.get(MANIFEST_KEY)
    if text is None:
        raise ValueError(
            f"restore: {path!r} has no funcnn manifest, so it is a plain safetensors file, not a checkpoint "
            f"from funcnn.checkpoint.save; read weights files with funcnn.checkpoint.load_weights"
        )
    _, specs = _manifest(path, text, 64 + sum(16 + a.ndim for a in tensors.values()))
    on_disk = {n: Spec(tuple(a.shape), a.dtype.name) for n, a in tensors.items()}
    if set(on_disk) != set(specs) or any(on_disk[n] != s._replace(key=None) for n, s in specs.items()):
        raise ValueError(
            f"restore: {path!r} has a manifest that disagrees with its tensors; it was not written by funcnn"
        )
    return specs


def _build(leaf_like: Any, spec: Spec, value: np.ndarray) -> Any:
    kind = _python_type(leaf_like)
    if kind is not None:
        return kind(value)
    if isinstance(leaf_like, np.generic):
        return value[()]
    if isinstance(leaf_like, np.ndarray):
        return value
    sharding = getattr(leaf_like, "sharding", None)
    spread = sharding is not None and len(sharding.device_set) > 1
    if spread and not sharding.is_fully_addressable:
        # Multi-process: every process read the same file and fills its own devices.
        data = jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])
        return jax.random.wrap_key_data(data, impl=spec.key) if spec.key else data
    out = jax.random.wrap_key_data(value, impl=spec.key) if spec.key else jnp.asarray(value)
    return jax.device_put(out, sharding) if spread else out


def restore(path: str | os.PathLike[str], *, like: Any) -> Any:
    """Read a checkpoint written by `save`, checked against the expected tree ``like``.

    Args:
      path: the checkpoint file.
      like: a pytree with the saved structure: the tree you saved, or one built the
        same way (e.g. freshly initialised params and optimizer state), or its
        ``jax.eval_shape``. Only structure, shapes, dtypes and leaf kinds are used.

    Returns:
      a tree with ``like``'s structure holding the saved values, bit for bit.

    Raises:
      ValueError: the file is truncated or corrupted (checksum or header), is not a
        funcnn checkpoint (or its manifest is malformed), is not a regular file (a
        FIFO or device; a symlink named here is followed, unlike in
        `CheckpointManager`), or does not match ``like`` (naming every missing, extra
        and mismatched path). Nothing is half-restored.
      FileNotFoundError: there is no such file.

    Examples:
      >>> import os, tempfile
      >>> import jax.numpy as jnp
      >>> from funcnn import checkpoint
      >>> with tempfile.TemporaryDirectory() as d:
      ...     path = os.path.join(d, "ckpt.safetensors")
      ...     checkpoint.save(path, {"w": jnp.arange(3.0)})
      ...     checkpoint.restore(path, like={"w": jnp.zeros(3)})["w"].tolist()
      [0.0, 1.0, 2.0]
    """
    return restore_file("restore", path, like)


def restore_file(owner: str, path: str | os.PathLike[str], like: Any, *, follow_symlinks: bool = True) -> Any:
    """`restore`, with the file opened by ``owner`` (and symlinks refused unless ``follow_symlinks``)."""
    path = os.fspath(path)
    tensors, metadata = safetensors.read(owner, path, follow_symlinks=follow_symlinks)
    saved = _saved_specs(path, tensors, metadata)
    flat, treedef = jax.tree_util.tree_flatten_with_path(like)
    names = [jax.tree_util.keystr(p) for p, _ in flat]
    want = {name: _expected(name, leaf) for name, (_, leaf) in zip(names, flat)}
    problems = []
    for name, spec in want.items():
        if name not in saved:
            problems.append(f"{name}: missing from the checkpoint (`like` expects {spec})")
        elif saved[name] != spec:
            problems.append(f"{name}: the checkpoint has {saved[name]}, `like` expects {spec}")
    problems += [
        f"{name}: in the checkpoint ({spec}) but not in `like`" for name, spec in saved.items() if name not in want
    ]
    if problems:
        raise ValueError(
            f"restore: {path!r} does not match `like` ({len(problems)} paths differ); nothing was restored:\n  "
            + "\n  ".join(problems)
            + "\nPass as `like` a tree of the same structure as the one saved (same model, optimizer and entries)"
        )
    leaves = [_build(leaf, want[name], tensors[name]) for name, (_, leaf) in zip(names, flat)]
    return jax.tree_util.tree_unflatten(treedef, leaves)
