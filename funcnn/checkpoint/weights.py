"""Model weights as one PyTorch-compatible ``.safetensors`` file.

``save_weights`` writes ``funcnn.state_dict(params, state)``: the dotted keys, shapes
and layouts of the equivalent ``torch.nn`` module, so PyTorch loads the file with
``module.load_state_dict(safetensors.torch.load_file(path))``. ``load_weights`` reads
such a file, from funcnn or from ``safetensors.torch.save_file(module.state_dict(),
path)``, and checks it against the model with `funcnn.load_state_dict`.

Examples:
  >>> import os, tempfile
  >>> import jax
  >>> from funcnn import nn
  >>> from funcnn.checkpoint import load_weights, save_weights
  >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
  >>> params = model.init(jax.random.key(0))
  >>> with tempfile.TemporaryDirectory() as d:
  ...     save_weights(os.path.join(d, "model.safetensors"), params)
  ...     params2, state = load_weights(os.path.join(d, "model.safetensors"), model)
  >>> bool((params2["0"]["weight"] == params["0"]["weight"]).all())
  True
"""

from __future__ import annotations

import os
from typing import Mapping

from ..nn.module import Module, Params, State
from ..serialization import load_state_dict, state_dict
from . import safetensors
from .checkpoint import MANIFEST_KEY


def save_weights(
    path: str | os.PathLike[str],
    params: Params,
    state: State | None = None,
    *,
    metadata: Mapping[str, str] | None = None,
    model: Module | None = None,
) -> None:
    """Write a model's parameters (and buffers) to ``path`` as safetensors, atomically.

    Args:
      path: the file to write (conventionally ``*.safetensors``).
      params: the parameter tree from ``model.init`` or training.
      state: the model's buffers (BatchNorm running statistics), if any.
      metadata: optional strings stored in the file's header.
      model: the module the weights belong to; needed only when it ties parameters
        (`funcnn.nn.Tied`), so that each shared array is written under every name, as
        PyTorch's ``state_dict()`` reports it.

    Raises:
      TypeError: ``params`` or ``state`` is not a dict tree.
      OSError: the directory cannot be written.

    Examples:
      >>> import os, tempfile
      >>> import jax
      >>> from funcnn import checkpoint, nn
      >>> params = nn.Linear(3, 2).init(jax.random.key(0))
      >>> with tempfile.TemporaryDirectory() as d:
      ...     checkpoint.save_weights(os.path.join(d, "model.safetensors"), params)
      ...     sorted(checkpoint.load_file(os.path.join(d, "model.safetensors")))
      ['bias', 'weight']
    """
    for name, tree in (("params", params), ("state", state)):
        if tree is not None and not isinstance(tree, Mapping):
            raise TypeError(
                f"save_weights: `{name}` must be the nested dict from model.init/init_state, got "
                f"{type(tree).__name__}; for other trees use funcnn.checkpoint.save"
            )
    owner = "save_weights"
    safetensors.write(owner, path, state_dict(params, state, model=model), safetensors.check_metadata(owner, metadata))


def load_weights(path: str | os.PathLike[str], model: Module, strict: bool = True) -> tuple[Params, State]:
    """Read a safetensors weights file and check it against ``model``.

    Args:
      path: a file from `save_weights` or ``safetensors.torch.save_file``.
      model: the funcnn module the weights belong to.
      strict: as in `funcnn.load_state_dict`: when False, missing keys keep fresh
        initial values and unexpected keys are ignored.

    Returns:
      ``(params, state)`` with the model's shapes and dtypes, ready for
      ``model.apply_with_state``.

    Raises:
      ValueError: the file is corrupted, is a full checkpoint, or does not fit the
        model (naming every missing, unexpected and mis-shaped key).

    Examples:
      >>> import os, tempfile
      >>> import jax
      >>> from funcnn import checkpoint, nn
      >>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
      >>> with tempfile.TemporaryDirectory() as d:
      ...     path = os.path.join(d, "model.safetensors")
      ...     checkpoint.save_weights(path, model.init(jax.random.key(0)), model.init_state())
      ...     params, state = checkpoint.load_weights(path, model)
      >>> params["0"]["weight"].shape, state["1"]["running_var"].shape
      ((4, 3), (4,))
    """
    tensors, metadata = safetensors.read("load_weights", path)
    if MANIFEST_KEY in metadata:
        raise ValueError(
            f"load_weights: {os.fspath(path)!r} is a full training checkpoint written by funcnn.checkpoint.save, "
            f"not a weights file; read it with funcnn.checkpoint.restore(path, like=tree)"
        )
    try:
        return load_state_dict(model, tensors, strict)
    except ValueError as e:
        raise ValueError(f"load_weights: the weights in {os.fspath(path)!r} do not fit the model: {e}") from None
