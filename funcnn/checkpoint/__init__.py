"""Checkpoints, mirroring ``torch.save``/``torch.load`` without pickle.

* ``save_weights``/``load_weights``: a model's weights as one ``.safetensors`` file with
  PyTorch's ``state_dict`` keys, loadable by ``torch_module.load_state_dict``.
* ``save``/``restore``: any pytree (params, buffers, optax state, step, PRNG keys,
  loader position) in one file with a manifest, checked against ``like`` on restore.
* ``CheckpointManager``: numbered steps in a directory, keeping the last N.
* ``save_file``/``load_file``/``load_metadata``: the safetensors format itself.
* ``safe_open``: read single tensors of a large file without reading the rest.

Every write goes to a temporary file that is fsynced and renamed into place, so a
crash leaves the previous file intact; every read validates the header and a SHA-256
checksum and refuses a truncated or corrupted file before returning anything.
Readers open regular files only (never a FIFO or device), bound the header's size and
structure before parsing it, and verify the checksum by streaming, so no file, however
made, costs more than its own size plus a few tens of megabytes to refuse. Every such
refusal is a ``ValueError`` that names the file and the reason.

Examples:
  >>> import tempfile
  >>> import jax
  >>> from funcnn import checkpoint, nn
  >>> params = nn.Linear(3, 1).init(jax.random.key(0))
  >>> with tempfile.TemporaryDirectory() as d:
  ...     manager = checkpoint.CheckpointManager(d)
  ...     _ = manager.save(100, {"params": params, "step": 100})
  ...     manager.latest_step()
  100
"""

from .checkpoint import restore as restore
from .checkpoint import save as save
from .lazy import SafetensorsFile as SafetensorsFile
from .lazy import safe_open as safe_open
from .manager import CheckpointManager as CheckpointManager
from .safetensors import load_file as load_file
from .safetensors import load_metadata as load_metadata
from .safetensors import save_file as save_file
from .weights import load_weights as load_weights
from .weights import save_weights as save_weights

__all__ = [
    "CheckpointManager",
    "SafetensorsFile",
    "load_file",
    "load_metadata",
    "load_weights",
    "restore",
    "safe_open",
    "save",
    "save_file",
    "save_weights",
]
