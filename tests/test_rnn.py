"""RNN/LSTM/GRU and cells: errors and what the generic layer cases do not cover."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import funcnn
import funcnn.nn.functional as F
from funcnn import nn
from funcnn.nn.container import init_children

torch.set_num_threads(1)
KEY = jax.random.key(0)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _torch_pair(make, make_torch):
    torch.manual_seed(0)
    tmod = make_torch()
    model = make()
    params, _ = funcnn.load_state_dict(model, tmod.state_dict())
    return model, tmod, params


# ------------------------------------------------------------- construction
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.LSTM(3, 0), r"LSTM: `hidden_size` must be a positive integer, got 0"),
        (lambda: nn.GRU(3, 4, num_layers=0), r"GRU: `num_layers` must be a positive integer, got 0"),
        (lambda: nn.RNN(0, 4), r"RNN: `input_size` must be a positive integer, got 0"),
        (
            lambda: nn.RNN(3, 4, nonlinearity="sigmoid"),
            r"RNN: `nonlinearity` must be one of \['tanh', 'relu'\], got 'sigmoid'",
        ),
        (lambda: nn.LSTM(3, 4, 2, dropout=1.5), r"LSTM: `dropout` must be a probability in \[0, 1\], got 1.5"),
        (lambda: nn.GRU(3, 4, 2, dropout=-0.1), r"GRU: `dropout` must be a probability in \[0, 1\], got -0.1"),
        (
            lambda: nn.LSTM(3, 4, proj_size=4),
            r"LSTM: `proj_size` \(=4\) must be smaller than `hidden_size` \(=4\); use proj_size=0 for no projection",
        ),
        (
            lambda: nn.LSTM(3, 4, proj_size=-1),
            r"LSTM: `proj_size` must be a non-negative integer \(0 disables projections\), got -1",
        ),
        (
            lambda: nn.RNNCell(3, 4, nonlinearity="gelu"),
            r"RNNCell: `nonlinearity` must be one of \['tanh', 'relu'\], got 'gelu'",
        ),
        (lambda: nn.GRUCell(3, -1), r"GRUCell: `hidden_size` must be a positive integer, got -1"),
    ],
)
def test_constructor_value_errors(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_constructor_type_errors() -> None:
    with pytest.raises(TypeError, match=r"LSTM: `batch_first` must be a bool, got 1 \(int\)"):
        nn.LSTM(3, 4, batch_first=1)
    with pytest.raises(TypeError, match=r"LSTMCell: `bias` must be a bool, got 'no' \(str\)"):
        nn.LSTMCell(3, 4, bias="no")


def test_dropout_with_one_layer_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match=r"GRU: `dropout` \(=0.5\) acts between stacked layers only"):
        gru = nn.GRU(3, 4, dropout=0.5)
    # nothing is sampled, so training needs no key
    out, _ = gru.apply(gru.init(KEY), jnp.ones((2, 3)), train=True)
    assert out.shape == (2, 4)


@pytest.mark.parametrize(
    "make, make_torch",
    [
        (lambda: nn.RNN(3, 4, nonlinearity="relu"), lambda: torch.nn.RNN(3, 4, nonlinearity="relu")),
        (
            lambda: nn.LSTM(3, 4, 2, bias=False, batch_first=True, dropout=0.25, bidirectional=True),
            lambda: torch.nn.LSTM(3, 4, 2, bias=False, batch_first=True, dropout=0.25, bidirectional=True),
        ),
        (lambda: nn.GRU(3, 4, num_layers=3), lambda: torch.nn.GRU(3, 4, num_layers=3)),
        (
            lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
            lambda: torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
        ),
        (lambda: nn.LSTMCell(3, 4), lambda: torch.nn.LSTMCell(3, 4)),
        (lambda: nn.GRUCell(3, 4, bias=False), lambda: torch.nn.GRUCell(3, 4, bias=False)),
    ],
    ids=["rnn", "lstm", "gru", "rnncell", "lstmcell", "grucell"],
)
def test_repr_matches_torch(make, make_torch) -> None:
    assert repr(make()) == repr(make_torch())


def test_init_is_uniform_within_one_over_sqrt_hidden_and_deterministic() -> None:
    lstm = nn.LSTM(3, 16, num_layers=2, bidirectional=True)
    params = lstm.init(KEY)
    leaves = np.concatenate([np.ravel(v) for v in jax.tree.leaves(params)])
    assert np.abs(leaves).max() <= 0.25 and np.abs(leaves).max() > 0.24
    assert abs(leaves.mean()) < 0.01 and abs(leaves.std() - 0.25 / np.sqrt(3)) < 0.01
    again = lstm.init(KEY)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(again)))
    other = lstm.init(jax.random.key(1))
    assert not np.array_equal(params["weight_hh_l1_reverse"], other["weight_hh_l1_reverse"])
    assert params["weight_ih_l1"].shape == (64, 32)


# ------------------------------------------------------------- call errors
def test_input_errors_name_the_layer() -> None:
    lstm = nn.LSTM(3, 4, batch_first=True)
    params = lstm.init(KEY)
    with pytest.raises(
        ValueError,
        match=r"LSTM\(3, 4, batch_first=True\): expected input with last dimension \(input_size\) 3, got shape \(2, 5, 7\)",
    ):
        lstm.apply(params, jnp.ones((2, 5, 7)))
    with pytest.raises(
        ValueError,
        match=r"LSTM\(3, 4, batch_first=True\): expected a 2-D \(L, H_in\) or 3-D \(N, L, H_in\) input, got shape \(3,\)",
    ):
        lstm.apply(params, jnp.ones(3))
    with pytest.raises(
        TypeError, match=r"LSTM\(3, 4, batch_first=True\): expected a floating-point input, got dtype int32"
    ):
        lstm.apply(params, jnp.ones((2, 5, 3), jnp.int32))


def test_hx_errors() -> None:
    gru = nn.GRU(3, 4, num_layers=2)
    params = gru.init(KEY)
    x = jnp.ones((5, 2, 3))
    with pytest.raises(
        ValueError, match=r"GRU\(3, 4, num_layers=2\): expected h_0 of shape \(2, 2, 4\), got shape \(1, 2, 4\)"
    ):
        gru.apply(params, x, jnp.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 4\), got shape \(2, 1, 4\)"):
        gru.apply(params, jnp.ones((5, 3)), jnp.zeros((2, 1, 4)))
    lstm = nn.LSTM(3, 4)
    lp = lstm.init(KEY)
    with pytest.raises(
        TypeError,
        match=r"LSTM\(3, 4\): expected `hx` as a tuple \(h_0, c_0\), got ArrayImpl; pass `\(h_0, c_0\)` with both of shape \(1, 2, 4\)",
    ):
        lstm.apply(lp, x, jnp.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\): expected c_0 of shape \(1, 2, 4\), got shape \(1, 2, 5\)"):
        lstm.apply(lp, x, (jnp.zeros((1, 2, 4)), jnp.zeros((1, 2, 5))))
    with pytest.raises(TypeError, match=r"LSTM\(3, 4\): expected a floating-point h_0, got dtype int32"):
        lstm.apply(lp, x, (jnp.zeros((1, 2, 4), jnp.int32), jnp.zeros((1, 2, 4))))


def test_lengths_errors() -> None:
    gru = nn.GRU(3, 4)
    params = gru.init(KEY)
    x = jnp.ones((5, 2, 3))
    with pytest.raises(
        ValueError,
        match=r"GRU\(3, 4\): expected `lengths` of shape \(2,\), one length per sequence of the batch, got shape \(3,\)",
    ):
        gru.apply(params, x, lengths=jnp.array([1, 2, 3]))
    with pytest.raises(
        ValueError,
        match=r"GRU\(3, 4\): every entry of `lengths` must be in \[1, 5\] \(the padded sequence length\), got \[0, 5\]",
    ):
        gru.apply(params, x, lengths=np.array([0, 5]))
    with pytest.raises(ValueError, match=r"must be in \[1, 5\] .* got \[6, 5\]"):
        gru.apply(params, x, lengths=[6, 5])
    with pytest.raises(TypeError, match=r"GRU\(3, 4\): expected integer `lengths`, got dtype float32"):
        gru.apply(params, x, lengths=jnp.array([2.0, 3.0]))
    with pytest.raises(
        ValueError, match=r"GRU\(3, 4\): `lengths` needs a batched 3-D \(L, N, H_in\) input, got shape \(5, 3\)"
    ):
        gru.apply(params, jnp.ones((5, 3)), lengths=jnp.array([2]))


def test_training_dropout_needs_a_key() -> None:
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    with pytest.raises(
        ValueError,
        match=r"LSTM\(3, 4, num_layers=2, dropout=0.5\): train=True with dropout=0.5 samples .* got key=None",
    ):
        lstm.apply(lstm.init(KEY), jnp.ones((5, 2, 3)), train=True)


def test_functional_param_errors() -> None:
    params = nn.LSTM(3, 4).init(KEY)
    x = jnp.ones((5, 2, 3))
    with pytest.raises(TypeError, match=r"lstm: expected `params` as a dict of arrays from `init`, got list"):
        F.lstm(x, [params])
    with pytest.raises(
        ValueError,
        match=r"lstm: `params` must have the keys .*missing \['weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1'\]",
    ):
        F.lstm(x, params, num_layers=2)
    with pytest.raises(
        ValueError,
        match=r"gru: expected weight_ih_l0 of shape \(3\*hidden_size, input_size\) and weight_hh_l0 of shape \(3\*hidden_size, hidden_size\), got \(16, 3\) and \(16, 4\)",
    ):
        F.gru(x, params)


def test_cell_errors() -> None:
    cell = nn.LSTMCell(3, 4)
    params = cell.init(KEY)
    with pytest.raises(
        ValueError, match=r"LSTMCell\(3, 4\): expected input with last dimension \(input_size\) 3, got shape \(2, 5\)"
    ):
        cell.apply(params, jnp.ones((2, 5)))
    with pytest.raises(
        ValueError, match=r"LSTMCell\(3, 4\): expected a 1-D \(H_in\) or 2-D \(N, H_in\) input, got shape \(1, 2, 3\)"
    ):
        cell.apply(params, jnp.ones((1, 2, 3)))
    with pytest.raises(
        TypeError,
        match=r"LSTMCell\(3, 4\): expected `hx` as a tuple \(h, c\), got ArrayImpl; pass `\(h, c\)` with both of shape \(2, 4\)",
    ):
        cell.apply(params, jnp.ones((2, 3)), jnp.zeros((2, 4)))
    gru = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\): expected hx of shape \(4,\), got shape \(1, 4\)"):
        gru.apply(gru.init(KEY), jnp.ones(3), jnp.zeros((1, 4)))
    w = jnp.ones((4, 3))
    with pytest.raises(
        ValueError,
        match=r"rnn_tanh_cell: expected weight_ih of shape \(1\*hidden_size, input_size\) and weight_hh of shape \(1\*hidden_size, hidden_size\), got \(4, 3\) and \(4, 3\)",
    ):
        F.rnn_tanh_cell(jnp.ones(3), None, w, w)
    with pytest.raises(ValueError, match=r"rnn_relu_cell: pass both `bias_ih` and `bias_hh` or neither"):
        F.rnn_relu_cell(jnp.ones(3), None, w, jnp.ones((4, 4)), jnp.zeros(4))


# ------------------------------------------------------------ behaviour
def test_lstm_gradients_with_respect_to_h0_c0_match_torch() -> None:
    model, tmod, params = _torch_pair(
        lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    )
    x, h0, c0 = _x(2, 5, 3), _x(4, 2, 4, seed=1), _x(4, 2, 4, seed=2)
    ct = _x(2, 5, 8, seed=3), _x(4, 2, 4, seed=4), _x(4, 2, 4, seed=5)

    def scalar(x, h0, c0):
        out, (h, c) = model.apply(params, x, (h0, c0))
        return jnp.vdot(out, ct[0]) + jnp.vdot(h, ct[1]) + jnp.vdot(c, ct[2])

    grads = jax.grad(scalar, argnums=(0, 1, 2))(x, h0, c0)
    tx, th, tc = (torch.from_numpy(a).requires_grad_() for a in (x, h0, c0))
    out, (h, c) = tmod(tx, (th, tc))
    (
        (out * torch.from_numpy(ct[0])).sum()
        + (h * torch.from_numpy(ct[1])).sum()
        + (c * torch.from_numpy(ct[2])).sum()
    ).backward()
    for g, t in zip(grads, (tx, th, tc)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_lstmcell_gradients_with_respect_to_hx_match_torch() -> None:
    model, tmod, params = _torch_pair(lambda: nn.LSTMCell(3, 4), lambda: torch.nn.LSTMCell(3, 4))
    x, h, c = _x(2, 3), _x(2, 4, seed=1), _x(2, 4, seed=2)
    grads = jax.grad(lambda h, c: sum(jnp.sum(jnp.sin(o)) for o in model.apply(params, x, (h, c))), argnums=(0, 1))(
        h, c
    )
    th, tc = (torch.from_numpy(a).requires_grad_() for a in (h, c))
    sum(torch.sin(o).sum() for o in tmod(torch.from_numpy(x), (th, tc))).backward()
    np.testing.assert_allclose(grads[0], th.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads[1], tc.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_relu"])
def test_sequence_equals_a_loop_of_cells_to_second_order(kind) -> None:
    """The scan with its hand-written backward pass against plain autodiff of a cell loop."""
    seq_cls, cell_cls = {"lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell), "rnn_relu": (nn.RNN, nn.RNNCell)}[
        kind
    ]
    extra = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}
    seq, cell = seq_cls(2, 3, **extra), cell_cls(2, 3, **extra)
    params = seq.init(KEY)
    cparams = {k[: -len("_l0")]: v for k, v in params.items()}
    x = jnp.asarray(_x(4, 2, 2))
    lengths = jnp.array([4, 2])

    def by_scan(x):
        out, _ = seq.apply(params, x, lengths=lengths)
        return jnp.sum(jnp.sin(out))

    def by_cells(x):
        state, total = None, 0.0
        for t in range(x.shape[0]):
            new = cell.apply(cparams, x[t], state)
            keep = (t < lengths)[:, None]
            state = jax.tree.map(lambda n, s: jnp.where(keep, n, s), new, new if state is None else state)
            h = new[0] if kind == "lstm" else new
            total = total + jnp.sum(jnp.sin(jnp.where(keep, h, 0.0)))
        return total

    def all_orders(f):
        second = jax.grad(lambda x: jnp.sum(jax.grad(f)(x) ** 2))
        return jax.jit(lambda x: (f(x), jax.grad(f)(x), second(x)))(x)

    for a, b in zip(all_orders(by_scan), all_orders(by_cells)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "lstm_proj"])
def test_forward_mode_matches_reverse_mode_and_finite_differences(kind) -> None:
    """jax.jvp / jacfwd through the sequence layers (2 layers, both directions, lengths)."""
    make = {
        "lstm": nn.LSTM,
        "gru": nn.GRU,
        "rnn_tanh": nn.RNN,
        "lstm_proj": lambda *a, **k: nn.LSTM(*a, proj_size=2, **k),
    }[kind]
    model = make(2, 3, num_layers=2, bidirectional=True)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    lengths = jnp.array([4, 2])

    def f(p, x):
        out, h = model.apply(p, x, lengths=lengths)
        h = h[0] if kind.startswith("lstm") else h
        return jnp.concatenate([jnp.sin(out).ravel(), h.ravel()])

    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), model.init(KEY))
        x = jnp.asarray(x)
        tp = jax.tree.map(lambda a: jnp.cos(jnp.arange(a.size, dtype=a.dtype)).reshape(a.shape), params)
        tx = jnp.sin(jnp.arange(x.size, dtype=x.dtype)).reshape(x.shape)
        _, jvp = jax.jit(lambda p, x: jax.jvp(f, (p, x), (tp, tx)))(params, x)
        eps = 1e-6
        shift = lambda s: (jax.tree.map(lambda a, t: a + s * t, params, tp), x + s * tx)  # noqa: E731
        fd = (f(*shift(eps)) - f(*shift(-eps))) / (2 * eps)
        np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-8)
        fwd = jax.jacfwd(lambda x: f(params, x))(x)
        rev = jax.jacrev(lambda x: f(params, x))(x)
        np.testing.assert_allclose(fwd, rev, rtol=1e-12, atol=1e-12)


def test_full_lengths_equal_no_lengths_and_traced_lengths_work() -> None:
    lstm = nn.LSTM(3, 4, bidirectional=True)
    params = lstm.init(KEY)
    x = jnp.asarray(_x(5, 3, 3))
    plain = lstm.apply(params, x)
    full = lstm.apply(params, x, lengths=np.array([5, 5, 5]))
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(full)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    lengths = jnp.array([5, 2, 3])
    eager = lstm.apply(params, x, lengths=lengths)
    jitted = jax.jit(lambda x, n: lstm.apply(params, x, lengths=n))(x, lengths)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert float(jnp.abs(eager[0][2:, 1]).max()) == 0.0  # past the length: zeros


def test_compiled_program_does_not_grow_with_sequence_length() -> None:
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    params = gru.init(KEY)

    def program(seq_len):
        f = jax.jit(jax.grad(lambda p, x: jnp.sum(gru.apply(p, x)[0])))
        return len(f.lower(params, jnp.ones((seq_len, 2, 3))).as_text().splitlines())

    assert program(3) == program(300)


def test_interlayer_dropout_follows_the_key() -> None:
    lstm = nn.LSTM(3, 4, num_layers=3, dropout=0.5)
    params = lstm.init(KEY)
    x = jnp.asarray(_x(5, 2, 3))
    run = jax.jit(lambda key: lstm.apply(params, x, key=key, train=True)[0])
    a, b, c = run(jax.random.key(1)), run(jax.random.key(1)), run(jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    evaluated = lstm.apply(params, x)[0]
    no_dropout = nn.LSTM(3, 4, num_layers=3).apply(params, x)[0]
    np.testing.assert_array_equal(evaluated, no_dropout)
    assert not np.allclose(a, evaluated)
    # p = 1 drops everything between layers: the last layer sees zeros.
    all_dropped = nn.LSTM(3, 4, num_layers=2, dropout=1.0)
    p2 = all_dropped.init(KEY)
    out, _ = all_dropped.apply(p2, x, key=jax.random.key(0), train=True)
    zero_input = F.lstm(jnp.zeros((5, 2, 4)), {k[:-1] + "0": v for k, v in p2.items() if k.endswith("1")})[0]
    np.testing.assert_allclose(out, zero_input, rtol=1e-6, atol=1e-7)


def test_an_lstm_learns_to_sum_a_sequence() -> None:
    class Summer(nn.Module):
        def __init__(self) -> None:
            self.lstm, self.head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)

        def children(self):
            return {"lstm": self.lstm, "head": self.head}

        def init(self, key):
            return init_children(self.children(), key)

        def forward(self, params, x, *, key=None, train=False):
            out, (h, _) = self.lstm.apply(params["lstm"], x)
            return self.head.apply(params["head"], h[-1])

    model = Summer()
    params = model.init(KEY)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 6, 1)).astype(np.float32)
    y = x.sum(axis=1)
    opt = optax.adam(0.02)
    step = funcnn.train.make_train_step(lambda p, x, y: F.mse_loss(model.apply(p, x), y), opt)
    opt_state = opt.init(params)
    losses = []
    for _ in range(150):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(float(loss))
    assert losses[-1] < 0.05 * losses[0]
