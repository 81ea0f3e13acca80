"""Recurrent ops: `rnn_tanh`, `rnn_relu`, `lstm` and `gru` over sequences (the cells are in `rnn_cell`).

The sequence ops take the parameter dict of `funcnn.nn.RNN`/`LSTM`/`GRU` (PyTorch's
``state_dict`` names: ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}[_reverse]``,
``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]``) and return what the PyTorch
layer returns. Gate order is PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.

How it runs: each layer and direction is one ``lax.scan`` over time, so compile time
does not grow with the sequence length. The input projection ``x @ W_ih.T + b_ih``
(and ``b_hh`` where it simply adds, i.e. everywhere but the GRU's ``n`` gate) is one
matmul over all time steps before the scan; only ``h @ W_hh.T`` and the gate
arithmetic run inside it. The reverse direction scans backwards in time. The
recurrence kernel (`funcnn.nn.functional._recurrence`) has a hand-written tangent
rule, so forward mode (``jax.jvp``, ``jax.jacfwd``) and reverse mode (``jax.grad``,
``jax.vjp``, ``jax.hessian``) both work; reverse mode is the usual hand-written
backward pass (one ``d_gates @ W_hh`` per step, the weight gradients as single
matmuls over all steps). See ``benchmarks/lstm_formulations.py``.

Variable lengths: ``lengths`` (``(N,)`` ints in ``[1, L]``) gives what PyTorch gives for
``pack_padded_sequence(..., enforce_sorted=False)`` followed by ``pad_packed_sequence``:
a sequence's state stops changing after its last step, its outputs past the end are
zeros, ``h_n``/``c_n`` are the states after its last step, and the reverse direction
starts at each sequence's own last step.

Inter-layer dropout (``dropout > 0``, ``training=True``, more than one layer) drops
the outputs of every layer but the last; layer ``k`` uses ``fold_in(key, k)``.

Examples:
  >>> import jax, jax.numpy as jnp
  >>> import funcnn.nn.functional as F
  >>> from funcnn import nn
  >>> params = nn.LSTM(3, 5).init(jax.random.key(0))
  >>> out, (h, c) = F.lstm(jnp.ones((7, 2, 3)), params)
  >>> out.shape, h.shape, c.shape
  ((7, 2, 5), (1, 2, 5), (1, 2, 5))
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from ._recurrence import _recurrence
from ._rnn_params import GATES, _check_lengths, _check_state, _sizes, rnn_param_names
from .dropout import dropout as _dropout

__all__ = ["gru", "lstm", "rnn_relu", "rnn_tanh"]


# ``lax.scan`` unroll factor of the recurrence; the fastest measured exact formulation
# (``benchmarks/lstm_formulations.py``).
UNROLL = 1


def _project(
    mode: str, x: jax.Array, w_ih: jax.Array, b_ih: jax.Array | None, b_hh: jax.Array | None, precision: Any
) -> tuple[tuple[jax.Array, ...], jax.Array | None]:
    """``x @ w_ih.T`` plus the biases that simply add, split per gate; returns ``(xp, b_hn)``."""
    xp = lax.dot_general(x, w_ih, (((x.ndim - 1,), (1,)), ((), ())), precision=precision)
    if mode == "gru":
        b_hn = b_hh
        if b_ih is not None:
            xp = xp + lax.expand_dims(b_ih, tuple(range(xp.ndim - 1)))
    else:
        b_hn = None
        if b_ih is not None:
            xp = xp + lax.expand_dims(b_ih + b_hh, tuple(range(xp.ndim - 1)))
    return tuple(jnp.split(xp, GATES[mode], axis=-1)), b_hn


def _scan(
    mode: str,
    x: jax.Array,
    state: tuple[jax.Array, ...],
    weights: Sequence[jax.Array | None],
    *,
    reverse: bool,
    mask: jax.Array | None,
    precision: Any,
    unroll: int,
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """One direction of one layer over time-major ``x (L, N, I)``; returns ``(out (L, N, H), final state)``."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    xs, b_hn = _project(mode, x, w_ih, b_ih, b_hh, precision)
    return _recurrence(mode, xs, state, w_hh, b_hn, w_hr, mask, reverse, precision, unroll)


# ------------------------------------------------------------------ sequences
def rnn_impl(
    owner: str,
    mode: str,
    input: ArrayLike,
    params: Mapping[str, Any],
    hx: Any,
    *,
    num_layers: int,
    bidirectional: bool,
    batch_first: bool,
    dropout: float,
    training: bool,
    lengths: ArrayLike | None,
    key: jax.Array | None,
    precision: Any = None,
    unroll: int | None = None,
) -> tuple[jax.Array, Any]:
    """The one implementation behind `rnn_tanh`, `rnn_relu`, `lstm`, `gru` and the layers."""
    num_directions = 2 if bidirectional else 1
    input_size, hidden_size, _, proj_size = _sizes(owner, mode, params, num_layers, num_directions)
    check_floating(owner, input)
    shape = shape_of(input)
    layout = "(N, L, H_in)" if batch_first else "(L, N, H_in)"
    if len(shape) not in (2, 3):
        raise ValueError(f"{owner}: expected a 2-D (L, H_in) or 3-D {layout} input, got shape {shape}")
    if shape[-1] != input_size:
        raise ValueError(f"{owner}: expected input with last dimension (input_size) {input_size}, got shape {shape}")
    batched = len(shape) == 3
    x = jnp.asarray(input)
    if not batched:
        x = x[:, None]
    elif batch_first:
        x = jnp.swapaxes(x, 0, 1)
    seq_len, n = x.shape[0], x.shape[1]
    if lengths is not None and not batched:
        raise ValueError(f"{owner}: `lengths` needs a batched 3-D {layout} input, got shape {shape}")

    n_states = 2 if mode == "lstm" else 1
    names = ("h_0", "c_0")
    # With projections (LSTM ``proj_size``), h is ``proj_size`` wide and c ``hidden_size``.
    sizes = (proj_size or hidden_size, hidden_size)[:n_states]
    lead = (num_directions * num_layers, n) if batched else (num_directions * num_layers,)
    state_shapes = [(*lead, size) for size in sizes]
    if hx is None:
        states = [jnp.zeros((num_directions * num_layers, n, size), x.dtype) for size in sizes]
    else:
        if mode == "lstm":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                shapes = (
                    f"both of shape {state_shapes[0]}"
                    if sizes[0] == sizes[1]
                    else f"shapes {state_shapes[0]} and {state_shapes[1]}"
                )
                raise TypeError(
                    f"{owner}: expected `hx` as a tuple (h_0, c_0), got {type(hx).__name__}; "
                    f"pass `(h_0, c_0)` with {shapes}"
                )
            parts = list(hx)
        else:
            parts = [hx]
        states = [_check_state(owner, names[i], s, state_shapes[i]) for i, s in enumerate(parts)]
        if not batched:
            states = [s[:, None] for s in states]

    # One dtype for the whole recurrence: the scan carry must keep its type.
    dtype = jnp.result_type(x.dtype, *(jnp.result_type(p) for p in params.values()), *(s.dtype for s in states))
    x, states = x.astype(dtype), [s.astype(dtype) for s in states]

    mask = None
    if lengths is not None:
        lens = _check_lengths(owner, lengths, n, seq_len)
        mask = (jnp.arange(seq_len)[:, None] < lens[None, :])[:, :, None]

    sample = dropout > 0 and training and num_layers > 1
    if sample and key is None:
        raise ValueError(
            f"{owner}: train=True with dropout={dropout} samples inter-layer dropout masks and needs a "
            f"PRNG key, got key=None; call `model.apply(params, x, key=jax.random.key(step), train=True)` "
            f"(a new key each step)"
        )
    output, finals = _layers(
        x,
        tuple(states),
        {k: jnp.asarray(v, dtype) for k, v in params.items()},
        mask,
        key if sample else None,
        mode=mode,
        num_layers=num_layers,
        num_directions=num_directions,
        dropout=float(dropout) if sample else 0.0,
        precision=precision,
        unroll=UNROLL if unroll is None else unroll,
    )
    if not batched:
        output = output[:, 0]
        finals = tuple(h[:, 0] for h in finals)
    elif batch_first:
        output = jnp.swapaxes(output, 0, 1)
    return output, (finals if mode == "lstm" else finals[0])


# Compiled once per configuration and shape, so eager calls (and their gradients) run
# as one program instead of op by op; inside an outer ``jit`` it is simply inlined.
@functools.partial(jax.jit, static_argnames=("mode", "num_layers", "num_directions", "dropout", "precision", "unroll"))
def _layers(
    x: jax.Array,
    states: tuple[jax.Array, ...],
    params: dict[str, jax.Array],
    mask: jax.Array | None,
    key: jax.Array | None,
    *,
    mode: str,
    num_layers: int,
    num_directions: int,
    dropout: float,
    precision: Any,
    unroll: int,
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """All layers over time-major ``x (L, N, H_in)``; returns ``(output, final states)``."""
    finals: list[list[jax.Array]] = [[] for _ in states]
    layer_in = x
    for layer in range(num_layers):
        outs = []
        for d in range(num_directions):
            idx = layer * num_directions + d
            weights = [params.get(name) for name in rnn_param_names(layer, d == 1, True, True)]
            out, final = _scan(
                mode,
                layer_in,
                tuple(s[idx] for s in states),
                weights,
                reverse=d == 1,
                mask=mask,
                precision=precision,
                unroll=unroll,
            )
            outs.append(out)
            for i, f in enumerate(final):
                finals[i].append(f)
        layer_in = outs[0] if num_directions == 1 else jnp.concatenate(outs, axis=-1)
        if key is not None and layer < num_layers - 1:
            layer_in = _dropout(layer_in, dropout, training=True, key=jax.random.fold_in(key, layer))
    return layer_in, tuple(jnp.stack(f) for f in finals)


def rnn_tanh(
    input: ArrayLike,
    params: Mapping[str, Any],
    hx: ArrayLike | None = None,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = False,
    lengths: ArrayLike | None = None,
    key: jax.Array | None = None,
    precision: Any = None,
) -> tuple[jax.Array, jax.Array]:
    """Elman RNN ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, as ``torch.nn.RNN``.

    Args:
      input: floating ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or
        unbatched ``(L, H_in)``.
      params: ``{"weight_ih_l0": (H, H_in), "weight_hh_l0": (H, H), "bias_ih_l0": (H,),
        "bias_hh_l0": (H,), ...}`` as made by `funcnn.nn.RNN`; layer ``k > 0`` takes
        ``D * H`` inputs; biases are optional (all or none).
      hx: initial hidden state ``(D * num_layers, N, H)`` (``(D * num_layers, H)``
        unbatched); zeros when None.
      num_layers: stacked layers.
      bidirectional: add a reverse-time direction (``D = 2``).
      batch_first: input and output are ``(N, L, *)``.
      dropout: drop probability on the outputs of every layer but the last.
      training: apply that dropout (needs ``key``).
      lengths: ``(N,)`` integer lengths in ``[1, L]`` for padded batches.
      key: PRNG key for dropout.
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``(output, h_n)``: ``output (L, N, D * H)`` (batch-first or unbatched like the
      input; zeros past each length), ``h_n (D * num_layers, N, H)``; input dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> from funcnn import nn
      >>> params = nn.RNN(3, 4, bidirectional=True).init(jax.random.key(0))
      >>> out, h_n = F.rnn_tanh(jnp.ones((6, 3)), params, bidirectional=True)
      >>> out.shape, h_n.shape
      ((6, 8), (2, 4))
    """
    return rnn_impl(
        "rnn_tanh",
        "rnn_tanh",
        input,
        params,
        hx,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dropout=dropout,
        training=training,
        lengths=lengths,
        key=key,
        precision=precision,
    )


def rnn_relu(
    input: ArrayLike,
    params: Mapping[str, Any],
    hx: ArrayLike | None = None,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = False,
    lengths: ArrayLike | None = None,
    key: jax.Array | None = None,
    precision: Any = None,
) -> tuple[jax.Array, jax.Array]:
    """Elman RNN ``h_t = relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, as ``torch.nn.RNN(nonlinearity='relu')``.

    Args:
      input: as in `rnn_tanh`.
      params: as in `rnn_tanh`.
      hx: as in `rnn_tanh`.
      num_layers: as in `rnn_tanh`.
      bidirectional: as in `rnn_tanh`.
      batch_first: as in `rnn_tanh`.
      dropout: as in `rnn_tanh`.
      training: as in `rnn_tanh`.
      lengths: as in `rnn_tanh`.
      key: as in `rnn_tanh`.
      precision: as in `rnn_tanh`.

    Returns:
      ``(output, h_n)`` with the shapes of `rnn_tanh`.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> from funcnn import nn
      >>> params = nn.RNN(3, 4, nonlinearity="relu").init(jax.random.key(0))
      >>> out, h_n = F.rnn_relu(jnp.ones((6, 2, 3)), params)
      >>> bool((out >= 0).all())
      True
    """
    return rnn_impl(
        "rnn_relu",
        "rnn_relu",
        input,
        params,
        hx,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dropout=dropout,
        training=training,
        lengths=lengths,
        key=key,
        precision=precision,
    )


def lstm(
    input: ArrayLike,
    params: Mapping[str, Any],
    hx: tuple[ArrayLike, ArrayLike] | None = None,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = False,
    lengths: ArrayLike | None = None,
    key: jax.Array | None = None,
    precision: Any = None,
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """Long short-term memory over a sequence, as ``torch.nn.LSTM`` (gates ``i, f, g, o``).

    Args:
      input: floating ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or
        unbatched ``(L, H_in)``.
      params: ``{"weight_ih_l0": (4H, H_in), "weight_hh_l0": (4H, H), "bias_ih_l0": (4H,),
        "bias_hh_l0": (4H,), ...}`` as made by `funcnn.nn.LSTM`.
      hx: ``(h_0, c_0)``, each ``(D * num_layers, N, H)`` (``(D * num_layers, H)``
        unbatched); zeros when None.
      num_layers: as in `rnn_tanh`.
      bidirectional: as in `rnn_tanh`.
      batch_first: as in `rnn_tanh`.
      dropout: as in `rnn_tanh`.
      training: as in `rnn_tanh`.
      lengths: as in `rnn_tanh`.
      key: as in `rnn_tanh`.
      precision: as in `rnn_tanh`.

    Returns:
      ``(output, (h_n, c_n))``: ``output (L, N, D * H)`` (batch-first or unbatched like
      the input), ``h_n`` and ``c_n`` ``(D * num_layers, N, H)``; input dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> from funcnn import nn
      >>> params = nn.LSTM(3, 4, num_layers=2).init(jax.random.key(0))
      >>> x, lengths = jnp.ones((2, 5, 3)), jnp.array([5, 2])
      >>> out, (h, c) = F.lstm(x, params, num_layers=2, batch_first=True, lengths=lengths)
      >>> out.shape, h.shape, float(abs(out[1, 2:]).max())
      ((2, 5, 4), (2, 2, 4), 0.0)
    """
    return rnn_impl(
        "lstm",
        "lstm",
        input,
        params,
        hx,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dropout=dropout,
        training=training,
        lengths=lengths,
        key=key,
        precision=precision,
    )


def gru(
    input: ArrayLike,
    params: Mapping[str, Any],
    hx: ArrayLike | None = None,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = False,
    lengths: ArrayLike | None = None,
    key: jax.Array | None = None,
    precision: Any = None,
) -> tuple[jax.Array, jax.Array]:
    """Gated recurrent unit over a sequence, as ``torch.nn.GRU`` (gates ``r, z, n``).

    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.

    Args:
      input: floating ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or
        unbatched ``(L, H_in)``.
      params: ``{"weight_ih_l0": (3H, H_in), "weight_hh_l0": (3H, H), "bias_ih_l0": (3H,),
        "bias_hh_l0": (3H,), ...}`` as made by `funcnn.nn.GRU`.
      hx: ``(D * num_layers, N, H)`` (``(D * num_layers, H)`` unbatched); zeros when None.
      num_layers: as in `rnn_tanh`.
      bidirectional: as in `rnn_tanh`.
      batch_first: as in `rnn_tanh`.
      dropout: as in `rnn_tanh`.
      training: as in `rnn_tanh`.
      lengths: as in `rnn_tanh`.
      key: as in `rnn_tanh`.
      precision: as in `rnn_tanh`.

    Returns:
      ``(output, h_n)``: ``output (L, N, D * H)``, ``h_n (D * num_layers, N, H)``; input dtype.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> from funcnn import nn
      >>> params = nn.GRU(3, 4).init(jax.random.key(0))
      >>> out, h_n = F.gru(jnp.ones((5, 2, 3)), params)
      >>> bool((out[-1] == h_n[0]).all())
      True
    """
    return rnn_impl(
        "gru",
        "gru",
        input,
        params,
        hx,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dropout=dropout,
        training=training,
        lengths=lengths,
        key=key,
        precision=precision,
    )
