"""Loss constructors: ``torch.nn``'s loss classes, each a configured loss function.

``criterion = nn.CrossEntropyLoss(label_smoothing=0.1)`` validates its arguments at
once and is then called like PyTorch's: ``criterion(input, target) -> loss``. The
numbers come from the `funcnn.nn.functional` function of the same name; see there for
shapes, reductions and the NaN a bad class index gives under ``jit``. A loss is also a
parameter-free `Module` (``params == {}``, ``criterion.apply({}, input, target)``).

As in `funcnn.nn.functional`, PyTorch's deprecated ``size_average`` and ``reduce`` are
not accepted and every argument PyTorch lists after them is keyword-only.

This file holds the regression, likelihood and class-index losses; `loss_margin`
holds the margin and embedding losses, `loss_ctc` the CTC loss, and
`linear_cross_entropy` the loss with its own classifier weights.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
  >>> criterion
  CrossEntropyLoss(reduction='mean', label_smoothing=0.1)
  >>> criterion(jnp.zeros((2, 4)), jnp.array([0, 3])).round(4).item()
  1.3863
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._checks import (
    REDUCTIONS,
    check_beta,
    check_bool,
    check_choice,
    check_delta,
    check_int,
    check_number,
    check_probability,
    shape_of,
)
from .functional import loss as L
from .functional import loss_classification as LC
from .functional import loss_probability as LP
from .module import Module, Params


def _array_repr(value: Any) -> str:
    return f"Array(shape={shape_of(value)}, dtype={jnp.result_type(value)})"


class _Loss(Module):
    """A loss function with fixed options: ``loss(input, target) -> jax.Array``.

    Subclasses set ``reduction`` and their options in ``__init__``, list the options
    in PyTorch's constructor order in ``_options`` as ``(name, default)``, and
    implement ``_loss``.
    """

    _options: tuple[tuple[str, Any], ...] = ()
    _reductions: tuple[str, ...] = REDUCTIONS

    def __init__(self, reduction: str) -> None:
        check_choice(type(self).__name__, "reduction", reduction, self._reductions)
        self.reduction = reduction

    def __call__(self, *inputs: ArrayLike) -> jax.Array:
        """The loss of ``input`` against ``target`` (PyTorch's ``forward`` arguments); shapes as the functional form."""
        return self._loss(*inputs)

    def forward(self, params: Params, *inputs: ArrayLike, key: Any = None, train: bool = False) -> jax.Array:
        return self._loss(*inputs)

    def _loss(self, *inputs: ArrayLike) -> jax.Array:  # pragma: no cover - overridden
        raise NotImplementedError

    def extra_repr(self) -> str:
        parts = []
        for name, default in self._options:
            value = getattr(self, name)
            if name == "reduction":
                parts.append(f"reduction={value!r}")
            elif default is None and value is not None:
                shown = value.__name__ if callable(value) and hasattr(value, "__name__") else _array_repr(value)
                parts.append(f"{name}={shown}")
            elif default is not None and value != default:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)


class MSELoss(_Loss):
    """Squared error; see `funcnn.nn.functional.mse_loss`. Shapes ``(*), (*) -> ()`` (``(*)`` for ``'none'``)."""

    _options = (("reduction", "mean"),)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return L.mse_loss_impl(repr(self), input, target, self.reduction, None)


class L1Loss(_Loss):
    """Absolute error; see `funcnn.nn.functional.l1_loss`. Shapes as `MSELoss`."""

    _options = (("reduction", "mean"),)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return L.l1_loss_impl(repr(self), input, target, self.reduction, None)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss with switch point ``beta >= 0``; see `funcnn.nn.functional.smooth_l1_loss`."""

    _options = (("reduction", "mean"), ("beta", 1.0))

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_beta("SmoothL1Loss", beta)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return L.smooth_l1_loss_impl(repr(self), input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Huber loss with switch point ``delta > 0``; see `funcnn.nn.functional.huber_loss`."""

    _options = (("reduction", "mean"), ("delta", 1.0))

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = check_delta("HuberLoss", delta)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return L.huber_loss_impl(repr(self), input, target, self.reduction, self.delta, None)


def _class_weight_option(owner: str, weight: ArrayLike | None) -> jax.Array | None:
    if weight is None:
        return None
    if len(shape_of(weight)) != 1:
        raise ValueError(f"{owner}: expected `weight` of shape (C,), one per class, got shape {shape_of(weight)}")
    return jnp.asarray(weight)


class CrossEntropyLoss(_Loss):
    """Cross entropy of logits; see `funcnn.nn.functional.cross_entropy`.

    Args:
      weight: optional float array ``(C,)``, a weight per class.
      ignore_index: class index whose positions are skipped.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      label_smoothing: in ``[0, 1]``.

    Shapes: input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; target class indices
    ``(N,)``, ``(N, d1, ...)`` or ``()``, or probabilities of the input's shape.
    """

    _options = (("weight", None), ("ignore_index", -100), ("reduction", "mean"), ("label_smoothing", 0.0))

    def __init__(
        self,
        weight: ArrayLike | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        check_int("CrossEntropyLoss", "ignore_index", ignore_index)
        check_probability("CrossEntropyLoss", "label_smoothing", label_smoothing)
        self.weight = _class_weight_option("CrossEntropyLoss", weight)
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return LC.cross_entropy_impl(
            repr(self), input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_Loss):
    """Negative log likelihood of log-probabilities; see `funcnn.nn.functional.nll_loss`.

    Args:
      weight: optional float array ``(C,)``.
      ignore_index: class index whose positions are skipped.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    _options = (("weight", None), ("ignore_index", -100), ("reduction", "mean"))

    def __init__(self, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        check_int("NLLLoss", "ignore_index", ignore_index)
        self.weight = _class_weight_option("NLLLoss", weight)
        self.ignore_index = int(ignore_index)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return LC.nll_loss_impl(repr(self), input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """Binary cross entropy of probabilities; see `funcnn.nn.functional.binary_cross_entropy`.

    Args:
      weight: optional float array broadcastable to the input's shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    _options = (("weight", None), ("reduction", "mean"))

    def __init__(self, weight: ArrayLike | None = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = None if weight is None else jnp.asarray(weight)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return LP.binary_cross_entropy_impl(repr(self), input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits; see `funcnn.nn.functional.binary_cross_entropy_with_logits`.

    Args:
      weight: optional float array broadcastable to the input's shape.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.
      pos_weight: optional float array broadcastable to the input's shape, usually ``(C,)``.
    """

    _options = (("weight", None), ("reduction", "mean"), ("pos_weight", None))

    def __init__(
        self, weight: ArrayLike | None = None, *, reduction: str = "mean", pos_weight: ArrayLike | None = None
    ) -> None:
        super().__init__(reduction)
        self.weight = None if weight is None else jnp.asarray(weight)
        self.pos_weight = None if pos_weight is None else jnp.asarray(pos_weight)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return LP.binary_cross_entropy_with_logits_impl(
            repr(self), input, target, self.weight, self.reduction, self.pos_weight
        )


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities; see `funcnn.nn.functional.kl_div`.

    Args:
      reduction: ``'none'``, ``'batchmean'``, ``'mean'`` (over all elements, PyTorch's
        default) or ``'sum'``.
      log_target: whether the target holds log-probabilities.
    """

    _options = (("reduction", "mean"), ("log_target", False))
    _reductions = ("none", "batchmean", "mean", "sum")

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        if not isinstance(log_target, (bool, np.bool_)):
            raise TypeError(f"KLDivLoss: `log_target` must be a bool, got {log_target!r}")
        self.log_target = bool(log_target)

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return LP.kl_div_impl(repr(self), input, target, self.reduction, self.log_target)


class NLLLoss2d(NLLLoss):
    """PyTorch's deprecated alias of `NLLLoss` (same arguments and numbers); warns as PyTorch does.

    Examples:
      >>> import warnings
      >>> from funcnn import nn
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore", FutureWarning)
      ...     nn.NLLLoss2d(ignore_index=1)
      NLLLoss2d(ignore_index=1, reduction='mean')
    """

    def __init__(self, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        warnings.warn(
            "NLLLoss2d has been deprecated (as in PyTorch); use NLLLoss, a drop-in replacement",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log likelihood; see `funcnn.nn.functional.poisson_nll_loss`.

    Args:
      log_input: whether the input holds log-rates.
      full: add the Stirling term.
      eps: keeps ``log`` finite when not ``log_input``.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Shapes: input ``(*)``, target ``(*)`` -> ``()`` (``(*)`` for ``'none'``).
    """

    _options = (("log_input", True), ("full", False), ("eps", 1e-8), ("reduction", "mean"))

    def __init__(
        self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.log_input = check_bool("PoissonNLLLoss", "log_input", log_input)
        self.full = check_bool("PoissonNLLLoss", "full", full)
        check_number("PoissonNLLLoss", "eps", eps)
        self.eps = eps

    def _loss(self, input: ArrayLike, target: ArrayLike) -> jax.Array:
        return L.poisson_nll_loss_impl(repr(self), input, target, self.log_input, self.full, self.eps, self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log likelihood; see `funcnn.nn.functional.gaussian_nll_loss`.

    Called as ``criterion(input, target, var)``.

    Args:
      full: add the constant ``0.5 * log(2 * pi)``.
      eps: the lower clamp of ``var``.
      reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Shapes: input ``(N, *)``, target ``(N, *)``, var ``(N, *)``, ``(N, *)`` less its
    last dimension, or with one dimension of size 1 -> ``()`` (input's shape for ``'none'``).
    """

    _options = (("full", False), ("eps", 1e-6), ("reduction", "mean"))

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = check_bool("GaussianNLLLoss", "full", full)
        check_number("GaussianNLLLoss", "eps", eps)
        self.eps = eps

    def _loss(self, input: ArrayLike, target: ArrayLike, var: ArrayLike | float) -> jax.Array:
        return L.gaussian_nll_loss_impl(repr(self), input, target, var, self.full, self.eps, self.reduction)
