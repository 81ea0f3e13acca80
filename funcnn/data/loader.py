"""`DataLoader`: deterministic, resumable mini-batches over in-memory arrays.

The arrays stay on the host; each batch is gathered with NumPy and handed to
``jax.device_put``, which returns at once while the copy runs. The loader keeps
``prefetch`` batches in flight ahead of the one it yields, so the accelerator never
waits for its input.

Order: without ``shuffle`` batches follow the sample order. With ``shuffle`` the order
of epoch ``e`` is the NumPy permutation drawn from
``Generator(PCG64(SeedSequence(key_words, spawn_key=(e,))))``, where ``key_words`` are
the key's raw uint32 words: a pure function of the key and the epoch number, computed
on the host (no XLA compilation), the same on every run and every machine.

Position: the loader remembers the epoch and the next batch to yield. Each
``for batch in loader`` runs the rest of the current epoch and moves to the next one,
so a plain loop ``for epoch in ...: for batch in loader:`` sees a new order every
epoch. ``state()`` returns the position as ``{"epoch": e, "batch": b}`` (counting the
batches already yielded), which a checkpoint can store; ``load_state`` (or
``DataLoader(..., start=state)``) resumes with exactly the remaining batches of that
epoch and then the same later epochs as an uninterrupted run.

Examples:
  >>> import jax, numpy as np
  >>> from funcnn.data import DataLoader
  >>> x, y = np.arange(10.0).reshape(10, 1), np.arange(10)
  >>> loader = DataLoader((x, y), batch_size=4, shuffle=True, key=jax.random.key(0))
  >>> len(loader)
  3
  >>> [xb.shape for xb, yb in loader]
  [(4, 1), (4, 1), (2, 1)]
  >>> loader.state()
  {'epoch': 1, 'batch': 0}
"""

from __future__ import annotations

import operator
from collections import deque
from typing import Any, Iterator, Mapping

import jax
import numpy as np

from .. import _rng
from ._columns import columns


def epoch_order(key_words: np.ndarray, epoch: int, n: int) -> np.ndarray:
    """The shuffled sample order of ``epoch``: a permutation of ``range(n)`` (int64)."""
    seed = np.random.SeedSequence([int(w) for w in key_words.ravel()], spawn_key=(epoch,))
    return np.random.Generator(np.random.PCG64(seed)).permutation(n)


def _count(owner: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{owner}: `{name}` must be an integer, got {type(value).__name__} {value!r}") from None
    if value < minimum:
        raise ValueError(f"{owner}: `{name}` must be an integer >= {minimum}, got {value}")
    return value


class DataLoader:
    """Iterate over mini-batches of in-memory arrays, like ``torch.utils.data.DataLoader``.

    Args:
      arrays: a tuple (or list) or a dict of arrays whose first dimensions are equal
        (the samples), or one array. NumPy, JAX and torch arrays are accepted; the
        loader keeps a host copy in JAX's canonical dtypes (with 64-bit mode off,
        int64 becomes int32 and float64 float32), and refuses, naming the array and
        the value, data that would not survive that: an int outside int32's range
        (which would wrap), a finite float beyond float32's (which would become inf).
      batch_size: samples per batch (> 0).
      shuffle: draw a new sample order every epoch; needs ``key``.
      key: a PRNG key (``jax.random.key(seed)``) fixing every epoch's order.
      drop_last: drop the last batch when it is smaller than ``batch_size``.
      prefetch: batches placed on the device ahead of the one being used (>= 0).
      device: where batches go: a ``jax.Device`` or a ``jax.sharding.Sharding``
        (None: JAX's default device).
      start: a position from `state` to resume from (see `load_state`).

    Yields:
      batch (tuple | dict | jax.Array): batches with the structure of ``arrays`` (a tuple,
        a dict, or one array) holding JAX arrays of shape ``(batch_size, *rest)`` (the
        last one smaller unless ``drop_last``), with the dtypes of the inputs.

    Raises:
      ValueError: arrays of different lengths, an empty data set, ``batch_size <= 0``,
        ``shuffle`` without ``key``, ``drop_last`` leaving no batch at all, or values
        that do not fit JAX's canonical dtype.

    Examples:
      >>> import numpy as np
      >>> from funcnn.data import DataLoader
      >>> loader = DataLoader({"x": np.zeros((5, 3)), "y": np.arange(5)}, batch_size=2)
      >>> [b["y"].tolist() for b in loader]
      [[0, 1], [2, 3], [4]]
    """

    def __init__(
        self,
        arrays: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        *,
        key: jax.Array | None = None,
        drop_last: bool = False,
        prefetch: int = 2,
        device: jax.Device | jax.sharding.Sharding | None = None,
        start: Mapping[str, int] | None = None,
    ) -> None:
        cols = columns("DataLoader", arrays)
        self.batch_size = _count("DataLoader", "batch_size", batch_size, 1)
        self.prefetch = _count("DataLoader", "prefetch", prefetch, 0)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        if self.shuffle and key is None:
            raise ValueError(
                "DataLoader: shuffle=True needs an explicit PRNG key so the order is reproducible; "
                "pass key=jax.random.key(seed)"
            )
        if device is not None and not isinstance(device, (jax.Device, jax.sharding.Sharding)):
            raise TypeError(
                f"DataLoader: `device` must be a jax.Device or a jax.sharding.Sharding, got "
                f"{type(device).__name__}; pass e.g. device=jax.devices()[0]"
            )
        self._key_words = _rng.key_words(key) if key is not None else None
        self._arrays, self._pack, self.num_samples = cols.arrays, cols.pack, cols.length
        self.device = device
        if len(self) == 0:
            raise ValueError(
                f"{self!r}: drop_last=True with batch_size {self.batch_size} > {self.num_samples} samples "
                f"leaves no batch; lower batch_size or pass drop_last=False"
            )
        self._epoch, self._batch, self._generation = 0, 0, 0
        if start is not None:
            self.load_state(start)

    def __repr__(self) -> str:
        return (
            f"DataLoader(num_samples={self.num_samples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )

    def __len__(self) -> int:
        """Batches per epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    # ------------------------------------------------------------------ position
    def state(self) -> dict[str, int]:
        """The position: ``{"epoch": e, "batch": b}``, the next batch to yield.

        Examples:
          >>> import numpy as np
          >>> from funcnn.data import DataLoader
          >>> loader = DataLoader(np.arange(6), batch_size=2)
          >>> it = iter(loader); _ = next(it)
          >>> loader.state()
          {'epoch': 0, 'batch': 1}
        """
        return {"epoch": self._epoch, "batch": self._batch}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Resume from a position returned by `state`.

        The next ``for batch in loader`` yields the remaining batches of that epoch,
        identical to those an uninterrupted run would have yielded.

        Args:
          state: ``{"epoch": int >= 0, "batch": int in [0, len(loader)]}`` (values may be
            Python, NumPy or JAX integers, e.g. straight from a restored checkpoint).

        Examples:
          >>> import numpy as np
          >>> from funcnn.data import DataLoader
          >>> loader = DataLoader(np.arange(6), batch_size=2)
          >>> loader.load_state({"epoch": 3, "batch": 2})
          >>> [b.tolist() for b in loader]
          [[4, 5]]
        """
        owner = repr(self)
        if not isinstance(state, Mapping) or set(state) != {"epoch", "batch"}:
            got = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(
                f"{owner}: load_state expects the dict from loader.state(), with keys ['batch', 'epoch'], got {got}"
            )
        epoch = _count(owner, "epoch", state["epoch"], 0)
        batch = _count(owner, "batch", state["batch"], 0)
        if batch > len(self):
            raise ValueError(
                f"{owner}: position batch {batch} is past the {len(self)} batches of an epoch; "
                f"the state was saved by a loader with a different data set size, batch_size or drop_last"
            )
        self._epoch, self._batch = (epoch + 1, 0) if batch == len(self) else (epoch, batch)
        self._generation += 1

    def set_epoch(self, epoch: int) -> None:
        """Move to the start of ``epoch``, like ``DistributedSampler.set_epoch``.

        When the loader is already inside ``epoch`` (for instance after `load_state`
        resumed mid-epoch) the position is kept, so the PyTorch idiom of calling
        ``loader.set_epoch(epoch)`` at the top of every epoch also resumes correctly.

        Examples:
          >>> import numpy as np
          >>> from funcnn.data import DataLoader
          >>> loader = DataLoader(np.arange(4), batch_size=2)
          >>> loader.set_epoch(5); loader.state()
          {'epoch': 5, 'batch': 0}
        """
        epoch = _count(repr(self), "epoch", epoch, 0)
        if epoch != self._epoch:
            self._epoch, self._batch = epoch, 0
            self._generation += 1

    # ------------------------------------------------------------------- access
    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The host copies of the data set's columns, in the order `pack` expects."""
        return tuple(self._arrays)

    def pack(self, columns: Any) -> Any:
        """Rebuild the structure of the loader's input (tuple or dict) from a sequence of columns."""
        return self._pack(list(columns))

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch`` (int64, all samples): what the loader iterates, in order.

        Batch ``b`` of that epoch holds ``epoch_indices(epoch)[b * batch_size:(b + 1) * batch_size]``;
        fused training reads batches from it without Python per step.

        Examples:
          >>> import numpy as np
          >>> from funcnn.data import DataLoader
          >>> DataLoader(np.arange(4), batch_size=2).epoch_indices(0).tolist()
          [0, 1, 2, 3]
        """
        epoch = _count(repr(self), "epoch", epoch, 0)
        if not self.shuffle:
            return np.arange(self.num_samples)
        return epoch_order(self._key_words, epoch, self.num_samples)

    # ----------------------------------------------------------------- iteration
    def _indices(self, order: np.ndarray | None, batch: int) -> Any:
        lo = batch * self.batch_size
        hi = min(lo + self.batch_size, self.num_samples)
        return slice(lo, hi) if order is None else order[lo:hi]

    def _put(self, order: np.ndarray | None, batch: int) -> Any:
        idx = self._indices(order, batch)
        return self._pack([jax.device_put(a[idx], self.device) for a in self._arrays])

    def __iter__(self) -> Iterator[Any]:
        self._generation += 1
        return self._run(self._generation)

    def _run(self, generation: int) -> Iterator[Any]:
        epoch, first, n = self._epoch, self._batch, len(self)
        order = self.epoch_indices(epoch) if self.shuffle else None
        pending: deque[Any] = deque()
        ahead = first
        for b in range(first, n):
            if self._generation != generation:
                raise RuntimeError(
                    f"{self!r}: this iterator was superseded by a newer iter(loader), load_state or set_epoch; "
                    f"iterate the loader with one `for` loop at a time"
                )
            while ahead < min(n, b + 1 + self.prefetch):
                pending.append(self._put(order, ahead))
                ahead += 1
            self._epoch, self._batch = (epoch, b + 1) if b + 1 < n else (epoch + 1, 0)
            yield pending.popleft()
