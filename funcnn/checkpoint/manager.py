"""`CheckpointManager`: numbered checkpoints in one directory, keeping the last N.

Step ``s`` lives in ``<directory>/step_<s, 8 digits>.safetensors``, written by
`funcnn.checkpoint.save` (atomically, with a manifest and checksum). Rules:

* Step numbers are ASCII digits (``step_12.safetensors``); a name with other digits
  (``step_\u0669.safetensors``) is not a step file. Other files are ignored.
* Step files are read only if they are regular files: a symbolic link (which could
  point at another run's checkpoint or at any file on the system), a FIFO (which
  would block the reader forever) or a device is refused by name, unread.
* Each save first removes stale temporaries of step files left by interrupted saves
  (``.step_*.safetensors.<pid>-<random>.tmp``). A temporary is stale when no live
  writer holds its lock (see `funcnn.checkpoint._io`), so a save running at the
  same time in another process, even on another host sharing the directory, keeps
  its temporary.

Examples:
  >>> import tempfile
  >>> import jax.numpy as jnp
  >>> from funcnn.checkpoint import CheckpointManager
  >>> with tempfile.TemporaryDirectory() as d:
  ...     manager = CheckpointManager(d, max_to_keep=2)
  ...     for step in (10, 20, 30):
  ...         _ = manager.save(step, {"w": jnp.full(2, step)})
  ...     print(manager.all_steps(), manager.restore(like={"w": jnp.zeros(2, jnp.int32)})["w"])
  [20, 30] [30 30]
"""

from __future__ import annotations

import contextlib
import operator
import os
import re
from typing import Any, Mapping

from ._io import remove_stale_temporaries
from .checkpoint import restore_file, save

_STEP = r"step_[0-9]+\.safetensors"
_PATTERN = re.compile(r"step_([0-9]+)\.safetensors")


def _step(owner: str, step: Any) -> int:
    """``step`` as an int: Python, NumPy or JAX integer scalars are accepted."""
    try:
        if isinstance(step, bool):
            raise TypeError
        value = operator.index(step)
    except TypeError:
        raise TypeError(
            f"{owner}: `step` must be an int, got {type(step).__name__} {step!r}; pass e.g. int(ts.step)"
        ) from None
    if value < 0:
        raise ValueError(f"{owner}: `step` must be a non-negative int, got {value}")
    return value


class CheckpointManager:
    """Save numbered checkpoints in ``directory`` and keep only the newest ``max_to_keep``.

    Args:
      directory: where the step files go (created on the first save).
      max_to_keep: how many of the highest steps to keep (None keeps all).

    Examples:
      >>> from funcnn.checkpoint import CheckpointManager
      >>> CheckpointManager("runs/ckpt", max_to_keep=3)
      CheckpointManager('runs/ckpt', max_to_keep=3)
    """

    def __init__(self, directory: str | os.PathLike[str], max_to_keep: int | None = 3) -> None:
        if max_to_keep is not None and (
            isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int) or max_to_keep < 1
        ):
            raise ValueError(f"CheckpointManager: `max_to_keep` must be a positive int or None, got {max_to_keep!r}")
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep

    def __repr__(self) -> str:
        return f"CheckpointManager({self.directory!r}, max_to_keep={self.max_to_keep})"

    def path(self, step: int) -> str:
        """The file of ``step``: ``<directory>/step_00000123.safetensors``."""
        return os.path.join(self.directory, f"step_{_step(repr(self), step):08d}.safetensors")

    def all_steps(self) -> list[int]:
        """Every saved step, ascending (``[]`` when none or no directory yet)."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for name in names if (m := _PATTERN.fullmatch(name)))

    def latest_step(self) -> int | None:
        """The highest saved step, or None."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def save(self, step: int, tree: Any, *, metadata: Mapping[str, str] | None = None) -> str:
        """Save ``tree`` as ``step`` (see `funcnn.checkpoint.save`), then drop the oldest extra steps.

        Saving a step that exists replaces it atomically. Saving a step below the
        latest is refused: the higher steps would hide it from `latest_step`. Before
        writing, temporaries left in the directory by interrupted saves are removed
        (never one a live writer holds; see the module docstring).

        Returns:
          the path written.

        Raises:
          ValueError: ``step`` is negative or below the latest saved step.
          OSError: the directory cannot be written.
        """
        owner = f"{self!r}.save"
        step = _step(owner, step)
        later = [s for s in self.all_steps() if s > step]
        if later:
            raise ValueError(
                f"{owner}: step {step} is below the saved steps {later}, which would shadow it; "
                f"pass a step >= {later[-1]}, or start a new directory (or delete {self.path(later[0])} and later)"
            )
        path = self.path(step)
        remove_stale_temporaries(self.directory, _STEP)
        save(path, tree, metadata=metadata)
        if self.max_to_keep is not None:
            for old in self.all_steps()[: -self.max_to_keep]:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path(old))
        return path

    def restore(self, step: int | None = None, *, like: Any) -> Any:
        """Restore ``step`` (default: the latest) against ``like`` (see `funcnn.checkpoint.restore`).

        Raises:
          FileNotFoundError: no checkpoint yet, or no checkpoint for ``step``.
          ValueError: the file is corrupted, does not match ``like``, or is not a
            regular file (a symlink, FIFO or device; refused unread).
        """
        owner = f"{self!r}.restore"
        steps = self.all_steps()
        if step is None:
            if not steps:
                raise FileNotFoundError(
                    f"{owner}: no checkpoints in {self.directory!r} yet; save one with manager.save(step, tree), "
                    f"or check the directory"
                )
            step = steps[-1]
        elif (step := _step(owner, step)) not in steps:
            raise FileNotFoundError(f"{owner}: no checkpoint for step {step}; saved steps are {steps}")
        return restore_file(owner, self.path(step), like, follow_symlinks=False)
