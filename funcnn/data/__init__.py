"""Data loading, mirroring ``torch.utils.data``: batches, splits and small data sets.

``DataLoader`` yields deterministic (key-seeded), resumable mini-batches of in-memory
arrays, prefetched onto the device; ``random_split`` splits a data set the way PyTorch
does; ``load_digits`` and ``synthetic_regression`` need no download.

Examples:
  >>> import jax
  >>> from funcnn import data
  >>> x, y = data.synthetic_regression()
  >>> train, test = data.random_split((x, y), [0.8, 0.2], key=jax.random.key(0))
  >>> loader = data.DataLoader(train, batch_size=16, shuffle=True, key=jax.random.key(1))
  >>> len(loader)
  5
"""

from .datasets import load_digits as load_digits
from .datasets import synthetic_regression as synthetic_regression
from .loader import DataLoader as DataLoader
from .split import random_split as random_split

__all__ = ["DataLoader", "load_digits", "random_split", "synthetic_regression"]
