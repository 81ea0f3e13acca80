"""Cases for RNN, LSTM, GRU and their cells (errors and the rest live in tests/test_rnn.py).

LSTM states ``(h_0, c_0)`` travel as the ``hx=`` keyword: the harness turns each
positional input into one array (it would stack the tuple), while keyword tuples reach
both sides intact. Gradients with respect to ``(h_0, c_0)`` are checked in test_rnn.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from layer_harness import LayerCase
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from funcnn import nn

_STATES = np.random.default_rng(11)


def _x(*shape):
    return lambda g: (g.standard_normal(shape).astype(np.float32),)


def _x_h(x_shape, h_shape):
    return lambda g: (g.standard_normal(x_shape).astype(np.float32), g.standard_normal(h_shape).astype(np.float32))


def _fixed(*shape):
    return _STATES.standard_normal(shape).astype(np.float32)


def _packed(module, x, hx=None, *, lengths):
    """torch's way to run padded sequences: pack, run, pad back to the full length."""
    packed = pack_padded_sequence(x, lengths, batch_first=module.batch_first, enforce_sorted=False)
    out, h_n = module(packed, hx)
    total = x.shape[1] if module.batch_first else x.shape[0]
    out, _ = pad_packed_sequence(out, batch_first=module.batch_first, total_length=total)
    return out, h_n


def _quiet(run):
    """Runs torch without its notice that oneDNN has no projected LSTM (it falls back by itself)."""

    def forward(module, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "LSTM with projections is not supported with oneDNN")
            return run(module, *args, **kwargs)

    return forward


def _plain(module, *args, **kwargs):
    return module(*args, **kwargs)


def _seq(id, make, make_torch, inputs, **kw):
    # Recurrences compound float32 round-off over the sequence.
    return LayerCase(id, make, make_torch, inputs, tol="loose", **kw)


CASES = [
    # one layer of each kind, (L, N, H_in) = (5, 3, 4)
    _seq("rnn-tanh", lambda: nn.RNN(4, 5), lambda: torch.nn.RNN(4, 5), _x(5, 3, 4)),
    _seq(
        "rnn-relu",
        lambda: nn.RNN(4, 5, nonlinearity="relu"),
        lambda: torch.nn.RNN(4, 5, nonlinearity="relu"),
        _x(5, 3, 4),
    ),
    _seq("lstm", lambda: nn.LSTM(4, 5), lambda: torch.nn.LSTM(4, 5), _x(5, 3, 4)),
    _seq("gru", lambda: nn.GRU(4, 5), lambda: torch.nn.GRU(4, 5), _x(5, 3, 4)),
    # stacking, directions, layouts, initial states
    _seq(
        "lstm-2layer-bidirectional-batch_first",
        lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        _x(2, 5, 3),
    ),
    _seq(
        "gru-h0-2layer",
        lambda: nn.GRU(3, 4, num_layers=2),
        lambda: torch.nn.GRU(3, 4, num_layers=2),
        _x_h((5, 2, 3), (2, 2, 4)),
    ),
    _seq(
        "lstm-h0-c0-bidirectional",
        lambda: nn.LSTM(3, 4, bidirectional=True),
        lambda: torch.nn.LSTM(3, 4, bidirectional=True),
        _x(5, 2, 3),
        kwargs=dict(hx=(_fixed(2, 2, 4), _fixed(2, 2, 4))),
    ),
    # no bias (the GRU keeps b_hn inside r * (...): the path that differs most)
    _seq("gru-nobias", lambda: nn.GRU(3, 4, bias=False), lambda: torch.nn.GRU(3, 4, bias=False), _x(5, 2, 3)),
    # unbatched (L, H_in)
    _seq(
        "gru-unbatched-h0",
        lambda: nn.GRU(3, 4, num_layers=2),
        lambda: torch.nn.GRU(3, 4, num_layers=2),
        _x_h((5, 3), (2, 4)),
    ),
    _seq(
        "lstm-unbatched-bidirectional",
        lambda: nn.LSTM(3, 4, bidirectional=True, batch_first=True),
        lambda: torch.nn.LSTM(3, 4, bidirectional=True, batch_first=True),
        _x(5, 3),
    ),
    # padded variable-length batches against torch's packed sequences
    _seq(
        "lstm-lengths-2layer-bidirectional",
        lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
        _x(6, 4, 3),
        kwargs=dict(lengths=np.array([3, 6, 1, 4])),
        torch_forward=_packed,
    ),
    _seq(
        "gru-lengths-batch_first-h0",
        lambda: nn.GRU(3, 4, batch_first=True, bidirectional=True),
        lambda: torch.nn.GRU(3, 4, batch_first=True, bidirectional=True),
        _x_h((3, 6, 3), (2, 3, 4)),
        kwargs=dict(lengths=np.array([2, 6, 5])),
        torch_forward=_packed,
    ),
    # LSTM with projections (proj_size): weight_hr_l{k}, h of size proj_size, c of hidden_size
    _seq(
        "lstm-proj",
        lambda: nn.LSTM(4, 5, proj_size=2),
        lambda: torch.nn.LSTM(4, 5, proj_size=2),
        _x(5, 3, 4),
        torch_forward=_quiet(_plain),
    ),
    _seq(
        "lstm-proj-2layer-bidirectional-batch_first-nobias-h0-c0",
        lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, bias=False, proj_size=3),
        lambda: torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, bias=False, proj_size=3),
        _x(2, 6, 3),
        kwargs=dict(hx=(_fixed(4, 2, 3), _fixed(4, 2, 5))),
        torch_forward=_quiet(_plain),
    ),
    _seq(
        "lstm-proj-lengths-unsorted",
        lambda: nn.LSTM(3, 4, num_layers=2, proj_size=1),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, proj_size=1),
        _x(6, 3, 3),
        kwargs=dict(lengths=np.array([2, 6, 4])),
        torch_forward=_quiet(_packed),
    ),
    _seq(
        "lstm-proj-unbatched",
        lambda: nn.LSTM(3, 4, proj_size=2),
        lambda: torch.nn.LSTM(3, 4, proj_size=2),
        _x(5, 3),
        torch_forward=_quiet(_plain),
    ),
    # inter-layer dropout in training: values depend on the key, shapes are compared
    _seq(
        "lstm-dropout-train",
        lambda: nn.LSTM(3, 4, num_layers=3, dropout=0.5),
        lambda: torch.nn.LSTM(3, 4, num_layers=3, dropout=0.5),
        _x(5, 2, 3),
        train=True,
        random=True,
    ),
    # cells, with and without hx
    LayerCase("rnncell", lambda: nn.RNNCell(3, 4), lambda: torch.nn.RNNCell(3, 4), _x(2, 3)),
    LayerCase(
        "rnncell-relu-hx-nobias",
        lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
        lambda: torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
        _x_h((2, 3), (2, 4)),
    ),
    LayerCase("lstmcell", lambda: nn.LSTMCell(3, 4), lambda: torch.nn.LSTMCell(3, 4), _x(2, 3)),
    LayerCase(
        "lstmcell-hx",
        lambda: nn.LSTMCell(3, 4),
        lambda: torch.nn.LSTMCell(3, 4),
        _x(2, 3),
        kwargs=dict(hx=(_fixed(2, 4), _fixed(2, 4))),
    ),
    LayerCase("grucell-unbatched", lambda: nn.GRUCell(3, 4), lambda: torch.nn.GRUCell(3, 4), _x(3)),
    LayerCase("grucell-hx", lambda: nn.GRUCell(3, 4), lambda: torch.nn.GRUCell(3, 4), _x_h((2, 3), (2, 4))),
]
