"""One-step recurrent cells: `rnn_tanh_cell`, `rnn_relu_cell`, `lstm_cell`, `gru_cell`, as ``torch.nn.*Cell``.

Gate orders are PyTorch's (LSTM ``i, f, g, o``; GRU ``r, z, n``); the step is the
one the sequence ops of `funcnn.nn.functional.rnn` scan (`_recurrence._cell_forward`).
Being plain JAX, the cells support every transformation.

Examples:
  >>> import jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> h, c = F.lstm_cell(jnp.ones((2, 3)), None, jnp.zeros((8, 3)), jnp.zeros((8, 2)))
  >>> h.shape, c.shape
  ((2, 2), (2, 2))
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from ._recurrence import _cell_forward
from ._rnn_params import GATES, _check_state
from .rnn import _project

__all__ = ["gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]


def rnn_cell_impl(
    owner: str,
    mode: str,
    input: ArrayLike,
    hx: Any,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike | None,
    bias_hh: ArrayLike | None,
    precision: Any = None,
) -> Any:
    """The one implementation behind the ``*_cell`` functions and the cell layers."""
    check_floating(owner, input)
    shape, w_ih, w_hh = shape_of(input), shape_of(weight_ih), shape_of(weight_hh)
    gates = GATES[mode]
    if len(w_hh) != 2 or len(w_ih) != 2 or w_hh[0] != gates * w_hh[1] or w_ih[0] != w_hh[0]:
        raise ValueError(
            f"{owner}: expected weight_ih of shape ({gates}*hidden_size, input_size) and weight_hh of "
            f"shape ({gates}*hidden_size, hidden_size), got {w_ih} and {w_hh}"
        )
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError(f"{owner}: pass both `bias_ih` and `bias_hh` or neither")
    hidden = w_hh[1]
    if len(shape) not in (1, 2):
        raise ValueError(f"{owner}: expected a 1-D (H_in) or 2-D (N, H_in) input, got shape {shape}")
    if shape[-1] != w_ih[1]:
        raise ValueError(f"{owner}: expected input with last dimension (input_size) {w_ih[1]}, got shape {shape}")
    want = (*shape[:-1], hidden)
    x = jnp.asarray(input)
    n_states = 2 if mode == "lstm" else 1
    if hx is None:
        states = [jnp.zeros(want, x.dtype)] * n_states
    elif mode == "lstm":
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(
                f"{owner}: expected `hx` as a tuple (h, c), got {type(hx).__name__}; pass `(h, c)` "
                f"with both of shape {want}"
            )
        states = [_check_state(owner, what, s, want) for what, s in zip(("h", "c"), hx)]
    else:
        states = [_check_state(owner, "hx", hx, want)]
    xp, b_hn = _project(mode, x, jnp.asarray(weight_ih), bias_ih, bias_hh, precision)
    new, _ = _cell_forward(mode, xp, tuple(states), jnp.asarray(weight_hh), b_hn, precision)
    return new if mode == "lstm" else new[0]


def rnn_tanh_cell(
    input: ArrayLike,
    hx: ArrayLike | None,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike | None = None,
    bias_hh: ArrayLike | None = None,
    *,
    precision: Any = None,
) -> jax.Array:
    """One Elman RNN step ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``, as ``torch.nn.RNNCell``.

    Args:
      input: floating ``(N, H_in)`` or unbatched ``(H_in,)``.
      hx: ``(N, H)`` (``(H,)`` unbatched) or None for zeros.
      weight_ih: ``(H, H_in)``.
      weight_hh: ``(H, H)``.
      bias_ih: ``(H,)``, or None (with ``bias_hh``).
      bias_hh: ``(H,)``, or None (with ``bias_ih``).
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.rnn_tanh_cell(jnp.zeros((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4))).tolist()[0]
      [0.0, 0.0, 0.0, 0.0]
    """
    return rnn_cell_impl("rnn_tanh_cell", "rnn_tanh", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


def rnn_relu_cell(
    input: ArrayLike,
    hx: ArrayLike | None,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike | None = None,
    bias_hh: ArrayLike | None = None,
    *,
    precision: Any = None,
) -> jax.Array:
    """One Elman RNN step ``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``, as ``torch.nn.RNNCell(nonlinearity='relu')``.

    Args:
      input: as in `rnn_tanh_cell`.
      hx: as in `rnn_tanh_cell`.
      weight_ih: as in `rnn_tanh_cell`.
      weight_hh: as in `rnn_tanh_cell`.
      bias_ih: as in `rnn_tanh_cell`.
      bias_hh: as in `rnn_tanh_cell`.
      precision: as in `rnn_tanh_cell`.

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.rnn_relu_cell(jnp.ones((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4))).tolist()[0]
      [3.0, 3.0, 3.0, 3.0]
    """
    return rnn_cell_impl("rnn_relu_cell", "rnn_relu", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


def lstm_cell(
    input: ArrayLike,
    hx: tuple[ArrayLike, ArrayLike] | None,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike | None = None,
    bias_hh: ArrayLike | None = None,
    *,
    precision: Any = None,
) -> tuple[jax.Array, jax.Array]:
    """One LSTM step, as ``torch.nn.LSTMCell`` (gates ``i, f, g, o``).

    Args:
      input: floating ``(N, H_in)`` or unbatched ``(H_in,)``.
      hx: ``(h, c)``, each ``(N, H)`` (``(H,)`` unbatched), or None for zeros.
      weight_ih: ``(4H, H_in)``.
      weight_hh: ``(4H, H)``.
      bias_ih: ``(4H,)``, or None (with ``bias_hh``).
      bias_hh: ``(4H,)``, or None (with ``bias_ih``).
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``(h', c')``, each ``(N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> h, c = F.lstm_cell(jnp.ones(3), None, jnp.zeros((8, 3)), jnp.zeros((8, 2)))
      >>> c.tolist()  # sigmoid(0) * tanh(0)
      [0.0, 0.0]
    """
    return rnn_cell_impl("lstm_cell", "lstm", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


def gru_cell(
    input: ArrayLike,
    hx: ArrayLike | None,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike | None = None,
    bias_hh: ArrayLike | None = None,
    *,
    precision: Any = None,
) -> jax.Array:
    """One GRU step, as ``torch.nn.GRUCell`` (gates ``r, z, n``; ``b_hn`` inside ``r * (...)``).

    Args:
      input: floating ``(N, H_in)`` or unbatched ``(H_in,)``.
      hx: ``(N, H)`` (``(H,)`` unbatched) or None for zeros.
      weight_ih: ``(3H, H_in)``.
      weight_hh: ``(3H, H)``.
      bias_ih: ``(3H,)``, or None (with ``bias_hh``).
      bias_hh: ``(3H,)``, or None (with ``bias_ih``).
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.gru_cell(jnp.ones((1, 3)), jnp.ones((1, 2)), jnp.zeros((6, 3)), jnp.zeros((6, 2))).tolist()
      [[0.5, 0.5]]
    """
    return rnn_cell_impl("gru_cell", "gru", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)
