"""`fit`'s view of its loaders and metrics: batches, labels checked against the model's classes."""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..data.loader import DataLoader

_OWNER = "fit"


class _Source:
    """A loader as `fit` sees it: a re-iterable of ``(inputs, targets)`` batches."""

    def __init__(self, name: str, loader: Any) -> None:
        self.name, self.loader = name, loader
        self.is_loader = isinstance(loader, DataLoader)
        if self.is_loader:
            self.length: int | None = len(loader)
            size = min(loader.batch_size, loader.num_samples)
            spec = [jax.ShapeDtypeStruct((size, *a.shape[1:]), a.dtype) for a in loader.arrays]
            self.first = loader.pack(spec)
            self.xy(self.first)
            return
        try:
            it = iter(loader)
        except TypeError:
            raise TypeError(
                f"{_OWNER}: `{name}` must be a funcnn.data.DataLoader or a re-iterable of (inputs, targets) "
                f"batches such as a list, got {type(loader).__name__}"
            ) from None
        if it is loader:
            raise TypeError(
                f"{_OWNER}: `{name}` is a one-shot iterator ({type(loader).__name__}), but every epoch iterates it "
                f"again; pass a funcnn.data.DataLoader or a list of batches"
            )
        first = next(it, None)
        if first is None:
            raise ValueError(f"{_OWNER}: `{name}` yields no batches; give it at least one (inputs, targets) batch")
        self.first = first
        self.xy(first)
        self.length = len(loader) if hasattr(loader, "__len__") else None

    def xy(self, batch: Any) -> tuple[Any, Any]:
        if isinstance(batch, (tuple, list)) and len(batch) == 2:
            return batch[0], batch[1]
        if isinstance(batch, Mapping):
            got = f"a dict with keys {sorted(batch)}"
        elif isinstance(batch, (tuple, list)):
            got = f"a {type(batch).__name__} of {len(batch)} items"
        else:
            got = type(batch).__name__
        raise TypeError(
            f"{_OWNER}: each batch of `{self.name}` must be an (inputs, targets) pair, got {got}; build the loader "
            f"as DataLoader((x, y), batch_size=...)"
        )

    def labels(self) -> np.ndarray:
        """Host targets to check: the whole column of a DataLoader, else the first batch's."""
        return np.asarray(self.loader.arrays[1] if self.is_loader else self.xy(self.first)[1])

    def batches(self, epoch: int, first: int) -> Iterator[Any]:
        """The batches of ``epoch`` from index ``first`` on."""
        if self.length is not None and first >= self.length:
            return iter(())
        if self.is_loader:
            self.loader.load_state({"epoch": epoch, "batch": first})
            return iter(self.loader)
        return itertools.islice(iter(self.loader), first, None)


# ------------------------------------------------------------------------ metrics


def _accuracy(out: jax.Array, target: jax.Array) -> jax.Array:
    return jnp.mean((jnp.argmax(out, axis=1) == target).astype(jnp.float32))


def _metrics(metrics: Any, classify: bool) -> dict[str, Callable[[jax.Array, jax.Array], jax.Array]]:
    """The metrics besides the loss (which is always computed), by name."""
    if isinstance(metrics, str) and metrics == "auto":
        return {"accuracy": _accuracy} if classify else {}
    if isinstance(metrics, Mapping):
        for name, fn in metrics.items():
            if not isinstance(name, str) or name == "loss" or not callable(fn):
                raise TypeError(
                    f"{_OWNER}: `metrics` as a mapping must map new names (not 'loss') to functions "
                    f"fn(output, target) -> batch mean, got {name!r}: {fn!r}"
                )
        return dict(metrics)
    names = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(names, (list, tuple)) or any(n not in ("loss", "accuracy") for n in names):
        raise ValueError(
            f"{_OWNER}: `metrics` must be 'auto', a sequence of 'loss' and 'accuracy', or a mapping "
            f"{{name: fn(output, target)}}, got {metrics!r}"
        )
    if "accuracy" in names and not classify:
        raise ValueError(
            f"{_OWNER}: metric 'accuracy' needs integer class targets and outputs with a class axis (N, C, ...); "
            f"these targets or outputs are not; drop 'accuracy' or pass metrics as a mapping of your own functions"
        )
    return {"accuracy": _accuracy} if "accuracy" in names else {}


def _check_labels(source: _Source, n_classes: int, ignore: int, out_shape: tuple[int, ...]) -> None:
    y = source.labels()
    bad = (y >= n_classes) | ((y < 0) & (y != ignore))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        where = f"sample {i}" if y.ndim == 1 else f"flat position {i}"
        raise ValueError(
            f"{_OWNER}: `{source.name}` holds the label {int(y.ravel()[i])} ({where}), outside the {n_classes} classes "
            f"the model outputs (output shape {out_shape}); labels must lie in [0, {n_classes}) or equal "
            f"ignore_index={ignore}: fix the labels, or give the model's last layer more outputs"
        )
