"""`CTCLoss`: the connectionist temporal classification loss constructor.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> ctc = nn.CTCLoss(blank=0, zero_infinity=True)
  >>> ctc
  CTCLoss(reduction='mean', zero_infinity=True)
  >>> log_probs = jax.nn.log_softmax(jnp.zeros((6, 2, 5)), axis=2)  # (T, N, C)
  >>> ctc(log_probs, jnp.array([[1, 2], [3, 0]]), jnp.array([6, 6]), jnp.array([2, 1])).shape
  ()
"""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from ._checks import check_bool, check_int
from .functional import loss_ctc as K
from .loss import _Loss


class CTCLoss(_Loss):
    """CTC loss; see `funcnn.nn.functional.ctc_loss` for shapes, formats and gradients.

    Called as ``criterion(log_probs, targets, input_lengths, target_lengths)``.

    Args:
      blank: the blank class index.
      reduction: ``'none'``, ``'mean'`` (each loss divided by its target length, then
        averaged) or ``'sum'``.
      zero_infinity: replace infinite losses and their gradients by 0.
    """

    _options = (("blank", 0), ("reduction", "mean"), ("zero_infinity", False))

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction)
        check_int("CTCLoss", "blank", blank)
        if blank < 0:
            raise ValueError(f"CTCLoss: `blank` must be a class index >= 0, got {blank}")
        self.blank = int(blank)
        self.zero_infinity = check_bool("CTCLoss", "zero_infinity", zero_infinity)

    def _loss(
        self, log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike, target_lengths: ArrayLike
    ) -> jax.Array:
        return K.ctc_loss_impl(
            repr(self),
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )
