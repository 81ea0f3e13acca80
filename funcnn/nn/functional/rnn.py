"""Recurrent ops: `rnn_tanh`, `rnn_relu`, `lstm` and `gru` over sequences, and their one-step cells.

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
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from .._checks import check_floating, shape_of
from ._recurrence import _cell_forward, _recurrence
from .dropout import dropout as _dropout

__all__ = ["gru", "gru_cell", "lstm", "lstm_cell", "rnn_relu", "rnn_relu_cell", "rnn_tanh", "rnn_tanh_cell"]

# Gate blocks per mode: rows of ``weight_ih``/``weight_hh`` are ``gates * hidden_size``.
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}

# ``lax.scan`` unroll factor of the recurrence; the fastest measured exact formulation
# (``benchmarks/lstm_formulations.py``).
UNROLL = 1


def _project(mode: str, x: jax.Array, w_ih: jax.Array, b_ih: jax.Array | None, b_hh: jax.Array | None, precision: Any) -> tuple[tuple[jax.Array, ...], jax.Array | None]:
    """``x @ w_ih.T`` plus the biases that simply add, split per gate; returns ``(xp, b_hn)``."""
    xp = lax.dot_general(x, w_ih, (((x.ndim - 1,), (1,)), ((), ())), precision=precision)
    if mode == "gru":
        b_hn = b_hh
        if b_ih is not None:
            xp = xp + b_ih
    else:
        b_hn = None
        if b_ih is not None:
            xp = xp + (b_ih + b_hh)
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


# -------------------------------------------------------------------- checking
def _param_names(layer: int, reverse: bool, bias: bool, proj: bool = False) -> list[str]:
    """PyTorch's names (and ``state_dict`` order) of one layer and direction's parameters."""
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
    if bias:
        names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
    return names + [f"weight_hr{sfx}"] if proj else names


def _sizes(owner: str, mode: str, params: Mapping[str, Any], num_layers: int, num_directions: int) -> tuple[int, int, bool, int]:
    """``(input_size, hidden_size, bias, proj_size)`` read from the parameter dict, with its keys checked."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{owner}: expected `params` as a dict of arrays from `init`, got {type(params).__name__}")
    bias = "bias_ih_l0" in params
    proj = mode == "lstm" and "weight_hr_l0" in params
    want = [n for k in range(num_layers) for d in range(num_directions) for n in _param_names(k, d == 1, bias, proj)]
    missing = [n for n in want if n not in params]
    extra = [n for n in params if n not in want]
    if missing or extra:
        raise ValueError(
            f"{owner}: `params` must have the keys {want}, got {sorted(params)} "
            f"(missing {missing}, unexpected {extra}); pass the dict from the layer's `init`"
        )
    w_ih, w_hh = shape_of(params["weight_ih_l0"]), shape_of(params["weight_hh_l0"])
    if proj:
        w_hr = shape_of(params["weight_hr_l0"])
        if len(w_hh) != 2 or len(w_ih) != 2 or len(w_hr) != 2 or w_ih[0] != w_hh[0] or w_hh[0] != 4 * w_hr[1] or w_hh[1] != w_hr[0] or w_hr[0] >= w_hr[1]:
            raise ValueError(
                f"{owner}: expected weight_ih_l0 of shape (4*hidden_size, input_size), weight_hh_l0 of shape "
                f"(4*hidden_size, proj_size) and weight_hr_l0 of shape (proj_size, hidden_size) with "
                f"proj_size < hidden_size, got {w_ih}, {w_hh} and {w_hr}"
            )
        return w_ih[1], w_hr[1], bias, w_hr[0]
    if len(w_hh) != 2 or len(w_ih) != 2 or w_hh[0] != GATES[mode] * w_hh[1] or w_ih[0] != w_hh[0]:
        raise ValueError(
            f"{owner}: expected weight_ih_l0 of shape ({GATES[mode]}*hidden_size, input_size) and "
            f"weight_hh_l0 of shape ({GATES[mode]}*hidden_size, hidden_size), got {w_ih} and {w_hh}"
        )
    return w_ih[1], w_hh[1], bias, 0


def _check_state(owner: str, what: str, h: Any, want: tuple[int, ...]) -> jax.Array:
    check_floating(owner, h, what)
    if shape_of(h) != want:
        raise ValueError(f"{owner}: expected {what} of shape {want}, got shape {shape_of(h)}")
    return jnp.asarray(h)


def _check_lengths(owner: str, lengths: Any, n: int, seq_len: int) -> jax.Array:
    if not hasattr(lengths, "dtype"):  # a list or tuple of ints
        lengths = np.asarray(lengths)
    if not jnp.issubdtype(jnp.result_type(lengths), jnp.integer):
        raise TypeError(
            f"{owner}: expected integer `lengths`, got dtype {jnp.result_type(lengths)}; "
            f"pass e.g. jnp.array([5, 3], dtype=jnp.int32)"
        )
    if shape_of(lengths) != (n,):
        raise ValueError(
            f"{owner}: expected `lengths` of shape ({n},), one length per sequence of the batch, "
            f"got shape {shape_of(lengths)}"
        )
    if not isinstance(lengths, jax.core.Tracer):
        values = np.asarray(lengths)
        if n and (values.min() < 1 or values.max() > seq_len):
            raise ValueError(
                f"{owner}: every entry of `lengths` must be in [1, {seq_len}] (the padded sequence "
                f"length), got {values.tolist()}"
            )
    return jnp.asarray(lengths)


# ------------------------------------------------------------------ sequences
def _rnn_impl(
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
        raise ValueError(
            f"{owner}: expected input with last dimension (input_size) {input_size}, got shape {shape}"
        )
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
                shapes = f"both of shape {state_shapes[0]}" if sizes[0] == sizes[1] else f"shapes {state_shapes[0]} and {state_shapes[1]}"
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
            weights = [params.get(name) for name in _param_names(layer, d == 1, True, True)]
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
    return _rnn_impl(
        "rnn_tanh", "rnn_tanh", input, params, hx, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths, key=key, precision=precision,
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
      input, params, hx, num_layers, bidirectional, batch_first, dropout, training,
        lengths, key, precision: as in `rnn_tanh`.

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
    return _rnn_impl(
        "rnn_relu", "rnn_relu", input, params, hx, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths, key=key, precision=precision,
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
      num_layers, bidirectional, batch_first, dropout, training, lengths, key,
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
    return _rnn_impl(
        "lstm", "lstm", input, params, hx, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths, key=key, precision=precision,
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
      num_layers, bidirectional, batch_first, dropout, training, lengths, key,
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
    return _rnn_impl(
        "gru", "gru", input, params, hx, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths, key=key, precision=precision,
    )


# ----------------------------------------------------------------------- cells
def _cell_impl(
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
      weight_ih: ``(H, H_in)``; weight_hh: ``(H, H)``.
      bias_ih, bias_hh: ``(H,)`` each, or both None.
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.rnn_tanh_cell(jnp.zeros((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4))).tolist()[0]
      [0.0, 0.0, 0.0, 0.0]
    """
    return _cell_impl("rnn_tanh_cell", "rnn_tanh", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


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
      input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision: as in `rnn_tanh_cell`.

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.rnn_relu_cell(jnp.ones((2, 3)), None, jnp.ones((4, 3)), jnp.ones((4, 4))).tolist()[0]
      [3.0, 3.0, 3.0, 3.0]
    """
    return _cell_impl("rnn_relu_cell", "rnn_relu", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


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
      weight_ih: ``(4H, H_in)``; weight_hh: ``(4H, H)``.
      bias_ih, bias_hh: ``(4H,)`` each, or both None.
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
    return _cell_impl("lstm_cell", "lstm", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)


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
      weight_ih: ``(3H, H_in)``; weight_hh: ``(3H, H)``.
      bias_ih, bias_hh: ``(3H,)`` each, or both None.
      precision: ``lax`` matmul precision (None: JAX's default).

    Returns:
      ``h' (N, H)`` (``(H,)`` unbatched), the input's dtype.

    Examples:
      >>> import jax.numpy as jnp
      >>> import funcnn.nn.functional as F
      >>> F.gru_cell(jnp.ones((1, 3)), jnp.ones((1, 2)), jnp.zeros((6, 3)), jnp.zeros((6, 2))).tolist()
      [[0.5, 0.5]]
    """
    return _cell_impl("gru_cell", "gru", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, precision)
