"""Small data sets that need no download: bundled with a package, or generated.

Each returns host NumPy arrays ``(inputs, targets)``, ready for `DataLoader`,
`random_split` or straight into ``model.apply``.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from ..nn._checks import check_positive


def load_digits(*, flatten: bool = False, dtype: Any = jnp.float32) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits bundled with scikit-learn (1797 images, 10 classes).

    Pixel values (0 to 16 in the original) are scaled to ``[0, 1]``.

    Args:
      flatten: return images as ``(1797, 64)`` vectors instead of ``(1797, 1, 8, 8)``.
      dtype: floating dtype of the images.

    Returns:
      ``(images, labels)``: images ``(1797, 1, 8, 8)`` (NCHW, one channel) or
      ``(1797, 64)`` of ``dtype`` in ``[0, 1]``; labels ``(1797,)`` int32 in ``0..9``.

    Raises:
      ImportError: scikit-learn is not installed.

    Examples:
      >>> from funcnn.data import load_digits
      >>> images, labels = load_digits()
      >>> images.shape, images.dtype, labels.shape, labels.dtype
      ((1797, 1, 8, 8), dtype('float32'), (1797,), dtype('int32'))
    """
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"load_digits: `dtype` must be a floating dtype such as jnp.float32, got {dtype!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as e:
        raise ImportError(
            "load_digits reads the digits bundled with scikit-learn, which is not installed; "
            "install it with pip install 'funcnn[examples]'"
        ) from e
    bunch = sklearn_load_digits()
    images = (np.asarray(bunch.images) / 16.0).astype(np.dtype(dtype))
    images = images.reshape(len(images), -1) if flatten else images[:, None, :, :]
    return images, np.asarray(bunch.target, dtype=np.int32)


def synthetic_regression(
    n: int = 100, in_features: int = 3, out_features: int = 1, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random regression data: the tutorial's ``torch.randn(100, 3)`` and ``torch.randn(100, 1)``.

    Inputs and targets are independent standard-normal draws, so there is nothing to
    learn beyond the mean: a model's loss falls towards the targets' variance (about 1).

    Args:
      n: number of samples.
      in_features: input size.
      out_features: target size.
      seed: seed of the NumPy generator (the same seed gives the same data).

    Returns:
      ``(x, y)``: float32 arrays of shapes ``(n, in_features)`` and ``(n, out_features)``.

    Examples:
      >>> from funcnn.data import synthetic_regression
      >>> x, y = synthetic_regression()
      >>> x.shape, y.shape, x.dtype
      ((100, 3), (100, 1), dtype('float32'))
    """
    for name, value in (("n", n), ("in_features", in_features), ("out_features", out_features)):
        check_positive("synthetic_regression", name, value)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"synthetic_regression: `seed` must be an int, got {type(seed).__name__} {seed!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, in_features), dtype=np.float32)
    y = rng.standard_normal((n, out_features), dtype=np.float32)
    return x, y
