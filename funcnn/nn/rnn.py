"""Recurrent layers: `RNN`, `LSTM`, `GRU` and the one-step `RNNCell`, `LSTMCell`, `GRUCell`.

Arguments, defaults, parameter names, gate orders and initialisation are PyTorch's:
every weight and bias is ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``. The layers
wrap `funcnn.nn.functional.rnn`, `lstm` and `gru` (one ``lax.scan`` per layer and
direction, the input projection hoisted out of it).

Padded batches of different lengths: pass ``lengths=`` to ``apply`` for what PyTorch's
``pack_padded_sequence(..., enforce_sorted=False)`` / ``pad_packed_sequence`` round
trip gives (outputs past each length are zero; ``h_n``/``c_n`` are each sequence's
final states). A `funcnn.nn.utils.rnn.PackedSequence` input works as in PyTorch: the
output is then packed the same way, and ``hx``/``h_n`` are in the batch's original
order.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> from funcnn import nn
  >>> lstm = nn.LSTM(10, 20, num_layers=2)
  >>> params = lstm.init(jax.random.key(0))
  >>> params["weight_ih_l0"].shape, params["weight_ih_l1"].shape
  ((80, 10), (80, 20))
  >>> x = jnp.ones((5, 3, 10))                        # (L, N, H_in)
  >>> h0 = c0 = jnp.zeros((2, 3, 20))
  >>> out, (h_n, c_n) = lstm.apply(params, x, (h0, c0))
  >>> out.shape, h_n.shape, c_n.shape
  ((5, 3, 20), (2, 3, 20), (2, 3, 20))
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _rng
from . import init as init_
from ._checks import check_choice, check_positive, check_probability
from .functional import rnn as R
from .functional import rnn_cell as C
from .module import Module, Params
from .utils.rnn import PackedSequence, _repack, pad_packed_sequence


def _check_bool(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: `{name}` must be a bool, got {value!r} ({type(value).__name__})")


def _uniform_params(key: jax.Array, shapes: dict[str, tuple[int, ...]], hidden_size: int, dtype: Any) -> Params:
    """Every entry ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``, one derived key each."""
    bound = 1.0 / math.sqrt(hidden_size)
    keys = _rng.split(key, len(shapes))
    return {
        name: init_.uniform(keys[i], shape, dtype, a=-bound, b=bound) for i, (name, shape) in enumerate(shapes.items())
    }


class RNNBase(Module):
    """Shared configuration of `RNN`, `LSTM` and `GRU` (use those)."""

    _mode = ""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        name = type(self).__name__
        check_positive(name, "input_size", input_size)
        check_positive(name, "hidden_size", hidden_size)
        check_positive(name, "num_layers", num_layers)
        for flag, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            _check_bool(name, flag, value)
        check_probability(name, "dropout", dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: `dropout` (={dropout}) acts between stacked layers only, so it does nothing "
                f"with num_layers=1; use num_layers > 1 or dropout=0",
                UserWarning,
                stacklevel=2,
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.dtype = dtype

    proj_size = 0

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def init(self, key: jax.Array) -> Params:
        gates = R.GATES[self._mode] * self.hidden_size
        num_directions = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else num_directions * out_size
            for d in range(num_directions):
                names = R.rnn_param_names(layer, d == 1, self.bias, self.proj_size > 0)
                sizes = [(gates, layer_input), (gates, out_size)]
                sizes += [(gates,), (gates,)] if self.bias else []
                sizes += [(self.proj_size, self.hidden_size)] if self.proj_size else []
                shapes.update(zip(names, sizes))
        return _uniform_params(key, shapes, self.hidden_size, self.dtype)

    def forward(
        self,
        params: Params,
        input: ArrayLike,
        hx: Any = None,
        *,
        lengths: ArrayLike | None = None,
        key: jax.Array | None = None,
        train: bool = False,
    ) -> Any:
        packed = input if isinstance(input, PackedSequence) else None
        if packed is not None:
            if lengths is not None:
                raise ValueError(
                    f"{self!r}: a PackedSequence input carries its own lengths, got lengths= too; pass "
                    f"either the packed input or the padded input with lengths="
                )
            input, lengths = pad_packed_sequence(packed)
        out, h = R.rnn_impl(
            repr(self),
            self._mode,
            input,
            params,
            hx,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            batch_first=self.batch_first and packed is None,
            dropout=self.dropout,
            training=train,
            lengths=lengths,
            key=key,
        )
        return (out, h) if packed is None else (_repack(out, packed), h)


class RNN(RNNBase):
    """Multi-layer Elman RNN, ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
      input_size: features of each input step (> 0).
      hidden_size: features of the hidden state (> 0).
      num_layers: stacked layers (> 0).
      nonlinearity: ``'tanh'`` or ``'relu'``.
      bias: whether to learn ``b_ih`` and ``b_hh``.
      batch_first: input and output are ``(N, L, *)`` instead of ``(L, N, *)``.
      dropout: drop probability on the outputs of every layer but the last, in training.
      bidirectional: add a reverse-time direction (``D = 2``).
      dtype: parameter dtype.

    Params: ``weight_ih_l{k}[_reverse] (H, H_in)`` (``H_in = D * H`` for ``k > 0``),
    ``weight_hh_l{k}[_reverse] (H, H)``, ``bias_ih_l{k}[_reverse] (H,)``,
    ``bias_hh_l{k}[_reverse] (H,)``.

    ``apply(params, input, hx=None, *, lengths=None, key=None, train=False)`` returns
    ``(output, h_n)``: input ``(L, N, H_in)`` (``(N, L, H_in)`` batch-first, or
    unbatched ``(L, H_in)``), ``hx (D * num_layers, N, H)``, output ``(L, N, D * H)``,
    ``h_n (D * num_layers, N, H)``; ``lengths (N,)`` ints for padded batches.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> rnn = nn.RNN(3, 4, nonlinearity="relu", batch_first=True)
      >>> out, h_n = rnn.apply(rnn.init(jax.random.key(0)), jnp.ones((2, 5, 3)))
      >>> out.shape, h_n.shape
      ((2, 5, 4), (1, 2, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        self.nonlinearity = nonlinearity
        self._mode = f"rnn_{nonlinearity}"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype)


class LSTM(RNNBase):
    """Multi-layer long short-term memory, PyTorch's gates ``i, f, g, o``.

    Args:
      input_size: as in `RNN`.
      hidden_size: as in `RNN`.
      num_layers: as in `RNN`.
      bias: as in `RNN`.
      batch_first: as in `RNN`.
      dropout: as in `RNN`.
      bidirectional: as in `RNN`.
      dtype: as in `RNN`.
      proj_size: when > 0 (and < hidden_size), an LSTM with projections: the hidden
        state is ``h_t = W_hr (o_t * tanh(c_t))`` of size ``P = proj_size``.

    Params: as `RNN` with ``4 * H`` rows: ``weight_ih_l{k}[_reverse] (4H, H_in)``,
    ``weight_hh_l{k}[_reverse] (4H, H)``, biases ``(4H,)``. With ``proj_size = P``:
    ``weight_hh_l{k}[_reverse] (4H, P)``, ``weight_hr_l{k}[_reverse] (P, H)`` and
    ``H_in = D * P`` for ``k > 0``.

    ``apply(params, input, hx=None, *, lengths=None, key=None, train=False)`` returns
    ``(output, (h_n, c_n))`` with ``hx = (h_0, c_0)``, each ``(D * num_layers, N, H)``;
    shapes otherwise as in `RNN`. With ``proj_size = P``, ``h_0``/``h_n`` are
    ``(D * num_layers, N, P)`` and ``output`` is ``(L, N, D * P)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> lstm = nn.LSTM(3, 4, bidirectional=True)
      >>> out, (h_n, c_n) = lstm.apply(lstm.init(jax.random.key(0)), jnp.ones((5, 3)))
      >>> out.shape, h_n.shape
      ((5, 8), (2, 4))
      >>> proj = nn.LSTM(3, 4, proj_size=2)
      >>> out, (h_n, c_n) = proj.apply(proj.init(jax.random.key(0)), jnp.ones((5, 3)))
      >>> out.shape, h_n.shape, c_n.shape
      ((5, 2), (1, 2), (1, 4))
    """

    _mode = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                f"LSTM: `proj_size` must be a non-negative integer (0 disables projections), got {proj_size!r}"
            )
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype)
        if proj_size >= hidden_size:
            raise ValueError(
                f"LSTM: `proj_size` (={proj_size}) must be smaller than `hidden_size` (={hidden_size}); "
                f"use proj_size=0 for no projection"
            )
        self.proj_size = proj_size


class GRU(RNNBase):
    """Multi-layer gated recurrent unit, PyTorch's gates ``r, z, n``.

    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Args:
      input_size: as in `RNN`.
      hidden_size: as in `RNN`.
      num_layers: as in `RNN`.
      bias: as in `RNN`.
      batch_first: as in `RNN`.
      dropout: as in `RNN`.
      bidirectional: as in `RNN`.
      dtype: as in `RNN`.

    Params: as `RNN` with ``3 * H`` rows. ``apply`` returns ``(output, h_n)`` with the
    shapes of `RNN`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> gru = nn.GRU(3, 4, num_layers=2)
      >>> out, h_n = gru.apply(gru.init(jax.random.key(0)), jnp.ones((5, 2, 3)))
      >>> out.shape, h_n.shape
      ((5, 2, 4), (2, 2, 4))
    """

    _mode = "gru"


# ----------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Shared configuration of the cells (use `RNNCell`, `LSTMCell`, `GRUCell`)."""

    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, dtype: Any = jnp.float32) -> None:
        name = type(self).__name__
        check_positive(name, "input_size", input_size)
        check_positive(name, "hidden_size", hidden_size)
        _check_bool(name, "bias", bias)
        self.input_size, self.hidden_size, self.bias, self.dtype = input_size, hidden_size, bias, dtype

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s

    def init(self, key: jax.Array) -> Params:
        gates = R.GATES[self._mode] * self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {
            "weight_ih": (gates, self.input_size),
            "weight_hh": (gates, self.hidden_size),
        }
        if self.bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        return _uniform_params(key, shapes, self.hidden_size, self.dtype)

    def forward(self, params: Params, input: ArrayLike, hx: Any = None, *, key: Any = None, train: bool = False) -> Any:
        return C.rnn_cell_impl(
            repr(self),
            self._mode,
            input,
            hx,
            params["weight_ih"],
            params["weight_hh"],
            params.get("bias_ih"),
            params.get("bias_hh"),
        )


class RNNCell(RNNCellBase):
    """One Elman RNN step ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
      input_size: features of the input (> 0).
      hidden_size: features of the hidden state (> 0).
      bias: whether to learn ``bias_ih`` and ``bias_hh``.
      nonlinearity: ``'tanh'`` or ``'relu'``.
      dtype: parameter dtype.

    Params: ``weight_ih (H, H_in)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``.

    ``apply(params, input, hx=None)``: input ``(N, H_in)`` or ``(H_in,)``, ``hx (N, H)``
    or ``(H,)`` (zeros when None) -> ``h' (N, H)`` or ``(H,)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> cell = nn.RNNCell(3, 4)
      >>> params = cell.init(jax.random.key(0))
      >>> h = jnp.zeros((2, 4))
      >>> for x in jnp.ones((5, 2, 3)):  # a hand-written loop over time
      ...     h = cell.apply(params, x, h)
      >>> h.shape
      (2, 4)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: Any = jnp.float32,
    ) -> None:
        check_choice("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, dtype=dtype)
        self.nonlinearity = nonlinearity
        self._mode = f"rnn_{nonlinearity}"

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``).

    Args:
      input_size: as in `RNNCell`.
      hidden_size: as in `RNNCell`.
      bias: as in `RNNCell`.
      dtype: as in `RNNCell`.

    Params: ``weight_ih (4H, H_in)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``.

    ``apply(params, input, hx=None)``: ``hx = (h, c)``, each ``(N, H)`` or ``(H,)``
    (zeros when None) -> ``(h', c')`` of the same shapes.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> cell = nn.LSTMCell(3, 4)
      >>> h, c = cell.apply(cell.init(jax.random.key(0)), jnp.ones((2, 3)))
      >>> h.shape, c.shape
      ((2, 4), (2, 4))
    """

    _mode = "lstm"


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n``).

    Args:
      input_size: as in `RNNCell`.
      hidden_size: as in `RNNCell`.
      bias: as in `RNNCell`.
      dtype: as in `RNNCell`.

    Params: ``weight_ih (3H, H_in)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.

    ``apply(params, input, hx=None)``: input ``(N, H_in)`` or ``(H_in,)``, ``hx (N, H)``
    or ``(H,)`` (zeros when None) -> ``h' (N, H)`` or ``(H,)``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from funcnn import nn
      >>> cell = nn.GRUCell(3, 4)
      >>> cell.apply(cell.init(jax.random.key(0)), jnp.ones(3), jnp.zeros(4)).shape
      (4,)
    """

    _mode = "gru"
